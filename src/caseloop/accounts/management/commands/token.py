"""`caseloop token --username NAME`: print a new API token (shown once, stored hashed)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from caseloop.accounts.models import User
from caseloop.accounts.services import token_issue


class Command(BaseCommand):
    help = "Create an API token for a user and print it. It cannot be shown again."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--name", default="cli")

    def handle(self, *args, username: str, name: str, **options) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user '{username}'")
        self.stdout.write(token_issue(user=user, name=name))
