"""The support widget's visitors: public keys, allowed origins, signed visitor tokens.

A page embeds the widget with the organization's public key (``SupportWidget.public_key``). The
key is not a secret: what stops another site from using it is the origin check, since browsers
always tell the truth about the page's ``Origin`` on cross-origin requests and WebSocket
handshakes. Every request names the key, comes from an allowed origin, and (after the pre-chat
form) carries the visitor's token.

A visitor token is ``django.core.signing`` data ``{"o": org, "c": contact, "v": visitor_id}``
with a timestamp. It is valid for WIDGET_TOKEN_MAX_AGE_DAYS, and only while the contact still
has that ``visitor_id`` in the key's organization: changing the visitor id revokes every
token of the contact, and a token of one organization means nothing to another's key.

The REST views (``queueing.api.widget``) and the socket (``queueing.widget_socket``) both go
through these functions, so the two doors apply the same rules.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any, TypedDict

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F, Prefetch
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat.models import Attachment, Message, MessageKind
from core.exceptions import ApplicationError, NotFoundError, PermissionDeniedError
from queueing.models import (
    AgentAvailability,
    Contact,
    Conversation,
    ConversationChannel,
    Department,
    SupportAgent,
    SupportQueue,
    SupportWidget,
)

VISITOR_SALT = "queueing.widget.visitor"
ATTACHMENT_SALT = "queueing.widget.attachment"
# A signed attachment URL (for <img src>, which cannot send headers) lives this long.
ATTACHMENT_URL_MAX_AGE_SECONDS = 3600
API_PATH = "/api/v1/widget/"
SOCKET_PATH = "/ws/widget/"
MAX_CONVERSATIONS_LISTED = 50
MAX_MESSAGES_PAGE = 100


class WidgetNotFoundError(NotFoundError):
    code = "widget.not_found"


class OriginNotAllowedError(PermissionDeniedError):
    code = "widget.origin_not_allowed"
    default_message = _("This page may not use the support widget.")


@dataclass(frozen=True)
class VisitorIdentity:
    """Who a widget request or socket speaks for: a contact, through a widget's key."""

    widget: SupportWidget
    contact: Contact


def invalid_token_message() -> str:
    return str(_("Your chat session expired. Start again."))


class ContactData(TypedDict):
    id: int
    name: str
    email: str


# --- keys and origins ------------------------------------------------------------------------


def widget_get_by_key(key: str | None) -> SupportWidget:
    """The enabled widget with this public key; unknown or disabled: 404 ``widget.not_found``."""
    if not key or len(key) > 40:
        raise WidgetNotFoundError()
    widget = SupportWidget.objects.filter(public_key=key, enabled=True).first()
    if widget is None:
        raise WidgetNotFoundError()
    return widget


def origin_listed(widget: SupportWidget, origin: str) -> bool:
    """Whether ``origin`` is exactly one of the widget's allowed origins (case aside)."""
    wanted = origin.strip().lower().rstrip("/")
    return any(
        isinstance(item, str) and item.strip().lower().rstrip("/") == wanted
        for item in widget.allowed_origins
    )


def origin_check(widget: SupportWidget, *, origin: str | None, own_origin: str) -> str:
    """Decide on a request's origin before knowing who the visitor is.

    Returns ``"allowed"`` (the page's origin is listed), ``"own"`` (our own site, not listed:
    only an in-app contact, a signed-in user of our own web app, may go on) or raises 403
    ``widget.origin_not_allowed``. A request without ``Origin`` is same-origin (browsers send it
    on every cross-origin request and every WebSocket handshake), so it counts as our own.
    """
    # "null" (a sandboxed frame, a file) is an origin of its own, never ours.
    effective = origin if origin else own_origin
    if origin_listed(widget, effective):
        return "allowed"
    if effective.lower().rstrip("/") == own_origin.lower().rstrip("/"):
        return "own"
    raise OriginNotAllowedError()


