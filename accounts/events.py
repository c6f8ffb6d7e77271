"""Real-time payloads of the accounts app and the functions that publish them."""

from __future__ import annotations

from typing import TypedDict

from rest_framework import serializers

from accounts.models import Membership
from realtime.publish import publish_on_commit, revoke_topic_on_commit


class MemberUserPayload(TypedDict):
    id: int
    email: str
    display_name: str


class MembershipPayload(TypedDict):
    id: int
    role: str
    created_at: str
    user: MemberUserPayload


class MembershipEventPayload(TypedDict):
    organization_id: int
    membership: MembershipPayload | dict[str, int]


def organization_topic(organization_id: int) -> str:
    return f"accounts.organization.{organization_id}"


def membership_payload(membership: Membership) -> MembershipPayload:
    """Same shape as an item of the members list endpoint, so clients merge it directly."""
    return {
        "id": membership.pk,
        "role": membership.role,
        # Rendered by DRF's field, exactly as the list endpoint renders it (local time).
        "created_at": serializers.DateTimeField().to_representation(membership.created_at),
        "user": {
            "id": membership.user.pk,
            "email": membership.user.email,
            "display_name": membership.user.display_name,
        },
    }


def membership_created(membership: Membership) -> None:
    payload: MembershipEventPayload = {
        "organization_id": membership.organization_id,
        "membership": membership_payload(membership),
    }
    publish_on_commit(
        organization_topic(membership.organization_id), "accounts.membership.created", dict(payload)
    )


def membership_updated(membership: Membership) -> None:
    payload: MembershipEventPayload = {
        "organization_id": membership.organization_id,
        "membership": membership_payload(membership),
    }
    publish_on_commit(
        organization_topic(membership.organization_id), "accounts.membership.updated", dict(payload)
    )


def membership_deleted(*, organization_id: int, membership_id: int, user_id: int) -> None:
    payload: MembershipEventPayload = {
        "organization_id": organization_id,
        "membership": {"id": membership_id, "user_id": user_id},
    }
    topic = organization_topic(organization_id)
    publish_on_commit(topic, "accounts.membership.deleted", dict(payload))
    # The removed user's open sockets must stop receiving this organization's events now.
    revoke_topic_on_commit(user_id, topic)
