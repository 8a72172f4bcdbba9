"""The public REST API: /api/v1/…, OpenAPI at /api/openapi.json, docs at /api/docs.

Each app contributes a router from its own `api.py`; errors from the domain (every one a
`DomainError`) become clear 4xx responses here, in one handler.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError as DjangoValidationError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.schema import OpenAPISchema

from caseloop.accounts import api as accounts_api
from caseloop.accounts.auth import AUTH
from caseloop.automation import api as automation_api, rules_api, webhooks_api
from caseloop.cases import api as cases_api
from caseloop.cases.loop import api as loop_api, request_api
from caseloop.channels import api as channels_api
from caseloop.channels.chat import api as chat_api
from caseloop.channels.email import api as email_api
from caseloop.channels.phone import api as phone_api
from caseloop.channels.webform import api as webform_api
from caseloop.channels.webhook import api as webhook_api
from caseloop.coach import api as coach_api
from caseloop.insights import api as insights_api, problems_api, trends_api, worktime_api
from caseloop.insights.privacy_api import router as privacy_router
from caseloop.knowledge import api as knowledge_api
from caseloop.lib.errors import DomainError, ErrorKind, http_status_for
from caseloop.notifications import api as notifications_api
from caseloop.triage import api as triage_api

from . import customers as customers_api

logger = logging.getLogger(__name__)

# The machine `code` of an error that is no DomainError (those carry their own): the kind
# its status stands for in `lib.errors.http_status_for`.
STATUS_CODES: dict[int, ErrorKind] = {
    400: ErrorKind.MALFORMED,
    401: ErrorKind.UNAUTHENTICATED,
    403: ErrorKind.FORBIDDEN,
    404: ErrorKind.NOT_FOUND,
    409: ErrorKind.CONFLICT,
    410: ErrorKind.GONE,
    413: ErrorKind.TOO_LARGE,
    422: ErrorKind.INVALID,
    429: ErrorKind.RATE_LIMITED,
}

# Every error body: `{"detail": str, "code": str}`, with `field` (the input at fault),
# `errors` (each invalid field of a request) or further facts of the error beside them.
ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, for people."},
        "code": {
            "type": "string",
            "description": "What went wrong, for programs: the error's own code "
            "(`case_closed`, `coach_objection`, …) or its kind "
            f"({', '.join(f'`{kind.value}`' for kind in STATUS_CODES.values())}).",
        },
        "field": {"type": "string", "description": "The input at fault, when one is."},
        "errors": {
            "type": "array",
            "description": "Each invalid field of a request that does not fit its schema "
            "(an object), or each refused row of an import (a sentence).",
            "items": {
                "anyOf": [
                    {
                        "type": "object",
                        "properties": {
                            "field": {"type": "string"},
                            "message": {"type": "string"},
                            "type": {"type": "string"},
                        },
                    },
                    {"type": "string"},
                ]
            },
        },
    },
    "required": ["detail", "code"],
    "additionalProperties": True,
}
ERROR_REF = {"$ref": "#/components/schemas/Error"}
ERROR_DESCRIPTIONS = {
    400: "The body cannot be read: not JSON, not a form, or text that cannot be stored.",
    401: "No valid bearer token and no signed-in session.",
    403: "Signed in, but not allowed: an agents' endpoint called by a customer, a session "
    "request without its CSRF token.",
    404: "No such object, or one the caller may not see.",
    409: "The state of things does not allow it now: a move the status machine refuses, a "
    "step out of the loop's order, a conflicting change.",
    413: "A file larger than the desk accepts.",
    422: "The input breaks a rule: `field` names the input at fault; a request that does not "
    "fit its schema lists every problem in `errors`.",
    429: "Too many requests; try again later.",
}
WRITE_METHODS = {"post", "put", "patch", "delete"}
# Inputs outside the path that name an object by id or reference: 404 when there is none
# the caller may see.
REFERENCE_INPUTS = {"case", "lesson", "article", "similar_case"}
# Errors an operation gives beyond what its shape tells (`operation_errors`).
OPERATION_ERRORS: dict[str, set[int]] = {
    "caseloop_knowledge_api_public_search": {429},  # rate-limited per address
}


def _carries_files(request_body: dict[str, Any]) -> bool:
    """Whether a request body can carry files: a multipart form, or base64 content in JSON."""
    content = request_body.get("content", {})
    return "multipart/form-data" in content or "content_base64" in str(content)


def _names_an_object(name: str) -> bool:
    return name in REFERENCE_INPUTS or name.endswith(("_id", "_reference"))


def _body_inputs(request_body: dict[str, Any], schemas: dict[str, Any]) -> set[str]:
    """The top-level fields of a request body, in any of its content types."""
    names: set[str] = set()
    for content in request_body.get("content", {}).values():
        schema = content.get("schema", {})
        ref = schema.get("$ref", "")
        if ref.startswith("#/components/schemas/"):
            schema = schemas.get(ref.rsplit("/", 1)[-1], {})
        names |= set(schema.get("properties", {}))
    return names


def operation_errors(
    method: str, operation: dict[str, Any], schemas: dict[str, Any] | None = None
) -> set[int]:
    """The error statuses an operation can answer with, from its shape: every one 422 (its
    input breaks a rule); with authentication 401 and 403; with path parameters, or inputs
    naming an object (`case`, `…_id`), 404; with a body 400; writes 409; bodies carrying
    files 413; and those named in OPERATION_ERRORS."""
    statuses = {422}
    if operation.get("security"):
        statuses |= {401, 403}
    parameters = operation.get("parameters", [])
    body = operation.get("requestBody")
    inputs = {p.get("name", "") for p in parameters if p.get("in") != "path"}
    if body:
        inputs |= _body_inputs(body, schemas or {})
    if any(p.get("in") == "path" for p in parameters) or any(map(_names_an_object, inputs)):
        statuses.add(404)
    if body:
        statuses.add(400)
        if _carries_files(body):
            statuses.add(413)
    if method in WRITE_METHODS:
        statuses.add(409)
    return statuses | OPERATION_ERRORS.get(operation.get("operationId", ""), set())


class CaseloopApi(NinjaAPI):
    """The API, with every error response each operation can give in its OpenAPI schema."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas["Error"] = ERROR_SCHEMA
        for operations in schema["paths"].values():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                for status in sorted(operation_errors(method, operation, schemas)):
                    responses.setdefault(
                        status,
                        {
                            "description": ERROR_DESCRIPTIONS[status],
                            "content": {"application/json": {"schema": ERROR_REF}},
                        },
                    )
        return schema


