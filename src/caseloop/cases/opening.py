"""Opening a case on request (the API's `POST /cases`): who it is for, exactly once per
idempotency key."""

from __future__ import annotations

from dataclasses import dataclass

from caseloop.accounts.models import User
from caseloop.customers.errors import InvalidContactPoint
from caseloop.customers.models import Customer
from caseloop.customers.services import Identity, customer_find_or_create
from caseloop.lib.errors import ErrorKind
from caseloop.lib.idempotency import idempotent

from . import outbox
from .errors import CaseError, CaseValidationError
from .models import Case, Category, IdempotencyKey
from .services import case_create


class AccountNotLinked(CaseError):
    """A customer account with no customer profile cannot open cases."""

    code = "account_not_linked"
    kind = ErrorKind.FORBIDDEN


@dataclass(frozen=True)
class CaseRequest:
    subject: str
    text: str
    html: str = ""
    channel: str = "web"
    priority: str = "normal"
    category: Category | None = None
    # For agents: whom the case is for. A customer opens cases for themselves.
    customer: Identity | None = None


def case_open_requested(
    *, requester: User, request: CaseRequest, idempotency_key: str = ""
) -> tuple[Case, bool]:
    """Open the requested case, or, when `idempotency_key` was used before by `requester`,
    return the case that first request opened. Returns (case, opened now). The customer is
    found or created in the same transaction as the case.
    Side effects: those of `customer_find_or_create` and `case_create`; the key is kept."""
    key = idempotency_key.strip()[:200]

    def open_now() -> tuple[Case, bool]:
        case = case_create(
            customer=_customer_for(requester=requester, identity=request.customer),
            subject=request.subject,
            text=request.text,
            html=request.html,
            channel=request.channel,
            actor=requester if requester.is_agent_like else None,
            priority=request.priority,
            category=request.category,
        )
        if key:
            IdempotencyKey.objects.create(user=requester, key=key, case=case)
        return case, True

    return idempotent(
        seen=IdempotencyKey.objects.filter(user=requester, key=key).select_related("case")
        if key
        else None,
        replay=_resumed,
        perform=open_now,
    )


def _resumed(earlier: IdempotencyKey) -> tuple[Case, bool]:
    """A retried create: the case exists; whatever of its side effects is still pending
    (the first request's process died, say) is handed to the dispatcher again."""
    outbox.dispatch_soon(outbox.pending_for_case(case_id=earlier.case_id))
    return earlier.case, False


def _customer_for(*, requester: User, identity: Identity | None) -> Customer:
    if requester.is_customer:
        if requester.customer is None:
            raise AccountNotLinked("this account is not linked to a customer")
        return requester.customer
    try:
        return customer_find_or_create(identity=identity or Identity(), actor=requester)
    except InvalidContactPoint as exc:
        raise CaseValidationError(str(exc), field=f"customer.{exc.kind}") from exc
