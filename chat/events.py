"""Real-time payloads of chat, sent to ``chat.room.<id>`` and ``user.<id>`` after commit.

Sockets only hurry things along: a client that reconnects reads rooms and messages from REST
(``messages/?after=<id>``), so nothing here is the only copy of anything.
"""

from __future__ import annotations

from typing import Any, TypedDict

from realtime.publish import publish_on_commit, revoke_topic_on_commit
from realtime.registry import user_group


class UserBrief(TypedDict):
    id: int
    name: str
    avatar_url: str | None


class ReactionData(TypedDict):
    emoji: str
    char: str
    count: int
    user_ids: list[int]


class AttachmentData(TypedDict):
    id: int
    kind: str
    name: str
    content_type: str
    size: int
    width: int | None
    height: int | None
    duration_ms: int | None
    url: str
    thumbnail_url: str | None


class MessageData(TypedDict):
    id: int
    room_id: int
    author: UserBrief | None
    kind: str
    body: str
    html: str
    parent_id: int | None
    reply_count: int
    last_reply_at: Any
    mentions: list[int]
    mentions_all: bool
    mentions_here: bool
    reactions: list[ReactionData]
    attachments: list[AttachmentData]
    created_at: Any
    edited_at: Any
    deleted: bool
    pinned: bool
    pinned_at: Any
    client_id: str | None


class RoomData(TypedDict):
    id: int
    organization_id: int
    kind: str
    name: str
    topic: str
    archived: bool
    archived_at: Any
    created_at: Any
    last_message_at: Any
    role: str | None
    notify: str
    last_read_message_id: int
    unread_count: int
    mention_count: int
    member_count: int
    direct_members: list[UserBrief]


class MessagePayload(TypedDict):
    message: MessageData


class RoomUpdatedPayload(TypedDict):
    room_id: int
    name: str
    topic: str
    archived: bool


class RoomReadPayload(TypedDict):
    room_id: int
    user_id: int
    last_read_message_id: int


class MyRoomReadPayload(TypedDict):
    room_id: int
    last_read_message_id: int
    unread_count: int
    mention_count: int


class MemberPayload(TypedDict):
    room_id: int
    user_id: int


class RoomAddedPayload(TypedDict):
    room: RoomData


class RoomRemovedPayload(TypedDict):
    room_id: int


def room_topic(room_id: int) -> str:
    return f"chat.room.{room_id}"


def message_created(message: MessageData) -> None:
    payload: MessagePayload = {"message": message}
    publish_on_commit(room_topic(message["room_id"]), "chat.message.created", dict(payload))


def message_updated(message: MessageData) -> None:
    payload: MessagePayload = {"message": message}
    publish_on_commit(room_topic(message["room_id"]), "chat.message.updated", dict(payload))


def room_updated(*, room_id: int, name: str, topic: str, archived: bool) -> None:
    payload: RoomUpdatedPayload = {
        "room_id": room_id,
        "name": name,
        "topic": topic,
        "archived": archived,
    }
    publish_on_commit(room_topic(room_id), "chat.room.updated", dict(payload))


def room_read(*, room_id: int, user_id: int, last_read_message_id: int) -> None:
    """Read receipts to the room, and "read elsewhere" to the reader's other tabs."""
    receipt: RoomReadPayload = {
        "room_id": room_id,
        "user_id": user_id,
        "last_read_message_id": last_read_message_id,
    }
    publish_on_commit(room_topic(room_id), "chat.room.read", dict(receipt))
    mine: MyRoomReadPayload = {
        "room_id": room_id,
        "last_read_message_id": last_read_message_id,
        "unread_count": 0,
        "mention_count": 0,
    }
    publish_on_commit(user_group(user_id), "chat.room.read", dict(mine))


def member_joined(*, room_id: int, user_id: int) -> None:
    payload: MemberPayload = {"room_id": room_id, "user_id": user_id}
    publish_on_commit(room_topic(room_id), "chat.member.joined", dict(payload))


def member_left(*, room_id: int, user_id: int) -> None:
    payload: MemberPayload = {"room_id": room_id, "user_id": user_id}
    publish_on_commit(room_topic(room_id), "chat.member.left", dict(payload))


def room_added(*, user_id: int, room: RoomData) -> None:
    payload: RoomAddedPayload = {"room": room}
    publish_on_commit(user_group(user_id), "chat.room.added", dict(payload))


def room_removed(*, user_id: int, room_id: int) -> None:
    """Tell the user's tabs the room is gone and unsubscribe their sockets from it."""
    payload: RoomRemovedPayload = {"room_id": room_id}
    publish_on_commit(user_group(user_id), "chat.room.removed", dict(payload))
    revoke_topic_on_commit(user_id, room_topic(room_id))
