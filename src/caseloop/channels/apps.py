from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    # "channels" is Django Channels' label; ours must not clash with it.
    name = "caseloop.channels"
    label = "intake"
    verbose_name = "Intake channels"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from caseloop.cases.hooks import CREATED_LATE, on_case_created
        from caseloop.cases.outbox import effect_type_register
        from caseloop.cases.services import DELIVER_EFFECT

        from . import delivery, events, tasks  # noqa: F401 - events registers its kinds
        from .acknowledgement import case_acknowledge_on_create

        effect_type_register(
            DELIVER_EFFECT,
            delivery.message_deliver,
            max_attempts=delivery.DELIVERY_ATTEMPTS,
            give_up=delivery.message_delivery_give_up,
            on_retry=delivery.message_delivery_waiting,
        )
        on_case_created(case_acknowledge_on_create, order=CREATED_LATE)
        from caseloop.cases.message_actions import FORWARD_EFFECT

        from .email.sender import message_forward_send

        effect_type_register(FORWARD_EFFECT, message_forward_send)
