"""Stage 4, gathering data: the facts a hand-off needs, and links to records, documents
and other cases."""

from __future__ import annotations

from django.db import transaction

from caseloop.accounts.models import User
from caseloop.cases.models import (
    Attachment,
    Case,
    CaseLink,
    Fact,
)
from caseloop.cases.services import _ensure_owner, event_record
from caseloop.customers.models import PurchaseRecord

from . import selectors
from .errors import LoopError
from .events import LoopEvent
from .guards import case_locked as _locked, is_staff as _staff

# --- 4. Facts and links ------------------------------------------------------------------


@transaction.atomic
def fact_record(
    *, case: Case, key: str, value: str, actor: User | None, source: str = Fact.Source.AGENT
) -> Fact:
    """Record a fact (a newer value for a key supersedes the older one, which is kept).
    `key` may be the fact's key or its label as the checklist shows it ("Date and time of
    the problem"); a fact the case does not ask for is kept under a key made of its name
    (see `selectors.fact_key_for`). Side effects: a `fact_recorded` event with the value
    before and after."""
    if source not in Fact.Source.values:
        raise LoopError(f"unknown fact source '{source}'")
    name = (key or "").strip()
    key = selectors.fact_key_for(case=case, name=name)
    if not key:
        raise LoopError(
            f"name the fact in letters or digits, e.g. 'Serial number' (not '{name}')"
            if name
            else "say which fact this is"
        )
    value = (value or "").strip()
    if not value:
        raise LoopError(f"the value of '{name}' is empty")
    case = _locked(case)
    before = Fact.objects.filter(case=case, key=key).order_by("-id").first()
    fact = Fact.objects.create(
        case=case,
        key=key,
        value=value[:5000],
        source=source,
        recorded_by=actor if _staff(actor) else None,
    )
    _ensure_owner(case=case, actor=actor)
    event_record(
        case=case,
        actor=actor,
        kind=LoopEvent.FACT_RECORDED,
        data={"key": key, "before": before.value if before else None, "after": fact.value},
    )
    return fact


@transaction.atomic
def case_link_add(
    *,
    case: Case,
    kind: str,
    actor: User,
    purchase: PurchaseRecord | None = None,
    linked_case: Case | None = None,
    attachment: Attachment | None = None,
    article_ref: str = "",
    url: str = "",
    note: str = "",
) -> CaseLink:
    """Link the case to a record. Purchases must be the customer's; attachments the case's.
    Side effects: a `link_added` event."""
    case = _locked(case)
    if kind not in CaseLink.Kind.values:
        raise LoopError(f"unknown link kind '{kind}'")
    link = CaseLink(case=case, kind=kind, note=(note or "")[:500], created_by=actor)
    if kind == CaseLink.Kind.PURCHASE:
        if purchase is None or purchase.customer_id != case.customer_id:
            raise LoopError("link one of this customer's purchases")
        link.purchase = purchase
    elif kind == CaseLink.Kind.CASE:
        if linked_case is None or linked_case.pk == case.pk:
            raise LoopError("link another case")
        link.linked_case = linked_case
    elif kind == CaseLink.Kind.ATTACHMENT:
        if attachment is None or attachment.case_id != case.pk:
            raise LoopError("link one of this case's attachments")
        link.attachment = attachment
    elif kind == CaseLink.Kind.ARTICLE:
        if not (article_ref or url):
            raise LoopError("give the article's id or URL")
        link.article_ref, link.url = article_ref[:100], url[:1000]
    else:
        if not url.startswith(("http://", "https://")):
            raise LoopError("give an http(s) URL")
        link.url = url[:1000]
    link.save()
    event_record(
        case=case,
        actor=actor,
        kind=LoopEvent.LINK_ADDED,
        data={"link": link.pk, "kind": kind, "ref": selectors.link_ref(link)},
    )
    return link
