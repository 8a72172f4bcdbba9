"""Proactive support from a recurring problem: tell the customers likely to be affected
before they write, announce the known issue on the public pages, and tell those who follow
it when the fix is out.

- **Audience**: the customers who bought the problem's product (`PurchaseRecord`), or a
  segment the manager defines (`Segment`), less those who already have a case linked to
  the problem, those already noticed and those already following it. Customers without an
  email address are counted and skipped.
- **Notices**: one `ProblemNotice` per customer, its text rendered from placeholders and
  checked by the reply coach first, mailed to the customer's primary email address by the
  outbox.
- **Banner**: a problem under investigation or a known error, with `show_banner` and a
  public title, is announced on the help centre and the contact form (through
  `caseloop.cases.known_issues`); a customer follows it by email (`ProblemFollower`).
- **Fix**: when the fix is published, each follower not yet told is mailed once.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext, gettext_noop

from caseloop.accounts.models import DeskIdentity, User
from caseloop.cases import outbox
from caseloop.cases.known_issues import (
    KnownIssue,
    KnownIssueGone,
    KnownIssueRefused,
    known_issues_register,
)
from caseloop.coach.selectors import coach_check
from caseloop.customers.models import ContactPoint, Customer, Organization, PurchaseRecord
from caseloop.lib.language import language_override

from .models import (
    Problem,
    ProblemCase,
    ProblemChange,
    ProblemFollower,
    ProblemNotice,
    ProblemStatus as S,
)
from .problem_impact import NOTICES_SENT
from .problems import (
    ProblemConflict,
    ProblemError,
    clean_text,
    placeholders_check,
    problem_change_record,
    problem_lock,
    require_manager,
)

NOTICE_MAIL_EFFECT = "insights.problem_notice_mail"
FOLLOWER_FIX_EFFECT = "insights.problem_follower_fix"

# A problem is announced, and its likely-affected customers told, while it is open.
ANNOUNCED_STATUSES = (S.INVESTIGATING, S.KNOWN_ERROR)
BANNERS_MAX = 5
PREVIEW_ROWS = 20
SEND_MAX = 5000

NOTICE_PLACEHOLDERS = {
    "customer_name": "the customer's name",
    "title": "the issue's public title",
    "summary": "its public summary",
    "product": "the problem's product",
}
# The built-in texts are written in the customer's language; a manager's own text is sent
# as written.
DEFAULT_NOTICE = gettext_noop(
    "Hello {customer_name},\n\n"
    "We want to let you know before you run into it: {title}.\n\n"
    "{summary}\n\n"
    "We are working on it and there is nothing you need to do. If you need help in the "
    "meantime, just reply to this message."
)
FOLLOWER_FIX_NOTICE = gettext_noop(
    "Hello {customer_name},\n\n"
    "You asked us to tell you when this was fixed: {subject}.\n\n"
    "It is:\n\n{fix}\n\n"
    "If anything is still not right for you, just reply to this message and we will pick it "
    "up."
)


class NoticeObjection(ProblemError):
    """The reply coach holds the notice: nothing is sent."""

    code = "notice_objection"

    def __init__(self, findings: list[Any]) -> None:
        self.findings = findings
        self.field = "text"
        self.payload = {"findings": [f.as_dict() for f in findings]}
        super().__init__(
            "the reply coach holds the notice: "
            + "; ".join(f.message for f in findings if f.blocks)
        )


# --- the audience ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """Who is likely affected. Every criterion given must hold (an empty one is ignored):
    bought `product` (any product when only `bought_since` is given) on or after
    `bought_since`, belongs to `organization_id`, whose service level is `service_level`,
    is a VIP (`vip_only`), speaks `language`."""

    product: str = ""
    bought_since: date | None = None
    organization_id: int | None = None
    service_level: str = ""
    vip_only: bool = False
    language: str = ""

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["bought_since"] = self.bought_since.isoformat() if self.bought_since else None
        return data

    @property
    def is_empty(self) -> bool:
        return not (
            self.product
            or self.bought_since
            or self.organization_id
            or self.service_level
            or self.vip_only
            or self.language
        )


def segment_clean(
    *,
    product: str = "",
    bought_since: str | date | None = None,
    organization_id: int | str | None = None,
    service_level: str = "",
    vip_only: bool = False,
    language: str = "",
) -> Segment:
    """A segment from a form or an API payload, each criterion validated (ProblemError
    naming the field at fault). At least one criterion."""
    since: date | None
    if isinstance(bought_since, date):
        since = bought_since
    elif (bought_since or "").strip():
        try:
            since = parse_date(str(bought_since).strip())
        except ValueError:
            since = None
        if since is None:
            raise ProblemError("give the date as YYYY-MM-DD", field="bought_since")
    else:
        since = None
    if since is not None and since > timezone.localdate():
        raise ProblemError("the purchase date cannot be in the future", field="bought_since")
    org: int | None = None
    if organization_id not in (None, ""):
        text = str(organization_id).strip()
        if not text.isdigit() or not Organization.objects.filter(pk=int(text)).exists():
            raise ProblemError("no such organization", field="organization_id")
        org = int(text)
    segment = Segment(
        product=clean_text(product, field="product", limit=200),
        bought_since=since,
        organization_id=org,
        service_level=clean_text(service_level, field="service_level", limit=32),
        vip_only=bool(vip_only),
        language=clean_text(language, field="language", limit=16),
    )
    if segment.is_empty:
        raise ProblemError("choose at least one criterion for the segment", field="segment")
    return segment


def purchase_segment(problem: Problem) -> Segment:
    """The customers who bought the problem's product."""
    if not problem.product:
        raise ProblemError(
            "the problem names no product: name it, or define a segment", field="product"
        )
    return Segment(product=problem.product)


