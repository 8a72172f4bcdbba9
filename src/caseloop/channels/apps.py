from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    # "channels" is Django Channels' label; ours must not clash with it.
    name = "caseloop.channels"
    label = "intake"
    verbose_name = "Intake channels"
    default_auto_field = "django.db.models.BigAutoField"
