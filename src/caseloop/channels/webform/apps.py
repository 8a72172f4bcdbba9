from django.apps import AppConfig


class WebformChannelConfig(AppConfig):
    name = "caseloop.channels.webform"
    label = "webform_channel"
    verbose_name = "Webform channel"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from caseloop.channels.base import sender_register

        from .services import webform_deliver

        sender_register("web", webform_deliver)
