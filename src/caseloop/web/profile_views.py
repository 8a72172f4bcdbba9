"""A person's own settings in the desk: the signature under their replies, the email
digest of their notifications and the language of the workspace."""

from __future__ import annotations

from typing import cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _, gettext_lazy
from django.views.decorators.http import require_http_methods

from caseloop.accounts.models import User
from caseloop.accounts.services import user_language_set, user_signature_set
from caseloop.notifications import selectors as notification_selectors, services as notifications

from .language import language_activate


def _language_choices() -> list[tuple[str, str]]:
    return [("", _("The browser's language")), *settings.LANGUAGES]


class ProfileForm(forms.Form):
    signature = forms.CharField(
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
        label=gettext_lazy("Signature"),
        help_text=gettext_lazy("Goes under each of your replies to customers."),
    )
    email_digest = forms.BooleanField(
        required=False,
        label=gettext_lazy("Email me a digest of the notifications I leave unread"),
    )
    language = forms.ChoiceField(
        required=False, choices=_language_choices, label=gettext_lazy("Language")
    )


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    if not user.is_agent_like:
        raise PermissionDenied("staff only")
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            user_signature_set(user=user, signature=form.cleaned_data["signature"])
            notifications.preference_set(user=user, email_digest=form.cleaned_data["email_digest"])
            user_language_set(user=user, language=form.cleaned_data["language"])
            # This response already speaks the new language.
            language_activate(
                request, user.language or translation.get_language_from_request(request)
            )
            messages.success(request, _("Your settings are saved."))
            return redirect("web:profile")
        return render(request, "web/profile.html", {"form": form}, status=400)
    form = ProfileForm(
        initial={
            "signature": user.signature,
            "email_digest": notification_selectors.digest_wanted(user=user),
            "language": user.language,
        }
    )
    return render(request, "web/profile.html", {"form": form})
