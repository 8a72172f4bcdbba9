"""Errors of the loop; each becomes a clear 4xx through the API's CaseError handler."""

from __future__ import annotations

from caseloop.cases.errors import CaseError


class LoopError(CaseError):
    status_code = 422


class HandoffIncomplete(LoopError):
    """An escalation refused because facts every hand-off needs are missing."""

    status_code = 422

    def __init__(self, missing: list[dict]) -> None:
        self.missing = missing
        self.payload = {"missing": missing}
        labels = ", ".join(item["label"] for item in missing)
        super().__init__(f"the hand-off is missing: {labels}")


class LoopStateError(LoopError):
    """The step does not fit where the case is in the loop (e.g. consent on a draft plan)."""

    status_code = 409


class LinkInvalid(LoopError):
    """A signed link that was altered or not made by this desk."""

    status_code = 400


class LinkExpired(LoopError):
    status_code = 410
