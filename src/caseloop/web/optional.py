"""Lazy access to what other apps provide when they are installed and ready: the loop's
services, triage's verdicts, knowledge's macros, automation's response targets.

Each helper returns None when the piece is absent, so pages show what exists.
"""

from __future__ import annotations

import importlib
from types import ModuleType


def module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def function(module_name: str, name: str):
    found = module(module_name)
    return getattr(found, name, None) if found is not None else None


def model(app_module: str, name: str):
    found = module(app_module)
    return getattr(found, name, None) if found is not None else None
