"""The staff sign-in page: Django's login view, saying so when the sign-in limits
(`accounts.signin`) refuse an attempt instead of blaming the password, and offering single
sign-on when it is configured (`web.sso_views`)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.urls import reverse

from caseloop.accounts.signin import signin_lockout
from caseloop.accounts.sso import sso_config


class SigninForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Your username and password didn't match.",
    }

    def get_invalid_login_error(self) -> ValidationError:
        lockout = signin_lockout(
            username=self.cleaned_data.get("username") or "", request=self.request
        )
        if lockout is not None:
            return ValidationError(str(lockout), code="throttled")
        return super().get_invalid_login_error()


class SigninView(LoginView):
    """Agents land on their inbox, customers on their portal (an explicit `next` wins)."""

    template_name = "web/login.html"
    authentication_form = SigninForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        config = sso_config()
        context["sso_provider"] = config.provider_name if config else None
        return context

    def get_default_redirect_url(self) -> str:
        user = self.request.user
        if user.is_authenticated and not user.is_agent_like:
            return reverse("web:portal")
        return super().get_default_redirect_url()


signin = SigninView.as_view()
