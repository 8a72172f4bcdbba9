from django.urls import re_path

from .consumers import ChatConsumer

websocket_urlpatterns: list = [
    re_path(r"^ws/chat/(?P<key>[-\w]+)/$", ChatConsumer.as_asgi()),
]
