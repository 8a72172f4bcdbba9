"""`{% desk_name %}`: the desk's name for templates rendered outside a request (emails),
where the `desk` context processor does not run."""

from __future__ import annotations

from django import template

from caseloop.accounts.models import DeskIdentity

register = template.Library()


@register.simple_tag
def desk_name() -> str:
    return DeskIdentity.current().name
