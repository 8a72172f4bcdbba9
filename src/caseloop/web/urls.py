from django.contrib.auth import views as auth_views
from django.urls import path

from . import portal, signin, views

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
    path("manager/", views.manager, name="manager"),
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
]
