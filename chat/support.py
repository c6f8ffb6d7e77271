"""The messages of support conversations: low-level writes to ``support`` rooms.

A support conversation (``queueing.Conversation``) keeps its messages in a chat room of kind
``support``. Such a room has no ``RoomMember`` rows, so chat's own rooms, messages, search,
notifications and attachment downloads never reach it; who may read and write is decided by
the inbox (``queueing.inbox_access``) and the widget, which call these functions after their
own checks. Nothing here publishes chat events: the inbox publishes its own.

The contact's messages have ``by_contact`` (a widget visitor has no author; a signed-in
student is also the author). Staff-only notes have kind ``note``: ``support_message_data``
refuses to shape one for the contact, so a note cannot leak into a contact-facing payload by
accident.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypedDict

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, transaction
from django.utils import timezone

from chat import markup
from chat.attachments import attachment_store
from chat.models import (
    Attachment,
    Message,
    MessageKind,
    MessageMention,
    Room,
    RoomKind,
)
from chat.services import (
    InvalidAttachmentsError,
    InvalidMessageError,
    MessageEmptyError,
    MessageTooLongError,
)
from core.exceptions import ApplicationError

SUPPORT_KINDS = (MessageKind.TEXT, MessageKind.NOTE, MessageKind.SYSTEM)

# Where support attachments are downloaded: staff through the inbox API of the organization,
# contacts through the widget API (which checks the visitor's token). Chat's own download
# only serves room members, and support rooms have none.
STAFF_ATTACHMENT_PATH = "/api/v1/inbox/{organization_id}/attachments/{attachment_id}/"
CONTACT_ATTACHMENT_PATH = "/api/v1/widget/attachments/{attachment_id}/"


class SupportAuthorData(TypedDict):
    id: int
    name: str
    avatar_url: str | None


class SupportAttachmentData(TypedDict):
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


class SupportMessageData(TypedDict):
    id: int
    conversation_id: int | None
    kind: str
    body: str
    html: str
    by_contact: bool
    author: SupportAuthorData | None
    attachments: list[SupportAttachmentData]
    created_at: Any
    client_id: str | None


class NoteForContactError(Exception):
    """A programming error: an internal note was about to be shaped for the contact."""


def support_room_create(*, organization_id: int) -> Room:
    """A new, empty support room of the organization (its conversation points to it)."""
    return Room.objects.create(organization_id=organization_id, kind=RoomKind.SUPPORT)


def _clean_body(body: str, *, has_attachments: bool) -> str:
    cleaned = markup.clean(body)
    maximum = settings.CHAT_MESSAGE_MAX_LENGTH
    if len(cleaned) > maximum:
        raise MessageTooLongError(extra={"max_length": maximum})
    if not cleaned and not has_attachments:
        raise MessageEmptyError()
    return cleaned


def _existing(
    *, room: Room, author_id: int | None, by_contact: bool, client_id: str | None
) -> Message | None:
    if not client_id:
        return None
    if by_contact:
        found = Message.objects.filter(room=room, by_contact=True, client_id=client_id).first()
        if found is not None or author_id is None:
            return found
    if author_id is None:
        return None
    return Message.objects.filter(author_id=author_id, client_id=client_id).first()


@transaction.atomic
def support_message_create(
    *,
    room: Room,
    author_id: int | None,
    by_contact: bool,
    body: str,
    kind: str = MessageKind.TEXT,
    client_id: str | None = None,
    attachment_ids: Sequence[int] = (),
    mention_ids: Sequence[int] = (),
) -> tuple[Message, bool]:
    """Store a message of a support room and return ``(message, created)``.

    The body is cleaned and rendered with chat's markup; mentions are kept only for notes,
    for the ``mention_ids`` the caller validated (other ``<@id>`` show as plain mentions). A
    retry with the same ``client_id`` (per room for the contact, per author for staff) returns
    the first message with ``created`` False. The attachments must be unsent uploads of this
    room by the author (a visitor: uploads of the room with no uploader); they are locked and
    claimed. Updates the room's ``last_message_at``. No events.

    Raises ``chat.message_empty``, ``chat.message_too_long``, ``chat.invalid_attachments``,
    ``chat.client_id_reused`` and ``chat.invalid_kind``.
    """
    if kind not in SUPPORT_KINDS or (by_contact and kind != MessageKind.TEXT):
        raise ApplicationError(code="chat.invalid_kind")
    if room.kind != RoomKind.SUPPORT:
        raise InvalidMessageError()
    existing = _existing(room=room, author_id=author_id, by_contact=by_contact, client_id=client_id)
    if existing is not None:
        if existing.room_id != room.pk:
            raise InvalidMessageError(code="chat.client_id_reused")
        return existing, False

    wanted = sorted(set(attachment_ids))
    cleaned = _clean_body(body, has_attachments=bool(wanted))
    names: dict[int, str] = {}
    if kind == MessageKind.NOTE and mention_ids:
        from accounts.models import User

        names = {
            user.pk: user.get_full_name()
            for user in User.objects.filter(pk__in=set(mention_ids)).order_by("pk")
        }

    attachments: list[Attachment] = []
    if wanted:
        attachments = list(
            Attachment.objects.select_for_update()
            .filter(pk__in=wanted, room=room, uploaded_by_id=author_id, message__isnull=True)
            .order_by("pk")
        )
        if len(attachments) != len(wanted):
            raise InvalidAttachmentsError()

    now = timezone.now()
    try:
        with transaction.atomic():
            message = Message.objects.create(
                organization_id=room.organization_id,
                room=room,
                author_id=author_id,
                by_contact=by_contact,
                kind=kind,
                body=cleaned,
                html=markup.render(cleaned, names=names),
                client_id=client_id or None,
                created_at=now,
            )
    except IntegrityError:
        # The same client_id sent twice at once: the other request stored it.
        found = _existing(
            room=room, author_id=author_id, by_contact=by_contact, client_id=client_id
        )
        if found is None or found.room_id != room.pk:
            raise
        return found, False
    if names:
        MessageMention.objects.bulk_create(
            [MessageMention(message=message, user_id=user_id) for user_id in sorted(names)]
        )
    if attachments:
        Attachment.objects.filter(pk__in=[item.pk for item in attachments]).update(message=message)
    Room.objects.filter(pk=room.pk).update(last_message_at=now)
    room.last_message_at = now
    return message, True


def support_attachment_upload(
    *, room: Room, uploaded_by_id: int | None, file: Any, duration_ms: int | None = None
) -> Attachment:
    """Store an upload for a support room (the caller checked who may send there).

    The same checks as chat uploads (size, type from the bytes, image decoding); a visitor's
    upload has no uploader. Raises chat's attachment errors.
    """
    if room.kind != RoomKind.SUPPORT:
        raise InvalidMessageError()
    return attachment_store(
        room=room, uploaded_by_id=uploaded_by_id, file=file, duration_ms=duration_ms
    )


def first_name(user: Any) -> str:
    """What a contact sees of an agent: the first word of the name, never the email."""
    name = (getattr(user, "display_name", "") or "").strip()
    if name:
        return name.split()[0]
    return str(getattr(user, "email", "") or "").split("@")[0]


def support_attachment_data(attachment: Attachment, *, for_contact: bool) -> SupportAttachmentData:
    if for_contact:
        url = CONTACT_ATTACHMENT_PATH.format(attachment_id=attachment.pk)
    else:
        url = STAFF_ATTACHMENT_PATH.format(
            organization_id=attachment.organization_id, attachment_id=attachment.pk
        )
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
        "thumbnail_url": f"{url}?thumbnail=1" if attachment.thumbnail else None,
    }


def _conversation_id(message: Message) -> int | None:
    try:
        return int(message.room.support_conversation.pk)  # type: ignore[attr-defined]
    except ObjectDoesNotExist:
        return None


def support_message_data(
    message: Message, *, for_contact: bool, conversation_id: int | None = None
) -> SupportMessageData:
    """A support message as the API and the socket show it to staff or to the contact.

    For the contact an agent is known by first name only; a note raises
    ``NoteForContactError`` (callers filter notes out before shaping). ``conversation_id``
    saves a query when the caller knows it.
    """
    if for_contact and message.kind == MessageKind.NOTE:
        raise NoteForContactError(f"message {message.pk} is an internal note")
    author: SupportAuthorData | None = None
    if message.author is not None:
        user = message.author
        from chat.selectors import avatar_url

        author = {
            "id": user.pk,
            "name": first_name(user)
            if for_contact and not message.by_contact
            else user.get_full_name(),
            "avatar_url": avatar_url(user),
        }
    deleted = message.deleted_at is not None
    return {
        "id": message.pk,
        "conversation_id": conversation_id
        if conversation_id is not None
        else _conversation_id(message),
        "kind": message.kind,
        "body": "" if deleted else message.body,
        "html": "" if deleted else message.html,
        "by_contact": message.by_contact,
        "author": author,
        "attachments": []
        if deleted
        else [
            support_attachment_data(item, for_contact=for_contact)
            for item in message.attachments.all()
        ],
        "created_at": message.created_at,
        "client_id": message.client_id,
    }
