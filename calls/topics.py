"""The calls topics a socket may follow, registered with realtime at start-up.

- ``calls.call.<id>``: the call's two participants while the call is live. It carries the
  WebRTC signaling relayed by ``calls.socket`` (offers, answers, ICE candidates, keys).
- ``calls.catalog.all``: any signed-in user; professionals' status changes for the catalog.
"""

from __future__ import annotations

from typing import Any

from realtime.publish import revoke_topic_on_commit
from realtime.registry import register_topic

CATALOG_TOPIC = "calls.catalog.all"
CATALOG_GROUP = CATALOG_TOPIC


def call_topic(call_id: int) -> str:
    """The topic (and group) of one call's signaling."""
    return f"calls.call.{call_id}"


def can_follow_call(user: Any, key: str) -> bool:
    """``calls.call.<id>``: the client or the professional of a live call."""
    from django.db.models import Q

    from calls.models import LIVE_STATUSES, Call

    if not key.isdigit() or not user.is_authenticated:
        return False
    return (
        Call.objects.filter(pk=int(key), status__in=LIVE_STATUSES)
        .filter(Q(client_id=user.pk) | Q(professional_id=user.pk))
        .exists()
    )


def can_follow_catalog(user: Any, key: str) -> bool:
    """``calls.catalog.all``: anyone signed in (the catalog is visible to every user)."""
    return key == "all" and user.is_authenticated


def revoke_call_topic_on_commit(*, client_id: int, professional_id: int, call_id: int) -> None:
    """After commit, unsubscribe both participants' sockets from a call that just finished.

    Not required for safety (``calls.socket`` re-checks the call's status before relaying), but
    it stops an ended call's group from carrying anything at once.
    """
    for user_id in (client_id, professional_id):
        revoke_topic_on_commit(user_id, call_topic(call_id))


def register() -> None:
    register_topic("calls.call", check=can_follow_call)
    register_topic("calls.catalog", check=can_follow_catalog)
