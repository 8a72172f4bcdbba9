from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "caseloop.insights"
    default_auto_field = "django.db.models.BigAutoField"
