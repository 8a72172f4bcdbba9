from datetime import timedelta

from django import template

register = template.Library()


@register.filter
def words(value: str) -> str:
    """`status_changed` → `status changed`."""
    return str(value or "").replace("_", " ").replace(".", " ")


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
