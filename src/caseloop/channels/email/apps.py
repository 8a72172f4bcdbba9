from django.apps import AppConfig


class EmailChannelConfig(AppConfig):
    name = "caseloop.channels.email"
    label = "email_channel"
    verbose_name = "Email channel"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from caseloop.channels.base import quarantine_retrier_register, sender_register

        from . import webhooks
        from .sender import email_send
        from .services import CHANNEL, email_retry

        sender_register(CHANNEL, email_send)
        quarantine_retrier_register(CHANNEL, email_retry)
        webhooks.connect()
