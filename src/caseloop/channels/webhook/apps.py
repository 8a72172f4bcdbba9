from django.apps import AppConfig


class WebhookChannelConfig(AppConfig):
    name = "caseloop.channels.webhook"
    label = "webhook_channel"
    verbose_name = "Webhook channel"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from caseloop.channels.base import quarantine_retrier_register

        from .services import webhook_quarantine_retry

        # Channels whose input arrives only through signed webhooks.
        for channel in ("social", "api", "phone"):
            quarantine_retrier_register(channel, webhook_quarantine_retry)
