from django.urls import re_path

from .consumers import ChatConsumer

websocket_urlpatterns: list = [
    # Channels routes ASGI apps with Django's re_path(), whose stubs know only views.
    re_path(r"^ws/chat/(?P<key>[-\w]+)/$", ChatConsumer.as_asgi()),  # type: ignore[arg-type]
]
