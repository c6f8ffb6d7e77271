"""The topic registry: which topics exist, who may subscribe, and which group carries them.

Apps register their topics from ``AppConfig.ready()``::

    register_topic("accounts.organization", check=can_follow_organization)

A client then subscribes to ``accounts.organization.42``; the consumer asks the check with
the user and ``"42"`` (in a worker thread, so it may query the database) and, when allowed,
joins the group of the same name. A refused topic and an unknown topic get the same answer,
so a refusal never tells whether the object exists.

Apps may also hook into the socket itself (see "socket hooks" below): be told when a socket
opens and closes, and accept their own client actions (``heartbeat``, ``typing``). realtime
imports no app; the apps import it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Group names for the channel layer: letters, digits, '.', '-', '_' and under 100 characters.
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_PREFIX = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")

Check = Callable[[Any, str], bool]


@dataclass(frozen=True)
class Topic:
    prefix: str
    check: Check

    def group(self, key: str) -> str:
        return f"{self.prefix}.{key}"


_topics: dict[str, Topic] = {}


def register_topic(prefix: str, *, check: Check) -> None:
    """Register ``<prefix>.<key>`` topics; ``check(user, key)`` says who may follow one."""
    if not _PREFIX.match(prefix):
        raise ValueError(f"Topic prefix {prefix!r} must look like 'app.entity'.")
    if prefix in _topics and _topics[prefix].check is not check:
        raise ValueError(f"Topic prefix {prefix!r} is already registered.")
    _topics[prefix] = Topic(prefix=prefix, check=check)


def resolve(topic: str) -> tuple[Topic, str] | None:
    """Split ``topic`` into its registered Topic and key, or None if it is not one."""
    if not isinstance(topic, str) or len(topic) > 90:
        return None
    prefix, _, key = topic.rpartition(".")
    registered = _topics.get(prefix)
    if registered is None or not _KEY.match(key):
        return None
    return registered, key


def user_group(user_id: int) -> str:
    """Every connected socket of a user is in this group (notifications, call invites)."""
    return f"user.{user_id}"


# --- socket hooks ----------------------------------------------------------------------------
#
# realtime knows nothing of the apps built on it. Apps that need to know when a socket opens or
# closes (chat presence), or that accept their own client frames (heartbeats, typing, WebRTC
# signals), register hooks here from ``AppConfig.ready()``; the consumer calls them.

ConnectionHook = Callable[[int, str], None]


@dataclass(frozen=True)
class ConnectionListener:
    """Called with ``(user_id, channel_name)`` in a worker thread, so it may use the database."""

    on_connect: ConnectionHook
    on_disconnect: ConnectionHook


_connection_listeners: list[ConnectionListener] = []


def register_connection_listener(on_connect: ConnectionHook, on_disconnect: ConnectionHook) -> None:
    """Run ``on_connect`` after a socket is accepted and ``on_disconnect`` when it closes.

    Registering the same pair twice (``ready()`` may run more than once in tests) is a no-op.
    """
    listener = ConnectionListener(on_connect=on_connect, on_disconnect=on_disconnect)
    if listener not in _connection_listeners:
        _connection_listeners.append(listener)


def connection_listeners() -> tuple[ConnectionListener, ...]:
    return tuple(_connection_listeners)


@dataclass
class ActionContext:
    """What an action handler may know of the socket that sent the frame.

    ``subscriptions`` (topic -> group) is the socket's own, read-only for handlers: a relay
    checks membership of a room by the subscription the topic check already allowed, so it
    never has to touch the database. ``state`` is per-socket scratch memory (rate limits).
    """

    user: Any
    channel_name: str
    subscriptions: Mapping[str, str]
    channel_layer: Any
    state: dict[str, Any] = field(default_factory=dict)

    async def reply(self, event: str, data: dict[str, Any]) -> None:
        """Send a frame to this socket only."""
        from realtime.publish import RELAY_TYPE

        await self.channel_layer.send(
            self.channel_name, {"type": RELAY_TYPE, "event": event, "data": data}
        )

    async def relay(self, group: str, event: str, data: dict[str, Any]) -> None:
        """Send an ephemeral event to a group now (no transaction: nothing was written)."""
        from realtime.publish import RELAY_TYPE

        await self.channel_layer.group_send(
            group, {"type": RELAY_TYPE, "event": event, "data": data}
        )


class ActionError(Exception):
    """A handler refuses a frame; the consumer answers with a ``realtime.error`` frame."""

    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra


# A handler is ``async def handler(context, frame)`` or a plain function, which the consumer
# runs in a worker thread (so it may use the database). It answers nothing, or raises
# ActionError.
ActionHandler = Callable[[ActionContext, dict[str, Any]], Awaitable[None] | None]

BUILTIN_ACTIONS = frozenset({"subscribe", "unsubscribe", "ping"})
_ACTION = re.compile(r"^[a-z][a-z0-9_.]{0,39}$")
_actions: dict[str, ActionHandler] = {}


def register_action(name: str, handler: ActionHandler) -> None:
    """Accept client frames ``{"action": name, ...}`` and hand them to ``handler``."""
    if not _ACTION.match(name) or name in BUILTIN_ACTIONS:
        raise ValueError(f"Action name {name!r} is reserved or malformed.")
    if name in _actions and _actions[name] is not handler:
        raise ValueError(f"Action {name!r} is already registered.")
    _actions[name] = handler


def action_handler(name: str) -> ActionHandler | None:
    return _actions.get(name)


# --- visitors: the support widget's socket ---------------------------------------------------
#
# ``/ws/widget/`` serves people without an account (website visitors). realtime does not know
# how they prove who they are: one app registers an authenticator that turns the handshake
# (public key, token, origin) into a Visitor, or refuses it, and the actions visitors may send.


@dataclass(frozen=True)
class VisitorHandshake:
    """What a widget socket's handshake says: query ``key`` and ``token``, ``Origin`` header,
    and our own origin (``scheme://host`` the socket reached)."""

    key: str | None
    token: str | None
    origin: str | None
    own_origin: str


@dataclass(frozen=True)
class Visitor:
    """Who a widget socket speaks for: the socket joins ``groups`` and is greeted with
    ``hello`` (the data of its ``realtime.hello`` frame)."""

    id: int
    organization_id: int
    groups: tuple[str, ...]
    hello: Mapping[str, Any]


# Runs in a worker thread (it may use the database); None refuses the handshake.
VisitorAuthenticator = Callable[[VisitorHandshake], Visitor | None]

_visitor_authenticator: list[VisitorAuthenticator] = []
_visitor_actions: dict[str, ActionHandler] = {}


def register_visitor_authenticator(authenticator: VisitorAuthenticator) -> None:
    """Decide who may open ``/ws/widget/``; there is one (registering it again is a no-op)."""
    if _visitor_authenticator and _visitor_authenticator[0] is not authenticator:
        raise ValueError("A visitor authenticator is already registered.")
    _visitor_authenticator[:] = [authenticator]


def visitor_authenticator() -> VisitorAuthenticator | None:
    return _visitor_authenticator[0] if _visitor_authenticator else None


def register_visitor_action(name: str, handler: ActionHandler) -> None:
    """Accept ``{"action": name, ...}`` from widget sockets (``context.user`` is the Visitor)."""
    if not _ACTION.match(name) or name in BUILTIN_ACTIONS:
        raise ValueError(f"Action name {name!r} is reserved or malformed.")
    if name in _visitor_actions and _visitor_actions[name] is not handler:
        raise ValueError(f"Visitor action {name!r} is already registered.")
    _visitor_actions[name] = handler


def visitor_action_handler(name: str) -> ActionHandler | None:
    return _visitor_actions.get(name)
