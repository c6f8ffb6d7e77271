"""Builders and assertions shared by every chat test module (rooms, messages, attachments,
search, presence, notifications). Keep these names stable: the other chat tests import them.

``team()`` is the usual world: one organization with an org admin, two agents and a viewer,
and an outsider who belongs to another organization.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from accounts.models import Membership, Organization, User
from accounts.roles import Role
from accounts.tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from accounts.tests.helpers import assert_error, client_for, committed, rows
from chat.models import Message, Room, RoomKind, RoomMember, RoomRole

__all__ = [
    "Team",
    "assert_error",
    "channel",
    "client_for",
    "committed",
    "direct",
    "events_named",
    "member",
    "rows",
    "send",
    "team",
]


@dataclass
class Team:
    organization: Organization
    admin: User  # org_admin
    agent: User
    agent2: User
    viewer: User
    outsider: User  # a member of ``other_organization`` only
    other_organization: Organization

    @property
    def everyone(self) -> list[User]:
        """The organization's members (not the outsider)."""
        return [self.admin, self.agent, self.agent2, self.viewer]


def member(organization: Organization, role: str = Role.AGENT, **fields: Any) -> User:
    """A new user who is a member of ``organization`` with ``role``."""
    user: User = UserFactory(**fields)
    MembershipFactory(organization=organization, user=user, role=role)
    return user


def team() -> Team:
    organization = OrganizationFactory()
    other = OrganizationFactory()
    return Team(
        organization=organization,
        admin=member(organization, Role.ORG_ADMIN, display_name="Ana Admin"),
        agent=member(organization, Role.AGENT, display_name="Bruno Agente"),
        agent2=member(organization, Role.AGENT, display_name="Carla Agente"),
        viewer=member(organization, Role.VIEWER, display_name="Davi Leitor"),
        outsider=member(other, Role.ORG_ADMIN, display_name="Olga Outsider"),
        other_organization=other,
    )


def channel(
    organization: Organization,
    *,
    owner: User | None = None,
    members: Iterable[User] = (),
    kind: str = RoomKind.CHANNEL,
    name: str | None = None,
    archived: bool = False,
) -> Room:
    """A channel (public by default) stored directly; ``owner`` gets the owner role."""
    from django.utils import timezone

    from chat.tests.factories import RoomFactory

    fields: dict[str, Any] = {"organization": organization, "kind": kind, "created_by": owner}
    if name is not None:
        fields["name"] = name
    if archived:
        fields["archived_at"] = timezone.now()
    room: Room = RoomFactory(**fields)
    if owner is not None:
        RoomMember.objects.create(room=room, user=owner, role=RoomRole.OWNER)
    for user in members:
        if owner is None or user.pk != owner.pk:
            RoomMember.objects.create(room=room, user=user, role=RoomRole.MEMBER)
    return room


def direct(organization: Organization, *users: User) -> Room:
    """A direct message (two users) or group DM (more), stored directly."""
    kind = RoomKind.DIRECT if len(users) == 2 else RoomKind.GROUP
    key = ":".join(str(pk) for pk in sorted(user.pk for user in users))
    room = Room.objects.create(organization=organization, kind=kind, direct_key=key)
    for user in users:
        RoomMember.objects.create(room=room, user=user)
    return room


def send(room: Room, author: User, body: str = "hello", **fields: Any) -> Message:
    """Post a message through the service (validation, mentions, html, events, task)."""
    from chat import services

    message, _created = services.message_send(user=author, room=room, body=body, **fields)
    return message


def events_named(published: list[tuple[str, dict[str, Any]]], event: str) -> list[tuple[str, Any]]:
    """(group, data) of each published event called ``event`` (see the ``published`` fixture)."""
    return [(group, message["data"]) for group, message in published if message["event"] == event]


def membership_of(user: User, organization: Organization) -> Membership:
    return Membership.objects.get(user=user, organization=organization)
