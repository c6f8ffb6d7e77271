"""What chat adds to the one socket: presence from connections and heartbeats, and typing.

Registered with realtime at start-up (``register``), so realtime never imports chat:

- a connection listener: a socket opening or closing is recorded by ``chat.presence``;
- ``{"action": "heartbeat", "active": bool, "visible": bool, "room": id|null}``: sent every
  PRESENCE_HEARTBEAT_SECONDS and at once when focus, visibility or the room changes;
  recorded by ``chat.presence.heartbeat`` in a worker thread; answered with nothing;
- ``{"action": "typing", "room": id, "thread": id|null}``: relayed as ``chat.typing`` to the
  room's group, only when this socket follows ``chat.room.<id>`` (the topic check already
  proved membership when it subscribed), without touching the database. Never stored.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from channels.db import database_sync_to_async

from chat import presence
from realtime.registry import (
    ActionContext,
    ActionError,
    register_action,
    register_connection_listener,
)

# One typing relay per socket, room and thread at most this often: clients send on key presses.
TYPING_INTERVAL_SECONDS = 2.0
# Heartbeats: the same report again within this many seconds is dropped...
HEARTBEAT_REPEAT_SECONDS = 5.0
# ...and no socket gets more than this many recorded in HEARTBEAT_WINDOW_SECONDS (a client
# sends one every 30 seconds, plus one per focus, visibility or room change).
HEARTBEAT_BURST = 10
HEARTBEAT_WINDOW_SECONDS = 10.0


def on_connect(user_id: int, channel_name: str) -> None:
    presence.connection_open(user_id=user_id, channel_name=channel_name)


def on_disconnect(user_id: int, channel_name: str) -> None:
    presence.connection_close(user_id=user_id, channel_name=channel_name)


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


def _heartbeat_allowed(state: dict[str, Any], report: tuple[bool, bool, int | None]) -> bool:
    now = time.monotonic()
    recent: deque[float] = state.setdefault("heartbeats", deque())
    while recent and now - recent[0] > HEARTBEAT_WINDOW_SECONDS:
        recent.popleft()
    last = state.get("heartbeat_last")
    repeated = last is not None and last[1] == report and now - last[0] < HEARTBEAT_REPEAT_SECONDS
    if repeated or len(recent) >= HEARTBEAT_BURST:
        return False
    recent.append(now)
    state["heartbeat_last"] = (now, report)
    return True


async def heartbeat(context: ActionContext, frame: dict[str, Any]) -> None:
    active, visible, room = frame.get("active"), frame.get("visible", True), frame.get("room")
    if not isinstance(active, bool) or not isinstance(visible, bool):
        raise ActionError("realtime.bad_frame", "A heartbeat says active and visible (true/false).")
    if room is not None and not _is_id(room):
        raise ActionError("realtime.bad_frame", "A heartbeat's room is a room id or null.")
    if not _heartbeat_allowed(context.state, (active, visible, room)):
        return
    await database_sync_to_async(presence.heartbeat)(
        user_id=context.user.pk,
        channel_name=context.channel_name,
        active=active,
        visible=visible,
        room_id=room,
    )


async def typing(context: ActionContext, frame: dict[str, Any]) -> None:
    room, thread = frame.get("room"), frame.get("thread")
    if not _is_id(room) or (thread is not None and not _is_id(thread)):
        raise ActionError("realtime.bad_frame", "Typing names a room id (and a thread id or null).")
    group = context.subscriptions.get(f"chat.room.{room}")
    if group is None:
        raise ActionError("chat.typing_refused", "Follow the room before typing in it.", room=room)
    assert isinstance(room, int)
    # Keyed by room and thread: typing in a thread, then in the room, are two indicators.
    last_relayed: dict[tuple[int, int | None], float] = context.state.setdefault("typing", {})
    now = time.monotonic()
    key = (room, thread if isinstance(thread, int) else None)
    if now - last_relayed.get(key, -TYPING_INTERVAL_SECONDS) < TYPING_INTERVAL_SECONDS:
        return
    last_relayed[key] = now
    user = context.user
    await context.relay(
        group,
        "chat.typing",
        # The name comes from the user the handshake loaded: a relay never queries.
        {"room_id": room, "thread_id": thread, "user_id": user.pk, "name": user.get_full_name()},
    )


def register() -> None:
    register_connection_listener(on_connect, on_disconnect)
    register_action("heartbeat", heartbeat)
    register_action("typing", typing)