def require_origin_for(contact: Contact | None, verdict: str) -> None:
    """After ``origin_check`` said ``"own"``: only an in-app contact may use our own origin."""
    if verdict == "own" and (contact is None or contact.user_id is None):
        raise OriginNotAllowedError()


def preflight_allowed(*, origin: str | None, key: str | None) -> bool:
    """Whether a CORS preflight from ``origin`` gets the go-ahead.

    Preflights carry no headers of ours, so the key is known only when it is in the query
    string; otherwise the origin must be listed by some enabled widget. The real request is
    checked again in full, so this only decides whether the browser may send it.
    """
    if not origin:
        return False
    if key:
        widget = SupportWidget.objects.filter(public_key=key, enabled=True).first()
        return widget is not None and origin_listed(widget, origin)
    # The JSON text contains the quoted origin: a cheap filter on both databases; the exact
    # comparison follows in Python.
    candidates = SupportWidget.objects.filter(
        enabled=True, allowed_origins__icontains=f'"{origin.strip().lower()}"'
    )[:20]
    return any(origin_listed(widget, origin) for widget in candidates)


# --- tokens ----------------------------------------------------------------------------------


def visitor_token_make(contact: Contact) -> str:
    payload = {"o": contact.organization_id, "c": contact.pk, "v": contact.visitor_id.hex}
    return signing.dumps(payload, salt=VISITOR_SALT, compress=True)


