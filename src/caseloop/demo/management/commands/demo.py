"""`caseloop demo`: seed a realistic demo desk (Northwind Home) through the real services.

Teams, categories, agents of several tiers, ~50 customers across channels with purchases,
and ~200 cases in every status with multi-message conversations, notes, tags, escalations
and ownership transfers. Every write goes through the services, so events, hooks (triage,
acknowledgements) and the status machine behave exactly as on a live desk. A simulated
clock spreads the history over the past weeks.

Running it again on a desk that already has the demo does nothing.
"""

from __future__ import annotations

import csv
import io
import logging
import random
import struct
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from caseloop.accounts.models import Role, Team, User
from caseloop.accounts.services import desk_identity_set, team_add_member, user_create
from caseloop.automation.models import BusinessHours
from caseloop.cases.loop.escalations import case_escalate, escalation_accept, escalation_solved
from caseloop.cases.loop.facts import fact_record
from caseloop.cases.models import Case, Category, Escalation, Status
from caseloop.cases.services import (
    AttachmentUpload,
    case_create,
    case_transfer_ownership,
    case_transition,
    case_update,
    message_add,
)
from caseloop.channels import base
from caseloop.channels.chat.models import ChatWidget
from caseloop.customers.models import Customer, Organization, PurchaseRecord
from caseloop.customers.services import (
    Identity,
    customer_create,
    customer_find_or_create,
    purchases_import_csv,
)
from caseloop.demo import data, knowledge as demo_knowledge
from caseloop.insights.models import ProblemStatus
from caseloop.insights.problem_detection import problems_detect
from caseloop.insights.problem_fixes import problem_fix_publish
from caseloop.insights.problem_notices import problem_banner_set, problem_notices_send
from caseloop.insights.problems import (
    problem_contributor_add,
    problem_create,
    problem_transition,
    problem_update,
)
from caseloop.insights.rollups import rollups_rebuild
from caseloop.insights.services import nps_record, rating_record
from caseloop.insights.trends import trends_detect
from caseloop.knowledge.search import retrieval_rebuild
from caseloop.knowledge.services import article_create, article_transition, macro_create
from caseloop.notifications.models import Notification
from caseloop.triage.learning import model_train
from caseloop.triage.models import KeywordRule, RoutingRule

# How many cases end in each status (scaled to --cases), and how old they are (hours).
STATUS_MIX = [
    ("new", 0.14, (0.1, 8)),
    ("open", 0.20, (2, 72)),
    ("reopened", 0.04, (24, 240)),
    ("pending_customer", 0.15, (12, 120)),
    ("pending_internal", 0.12, (12, 120)),
    ("solved", 0.15, (24, 240)),
    ("closed", 0.20, (96, 720)),
]
CHANNEL_MIX = [("email", 45), ("web", 15), ("chat", 16), ("phone", 12), ("social", 8), ("api", 4)]


class DemoClock:
    """A settable `now` so the seeded history spreads over weeks, events included."""

    def __init__(self) -> None:
        self.real_now = timezone.now
        self.at: datetime | None = None

    def __call__(self) -> datetime:
        return self.at if self.at is not None else self.real_now()


@contextmanager
def clock_installed(clock: DemoClock) -> Iterator[DemoClock]:
    # Model auto_now fields and the services read django.utils.timezone.now at call time,
    # so setting it here dates cases, messages and events consistently.
    original = timezone.now
    timezone.now = clock
    try:
        yield clock
    finally:
        timezone.now = original


@contextmanager
def deliveries_recorded_only() -> Iterator[None]:
    """Demo customers are fictional: replies are recorded but no channel delivers them."""
    saved = dict(base._senders)
    base._senders.clear()
    try:
        yield
    finally:
        base._senders.update(saved)


@contextmanager
def jobs_run_inline() -> Iterator[None]:
    """Triage, mood and feedback jobs run as the history is written, as a desk's worker would
    have run them at the time: the model then trains on the agents' decisions, and the first
    `serve` does not start with a backlog of the past's jobs."""
    before = HUEY.immediate
    # Hundreds of "Executing …" lines would bury the sign-in help.
    huey_log = logging.getLogger("huey")
    level = huey_log.level
    HUEY.immediate = True
    huey_log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        HUEY.immediate = before
        huey_log.setLevel(level)


