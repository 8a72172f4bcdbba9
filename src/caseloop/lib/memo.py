"""Values read once per unit of work: a batch of side effects reads the desk's settings
(SLA policies, business hours…) once, not once per effect. Outside a scope nothing is
kept, so a value is never older than the work that reads it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

_scope: ContextVar[dict[str, Any] | None] = ContextVar("caseloop_memo_scope", default=None)


@contextmanager
def scope() -> Iterator[None]:
    """Keep what is read inside the block for the rest of the block (nested blocks share
    the outer one's values)."""
    if _scope.get() is not None:
        yield
        return
    token = _scope.set({})
    try:
        yield
    finally:
        _scope.reset(token)


def once(key: str, load: Callable[[], T]) -> T:
    """`load()`, or inside a scope the value it gave the first time."""
    values = _scope.get()
    if values is None:
        return load()
    if key not in values:
        values[key] = load()
    return values[key]  # type: ignore[no-any-return]
