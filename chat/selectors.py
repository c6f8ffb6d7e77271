"""Reads of chat, each scoped to the person asking.

Everything a person may not see answers NotFoundError, the same as what does not exist:
another organization's rooms, private rooms and DMs they are not in. Lists run a constant
number of queries whatever their length (counts as subqueries, related rows prefetched).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import (
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.urls import NoReverseMatch, reverse

from accounts.models import Membership, User
from chat import markup
from chat.events import AttachmentData, MessageData, ReactionData, RoomData, UserBrief
from chat.models import (
    DIRECT_KINDS,
    Attachment,
    Message,
    MessageMention,
    NotifyLevel,
    Reaction,
    Room,
    RoomKind,
    RoomMember,
)
from core.exceptions import NotFoundError

MESSAGE_PAGE_DEFAULT = 50
MESSAGE_PAGE_MAX = 100
PEOPLE_SEARCH_LIMIT = 20


# --- Rooms -------------------------------------------------------------------------------------


def room_is_member(*, user: Any, room_id: int) -> bool:
    """Whether the user has a seat in the room (and still belongs to its organization)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return RoomMember.objects.filter(
        room_id=room_id,
        user_id=user.pk,
        room__organization__memberships__user_id=user.pk,
    ).exists()


def room_get_for_member(*, user: Any, room_id: int) -> Room:
    """A room the user is a member of; NotFoundError otherwise."""
    if not room_is_member(user=user, room_id=room_id):
        raise NotFoundError()
    return Room.objects.select_related("organization").get(pk=room_id)


def room_get_visible(*, user: Any, room_id: int) -> Room:
    """A room the user is a member of, or a public channel of one of their organizations."""
    if not getattr(user, "is_authenticated", False):
        raise NotFoundError()
    room = (
        Room.objects.select_related("organization")
        .filter(pk=room_id, organization__memberships__user_id=user.pk)
        .filter(Q(kind=RoomKind.CHANNEL) | Q(members__user_id=user.pk))
        .distinct()
        .first()
    )
    if room is None:
        raise NotFoundError()
    return room


def _count(queryset: QuerySet[Any]) -> Coalesce:
    """A correlated COUNT(*) of ``queryset`` as an integer annotation (0 when empty)."""
    # COUNT as a plain function, not an aggregate: no GROUP BY, so the subquery is one row.
    counted = queryset.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _unread_messages(user_id: int) -> QuerySet[Message]:
    return Message.objects.filter(
        room_id=OuterRef("room_id"),
        parent__isnull=True,
        id__gt=OuterRef("last_read_message_id"),
        deleted_at__isnull=True,
    ).exclude(author_id=user_id)


def _memberships_with_counts(user: Any) -> QuerySet[RoomMember]:
    """The user's room memberships with unread, mention and member counts: one query."""
    unread = _unread_messages(user.pk)
    mentioned = unread.filter(
        Q(mentions_all=True)
        | Q(mentions_here=True)
        | Exists(MessageMention.objects.filter(message_id=OuterRef("pk"), user_id=user.pk))
    )
    members = RoomMember.objects.filter(room_id=OuterRef("room_id"))
    return (
        RoomMember.objects.filter(user_id=user.pk)
        .select_related("room")
        .annotate(
            unread_count=_count(unread),
            mention_count=_count(mentioned),
            member_count=_count(members),
        )
        .prefetch_related(
            Prefetch(
                "room__members",
                queryset=RoomMember.objects.filter(room__kind__in=DIRECT_KINDS)
                .select_related("user")
                .order_by("pk"),
                to_attr="direct_rows",
            )
        )
    )


def room_list_for_user(
    *, user: Any, organization_id: int, room_ids: Iterable[int] | None = None
) -> list[RoomData]:
    """The user's rooms in the organization (joined channels, private rooms, DMs), with their
    read state; most recent activity first. Two queries, whatever the number of rooms."""
    memberships = _memberships_with_counts(user).filter(room__organization_id=organization_id)
    if room_ids is not None:
        memberships = memberships.filter(room_id__in=list(room_ids))
    rooms = [room_data(m.room, membership=m, user_id=user.pk) for m in memberships]
    rooms.sort(key=lambda room: room["last_message_at"] or room["created_at"], reverse=True)
    return rooms


