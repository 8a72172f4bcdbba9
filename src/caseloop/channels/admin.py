from django.contrib import admin, messages

from .intake import IntakeRejected, quarantine_discard, quarantine_retry
from .models import InboundReceipt, QuarantinedMessage


@admin.register(QuarantinedMessage)
class QuarantinedMessageAdmin(admin.ModelAdmin):
    list_display = ["id", "channel", "source", "short_reason", "state", "attempts", "created_at"]
    list_filter = ["state", "channel"]
    search_fields = ["reason", "source"]
    readonly_fields = [
        "channel",
        "source",
        "reason",
        "raw_preview",
        "metadata",
        "state",
        "case",
        "attempts",
        "created_at",
        "updated_at",
    ]
    exclude = ["raw"]
    actions = ["retry", "discard"]

    @admin.display(description="reason")
    def short_reason(self, obj: QuarantinedMessage) -> str:
        return obj.reason[:100]

    @admin.display(description="raw (first 20 kB)")
    def raw_preview(self, obj: QuarantinedMessage) -> str:
        return bytes(obj.raw[:20_000]).decode("utf-8", "replace")

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Retry the selected records")
    def retry(self, request, queryset):
        done = failed = 0
        for item in queryset.filter(state=QuarantinedMessage.State.HELD):
            try:
                quarantine_retry(quarantined_id=item.pk)
                done += 1
            except IntakeRejected as exc:
                failed += 1
                self.message_user(request, f"#{item.pk}: {exc}", messages.WARNING)
        self.message_user(request, f"{done} retried into cases, {failed} still held")

    @admin.action(description="Discard the selected records")
    def discard(self, request, queryset):
        for item in queryset:
            quarantine_discard(quarantined_id=item.pk)


@admin.register(InboundReceipt)
class InboundReceiptAdmin(admin.ModelAdmin):
    list_display = ["channel", "external_id", "case", "received_at"]
    list_filter = ["channel"]
    search_fields = ["external_id"]
    list_select_related = ["case"]
    raw_id_fields = ["case", "message"]
