from django.apps import AppConfig
from django.utils.translation import gettext_noop


class WebConfig(AppConfig):
    name = "caseloop.web"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from caseloop.automation.rules import rule_change_listener_register
        from caseloop.cases import hooks
        from caseloop.cases.extensions import Panel, panel_register

        from .live import escalation_waiting_announce
        from .request_views import requests_panel_context
        from .rule_views import rule_change_audit

        hooks.on_case_status_changed(escalation_waiting_announce)
        rule_change_listener_register(rule_change_audit)
        panel_register(
            Panel(
                key="requests",
                title=gettext_noop("Other departments"),
                template="web/requests/panel.html",
                context=requests_panel_context,
                order=25,
            )
        )
