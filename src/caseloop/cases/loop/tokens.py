"""Signed links sent to customers (confirm the problem, consent to a plan, confirm solved).

A token names one object and one answer, signed with the desk's key under a salt per
purpose and dated; an altered token is LinkInvalid (400), an old one LinkExpired (410).
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

from caseloop.cases.models import LoopSettings

from .errors import LinkExpired, LinkInvalid

PURPOSES = {
    "problem": "caseloop.loop.problem-confirmation",
    "plan": "caseloop.loop.plan-consent",
    "followup": "caseloop.loop.followup-answer",
    "request": "caseloop.loop.department-request",
}


def token_make(*, purpose: str, object_id: int, answer: str) -> str:
    return signing.dumps({"id": object_id, "a": answer}, salt=PURPOSES[purpose], compress=True)


def token_read(*, purpose: str, token: str, max_age_seconds: int | None = None) -> tuple[int, str]:
    """(object id, answer) from a token made for `purpose`; raises LinkInvalid/LinkExpired."""
    if max_age_seconds is None:
        max_age_seconds = LoopSettings.current().link_max_age_days * 86400
    try:
        data = signing.loads(token, salt=PURPOSES[purpose], max_age=max_age_seconds)
    except signing.SignatureExpired as exc:
        raise LinkExpired("this link has expired; please reply to us instead") from exc
    except signing.BadSignature as exc:
        raise LinkInvalid("this link is not valid; it may have been altered") from exc
    if not isinstance(data, dict) or not isinstance(data.get("id"), int):
        raise LinkInvalid("this link is not valid")
    return data["id"], str(data.get("a", ""))


def link_url(*, purpose: str, object_id: int, answer: str) -> str:
    token = token_make(purpose=purpose, object_id=object_id, answer=answer)
    return settings.SITE_URL + reverse(f"loop:{purpose}_answer", kwargs={"token": token})
