from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "caseloop.automation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from caseloop.cases.hooks import on_case_created

        from .services import case_acknowledge_on_create

        on_case_created(case_acknowledge_on_create)
