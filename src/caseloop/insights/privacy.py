"""Privacy requests about one customer: an export of everything the desk holds about them
(the right of access) and an erasure that redacts their personal data everywhere while
every case's append-only event chain stays whole (the right to erasure).

Both are for managers and admins; the HTTP edges may narrow that further."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from caseloop.accounts.models import Role, User
from caseloop.cases.events import EventNames, event_kind
from caseloop.cases.models import Attachment, Case, CaseEvent, Fact, Message, ProblemStatement
from caseloop.cases.services import event_record
from caseloop.customers.models import Customer, CustomerEvent
from caseloop.knowledge.search import message_index

from .models import (
    NpsResponse,
    ProblemFollower,
    ProblemNotice,
    SatisfactionRating,
    SurveyInvitation,
)

ERASED = "[erased]"
PRIVACY_ROLES = frozenset({Role.MANAGER, Role.ADMIN})


def _erased_described(event: CaseEvent, names: EventNames) -> str:
    counts = ", ".join(f"{key} {value}" for key, value in sorted(event.data.items()) if value)
    return f"Customer's personal data erased ({counts})" if counts else "Customer data erased"


CUSTOMER_ERASED = event_kind(
    "customer_erased", gettext_lazy("Customer's personal data erased"), describe=_erased_described
)


def erased_name(customer: Customer) -> str:
    return f"Erased customer #{customer.pk}"


def _check_actor(actor: User) -> None:
    if getattr(actor, "role", None) not in PRIVACY_ROLES:
        raise PermissionDenied("privacy requests are for managers and admins")


def _when(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _attachment_url(attachment: Attachment) -> str:
    try:
        return reverse(
            "web:case_attachment",
            kwargs={"case_id": attachment.case_id, "attachment_id": attachment.pk},
        )
    except NoReverseMatch:
        return ""


def customer_export(*, customer: Customer, actor: User) -> dict[str, Any]:
    """Everything the desk holds about `customer`, as one JSON-ready dict: the profile,
    contact points, purchases, cases with their messages and attachments, satisfaction
    ratings, recommendation (NPS) answers, survey invitations, recurring-problem follows
    and notices, and the profile's history.

    Internal notes are included: they are personal data about the customer (what the desk
    wrote about them), which the right of access covers; whoever hands the file over can
    still withhold a note that names a third party. Each message says its direction, so a
    note reads as one. Managers and admins only (PermissionDenied otherwise).
    Side effects: none; reads only."""
    _check_actor(actor)
    cases = list(
        Case.objects.filter(customer=customer)
        .select_related("category")
        .prefetch_related("tags", "messages__attachments")
        .order_by("id")
    )
    return {
        "exported_at": timezone.now().isoformat(),
        "exported_by": actor.pk,
        "customer": {
            "id": customer.pk,
            "name": customer.name,
            "language": customer.language,
            "is_vip": customer.is_vip,
            "notes": customer.notes,
            "organization": customer.organization.name if customer.organization else None,
            "created_at": _when(customer.created_at),
        },
        "contact_points": [
            {"kind": p.kind, "value": p.value, "is_primary": p.is_primary}
            for p in customer.contact_points.order_by("id")
        ],
        "purchases": [
            {
                "order_id": p.order_id,
                "product": p.product,
                "purchased_at": _when(p.purchased_at),
                "amount": str(p.amount),
                "currency": p.currency,
            }
            for p in customer.purchases.order_by("id")
        ],
        "cases": [_case_export(case) for case in cases],
        "satisfaction_ratings": [
            {
                "case": r.case.reference,
                "score": r.score,
                "comment": r.comment,
                "channel": r.channel,
                "created_at": _when(r.created_at),
            }
            for r in SatisfactionRating.objects.filter(customer=customer)
            .select_related("case")
            .order_by("id")
        ],
        "nps_answers": [
            {
                "case": r.case.reference if r.case else None,
                "score": r.score,
                "comment": r.comment,
                "channel": r.channel,
                "created_at": _when(r.created_at),
            }
            for r in NpsResponse.objects.filter(customer=customer)
            .select_related("case")
            .order_by("id")
        ],
        "surveys": [
            {
                "case": s.case.reference if s.case else None,
                "state": s.state,
                "channel": s.channel,
                "send_at": _when(s.send_at),
                "sent_at": _when(s.sent_at),
                "answered_at": _when(s.answered_at),
            }
            for s in SurveyInvitation.objects.filter(customer=customer)
            .select_related("case")
            .order_by("id")
        ],
        "problem_follows": [
            {
                "problem": f.problem.number,
                "email": f.email,
                "via": f.via,
                "created_at": _when(f.created_at),
                "fix_sent_at": _when(f.fix_sent_at),
            }
            for f in ProblemFollower.objects.filter(customer=customer)
            .select_related("problem")
            .order_by("id")
        ],
        "problem_notices": [
            {
                "problem": n.problem.number,
                "reason": n.reason,
                "address": n.address,
                "text": n.text,
                "state": n.state,
                "created_at": _when(n.created_at),
                "sent_at": _when(n.sent_at),
            }
            for n in ProblemNotice.objects.filter(customer=customer)
            .select_related("problem")
            .order_by("id")
        ],
        "events": [
            {"kind": e.kind, "data": e.data, "created_at": _when(e.created_at)}
            for e in customer.events.order_by("id")
        ],
    }


def _case_export(case: Case) -> dict[str, Any]:
    return {
        "reference": case.reference,
        "subject": case.subject,
        "status": case.status,
        "channel": case.channel,
        "priority": case.priority,
        "category": case.category.name if case.category else None,
        "tags": sorted(tag.name for tag in case.tags.all()),
        "created_at": _when(case.created_at),
        "solved_at": _when(case.solved_at),
        "closed_at": _when(case.closed_at),
        "messages": [
            {
                "direction": m.direction,
                "channel": m.channel,
                "text": m.text,
                "created_at": _when(m.created_at),
                "attachments": [
                    {
                        "filename": a.filename,
                        "size": a.size,
                        "content_type": a.content_type,
                        "url": _attachment_url(a),
                    }
                    for a in m.attachments.all()
                ],
            }
            for m in case.messages.all()
        ],
    }


@transaction.atomic
def customer_erase(*, customer: Customer, actor: User, reason: str) -> dict[str, int]:
    """Redact `customer`'s personal data everywhere, keeping the records (and every case's
    event chain) whole: the name becomes "Erased customer #<id>", notes and organization go,
    contact points are deleted; purchases keep amount and date but lose order and product;
    the subjects of their cases, the text of every message on them (notes included) and the
    customer's own words and facts become "[erased]", with HTML, raw source and metadata
    (addresses, headers) emptied; attachment files are deleted and their rows kept as
    "[erased]"; rating and NPS comments are emptied; problem follows and notices lose their
    address; a portal login is deactivated and scrubbed; the profile's own history keeps its
    kinds and times but not what they recorded. Search indexes follow (the subject index's
    triggers and the message index are updated in this transaction).

    Idempotent: only what is not yet redacted is counted and touched, so a second run
    records nothing. Returns the counts. Managers and admins only (PermissionDenied).
    Side effects: a `customer_erased` event on each case something was redacted on (counts
    only, never the data), and an `erased` CustomerEvent on the profile."""
    _check_actor(actor)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    case_ids = list(Case.objects.filter(customer=customer).values_list("id", flat=True))
    per_case: dict[int, dict[str, int]] = {pk: {} for pk in case_ids}

    def bump(case_id: int, key: str, n: int = 1) -> None:
        per_case[case_id][key] = per_case[case_id].get(key, 0) + n

    for case_id in (
        Case.objects.filter(pk__in=case_ids).exclude(subject=ERASED).values_list("id", flat=True)
    ):
        bump(case_id, "subject")
    Case.objects.filter(pk__in=case_ids).exclude(subject=ERASED).update(subject=ERASED)

    messages = Message.objects.filter(case_id__in=case_ids).exclude(
        text=ERASED, html="", raw="", metadata={}, delivery_error=""
    )
    message_rows = list(messages.values_list("id", "case_id"))
    for _, case_id in message_rows:
        bump(case_id, "messages")
    Message.objects.filter(pk__in=[pk for pk, _ in message_rows]).update(
        text=ERASED, html="", raw="", metadata={}, delivery_error=""
    )
    for pk, _ in message_rows:
        message_index(message_id=pk)

    for attachment in Attachment.objects.filter(case_id__in=case_ids).exclude(
        filename=ERASED, file=""
    ):
        if attachment.file:
            attachment.file.delete(save=False)
        attachment.file = ""
        attachment.filename = ERASED
        attachment.content_id = ""
        attachment.save(update_fields=["file", "filename", "content_id"])
        bump(attachment.case_id, "attachments")

    for fact in Fact.objects.filter(case_id__in=case_ids).exclude(value=ERASED):
        fact.value = ERASED
        fact.save(update_fields=["value"])
        bump(fact.case_id, "facts")
    for statement in ProblemStatement.objects.filter(case_id__in=case_ids).exclude(
        customer_words__in=("", ERASED), paraphrase__in=("", ERASED)
    ):
        statement.customer_words = ERASED if statement.customer_words else ""
        statement.paraphrase = ERASED if statement.paraphrase else ""
        statement.save(update_fields=["customer_words", "paraphrase"])
        bump(statement.case_id, "problem_statements")

    for rating in SatisfactionRating.objects.filter(customer=customer).exclude(comment=""):
        rating.comment = ""
        rating.save(update_fields=["comment"])
        if rating.case_id in per_case:
            bump(rating.case_id, "rating_comments")
    profile = {
        "nps_comments": NpsResponse.objects.filter(customer=customer)
        .exclude(comment="")
        .update(comment=""),
        "contact_points": customer.contact_points.all().delete()[0],
        "problem_follows": 0,
        "problem_notices": ProblemNotice.objects.filter(customer=customer)
        .exclude(address=ERASED)
        .update(address=ERASED, text=ERASED),
        "purchases": customer.purchases.exclude(product=ERASED).count(),
        "portal_logins": 0,
    }
    for follower in ProblemFollower.objects.filter(customer=customer).exclude(
        email__endswith="@erased.invalid"
    ):
        follower.email = f"follower-{follower.pk}@erased.invalid"
        follower.save(update_fields=["email"])
        profile["problem_follows"] += 1
    for purchase in customer.purchases.exclude(product=ERASED):
        purchase.order_id = f"erased-{purchase.pk}"
        purchase.product = ERASED
        purchase.save(update_fields=["order_id", "product"])
    for login in User.objects.filter(customer=customer, role=Role.CUSTOMER).exclude(
        username__startswith="erased-", is_active=False
    ):
        login.username = f"erased-{login.pk}"
        login.email = ""
        login.first_name = ""
        login.last_name = ""
        login.is_active = False
        login.set_unusable_password()
        login.save(
            update_fields=["username", "email", "first_name", "last_name", "is_active", "password"]
        )
        profile["portal_logins"] += 1

    # The profile's history keeps its kinds and times; what it recorded (contact
    # addresses, names) goes.
    profile["profile_history"] = (
        customer.events.exclude(kind="erased")
        .exclude(data={})
        .exclude(data={"erased": True})
        .update(data={"erased": True})
    )

    name = erased_name(customer)
    profile["profile"] = int(
        customer.name != name or bool(customer.notes) or customer.organization_id is not None
    )
    if profile["profile"]:
        customer.name = name
        customer.notes = ""
        customer.organization = None
        customer.save(update_fields=["name", "notes", "organization"])

    touched = Case.objects.in_bulk([pk for pk, counts in per_case.items() if counts])
    for case_id, case in sorted(touched.items()):
        event_record(case=case, kind=CUSTOMER_ERASED, actor=actor, data=per_case[case_id])
    totals = dict(profile)
    for counts in per_case.values():
        for key, n in counts.items():
            totals[key] = totals.get(key, 0) + n
    totals["cases"] = sum(1 for counts in per_case.values() if counts)
    if any(totals.values()):
        CustomerEvent.objects.create(
            customer=customer,
            actor=actor,
            kind="erased",
            data={"reason": reason[:500], "counts": {k: v for k, v in totals.items() if v}},
        )
    return totals
