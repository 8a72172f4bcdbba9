"""The desk's settings (SLA policies, business hours, routing and keyword rules, templates),
read once per process and reused by every request and job until one of them changes.

Each cached value has a generation in the shared cache. Saving or deleting a row of a
model the value was read from forgets it in this process at once and, after the commit,
gives it a new generation, so other processes read it again too: they look at the
generation at most once every `CHECK_SECONDS`. A transaction that changed a setting reads
its own uncommitted rows without keeping them, so a rollback leaves nothing behind.

Values kept here must be immutable (tuples, frozen dataclasses) or copied on the way out:
every request of the process shares them.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Model
from django.db.models.signals import post_delete, post_save

T = TypeVar("T")

CHECK_SECONDS = 1.0
_KEY = "caseloop:settings-generation:{}"

_lock = threading.Lock()
# name -> (generation, value)
_values: dict[str, tuple[str | None, Any]] = {}
# name -> when this process last asked the shared cache for the generation
_checked: dict[str, tuple[float, str | None]] = {}
# name -> the outermost atomic block of the transaction that changed it, not committed yet
_changed_in: dict[str, object] = {}
# model -> names of the values read from it
_readers: dict[type[Model], set[str]] = {}


def cached_setting(name: str, load: Callable[[], T], *, models: tuple[type[Model], ...]) -> T:
    """`load()`, kept across requests until a row of one of `models` changes."""
    _watch(name, models)
    block = _outermost_block()
    changed_in = _changed_in.get(name)
    if changed_in is not None:
        if changed_in is block:
            return load()  # this transaction's own change, maybe rolled back later
        if block is None:
            _changed_in.pop(name, None)  # that transaction is over, one way or the other
    generation = _generation(name)
    kept = _values.get(name)
    if kept is not None and kept[0] == generation:
        return kept[1]  # type: ignore[no-any-return]
    value = load()
    if name not in _changed_in:
        _values[name] = (generation, value)
    return value


def settings_forget() -> None:
    """Forget every kept value in this process (tests start from a clean slate)."""
    with _lock:
        _values.clear()
        _checked.clear()
        _changed_in.clear()


def setting_changed(name: str) -> None:
    """Read `name` again everywhere: for a change made without saving a model (a bulk
    `update()`)."""
    _values.pop(name, None)
    _checked.pop(name, None)
    block = _outermost_block()
    if block is not None:
        _changed_in[name] = block
    transaction.on_commit(lambda: _renew(name))


def _renew(name: str) -> None:
    generation = uuid.uuid4().hex
    cache.set(_KEY.format(name), generation, None)
    _values.pop(name, None)
    _checked[name] = (time.monotonic(), generation)
    _changed_in.pop(name, None)


def _generation(name: str) -> str | None:
    now = time.monotonic()
    checked = _checked.get(name)
    if checked is not None and now - checked[0] < CHECK_SECONDS:
        return checked[1]
    generation = cache.get(_KEY.format(name))
    _checked[name] = (now, generation)
    return generation  # type: ignore[no-any-return]


def _outermost_block() -> object | None:
    return connection.atomic_blocks[0] if connection.in_atomic_block else None


def _watch(name: str, models: tuple[type[Model], ...]) -> None:
    for model in models:
        readers = _readers.get(model)
        if readers is not None and name in readers:
            continue
        with _lock:
            if model not in _readers:
                _readers[model] = set()
                uid = f"caseloop-settings-cache-{model._meta.label}"
                post_save.connect(_on_change, sender=model, weak=False, dispatch_uid=uid)
                post_delete.connect(_on_change, sender=model, weak=False, dispatch_uid=uid)
            _readers[model].add(name)


def _on_change(sender: type[Model], **_kwargs: Any) -> None:
    for name in tuple(_readers.get(sender, ())):
        setting_changed(name)
