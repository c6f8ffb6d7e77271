"""Who may do what in chat: the one place these rules are written down.

Two roles matter: the person's role in the organization (``accounts.roles.Role``) and their
role in the room (``chat.models.RoomRole``), read together as a ``RoomAccess``.

- Anyone in the organization may see and join its public channels; private channels, DMs and
  group DMs are visible to their members only.
- Viewers read: they may join public channels, mark read and choose their notification level,
  and nothing else (no posting, reactions, uploads, pins, rooms, DMs or invitations).
- Posting, reacting, uploading and pinning need room membership and an org role that writes
  (org admin, agent).
- Only the author edits a message. The author, an org admin, or the owner/admin of a channel
  deletes one (channel owners keep their own channel tidy; DMs have no moderators).
- A channel's settings, archive and members' roles: its owner/admin or an org admin. Inviting
  to a channel: any member who may post. Removing someone: owner/admin or org admin.
  Anyone may leave a channel or a group DM; a one-to-one DM cannot be left.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from accounts.models import Membership
from accounts.roles import Capability, role_can
from chat.models import Message, Room, RoomKind, RoomMember, RoomRole

ROOM_MANAGERS = frozenset({RoomRole.OWNER, RoomRole.ADMIN})


@dataclass(frozen=True)
class RoomAccess:
    """A person's standing in one room: their organization role and room membership."""

    user_id: int | None
    org_role: str | None
    member: RoomMember | None

    @property
    def is_member(self) -> bool:
        return self.member is not None

    @property
    def room_role(self) -> str | None:
        return self.member.role if self.member is not None else None

    @property
    def writes(self) -> bool:
        return role_can(self.org_role, Capability.CHAT_WRITE)

    @property
    def is_org_admin(self) -> bool:
        """Moderates the organization's chat (org admins, through accounts.roles)."""
        return role_can(self.org_role, Capability.CHAT_MODERATE)


def org_role(user: Any, organization_id: int) -> str | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Membership.objects.filter(user_id=user.pk, organization_id=organization_id)
        .values_list("role", flat=True)
        .first()
    )


def room_access(user: Any, room: Room) -> RoomAccess:
    """Two queries: the organization membership and the room membership."""
    role = org_role(user, room.organization_id)
    member = (
        RoomMember.objects.filter(room_id=room.pk, user_id=user.pk).first()
        if role is not None
        else None
    )
    return RoomAccess(user_id=getattr(user, "pk", None), org_role=role, member=member)


def _access(user: Any, room: Room, access: RoomAccess | None) -> RoomAccess:
    return access if access is not None else room_access(user, room)


def can_see(user: Any, room: Room, *, access: RoomAccess | None = None) -> bool:
    """Members see their rooms; any member of the organization sees its public channels."""
    access = _access(user, room, access)
    if access.org_role is None:
        return False
    return access.is_member or room.kind == RoomKind.CHANNEL


def can_post(user: Any, room: Room, *, access: RoomAccess | None = None) -> bool:
    """Post, react, upload and pin (archived rooms are refused separately, with 409)."""
    access = _access(user, room, access)
    return access.is_member and access.writes


can_react = can_post
can_upload = can_post
can_pin = can_post
can_invite = can_post


def can_create_rooms(org_role: str | None) -> bool:
    """Create channels and start DMs: writing roles only."""
    return role_can(org_role, Capability.CHAT_WRITE)


def can_join(user: Any, room: Room, *, access: RoomAccess | None = None) -> bool:
    access = _access(user, room, access)
    return access.org_role is not None and room.kind == RoomKind.CHANNEL


def can_leave(user: Any, room: Room, *, access: RoomAccess | None = None) -> bool:
    access = _access(user, room, access)
    return access.is_member and room.kind != RoomKind.DIRECT


def can_manage(user: Any, room: Room, *, access: RoomAccess | None = None) -> bool:
    """Rename, set the topic, archive, change members' roles: channels only."""
    access = _access(user, room, access)
    if not room.is_channel or access.org_role is None:
        return False
    return access.is_org_admin or access.room_role in ROOM_MANAGERS


can_moderate = can_manage
can_remove_members = can_manage


def can_edit_message(user: Any, message: Message, *, access: RoomAccess) -> bool:
    return (
        message.author_id is not None
        and message.author_id == getattr(user, "pk", None)
        and access.is_member
        and access.writes
    )


def can_delete_message(user: Any, message: Message, *, access: RoomAccess) -> bool:
    if access.org_role is None:
        return False
    if access.is_org_admin:
        return True
    if message.author_id is not None and message.author_id == getattr(user, "pk", None):
        return access.is_member
    return message.room.is_channel and access.room_role in ROOM_MANAGERS
