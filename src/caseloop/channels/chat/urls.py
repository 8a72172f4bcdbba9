from django.urls import path

from . import views

app_name = "chat"
urlpatterns = [path("preview/<slug:key>/", views.widget_preview, name="preview")]
