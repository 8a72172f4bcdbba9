"""Writes of an import, first part: who and where — organizations, teams, agents and
customers — each remembered in `ImportedRecord` so a second run finds it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import TypeVar

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils.text import slugify

from caseloop.accounts.models import Role, Team, User
from caseloop.customers.errors import InvalidContactPoint
from caseloop.customers.models import ContactPoint, Customer, CustomerEvent, Organization
from caseloop.customers.services import contact_normalize

from . import records as rec
from .models import ImportedRecord
from .report import ImportReport
from .sources.base import Source

Kind = ImportedRecord.Kind
T = TypeVar("T")
Progress = Callable[[int], None]

DEFAULT_BATCH = 500
ROLE_OF = {"agent": Role.AGENT, "manager": Role.MANAGER, "admin": Role.ADMIN}


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


class PeopleWriter:
    """Writes organizations, teams, agents and customers, and what each record became."""

    def __init__(
        self,
        *,
        source: Source,
        report: ImportReport,
        batch_size: int,
        attachments: bool,
        progress: Progress | None,
    ) -> None:
        self.source = source
        self.key = source.key
        self.report = report
        self.batch_size = max(1, batch_size)
        self.attachments = attachments
        self.progress = progress
        self.maps: dict[str, dict[str, int]] = {}
        self.tags: dict[str, int] = {}
        self.categories: dict[str, int] = {}
        self.agent_emails: dict[str, str] = {}
        self.team_members: dict[str, list[str]] = {}

    # --- what was made before ----------------------------------------------------------

    def mapped(self, kind: str) -> dict[str, int]:
        if kind not in self.maps:
            self.maps[kind] = dict(
                ImportedRecord.objects.filter(source=self.key, kind=kind).values_list(
                    "external_id", "local_id"
                )
            )
        return self.maps[kind]

    def remember(self, kind: str, pairs: list[tuple[str, int]]) -> None:
        ImportedRecord.objects.bulk_create(
            [
                ImportedRecord(source=self.key, kind=kind, external_id=ext[:200], local_id=pk)
                for ext, pk in pairs
            ],
            batch_size=1000,
        )
        self.mapped(kind).update(pairs)
        self.report.created[kind + "s"] += len(pairs)

    # --- organizations, teams, people --------------------------------------------------

    def organizations(self, rows: Iterable[rec.Organization]) -> None:
        done = self.mapped(Kind.ORGANIZATION)
        fresh: dict[str, rec.Organization] = {}
        for row in rows:
            if row.external_id in done:
                self.report.skipped["organizations"] += 1
            else:
                fresh.setdefault(row.external_id, row)
        if not fresh:
            return
        with transaction.atomic():
            names = {row.name[:200] for row in fresh.values()}
            existing = dict(Organization.objects.filter(name__in=names).values_list("name", "pk"))
            missing = sorted(names - set(existing))
            for org in Organization.objects.bulk_create(
                [Organization(name=name) for name in missing], batch_size=1000
            ):
                existing[org.name] = org.pk
            self.remember(
                Kind.ORGANIZATION, [(ext, existing[row.name[:200]]) for ext, row in fresh.items()]
            )

    def teams(self, rows: Iterable[rec.Team]) -> None:
        done = self.mapped(Kind.TEAM)
        fresh: dict[str, rec.Team] = {}
        for row in rows:
            self.team_members[row.external_id] = row.member_ids
            if row.external_id in done:
                self.report.skipped["teams"] += 1
            else:
                fresh.setdefault(row.external_id, row)
        if not fresh:
            return
        with transaction.atomic():
            by_name = {t.name.lower(): t.pk for t in Team.objects.all()}
            slugs = set(Team.objects.values_list("slug", flat=True))
            pairs = []
            for ext, row in fresh.items():
                name = row.name.strip()[:100] or f"Team {ext}"
                if name.lower() not in by_name:
                    team = Team.objects.create(
                        name=name, slug=unique_name(slugify(name)[:90], slugs)
                    )
                    by_name[name.lower()] = team.pk
                pairs.append((ext, by_name[name.lower()]))
            self.remember(Kind.TEAM, pairs)

    def people(self, rows: Iterable[rec.Person | rec.Problem]) -> None:
        staff, customers = [], []
        for row in rows:
            if isinstance(row, rec.Problem):
                self.report.problem(row)
            elif row.is_staff:
                staff.append(row)
                if row.email:
                    self.agent_emails[row.external_id] = row.email
            else:
                customers.append(row)
        self.agents(staff)
        for chunk in _chunks(customers, self.batch_size * 4):
            self.customers(chunk)

    def agents(self, rows: list[rec.Person]) -> None:
        done = self.mapped(Kind.AGENT)
        fresh: dict[str, rec.Person] = {}
        for row in rows:
            if row.external_id in done:
                self.report.skipped["agents"] += 1
            else:
                fresh.setdefault(row.external_id, row)
        with transaction.atomic():
            if fresh:
                emails = {p.email.lower() for p in fresh.values() if p.email}
                by_email = {
                    email.lower(): pk
                    for pk, email in User.objects.exclude(email="").values_list("pk", "email")
                    if email.lower() in emails
                }
                taken = set(User.objects.values_list("username", flat=True))
                pairs: list[tuple[str, int]] = []
                new: list[tuple[str, User]] = []
                unusable = make_password(None)
                for ext, person in fresh.items():
                    email = person.email.lower()
                    if email and email in by_email:
                        pairs.append((ext, by_email[email]))
                        continue
                    first, _, last = person.name.strip().partition(" ")
                    base = slugify(email.split("@")[0] if email else person.name) or f"agent{ext}"
                    user = User(
                        username=unique_name(base[:140], taken),
                        email=email,
                        first_name=first[:150],
                        last_name=last[:150],
                        role=ROLE_OF.get(person.role, Role.AGENT),
                        password=unusable,
                    )
                    new.append((ext, user))
                    if email:
                        by_email[email] = -1
                created = User.objects.bulk_create([u for _, u in new])
                pairs += [(ext, user.pk) for (ext, _), user in zip(new, created, strict=True)]
                self.remember(Kind.AGENT, pairs)
            self.memberships(rows)

    def memberships(self, rows: list[rec.Person]) -> None:
        agents, teams = self.mapped(Kind.AGENT), self.mapped(Kind.TEAM)
        links = set()
        for person in rows:
            for team in person.team_ids:
                if person.external_id in agents and team in teams:
                    links.add((teams[team], agents[person.external_id]))
        for team, members in self.team_members.items():
            for member in members:
                if member in agents and team in teams:
                    links.add((teams[team], agents[member]))
        through = Team.members.through
        through.objects.bulk_create(
            [through(team_id=t, user_id=u) for t, u in sorted(links)], ignore_conflicts=True
        )

    def customers(self, rows: list[rec.Person]) -> None:
        done = self.mapped(Kind.CUSTOMER)
        orgs = self.mapped(Kind.ORGANIZATION)
        fresh: dict[str, tuple[rec.Person, list[tuple[str, str]]]] = {}
        for row in rows:
            if row.external_id in done:
                self.report.skipped["customers"] += 1
                continue
            points = _points(row)
            if not points and not row.name:
                self.report.problem(rec.Problem("user", row.external_id, "no name, email or phone"))
                continue
            fresh.setdefault(row.external_id, (row, points))
        if not fresh:
            return
        with transaction.atomic():
            wanted = {value for _, points in fresh.values() for _, value in points}
            owner_of = {
                (kind, value): customer_id
                for kind, value, customer_id in ContactPoint.objects.filter(
                    value__in=wanted
                ).values_list("kind", "value", "customer_id")
            }
            pairs: list[tuple[str, int]] = []
            new: list[tuple[str, Customer, list[tuple[str, str]]]] = []
            claimed: dict[tuple[str, str], int] = {}
            for ext, (person, points) in fresh.items():
                known = next((owner_of[p] for p in points if p in owner_of), None)
                if known is not None:
                    pairs.append((ext, known))
                    continue
                repeat = next((claimed[p] for p in points if p in claimed), None)
                if repeat is not None:
                    new.append((ext, new[repeat][1], []))
                    continue
                customer = Customer(
                    name=person.name[:200],
                    organization_id=orgs.get(person.organization_id),
                )
                for point in points:
                    claimed[point] = len(new)
                new.append((ext, customer, points))
            distinct = list({id(c): c for _, c, _ in new}.values())
            Customer.objects.bulk_create(distinct, batch_size=1000)
            ContactPoint.objects.bulk_create(
                [
                    ContactPoint(
                        customer=customer,
                        kind=kind,
                        value=value,
                        is_primary=kind not in {k for k, _ in points[:index]},
                    )
                    for _, customer, points in new
                    for index, (kind, value) in enumerate(points)
                ],
                batch_size=1000,
            )
            CustomerEvent.objects.bulk_create(
                [
                    CustomerEvent(
                        customer=customer,
                        kind="created",
                        data={"contacts": points, "imported_from": self.key},
                    )
                    for _, customer, points in new
                    if points or customer.name
                ],
                batch_size=1000,
            )
            pairs += [(ext, customer.pk) for ext, customer, _ in new]
            self.remember(Kind.CUSTOMER, pairs)

    # --- tickets ------------------------------------------------------------------------


def unique_name(base: str, taken: set[str]) -> str:
    base = base or "item"
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    taken.add(candidate)
    return candidate


def _points(person: rec.Person) -> list[tuple[str, str]]:
    points = []
    for kind, value in (
        (ContactPoint.Kind.EMAIL, person.email),
        (ContactPoint.Kind.PHONE, person.phone),
    ):
        if value:
            try:
                points.append((str(kind), contact_normalize(kind=kind, value=value)))
            except InvalidContactPoint:
                continue
    return points
