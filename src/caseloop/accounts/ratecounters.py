"""The database's rate counter (`caseloop.lib.ratelimit` without Redis): one row per key,
counted by single INSERT … ON CONFLICT DO UPDATE … RETURNING statements, which SQLite (one
writer at a time) and PostgreSQL (a row lock on the conflicting row) both run atomically,
so parallel requests in any number of threads or processes each get their own count.

Run outside a transaction (as the views that count do), each statement commits at once;
inside one, its count would be rolled back with it."""

from __future__ import annotations

import hashlib

from django.db import connections, router
from django.db.models import F
from django.utils import timezone

from caseloop.lib.ratelimit import RateCount

from .models import RateCounter


def _digest(key: str) -> str:
    # Fixed width, and no addresses or email addresses kept at rest.
    return hashlib.sha256(key.encode()).hexdigest()


class DatabaseRateCounter:
    def __init__(self) -> None:
        meta = RateCounter._meta
        self.alias = router.db_for_write(RateCounter)
        self.table = meta.db_table
        self.columns = {f.name: str(f.column) for f in meta.concrete_fields}

    def _sql(self, template: str) -> str:
        quote = connections[self.alias].ops.quote_name
        return template.format(
            table=quote(self.table), **{name: quote(col) for name, col in self.columns.items()}
        )

    def hit(self, key: str, *, now_ms: int, window_ms: int) -> RateCount:
        sql = self._sql(
            "INSERT INTO {table} ({key}, {hits}, {window_ends_ms}) VALUES (%s, 1, %s) "
            "ON CONFLICT ({key}) DO UPDATE SET "
            "{hits} = CASE WHEN {table}.{window_ends_ms} <= %s THEN 1 "
            "ELSE {table}.{hits} + 1 END, "
            "{window_ends_ms} = CASE WHEN {table}.{window_ends_ms} <= %s "
            "THEN excluded.{window_ends_ms} ELSE {table}.{window_ends_ms} END "
            "RETURNING {hits}, {window_ends_ms}"
        )
        with connections[self.alias].cursor() as cursor:
            cursor.execute(sql, [_digest(key), now_ms + window_ms, now_ms, now_ms])
            ((hits, ends),) = cursor.fetchall()
        return RateCount(hits=int(hits), resets_at_ms=int(ends))

    def withdraw(self, key: str, *, now_ms: int) -> None:
        RateCounter.objects.using(self.alias).filter(
            key=_digest(key), hits__gt=0, window_ends_ms__gt=now_ms
        ).update(hits=F("hits") - 1)

    def read(self, key: str, *, now_ms: int) -> RateCount:
        row = (
            RateCounter.objects.using(self.alias)
            .filter(key=_digest(key), window_ends_ms__gt=now_ms)
            .values_list("hits", "window_ends_ms")
            .first()
        )
        if row is None:
            return RateCount(hits=0, resets_at_ms=now_ms)
        return RateCount(hits=row[0], resets_at_ms=row[1])


def rate_counters_prune() -> int:
    """Delete the rows whose window has ended; returns how many.
    Side effects: only those deletions."""
    now_ms = int(timezone.now().timestamp() * 1000)
    deleted, _ = RateCounter.objects.filter(window_ends_ms__lte=now_ms).delete()
    return deleted
