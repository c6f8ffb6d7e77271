"""The chat topics a socket may follow, registered with realtime at start-up."""

from __future__ import annotations

from typing import Any

from realtime.registry import register_topic


def can_follow_room(user: Any, key: str) -> bool:
    """``chat.room.<id>``: members of the room (for public channels, joined members)."""
    from chat.selectors import room_is_member

    return key.isdigit() and room_is_member(user=user, room_id=int(key))


def can_follow_presence(user: Any, key: str) -> bool:
    """``chat.presence.<organization id>``: members of the organization."""
    from accounts.selectors import membership_get

    return key.isdigit() and membership_get(user=user, organization_id=int(key)) is not None


def register() -> None:
    register_topic("chat.room", check=can_follow_room)
    register_topic("chat.presence", check=can_follow_presence)
