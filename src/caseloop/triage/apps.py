from django.apps import AppConfig
from django.utils.translation import gettext_noop


class TriageConfig(AppConfig):
    name = "caseloop.triage"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from caseloop.cases import extensions, hooks
        from caseloop.cases.extensions import Panel, panel_register

        from . import events, handlers, selectors  # noqa: F401 - events registers its kinds
        from .panels import triage_panel_context

        extensions.complaint_verdict_register(lambda case: selectors.case_is_complaint(case=case))
        extensions.complaint_verdicts_register(
            lambda cases: selectors.cases_complaint_ids(cases=cases)
        )
        extensions.similar_finder_register(selectors.cases_similar)
        extensions.triage_reader_register(lambda case: selectors.case_triage(case=case))
        extensions.triage_row_reader_register(
            extensions.TriageRowReader(
                columns=selectors.TRIAGE_COLUMNS, read=selectors.case_triage_of_row
            )
        )
        hooks.on_case_created(handlers.case_created)
        hooks.on_message_added(handlers.message_added, wants=handlers.message_has_mood)
        hooks.on_case_updated(handlers.case_updated)
        panel_register(
            Panel(
                key="triage",
                title=gettext_noop("Triage"),
                template="triage/partials/panel.html",
                context=triage_panel_context,
                order=10,
            )
        )
