"""Case-event kinds insights writes."""

from caseloop.cases.events import event_kind

SATISFACTION_RATED = event_kind("satisfaction_rated", "Satisfaction rated")
NPS_ANSWERED = event_kind("nps_answered", "Recommendation score given")
WORK_TIME_LOGGED = event_kind("work_time_logged", "Work time logged")
QA_REVIEWED = event_kind("qa_reviewed", "Quality review recorded")
NPS_SURVEY_SENT = event_kind("nps_survey_sent", "Recommendation survey sent")
RECOVERY_OPENED = event_kind("recovery_opened", "Recovery opened after a low score")
RECOVERY_DONE = event_kind("recovery_done", "Recovery done")
