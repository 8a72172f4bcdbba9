from django.apps import AppConfig
from django.utils.translation import gettext_noop


class CasesConfig(AppConfig):
    name = "caseloop.cases"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from caseloop.customers.hooks import on_customers_merged

        from . import hooks, message_actions, outbox, services, tasks  # noqa: F401 - kinds
        from .extensions import Panel, panel_register, solve_check_register
        from .loop import authority, events, followups  # noqa: F401 - events registers kinds
        from .loop.panel import loop_panel_context
        from .loop.requests import REQUEST_MAIL_EFFECT, request_mail_send

        outbox.effect_type_register(REQUEST_MAIL_EFFECT, request_mail_send)

        outbox.dispatcher_register(tasks.outbox_dispatch)
        on_customers_merged("cases", services.case_move_to_customer)
        hooks.on_case_created(followups.on_case_created, order=hooks.CREATED_EARLY)
        hooks.on_case_status_changed(followups.on_status_changed)
        hooks.on_case_updated(followups.repeat_priority_keep)
        solve_check_register("loop.remedy_approval", authority.remedy_approval_require)
        panel_register(
            Panel(
                key="loop",
                title=gettext_noop("Problem-solving loop"),
                template="cases/partials/loop_panel.html",
                context=loop_panel_context,
                order=20,
            )
        )
