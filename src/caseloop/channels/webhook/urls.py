from django.urls import path

from . import views

app_name = "webhook"
urlpatterns = [path("<slug:slug>", views.webhook_inbound, name="inbound")]