def _reason(problem: Problem, segment: Segment) -> str:
    if segment == Segment(product=problem.product) and problem.product:
        return ProblemNotice.Reason.PURCHASE
    return ProblemNotice.Reason.SEGMENT


def _group(segment: Segment) -> QuerySet[Customer]:
    """The customers in the segment (merged profiles left out: their survivor counts)."""
    customers = Customer.objects.filter(merged_into__isnull=True)
    if segment.product or segment.bought_since:
        purchases = PurchaseRecord.objects.filter(customer=OuterRef("pk"))
        if segment.product:
            purchases = purchases.filter(product__iexact=segment.product)
        if segment.bought_since:
            start = timezone.make_aware(datetime.combine(segment.bought_since, time.min))
            purchases = purchases.filter(purchased_at__gte=start)
        customers = customers.filter(Exists(purchases))
    if segment.organization_id:
        customers = customers.filter(organization_id=segment.organization_id)
    if segment.service_level:
        customers = customers.filter(organization__service_level__iexact=segment.service_level)
    if segment.vip_only:
        customers = customers.filter(is_vip=True)
    if segment.language:
        customers = customers.filter(language__iexact=segment.language)
    return customers


def _annotated(problem: Problem, segment: Segment) -> QuerySet[Any]:
    return _group(segment).annotate(
        wrote=Exists(ProblemCase.objects.filter(problem=problem, case__customer=OuterRef("pk"))),
        noticed=Exists(ProblemNotice.objects.filter(problem=problem, customer=OuterRef("pk"))),
        following=Exists(ProblemFollower.objects.filter(problem=problem, customer=OuterRef("pk"))),
        email=Subquery(
            ContactPoint.objects.filter(customer=OuterRef("pk"), kind=ContactPoint.Kind.EMAIL)
            .order_by("-is_primary", "id")
            .values("value")[:1]
        ),
    )


_TO_TELL = Q(wrote=False, noticed=False, following=False)
_REACHABLE = _TO_TELL & Q(email__isnull=False)


@dataclass(frozen=True)
class AudienceRow:
    customer_id: int
    name: str
    email: str


@dataclass(frozen=True)
class AudiencePreview:
    """Who a sending would reach. `group` is everyone in the segment; `wrote_before` those
    of them with a case linked already (their share is the group's contact rate)."""

    segment: Segment
    reason: str
    group: int
    wrote_before: int
    already_told: int
    reachable: int
    without_email: int
    rows: list[AudienceRow] = field(default_factory=list)

    @property
    def contact_rate(self) -> float:
        return self.wrote_before / self.group if self.group else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "segment": self.segment.as_dict(),
            "reason": self.reason,
            "group": self.group,
            "wrote_before": self.wrote_before,
            "already_told": self.already_told,
            "reachable": self.reachable,
            "without_email": self.without_email,
            "contact_rate": round(self.contact_rate, 4),
        }


