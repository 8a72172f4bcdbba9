"""`caseloop createuser [--username] [--email] [--role] [--password] [--tier] [--team]`.

It lives in the command-line app, above the accounts and customers apps: a customer login
is linked to the customer profile of its address, which the admin running the command
vouches for (`cases.customer_users`)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from caseloop.accounts.models import Role, Team
from caseloop.accounts.services import team_add_member, user_create
from caseloop.cases.customer_users import VERIFIED_BY_ADMIN, customer_user_create
from caseloop.lib.errors import DomainError


class Command(BaseCommand):
    help = (
        "Create a user with a role (customer, agent, manager, admin). A customer login is "
        "linked to the customer whose email is --email (a new customer profile when none "
        "has it): by running this you vouch that the address is theirs."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default="", help="defaults to --email for customers")
        parser.add_argument("--email", default="")
        parser.add_argument("--role", default=Role.AGENT, choices=Role.values)
        parser.add_argument("--password", default=None)
        parser.add_argument("--tier", type=int, default=1)
        parser.add_argument("--team", default=None, help="team slug to join")

    def handle(self, *args, username, email, role, password, tier, team, **options) -> None:
        found = None
        if team:
            found = Team.objects.filter(slug=team).first()
            if found is None:
                raise CommandError(f"no team '{team}'")
        try:
            if role == Role.CUSTOMER:
                if not email:
                    raise CommandError(
                        "a customer login needs --email: it sees the cases of the customer "
                        "with that address"
                    )
                user = customer_user_create(
                    email=email, verified_by=VERIFIED_BY_ADMIN, username=username, password=password
                )
            else:
                if not username:
                    raise CommandError("give --username")
                user = user_create(
                    username=username, email=email, role=role, password=password, tier=tier
                )
        except (ValidationError, ValueError, DomainError) as exc:
            raise CommandError(str(exc)) from exc
        if found is not None:
            team_add_member(team=found, user=user)
        linked = f", customer {user.customer_id}" if user.customer_id else ""
        self.stdout.write(f"created {role} {user.username} (id {user.pk}{linked})")
