"""Public email endpoints, under /channels/email/: provider inbound webhooks."""

from django.urls import path

from .webhooks import mailgun_inbound

app_name = "email"
urlpatterns = [
    path("mailgun/inbound/", mailgun_inbound, name="mailgun_inbound"),
    path("mailgun/inbound_mime/", mailgun_inbound, name="mailgun_inbound_mime"),
]
