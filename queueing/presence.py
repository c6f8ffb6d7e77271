"""Support agents' presence from their sockets.

realtime tells us when a socket opens or closes (``register_connection_listener``); chat keeps
one ``PresenceConnection`` row per open socket. queueing is listed before chat, so our
listener runs first on both sides: on open, chat has not recorded the new socket yet; on
close, chat has not deleted its row yet, so "other sockets" are the fresh rows other than this
channel's.

- Open (any socket): the user's agent rows are connected again
  (``agents.agent_presence_connected``).
- Close of the user's last socket: the countdown starts (``agents.agent_presence_lost``);
  ``agents.agents_sweep`` disconnects them past INBOX_OFFLINE_AFTER_SECONDS.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone

from queueing import agents
from realtime.registry import register_connection_listener


def on_connect(user_id: int, channel_name: str) -> None:
    agents.agent_presence_connected(user_id=user_id)


def other_sockets_open(*, user_id: int, channel_name: str, now: datetime.datetime) -> bool:
    from chat.models import PresenceConnection

    since = now - datetime.timedelta(seconds=settings.PRESENCE_TIMEOUT_SECONDS)
    return (
        PresenceConnection.objects.filter(user_id=user_id, last_seen_at__gte=since)
        .exclude(channel_name=channel_name)
        .exists()
    )


def on_disconnect(user_id: int, channel_name: str) -> None:
    now = timezone.now()
    if other_sockets_open(user_id=user_id, channel_name=channel_name, now=now):
        return
    agents.agent_presence_lost(user_id=user_id, now=now)


def register() -> None:
    register_connection_listener(on_connect, on_disconnect)
