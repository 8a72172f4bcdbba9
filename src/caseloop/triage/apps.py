from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "caseloop.triage"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from caseloop.cases import hooks
        from caseloop.web.panels import Panel, panel_register

        from . import handlers
        from .panels import triage_panel_context

        hooks.on_case_created(handlers.case_created)
        hooks.on_message_added(handlers.message_added)
        hooks.on_case_updated(handlers.case_updated)
        panel_register(
            Panel(
                key="triage",
                title="Triage",
                template="triage/partials/panel.html",
                context=triage_panel_context,
                order=10,
            )
        )
