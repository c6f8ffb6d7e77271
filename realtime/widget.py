"""The WebSocket consumer for support-widget visitors (``/ws/widget/``).

Visitors have no account and no cookie of ours: the handshake carries the widget's public key
and the visitor's token in the query string (``?key=pk_...&token=...``), and the browser's
``Origin`` header. The app that registered the visitor authenticator
(``registry.register_visitor_authenticator``) decides in a worker thread; a refusal closes the
socket before accepting it, so the handshake itself fails. The origin is checked there against
the widget's own allowed origins instead of ALLOWED_HOSTS: the widget lives on other sites.

An accepted socket joins the groups the authenticator named (the contact's) and is greeted with
``realtime.hello``. Frames are those of ``/ws/``: server ``{"type", "data"}``; client
``{"action": "ping"}`` or an action registered for visitors (``register_visitor_action``).
There is no ``subscribe``: a visitor hears only what is sent to its own groups.
"""

from __future__ import annotations

import inspect
import json
import logging
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils import timezone

from realtime import registry
from realtime.publish import RELAY_TYPE

logger = logging.getLogger(__name__)

MAX_FRAME_BYTES = 4 * 1024
CLOSE_UNAUTHENTICATED = 4401


def handshake_from_scope(scope: dict[str, Any]) -> registry.VisitorHandshake:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    headers = {name.decode("latin-1").lower(): value for name, value in scope.get("headers", [])}
    origin = headers.get("origin")
    host = headers.get("host", b"").decode("latin-1")
    if not host and scope.get("server"):
        server_host, server_port = scope["server"]
        host = f"{server_host}:{server_port}" if server_port else str(server_host)
    scheme = "https" if scope.get("scheme") in ("wss", "https") else "http"
    return registry.VisitorHandshake(
        key=(query.get("key") or [None])[0],
        token=(query.get("token") or [None])[0],
        origin=origin.decode("latin-1") if origin else None,
        own_origin=f"{scheme}://{host}",
    )


class WidgetConsumer(AsyncWebsocketConsumer):
    """Relays a visitor's group events to its socket and hands its frames to the app."""

    visitor: registry.Visitor | None = None
    joined: tuple[str, ...] = ()
    context: registry.ActionContext

    async def connect(self) -> None:
        authenticate = registry.visitor_authenticator()
        visitor = None
        if authenticate is not None:
            try:
                visitor = await database_sync_to_async(authenticate)(
                    handshake_from_scope(self.scope)
                )
            except Exception:
                logger.exception("widget socket authentication failed")
        if visitor is None:
            # Closing before accept() refuses the handshake itself (HTTP 403).
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.visitor = visitor
        for group in visitor.groups:
            await self.channel_layer.group_add(group, self.channel_name)
        self.joined = visitor.groups
        await self.accept()
        self.context = registry.ActionContext(
            user=visitor,
            channel_name=self.channel_name,
            subscriptions={},
            channel_layer=self.channel_layer,
        )
        await self.send_frame("realtime.hello", dict(visitor.hello))

    async def disconnect(self, code: int) -> None:
        for group in self.joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        self.joined = ()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None or len(text_data) > MAX_FRAME_BYTES:
            await self.send_error("realtime.bad_frame", "Frames must be JSON text under 4 KiB.")
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            await self.send_error("realtime.bad_frame", "The frame is not valid JSON.")
            return
        if not isinstance(frame, dict):
            await self.send_error("realtime.bad_frame", "The frame must be a JSON object.")
            return
        action = frame.get("action")
        if action == "ping":
            await self.send_frame("realtime.pong", {"server_time": timezone.now().isoformat()})
            return
        handler = registry.visitor_action_handler(action) if isinstance(action, str) else None
        if handler is None:
            await self.send_error(
                "realtime.unknown_action", "Unknown action.", action=str(action)[:50]
            )
            return
        try:
            if inspect.iscoroutinefunction(handler):
                await handler(self.context, frame)
            else:
                await database_sync_to_async(handler)(self.context, frame)
        except registry.ActionError as error:
            await self.send_error(error.code, error.message, **error.extra)
        except Exception:
            logger.exception("widget action failed", extra={"action": action})
            await self.send_error("realtime.action_failed", "The action failed.")

    async def dispatch(self, message: dict[str, Any]) -> None:
        # As in RealtimeConsumer: relays touch no database, so they skip Channels' hop to
        # close stale connections.
        if message.get("type") == RELAY_TYPE:
            await self.realtime_event(message)
            return
        await super().dispatch(message)

    async def realtime_event(self, message: dict[str, Any]) -> None:
        text = message.get("text")
        if isinstance(text, str):
            await self.send(text_data=text)
        else:
            await self.send_frame(message["event"], message["data"])

    async def send_frame(self, event_type: str, data: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps({"type": event_type, "data": data}))

    async def send_error(self, code: str, message: str, **extra: Any) -> None:
        await self.send_frame("realtime.error", {"code": code, "message": message, **extra})
