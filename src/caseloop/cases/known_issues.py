"""Known issues on the public pages: the help centre and the contact form show a banner for
each problem the desk has chosen to announce, where a customer can ask to be told when it is
fixed instead of writing in. The problems live in an outer app, which registers itself here
(`known_issues_register`); the public pages only read this contract.

Only what the desk wrote for customers crosses it: a public title and summary, never the
internal record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from caseloop.customers.models import ContactPoint
from caseloop.lib.errors import DomainError, ErrorKind, http_status_for

# Requests to follow an issue allowed per client address in the window: the contact form's
# default limit.
FOLLOW_LIMIT = 5
FOLLOW_WINDOW_SECONDS = 600


@dataclass(frozen=True)
class KnownIssue:
    id: int
    title: str
    summary: str


class KnownIssueRefused(DomainError):
    """The customer's request to follow a known issue was refused (a bad address, say)."""

    code = "known_issue_refused"
    kind = ErrorKind.INVALID

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)


class KnownIssueGone(KnownIssueRefused):
    """The issue is no longer announced (fixed, or its banner taken down)."""

    code = "known_issue_gone"
    kind = ErrorKind.NOT_FOUND


class KnownIssues(Protocol):
    def current(self) -> list[KnownIssue]: ...

    def follow(self, *, issue_id: int, email: str, via: str, customer_id: int | None) -> bool: ...


_source: list[KnownIssues] = []


def known_issues_register(source: KnownIssues) -> None:
    _source[:] = [source]


def known_issues_current() -> list[KnownIssue]:
    """The issues announced now, newest first (none when no app announces any)."""
    return _source[0].current() if _source else []


def known_issue_follow(*, issue_id: int, email: str, via: str, customer_id: int | None) -> bool:
    """Tell `email` when the issue is fixed; True when they were not following it yet.
    `via` is where they asked: help_centre, web_form or portal. Raises KnownIssueRefused
    (bad input) or KnownIssueGone."""
    if not _source:
        raise KnownIssueGone("this issue is no longer listed")
    return _source[0].follow(issue_id=issue_id, email=email, via=via, customer_id=customer_id)


def rate_limited_text(window_seconds: int) -> str:
    minutes = max(1, window_seconds // 60)
    return f"Too many requests from your address. Please try again in {minutes} minutes"


def known_issue_follow_from_page(
    *, issue_id: int, email: str, via: str, user: object, context: dict[str, Any]
) -> int:
    """A public page's "tell me when it's fixed": follow the issue as the signed-in portal
    customer (or by `email` alone, from `via`), and put the outcome in the page's `context`
    (`followed` and `created`, or the error beside the issue's banner when it is listed).
    Returns the HTTP status to answer with."""
    customer_id = signed_in_customer(user)
    try:
        created = known_issue_follow(
            issue_id=issue_id,
            email=email,
            via="portal" if customer_id is not None else via,
            customer_id=customer_id,
        )
    except KnownIssueRefused as exc:
        listed = any(issue.id == issue_id for issue in context.get("known_issues", []))
        context.update(
            follow_error_issue=issue_id if listed else None,
            follow_error=exc.summary(),
            follow_error_general="" if listed else exc.summary(),
        )
        return http_status_for(exc)
    context.update(followed=True, created=created)
    return 200


def signed_in_customer(user: object) -> int | None:
    """The customer profile of a signed-in portal customer, else None."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_customer", False):
        return None
    customer_id = getattr(user, "customer_id", None)
    return int(customer_id) if customer_id is not None else None


def known_issues_for_page(*, user: object) -> dict[str, Any]:
    """What a public page needs for its banners: the issues announced, and the address to
    prefill for a signed-in customer (one query for the issues, one more for the address
    when there are issues and a customer)."""
    issues = known_issues_current()
    email = ""
    customer_id = signed_in_customer(user) if issues else None
    if customer_id is not None:
        email = (
            ContactPoint.objects.filter(customer_id=customer_id, kind=ContactPoint.Kind.EMAIL)
            .order_by("-is_primary", "id")
            .values_list("value", flat=True)
            .first()
        ) or ""
    return {"known_issues": issues, "known_issue_email": email}
