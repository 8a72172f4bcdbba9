"""The staff sign-in page: Django's login view, saying so when the sign-in limits
(`accounts.signin`) refuse an attempt instead of blaming the password."""

from __future__ import annotations

from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError

from caseloop.accounts.signin import signin_lockout


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


signin = LoginView.as_view(template_name="web/login.html", authentication_form=SigninForm)
