"""ASGI entry point: HTTP through Django; `/ws/` (signed-in users) and `/ws/widget/` (support
widget visitors), each through its one consumer."""

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
from realtime.widget import WidgetConsumer  # noqa: E402

websocket_urlpatterns = [
    # Visitors come from the organizations' own sites and carry no cookie of ours: the
    # consumer checks the origin against the widget's allowed origins itself.
    path("ws/widget/", WidgetConsumer.as_asgi()),
    # The origin check stops other sites from riding a signed-in user's session cookie.
    path(
        "ws/",
        AllowedHostsOriginValidator(RealtimeAuthMiddlewareStack(RealtimeConsumer.as_asgi())),
    ),
]

application = ProtocolTypeRouter(
    {"http": django_asgi_app, "websocket": URLRouter(websocket_urlpatterns)}
)
