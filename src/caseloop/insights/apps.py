from django.apps import AppConfig
from django.utils.translation import gettext_noop


class InsightsConfig(AppConfig):
    name = "caseloop.insights"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from caseloop.cases import hooks, outbox
        from caseloop.cases.extensions import Panel, panel_register

        # `events` registers this app's case-event kinds before any event is read or written.
        from . import events, surveys  # noqa: F401

        outbox.effect_type_register(surveys.NPS_SEND_EFFECT, surveys.nps_survey_send_effect)
        outbox.effect_type_register(surveys.THEME_EFFECT, surveys.comment_theme_effect)
        hooks.on_case_status_changed(surveys.survey_on_status_changed)
        panel_register(
            Panel(
                key="recovery",
                title=gettext_noop("Service recovery"),
                template="insights/partials/recovery_panel.html",
                context=surveys.recovery_panel_context,
                order=5,
            )
        )

        from . import problem_fixes, problem_selectors, problems, trends  # noqa: F401 - effects

        outbox.effect_type_register(
            problem_fixes.FIX_NOTIFY_EFFECT, problem_fixes.problem_fix_notify
        )
        # After triage (the default order) and before the acknowledgement.
        hooks.on_case_created(problems.problem_intake_match, order=hooks.CREATED_DEFAULT + 10)
        panel_register(
            Panel(
                key="problems",
                title=gettext_noop("Recurring problems"),
                template="insights/partials/problems_panel.html",
                context=problem_selectors.case_problems_panel_context,
                order=6,
            )
        )

        from . import worktime

        # An agent's reply or note counts as time on the case (the tracker's beat).
        hooks.on_message_added(worktime.work_message_added, wants=worktime.message_is_work)
