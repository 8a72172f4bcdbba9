from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "caseloop.knowledge"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from caseloop.cases.extensions import Panel, panel_register
        from caseloop.cases.hooks import on_message_added

        from . import events, panels, tasks  # noqa: F401 - events registers its kinds

        on_message_added(tasks.message_index_hook)
        panel_register(
            Panel(
                key="knowledge-suggestions",
                title="Suggested answers",
                template="knowledge/partials/case_suggestions.html",
                context=panels.suggestions_panel,
                order=40,
            )
        )
        panel_register(
            Panel(
                key="knowledge-macros",
                title="Prepared responses",
                template="knowledge/partials/case_macros.html",
                context=panels.macros_panel,
                order=45,
            )
        )
