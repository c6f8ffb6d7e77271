"""What calls add to the one socket: the WebRTC signaling relay.

``{"action": "call.signal", "call": <id>, "kind": "offer"|"answer"|"ice"|"key"|"restart"|"bye",
"payload": {...}}`` is relayed as ``calls.signal`` ``{"call_id", "from", "kind", "payload"}`` to
the call's group ``calls.call.<id>``, which both participants' sockets join by subscribing to
the topic (``calls.topics``). Clients ignore frames whose ``from`` is themselves: a group send
reaches the sender's own sockets too.

A frame is relayed only when all of these hold, otherwise the socket gets a ``realtime.error``
with code ``calls.signal_refused`` and nobody else hears anything:

- it is well formed: a call id, a known kind, a JSON object payload of at most 16 KiB;
- this socket follows ``calls.call.<id>`` (the topic check proved the user a participant of a
  live call when it subscribed);
- the socket is within its rate limit;
- the call is still in ``SIGNALING_STATUSES`` with the sender as a participant (see
  ``_may_signal`` for why that answer is cached for a few seconds).

Signals are never stored: they are ephemeral, like typing indicators.
"""

from __future__ import annotations

import json
import time
from collections import deque
from typing import Any

from channels.db import database_sync_to_async

from calls.topics import call_topic
from realtime.registry import ActionContext, ActionError, register_action

SIGNAL_KINDS = frozenset({"offer", "answer", "ice", "key", "restart", "bye"})
MAX_PAYLOAD_BYTES = 16 * 1024
# A peer connection setup is an offer, an answer and a burst of ICE candidates (one per local
# interface and server, usually under 30 per side); an ICE restart repeats it. This leaves room
# for a couple of those in a window, and stops a client flooding its peer.
SIGNAL_BURST = 100
SIGNAL_WINDOW_SECONDS = 10.0
# How long a "yes, this user may signal in this call" answer from the database is reused.
PERMISSION_CACHE_SECONDS = 3.0


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


def _refuse(call: Any, reason: str, message: str) -> ActionError:
    extra: dict[str, Any] = {"reason": reason}
    if _is_id(call):
        extra["call"] = call
    return ActionError("calls.signal_refused", message, **extra)


def _within_rate(state: dict[str, Any]) -> bool:
    now = time.monotonic()
    recent: deque[float] = state.setdefault("call_signals", deque())
    while recent and now - recent[0] > SIGNAL_WINDOW_SECONDS:
        recent.popleft()
    if len(recent) >= SIGNAL_BURST:
        return False
    recent.append(now)
    return True


def _participant_of_signaling_call(user_id: int, call_id: int) -> bool:
    from django.db.models import Q

    from calls.models import SIGNALING_STATUSES, Call

    return (
        Call.objects.filter(pk=call_id, status__in=SIGNALING_STATUSES)
        .filter(Q(client_id=user_id) | Q(professional_id=user_id))
        .exists()
    )


async def _may_signal(context: ActionContext, call_id: int) -> bool:
    """Whether the sender may signal in ``call_id`` now, from the database or a recent answer.

    Why a cache: the subscription proves the user was a participant of a live call when the
    socket subscribed, but the call may have ended since, and a relay must stop with it. Asking
    the database for every frame would cost one worker-thread hop and one query per ICE
    candidate, and candidates come in bursts of tens within a second, for every call at once.
    Reusing the answer for PERMISSION_CACHE_SECONDS makes a burst cost one query, and bounds to
    those few seconds how long a socket may keep signaling into a call that has just ended.
    That is harmless: signals carry nothing billable, both peers are told the call ended by
    ``calls.call.updated``, and the call's topic is revoked when it finishes. Refusals are
    cached too, so a client cannot turn refused frames into queries either.
    """
    cache: dict[int, tuple[float, bool]] = context.state.setdefault("call_signal_allowed", {})
    now = time.monotonic()
    cached = cache.get(call_id)
    if cached is not None and now - cached[0] < PERMISSION_CACHE_SECONDS:
        return cached[1]
    allowed = await database_sync_to_async(_participant_of_signaling_call)(context.user.pk, call_id)
    cache[call_id] = (now, allowed)
    return allowed


async def signal(context: ActionContext, frame: dict[str, Any]) -> None:
    call, kind, payload = frame.get("call"), frame.get("kind"), frame.get("payload")
    if not _is_id(call):
        raise _refuse(call, "bad_frame", "A signal names a call id.")
    assert isinstance(call, int)
    if kind not in SIGNAL_KINDS:
        raise _refuse(call, "bad_frame", "Unknown signal kind.")
    if not isinstance(payload, dict):
        raise _refuse(call, "bad_frame", "A signal's payload is a JSON object.")
    encoded = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    if len(encoded.encode()) > MAX_PAYLOAD_BYTES:
        raise _refuse(call, "too_large", "A signal's payload is at most 16 KiB.")
    group = context.subscriptions.get(call_topic(call))
    if group is None:
        raise _refuse(call, "not_subscribed", "Follow the call before signaling in it.")
    if not _within_rate(context.state):
        raise _refuse(call, "rate_limited", "Too many signals; slow down.")
    if not await _may_signal(context, call):
        raise _refuse(call, "not_allowed", "This call does not take signals.")
    await context.relay(
        group,
        "calls.signal",
        {"call_id": call, "from": context.user.pk, "kind": kind, "payload": payload},
    )


def register() -> None:
    register_action("call.signal", signal)
