from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "caseloop.cases"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from caseloop.web.panels import Panel, panel_register

        from . import hooks
        from .loop import followups
        from .loop.panel import loop_panel_context

        hooks.on_case_created(followups.on_case_created)
        hooks.on_case_status_changed(followups.on_status_changed)
        on_case_updated = getattr(hooks, "on_case_updated", None)
        if on_case_updated is not None:
            on_case_updated(followups.repeat_priority_keep)
        panel_register(
            Panel(
                key="loop",
                title="Problem-solving loop",
                template="cases/partials/loop_panel.html",
                context=loop_panel_context,
                order=20,
            )
        )
