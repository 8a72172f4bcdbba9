"""`caseloop createuser --username --email --role [--password] [--tier] [--team]`."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from caseloop.accounts.models import Role, Team
from caseloop.accounts.services import team_add_member, user_create


class Command(BaseCommand):
    help = "Create a user with a role (customer, agent, manager, admin)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", default="")
        parser.add_argument("--role", default=Role.AGENT, choices=Role.values)
        parser.add_argument("--password", default=None)
        parser.add_argument("--tier", type=int, default=1)
        parser.add_argument("--team", default=None, help="team slug to join")

    def handle(self, *args, username, email, role, password, tier, team, **options) -> None:
        try:
            user = user_create(
                username=username, email=email, role=role, password=password, tier=tier
            )
        except (ValidationError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        if team:
            found = Team.objects.filter(slug=team).first()
            if found is None:
                raise CommandError(f"no team '{team}'")
            team_add_member(team=found, user=user)
        self.stdout.write(f"created {role} {user.username} (id {user.pk})")
