"""/triage/…: the triage panel's actions on the case page (agents, CSRF)."""

from django.urls import path

from . import views

app_name = "triage"
urlpatterns = [
    path("cases/<int:case_id>/classify/", views.case_classify, name="classify"),
]
