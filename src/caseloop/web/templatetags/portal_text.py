"""Message text as the customer portal shows it.

The text is escaped; http(s) addresses in it become links that open no window reference
(`rel="noopener nofollow"`); every other scheme stays text. The desk's own signed action
links (confirm the summary, answer the plan, confirm solved, the survey) are not shown: the
portal offers those answers on the case page itself, and the link points there instead.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django import template
from django.conf import settings
from django.urls import Resolver404, resolve
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import normalize_newlines

register = template.Library()

URL = re.compile(r"\bhttps?://[^\s<>\"']+", re.IGNORECASE)
# Punctuation that ends a sentence rather than the address it follows.
TRAILING = ".,;:!?'\")]}"
# The page section of the portal's case page that answers each signed link.
ACTION_SECTIONS = {
    "loop:problem_answer": "summary",
    "loop:plan_answer": "plan",
    "loop:followup_answer": "solved",
    "web:survey_nps": "nps",
}


def _address_end(url: str) -> str:
    """`url` without the sentence punctuation after it; a closing bracket stays when the
    address opened one (a Wikipedia-style path)."""
    while url and url[-1] in TRAILING:
        closing = url[-1]
        opening = {")": "(", "]": "[", "}": "{"}.get(closing)
        if opening and url.count(opening) >= url.count(closing):
            break
        url = url[:-1]
    return url


def action_section(url: str) -> str:
    """The portal case page's section answering `url` when it is one of the desk's signed
    action links, else ''."""
    parts = urlsplit(url)
    if parts.netloc.lower() != urlsplit(settings.SITE_URL).netloc.lower():
        return ""
    try:
        match = resolve(parts.path)
    except Resolver404:
        return ""
    return ACTION_SECTIONS.get(match.view_name, "")


def _link(url: str) -> str:
    section = action_section(url)
    if section:
        return format_html('<a href="#{}">answer on this page</a>', section)
    return format_html('<a href="{}" rel="noopener nofollow">{}</a>', url, url)


@register.filter(is_safe=True)
def portal_text(text: str | None) -> SafeString:
    text = normalize_newlines(str(text or ""))
    pieces: list[str] = []
    done = 0
    for match in URL.finditer(text):
        url = _address_end(match.group(0))
        if not url or "://" not in url or url.endswith("://"):
            continue
        pieces.append(escape(text[done : match.start()]))
        pieces.append(_link(url))
        done = match.start() + len(url)
    pieces.append(escape(text[done:]))
    # Every piece is escaped or built by format_html.
    return mark_safe("".join(pieces).replace("\n", "<br>"))