def room_data_for_user(*, user: Any, room: Room) -> RoomData:
    """One room as ``room_list_for_user`` shows it (for a non-member: no role, no counts)."""
    found = room_list_for_user(user=user, organization_id=room.organization_id, room_ids=[room.pk])
    if found:
        return found[0]
    member_count = RoomMember.objects.filter(room=room).count()
    return room_data(room, membership=None, user_id=user.pk, member_count=member_count)


def user_brief(user: User) -> UserBrief:
    return {"id": user.pk, "name": user.get_full_name(), "avatar_url": avatar_url(user)}


def avatar_url(user: User) -> str | None:
    return user.avatar.url if user.avatar else None


def room_data(
    room: Room,
    *,
    membership: RoomMember | None,
    user_id: int,
    member_count: int | None = None,
) -> RoomData:
    direct_rows: list[RoomMember] = getattr(room, "direct_rows", [])
    return {
        "id": room.pk,
        "organization_id": room.organization_id,
        "kind": room.kind,
        "name": room.name,
        "topic": room.topic,
        "archived": room.archived_at is not None,
        "archived_at": room.archived_at,
        "created_at": room.created_at,
        "last_message_at": room.last_message_at,
        "role": membership.role if membership else None,
        "notify": membership.notify if membership else NotifyLevel.ALL,
        "last_read_message_id": membership.last_read_message_id if membership else 0,
        "unread_count": getattr(membership, "unread_count", 0),
        "mention_count": getattr(membership, "mention_count", 0),
        "member_count": member_count
        if member_count is not None
        else getattr(membership, "member_count", 0),
        "direct_members": [user_brief(row.user) for row in direct_rows if row.user_id != user_id],
    }


def room_members(*, room: Room) -> QuerySet[RoomMember]:
    return RoomMember.objects.filter(room=room).select_related("user").order_by("pk")


def room_read_state(*, user: Any, room: Room) -> dict[str, int]:
    """``{last_read_message_id, unread_count, mention_count}`` of the user in the room."""
    membership = _memberships_with_counts(user).filter(room_id=room.pk).first()
    if membership is None:
        return {"last_read_message_id": 0, "unread_count": 0, "mention_count": 0}
    return {
        "last_read_message_id": membership.last_read_message_id,
        "unread_count": membership.unread_count,  # type: ignore[attr-defined]
        "mention_count": membership.mention_count,  # type: ignore[attr-defined]
    }


def channel_browse(*, user: Any, organization_id: int, query: str = "") -> QuerySet[Room]:
    """The organization's public channels, by name, each with member_count and is_member."""
    if Membership.objects.filter(user_id=user.pk, organization_id=organization_id).count() == 0:
        raise NotFoundError()
    members = RoomMember.objects.filter(room_id=OuterRef("pk"))
    rooms = Room.objects.filter(organization_id=organization_id, kind=RoomKind.CHANNEL)
    if query:
        rooms = rooms.filter(Q(name__icontains=query) | Q(topic__icontains=query))
    return rooms.annotate(
        member_count=_count(members),
        is_member=Exists(RoomMember.objects.filter(room_id=OuterRef("pk"), user_id=user.pk)),
    ).order_by("name", "pk")


def people_for_mentions(*, organization_id: int, query: str = "") -> QuerySet[Membership]:
    """Members of the organization, by name; the caller checks that the asker is one."""
    people = Membership.objects.filter(organization_id=organization_id).select_related("user")
    if query:
        people = people.filter(
            Q(user__display_name__icontains=query) | Q(user__email__icontains=query)
        )
    return people.order_by("user__display_name", "user__email", "pk")


# --- Messages ----------------------------------------------------------------------------------


def attachment_urls(attachment: Attachment) -> tuple[str, str | None]:
    """(file url, thumbnail url or None) of an attachment, served only to room members."""
    try:
        url = reverse("chat:attachment-file", kwargs={"attachment_id": attachment.pk})
        thumbnail = reverse("chat:attachment-thumbnail", kwargs={"attachment_id": attachment.pk})
    except NoReverseMatch:
        url = f"/api/v1/chat/attachments/{attachment.pk}/file"
        thumbnail = f"/api/v1/chat/attachments/{attachment.pk}/thumbnail"
    return url, (thumbnail if attachment.thumbnail else None)


def attachment_data(attachment: Attachment) -> AttachmentData:
    url, thumbnail_url = attachment_urls(attachment)
    return {
        "id": attachment.pk,
        "kind": attachment.kind,
        "name": attachment.name,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "width": attachment.width,
        "height": attachment.height,
        "duration_ms": attachment.duration_ms,
        "url": url,
        "thumbnail_url": thumbnail_url,
    }


