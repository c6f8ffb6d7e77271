"""ASGI entry point: HTTP through Django, `/ws/` through the one realtime consumer."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Django must be set up before anything imports models (the consumer and middleware do).
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import path  # noqa: E402

from realtime.consumers import RealtimeConsumer  # noqa: E402
from realtime.middleware import RealtimeAuthMiddlewareStack  # noqa: E402

websocket_urlpatterns = [path("ws/", RealtimeConsumer.as_asgi())]

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # The origin check stops other sites from riding a visitor's session cookie.
        "websocket": AllowedHostsOriginValidator(
            RealtimeAuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
