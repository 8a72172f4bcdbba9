from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    # "channels" is Django Channels' label; ours must not clash with it.
    name = "caseloop.channels"
    label = "intake"
    verbose_name = "Intake channels"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from caseloop.cases import extensions
        from caseloop.cases.hooks import CREATED_LATE, on_case_created

        from . import events, tasks  # noqa: F401 - events registers its kinds
        from .acknowledgement import case_acknowledge_on_create

        extensions.deliverer_register(tasks.message_deliver_later)
        on_case_created(case_acknowledge_on_create, order=CREATED_LATE)
