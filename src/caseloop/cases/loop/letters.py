"""The loop's messages to the customer as letters: a greeting by name, the text, and a
signature naming the person who owns the case and the desk."""

from __future__ import annotations

from caseloop.accounts.models import DeskIdentity, User
from caseloop.cases.models import Case


def letter_greeting(*, case: Case) -> str:
    name = (case.customer.name or "").strip()
    return f"Hi {name}," if name else "Hi there,"


def letter_signature(*, agent: User | None) -> str:
    """Signed with `agent`'s own signature, else by name for the desk; by the desk's team
    when no agent speaks."""
    desk = DeskIdentity.current().name
    if agent is not None and agent.is_agent_like and agent.signature.strip():
        return agent.signature.strip()
    if agent is not None and agent.is_agent_like:
        return f"Best regards,\n{agent.display_name}\n{desk}"
    return f"Best regards,\nThe {desk} team"


def letter_compose(*, case: Case, agent: User | None, body: str) -> str:
    """`body` between the greeting of the case's customer and `agent`'s signature."""
    return f"{letter_greeting(case=case)}\n\n{body.strip()}\n\n{letter_signature(agent=agent)}"
