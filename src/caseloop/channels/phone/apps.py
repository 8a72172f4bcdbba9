from django.apps import AppConfig
from django.utils.translation import gettext_noop


class PhoneChannelConfig(AppConfig):
    name = "caseloop.channels.phone"
    label = "phone_channel"
    verbose_name = "Phone channel"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from caseloop.cases.extensions import Panel, panel_register
        from caseloop.channels.webhook.services import webhook_payload_retrier_register

        from .selectors import calls_panel_context
        from .webhook import phone_report_retry

        panel_register(
            Panel(
                "calls",
                gettext_noop("Calls"),
                "phone/partials/calls_panel.html",
                calls_panel_context,
                70,
            )
        )
        webhook_payload_retrier_register("call", phone_report_retry)
