"""The one idempotency helper: do a piece of work once per key, however often (or however
concurrently) it is asked for.

A key is a row under a unique constraint (an intake receipt, a webhook delivery, an
`Idempotency-Key`). The work records that row in its own transaction, so a second request
either finds it and replays the first outcome, or loses the race on the constraint and
replays the winner's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError, transaction
from django.db.models import Model, QuerySet

R = TypeVar("R", bound=Model)
T = TypeVar("T")


def idempotent(
    *, seen: QuerySet[R] | None, replay: Callable[[R], T], perform: Callable[[], T]
) -> T:
    """`replay(row)` when `seen` already holds the key's row, else `perform()` inside
    `transaction.atomic`.

    `seen` selects the key's row (None when the request carries no key: the work simply
    runs). `perform` must create that row in its transaction; when a concurrent request
    created it first, the IntegrityError rolls `perform` back and the winner is replayed.
    An IntegrityError with no row to replay is re-raised.
    Side effects: those of `perform`."""
    if seen is not None:
        earlier = seen.first()
        if earlier is not None:
            return replay(earlier)
    try:
        with transaction.atomic():
            return perform()
    except IntegrityError:
        earlier = seen.first() if seen is not None else None
        if earlier is None:
            raise
        return replay(earlier)
