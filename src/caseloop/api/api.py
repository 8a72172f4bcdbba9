"""The public REST API: /api/v1/…, OpenAPI at /api/openapi.json, docs at /api/docs.

Each app contributes a router from its own `api.py`; errors from the domain (every one a
`DomainError`) become clear 4xx responses here, in one handler.
"""

from __future__ import annotations

import importlib
import logging

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError

from caseloop.accounts.auth import AUTH
from caseloop.lib.errors import DomainError, http_status_for

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="Caseloop API",
    version="1",
    description="Cases, customers and the whole problem-solving loop. Authenticate with "
    "`Authorization: Bearer <token>` (`caseloop token --username …`) or a browser session.",
    auth=AUTH,
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)

# Apps whose api.py exposes `router`, mounted under /api/v1/. Order matters only for
# the docs: paths never overlap between routers.
ROUTER_MODULES = [
    "caseloop.cases.api",
    "caseloop.cases.loop.api",
    "caseloop.api.customers",
    "caseloop.channels.api",
    "caseloop.channels.email.api",
    "caseloop.channels.webform.api",
    "caseloop.channels.chat.api",
    "caseloop.channels.phone.api",
    "caseloop.channels.webhook.api",
    "caseloop.triage.api",
    "caseloop.knowledge.api",
    "caseloop.insights.api",
    "caseloop.automation.api",
    "caseloop.coach.api",
    "caseloop.accounts.api",
]

for module_name in ROUTER_MODULES:
    module = importlib.import_module(module_name)
    api.add_router("/v1/", module.router)


@api.exception_handler(DomainError)
def _domain_error(request, exc: DomainError):
    body = {"detail": exc.summary(), "code": exc.code, **exc.facts()}
    return api.create_response(request, body, status=http_status_for(exc))


@api.exception_handler(Http404)
def _not_found(request, exc: Http404):
    return api.create_response(request, {"detail": str(exc) or "Not found."}, status=404)


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc: PermissionDenied):
    return api.create_response(request, {"detail": str(exc) or "Forbidden."}, status=403)


@api.exception_handler(DjangoValidationError)
def _django_validation(request, exc: DjangoValidationError):
    detail = exc.message_dict if hasattr(exc, "error_dict") else {"errors": exc.messages}
    return api.create_response(request, {"detail": detail}, status=422)


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
    return api.create_response(request, {"detail": "invalid request", "errors": errors}, status=422)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return api.create_response(
        request,
        {"detail": "authentication required: send 'Authorization: Bearer <token>'"},
        status=401,
    )