def visitor_contact_from_token(*, widget: SupportWidget, token: str) -> Contact | None:
    """The contact a token stands for, if it is valid for this widget's organization."""
    if not token or len(token) > 500:
        return None
    try:
        payload = signing.loads(
            token,
            salt=VISITOR_SALT,
            max_age=datetime.timedelta(days=settings.WIDGET_TOKEN_MAX_AGE_DAYS),
        )
        organization_id, contact_id = int(payload["o"]), int(payload["c"])
        visitor_id = uuid.UUID(hex=str(payload["v"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    if organization_id != widget.organization_id:
        return None
    return Contact.objects.filter(
        pk=contact_id, organization_id=organization_id, visitor_id=visitor_id
    ).first()


# --- sessions --------------------------------------------------------------------------------


def contact_data(contact: Contact) -> ContactData:
    return {"id": contact.pk, "name": contact.name, "email": contact.email}


@transaction.atomic
def visitor_session_start(
    *, widget: SupportWidget, name: str = "", email: str = "", contact: Contact | None = None
) -> tuple[Contact, bool]:
    """Start or renew a visitor's session; returns ``(contact, created)``.

    With the contact of a valid token, the same contact comes back with the non-blank name and
    email sent; otherwise a new contact of the widget's organization is created. An email never
    finds an existing contact: anyone can type anyone's address, and a contact's conversations
    are private to the browser that holds its token.
    """
    now = timezone.now()
    if contact is not None:
        locked = Contact.objects.select_for_update().get(pk=contact.pk)
        if name:
            locked.name = name
        if email:
            locked.email = email
        locked.last_seen_at = now
        locked.save(update_fields=["name", "email", "last_seen_at", "updated_at"])
        return locked, False
    created = Contact.objects.create(
        organization_id=widget.organization_id, name=name, email=email, last_seen_at=now
    )
    return created, True


def visitor_session_in_app(*, widget: SupportWidget, user: Any) -> Contact:
    """The contact of a signed-in user in the widget's organization (one per user), created on
    first use with the user's name and email; its conversations use the ``in_app`` channel."""
    now = timezone.now()
    existing = Contact.objects.filter(organization_id=widget.organization_id, user=user).first()
    if existing is None:
        try:
            with transaction.atomic():
                existing = Contact.objects.create(
                    organization_id=widget.organization_id,
                    user=user,
                    name=user.get_full_name(),
                    email=user.email,
                    last_seen_at=now,
                )
                return existing
        except IntegrityError:
            # Two first requests at once: the other one created it.
            existing = Contact.objects.get(organization_id=widget.organization_id, user=user)
    Contact.objects.filter(pk=existing.pk).update(last_seen_at=now)
    existing.last_seen_at = now
    return existing


def channel_for(contact: Contact) -> str:
    return ConversationChannel.IN_APP if contact.user_id is not None else ConversationChannel.WIDGET


# --- configuration ---------------------------------------------------------------------------


def public_base(own_origin: str) -> str:
    return (settings.WIDGET_PUBLIC_URL or own_origin).rstrip("/")


def _queue_hours(queue: SupportQueue | None, now: datetime.datetime) -> dict[str, Any]:
    if queue is None:
        return {"time_zone": None, "weekly_hours": [], "holidays": [], "next_opening": None}
    from queueing import hours

    opening = hours.next_opening(
        time_zone=queue.time_zone,
        weekly_hours=queue.weekly_hours,
        holidays=queue.holidays,
        at=now,
    )
    return {
        "time_zone": queue.time_zone,
        "weekly_hours": queue.weekly_hours,
        "holidays": queue.holidays,
        "next_opening": opening,
    }


def widget_config(
    *, widget: SupportWidget, own_origin: str, now: datetime.datetime | None = None
) -> dict[str, Any]:
    """What the widget shows before the pre-chat form: look, departments, whether anyone answers.

    A department is open now when one of its queues is within business hours and has an
    available member agent (online, connected, below capacity). Its hours are those of its
    first queue (the one a new conversation goes to). Four queries whatever the size.
    """
    from queueing import hours

    now = now or timezone.now()
    departments = list(
        Department.objects.filter(organization_id=widget.organization_id, is_active=True)
        .prefetch_related(
            Prefetch("queues", queryset=SupportQueue.objects.order_by("-priority", "pk"))
        )
        .order_by("name", "pk")
    )
    queue_ids = [queue.pk for department in departments for queue in department.queues.all()]
    staffed = set(
        SupportAgent.objects.filter(
            organization_id=widget.organization_id,
            availability=AgentAvailability.ONLINE,
            connected=True,
            open_count__lt=F("capacity"),
            user__support_queue_memberships__queue_id__in=queue_ids,
        ).values_list("user__support_queue_memberships__queue_id", flat=True)
    )
    listed = []
    for department in departments:
        queues = list(department.queues.all())
        open_now = any(queue.pk in staffed and hours.queue_is_open(queue, now) for queue in queues)
        listed.append(
            {
                "id": department.pk,
                "name": department.name,
                "open_now": open_now,
                **_queue_hours(queues[0] if queues else None, now),
            }
        )
    base = public_base(own_origin)
    socket_base = "wss://" + base[8:] if base.startswith("https://") else "ws://" + base[7:]
    return {
        "title": widget.title,
        "greeting": widget.greeting,
        "color": widget.color,
        "open_now": any(item["open_now"] for item in listed),
        "departments": listed,
        "ws_url": socket_base + SOCKET_PATH,
        "api_url": base + API_PATH,
    }


# --- the visitor's conversations, messages and attachments -----------------------------------


def visitor_conversations(*, contact: Contact) -> list[Conversation]:
    """The contact's conversations, newest first (at most MAX_CONVERSATIONS_LISTED)."""
    return list(
        Conversation.objects.filter(contact=contact)
        .select_related("assignee", "queue", "csat")
        .order_by("-created_at", "-pk")[:MAX_CONVERSATIONS_LISTED]
    )


def visitor_conversation_get(*, contact: Contact, conversation_id: int) -> Conversation:
    """The contact's own conversation, or 404 ``widget.not_found`` (others' look the same as
    missing ones)."""
    conversation = (
        Conversation.objects.filter(pk=conversation_id, contact=contact)
        .select_related("assignee", "queue", "room", "csat")
        .first()
    )
    if conversation is None:
        raise WidgetNotFoundError()
    return conversation


def visitor_messages(
    *,
    conversation: Conversation,
    after_id: int | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> tuple[list[Message], bool]:
    """A page of the conversation's messages for the contact, oldest first; never a note.

    ``after_id``: the next ``limit`` after it (catching up). Otherwise the newest ``limit``
    (before ``before_id`` if given). Returns ``(messages, has_more)``.
    """
    limit = max(1, min(limit, MAX_MESSAGES_PAGE))
    messages = (
        Message.objects.filter(room_id=conversation.room_id, parent__isnull=True)
        .exclude(kind=MessageKind.NOTE)
        .select_related("author")
        .prefetch_related("attachments")
    )
    if after_id is not None:
        page = list(messages.filter(pk__gt=after_id).order_by("pk")[: limit + 1])
        return page[:limit], len(page) > limit
    if before_id is not None:
        messages = messages.filter(pk__lt=before_id)
    page = list(messages.order_by("-pk")[: limit + 1])
    return list(reversed(page[:limit])), len(page) > limit


def attachment_sign(*, attachment_id: int, contact_id: int) -> str:
    return signing.TimestampSigner(salt=ATTACHMENT_SALT).sign(f"{attachment_id}.{contact_id}")


def attachment_contact_from_signature(*, attachment_id: int, signature: str) -> int | None:
    """The contact a signed attachment URL was made for, if it is this attachment's and fresh."""
    try:
        value = signing.TimestampSigner(salt=ATTACHMENT_SALT).unsign(
            signature, max_age=ATTACHMENT_URL_MAX_AGE_SECONDS
        )
        signed_attachment, contact_id = (int(part) for part in value.split("."))
    except (signing.BadSignature, ValueError):
        return None
    return contact_id if signed_attachment == attachment_id else None


def visitor_attachment_get(*, contact_id: int, attachment_id: int) -> Attachment:
    """An attachment the contact may download: sent in one of their conversations (never with a
    note), or their own upload not sent yet. Anything else: 404 ``widget.not_found``."""
    attachment = (
        Attachment.objects.filter(
            pk=attachment_id, room__support_conversation__contact_id=contact_id
        )
        .select_related("message")
        .first()
    )
    if attachment is None:
        raise WidgetNotFoundError()
    if attachment.message is None:
        if attachment.uploaded_by_id is not None:
            raise WidgetNotFoundError()
    elif attachment.message.kind == MessageKind.NOTE or attachment.message.deleted_at is not None:
        raise WidgetNotFoundError()
    return attachment


def visitor_may_write(conversation: Conversation) -> None:
    """Uploads go only to an unresolved conversation (messages are checked by the inbox)."""
    from queueing.models import UNRESOLVED_STATUSES

    if conversation.status not in UNRESOLVED_STATUSES:
        raise ApplicationError(
            str(_("This conversation is closed. Start a new one.")),
            code="widget.conversation_resolved",
            status_code=409,
        )


def visitor_attachment_upload(
    *, contact: Contact, conversation_id: int, file: Any, duration_ms: int | None = None
) -> Attachment:
    """Store a visitor's upload in their own unresolved conversation (no uploader: visitors
    have no user row). 404 ``widget.not_found``, 409 ``widget.conversation_resolved`` and
    chat's size and type errors."""
    from chat.support import support_attachment_upload

    conversation = visitor_conversation_get(contact=contact, conversation_id=conversation_id)
    visitor_may_write(conversation)
    return support_attachment_upload(
        room=conversation.room, uploaded_by_id=None, file=file, duration_ms=duration_ms
    )


@transaction.atomic
def visitor_offline_message(
    *,
    widget: SupportWidget,
    contact: Contact | None,
    name: str,
    email: str,
    department_id: int | None,
    body: str,
) -> tuple[Contact, Conversation]:
    """The offline form: the visitor's contact (the token's, or a new one) with the name and
    email given, and an offline conversation emailed to the organization
    (``inbox.offline_message``). One transaction: a refused message leaves no new contact."""
    from queueing import inbox

    contact, _created = visitor_session_start(
        widget=widget, name=name, email=email, contact=contact
    )
    conversation = inbox.offline_message(
        contact=contact, department_id=department_id, body=body, name=name, email=email
    )
    return contact, conversation
