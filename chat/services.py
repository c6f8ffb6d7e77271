"""Writes of chat: rooms, membership, read state, messages, reactions and pins.

Every write checks ``chat.permissions`` first (an invisible room or message is NotFoundError;
a visible one the person may not change is PermissionDeniedError), runs in one transaction,
publishes its socket events after commit (``chat.events``) and returns the domain object.
Refusals store nothing and send nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.files.storage import Storage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.audit import AuditAction
from accounts.models import User
from accounts.services import audit_record
from chat import events, markup, notifications, permissions, selectors
from chat.models import (
    CHANNEL_KINDS,
    Attachment,
    AttachmentKind,
    Message,
    MessageKind,
    MessageMention,
    NotifyLevel,
    Reaction,
    Room,
    RoomKind,
    RoomMember,
    RoomRole,
)
from chat.permissions import RoomAccess
from core.exceptions import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError

_CHANNEL_NAME = re.compile(r"^[\w-]{1,80}$")


class RoomArchivedError(ConflictError):
    code = "chat.room_archived"
    default_message = gettext_lazy("This room is archived: nothing can be posted or changed.")


class ChannelNameTakenError(ConflictError):
    code = "chat.channel_name_taken"
    default_message = gettext_lazy("A channel with this name already exists.")


class InvalidChannelNameError(ApplicationError):
    code = "chat.invalid_name"
    default_message = gettext_lazy(
        "Use 1 to 80 letters, digits, hyphens or underscores for a channel name."
    )


class NotAChannelError(ApplicationError):
    code = "chat.not_a_channel"
    default_message = gettext_lazy("Only channels can do this.")


class CannotLeaveDirectError(ConflictError):
    code = "chat.cannot_leave_direct"
    default_message = gettext_lazy("A direct message cannot be left.")


class NotOrganizationMemberError(ApplicationError):
    code = "chat.not_organization_member"
    status_code = 422
    default_message = gettext_lazy("Some of these people are not in the organization.")


class DirectPeopleError(ApplicationError):
    code = "chat.invalid_direct_people"
    default_message = gettext_lazy("Choose between one and %(most)s other people.")


class MessageEmptyError(ApplicationError):
    code = "chat.message_empty"
    default_message = gettext_lazy("Write something or attach a file.")


class MessageTooLongError(ApplicationError):
    code = "chat.message_too_long"
    default_message = gettext_lazy("This message is too long.")


class MentionNotMemberError(ApplicationError):
    code = "chat.mention_not_member"
    status_code = 422
    default_message = gettext_lazy("Some of the people mentioned are not in this room.")


class InvalidParentError(ApplicationError):
    code = "chat.invalid_parent"
    default_message = gettext_lazy("Replies go to a message of this room that is not a reply.")


class InvalidAttachmentsError(ApplicationError):
    code = "chat.invalid_attachments"
    default_message = gettext_lazy("Attach files you uploaded to this room and have not sent.")


class VoiceNeedsAudioError(ApplicationError):
    code = "chat.voice_needs_audio"
    default_message = gettext_lazy("A voice message carries exactly one audio recording.")


class MessageDeletedError(ConflictError):
    code = "chat.message_deleted"
    default_message = gettext_lazy("This message was deleted.")


class InvalidEmojiError(ApplicationError):
    code = "chat.invalid_emoji"
    default_message = gettext_lazy("Unknown emoji.")


class InvalidMessageError(ApplicationError):
    code = "chat.invalid_message"
    default_message = gettext_lazy("This message is not in this room.")


def _denied(message: str | None = None) -> PermissionDeniedError:
    return PermissionDeniedError(message, code="chat.permission_denied")


def _visible_access(user: Any, room: Room) -> RoomAccess:
    """The user's access to a room they can see; NotFoundError when they cannot."""
    access = permissions.room_access(user, room)
    if not permissions.can_see(user, room, access=access):
        raise NotFoundError()
    return access


def _member_access(user: Any, room: Room) -> RoomAccess:
    access = permissions.room_access(user, room)
    if access.org_role is None or not access.is_member:
        raise NotFoundError()
    return access


def _writable(room: Room) -> None:
    if room.archived_at is not None:
        raise RoomArchivedError()


def _lock_room(room: Room) -> Room:
    return Room.objects.select_for_update().get(pk=room.pk)


def _latest_message_id(room_id: int) -> int:
    return (
        Message.objects.filter(room_id=room_id, parent__isnull=True)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
        or 0
    )


