from datetime import timedelta

from django import template

from caseloop.cases.events import choice_label
from caseloop.cases.models import Channel

register = template.Library()


@register.filter
def words(value: str) -> str:
    """`status_changed` → `status changed`."""
    return str(value or "").replace("_", " ").replace(".", " ")


# How a reply reaches the customer, by the channel it goes out on.
REPLY_HOW = {
    "email": "by email",
    "web": "by email",  # a web form has no way back: its replies go by email
    "chat": "in the live chat",
    "phone": "by phone",
    "social": "on social media",
}


@register.filter
def reply_how(channel: str) -> str:
    """`email` → `by email`: how a reply on `channel` reaches the customer."""
    if str(channel) in REPLY_HOW:
        return REPLY_HOW[str(channel)]
    return f"on {choice_label(Channel, channel)}"


@register.filter
def duration(value) -> str:
    """A timedelta as '3d 4h', '2h 5m' or '7m'."""
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {mins}m"
    return f"{mins}m"


@register.filter
def seconds(value) -> str:
    """A number of seconds as '3d 4h', '2h 5m' or '7m'; '' for none."""
    if value is None or value == "":
        return ""
    return duration(timedelta(seconds=int(value)))
