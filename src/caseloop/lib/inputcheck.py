"""Refuse request input that cannot reach the database or the parsers intact.

`InputCheckMiddleware` looks at every request before its view: the path, the query string,
a form body (urlencoded or multipart, not the files' bytes) and a JSON body. It refuses

- text no database can store — U+0000 (PostgreSQL refuses it in text and jsonb) or an
  unpaired surrogate (no UTF-8 for it), sent raw, percent-encoded or as a JSON escape
  ("\\u0000", "\\ud800");
- JSON nested deeper than `settings.MAX_JSON_DEPTH`, before anything parses it (deep
  nesting is a RecursionError in the JSON and schema parsers).

The API (and any request that sent JSON) gets 422 with the API's error shape,
`{"detail", "code", "field"}`; pages get 400. Nothing is stripped silently here: a client
learns what it sent wrong. Text from channels (mail, chat, webhooks' inner fields) is
cleaned instead, by the intake (`text_clean`), since no one is there to resend it.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict, RawPostDataException
from django.http.multipartparser import MultiPartParserError

from .errors import DomainError, ErrorKind, http_status_for
from .text import text_fault

# Requests under these paths are the JSON API: refusals answer in its error shape.
JSON_PATH_PREFIXES = ("/api/",)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
V = TypeVar("V", bound=Callable[..., Any])


class InputRefused(DomainError):
    """Request input the desk will not take; the summary says what and where."""

    code = "input_refused"
    kind = ErrorKind.INVALID

    def __init__(self, message: str, *, field: str = "") -> None:
        self.field = field
        super().__init__(message)


class TextUnstorable(InputRefused):
    code = "text_unstorable"


class JsonTooDeep(InputRefused):
    code = "json_too_deep"


class FormUnreadable(InputRefused):
    code = "form_unreadable"
    kind = ErrorKind.MALFORMED


# A JSON string, unrolled so long strings (base64 attachments) scan at C speed.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
# An escape that may decode to a NUL or a surrogate; only then is the body decoded to look.
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


def json_depth_exceeds(data: bytes, limit: int) -> bool:
    """Whether the JSON text `data` nests arrays and objects deeper than `limit`, counting
    brackets outside strings. Cheap: stops at the first level past the limit."""
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    brackets = _JSON_STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    depth = 0
    for byte in brackets:
        if byte in b"[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _fault_in(value: Any, path: str) -> tuple[str, str] | None:
    """(what, where) of the first unstorable string in decoded JSON (keys too), if any.
    Its depth is already bounded, so recursion is safe."""
    if isinstance(value, str):
        fault = text_fault(value)
        return (fault, path) if fault else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            fault = text_fault(key)
            found = (fault, where) if fault else _fault_in(item, where)
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _fault_in(item, f"{path}[{index}]" if path else f"[{index}]")
            if found:
                return found
    return None


def _check_fields(data: QueryDict, where: str) -> None:
    for key, values in data.lists():
        fault = text_fault(key)
        if fault:
            raise TextUnstorable(f"the name of a {where} contains {fault}")
        for value in values:
            fault = text_fault(value)
            if fault:
                raise TextUnstorable(f"the {where} '{key}' contains {fault}", field=key)


def _check_json(body: bytes) -> None:
    limit = settings.MAX_JSON_DEPTH
    if json_depth_exceeds(body, limit):
        raise JsonTooDeep(f"the JSON body nests deeper than {limit} levels")
    if b"\x00" in body:
        raise TextUnstorable("the JSON body contains a NUL byte")
    if _SUSPECT_ESCAPE.search(body) is None:
        return
    try:
        decoded = json.loads(body)
    except ValueError:
        return  # not JSON after all: the view's parser reports it
    found = _fault_in(decoded, "")
    if found:
        fault, where = found
        raise TextUnstorable(f"the JSON field '{where}' contains {fault}", field=where)


def _content_type(request: HttpRequest) -> str:
    return (request.content_type or "").split(";")[0].strip().lower()


def _form(request: HttpRequest, ctype: str) -> QueryDict:
    """The fields of a form body (Django parses only POST's into `request.POST`)."""
    if ctype == "application/x-www-form-urlencoded" and request.method != "POST":
        return QueryDict(request.body)
    if request.method != "POST":
        return QueryDict()
    length = request.META.get("CONTENT_LENGTH") or "0"
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if length.isdigit() and (limit is None or int(length) <= limit):
        # Read whole first, so a view can still read the raw body after the form is parsed.
        with contextlib.suppress(RawPostDataException):
            request.body  # noqa: B018
    try:
        return request.POST
    except MultiPartParserError as exc:
        raise FormUnreadable(f"the form body cannot be read: {exc}") from exc


def input_check(request: HttpRequest) -> None:
    """Raise InputRefused when the request carries input the desk will not take."""
    fault = text_fault(request.path_info)
    if fault:
        raise TextUnstorable(f"the address contains {fault}")
    _check_fields(request.GET, "query parameter")
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    ctype = _content_type(request)
    if ctype in FORM_TYPES:
        _check_fields(_form(request, ctype), "form field")
        return
    body = request.body
    stripped = body.lstrip()[:1]
    if "json" in ctype or stripped in (b"{", b"["):
        _check_json(body)


def wants_json(request: HttpRequest) -> bool:
    return request.path_info.startswith(JSON_PATH_PREFIXES) or "json" in _content_type(request)


def refusal_response(request: HttpRequest, error: InputRefused) -> HttpResponse:
    """422 (or the error's own status) in the API's shape, or a plain 400 for a page."""
    if wants_json(request):
        body = {"detail": error.summary(), "code": error.code, **error.facts()}
        return JsonResponse(body, status=http_status_for(error))
    return HttpResponse(
        f"Bad request: {error.summary()}.\n", status=400, content_type="text/plain; charset=utf-8"
    )


def input_check_exempt(view: V) -> V:
    """Mark a view that takes raw input as it comes and cleans it itself (a provider's
    inbound mail webhook: the message must be kept, whatever bytes it holds)."""
    view.input_check_exempt = True  # type: ignore[attr-defined]
    return view


class InputCheckMiddleware:
    """Runs `input_check` before every view not marked `input_check_exempt`; see the module
    docstring."""

    sync_capable: ClassVar[bool] = True
    async_capable: ClassVar[bool] = False

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        if getattr(view_func, "input_check_exempt", False):
            return None
        try:
            input_check(request)
        except InputRefused as error:
            return refusal_response(request, error)
        return None