def _require_org_members(organization_id: int, user_ids: Iterable[int]) -> set[int]:
    wanted = set(user_ids)
    found = selectors.organization_member_ids(organization_id=organization_id, user_ids=wanted)
    missing = sorted(wanted - found)
    if missing:
        raise NotOrganizationMemberError(extra={"user_ids": missing})
    return wanted


def _announce_added(room: Room, user_ids: Iterable[int]) -> None:
    """``chat.room.added`` to each person's tabs, with the room as their list shows it."""
    people = {user.pk: user for user in User.objects.filter(pk__in=list(user_ids))}
    for user_id, user in people.items():
        events.room_added(user_id=user_id, room=selectors.room_data_for_user(user=user, room=room))


def channel_name_normalize(name: str) -> str:
    """``"# Sales Team "`` → ``"sales-team"``; raises InvalidChannelNameError."""
    cleaned = re.sub(r"\s+", "-", name.strip().lstrip("#").strip()).lower()
    if not _CHANNEL_NAME.match(cleaned):
        raise InvalidChannelNameError()
    return cleaned


# --- Rooms -------------------------------------------------------------------------------------


@transaction.atomic
def room_create_channel(
    *,
    user: User,
    organization_id: int,
    kind: str,
    name: str,
    topic: str = "",
    member_ids: Sequence[int] = (),
) -> Room:
    """Create a public or private channel with ``user`` as its owner and ``member_ids`` in it.

    The unique (organization, name) constraint settles two creations of the same name.
    Emits chat.room.added to every member. Raises NotFoundError (not in the organization),
    PermissionDeniedError (viewers), InvalidChannelNameError, ChannelNameTakenError,
    NotOrganizationMemberError.
    """
    role = permissions.org_role(user, organization_id)
    if role is None:
        raise NotFoundError()
    if not permissions.can_create_rooms(role):
        raise _denied()
    if kind not in CHANNEL_KINDS:
        raise NotAChannelError()
    cleaned = channel_name_normalize(name)
    others = _require_org_members(organization_id, member_ids) - {user.pk}
    try:
        with transaction.atomic():
            room = Room.objects.create(
                organization_id=organization_id,
                kind=kind,
                name=cleaned,
                topic=topic.strip(),
                created_by=user,
            )
    except IntegrityError as exc:
        raise ChannelNameTakenError(extra={"name": cleaned}) from exc
    RoomMember.objects.create(room=room, user=user, role=RoomRole.OWNER)
    RoomMember.objects.bulk_create(
        [RoomMember(room=room, user_id=user_id) for user_id in sorted(others)]
    )
    _announce_added(room, {user.pk, *others})
    return room


def direct_key(user_ids: Iterable[int]) -> str:
    return ":".join(str(pk) for pk in sorted(set(user_ids)))


