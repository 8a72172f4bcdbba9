"""ASGI entry point: Django for HTTP, Channels for WebSockets."""

import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseloop.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from caseloop.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Origin checks for the agent sockets; the public chat widget validates its own
        # origins against the widget's configuration.
        "websocket": AuthMiddlewareStack(URLRouter(websocket_urlpatterns())),
    }
)

# Everything loaded so far (Django, the apps, the URLconf) lives as long as the process:
# moved out of the collector's sight, a full collection no longer walks it, which keeps the
# slowest requests (a year's report by 200 organizations) close to the median.
gc.freeze()
