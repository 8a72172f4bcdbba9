from django.apps import AppConfig


class ImportersConfig(AppConfig):
    name = "caseloop.importers"
    label = "importers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import events  # noqa: F401 - registers the `imported` case-event kind
