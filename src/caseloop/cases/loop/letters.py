"""The loop's messages to the customer as letters: a greeting by name, the text, and a
signature naming the person who owns the case and the desk."""

from __future__ import annotations

from contextlib import AbstractContextManager

from django.utils.translation import gettext

from caseloop.accounts.models import DeskIdentity, User
from caseloop.cases.models import Case
from caseloop.lib.language import language_override


def letter_greeting(*, case: Case) -> str:
    name = (case.customer.name or "").strip()
    return gettext("Hi %(name)s,") % {"name": name} if name else gettext("Hi there,")


def letter_signature(*, agent: User | None) -> str:
    """Signed with `agent`'s own signature, else by name for the desk; by the desk's team
    when no agent speaks."""
    desk = DeskIdentity.current().name
    if agent is not None and agent.is_agent_like and agent.signature.strip():
        return agent.signature.strip()
    if agent is not None and agent.is_agent_like:
        return gettext("Best regards,\n%(name)s\n%(desk)s") % {
            "name": agent.display_name,
            "desk": desk,
        }
    return gettext("Best regards,\nThe %(desk)s team") % {"desk": desk}


def letter_compose(*, case: Case, agent: User | None, body: str) -> str:
    """`body` between the greeting of the case's customer and `agent`'s signature, in the
    customer's language (callers write `body` inside `letter_language`)."""
    with letter_language(case=case):
        greeting, signature = letter_greeting(case=case), letter_signature(agent=agent)
    return f"{greeting}\n\n{body.strip()}\n\n{signature}"


def letter_language(*, case: Case) -> AbstractContextManager[str]:
    """Write what is inside in the language of the case's customer."""
    return language_override(case.customer.language)
