"""`caseloop token --username NAME`: print a new API token (shown once, stored hashed)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from caseloop.accounts.models import User
from caseloop.accounts.services import token_issue


def _database() -> str:
    """The database this command reads, as a person would look for it."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return str(db["NAME"])
    return f"{db.get('NAME', '')} on {db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}"


class Command(BaseCommand):
    help = "Create an API token for a user and print it. It cannot be shown again."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--name", default="cli")

    def handle(self, *args, username: str, name: str, **options) -> None:
        try:
            user = User.objects.filter(username=username).first()
        except DatabaseError as exc:
            # Run outside the desk's directory, the default data dir is a new, empty one.
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise CommandError(
                f"cannot read the desk's database ({_database()}): {reason}. Run this where "
                "the desk runs or set CASELOOP_DATA_DIR or DATABASE_URL (a new desk needs "
                "`caseloop migrate` first)."
            ) from exc
        if user is None:
            raise CommandError(
                f"no user '{username}'; `caseloop createuser --username {username}` makes one"
            )
        self.stdout.write(token_issue(user=user, name=name))
