"""`caseloop backup PATH`: the embedded desk (SQLite database, secret key, attachments,
trained models) into one tar.gz with a manifest, while the desk keeps serving."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from caseloop.cli.backup import BackupError, Layout, backup_create

POSTGRES_HINT = (
    "this desk keeps its data in PostgreSQL (DATABASE_URL): back it up with pg_dump "
    "(pg_dump -Fc), and copy the data directory's media/ and models/ beside it"
)


def layout_current() -> Layout:
    """Where this desk keeps its files; refuses a desk whose database is not SQLite."""
    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.sqlite3":
        raise CommandError(POSTGRES_HINT)
    return Layout(
        data_dir=Path(settings.DATA_DIR),
        database=Path(database["NAME"]),
        media=Path(settings.MEDIA_ROOT),
    )


class Command(BaseCommand):
    help = "Back up the embedded desk (SQLite, secret key, attachments, models) into a tar.gz."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the archive to write (.tar.gz), replaced if it exists")

    def handle(self, *args: Any, path: str, **options: Any) -> None:
        layout = layout_current()
        try:
            manifest = backup_create(layout=layout, target=Path(path))
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        summary = {
            "archive": str(Path(path).resolve()),
            "created_at": manifest["created_at"],
            "files": len(manifest["files"]),
            "bytes": manifest["total_bytes"],
        }
        self.stdout.write(json.dumps(summary))