def _reactions(reactions: Sequence[Reaction]) -> list[ReactionData]:
    table = markup.emoji_table()
    grouped: dict[str, list[int]] = {}
    for reaction in sorted(reactions, key=lambda item: (item.created_at, item.pk)):
        grouped.setdefault(reaction.emoji, []).append(reaction.user_id)
    return [
        {"emoji": emoji, "char": table.get(emoji, ""), "count": len(users), "user_ids": users}
        for emoji, users in grouped.items()
    ]


def with_message_relations(messages: QuerySet[Message]) -> QuerySet[Message]:
    """Author, reactions, attachments and mentions loaded in a fixed number of queries."""
    return messages.select_related("author").prefetch_related(
        Prefetch("reactions", queryset=Reaction.objects.order_by("created_at", "pk")),
        Prefetch("attachments", queryset=Attachment.objects.order_by("pk")),
        Prefetch("mentions", queryset=MessageMention.objects.order_by("user_id")),
    )


def message_data(message: Message) -> MessageData:
    """The API's and the socket's shape of a message (a deleted one keeps only its trace)."""
    deleted = message.deleted_at is not None
    return {
        "id": message.pk,
        "room_id": message.room_id,
        "author": user_brief(message.author) if message.author is not None else None,
        "kind": message.kind,
        "body": "" if deleted else message.body,
        "html": "" if deleted else message.html,
        "parent_id": message.parent_id,
        "reply_count": message.reply_count,
        "last_reply_at": message.last_reply_at,
        "mentions": [] if deleted else [row.user_id for row in message.mentions.all()],
        "mentions_all": message.mentions_all and not deleted,
        "mentions_here": message.mentions_here and not deleted,
        "reactions": [] if deleted else _reactions(list(message.reactions.all())),
        "attachments": []
        if deleted
        else [attachment_data(item) for item in message.attachments.all()],
        "created_at": message.created_at,
        "edited_at": message.edited_at,
        "deleted": deleted,
        "pinned": message.pinned_at is not None,
        "pinned_at": message.pinned_at,
        "client_id": message.client_id,
    }


def message_data_by_id(message_id: int) -> MessageData:
    return message_data(with_message_relations(Message.objects.all()).get(pk=message_id))


def _limit(limit: int | None) -> int:
    if limit is None:
        return MESSAGE_PAGE_DEFAULT
    return max(1, min(limit, MESSAGE_PAGE_MAX))


def _page(
    messages: QuerySet[Message], *, before: int | None, after: int | None, limit: int | None
) -> tuple[list[Message], bool]:
    size = _limit(limit)
    if after is not None:
        messages = messages.filter(id__gt=after).order_by("id")
    else:
        if before is not None:
            messages = messages.filter(id__lt=before)
        messages = messages.order_by("-id")
    rows = list(with_message_relations(messages)[: size + 1])
    return rows[:size], len(rows) > size


def message_page(
    *, room: Room, before: int | None = None, after: int | None = None, limit: int | None = None
) -> tuple[list[Message], bool]:
    """Top-level messages by keyset: newest first (``before`` or nothing), or oldest first
    after ``after`` (a reconnecting client's resync). Returns (messages, has_more); four
    queries whatever the page size."""
    return _page(
        Message.objects.filter(room=room, parent__isnull=True),
        before=before,
        after=after,
        limit=limit,
    )


def thread_replies(
    *, parent: Message, after: int | None = None, limit: int | None = None
) -> tuple[list[Message], bool]:
    """A thread's replies, oldest first."""
    return _page(Message.objects.filter(parent=parent), before=None, after=after or 0, limit=limit)


def room_pins(*, room: Room) -> list[Message]:
    return list(
        with_message_relations(
            Message.objects.filter(room=room, pinned_at__isnull=False, deleted_at__isnull=True)
        ).order_by("-pinned_at", "-id")
    )


def message_get_visible(*, user: Any, message_id: int) -> Message:
    """A message in a room the user can see; NotFoundError otherwise."""
    message = Message.objects.select_related("room", "author").filter(pk=message_id).first()
    if message is None:
        raise NotFoundError()
    room_get_visible(user=user, room_id=message.room_id)
    return message


def organization_member_ids(*, organization_id: int, user_ids: Iterable[int]) -> set[int]:
    return set(
        Membership.objects.filter(
            organization_id=organization_id, user_id__in=list(user_ids)
        ).values_list("user_id", flat=True)
    )