def tiny_png(width: int = 48, height: int = 32, seed: int = 0) -> bytes:
    """A small valid PNG (a soft gradient), standing in for a customer's photo."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    rows = b"".join(
        b"\x00"
        + bytes(
            v
            for x in range(width)
            for v in ((120 + x * 2 + seed) % 256, (90 + y * 3) % 256, (160 + seed * 7) % 256)
        )
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@dataclass
class DemoCustomer:
    customer: Customer
    first: str
    channels: list[str]
    orders: list[tuple[str, str, str]] = field(default_factory=list)  # order, product, amount


@dataclass
class Desk:
    users: dict[str, User]
    teams: dict[str, Team]
    categories: dict[str, Category]
    customers: list[DemoCustomer]
    front_line: dict[int, list[User]] = field(default_factory=dict)  # team id -> tier 1 agents


DEMO_CHAT_WIDGET = "northwind"


class Command(BaseCommand):
    help = "Seed a realistic demo desk (teams, agents, customers, ~200 cases) and print sign-in."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--cases", type=int, default=200)
        parser.add_argument("--customers", type=int, default=50)
        parser.add_argument("--seed", type=int, default=7, help="random seed (same desk each time)")

    def handle(self, *args, cases: int, customers: int, seed: int, **options) -> None:
        usernames = [row[0] for row in data.AGENTS]
        if User.objects.filter(username__in=usernames).exists():
            self.stdout.write(
                "This desk already has the demo data (the demo users exist); nothing was changed."
            )
            self._sign_in_help(fresh=False)
            return
        started = time.monotonic()
        rng = random.Random(seed)
        self.stdout.write(f"Seeding the {data.COMPANY} demo desk…")
        # Named before any mail is written, so the history's mail comes from the shop too.
        desk_identity_set(name=data.COMPANY)
        with clock_installed(DemoClock()) as clock, deliveries_recorded_only(), jobs_run_inline():
            clock.at = clock.real_now() - timedelta(days=60)
            desk = self._desk(rng)
            self._triage_rules(desk)
            self._customers(desk, rng, count=max(customers, 5))
            clock.at = None
            plans = self._plans(desk, rng, count=max(cases, 1))
            for plan in plans:
                self._run(plan, clock)
            problem_story = self._problems(desk, rng, clock)
        # The history's notifications were dealt with at the time; today's are waiting.
        Notification.objects.filter(
            created_at__lt=timezone.now() - timedelta(hours=12), read_at__isnull=True
        ).update(read_at=timezone.now())
        trained = self._triage_learn()
        with jobs_run_inline():
            articles = self._knowledge(desk)
        # Knowledge search ranks by meaning and by the desk's history from the first page,
        # instead of after a worker's first rebuild.
        retrieval_rebuild()
        # The dashboard shows the sixty days of history at once, not after the first minute.
        rollups_rebuild()
        # The desk's own address is always allowed, so the preview page can chat right away.
        ChatWidget.objects.get_or_create(
            key=DEMO_CHAT_WIDGET, defaults={"name": f"{data.COMPANY} shop"}
        )
        counts = dict(Case.objects.values_list("status").order_by().annotate(n=Count("id")))
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {len(desk.customers)} customers, {PurchaseRecord.objects.count()} "
                f"purchases and {Case.objects.count()} cases in "
                f"{time.monotonic() - started:.1f} s: "
                + ", ".join(f"{counts.get(s, 0)} {s}" for s in Status.values)
            )
        )
        self.stdout.write(
            f"Knowledge base: {articles} articles (public ones in the help centre) and "
            f"{len(demo_knowledge.MACROS)} prepared responses."
        )
        if trained is not None:
            self.stdout.write(
                f"Triage learned from the demo history: model v{trained.version} "
                f"on {trained.n_samples} cases."
            )
        self.stdout.write(problem_story)
        self._sign_in_help(fresh=True)

    def _triage_rules(self, desk: Desk) -> None:
        """Keyword rules for the cold start and routing from each category to its team, set
        up before the first case as an admin would: triage guesses and routes while the
        history is written, and the agents' decisions are measured against its guesses."""
        for slug, keywords in data.CATEGORY_KEYWORDS.items():
            KeywordRule.objects.get_or_create(category=desk.categories[slug], keywords=keywords)
        for _name, slug, _description, team_slug in data.CATEGORIES:
            RoutingRule.objects.get_or_create(
                category=desk.categories[slug], team=desk.teams[team_slug]
            )

    def _triage_learn(self):
        """A model trained on the seeded history, so new cases on the demo desk arrive
        categorized by what the desk's agents decided."""
        return model_train()

    @transaction.atomic
    def _knowledge(self, desk: Desk) -> int:
        """The shop's articles, taken through review to where they stand, and its prepared
        responses; written through the knowledge services, so they are indexed for search."""
        author = desk.users["manager"]
        for title, category, kind, audience, state, tags, body in demo_knowledge.ARTICLES:
            article = article_create(
                title=title,
                body=body,
                actor=author,
                category=desk.categories[category],
                kind=kind,
                audience=audience,
                tags=tags,
            )
            for step in ("review", "published"):
                article = article_transition(article=article, to=step, actor=author)
                if step == state:
                    break
        for name, team, status, tags, categories, stages, body in demo_knowledge.MACROS:
            macro_create(
                name=name,
                body=body,
                actor=author,
                team=desk.teams[team] if team else None,
                set_status=status,
                add_tags=tags,
                categories=[desk.categories[slug] for slug in categories],
                stages=stages,
            )
        return len(demo_knowledge.ARTICLES)

    # -- recurring problems --------------------------------------------------------------

    def _problems(self, desk: Desk, rng: random.Random, clock: DemoClock) -> str:
        """Recurring problems at each stage, written through the services as the desk would
        have: a fix published ten days ago (its contributors credited), a known error
        announced on the help centre with its likely-affected customers told, and today's
        burst of one fault from several customers, found by detection and the trends job."""
        manager, owner = desk.users["manager"], desk.users["specialist"]
        now = clock.real_now()
        people = rng.sample(desk.customers, min(len(desk.customers), 16))

        def opened(who: DemoCustomer, subject: str, text: str, category: str) -> Case:
            return case_create(
                customer=who.customer,
                subject=subject,
                text=text,
                channel="email",
                category=desk.categories[category],
                metadata={"demo": True},
            )

        hinge_cases = []
        for n, (who, (subject, text)) in enumerate(zip(people[:5], data.HINGE_CASES, strict=False)):
            clock.at = now - timedelta(days=26 - 3 * n)
            hinge_cases.append(opened(who, subject, text, "warranty"))
        clock.at = now - timedelta(days=13)
        hinge = problem_create(
            actor=manager,
            title="Aurora kettle lids crack at the hinge",
            category=desk.categories["warranty"],
            product="Aurora 1.7 L kettle",
            owner=owner,
            cases=hinge_cases,
        )
        problem_contributor_add(
            problem=hinge, user=desk.users["agent"], part="reported", actor=manager
        )
        problem_update(
            problem=hinge,
            actor=owner,
            why_chain=data.HINGE_WHY,
            cause_type="product_defect",
            workaround="Send a replacement lid from stock; the kettle itself is fine.",
        )
        problem_transition(problem=hinge, to=ProblemStatus.KNOWN_ERROR, actor=manager)
        problem_update(problem=hinge, actor=manager, permanent_fix=data.HINGE_FIX)
        clock.at = now - timedelta(days=10)
        problem_fix_publish(problem=hinge, actor=manager)

        clock.at = now - timedelta(days=2)
        thermo_cases = [
            opened(who, subject, text, "technical")
            for who, (subject, text) in zip(people[5:9], data.THERMOSTAT_CASES, strict=False)
        ]
        thermostat = problem_create(
            actor=manager,
            title="Vela thermostats drop off Wi-Fi after firmware 2.3",
            category=desk.categories["technical"],
            product="Vela smart thermostat",
            owner=owner,
            cases=thermo_cases,
        )
        problem_update(
            problem=thermostat,
            actor=owner,
            why_chain=data.THERMOSTAT_WHY,
            cause_type="third_party",
            workaround="Turn off the router's band steering, or join the 2.4 GHz network.",
        )
        problem_transition(problem=thermostat, to=ProblemStatus.KNOWN_ERROR, actor=manager)
        problem_banner_set(
            problem=thermostat,
            actor=manager,
            public_title="Vela thermostats disconnecting from Wi-Fi",
            public_summary=data.THERMOSTAT_PUBLIC,
            show_banner=True,
        )
        told = problem_notices_send(problem=thermostat, actor=manager)

        clock.at = None
        for who, (subject, text) in zip(people[9:16], data.DISCOUNT_BURST, strict=False):
            opened(who, subject, text, "billing")
        suggested = [d for d in problems_detect() if d.created]
        alerts = trends_detect()
        return (
            f"Recurring problems: {hinge.number} fixed (its contributors credited), "
            f"{thermostat.number} a known error on the help centre with {told.queued} "
            f"customers told before they wrote, {len(suggested)} suggested by detection from "
            f"today's burst; {len(alerts)} trend alert{'s' if len(alerts) != 1 else ''}."
        )

    # -- sign-in help -------------------------------------------------------------------

    def _sign_in_help(self, *, fresh: bool) -> None:
        site = settings.SITE_URL
        lines = [
            "",
            f"Sign in at {site}/login/ (after `caseloop serve`) with one of these accounts:",
        ]
        password_note = data.DEMO_PASSWORD if fresh else f"{data.DEMO_PASSWORD} (unless changed)"
        for username, first, last, role, tier, teams, _skills in data.AGENTS:
            label = {"agent": f"agent, tier {tier}", "manager": "manager", "admin": "admin"}[role]
            team_names = ", ".join(t for t in teams) or "-"
            name = f"{first} {last}"
            lines.append(f"  {username:<12} {name:<16} {label:<15} teams: {team_names}")
        lines.append(f"  {'customer':<12} a customer's portal login")
        lines.append(f"Password for every demo account: {password_note}")
        lines.append(f"Django admin: {site}/admin/ (user admin)   API docs: {site}/api/docs")
        lines.append(
            f"Live chat as a visitor: {site}/channels/chat/preview/{DEMO_CHAT_WIDGET}/ "
            "(signed in as admin)   Help centre and web form: "
            f"{site}/help/  {site}/channels/form/"
        )
        self.stdout.write("\n".join(lines))

    # -- the desk: teams, categories, people ------------------------------------------------

    @transaction.atomic
    def _desk(self, rng: random.Random) -> Desk:
        # The demo shop answers around the clock (a schedule with no opening hours is always
        # open), so its response and resolution times count every hour of its history.
        BusinessHours.objects.filter(is_default=True).update(is_default=False)
        BusinessHours.objects.update_or_create(
            name="Around the clock", defaults={"timezone": "Europe/London", "is_default": True}
        )
        teams = {
            slug: Team.objects.get_or_create(slug=slug, defaults={"name": name, "description": d})[
                0
            ]
            for name, slug, d in data.TEAMS
        }
        categories = {
            slug: Category.objects.get_or_create(
                slug=slug, defaults={"name": name, "description": description}
            )[0]
            for name, slug, description, _team in data.CATEGORIES
        }
        # One hash for the shared demo password: hashing it per user costs seconds.
        password_hash = make_password(data.DEMO_PASSWORD)
        users: dict[str, User] = {}
        for username, first, last, role, tier, team_slugs, skills in data.AGENTS:
            user = user_create(
                username=username,
                email=f"{username}@{data.DEMO_EMAIL_DOMAIN}",
                role=role,
                tier=tier,
                first_name=first,
                last_name=last,
            )
            user.password = password_hash
            user.save(update_fields=["password"])
            for slug in team_slugs:
                team_add_member(team=teams[slug], user=user)
            user.skills.add(*(categories[slug] for slug in skills))
            users[username] = user
        front_line = {
            team.pk: [
                users[row[0]]
                for row in data.AGENTS
                if row[3] == Role.AGENT and row[4] == 1 and team.slug in row[5]
            ]
            for team in teams.values()
        }
        return Desk(
            users=users, teams=teams, categories=categories, customers=[], front_line=front_line
        )

    def _customers(self, desk: Desk, rng: random.Random, *, count: int) -> None:
        organizations = [
            Organization.objects.get_or_create(name=name, defaults={"service_level": level})[0]
            for name, level in data.ORGANIZATIONS
        ]
        channels = [c for c, _ in CHANNEL_MIX]
        weights = [w for _, w in CHANNEL_MIX]
        csv_rows: list[dict] = []
        order_no = 104200
        for index in range(count):
            first = data.FIRST_NAMES[index % len(data.FIRST_NAMES)]
            last = data.LAST_NAMES[(index * 7) % len(data.LAST_NAMES)]
            slug = f"{first}.{last}".lower().replace("'", "")
            if index >= len(data.FIRST_NAMES):
                slug += str(index)
            primary = rng.choices(channels, weights)[0]
            email = phone = chat = social = ""
            if primary in ("email", "web", "api") or rng.random() < 0.6:
                domain = rng.choice(["example.com", "example.org", "example.net", "mail.example"])
                email = f"{slug}@{domain}"
            if primary == "phone" or rng.random() < 0.35:
                # Mixed national and international formats; identity resolution normalizes them.
                number = f"20 7946 {index % 1000:04d}"
                phone = rng.choice([f"+44 {number}", f"+44 (0){number}", f"+44{number}"])
            if primary == "chat":
                chat = f"visitor-{rng.getrandbits(32):08x}"
            if primary == "social" or rng.random() < 0.1:
                social = f"@{slug.replace('.', '_')}"
            org = organizations[index % len(organizations)] if index % 9 == 4 else None
            vip = index % 8 == 3 or (org is not None and org.service_level == "premium")
            notes = ""
            if vip:
                notes = rng.choice(
                    [
                        "Long-standing customer; prefers email.",
                        "Key account contact. Offer a call-back for anything urgent.",
                        "Has a Northwind Plus annual plan.",
                    ]
                )
            customer = customer_create(
                name=f"{first} {last}",
                identity=Identity(email=email, phone=phone, chat=chat, social=social),
                organization=org,
                is_vip=vip,
                notes=notes,
                language=rng.choice(["en"] * 8 + ["de", "fr", "es"]),
            )
            reach = [primary]
            if email and primary not in ("email", "web"):
                reach.append("email")
            if phone and primary != "phone":
                reach.append("phone")
            entry = DemoCustomer(customer=customer, first=first, channels=reach)
            if email or phone:
                for _ in range(rng.choice([1, 1, 2, 2, 3])):
                    order_no += rng.randint(3, 40)
                    product, price = rng.choice(data.PRODUCTS)
                    order = f"NW-{order_no}"
                    when = timezone.now() + timedelta(days=rng.uniform(5, 55))
                    csv_rows.append(
                        {
                            "email": email,
                            "phone": "" if email else phone,
                            "order_id": order,
                            "product": product,
                            "purchased_at": when.date().isoformat(),
                            "amount": price,
                            "currency": "GBP",
                        }
                    )
                    entry.orders.append((order, product, f"£{price}"))
            desk.customers.append(entry)
        # Some customers reach out on a second channel later; identity resolution joins them.
        for entry in desk.customers[::11]:
            points = {cp.kind: cp.value for cp in entry.customer.contact_points.all()}
            if "email" in points and "chat" not in points:
                customer_find_or_create(
                    identity=Identity(
                        email=points["email"], chat=f"visitor-{rng.getrandbits(32):08x}"
                    )
                )
                entry.channels.append("chat")
        buffer = io.StringIO()
        writer = csv.DictWriter(
            buffer,
            fieldnames=[
                "email",
                "phone",
                "order_id",
                "product",
                "purchased_at",
                "amount",
                "currency",
            ],
        )
        writer.writeheader()
        writer.writerows(csv_rows)
        purchases_import_csv(data=buffer.getvalue())
        portal = desk.customers[0].customer
        portal_user = user_create(
            username="customer",
            email=f"customer@{data.DEMO_EMAIL_DOMAIN}",
            role=Role.CUSTOMER,
            first_name=desk.customers[0].first,
            customer=portal,
        )
        portal_user.set_password(data.DEMO_PASSWORD)
        portal_user.save(update_fields=["password"])

    # -- cases ------------------------------------------------------------------------------

    def _plans(self, desk: Desk, rng: random.Random, *, count: int) -> list[CasePlan]:
        outcomes: list[tuple[str, tuple[float, float]]] = []
        for outcome, share, age in STATUS_MIX:
            outcomes += [(outcome, age)] * max(1, round(count * share))
        rng.shuffle(outcomes)
        outcomes = outcomes[:count]
        # A few customers write a lot; most write once or twice.
        weights = [6 if i % 10 == 0 else 3 if i % 4 == 0 else 1 for i in range(len(desk.customers))]
        plans = []
        now = timezone.now()
        for outcome, (low, high) in outcomes:
            who = rng.choices(desk.customers, weights)[0]
            plan = CasePlan(desk=desk, rng=rng, who=who, outcome=outcome)
            plan.compose()
            ago = timedelta(hours=rng.uniform(low, high))
            plan.start = now - ago - plan.duration
            plans.append(plan)
        plans.sort(key=lambda p: p.start)
        return plans

    def _run(self, plan: CasePlan, clock: DemoClock) -> None:
        at = plan.start
        for delay, step in plan.steps:
            at += delay
            clock.at = at
            step()
        clock.at = None


