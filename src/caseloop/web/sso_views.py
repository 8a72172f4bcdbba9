"""Signing in through the identity provider (`accounts.sso`): the button's start and the
provider's answer. Both answer 404 while single sign-on is not configured."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import login
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

from caseloop.accounts.models import User
from caseloop.accounts.sso import (
    SsoConfig,
    SsoUnavailable,
    sso_authorize_redirect,
    sso_claims_fetch,
    sso_config,
    sso_user_sign_in,
    sso_verified_email,
)
from caseloop.cases.customer_users import customer_user_link
from caseloop.lib.errors import DomainError, http_status_for

logger = logging.getLogger(__name__)

# Where a customer login's address was verified, on its `login_linked` customer event.
VERIFIED_BY_SSO = "sso"
NEXT_KEY = "sso_next"


def _config_or_404() -> SsoConfig:
    config = sso_config()
    if config is None:
        raise Http404("single sign-on is not configured")
    return config


def _refused(request: HttpRequest, config: SsoConfig, detail: str, status: int) -> HttpResponse:
    return render(
        request,
        "web/sso_refused.html",
        {"detail": detail, "provider": config.provider_name},
        status=status,
    )


def _unavailable(request: HttpRequest, config: SsoConfig, exc: SsoUnavailable) -> HttpResponse:
    logger.warning("sso: %s (%s)", exc, type(exc.__cause__).__name__)
    return _refused(
        request,
        config,
        f"{config.provider_name} cannot be reached just now. Try again in a moment.",
        502,
    )


@require_GET
def sso_start(request: HttpRequest) -> HttpResponse:
    config = _config_or_404()
    next_url = request.GET.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        request.session[NEXT_KEY] = next_url
    else:
        request.session.pop(NEXT_KEY, None)
    redirect_uri = f"{settings.SITE_URL}{reverse('web:sso_callback')}"
    try:
        return sso_authorize_redirect(request=request, config=config, redirect_uri=redirect_uri)
    except SsoUnavailable as exc:
        return _unavailable(request, config, exc)


@transaction.atomic
def _sign_in(claims: dict, config: SsoConfig) -> User:
    user = sso_user_sign_in(claims=claims, config=config)
    if user.is_customer and user.customer_id is None:
        # sso_user_sign_in lets a customer in only with an address the provider verified.
        email = sso_verified_email(claims=claims, config=config)
        customer_user_link(user=user, email=email, verified_by=VERIFIED_BY_SSO)
    return user


@require_GET
def sso_callback(request: HttpRequest) -> HttpResponse:
    config = _config_or_404()
    next_url = request.session.pop(NEXT_KEY, "")
    try:
        claims = sso_claims_fetch(request=request, config=config)
        user = _sign_in(claims, config)
    except SsoUnavailable as exc:
        return _unavailable(request, config, exc)
    except DomainError as exc:
        logger.info("sso: sign-in refused: %s", exc.code)
        return _refused(request, config, exc.summary(), http_status_for(exc))
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    if next_url:
        return redirect(next_url)
    if user.is_agent_like:
        return redirect(resolve_url(settings.LOGIN_REDIRECT_URL))
    return redirect("web:portal")