def problem_audience_preview(
    *, problem: Problem, actor: User | None, segment: Segment | None = None
) -> AudiencePreview:
    """How many customers a sending would reach, how many have no email address, and the
    first of them (managers). `segment` None: the buyers of the problem's product. Two
    queries."""
    require_manager(actor)
    segment = segment or purchase_segment(problem)
    customers = _annotated(problem, segment)
    counts = customers.aggregate(
        group=Count("pk"),
        wrote_before=Count("pk", filter=Q(wrote=True)),
        already_told=Count("pk", filter=Q(wrote=False) & (Q(noticed=True) | Q(following=True))),
        reachable=Count("pk", filter=_REACHABLE),
        without_email=Count("pk", filter=_TO_TELL & Q(email__isnull=True)),
    )
    rows = [
        AudienceRow(customer_id=pk, name=name, email=email)
        for pk, name, email in customers.filter(_REACHABLE)
        .order_by("pk")
        .values_list("pk", "name", "email")[:PREVIEW_ROWS]
    ]
    return AudiencePreview(segment=segment, reason=_reason(problem, segment), rows=rows, **counts)


# --- sending --------------------------------------------------------------------------------


def notice_render(
    *, problem: Problem, customer_name: str, text: str = "", language: str = ""
) -> str:
    template = text or DEFAULT_NOTICE
    placeholders_check(template, allowed=NOTICE_PLACEHOLDERS, field="text")
    with language_override(language):
        if template == DEFAULT_NOTICE:
            template = gettext(template)
        values = {
            "customer_name": customer_name or gettext("there"),
            "title": problem.public_title,
            "summary": problem.public_summary,
            "product": problem.product,
        }
    return template.format_map(values).strip()


@dataclass(frozen=True)
class NoticeSending:
    preview: AudiencePreview
    queued: int


@transaction.atomic
def problem_notices_send(
    *, problem: Problem, actor: User, segment: Segment | None = None, text: str = ""
) -> NoticeSending:
    """Tell the likely-affected customers who have not written (managers): one notice per
    customer with an email address, its text checked by the reply coach first (findings
    that hold a reply refuse the sending). Sending again reaches only those not told yet.
    Side effects: the notices; a `notices_sent` history row (with the group's contact rate)
    and events on the linked cases; one outbox effect per notice (`problem_notice_mail`)."""
    require_manager(actor)
    problem = problem_lock(problem)
    if problem.status not in ANNOUNCED_STATUSES:
        raise ProblemConflict(
            "customers are told of a problem under investigation or a known error"
        )
    if not (problem.public_title and problem.public_summary):
        raise ProblemConflict(
            "write the public title and summary first: customers read those", field="public_title"
        )
    template = clean_text(text, field="text") or DEFAULT_NOTICE
    placeholders_check(template, allowed=NOTICE_PLACEHOLDERS, field="text")
    preview = problem_audience_preview(problem=problem, actor=actor, segment=segment)
    if preview.reachable > SEND_MAX:
        raise ProblemError(
            f"{preview.reachable} customers is more than one sending reaches (at most "
            f"{SEND_MAX}): narrow the segment",
            field="segment",
        )
    recipients = list(
        _annotated(problem, preview.segment)
        .filter(_REACHABLE)
        .order_by("pk")
        .values_list("pk", "name", "email", "language")
    )
    if recipients:
        sample = notice_render(
            problem=problem, customer_name=recipients[0][1], text=template, language="en"
        )
        holding = [f for f in coach_check(text=sample) if f.blocks]
        if holding:
            raise NoticeObjection(holding)
    notices = ProblemNotice.objects.bulk_create(
        ProblemNotice(
            problem=problem,
            customer_id=pk,
            reason=preview.reason,
            address=email,
            text=notice_render(
                problem=problem, customer_name=name, text=template, language=language
            ),
            sent_by=actor,
        )
        for pk, name, email, language in recipients
    )
    outbox.effects_record(
        [
            outbox.Effect(
                kind=NOTICE_MAIL_EFFECT,
                payload={"notice": notice.pk},
                key=f"{NOTICE_MAIL_EFFECT}:{notice.pk}",
            )
            for notice in notices
        ],
        keys_are_new=True,
    )
    problem_change_record(
        problem=problem,
        actor=actor,
        change=NOTICES_SENT,
        data={
            "segment": preview.segment.as_dict(),
            "audience": preview.reason,
            "group": preview.group,
            "wrote_before": preview.wrote_before,
            "queued": len(notices),
            "without_email": preview.without_email,
            "custom_text": template != DEFAULT_NOTICE,
        },
    )
    return NoticeSending(preview=preview, queued=len(notices))


def _desk_name() -> str:
    return DeskIdentity.current().name


