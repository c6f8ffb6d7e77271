"""The one WebSocket consumer for signed-in users (``/ws/``).

Client frames are JSON objects with an ``action``: ``subscribe``/``unsubscribe`` a topic,
``ping``, or an action an app registered (``registry.register_action``: chat's ``heartbeat``
and ``typing``). Server frames are ``{"type": "<app>.<entity>.<verb>", "data": {...}}``.

The consumer itself relays and decides nothing about the domain. It touches the database only
through what apps registered, always in a worker thread: the topic checks, the connection
listeners (chat records presence when a socket opens and closes) and synchronous action
handlers. Ephemeral relays (typing) are async handlers that never touch the database.
"""

from __future__ import annotations

import inspect
import json
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils import timezone

from realtime import registry
from realtime.publish import RELAY_TYPE

logger = logging.getLogger(__name__)

MAX_FRAME_BYTES = 16 * 1024
MAX_SUBSCRIPTIONS = 200
# Application close codes (4000-4999): 4401 mirrors HTTP 401.
CLOSE_UNAUTHENTICATED = 4401


class RealtimeConsumer(AsyncWebsocketConsumer):
    """Relays group events to one socket and manages its topic subscriptions."""

    user: Any
    subscriptions: dict[str, str]
    context: registry.ActionContext
    # Whether the connection listeners were told this socket opened (so they hear it close).
    announced: bool = False

    async def connect(self) -> None:
        self.user = self.scope.get("user")
        self.subscriptions = {}
        if self.user is None or not self.user.is_authenticated:
            # Closing before accept() rejects the handshake itself (HTTP 403): an anonymous
            # client never gets an open socket.
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.own_group = registry.user_group(self.user.pk)
        await self.channel_layer.group_add(self.own_group, self.channel_name)
        await self.accept()
        self.context = registry.ActionContext(
            user=self.user,
            channel_name=self.channel_name,
            subscriptions=self.subscriptions,
            channel_layer=self.channel_layer,
        )
        await self.send_frame("realtime.hello", {"user_id": self.user.pk})
        self.announced = True
        for listener in registry.connection_listeners():
            await self._run_hook(listener.on_connect)

    async def disconnect(self, code: int) -> None:
        if getattr(self, "own_group", None):
            await self.channel_layer.group_discard(self.own_group, self.channel_name)
        for group in list(getattr(self, "subscriptions", {}).values()):
            await self.channel_layer.group_discard(group, self.channel_name)
        if self.announced:
            self.announced = False
            for listener in registry.connection_listeners():
                await self._run_hook(listener.on_disconnect)

    async def _run_hook(self, hook: registry.ConnectionHook) -> None:
        # A listener that fails (the database is down) must not take the socket with it:
        # presence is a nicety, the events are not.
        try:
            await database_sync_to_async(hook)(self.user.pk, self.channel_name)
        except Exception:
            logger.exception("realtime connection listener failed", extra={"hook": repr(hook)})

    # --- client frames ---------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None or len(text_data) > MAX_FRAME_BYTES:
            await self.send_error("realtime.bad_frame", "Frames must be JSON text under 16 KiB.")
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
        handler = (
            {
                "subscribe": self.action_subscribe,
                "unsubscribe": self.action_unsubscribe,
                "ping": self.action_ping,
            }.get(action)
            if isinstance(action, str)
            else None
        )
        if handler is not None:
            await handler(frame)
            return
        registered = registry.action_handler(action) if isinstance(action, str) else None
        if registered is None:
            await self.send_error(
                "realtime.unknown_action", "Unknown action.", action=str(action)[:50]
            )
            return
        await self.run_action(registered, frame)

    async def run_action(self, handler: registry.ActionHandler, frame: dict[str, Any]) -> None:
        """Hand a frame to an app's handler: async ones here, plain ones in a worker thread."""
        try:
            if inspect.iscoroutinefunction(handler):
                await handler(self.context, frame)
            else:
                await database_sync_to_async(handler)(self.context, frame)
        except registry.ActionError as error:
            await self.send_error(error.code, error.message, **error.extra)
        except Exception:
            logger.exception("realtime action failed", extra={"action": frame.get("action")})
            await self.send_error("realtime.action_failed", "The action failed.")

    async def action_ping(self, frame: dict[str, Any]) -> None:
        await self.send_frame("realtime.pong", {"server_time": timezone.now().isoformat()})

    async def action_subscribe(self, frame: dict[str, Any]) -> None:
        topic = frame.get("topic")
        resolved = registry.resolve(topic) if isinstance(topic, str) else None
        allowed = False
        if resolved is not None:
            registered, key = resolved
            allowed = await database_sync_to_async(registered.check)(self.user, key)
        if not allowed:
            # Same answer for "no such topic" and "not yours": a refusal leaks nothing.
            await self.send_error(
                "realtime.topic_refused", "You cannot follow this topic.", topic=str(topic)[:100]
            )
            return
        assert resolved is not None and isinstance(topic, str)
        if topic not in self.subscriptions:
            if len(self.subscriptions) >= MAX_SUBSCRIPTIONS:
                await self.send_error(
                    "realtime.too_many_subscriptions", "Too many topics on one socket.", topic=topic
                )
                return
            group = resolved[0].group(resolved[1])
            await self.channel_layer.group_add(group, self.channel_name)
            self.subscriptions[topic] = group
        await self.send_frame("realtime.subscribed", {"topic": topic})

    async def action_unsubscribe(self, frame: dict[str, Any]) -> None:
        topic = frame.get("topic")
        group = self.subscriptions.pop(topic, None) if isinstance(topic, str) else None
        if group is not None:
            await self.channel_layer.group_discard(group, self.channel_name)
        await self.send_frame("realtime.unsubscribed", {"topic": str(topic)[:100]})

    # --- channel layer messages ------------------------------------------------------------

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels closes stale database connections (a hop to the one thread-sensitive worker
        # thread) before every handler. Relaying an event touches no database, and one message
        # to a room of 1,000 would queue 1,000 such hops in front of the requests of the same
        # process, so relays skip it; everything else goes the usual way.
        if message.get("type") == RELAY_TYPE:
            await self.realtime_event(message)
            return
        await super().dispatch(message)

    async def realtime_event(self, message: dict[str, Any]) -> None:
        """A domain event published with publish_on_commit: relay it as it is.

        The frame was encoded once by the publisher (``text``), not once per socket.
        """
        text = message.get("text")
        if isinstance(text, str):
            await self.send(text_data=text)
        else:
            await self.send_frame(message["event"], message["data"])

    async def realtime_revoke(self, message: dict[str, Any]) -> None:
        """Access to a topic ended (a membership was removed): stop relaying it at once."""
        topic = message["topic"]
        group = self.subscriptions.pop(topic, None)
        if group is not None:
            await self.channel_layer.group_discard(group, self.channel_name)
            await self.send_frame("realtime.unsubscribed", {"topic": topic, "reason": "revoked"})

    # --- helpers ---------------------------------------------------------------------------

    async def send_frame(self, event_type: str, data: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps({"type": event_type, "data": data}))

    async def send_error(self, code: str, message: str, **extra: Any) -> None:
        await self.send_frame("realtime.error", {"code": code, "message": message, **extra})
