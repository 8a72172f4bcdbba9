from django.apps import AppConfig
from django.utils.translation import gettext_noop


class KnowledgeConfig(AppConfig):
    name = "caseloop.knowledge"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from caseloop.cases.extensions import Panel, conversation_search_register, panel_register
        from caseloop.cases.hooks import on_message_added

        from . import events, panels, rule_actions, tasks  # noqa: F401 - events registers its kinds
        from .search import message_case_ids

        on_message_added(tasks.message_index_hook)
        rule_actions.register()
        conversation_search_register(message_case_ids)
        panel_register(
            Panel(
                key="knowledge-suggestions",
                title=gettext_noop("Suggested answers"),
                template="knowledge/partials/case_suggestions.html",
                context=panels.suggestions_panel,
                order=40,
            )
        )
        panel_register(
            Panel(
                key="knowledge-macros",
                title=gettext_noop("Prepared responses"),
                template="knowledge/partials/case_macros.html",
                context=panels.macros_panel,
                order=45,
            )
        )
