"""The managers' trend alerts, under /manager/trends/."""

from django.urls import URLPattern, path

from . import trend_views

urlpatterns: list[URLPattern] = [
    path("", trend_views.trend_list, name="trends"),
    path("detect/", trend_views.trend_detect, name="trend_detect"),
    path("<int:alert_id>/acknowledge/", trend_views.trend_acknowledge, name="trend_acknowledge"),
    path("<int:alert_id>/dismiss/", trend_views.trend_dismiss, name="trend_dismiss"),
    path("<int:alert_id>/problem/", trend_views.trend_problem, name="trend_problem"),
]
