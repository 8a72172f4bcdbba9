from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "caseloop.notifications"
    label = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from caseloop.cases import hooks

        from . import handlers, rule_actions

        hooks.on_event_recorded(list(handlers.EVENT_KINDS), handlers.event_notify)
        hooks.on_message_added(handlers.message_notify, wants=handlers.message_is_news)
        rule_actions.register()
