"""A person's own settings in the desk: the signature under their replies and the email
digest of their notifications."""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from caseloop.accounts.models import User
from caseloop.accounts.services import user_signature_set
from caseloop.notifications import selectors as notification_selectors, services as notifications


class ProfileForm(forms.Form):
    signature = forms.CharField(
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Goes under each of your replies to customers.",
    )
    email_digest = forms.BooleanField(
        required=False, label="Email me a digest of the notifications I leave unread"
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
            messages.success(request, "Your settings are saved.")
            return redirect("web:profile")
        return render(request, "web/profile.html", {"form": form}, status=400)
    form = ProfileForm(
        initial={
            "signature": user.signature,
            "email_digest": notification_selectors.digest_wanted(user=user),
        }
    )
    return render(request, "web/profile.html", {"form": form})
