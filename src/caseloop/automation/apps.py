from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "caseloop.automation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from caseloop.cases import hooks, outbox

        # `events` registers this app's case-event kinds before any event is read or written.
        from . import events, handlers, rules, services, webhooks  # noqa: F401

        hooks.on_case_created(handlers.case_created)
        hooks.on_message_added(handlers.message_added, wants=handlers.message_moves_clock)
        hooks.on_case_status_changed(handlers.case_status_changed)
        hooks.on_case_updated(handlers.case_updated)
        outbox.effect_type_register(services.BREACH_NOTIFY_EFFECT, services.sla_breach_notify)
        rules.rules_listen()
