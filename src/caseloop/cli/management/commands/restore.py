"""`caseloop restore PATH [--force]`: the desk of a `caseloop backup` archive back into the
data directory, once every file matches the archive's manifest. Stop the desk first."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from caseloop.cli.backup import BackupError, backup_restore, caseloop_version

from .backup import layout_current

POSTGRES_HINT = (
    "this desk keeps its data in PostgreSQL (DATABASE_URL): caseloop restore only restores "
    "the embedded SQLite desk; restore PostgreSQL from a pg_dump (pg_restore), and copy "
    "media/ and models/ back into the data directory"
)


class Command(BaseCommand):
    help = "Restore the embedded desk from a `caseloop backup` archive (stop the desk first)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="an archive written by `caseloop backup`")
        parser.add_argument(
            "--force",
            action="store_true",
            help="replace the desk already in the data directory",
        )

    def handle(self, *args: Any, path: str, force: bool, **options: Any) -> None:
        try:
            layout = layout_current()
        except CommandError:
            raise CommandError(POSTGRES_HINT) from None
        try:
            manifest = backup_restore(layout=layout, source=Path(path), force=force)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        if manifest["caseloop_version"] != caseloop_version():
            self.stderr.write(
                f"The archive was written by Caseloop {manifest['caseloop_version']}; "
                f"this is {caseloop_version()}. `caseloop migrate` (or `caseloop serve`) "
                "brings the database up to date."
            )
        if os.environ.get("SECRET_KEY") and any(
            entry["path"] == "secret_key" for entry in manifest["files"]
        ):
            self.stderr.write(
                "SECRET_KEY is set in the environment, so the desk signs with it rather than "
                "with the restored secret_key file."
            )
        self.stdout.write(
            json.dumps(
                {
                    "restored_into": str(layout.data_dir),
                    "backup_created_at": manifest["created_at"],
                    "files": len(manifest["files"]),
                    "bytes": manifest["total_bytes"],
                }
            )
        )
