"""What the support widget adds to realtime's visitor socket (``/ws/widget/``).

Registered at start-up (``register``), so realtime never imports queueing:

- the visitor authenticator: the handshake's key names an enabled widget, its ``Origin`` is
  one the widget allows (``queueing.widget.origin_check``, the REST API's rule), and its token
  is a valid visitor token of that widget's organization. The socket then joins
  ``widget.contact.<contact_id>``, where the inbox sends the contact's events;
- ``{"action": "widget.typing", "conversation_id": N}``: relayed as ``inbox.typing``
  ``{conversation_id, contact: true}`` to the staff following ``queueing.conversation.<N>``,
  only for the contact's own conversations (looked up once per socket and conversation in a
  worker thread, then remembered), at most once every TYPING_INTERVAL_SECONDS.
"""

from __future__ import annotations

import time
from typing import Any

from channels.db import database_sync_to_async
from django.utils import timezone

from core.exceptions import ApplicationError
from queueing import widget as widget_services
from queueing.inbox_events import contact_group, conversation_group
from queueing.models import Contact, Conversation
from realtime.registry import (
    ActionContext,
    ActionError,
    Visitor,
    VisitorHandshake,
    register_visitor_action,
    register_visitor_authenticator,
)

TYPING_INTERVAL_SECONDS = 2.0
# A socket asking about more conversations than this is probing, not typing.
MAX_CONVERSATIONS_CHECKED = 50


def authenticate(handshake: VisitorHandshake) -> Visitor | None:
    """The visitor a handshake proves, or None (unknown key, foreign origin, bad token)."""
    try:
        widget = widget_services.widget_get_by_key(handshake.key)
        verdict = widget_services.origin_check(
            widget, origin=handshake.origin, own_origin=handshake.own_origin
        )
    except ApplicationError:
        return None
    contact = widget_services.visitor_contact_from_token(widget=widget, token=handshake.token or "")
    if contact is None:
        return None
    try:
        widget_services.require_origin_for(contact, verdict)
    except ApplicationError:
        return None
    Contact.objects.filter(pk=contact.pk).update(last_seen_at=timezone.now())
    return Visitor(
        id=contact.pk,
        organization_id=contact.organization_id,
        groups=(contact_group(contact.pk),),
        hello={"contact_id": contact.pk},
    )


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


def _owns(contact_id: int, conversation_id: int) -> bool:
    return Conversation.objects.filter(pk=conversation_id, contact_id=contact_id).exists()


async def typing(context: ActionContext, frame: dict[str, Any]) -> None:
    conversation_id = frame.get("conversation_id")
    if not _is_id(conversation_id):
        raise ActionError("realtime.bad_frame", "Typing names a conversation id.")
    assert isinstance(conversation_id, int)
    visitor: Visitor = context.user
    owned: dict[int, bool] = context.state.setdefault("conversations", {})
    if conversation_id not in owned:
        if len(owned) >= MAX_CONVERSATIONS_CHECKED:
            raise ActionError(
                "widget.typing_refused", "Not your conversation.", conversation_id=conversation_id
            )
        owned[conversation_id] = await database_sync_to_async(_owns)(visitor.id, conversation_id)
    if not owned[conversation_id]:
        raise ActionError(
            "widget.typing_refused", "Not your conversation.", conversation_id=conversation_id
        )
    last_relayed: dict[int, float] = context.state.setdefault("typing", {})
    now = time.monotonic()
    if now - last_relayed.get(conversation_id, -TYPING_INTERVAL_SECONDS) < TYPING_INTERVAL_SECONDS:
        return
    last_relayed[conversation_id] = now
    await context.relay(
        conversation_group(conversation_id),
        "inbox.typing",
        {"conversation_id": conversation_id, "contact": True},
    )


def register() -> None:
    register_visitor_authenticator(authenticate)
    register_visitor_action("widget.typing", typing)
