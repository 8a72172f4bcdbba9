from django.contrib.auth import views as auth_views
from django.urls import path

from . import dashboard_views, portal, review_views, signin, survey_views, views, worktime_views

app_name = "web"
urlpatterns = [
    path("login/", signin.signin, name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/row/<int:case_id>/", views.inbox_row, name="inbox_row"),
    path("inbox/bulk/", views.inbox_bulk, name="inbox_bulk"),
    path("inbox/views/", views.saved_view_create, name="saved_view_create"),
    path("inbox/views/<int:view_id>/delete/", views.saved_view_delete, name="saved_view_delete"),
    path("manager/", dashboard_views.manager, name="manager"),
    path("manager/metrics.csv", dashboard_views.metrics_csv, name="metrics_csv"),
    path("manager/metrics/cases/", dashboard_views.metric_cases, name="metric_cases"),
    path("manager/agents/<int:agent_id>/", review_views.agent_page, name="manager_agent"),
    path(
        "manager/agents/<int:agent_id>/review/",
        review_views.agent_review_pick,
        name="manager_agent_review_pick",
    ),
    path(
        "manager/agents/<int:agent_id>/review/<int:case_id>/",
        review_views.agent_review,
        name="manager_agent_review",
    ),
    path("cases/<int:case_id>/", views.case_detail, name="case"),
    path("cases/<int:case_id>/timeline/", views.case_timeline, name="case_timeline"),
    path("cases/<int:case_id>/reply/", views.case_reply, name="case_reply"),
    path(
        "cases/<int:case_id>/attachments/<int:attachment_id>/",
        views.case_attachment,
        name="case_attachment",
    ),
    path("cases/<int:case_id>/status/", views.case_status, name="case_status"),
    path("cases/<int:case_id>/assign/", views.case_assign, name="case_assign"),
    path("cases/<int:case_id>/tags/", views.case_tags, name="case_tags"),
    path("cases/<int:case_id>/macros/<int:macro_id>/", views.case_macro, name="case_macro"),
    path("cases/<int:case_id>/work/", worktime_views.worktime_panel, name="worktime"),
    path("cases/<int:case_id>/work/beat/", worktime_views.worktime_beat, name="worktime_beat"),
    path("cases/<int:case_id>/work/add/", worktime_views.worktime_add, name="worktime_add"),
    path(
        "cases/<int:case_id>/work/<int:interval_id>/",
        worktime_views.worktime_edit,
        name="worktime_edit",
    ),
    path("portal/", portal.home, name="portal"),
    path("portal/sign-in/", portal.signin, name="portal_signin"),
    path("portal/sign-out/", portal.signout, name="portal_signout"),
    path("portal/link/<str:token>/", portal.link, name="portal_link"),
    path("portal/cases/<int:case_id>/", portal.case_detail, name="portal_case"),
    path("portal/cases/<int:case_id>/reply/", portal.case_reply, name="portal_reply"),
    path(
        "portal/cases/<int:case_id>/attachments/<int:attachment_id>/",
        portal.case_attachment,
        name="portal_attachment",
    ),
    path("portal/cases/<int:case_id>/summary/", portal.case_summary, name="portal_summary"),
    path("portal/cases/<int:case_id>/plan/", portal.case_plan, name="portal_plan"),
    path("portal/cases/<int:case_id>/solved/", portal.case_solved, name="portal_solved"),
    path("portal/cases/<int:case_id>/rate/", portal.case_rate, name="portal_rate"),
    path("portal/cases/<int:case_id>/nps/", portal.case_nps, name="portal_nps"),
    path("survey/nps/<str:token>/", survey_views.nps_answer, name="survey_nps"),
    path(
        "cases/<int:case_id>/recoveries/<int:recovery_id>/done/",
        survey_views.recovery_done,
        name="recovery_done",
    ),
]
