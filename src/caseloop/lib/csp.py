"""A strict Content-Security-Policy on every response.

Pages load script, style, fonts and frames from the desk's own origin only (no inline
script or style: STYLE.md), images from it or `data:`, and talk to it over fetch and
WebSockets; nobody may frame them, and forms post only back to the desk.

A view may set its own policy. One with `default-src` is complete and kept as it is (a
download's sandbox); one without is completed from the default, its own directives winning
(the embeddable web form names the sites that may frame it in `frame-ancestors`).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

HEADER = "Content-Security-Policy"
DEFAULT_POLICY: dict[str, str] = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self' ws: wss:",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "object-src": "'none'",
}


def policy_parse(header: str) -> dict[str, str]:
    """{directive: sources} of a policy header; the first of a repeated directive counts,
    as in browsers."""
    directives: dict[str, str] = {}
    for part in header.split(";"):
        name, _, sources = part.strip().partition(" ")
        if name:
            directives.setdefault(name.lower(), sources.strip())
    return directives


def policy_format(directives: dict[str, str]) -> str:
    return "; ".join(f"{name} {sources}".strip() for name, sources in directives.items())


def policy_for(existing: str) -> str:
    """The policy a response goes out with, given the one its view set ("" for none)."""
    own = policy_parse(existing)
    if "default-src" in own:
        return existing
    return policy_format({**DEFAULT_POLICY, **own})


DEFAULT_HEADER = policy_format(DEFAULT_POLICY)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response[HEADER] = policy_for(response.get(HEADER, ""))
        return response