def problem_notice_mail(payload: dict[str, Any]) -> None:
    """Outbox effect: mail one notice. A notice no longer queued (sent, failed) is left
    alone. Side effects: the email; the notice marked sent."""
    notice = (
        ProblemNotice.objects.select_for_update(of=("self",))
        .select_related("problem")
        .filter(pk=payload["notice"])
        .first()
    )
    if notice is None or notice.state != ProblemNotice.State.QUEUED:
        return
    EmailMessage(
        subject=f"{notice.problem.public_title} · {_desk_name()}",
        body=notice.text + "\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notice.address],
    ).send(fail_silently=False)
    notice.state = ProblemNotice.State.SENT
    notice.sent_at = timezone.now()
    notice.error = ""
    notice.save(update_fields=["state", "sent_at", "error"])


def problem_notice_failed(payload: dict[str, Any], error: str) -> None:
    """The outbox gave up on a notice: it stays visible as failed, with why."""
    ProblemNotice.objects.filter(pk=payload["notice"], state=ProblemNotice.State.QUEUED).update(
        state=ProblemNotice.State.FAILED, error=error[:500]
    )


def problem_notices(*, problem: Problem, limit: int = 200) -> list[ProblemNotice]:
    """The problem's notices, newest first, with their customer and who sent them."""
    return list(
        ProblemNotice.objects.filter(problem=problem)
        .select_related("customer", "sent_by", "wrote_after")
        .order_by("-id")[:limit]
    )


def problem_followers(*, problem: Problem, limit: int = 200) -> list[ProblemFollower]:
    """The problem's followers, newest first, with their customer."""
    return list(
        ProblemFollower.objects.filter(problem=problem)
        .select_related("customer")
        .order_by("-id")[:limit]
    )


# --- the banner -----------------------------------------------------------------------------


@transaction.atomic
def problem_banner_set(
    *,
    problem: Problem,
    actor: User,
    public_title: str,
    public_summary: str,
    show_banner: bool,
) -> Problem:
    """What customers read of the problem, and whether the help centre and the contact form
    announce it (managers). A banner needs its public title and summary.
    Side effects: a `banner_changed` history row with before and after, and events on the linked
    cases — nothing when nothing changed."""
    require_manager(actor)
    problem = problem_lock(problem)
    wanted = {
        "public_title": clean_text(public_title, field="public_title", limit=200),
        "public_summary": clean_text(public_summary, field="public_summary", limit=2000),
        "show_banner": bool(show_banner),
    }
    if wanted["show_banner"] and not (wanted["public_title"] and wanted["public_summary"]):
        raise ProblemError("a banner needs its public title and summary", field="public_title")
    before = {
        name: getattr(problem, name) for name in wanted if getattr(problem, name) != wanted[name]
    }
    if not before:
        return problem
    for name in before:
        setattr(problem, name, wanted[name])
    problem.save(update_fields=[*before, "updated_at"])
    problem_change_record(
        problem=problem,
        actor=actor,
        change="banner_changed",
        data={
            "fields": sorted(before),
            "before": before,
            "after": {name: wanted[name] for name in before},
        },
    )
    return problem


def problems_announced() -> list[Problem]:
    """The problems announced on the public pages now, newest first. One query."""
    return list(
        Problem.objects.filter(show_banner=True, status__in=ANNOUNCED_STATUSES)
        .exclude(public_title="")
        .only("id", "public_title", "public_summary")
        .order_by("-id")[:BANNERS_MAX]
    )


def _customer_by_email(email: str) -> Customer | None:
    point = (
        ContactPoint.objects.filter(kind=ContactPoint.Kind.EMAIL, value=email)
        .select_related("customer")
        .first()
    )
    if point is None:
        return None
    customer = point.customer
    # A merged profile's survivor is the customer now.
    while customer.merged_into_id is not None:
        customer = Customer.objects.get(pk=customer.merged_into_id)
    return customer