class CasePlan:
    """One case's story: who writes, about what, and how the desk handles it."""

    def __init__(self, *, desk: Desk, rng: random.Random, who: DemoCustomer, outcome: str):
        self.desk, self.rng, self.who, self.outcome = desk, rng, who, outcome
        self.steps: list[tuple[timedelta, Callable[[], None]]] = []
        self.start = timezone.now()
        self.case: Case | None = None
        self.escalation: Escalation | None = None
        rng_choice = rng.choice
        candidates = [s for s in data.SCENARIOS if outcome != "new" or not s.escalates]
        self.scenario = rng_choice(candidates)
        self.channel = rng_choice(who.channels)
        order, product, amount = (
            rng_choice(who.orders)
            if who.orders
            else (f"NW-{rng.randint(104000, 109999)}", rng_choice(data.PRODUCTS)[0], "£49.00")
        )
        if self.scenario.needs_app_device and product not in data.APP_DEVICES:
            product = rng_choice(data.APP_DEVICES)
        team_slug = next(c[3] for c in data.CATEGORIES if c[1] == self.scenario.category)
        self.team = desk.teams[team_slug]
        front_line = desk.front_line.get(self.team.pk) or [desk.users["agent"]]
        self.agent = rng_choice(front_line)
        self.specialist = rng_choice([desk.users["specialist"], desk.users["specialist2"]])
        self.vars = {
            "first": who.first,
            "product": product,
            "order": order,
            "amount": amount,
            "carrier": rng_choice(data.CARRIERS),
            "weekday": rng_choice(data.WEEKDAYS),
            "city": rng_choice(data.CITIES),
            "days": rng.randint(3, 12),
            "ref": f"{rng.randint(100000, 999999)}",
            "tracking": f"JD{rng.randint(10**9, 10**10 - 1)}GB",
            "last4": f"{rng.randint(0, 9999):04d}",
            "agent": self.agent.first_name,
            "plan": rng_choice(data.PLANS),
            "company": data.COMPANY,
            "code": rng_choice(["03", "07", "12", "21"]),
            "months": rng.randint(4, 20),
            "org": (
                who.customer.organization.name
                if who.customer.organization
                else f"{who.customer.name.split()[-1]} Consulting Ltd"
            ),
            "goodwill": rng_choice(data.GOODWILL),
            "team": self.team.name,
        }

    # -- text ---------------------------------------------------------------------------

    def fill(self, options: list[str]) -> str:
        return self.rng.choice(options).format(**self.vars)

    def inbound_text(self, options: list[str], *, first_message: bool = False) -> str:
        body = self.fill(options)
        if self.channel == "email":
            greeting = self.rng.choice(["Hi,", "Hello,", "Hi there,", "Dear Northwind team,"])
            sign = self.rng.choice(["Thanks,", "Best,", "Regards,", "Cheers,"])
            return f"{greeting}\n\n{body}\n\n{sign}\n{self.who.first}"
        if self.channel in ("chat", "social") and first_message:
            body = self.fill(self.scenario.short)
            return f"@NorthwindHome {body}" if self.channel == "social" else body
        if self.channel == "phone" and first_message:
            return f"Phone call from {self.who.customer.name}. In their words: “{body}”"
        return body

    def outbound_text(self, body: str) -> str:
        if self.channel == "email" or self.channel == "web" or self.channel == "api":
            return (
                f"Hi {self.who.first},\n\n{body}\n\nBest regards,\n"
                f"{self.agent.first_name}\n{data.SUPPORT_SIGNATURE}"
            )
        if self.channel == "phone":
            return f"Called {self.who.first} back: {body}"
        return f"Hi {self.who.first}! {body}"

    # -- steps --------------------------------------------------------------------------

    def minutes(self, low: float, high: float) -> timedelta:
        return timedelta(minutes=self.rng.uniform(low, high))

    def add(self, delay: timedelta, step: Callable[[], None]) -> None:
        self.steps.append((delay, step))

    @property
    def duration(self) -> timedelta:
        return sum((delay for delay, _ in self.steps), timedelta())

    def compose(self) -> None:
        s, rng, outcome = self.scenario, self.rng, self.outcome
        self.add(timedelta(), self.open_case)
        if outcome == "new":
            if rng.random() < 0.25:
                self.add(self.minutes(60, 300), lambda: self.inbound(data.CUSTOMER_CHASERS))
            return
        self.add(self.minutes(4, 240), self.triage)
        escalate = s.escalates and rng.random() < 0.7
        if outcome in ("solved", "closed") and not escalate and rng.random() < 0.35:
            # Solved on first contact: the first reply is the resolution.
            self.add(self.minutes(5, 90), lambda: self.reply(s.resolutions))
            self.add(self.minutes(1, 30), lambda: self.move(Status.SOLVED))
            if rng.random() < 0.5:
                self.add(self.minutes(30, 720), self.rate)
            if outcome == "closed":
                self.add(self.minutes(1440, 4320), self.close)
            return
        self.add(self.minutes(1, 30), lambda: self.reply(s.replies))
        if outcome == "pending_customer":
            self.add(self.minutes(1, 10), lambda: self.reply(s.questions))
            self.add(self.minutes(0.5, 2), lambda: self.move(Status.PENDING_CUSTOMER))
            return
        if rng.random() < 0.5:
            self.add(self.minutes(1, 20), lambda: self.note(s.notes))
        if outcome == "pending_internal" or escalate:
            self.add(self.minutes(5, 60), self.escalate)
            self.add(self.minutes(1, 10), lambda: self.reply(data.AGENT_PENDING_INTERNAL))
            self.add(self.minutes(0.5, 2), lambda: self.move(Status.PENDING_INTERNAL))
            if outcome == "pending_internal":
                return
        if rng.random() < 0.6 or outcome == "open":
            self.add(self.minutes(5, 120), lambda: self.reply(s.questions))
            self.add(self.minutes(0.5, 2), lambda: self.move(Status.PENDING_CUSTOMER))
            attach = "attached" in " ".join(s.answers)
            self.add(self.minutes(30, 1440), lambda: self.inbound(s.answers, attach=attach))
        if outcome == "open":
            if rng.random() < 0.4:
                self.add(self.minutes(10, 60), lambda: self.note(s.notes))
            return
        if rng.random() < 0.15:
            self.add(self.minutes(30, 600), self.handover)
        if not escalate:
            # An escalated case's solution reaches the customer from the specialist.
            self.add(self.minutes(30, 1440), lambda: self.reply(s.resolutions))
        if not escalate and (outcome == "closed" or rng.random() < 0.4):
            self.add(self.minutes(10, 600), lambda: self.inbound(data.CUSTOMER_THANKS))
        self.add(self.minutes(1, 30), lambda: self.move(Status.SOLVED))
        if rng.random() < 0.5:
            self.add(self.minutes(30, 720), self.rate)
        if outcome == "closed":
            self.add(self.minutes(1440, 4320), self.close)
        elif outcome == "reopened":
            self.add(self.minutes(600, 4320), lambda: self.inbound(data.CUSTOMER_REOPEN))

    @property
    def opened(self) -> Case:
        """The case, once open_case (always the first step) has opened it."""
        assert self.case is not None
        return self.case

    def open_case(self) -> None:
        s, rng = self.scenario, self.rng
        text = self.inbound_text(s.openings, first_message=True)
        on_phone = self.channel == "phone"
        self.case = case_create(
            customer=self.who.customer,
            subject=self.fill(s.subjects),
            text=text,
            channel=self.channel,
            actor=self.agent if on_phone else None,
            priority="urgent" if self.who.customer.is_vip and rng.random() < 0.2 else "normal",
            attachments=(
                [AttachmentUpload("photo.png", tiny_png(seed=rng.randint(0, 50)), "image/png")]
                if s.key == "damaged" and self.channel in ("email", "web")
                else []
            ),
            metadata={"demo": True},
        )

    def triage(self) -> None:
        s = self.scenario
        priority = self.rng.choice(s.priorities)
        if self.who.customer.is_vip and priority == "normal":
            priority = "high"
        tags = list(s.tags)
        if self.who.customer.is_vip:
            tags.append("vip")
        case_update(
            case=self.opened,
            actor=self.agent,
            category=self.desk.categories[s.category],
            team=self.team,
            priority=priority,
            tags=tags,
        )
        # Routing may have given the case to a colleague: the story follows its owner.
        self.opened.refresh_from_db()
        owner = self.opened.owner
        if owner is not None and owner.pk != self.agent.pk and owner.pk != self.specialist.pk:
            self.agent = owner
            self.vars["agent"] = owner.first_name
        elif owner is None or owner.pk == self.specialist.pk:
            self.case = case_transfer_ownership(
                case=self.opened, to_user=self.agent, actor=self.agent, reason="takes the case"
            )

    def reply(self, options: list[str]) -> None:
        message_add(
            case=self.opened,
            direction="outbound",
            text=self.outbound_text(self.fill(options)),
            actor=self.agent,
        )

    def note(self, options: list[str]) -> None:
        message_add(case=self.opened, direction="note", text=self.fill(options), actor=self.agent)

    def inbound(self, options: list[str], *, attach: bool = False) -> None:
        uploads = (
            [AttachmentUpload("label.png", tiny_png(seed=self.rng.randint(0, 50)), "image/png")]
            if attach
            else []
        )
        message_add(
            case=self.opened,
            direction="inbound",
            text=self.inbound_text(options),
            attachments=uploads,
        )

    def move(self, to: str) -> None:
        escalation = self.escalation
        if to == Status.SOLVED and escalation is not None:
            # The specialist solves what was escalated to them; the owner follows up.
            escalation_solved(
                escalation=escalation,
                actor=escalation.to_user or self.specialist,
                solution=self.fill(self.scenario.resolutions),
            )
            self.escalation = None
            self.opened.refresh_from_db()
            return
        if self.opened.status == to:
            return  # the escalation already moved it there
        self.case = case_transition(case=self.opened, to=to, actor=self.agent)

    def escalate(self) -> None:
        escalations = self.desk.teams["escalations"]
        self.vars["team"] = "our specialist team"
        message_add(
            case=self.opened,
            direction="note",
            text=(
                f"Escalating to {escalations.name}: {self.fill(self.scenario.notes)} "
                f"{self.specialist.first_name}, could you take it from here? I stay the owner "
                "and will keep the customer updated."
            ),
            actor=self.agent,
        )
        case_update(
            case=self.opened, actor=self.agent, team=escalations, reason="needs tier 2 authority"
        )
        # The hand-off needs the date and time of the problem; the rest comes from the profile
        # and the category.
        first = self.opened.messages.order_by("created_at", "id").first()
        fact_record(
            case=self.opened,
            key="problem_at",
            value=timezone.localtime(first.created_at if first else timezone.now()).strftime(
                "%Y-%m-%d %H:%M"
            ),
            actor=self.agent,
        )
        if not self.opened.category_id:
            fact_record(case=self.opened, key="nature", value=self.opened.subject, actor=self.agent)
        escalation = case_escalate(
            case=self.opened,
            actor=self.agent,
            reason="needs tier 2 authority",
            to_user=self.specialist,
        )
        self.escalation = escalation_accept(escalation=escalation, solver=self.specialist)
        self.opened.refresh_from_db()

    def handover(self) -> None:
        colleagues = [
            u
            for u in self.desk.users.values()
            if u.role == Role.AGENT and u.tier == 1 and u.pk != self.agent.pk
        ]
        new_owner = self.rng.choice(colleagues)
        self.vars["next_agent"] = new_owner.first_name
        message_add(
            case=self.opened,
            direction="note",
            text=self.fill(data.HANDOVER_NOTES),
            actor=self.agent,
        )
        case_transfer_ownership(
            case=self.opened, to_user=new_owner, actor=self.agent, reason="shift handover"
        )
        self.agent = new_owner
        self.vars["agent"] = new_owner.first_name

    def rate(self) -> None:
        """The customer answers the satisfaction question (and sometimes the NPS one)."""
        score = self.rng.choices([1, 2, 3, 4, 5], [1, 1, 2, 5, 8])[0]
        rating_record(
            case=self.opened,
            customer=self.opened.customer,
            score=score,
            comment=self.rng.choice(data.RATING_COMMENTS[score]),
        )
        if self.rng.random() < 0.4:
            nps = min(10, max(0, score * 2 + self.rng.choice([-2, -1, 0, 0, 1])))
            nps_record(customer=self.opened.customer, case=self.opened, score=nps, channel="email")

    def close(self) -> None:
        self.case = case_transition(
            case=self.opened, to=Status.CLOSED, actor=None, reason=data.CLOSING_NOTE
        )
