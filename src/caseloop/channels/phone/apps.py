from django.apps import AppConfig


class PhoneChannelConfig(AppConfig):
    name = "caseloop.channels.phone"
    label = "phone_channel"
    verbose_name = "Phone channel"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from caseloop.web.panels import Panel, panel_register

        from .selectors import calls_panel_context

        panel_register(
            Panel("calls", "Calls", "phone/partials/calls_panel.html", calls_panel_context, 70)
        )
