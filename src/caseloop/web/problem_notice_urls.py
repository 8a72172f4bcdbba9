"""The problem page's proactive support (managers): the banner and the proactive notice."""

from django.urls import URLPattern, path

from . import problem_notice_views as views

urlpatterns: list[URLPattern] = [
    path("<int:problem_id>/banner/", views.problem_banner, name="problem_banner"),
    path(
        "<int:problem_id>/notices/preview/",
        views.problem_notice_preview,
        name="problem_notice_preview",
    ),
    path("<int:problem_id>/notices/send/", views.problem_notice_send, name="problem_notice_send"),
]
