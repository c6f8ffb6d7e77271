"""Who may see and act on the support inbox's conversations: the one place these rules live.

- Org admins see and act on every conversation of their organization.
- Agents see the conversations of the queues they are members of, plus those assigned to them.
- Viewers see every conversation of the organization, read-only.

Acting: replying to the contact is for the assignee or an org admin; an internal note is for
anyone who sees the conversation except viewers; assigning, transferring, changing the status,
priority or labels is for the assignee or an org admin (an agent may also take an unassigned
conversation of their own queue); reopening is for an org admin or the last assignee; merging
is for an org admin or the assignee of both. Configuration is for org admins.

A conversation outside the organization or outside what the user sees answers the same 404
``inbox.not_found``, so a refusal never tells whether it exists.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import Membership
from accounts.roles import Role
from core.exceptions import NotFoundError, PermissionDeniedError
from queueing.models import Conversation, ConversationStatus, QueueMember

STAFF_ROLES = (Role.ORG_ADMIN, Role.AGENT, Role.VIEWER)
# Roles that may be given conversations (routing targets).
AGENT_ROLES = (Role.ORG_ADMIN, Role.AGENT)


class InboxNotFoundError(NotFoundError):
    code = "inbox.not_found"


class InboxPermissionDeniedError(PermissionDeniedError):
    code = "inbox.permission_denied"


def not_found() -> InboxNotFoundError:
    return InboxNotFoundError(_("Not found."))


def permission_denied(message: str | None = None) -> InboxPermissionDeniedError:
    return InboxPermissionDeniedError(
        message or _("You do not have permission to do this in the inbox.")
    )


def staff_role(user: Any, organization_id: int) -> str | None:
    """The user's organization role (org_admin, agent, viewer), or None (also anonymous)."""
    if not getattr(user, "is_authenticated", False):
        return None
    role = (
        Membership.objects.filter(user_id=user.pk, organization_id=organization_id)
        .values_list("role", flat=True)
        .first()
    )
    return role if role in STAFF_ROLES else None


def _role(user: Any, organization_id: int) -> str | None:
    # Asked afresh each time: a socket's user object lives for hours, and a role may change.
    return staff_role(user, organization_id)


def is_agent(user_id: int, organization_id: int) -> bool:
    """Whether the user may be given conversations in the organization (agent or admin)."""
    return Membership.objects.filter(
        user_id=user_id, organization_id=organization_id, role__in=AGENT_ROLES
    ).exists()


def is_org_admin(user: Any, organization_id: int) -> bool:
    return staff_role(user, organization_id) == Role.ORG_ADMIN


def conversations_visible(user: Any, organization_id: int) -> QuerySet[Conversation]:
    """The organization's conversations ``user`` sees (none for outsiders)."""
    role = staff_role(user, organization_id)
    conversations = Conversation.objects.filter(organization_id=organization_id)
    if role in (Role.ORG_ADMIN, Role.VIEWER):
        return conversations
    if role == Role.AGENT:
        member_queues = QueueMember.objects.filter(user_id=user.pk).values("queue_id")
        return conversations.filter(Q(queue_id__in=member_queues) | Q(assignee_id=user.pk))
    return conversations.none()


def can_see(user: Any, conversation: Conversation) -> bool:
    role = _role(user, conversation.organization_id)
    if role in (Role.ORG_ADMIN, Role.VIEWER):
        return True
    if role != Role.AGENT:
        return False
    if conversation.assignee_id == user.pk:
        return True
    return QueueMember.objects.filter(queue_id=conversation.queue_id, user_id=user.pk).exists()


