"""Separate the new text of an email reply from the quoted history and the signature."""

from __future__ import annotations

import re

# Lines that introduce the quoted earlier message, in the forms common mail clients write.
_ATTRIBUTION = [
    re.compile(r"^\s*On\b.{0,300}\bwrote:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*Le\b.{0,300}\ba [ée]crit\s*:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*Am\b.{0,300}\bschrieb\b.{0,100}:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*El\b.{0,300}\bescribi[óo]\s*:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*-{2,}\s*Original Message\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^\s*-{2,}\s*Forwarded message\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^\s*Begin forwarded message:\s*$", re.IGNORECASE),
]
_OUTLOOK_RULE = re.compile(r"^\s*_{20,}\s*$")
_HEADER_BLOCK = re.compile(r"^\s*\*?(From|De|Von|Van)\s*:\*?\s+\S", re.IGNORECASE)
_HEADER_NEXT = re.compile(r"^\s*\*?(Sent|Date|To|Subject|Envoy[ée]|Gesendet|Datum)\s*:", re.I)
_SIGNATURE = re.compile(r"^(-- ?|--)$")
_MOBILE = re.compile(
    r"^\s*(Sent from my \w+|Sent from (Mail|Outlook|Yahoo Mail)\b|Get Outlook for \w+|"
    r"Envoy[ée] de mon \w+|Von meinem \w+ gesendet)",
    re.IGNORECASE,
)
# How far from the end a signature delimiter may sit and still be a signature.
_SIGNATURE_MAX_LINES = 20


def _quote_start(lines: list[str]) -> int | None:
    for index, line in enumerate(lines):
        joined = " ".join(part.strip() for part in lines[index : index + 3])
        if any(pattern.match(line) for pattern in _ATTRIBUTION):
            return index
        # Attributions wrapped over two or three lines: "On Mon, 1 Jan …\n… wrote:".
        if lines[index].strip().lower().startswith(("on ", "le ", "am ")) and any(
            pattern.match(joined) for pattern in _ATTRIBUTION[:4]
        ):
            return index
        if _OUTLOOK_RULE.match(line) and any(
            _HEADER_BLOCK.match(nxt) for nxt in lines[index + 1 : index + 3]
        ):
            return index
        if (
            _HEADER_BLOCK.match(line)
            and sum(bool(_HEADER_NEXT.match(nxt)) for nxt in lines[index + 1 : index + 5]) >= 2
        ):
            return index
        if line.startswith(">"):
            rest = [item for item in lines[index:] if item.strip()]
            # Only a trailing quote is history; quotes interleaved with answers stay.
            if all(item.startswith(">") for item in rest):
                return index
    return None


def reply_split(text: str) -> str:
    """The new part of `text`: without the quoted earlier messages and the signature.

    Falls back to the whole text when nothing new would remain (a bare forward)."""
    if not text:
        return ""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    start = _quote_start(lines)
    if start is not None:
        lines = lines[:start]
    for index in range(len(lines) - 1, max(len(lines) - _SIGNATURE_MAX_LINES, 0) - 1, -1):
        if _SIGNATURE.match(lines[index]) or _MOBILE.match(lines[index]):
            lines = lines[:index]
            break
    new = "\n".join(lines).strip()
    return new or text.strip()
