from django.apps import AppConfig


class CoachConfig(AppConfig):
    name = "caseloop.coach"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from caseloop.cases.extensions import reply_reviewer_register

        from .services import ReplyCoach

        reply_reviewer_register(ReplyCoach())
