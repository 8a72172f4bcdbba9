from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext, gettext_lazy

from caseloop.customers.errors import InvalidContactPoint
from caseloop.customers.models import ContactPoint
from caseloop.customers.services import contact_normalize

MAX_FILES = 5


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


class AttachmentTooLargeError(forms.ValidationError):
    """An attachment over the configured limit (answered with HTTP 413)."""


class ContactForm(forms.Form):
    name = forms.CharField(
        max_length=200,
        required=False,
        label=gettext_lazy("Your name"),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        max_length=320,
        required=False,
        label=gettext_lazy("Email"),
        widget=forms.EmailInput(attrs={"aria-describedby": "email-hint", "autocomplete": "email"}),
    )
    phone = forms.CharField(max_length=40, required=False, label=gettext_lazy("Phone"))
    subject = forms.CharField(max_length=200, label=gettext_lazy("Subject"))
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), max_length=20_000)
    order_reference = forms.CharField(
        max_length=100, required=False, label=gettext_lazy("Order number (optional)")
    )
    attachments = MultipleFileField(required=False, label=gettext_lazy("Attachments (optional)"))
    # Honeypot: hidden from people by CSS and from assistive tech; bots fill it in.
    website = forms.CharField(
        required=False,
        label=gettext_lazy("Leave this field empty"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    oversized = False

    def clean_phone(self) -> str:
        phone = self.cleaned_data.get("phone", "").strip()
        if not phone:
            return ""
        try:
            return contact_normalize(kind=ContactPoint.Kind.PHONE, value=phone)
        except InvalidContactPoint as exc:
            raise forms.ValidationError(
                gettext("Enter a phone number with its country code, e.g. +44 20 7946 0000.")
            ) from exc

    def clean_attachments(self) -> list:
        files = self.cleaned_data.get("attachments") or []
        if len(files) > MAX_FILES:
            raise forms.ValidationError(
                gettext("Attach at most %(MAX_FILES)s files.") % {"MAX_FILES": MAX_FILES}
            )
        limit = settings.MAX_ATTACHMENT_BYTES
        for upload in files:
            if upload.size > limit:
                self.oversized = True
                raise AttachmentTooLargeError(
                    f"“{upload.name}” is {filesizeformat(upload.size)}; files may be at most "
                    f"{filesizeformat(limit)}. Nothing was sent — please attach a smaller file."
                )
        return files

    def clean(self) -> dict[str, Any]:
        data = cast("dict[str, Any]", super().clean())
        if not data.get("email") and not data.get("phone") and not self.has_error("phone"):
            raise forms.ValidationError(
                gettext("Give an email address or a phone number so we can reply.")
            )
        return data

    @property
    def is_spam(self) -> bool:
        return bool(self.data.get("website", "").strip())