def conversation_get_visible(
    *, user: Any, organization_id: int, conversation_id: int
) -> Conversation:
    """The conversation if ``user`` sees it in ``organization_id``; 404 ``inbox.not_found``."""
    conversation = (
        conversations_visible(user, organization_id)
        .select_related("contact", "queue", "queue__department", "assignee")
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None:
        raise not_found()
    return conversation


def can_reply(user: Any, conversation: Conversation) -> bool:
    """Write to the contact: the assignee (not a viewer) or an org admin."""
    role = _role(user, conversation.organization_id)
    if role == Role.ORG_ADMIN:
        return True
    return role == Role.AGENT and conversation.assignee_id == user.pk


def can_note(user: Any, conversation: Conversation) -> bool:
    """Internal note: anyone who sees the conversation, except viewers."""
    role = _role(user, conversation.organization_id)
    return role in AGENT_ROLES and can_see(user, conversation)


def can_manage(user: Any, conversation: Conversation) -> bool:
    """Assign, transfer, status, priority, labels: the assignee or an org admin."""
    return can_reply(user, conversation)


def can_take(user: Any, conversation: Conversation) -> bool:
    """An agent may assign an unassigned conversation of one of their queues to themselves."""
    role = _role(user, conversation.organization_id)
    if role == Role.ORG_ADMIN:
        return True
    return (
        role == Role.AGENT
        and conversation.assignee_id is None
        and conversation.status != ConversationStatus.RESOLVED
        and QueueMember.objects.filter(queue_id=conversation.queue_id, user_id=user.pk).exists()
    )


def _last_assignee_id(conversation: Conversation) -> int | None:
    # A resolved conversation keeps its assignee; one unassigned since names its last
    # assignee in the assignment log.
    if conversation.assignee_id is not None:
        return conversation.assignee_id
    from queueing.models import ConversationEvent, ConversationEventKind

    event = (
        ConversationEvent.objects.filter(
            conversation_id=conversation.pk, kind=ConversationEventKind.ASSIGNED
        )
        .order_by("-id")
        .values_list("data", flat=True)
        .first()
    )
    if isinstance(event, dict):
        value = event.get("to_user") or event.get("user_id")
        return int(value) if isinstance(value, int) else None
    return None


def can_reopen(user: Any, conversation: Conversation) -> bool:
    """Reopen: an org admin or the last assignee."""
    role = _role(user, conversation.organization_id)
    if role == Role.ORG_ADMIN:
        return True
    return role == Role.AGENT and _last_assignee_id(conversation) == user.pk


def can_merge(user: Any, source: Conversation, target: Conversation) -> bool:
    """Merge: an org admin, or the assignee of both."""
    return can_manage(user, source) and can_manage(user, target)


def can_configure(user: Any, organization_id: int) -> bool:
    return _role(user, organization_id) == Role.ORG_ADMIN


def _require(allowed: bool) -> None:
    if not allowed:
        raise permission_denied()


def require_see(user: Any, conversation: Conversation) -> None:
    """404 ``inbox.not_found`` (never 403) when the user does not see the conversation."""
    if not can_see(user, conversation):
        raise not_found()


def require_reply(user: Any, conversation: Conversation) -> None:
    require_see(user, conversation)
    _require(can_reply(user, conversation))


def require_note(user: Any, conversation: Conversation) -> None:
    require_see(user, conversation)
    _require(can_note(user, conversation))


def require_manage(user: Any, conversation: Conversation) -> None:
    require_see(user, conversation)
    _require(can_manage(user, conversation))


def require_reopen(user: Any, conversation: Conversation) -> None:
    require_see(user, conversation)
    _require(can_reopen(user, conversation))


def require_merge(user: Any, source: Conversation, target: Conversation) -> None:
    require_see(user, source)
    require_see(user, target)
    _require(can_merge(user, source, target))


def require_staff(user: Any, organization_id: int) -> str:
    """The user's role; 404 ``inbox.not_found`` for someone outside the organization."""
    role = staff_role(user, organization_id)
    if role is None:
        raise not_found()
    return role


def require_agent(user: Any, organization_id: int) -> str:
    """An org admin or agent; 404 outside the organization, 403 for viewers."""
    role = require_staff(user, organization_id)
    _require(role in AGENT_ROLES)
    return role


def require_configure(user: Any, organization_id: int) -> None:
    """Org admins only; 404 outside the organization, 403 for agents and viewers."""
    role = require_staff(user, organization_id)
    _require(role == Role.ORG_ADMIN)
