"""The checks behind `/healthz`: the database answers, and so does the job queue.

A check is a name and a callable that returns when its dependency answers and raises when
it does not. What failed is logged here with its reason; the endpoint only names the check.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import redis
from django.conf import settings
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.recorder import MigrationRecorder
from huey.contrib.djhuey import HUEY

logger = logging.getLogger(__name__)

# A probe must answer quickly even when Redis is unreachable: a hung check is a failed one.
REDIS_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class Check:
    name: str
    run: Callable[[], None]


def database_check(connection: BaseDatabaseWrapper | None = None) -> None:
    """Reads one row of a table, not just `SELECT 1`: a SQLite file that went missing would
    be created empty and answer that."""
    connection = connection or connections["default"]
    table = connection.ops.quote_name(MigrationRecorder.Migration._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {table} LIMIT 1")  # noqa: S608 - a quoted model table
        cursor.fetchone()


@lru_cache(maxsize=4)
def _redis_client(url: str) -> Any:
    # One client (and its small pool) per process, kept between probes.
    return redis.Redis.from_url(
        url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS
    )


def redis_check(url: str) -> None:
    _redis_client(url).ping()


def queue_check() -> None:
    """Redis answers when the queue lives there; otherwise the embedded queue's file reads."""
    if settings.REDIS_URL:
        redis_check(settings.REDIS_URL)
    else:
        HUEY.pending_count()


CHECKS: list[Check] = [Check("database", database_check), Check("queue", queue_check)]


def checks_run(checks: list[Check] | None = None) -> dict[str, bool]:
    """{check name: passed}, every check run even after one fails."""
    results: dict[str, bool] = {}
    for check in CHECKS if checks is None else checks:
        try:
            check.run()
        except Exception as exc:  # noqa: BLE001 - any failure is the answer "not ready"
            logger.warning("health check %s failed: %s: %s", check.name, type(exc).__name__, exc)
            results[check.name] = False
        else:
            results[check.name] = True
    return results
