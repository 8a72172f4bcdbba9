from django.urls import path

from .consumers import DeskConsumer

websocket_urlpatterns: list = [path("ws/desk/", DeskConsumer.as_asgi())]
