from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "caseloop.automation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers this app's case-event kinds before any event is read or written.
        from . import events  # noqa: F401
