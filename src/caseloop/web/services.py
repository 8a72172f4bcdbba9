"""Writes for the agent workspace and the customer portal: saved views, bulk actions,
replies checked by the coach, and magic-link sign-in."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import formataddr, parseaddr
from typing import cast

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from caseloop.accounts.models import DeskIdentity, User
from caseloop.cases import services as case_services
from caseloop.cases.customer_users import customer_user_for
from caseloop.cases.errors import CaseError, CaseValidationError
from caseloop.cases.models import Case
from caseloop.customers.models import ContactPoint, Customer
from caseloop.lib.errors import ErrorKind
from caseloop.lib.language import language_override

from .models import MagicLink, SavedView

logger = logging.getLogger(__name__)

MAGIC_LINK_TTL = timedelta(minutes=30)


# -- saved views ------------------------------------------------------------------------


@transaction.atomic
def saved_view_save(*, user, name: str, query: str) -> SavedView:
    """Save (or replace) the agent's named view of the inbox."""
    name = (name or "").strip()[:80]
    if not name:
        raise CaseValidationError("a saved view needs a name", field="name")
    view, _ = SavedView.objects.update_or_create(
        user=user, name=name, defaults={"query": (query or "").lstrip("?")[:1000]}
    )
    return view


def saved_view_delete(*, user, view_id: int) -> int:
    return SavedView.objects.filter(user=user, pk=view_id).delete()[0]


# -- bulk actions -----------------------------------------------------------------------


@dataclass
class BulkResult:
    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def bulk_apply(*, actor, case_ids: list[int], action: str, value: str = "") -> BulkResult:
    """Apply one action to many cases through the case services, one transaction per case
    so a refusal on one case (e.g. a disallowed transition) never blocks the others.
    Actions: assign (agent id), status (target), tag (names, comma-separated), merge (all
    into the oldest selected)."""
    result = BulkResult()
    cases = list(Case.objects.filter(pk__in=case_ids).order_by("id"))
    if not cases:
        raise CaseValidationError("select at least one case", field="cases")
    if action == "merge":
        if len(cases) < 2:
            raise CaseValidationError("select two or more cases to merge", field="cases")
        target, sources = cases[0], cases[1:]
        for source in sources:
            try:
                case_services.case_merge(source=source, target=target, actor=actor)
                result.done.append(f"{source.reference} → {target.reference}")
            except CaseError as exc:
                result.failed.append(f"{source.reference}: {exc}")
        return result
    assignee = None
    if action == "assign":
        assignee = User.objects.filter(pk=int(value) if value.isdigit() else 0).first()
        if assignee is None or not assignee.is_agent_like:
            raise CaseValidationError("choose an agent to assign to", field="value")
    elif action == "tag":
        names = [name.strip() for name in value.split(",") if name.strip()]
        if not names:
            raise CaseValidationError("give at least one tag", field="value")
    elif action != "status":
        raise CaseValidationError(f"unknown bulk action '{action}'", field="action")
    for case in cases:
        try:
            if action == "assign":
                with transaction.atomic():
                    if case.owner_id is None:
                        case_services.case_transfer_ownership(
                            case=case, to_user=assignee, actor=actor, reason="assigned in bulk"
                        )
                    case_services.case_update(
                        case=case, actor=actor, assignee=assignee, reason="assigned in bulk"
                    )
            elif action == "status":
                case_services.case_transition(case=case, to=value, actor=actor)
            else:
                case_services.case_tags_add(case=case, names=names, actor=actor)
            result.done.append(case.reference or "")
        except CaseError as exc:
            result.failed.append(f"{case.reference}: {exc}")
    return result


# -- the portal's magic links -----------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _from_desk(desk: str) -> str:
    """The sender of the desk's own mail: DEFAULT_FROM_EMAIL, named after the desk unless
    it names itself."""
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return settings.DEFAULT_FROM_EMAIL if name or not address else formataddr((desk, address))


def magic_link_request(*, email: str, base_url: str = "") -> bool:
    """Email a sign-in link when `email` is a contact point of a customer. Returns whether
    one was sent; callers must answer the same either way so addresses are not revealed.
    Side effects: a MagicLink row, then an email."""
    email = (email or "").strip().lower()
    point = (
        ContactPoint.objects.select_related("customer")
        .filter(kind=ContactPoint.Kind.EMAIL, value=email)
        .first()
    )
    if point is None:
        return False
    customer = point.customer
    while customer.merged_into_id:
        customer = cast(Customer, customer.merged_into)
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        MagicLink.objects.create(
            customer=customer,
            email=email,
            digest=_digest(token),
            expires_at=timezone.now() + MAGIC_LINK_TTL,
        )
        url = (base_url or settings.SITE_URL).rstrip("/") + reverse("web:portal_link", args=[token])
        minutes = int(MAGIC_LINK_TTL.total_seconds() // 60)
        desk = DeskIdentity.current().name
        with language_override(customer.language):
            values = {
                "name": customer.name or gettext("there"),
                "desk": desk,
                "url": url,
                "minutes": minutes,
            }
            body = (
                gettext(
                    "Hello %(name)s,\n\n"
                    "Use this link to sign in to your cases with %(desk)s:\n\n%(url)s\n\n"
                    "It works once and expires in %(minutes)s minutes. If you did not ask for it, "
                    "you can ignore this email.\n\nThe %(desk)s team"
                )
                % values
            )
            subject = gettext("Your %(desk)s sign-in link") % values
    # Sent once the link row is stored. A failing mail setup is logged, never shown: an
    # error only for known addresses would reveal which addresses are customers.
    try:
        send_mail(
            subject,
            body,
            _from_desk(desk),
            [email],
        )
    except Exception:  # noqa: BLE001
        logger.exception("sending a portal sign-in link failed")
    return True


class LinkRefused(CaseError):
    code = "sign_in_link_refused"
    kind = ErrorKind.MALFORMED


@transaction.atomic
def magic_link_redeem(*, token: str) -> User:
    """Use a sign-in link: once, before it expires. Returns the customer's user, linked to
    the profile by the address the link proved (`cases.customer_users.customer_user_for`).
    Side effects: the link is marked used; maybe a new or newly linked customer User."""
    link = (
        MagicLink.objects.select_for_update()
        .select_related("customer")
        .filter(digest=_digest(token or ""))
        .first()
    )
    if link is None or link.used_at is not None:
        raise LinkRefused("this sign-in link is not valid or was already used")
    if link.expires_at <= timezone.now():
        raise LinkRefused("this sign-in link has expired; ask for a new one")
    link.used_at = timezone.now()
    link.save(update_fields=["used_at"])
    # Redeeming the link proves the customer reads mail at the address: a verified email.
    return customer_user_for(customer=link.customer, email=link.email)
