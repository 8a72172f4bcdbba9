from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "caseloop.web"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from caseloop.cases import hooks
        from caseloop.cases.extensions import Panel, panel_register

        from .live import escalation_waiting_announce
        from .request_views import requests_panel_context

        hooks.on_case_status_changed(escalation_waiting_announce)
        panel_register(
            Panel(
                key="requests",
                title="Other departments",
                template="web/requests/panel.html",
                context=requests_panel_context,
                order=25,
            )
        )