def error_body(status: int, detail: str, **facts: Any) -> dict[str, Any]:
    """The body of an error that is no DomainError: its code is the kind of its status."""
    kind = STATUS_CODES.get(status)
    return {"detail": detail, "code": kind.value if kind else "error", **facts}


api = CaseloopApi(
    title="Caseloop API",
    version="1",
    description="Cases, customers and the whole problem-solving loop. Authenticate with "
    "`Authorization: Bearer <token>` (`caseloop token --username …`) or a browser session.",
    auth=AUTH,
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)

# Each app's router, mounted under /api/v1/. Order matters only for the docs: paths never
# overlap between routers.
for router in (
    cases_api.router,
    loop_api.router,
    request_api.router,
    customers_api.router,
    channels_api.router,
    email_api.router,
    webform_api.router,
    chat_api.router,
    phone_api.router,
    webhook_api.router,
    triage_api.router,
    knowledge_api.router,
    insights_api.router,
    problems_api.router,
    privacy_router,
    trends_api.router,
    worktime_api.router,
    automation_api.router,
    coach_api.router,
    accounts_api.router,
    notifications_api.router,
    webhooks_api.router,
    rules_api.router,
):
    api.add_router("/v1/", router)


@api.exception_handler(DomainError)
def _domain_error(request, exc: DomainError):
    body = {"detail": exc.summary(), "code": exc.code, **exc.facts()}
    return api.create_response(request, body, status=http_status_for(exc))


@api.exception_handler(Http404)
def _not_found(request, exc: Http404):
    return api.create_response(request, error_body(404, str(exc) or "Not found."), status=404)


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc: PermissionDenied):
    return api.create_response(request, error_body(403, str(exc) or "Forbidden."), status=403)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    return api.create_response(
        request, error_body(exc.status_code, str(exc)), status=exc.status_code
    )


@api.exception_handler(DjangoValidationError)
def _django_validation(request, exc: DjangoValidationError):
    fields = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
    errors = [
        {"field": field, "message": message, "type": "invalid"}
        for field, messages in fields.items()
        for message in messages
    ]
    detail = "; ".join(e["message"] for e in errors) or "invalid request"
    return api.create_response(request, error_body(422, detail, errors=errors), status=422)


@api.exception_handler(ValidationError)
def _validation(request, exc: ValidationError):
    errors = [
        {
            "field": ".".join(str(part) for part in err.get("loc", ())[2:] or err.get("loc", ())),
            "message": err.get("msg", "invalid"),
            "type": err.get("type", ""),
        }
        for err in exc.errors
    ]
    return api.create_response(
        request, error_body(422, "invalid request", errors=errors), status=422
    )


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return api.create_response(
        request,
        error_body(401, "authentication required: send 'Authorization: Bearer <token>'"),
        status=401,
    )
