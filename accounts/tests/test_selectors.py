"""Reads that decide who sees what, and the role rules they rest on."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from accounts import selectors
from accounts.models import User
from accounts.roles import Capability, Role, role_can
from accounts.tests.conftest import Org
from core.exceptions import NotFoundError

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (
            Role.ORG_ADMIN,
            {
                Capability.VIEW_MEMBERS,
                Capability.MANAGE_MEMBERS,
                Capability.FOLLOW_ORGANIZATION,
                Capability.CHAT_WRITE,
                Capability.CHAT_MODERATE,
                Capability.VIEW_TEAM_ONLINE_TIME,
                Capability.CRM_WRITE,
                Capability.CRM_MANAGE,
            },
        ),
        (
            Role.AGENT,
            {
                Capability.VIEW_MEMBERS,
                Capability.FOLLOW_ORGANIZATION,
                Capability.CHAT_WRITE,
                Capability.CRM_WRITE,
            },
        ),
        (Role.VIEWER, {Capability.VIEW_MEMBERS, Capability.FOLLOW_ORGANIZATION}),
        (None, set()),
        ("owner", set()),
    ],
)
def test_each_role_has_exactly_its_capabilities(role: str | None, allowed: set[Capability]) -> None:
    assert {capability for capability in Capability if role_can(role, capability)} == allowed


def test_membership_get_is_none_for_an_anonymous_user(org: Org) -> None:
    assert (
        selectors.membership_get(user=AnonymousUser(), organization_id=org.organization.pk) is None
    )


def test_membership_get_or_404_refuses_an_outsider(org: Org, outsider: User) -> None:
    with pytest.raises(NotFoundError):
        selectors.membership_get_or_404(user=outsider, organization_id=org.organization.pk)


def test_members_are_listed_by_name_then_email(org: Org) -> None:
    User.objects.filter(pk=org.admin.user_id).update(display_name="Zed")
    User.objects.filter(pk=org.agent.user_id).update(display_name="", email="b@example.com")
    User.objects.filter(pk=org.viewer.user_id).update(display_name="", email="a@example.com")

    members = selectors.membership_list_for_organization(
        actor=org.viewer.user, organization_id=org.organization.pk
    )

    assert list(members) == [org.viewer, org.agent, org.admin]


def test_membership_get_in_organization_refuses_a_membership_of_another_organization(
    org: Org, other_org: Org
) -> None:
    with pytest.raises(NotFoundError):
        selectors.membership_get_in_organization(
            organization_id=org.organization.pk, membership_id=other_org.agent.pk
        )


@pytest.mark.parametrize("who", ["admin", "agent", "viewer"])
def test_every_member_may_follow_their_organization(org: Org, who: str) -> None:
    user = getattr(org, who).user

    assert selectors.user_can_follow_organization(user, str(org.organization.pk)) is True


def test_others_may_not_follow_an_organization(org: Org, other_org: Org, outsider: User) -> None:
    key = str(org.organization.pk)

    assert selectors.user_can_follow_organization(outsider, key) is False
    assert selectors.user_can_follow_organization(other_org.admin.user, key) is False
    assert selectors.user_can_follow_organization(AnonymousUser(), key) is False
    assert selectors.user_can_follow_organization(org.admin.user, "999999") is False
    assert selectors.user_can_follow_organization(org.admin.user, "1e3") is False
    assert selectors.user_can_follow_organization(org.admin.user, "") is False
