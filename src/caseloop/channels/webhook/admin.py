from django.contrib import admin, messages

from .models import WebhookDelivery, WebhookEndpoint, secret_generate


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "channel", "is_active", "created_at")
    fields = ("name", "slug", "channel", "network", "tolerance_seconds", "is_active")
    actions = ["rotate_secret"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            self._show_secret(request, obj)

    @admin.action(description="Rotate the signing secret (shown once)")
    def rotate_secret(self, request, queryset):
        for endpoint in queryset:
            endpoint.secret = secret_generate()
            endpoint.save(update_fields=["secret"])
            self._show_secret(request, endpoint)

    def _show_secret(self, request, endpoint: WebhookEndpoint) -> None:
        # Shown once to the admin; it is never displayed again nor written to a log.
        messages.warning(
            request,
            f"Signing secret for '{endpoint.slug}': {endpoint.secret} — copy it now, it will "
            "not be shown again.",
        )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("endpoint", "event_id", "outcome", "case", "received_at")
    list_select_related = ("endpoint", "case")
    readonly_fields = ("endpoint", "event_id", "outcome", "case", "quarantine", "received_at")