@transaction.atomic
def problem_follow(
    *, problem_id: int, email: str, via: str, customer: Customer | None = None
) -> tuple[ProblemFollower, bool]:
    """A customer asks to be told when an announced problem is fixed (no login needed).
    Linked to the customer whose address it is, else to `customer` (the one signed in).
    The same address twice follows once. Returns the follower and whether it is new.
    Side effects: the follower; a `follower_added` history row (no case events: it is not a change
    to the problem)."""
    email = (email or "").strip().lower()
    if not email:
        raise KnownIssueRefused("give your email address", field="email")
    if len(email) > 320:
        raise KnownIssueRefused("that email address is too long", field="email")
    try:
        validate_email(email)
    except ValidationError as exc:
        raise KnownIssueRefused(f"'{email}' is not an email address", field="email") from exc
    if via not in ProblemFollower.Via.values:
        raise KnownIssueRefused(f"unknown way of following '{via}'", field="via")
    problem = (
        Problem.objects.filter(pk=problem_id, show_banner=True, status__in=ANNOUNCED_STATUSES)
        .exclude(public_title="")
        .first()
    )
    if problem is None:
        raise KnownIssueGone("this issue is no longer listed")
    known = _customer_by_email(email) or customer
    existing = ProblemFollower.objects.filter(problem=problem, email=email).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            follower = ProblemFollower.objects.create(
                problem=problem, customer=known, email=email, via=via
            )
    except IntegrityError:
        return ProblemFollower.objects.get(problem=problem, email=email), False
    ProblemChange.objects.create(
        problem=problem,
        actor=None,
        kind="follower_added",
        data={"follower": follower.pk, "customer": known.pk if known else None, "via": via},
    )
    return follower, True


class _Announced:
    """The known-issue contract, as the public pages read it."""

    def current(self) -> list[KnownIssue]:
        return [
            KnownIssue(id=p.pk, title=p.public_title, summary=p.public_summary)
            for p in problems_announced()
        ]

    def follow(self, *, issue_id: int, email: str, via: str, customer_id: int | None) -> bool:
        customer = (
            Customer.objects.filter(pk=customer_id).first() if customer_id is not None else None
        )
        return problem_follow(problem_id=issue_id, email=email, via=via, customer=customer)[1]


# --- the fix reaches the followers ----------------------------------------------------------


def follower_fix_render(*, problem: Problem, customer_name: str, language: str = "") -> str:
    with language_override(language):
        values = {
            "customer_name": customer_name or gettext("there"),
            "subject": problem.public_title or gettext("the issue you followed"),
            "fix": problem.permanent_fix,
        }
        return gettext(FOLLOWER_FIX_NOTICE).format_map(values).strip()


def follower_fix_findings(*, problem: Problem) -> list[Any]:
    """The reply coach's findings that hold the followers' fix notice (none when nobody
    waits for it)."""
    if not ProblemFollower.objects.filter(problem=problem, fix_sent_at__isnull=True).exists():
        return []
    text = follower_fix_render(problem=problem, customer_name="")
    return [f for f in coach_check(text=text) if f.blocks]


def followers_fix_record(*, problem: Problem, stamp: int) -> int:
    """Inside the publication's transaction: one outbox effect per follower not yet told
    (`problem_follower_fix_mail`). Returns how many."""
    ids = list(
        ProblemFollower.objects.filter(problem=problem, fix_sent_at__isnull=True)
        .order_by("id")
        .values_list("id", flat=True)
    )
    outbox.effects_record(
        [
            outbox.Effect(
                kind=FOLLOWER_FIX_EFFECT,
                payload={"follower": pk},
                key=f"{FOLLOWER_FIX_EFFECT}:{pk}:{stamp}",
            )
            for pk in ids
        ]
    )
    return len(ids)


def problem_follower_fix_mail(payload: dict[str, Any]) -> None:
    """Outbox effect: mail one follower that the fix is out. A follower already told is
    skipped, so each is told once. Side effects: the email; `fix_sent_at`."""
    follower = (
        ProblemFollower.objects.select_for_update(of=("self",))
        .select_related("problem", "customer")
        .filter(pk=payload["follower"])
        .first()
    )
    if follower is None or follower.fix_sent_at is not None:
        return
    problem = follower.problem
    name = follower.customer.name if follower.customer is not None else ""
    language = follower.customer.language if follower.customer is not None else ""
    with language_override(language):
        subject = gettext("Fixed: %(title)s · %(desk)s") % {
            "title": problem.public_title or gettext("the issue you followed"),
            "desk": _desk_name(),
        }
    EmailMessage(
        subject=subject,
        body=follower_fix_render(problem=problem, customer_name=name, language=language) + "\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[follower.email],
    ).send(fail_silently=False)
    follower.fix_sent_at = timezone.now()
    follower.save(update_fields=["fix_sent_at"])


# The outbox runs these effects; the public pages read the announced problems.
outbox.effect_type_register(NOTICE_MAIL_EFFECT, problem_notice_mail, give_up=problem_notice_failed)
outbox.effect_type_register(FOLLOWER_FIX_EFFECT, problem_follower_fix_mail)
known_issues_register(_Announced())
