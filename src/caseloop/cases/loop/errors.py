"""Errors of the loop; each becomes a clear 4xx through the API's DomainError handler."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from caseloop.cases.errors import CaseError
from caseloop.lib.errors import ErrorKind


class LoopError(CaseError):
    code = "loop_error"
    kind = ErrorKind.INVALID


class HandoffIncomplete(LoopError):
    """An escalation refused because facts every hand-off needs are missing."""

    code = "handoff_incomplete"
    kind = ErrorKind.INVALID

    def __init__(self, missing: list[dict[str, Any]]) -> None:
        self.missing = missing
        self.payload = {"missing": missing}
        labels = ", ".join(str(item["label"]) for item in missing)
        super().__init__(_("the hand-off is missing: %(facts)s") % {"facts": labels})


class RemedyNotAuthorised(LoopError):
    """A remedy beyond the authority of the agent who checked it, not approved by anyone who
    may grant it: the case cannot be solved with it yet. Names who could approve it."""

    code = "remedy_not_authorised"
    # Not the caller's permission but the loop's order: approval comes before solving.
    kind = ErrorKind.CONFLICT

    def __init__(
        self,
        message: str,
        *,
        remedy: str,
        amount: str | None,
        currency: str | None,
        approvers: list[str],
        nobody: bool,
    ) -> None:
        self.approvers = approvers
        self.payload = {
            "remedy": remedy,
            "amount": amount,
            "currency": currency,
            "approvers": approvers,
            "nobody": nobody,
        }
        super().__init__(message)


class LoopStateError(LoopError):
    """The step does not fit where the case is in the loop (e.g. consent on a draft plan)."""

    code = "loop_state_conflict"
    kind = ErrorKind.CONFLICT


class LinkInvalid(LoopError):
    """A signed link that was altered or not made by this desk."""

    code = "link_invalid"
    kind = ErrorKind.MALFORMED


class LinkExpired(LoopError):
    code = "link_expired"
    kind = ErrorKind.GONE
