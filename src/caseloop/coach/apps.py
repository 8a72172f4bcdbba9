from django.apps import AppConfig


class CoachConfig(AppConfig):
    name = "caseloop.coach"
    default_auto_field = "django.db.models.BigAutoField"