@transaction.atomic
def direct_room_get_or_create(
    *, user: User, organization_id: int, user_ids: Sequence[int]
) -> tuple[Room, bool]:
    """The DM (one other person) or group DM (several) between ``user`` and ``user_ids``.

    The same people always get the same room: it is found by its direct key, and two requests
    racing to create it meet at the unique constraint (the loser reads the winner's room).
    Emits chat.room.added to every participant when created. Raises NotFoundError (not in the
    organization), PermissionDeniedError (viewers), DirectPeopleError,
    NotOrganizationMemberError.
    """
    role = permissions.org_role(user, organization_id)
    if role is None:
        raise NotFoundError()
    if not permissions.can_create_rooms(role):
        raise _denied()
    most = settings.CHAT_GROUP_DM_MAX_MEMBERS - 1
    others = set(user_ids) - {user.pk}
    if not 1 <= len(others) <= most:
        raise DirectPeopleError(
            str(DirectPeopleError.default_message) % {"most": most}, extra={"max": most}
        )
    _require_org_members(organization_id, others)
    participants = {user.pk, *others}
    key = direct_key(participants)
    existing = Room.objects.filter(organization_id=organization_id, direct_key=key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            room = Room.objects.create(
                organization_id=organization_id,
                kind=RoomKind.DIRECT if len(participants) == 2 else RoomKind.GROUP,
                direct_key=key,
                created_by=user,
            )
            RoomMember.objects.bulk_create(
                [RoomMember(room=room, user_id=user_id) for user_id in sorted(participants)]
            )
    except IntegrityError:
        return Room.objects.get(organization_id=organization_id, direct_key=key), False
    _announce_added(room, participants)
    return room, True


def _room_changed(room: Room) -> None:
    events.room_updated(
        room_id=room.pk, name=room.name, topic=room.topic, archived=room.archived_at is not None
    )


@transaction.atomic
def room_update(
    *, user: User, room: Room, name: str | None = None, topic: str | None = None
) -> Room:
    """Rename a channel or set its topic. Locks the room. Emits chat.room.updated.

    Raises NotFoundError, PermissionDeniedError (not its owner/admin nor an org admin, or not a
    channel), RoomArchivedError, InvalidChannelNameError, ChannelNameTakenError.
    """
    access = _visible_access(user, room)
    if not permissions.can_manage(user, room, access=access):
        raise _denied()
    locked = _lock_room(room)
    _writable(locked)
    if name is not None:
        locked.name = channel_name_normalize(name)
    if topic is not None:
        locked.topic = topic.strip()
    try:
        with transaction.atomic():
            locked.save(update_fields=["name", "topic", "updated_at"])
    except IntegrityError as exc:
        raise ChannelNameTakenError(extra={"name": locked.name}) from exc
    _room_changed(locked)
    return locked


def _set_archived(*, user: User, room: Room, archived: bool) -> Room:
    access = _visible_access(user, room)
    if not permissions.can_manage(user, room, access=access):
        raise _denied()
    locked = _lock_room(room)
    if (locked.archived_at is not None) == archived:
        return locked
    locked.archived_at = timezone.now() if archived else None
    locked.save(update_fields=["archived_at", "updated_at"])
    audit_record(
        action=AuditAction.CHAT_ROOM_ARCHIVED if archived else AuditAction.CHAT_ROOM_UNARCHIVED,
        actor=user,
        target=locked,
        organization=locked.organization,
        data={"room_id": locked.pk, "name": locked.name},
    )
    _room_changed(locked)
    return locked


@transaction.atomic
def room_archive(*, user: User, room: Room) -> Room:
    """Archive a channel: it stays readable, nothing more can be posted. Locks the room; audit
    record and chat.room.updated. Archiving twice changes nothing. Raises NotFoundError,
    PermissionDeniedError (not a manager, or a DM)."""
    return _set_archived(user=user, room=room, archived=True)


@transaction.atomic
def room_unarchive(*, user: User, room: Room) -> Room:
    """Undo room_archive (same locks, events and errors)."""
    return _set_archived(user=user, room=room, archived=False)


@transaction.atomic
def room_join(*, user: User, room: Room) -> RoomMember:
    """Join a public channel (viewers too: to read it). Joining twice changes nothing.

    The new member's read position starts at the latest message, so a channel's history does
    not arrive as hundreds of unread messages. Emits chat.member.joined and chat.room.added.
    Raises NotFoundError (not visible), NotAChannelError (not public), RoomArchivedError.
    """
    access = _visible_access(user, room)
    if access.member is not None:
        return access.member
    if not permissions.can_join(user, room, access=access):
        raise NotAChannelError()
    _writable(room)
    try:
        with transaction.atomic():
            member = RoomMember.objects.create(
                room=room, user=user, last_read_message_id=_latest_message_id(room.pk)
            )
    except IntegrityError:
        return RoomMember.objects.get(room=room, user=user)
    events.member_joined(room_id=room.pk, user_id=user.pk)
    _announce_added(room, [user.pk])
    return member


def _end_membership(member: RoomMember) -> None:
    room_id, user_id = member.room_id, member.user_id
    member.delete()
    events.member_left(room_id=room_id, user_id=user_id)
    events.room_removed(user_id=user_id, room_id=room_id)


@transaction.atomic
def room_leave(*, user: User, room: Room) -> None:
    """Leave a channel or a group DM (a one-to-one DM cannot be left).

    Emits chat.member.left to the room and chat.room.removed to the user (their sockets stop
    following the room). Raises NotFoundError (not a member), CannotLeaveDirectError.
    """
    access = _member_access(user, room)
    if not permissions.can_leave(user, room, access=access):
        raise CannotLeaveDirectError()
    assert access.member is not None
    _end_membership(access.member)


@transaction.atomic
def room_members_add(*, user: User, room: Room, user_ids: Sequence[int]) -> list[RoomMember]:
    """Invite members of the organization to a channel; people already in it are skipped.

    Emits chat.member.joined and chat.room.added for each new member. Raises NotFoundError,
    PermissionDeniedError (may not post here), NotAChannelError (DMs keep their people),
    RoomArchivedError, NotOrganizationMemberError.
    """
    access = _visible_access(user, room)
    if not permissions.can_invite(user, room, access=access):
        raise _denied()
    if not room.is_channel:
        raise NotAChannelError()
    _writable(room)
    wanted = _require_org_members(room.organization_id, user_ids)
    present = set(
        RoomMember.objects.filter(room=room, user_id__in=wanted).values_list("user_id", flat=True)
    )
    latest = _latest_message_id(room.pk)
    added: list[RoomMember] = []
    for user_id in sorted(wanted - present):
        try:
            with transaction.atomic():
                added.append(
                    RoomMember.objects.create(
                        room=room, user_id=user_id, last_read_message_id=latest
                    )
                )
        except IntegrityError:
            continue  # joined meanwhile
    for member in added:
        events.member_joined(room_id=room.pk, user_id=member.user_id)
    _announce_added(room, [member.user_id for member in added])
    return added


def _target_member(room: Room, user_id: int) -> RoomMember:
    member = RoomMember.objects.select_for_update().filter(room=room, user_id=user_id).first()
    if member is None:
        raise NotFoundError()
    return member


@transaction.atomic
def room_member_remove(*, user: User, room: Room, user_id: int) -> None:
    """Remove someone from a channel (its owner only by an org admin). Locks the seat.

    Audit record; chat.member.left and chat.room.removed (their sockets stop following the
    room). Raises NotFoundError (room or seat), PermissionDeniedError.
    """
    access = _visible_access(user, room)
    if user_id == user.pk:
        room_leave(user=user, room=room)
        return
    if not permissions.can_remove_members(user, room, access=access):
        raise _denied()
    member = _target_member(room, user_id)
    if member.role == RoomRole.OWNER and not access.is_org_admin:
        raise _denied(_("Only an organization admin can remove the channel's owner."))
    audit_record(
        action=AuditAction.CHAT_MEMBER_REMOVED,
        actor=user,
        target=room,
        organization=room.organization,
        data={"room_id": room.pk, "user_id": user_id},
    )
    _end_membership(member)


@transaction.atomic
def room_member_role_set(*, user: User, room: Room, user_id: int, role: str) -> RoomMember:
    """Make a channel member its owner, an admin or a plain member. Locks the seat.

    Only the owner or an org admin hands out or takes away ownership. Raises NotFoundError,
    PermissionDeniedError, ApplicationError (unknown role).
    """
    access = _visible_access(user, room)
    if not permissions.can_manage(user, room, access=access):
        raise _denied()
    if role not in RoomRole.values:
        raise ApplicationError(code="chat.invalid_role")
    member = _target_member(room, user_id)
    touches_owner = RoomRole.OWNER in (role, member.role)
    if touches_owner and not (access.is_org_admin or access.room_role == RoomRole.OWNER):
        raise _denied()
    member.role = role
    member.save(update_fields=["role", "updated_at"])
    return member


@transaction.atomic
def room_mark_read(*, user: User, room: Room, message_id: int | None = None) -> dict[str, int]:
    """Move the user's read position to ``message_id`` (default: the latest message).

    Never moves backwards (a late request from another tab changes nothing). Locks the seat.
    Emits chat.room.read to the room (read receipts) and to the user's tabs when it moved.
    The room's message notifications up to the read position are read too (always: one may
    have been created after an earlier read that did not move the position).
    Returns the read state. Raises NotFoundError (not a member), InvalidMessageError.
    """
    _member_access(user, room)
    if message_id is None:
        target = _latest_message_id(room.pk)
    else:
        if not Message.objects.filter(pk=message_id, room=room).exists():
            raise InvalidMessageError()
        target = message_id
    member = _target_member(room, user.pk)
    if target > member.last_read_message_id:
        member.last_read_message_id = target
        member.last_read_at = timezone.now()
        member.save(update_fields=["last_read_message_id", "last_read_at", "updated_at"])
        events.room_read(room_id=room.pk, user_id=user.pk, last_read_message_id=target)
    notifications.notifications_mark_read_for_room(
        user_id=user.pk, room_id=room.pk, up_to_message_id=member.last_read_message_id
    )
    return selectors.room_read_state(user=user, room=room)


@transaction.atomic
def room_notify_set(*, user: User, room: Room, notify: str) -> RoomMember:
    """Choose which messages of the room notify the user (all, mentions, nothing)."""
    _member_access(user, room)
    if notify not in NotifyLevel.values:
        raise ApplicationError(code="chat.invalid_notify")
    member = _target_member(room, user.pk)
    member.notify = notify
    member.save(update_fields=["notify", "updated_at"])
    return member


def room_memberships_end(*, user_id: int, organization_id: int) -> int:
    """End every seat the user had in the organization's rooms (they left the organization).

    Emits chat.member.left and chat.room.removed for each. Returns how many ended.
    """
    members = list(
        RoomMember.objects.filter(user_id=user_id, room__organization_id=organization_id)
    )
    for member in members:
        _end_membership(member)
    return len(members)


# --- Messages ----------------------------------------------------------------------------------


def _clean_body(body: str, *, has_attachments: bool) -> str:
    cleaned = markup.clean(body)
    maximum = settings.CHAT_MESSAGE_MAX_LENGTH
    if len(cleaned) > maximum:
        raise MessageTooLongError(extra={"max_length": maximum})
    if not cleaned and not has_attachments:
        raise MessageEmptyError()
    return cleaned


def _mentions(room: Room, body: str) -> tuple[markup.Mentions, dict[int, str]]:
    """Who ``body`` mentions, refused unless all are in the room; and their names."""
    mentions = markup.mentions_in(body)
    if not mentions.user_ids:
        return mentions, {}
    members = {
        member.user_id: member.user.get_full_name()
        for member in RoomMember.objects.filter(
            room=room, user_id__in=mentions.user_ids
        ).select_related("user")
    }
    missing = sorted(set(mentions.user_ids) - set(members))
    if missing:
        raise MentionNotMemberError(extra={"user_ids": missing})
    return mentions, members


def _existing_send(user: User, client_id: str | None) -> Message | None:
    if not client_id:
        return None
    return Message.objects.filter(author=user, client_id=client_id).first()


@transaction.atomic
def message_send(
    *,
    user: User,
    room: Room,
    body: str,
    client_id: str | None = None,
    parent_id: int | None = None,
    attachment_ids: Sequence[int] = (),
    kind: str = MessageKind.TEXT,
) -> tuple[Message, bool]:
    """Post a message (or a thread reply) and return ``(message, created)``.

    A retry with the same ``client_id`` returns the first message with ``created`` False. The
    body is cleaned and rendered to html here; mentions are stored as rows. Locks the parent
    (a reply) and the attachments being sent. Updates the parent's reply count and the room's
    last activity with F()/UPDATE, moves the sender's read position to the message, emits
    chat.message.created (and chat.message.updated for the parent) and schedules
    chat.notify_message after commit.

    Raises NotFoundError (room not visible), PermissionDeniedError (not a member, or a viewer),
    RoomArchivedError, MessageEmptyError, MessageTooLongError, MentionNotMemberError (422,
    ``extra.user_ids``), InvalidParentError, InvalidAttachmentsError, VoiceNeedsAudioError.
    """
    from chat import tasks

    access = _visible_access(user, room)
    if not permissions.can_post(user, room, access=access):
        raise _denied()
    existing = _existing_send(user, client_id)
    if existing is not None:
        if existing.room_id != room.pk:
            raise InvalidMessageError(code="chat.client_id_reused")
        return existing, False
    _writable(room)
    if kind not in (MessageKind.TEXT, MessageKind.VOICE):
        raise ApplicationError(code="chat.invalid_kind")
    wanted_attachments = sorted(set(attachment_ids))
    cleaned = _clean_body(body, has_attachments=bool(wanted_attachments))
    mentions, names = _mentions(room, cleaned)

    parent: Message | None = None
    if parent_id is not None:
        parent = (
            Message.objects.select_for_update()
            .filter(pk=parent_id, room=room, parent__isnull=True, deleted_at__isnull=True)
            .first()
        )
        if parent is None:
            raise InvalidParentError()

    attachments: list[Attachment] = []
    if wanted_attachments:
        attachments = list(
            Attachment.objects.select_for_update()
            .filter(
                pk__in=wanted_attachments,
                room=room,
                uploaded_by=user,
                message__isnull=True,
            )
            .order_by("pk")
        )
        if len(attachments) != len(wanted_attachments):
            raise InvalidAttachmentsError()
    if kind == MessageKind.VOICE and (
        len(attachments) != 1 or attachments[0].kind != AttachmentKind.AUDIO
    ):
        raise VoiceNeedsAudioError()

    now = timezone.now()
    try:
        with transaction.atomic():
            message = Message.objects.create(
                organization_id=room.organization_id,
                room=room,
                author=user,
                kind=kind,
                body=cleaned,
                html=markup.render(cleaned, names=names),
                parent=parent,
                mentions_all=mentions.everyone,
                mentions_here=mentions.here,
                client_id=client_id or None,
                created_at=now,
            )
    except IntegrityError:
        # The same client_id sent twice at once: the other request stored it.
        return Message.objects.get(author=user, client_id=client_id), False
    MessageMention.objects.bulk_create(
        [MessageMention(message=message, user_id=user_id) for user_id in sorted(names)]
    )
    if attachments:
        Attachment.objects.filter(pk__in=[item.pk for item in attachments]).update(message=message)
    Room.objects.filter(pk=room.pk).update(last_message_at=now)
    if parent is not None:
        Message.objects.filter(pk=parent.pk).update(
            reply_count=F("reply_count") + 1, last_reply_at=now
        )
    else:
        RoomMember.objects.filter(room=room, user=user, last_read_message_id__lt=message.pk).update(
            last_read_message_id=message.pk, last_read_at=now
        )
    events.message_created(selectors.message_data_by_id(message.pk))
    if parent is not None:
        events.message_updated(selectors.message_data_by_id(parent.pk))
    tasks.notify_message.delay_on_commit(message.pk)
    return message, True


def _message_access(user: User, message: Message) -> RoomAccess:
    return _visible_access(user, message.room)


def _lock_message(message: Message) -> Message:
    return Message.objects.select_for_update().select_related("room").get(pk=message.pk)


@transaction.atomic
def message_edit(*, user: User, message: Message, body: str) -> Message:
    """Change the text of one's own message: re-rendered, mentions recomputed, marked edited.

    Locks the message. Emits chat.message.updated; newly mentioned people are notified (the
    notification task skips anyone notified before). Raises NotFoundError,
    PermissionDeniedError (not the author), MessageDeletedError, RoomArchivedError,
    MessageEmptyError, MessageTooLongError, MentionNotMemberError.
    """
    from chat import tasks

    access = _message_access(user, message)
    if not permissions.can_edit_message(user, message, access=access):
        raise _denied(_("Only the author can edit a message."))
    locked = _lock_message(message)
    if locked.deleted_at is not None:
        raise MessageDeletedError()
    _writable(locked.room)
    cleaned = _clean_body(body, has_attachments=locked.attachments.exists())
    mentions, names = _mentions(locked.room, cleaned)
    before = set(MessageMention.objects.filter(message=locked).values_list("user_id", flat=True))
    locked.body = cleaned
    locked.html = markup.render(cleaned, names=names)
    locked.mentions_all = mentions.everyone
    locked.mentions_here = mentions.here
    locked.edited_at = timezone.now()
    locked.save(update_fields=["body", "html", "mentions_all", "mentions_here", "edited_at"])
    MessageMention.objects.filter(message=locked).exclude(user_id__in=list(names)).delete()
    MessageMention.objects.bulk_create(
        [MessageMention(message=locked, user_id=user_id) for user_id in sorted(set(names) - before)]
    )
    events.message_updated(selectors.message_data_by_id(locked.pk))
    if set(names) - before:
        tasks.notify_message.delay_on_commit(locked.pk)
    return locked


def _delete_files_on_commit(storage_names: list[tuple[Storage, str]]) -> None:
    def delete() -> None:
        for storage, name in storage_names:
            storage.delete(name)

    transaction.on_commit(delete)


@transaction.atomic
def message_delete(*, user: User, message: Message) -> Message:
    """Delete a message, leaving a trace: text, mentions, reactions and attachments go (the
    files after commit), the row and its thread stay.

    The author, an org admin, or the channel's owner/admin may. Locks the message. Audit record
    when someone else's message is deleted; chat.message.updated. Deleting twice changes
    nothing. Raises NotFoundError, PermissionDeniedError.
    """
    access = _message_access(user, message)
    if not permissions.can_delete_message(user, message, access=access):
        raise _denied()
    return _delete_with_trace(actor=user, message=message)


@transaction.atomic
def message_delete_by_staff(*, staff: Any, message: Message) -> Message:
    """Platform staff's moderation from the admin: message_delete without the room rules
    (always audited)."""
    return _delete_with_trace(actor=staff, message=message)


def _delete_with_trace(*, actor: Any, message: Message) -> Message:
    locked = _lock_message(message)
    if locked.deleted_at is not None:
        return locked
    files: list[tuple[Storage, str]] = []
    for attachment in Attachment.objects.filter(message=locked):
        for stored in (attachment.file, attachment.thumbnail):
            if stored and stored.name:
                files.append((stored.storage, stored.name))
    Attachment.objects.filter(message=locked).delete()
    Reaction.objects.filter(message=locked).delete()
    MessageMention.objects.filter(message=locked).delete()
    locked.body = ""
    locked.html = ""
    locked.mentions_all = locked.mentions_here = False
    locked.pinned_at = None
    locked.pinned_by = None
    locked.deleted_at = timezone.now()
    locked.deleted_by = actor
    locked.save(
        update_fields=[
            "body",
            "html",
            "mentions_all",
            "mentions_here",
            "pinned_at",
            "pinned_by",
            "deleted_at",
            "deleted_by",
        ]
    )
    if locked.author_id != actor.pk:
        audit_record(
            action=AuditAction.CHAT_MESSAGE_DELETED,
            actor=actor,
            target=locked,
            organization=locked.room.organization,
            data={"room_id": locked.room_id, "author_id": locked.author_id},
        )
    _delete_files_on_commit(files)
    events.message_updated(selectors.message_data_by_id(locked.pk))
    return locked


def _writable_message(user: User, message: Message) -> Message:
    """The checks of reactions and pins: may post here, room open, message not deleted."""
    access = _message_access(user, message)
    if not permissions.can_react(user, message.room, access=access):
        raise _denied()
    _writable(message.room)
    if message.deleted_at is not None:
        raise MessageDeletedError()
    return message


@transaction.atomic
def reaction_add(*, user: User, message: Message, emoji: str) -> Message:
    """React with an emoji shortcode; reacting twice with the same one changes nothing.

    Emits chat.message.updated when a reaction was added. Raises NotFoundError,
    PermissionDeniedError, RoomArchivedError, MessageDeletedError, InvalidEmojiError.
    """
    if not markup.is_emoji_code(emoji):
        raise InvalidEmojiError(extra={"emoji": emoji[:64]})
    _writable_message(user, message)
    try:
        with transaction.atomic():
            Reaction.objects.create(message=message, user=user, emoji=emoji)
    except IntegrityError:
        return message
    events.message_updated(selectors.message_data_by_id(message.pk))
    return message


@transaction.atomic
def reaction_remove(*, user: User, message: Message, emoji: str) -> Message:
    """Take one's reaction back (nothing to take back changes nothing). Same errors as
    reaction_add except InvalidEmojiError; chat.message.updated when one was removed."""
    _writable_message(user, message)
    removed, _kinds = Reaction.objects.filter(message=message, user=user, emoji=emoji).delete()
    if removed:
        events.message_updated(selectors.message_data_by_id(message.pk))
    return message


@transaction.atomic
def message_pin(*, user: User, message: Message) -> Message:
    """Pin a top-level message to its room (pinning twice changes nothing). Locks the message.
    Emits chat.message.updated. Raises NotFoundError, PermissionDeniedError, RoomArchivedError,
    MessageDeletedError, InvalidMessageError (a thread reply)."""
    _writable_message(user, message)
    locked = _lock_message(message)
    if locked.parent_id is not None:
        raise InvalidMessageError(code="chat.cannot_pin_reply")
    if locked.pinned_at is None:
        locked.pinned_at = timezone.now()
        locked.pinned_by = user
        locked.save(update_fields=["pinned_at", "pinned_by"])
        events.message_updated(selectors.message_data_by_id(locked.pk))
    return locked


@transaction.atomic
def message_unpin(*, user: User, message: Message) -> Message:
    """Unpin a message (same locks, events and errors as message_pin)."""
    _writable_message(user, message)
    locked = _lock_message(message)
    if locked.pinned_at is not None:
        locked.pinned_at = None
        locked.pinned_by = None
        locked.save(update_fields=["pinned_at", "pinned_by"])
        events.message_updated(selectors.message_data_by_id(locked.pk))
    return locked
