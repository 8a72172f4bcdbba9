"""Public channel endpoints: /channels/<kind>/…"""

from django.urls import include, path

app_name = "channels"
urlpatterns = [
    path("email/", include("caseloop.channels.email.urls")),
    path("form/", include("caseloop.channels.webform.urls")),
    path("chat/", include("caseloop.channels.chat.urls")),
    path("phone/", include("caseloop.channels.phone.urls")),
    path("webhooks/", include("caseloop.channels.webhook.urls")),
]
