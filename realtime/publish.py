"""Send events to WebSocket groups, only after the surrounding transaction commits.

Events describe committed state. Sending one from inside a transaction that later rolls back
would tell clients about something that never happened, so every send waits for the commit
(``transaction.on_commit``). Delivery is at most once: clients resync through REST after a
reconnect, so a send that fails (the channel layer is down) is logged and dropped, and never
turns a committed request into an error.

How a message reaches the layer depends on the layer. The in-memory layer (embedded default)
lives in the server's event loop, so ``async_to_sync`` hops back onto that loop, as it does from
a request's worker thread. A broker-backed layer (Redis) keeps a connection pool per event
loop: sending through ``async_to_sync`` from a Celery task or a command would start a new loop,
and a new Redis connection, for every event. Those sends go through one long-lived loop per
process instead (started lazily, and again after a fork).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from collections.abc import Sequence
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

logger = logging.getLogger(__name__)

# The consumer handler that relays these messages to the socket: RealtimeConsumer.realtime_event.
RELAY_TYPE = "realtime.event"


# A send that takes longer than this is given up (and logged): delivery is at most once.
SEND_TIMEOUT_SECONDS = 5.0

_loop_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_loop_pid = 0


def _publishing_loop() -> asyncio.AbstractEventLoop:
    """This process's publishing loop, running in a daemon thread; a forked child makes its own."""
    global _loop, _loop_pid
    with _loop_lock:
        if _loop is None or _loop_pid != os.getpid() or _loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="realtime-publish", daemon=True).start()
            _loop, _loop_pid = loop, os.getpid()
        return _loop


def _send(group: str, message: dict[str, Any]) -> None:
    try:
        layer = get_channel_layer()
        if layer is None:
            return
        if isinstance(layer, InMemoryChannelLayer):
            async_to_sync(layer.group_send)(group, message)
            return
        future = asyncio.run_coroutine_threadsafe(
            layer.group_send(group, message), _publishing_loop()
        )
        future.result(timeout=SEND_TIMEOUT_SECONDS)
    except Exception:
        logger.exception(
            "realtime publish failed", extra={"group": group, "event": message["event"]}
        )


def publish_on_commit(group: str, event: str, payload: dict[str, Any]) -> None:
    """Queue ``{"type": event, "data": payload}`` for ``group`` once the transaction commits.

    The payload is serialized here, at the call site, so a value that is not JSON-able fails
    the code that built it (in tests, at once) instead of the socket later. Outside a
    transaction the event goes out immediately.
    """
    # The socket frame is encoded here, once: a room of 1,000 sockets would otherwise encode
    # the same frame 1,000 times in the server (realtime_event sends ``text`` as it is).
    message = _frame(event, payload)
    transaction.on_commit(lambda: _send(group, message))


def _frame(event: str, payload: dict[str, Any]) -> dict[str, Any]:
    data = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    text = json.dumps({"type": event, "data": data})
    return {"type": RELAY_TYPE, "event": event, "data": data, "text": text}


def publish_many_on_commit(events: Sequence[tuple[str, str, dict[str, Any]]]) -> None:
    """Queue many ``(group, event, payload)`` sends for after the commit, sent all at once.

    For passes that touch thousands of objects (billing): one round trip to the layer per
    event would be most of their time, so the sends go out concurrently from one coroutine
    and the caller does not wait for them (delivery is at most once either way; failures are
    logged). A payload object shared by several groups is encoded once.
    """
    encoded: dict[int, dict[str, Any]] = {}
    messages = []
    for group, event, payload in events:
        message = encoded.get(id(payload))
        if message is None:
            message = encoded[id(payload)] = _frame(event, payload)
        messages.append((group, message))
    if messages:
        transaction.on_commit(lambda: _send_many(messages))


def _send_many(messages: list[tuple[str, dict[str, Any]]]) -> None:
    try:
        layer = get_channel_layer()
        if layer is None:
            return

        async def send_all() -> None:
            results = await asyncio.gather(
                *(layer.group_send(group, message) for group, message in messages),
                return_exceptions=True,
            )
            failed = sum(1 for result in results if isinstance(result, BaseException))
            if failed:
                logger.error("realtime publish failed for %s of %s events", failed, len(results))

        if isinstance(layer, InMemoryChannelLayer):
            async_to_sync(send_all)()
            return
        asyncio.run_coroutine_threadsafe(send_all(), _publishing_loop())
    except Exception:
        logger.exception("realtime publish of %s events failed", len(messages))


def revoke_topic_on_commit(user_id: int, topic: str) -> None:
    """After commit, unsubscribe every socket of ``user_id`` from ``topic``.

    Used when access ends (a member is removed) so an open socket stops receiving a topic its
    user may no longer follow, without waiting for a reconnect.
    """
    from realtime.registry import user_group

    message = {"type": "realtime.revoke", "event": "realtime.revoke", "topic": topic}
    transaction.on_commit(lambda: _send(user_group(user_id), message))
