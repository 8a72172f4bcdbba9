from django.urls import path

from .consumers import DeskConsumer

# Channels routes ASGI apps with Django's path(), whose stubs know only views.
websocket_urlpatterns: list = [path("ws/desk/", DeskConsumer.as_asgi())]  # type: ignore[arg-type]
