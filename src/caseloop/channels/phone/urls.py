from django.urls import path

from . import views

app_name = "phone"
urlpatterns = [
    path("log/", views.call_form, name="log"),
    path("webhook", views.provider_webhook, name="webhook"),
]
