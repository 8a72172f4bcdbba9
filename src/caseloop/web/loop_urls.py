"""/loop/…: the panel's actions and the public pages behind signed links."""

from django.urls import path

from . import loop_views as views

app_name = "loop"
urlpatterns = [
    path("cases/<int:case_id>/<slug:action>/", views.case_action, name="action"),
    path("problem/<str:token>/", views.problem_answer, name="problem_answer"),
    path("plan/<str:token>/", views.plan_answer, name="plan_answer"),
    path("follow-up/<str:token>/", views.followup_answer, name="followup_answer"),
]
