"""Panels on the case page contributed by other apps (triage, the loop, knowledge…).

Each entry names a template and a function returning its context; a panel whose function
returns None is not shown. Apps add themselves with `panel_register` in AppConfig.ready().
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    template: str
    context: Callable[..., dict | None]
    order: int = 100


_panels: dict[str, Panel] = {}


def panel_register(panel: Panel) -> None:
    _panels[panel.key] = panel


def case_panels(*, case, user) -> list[dict]:
    shown = []
    for panel in sorted(_panels.values(), key=lambda p: (p.order, p.key)):
        context = panel.context(case=case, user=user)
        if context is not None:
            shown.append(
                {
                    "key": panel.key,
                    "title": panel.title,
                    "template": panel.template,
                    "context": context,
                }
            )
    return shown
