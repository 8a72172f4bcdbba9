"""Colours a desk chooses for itself, checked so its pages stay readable."""

from __future__ import annotations

import re

HEX = re.compile(r"#[0-9a-fA-F]{6}")
# WCAG 2's minimum for normal text (links on white; white text on a button of the colour).
MIN_CONTRAST = 4.5


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(hex_colour: str) -> float:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_with_white(hex_colour: str) -> float:
    """WCAG contrast ratio between the colour and white (1 to 21)."""
    return 1.05 / (relative_luminance(hex_colour) + 0.05)
