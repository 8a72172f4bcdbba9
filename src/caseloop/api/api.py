"""The public REST API: /api/v1/…, OpenAPI at /api/openapi.json, docs at /api/docs.

Each app contributes a router from its own `api.py`; errors from the domain (every one a
`DomainError`) become clear 4xx responses here, in one handler.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, ValidationError as DjangoValidationError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError

from caseloop.accounts import api as accounts_api
from caseloop.accounts.auth import AUTH
from caseloop.automation import api as automation_api
from caseloop.cases import api as cases_api
from caseloop.cases.loop import api as loop_api
from caseloop.channels import api as channels_api
from caseloop.channels.chat import api as chat_api
from caseloop.channels.email import api as email_api
from caseloop.channels.phone import api as phone_api
from caseloop.channels.webform import api as webform_api
from caseloop.channels.webhook import api as webhook_api
from caseloop.coach import api as coach_api
from caseloop.insights import api as insights_api
from caseloop.knowledge import api as knowledge_api
from caseloop.lib.errors import DomainError, http_status_for
from caseloop.triage import api as triage_api

from . import customers as customers_api

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

# Each app's router, mounted under /api/v1/. Order matters only for the docs: paths never
# overlap between routers.
for router in (
    cases_api.router,
    loop_api.router,
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
    automation_api.router,
    coach_api.router,
    accounts_api.router,
):
    api.add_router("/v1/", router)


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
