from django import forms
from django.contrib import admin

from .models import EmailThread, Mailbox
from .services import MailboxInvalid, imap_url_parse


class MailboxForm(forms.ModelForm):
    """The IMAP URL holds a password: it is never rendered back; blank keeps the current one."""

    imap_url = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        label="IMAP URL",
        help_text="imaps://user:password@host[:port]/FOLDER. Leave blank to keep the current one.",
    )
    imap_clear = forms.BooleanField(required=False, label="Remove the IMAP URL")

    class Meta:
        model = Mailbox
        fields = [
            "address",
            "display_name",
            "is_active",
            "imap_url",
            "imap_folder",
            "after_processing",
            "processed_folder",
        ]

    def clean_address(self):
        address = self.cleaned_data["address"].strip().lower()
        if "+" in address.partition("@")[0]:
            raise forms.ValidationError("plus-addresses are reply tokens; use the base address")
        return address

    def clean_imap_url(self):
        url = self.cleaned_data.get("imap_url", "").strip()
        if not url:
            return self.instance.imap_url if self.instance.pk else ""
        try:
            imap_url_parse(url)
        except MailboxInvalid as exc:
            raise forms.ValidationError(str(exc)) from exc
        return url

    def clean(self):
        data = super().clean()
        if data.get("imap_clear"):
            data["imap_url"] = ""
        return data


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    form = MailboxForm
    list_display = [
        "address",
        "display_name",
        "is_active",
        "imap_server",
        "after_processing",
        "last_polled_at",
        "last_poll_count",
        "last_poll_error",
    ]
    list_filter = ["is_active", "after_processing"]
    search_fields = ["address", "display_name"]
    readonly_fields = ["last_polled_at", "last_poll_ok_at", "last_poll_count", "last_poll_error"]

    @admin.display(description="IMAP")
    def imap_server(self, obj: Mailbox) -> str:
        return obj.imap_url_redacted or "—"


@admin.register(EmailThread)
class EmailThreadAdmin(admin.ModelAdmin):
    list_display = ["case", "mailbox", "created_at"]
    list_select_related = ["case", "mailbox"]
    raw_id_fields = ["case"]
