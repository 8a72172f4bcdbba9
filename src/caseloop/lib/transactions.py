"""Transactions that are all or nothing, without savepoints inside them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections, transaction


class PartlyFailed(Exception):
    """Something inside a savepoint-free transaction failed and was caught: the transaction
    cannot go on, so it is rolled back as a whole."""


@contextmanager
def atomic_without_savepoints(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """One transaction in which nested `atomic()` blocks open no savepoints (each costs two
    statements). For work that is rolled back and redone as a whole when any part fails: a
    failure inside a nested block marks the whole transaction for rollback, and
    `PartlyFailed` is raised even when the failure was caught, so nothing half-done is
    committed."""
    connection = connections[using]
    with transaction.atomic(using=using):
        # Each backend decides in `_savepoint_allowed` (SQLite's ignores the features flag);
        # this connection answers no until the block ends.
        vars(connection)["_savepoint_allowed"] = _never
        try:
            yield
            if connection.needs_rollback:
                raise PartlyFailed("a nested block failed; the whole transaction is rolled back")
        finally:
            del vars(connection)["_savepoint_allowed"]


def _never() -> bool:
    return False
