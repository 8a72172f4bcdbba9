from django.apps import AppConfig


class ChatChannelConfig(AppConfig):
    name = "caseloop.channels.chat"
    label = "chat_channel"
    verbose_name = "Chat channel"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from caseloop.channels.base import sender_register

        from . import tasks  # noqa: F401 - registers the jobs
        from .services import chat_deliver

        sender_register("chat", chat_deliver)
