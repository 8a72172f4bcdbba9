"""The `caseloop` command: Django management commands under one name.

`caseloop serve`, `caseloop worker`, `caseloop demo`, `caseloop createuser`, … are
management commands of the apps; anything Django offers (`migrate`, `shell`) works too.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseloop.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv if argv is None else argv)
    argv[0] = "caseloop"
    # Only the long-running processes keep a PostgreSQL connection pool; a one-off command
    # connects once (and reports a server that is down at once, not after the pool's wait).
    if len(argv) < 2 or argv[1] not in LONG_RUNNING:
        os.environ.setdefault("CASELOOP_DB_POOL", "0")
    execute_from_command_line(argv)


LONG_RUNNING = ("serve", "worker")
