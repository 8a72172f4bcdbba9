from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "caseloop.web"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from caseloop.cases import hooks

        from .live import escalation_waiting_announce

        hooks.on_case_status_changed(escalation_waiting_announce)
