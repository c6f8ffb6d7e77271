"""Professionals' presence from their sockets, and a dropped socket's effect on a live call.

realtime tells us when a socket opens or closes (``register_connection_listener``); chat keeps
one ``PresenceConnection`` row per open socket. The calls app is listed before chat, so our
listener runs first on both sides: on open, chat has not recorded the new socket yet (it
counts as present anyway); on close, chat has not deleted its row yet, so "other sockets" are
the fresh rows other than this channel's.

- Open (any socket of a professional): presence is back (``presence_lost_at`` cleared), status
  recomputed.
- Close of the user's last socket: a professional starts the offline countdown
  (``presence_lost_at``; ``professionals_sweep`` turns them offline past
  ``CALLS_OFFLINE_AFTER_SECONDS``), and the user's side of a connecting or active call is
  marked disconnected, as a media report ``connected=False`` would.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone

from calls import services
from realtime.registry import register_connection_listener


def on_connect(user_id: int, channel_name: str) -> None:
    services.professional_presence_gained(user_id=user_id)


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
    services.professional_presence_lost(user_id=user_id, now=now)
    services.call_side_disconnected(user_id=user_id, now=now)


def register() -> None:
    register_connection_listener(on_connect, on_disconnect)
