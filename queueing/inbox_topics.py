"""The support inbox's socket topics and the staff typing relay, registered at start-up.

- ``queueing.inbox.<org_id>``: the organization's staff (viewers too: they read the inbox);
- ``queueing.conversation.<id>``: staff who see the conversation (``inbox_access``);
- ``queueing.supervisor.<org_id>``: org admins.

A refusal and an unknown object get the same answer. Another organization's staff never pass a
check: every check starts from the user's membership in the object's organization.

``{"action": "inbox.typing", "conversation_id": id, "note": bool}`` is relayed as
``inbox.typing`` to the conversation's group, only when this socket follows
``queueing.conversation.<id>`` (the topic check already proved the user sees it); unless it is a
note, also as ``widget.typing`` {conversation_id, name} to the contact's widget, when the typist
may reply. Which contact that is, and whether the typist may reply, is looked up once per
conversation and socket (in a worker thread) and kept for TYPING_CACHE_SECONDS; the relay
itself never queries.
"""

from __future__ import annotations

import time
from typing import Any

from channels.db import database_sync_to_async

from realtime.registry import ActionContext, ActionError, register_action, register_topic

TYPING_INTERVAL_SECONDS = 2.0
TYPING_CACHE_SECONDS = 30.0


def can_follow_inbox(user: Any, key: str) -> bool:
    """``queueing.inbox.<org_id>``: org admins, agents and viewers of the organization."""
    from queueing.inbox_access import staff_role

    return key.isdigit() and staff_role(user, int(key)) is not None


def can_follow_conversation(user: Any, key: str) -> bool:
    """``queueing.conversation.<id>``: staff who see the conversation."""
    from queueing.inbox_access import can_see
    from queueing.models import Conversation

    if not key.isdigit() or not getattr(user, "is_authenticated", False):
        return False
    conversation = Conversation.objects.filter(pk=int(key)).first()
    return conversation is not None and can_see(user, conversation)


def can_follow_supervisor(user: Any, key: str) -> bool:
    """``queueing.supervisor.<org_id>``: the organization's admins."""
    from queueing.inbox_access import is_org_admin

    return key.isdigit() and is_org_admin(user, int(key))


def typing_target(user: Any, conversation_id: int) -> tuple[int | None, bool]:
    """``(contact_id, may_reply)`` for a typist who sees the conversation, else (None, False)."""
    from queueing.inbox_access import can_reply, can_see
    from queueing.models import Conversation

    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None or not can_see(user, conversation):
        return None, False
    return conversation.contact_id, can_reply(user, conversation)


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


async def typing(context: ActionContext, frame: dict[str, Any]) -> None:
    from chat.support import first_name

    conversation_id, note = frame.get("conversation_id"), frame.get("note", False)
    if not _is_id(conversation_id) or not isinstance(note, bool):
        raise ActionError(
            "realtime.bad_frame", "Typing names a conversation id (and note: true/false)."
        )
    assert isinstance(conversation_id, int)
    group = context.subscriptions.get(f"queueing.conversation.{conversation_id}")
    if group is None:
        raise ActionError(
            "inbox.typing_refused",
            "Follow the conversation before typing in it.",
            conversation_id=conversation_id,
        )
    last_relayed: dict[tuple[int, bool], float] = context.state.setdefault("inbox_typing", {})
    now = time.monotonic()
    key = (conversation_id, note)
    if now - last_relayed.get(key, -TYPING_INTERVAL_SECONDS) < TYPING_INTERVAL_SECONDS:
        return
    last_relayed[key] = now
    user = context.user
    await context.relay(
        group,
        "inbox.typing",
        {
            "conversation_id": conversation_id,
            "user_id": user.pk,
            "name": user.get_full_name(),
            "note": note,
            "contact": False,
        },
    )
    if note:
        return
    targets: dict[int, tuple[float, int | None, bool]] = context.state.setdefault(
        "inbox_typing_targets", {}
    )
    cached = targets.get(conversation_id)
    if cached is None or now - cached[0] > TYPING_CACHE_SECONDS:
        contact_id, may_reply = await database_sync_to_async(typing_target)(user, conversation_id)
        cached = targets[conversation_id] = (now, contact_id, may_reply)
    _, contact_id, may_reply = cached
    if contact_id is None or not may_reply:
        return
    await context.relay(
        f"widget.contact.{contact_id}",
        "widget.typing",
        {"conversation_id": conversation_id, "name": first_name(user)},
    )


def register() -> None:
    register_topic("queueing.inbox", check=can_follow_inbox)
    register_topic("queueing.conversation", check=can_follow_conversation)
    register_topic("queueing.supervisor", check=can_follow_supervisor)
    register_action("inbox.typing", typing)
