"""Outgoing webhooks in the desk (admins): the subscriptions, a form to add or change one,
and each one's delivery log with a button to send a delivery again."""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from caseloop.accounts.models import Role, User
from caseloop.automation import webhooks
from caseloop.automation.models import WebhookDelivery, WebhookSubscription
from caseloop.cases.events import event_kinds


def _admin(request: HttpRequest) -> User:
    user = cast(User, request.user)
    if user.role != Role.ADMIN:
        raise PermissionDenied("admins only")
    return user


class SubscriptionForm(forms.Form):
    name = forms.CharField(max_length=100)
    url = forms.CharField(
        max_length=500,
        label=gettext_lazy("URL"),
        help_text=gettext_lazy("https://… receives each event."),
    )
    secret = forms.CharField(
        max_length=100,
        min_length=16,
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text=gettext_lazy(
            "Signs each delivery; at least 16 characters. Leave empty to keep it."
        ),
    )
    event_kinds = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None ticked: every kind."),
    )
    is_active = forms.BooleanField(required=False, initial=True, label=gettext_lazy("Active"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        kinds_field = cast(forms.MultipleChoiceField, self.fields["event_kinds"])
        kinds_field.choices = sorted(
            (name, f"{kind.label} ({name})") for name, kind in event_kinds().items()
        )


def _subscription(pk: int) -> WebhookSubscription:
    row = WebhookSubscription.objects.filter(pk=pk).first()
    if row is None:
        raise Http404("No such webhook.")
    return row


@login_required
def webhook_list(request: HttpRequest) -> HttpResponse:
    _admin(request)
    return render(
        request,
        "web/webhooks/list.html",
        {"subscriptions": WebhookSubscription.objects.order_by("name")},
    )


@login_required
@require_http_methods(["GET", "POST"])
def webhook_edit(request: HttpRequest, webhook_id: int | None = None) -> HttpResponse:
    actor = _admin(request)
    row = _subscription(webhook_id) if webhook_id is not None else None
    if request.method == "POST":
        form = SubscriptionForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            secret = data["secret"] or (row.secret if row else "")
            try:
                saved = webhooks.webhook_subscription_save(
                    actor=actor,
                    name=data["name"],
                    url=data["url"].strip(),
                    secret=secret,
                    event_kinds=list(data["event_kinds"]),
                    is_active=data["is_active"],
                    subscription=row,
                )
            except webhooks.WebhookError as exc:
                field = exc.field if exc.field in form.fields else None
                form.add_error(field, exc.summary())
            else:
                messages.success(
                    request, gettext("Webhook “%(name)s” saved.") % {"name": saved.name}
                )
                return redirect("web:webhooks")
        return render(request, "web/webhooks/edit.html", {"form": form, "row": row}, status=422)
    initial = (
        {
            "name": row.name,
            "url": row.url,
            "event_kinds": row.event_kinds,
            "is_active": row.is_active,
        }
        if row
        else {}
    )
    return render(
        request, "web/webhooks/edit.html", {"form": SubscriptionForm(initial=initial), "row": row}
    )


@login_required
def webhook_deliveries(request: HttpRequest, webhook_id: int) -> HttpResponse:
    _admin(request)
    row = _subscription(webhook_id)
    return render(
        request,
        "web/webhooks/deliveries.html",
        {"row": row, "deliveries": row.deliveries.order_by("-id")[:100]},
    )


@login_required
@require_POST
def webhook_resend(request: HttpRequest, delivery_id: int) -> HttpResponse:
    actor = _admin(request)
    delivery = WebhookDelivery.objects.select_related("subscription").filter(pk=delivery_id).first()
    if delivery is None:
        raise Http404("No such delivery.")
    webhooks.webhook_resend(delivery=delivery, actor=actor)
    messages.success(
        request,
        gettext("Event %(event_id)s queued to be sent again.") % {"event_id": delivery.event_id},
    )
    return redirect("web:webhook_deliveries", webhook_id=delivery.subscription_id)
