"""/triage/…: the triage panel's actions on the case page (agents) and the manager's
retrain button; POST with CSRF."""

from django.urls import path

from . import views

app_name = "triage"
urlpatterns = [
    path("cases/<int:case_id>/classify/", views.case_classify, name="classify"),
    path("models/retrain/", views.models_retrain, name="retrain"),
]
