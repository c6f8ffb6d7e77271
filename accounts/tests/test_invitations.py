"""Invitations by email, leaving an organization, and choosing the active one."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuditEvent, Invitation, Membership, User
from accounts.roles import Role
from accounts.tests.conftest import Org
from accounts.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def as_user(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def invite(org: Org, email: str, role: str = "agent", capture: Any = None) -> tuple[Any, str]:
    """Invite through the API as the org admin; return the response and the emailed token."""
    with capture(execute=True):
        response = as_user(org.admin.user).post(
            f"/api/v1/organizations/{org.organization.pk}/invitations/",
            {"email": email, "role": role},
            format="json",
        )
    token = ""
    if mail.outbox:
        match = re.search(r"/invitations/([\w-]+)", mail.outbox[-1].body)
        token = match.group(1) if match else ""
    return response, token


def test_an_org_admin_invites_by_email_and_the_link_goes_out(
    org: Org, django_capture_on_commit_callbacks: Any
) -> None:
    response, token = invite(
        org, "New.Person@Example.com", capture=django_capture_on_commit_callbacks
    )

    assert response.status_code == 201
    assert response.json()["email"] == "new.person@example.com"
    assert response.json()["role"] == "agent"
    assert [message.to for message in mail.outbox] == [["new.person@example.com"]]
    assert org.organization.name in mail.outbox[0].subject
    invitation = Invitation.objects.get()
    assert token and token not in invitation.token_hash
    assert AuditEvent.objects.filter(action="organizations.invitation_sent").count() == 1


@pytest.mark.parametrize("who", ["agent", "viewer"])
def test_only_org_admins_invite(org: Org, who: str) -> None:
    member = getattr(org, who)

    response = as_user(member.user).post(
        f"/api/v1/organizations/{org.organization.pk}/invitations/",
        {"email": "x@example.com", "role": "agent"},
        format="json",
    )

    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    assert Invitation.objects.count() == 0


def test_outsiders_do_not_learn_that_the_organization_exists(org: Org, outsider: User) -> None:
    response = as_user(outsider).get(f"/api/v1/organizations/{org.organization.pk}/invitations/")

    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_inviting_a_member_is_refused(org: Org, django_capture_on_commit_callbacks: Any) -> None:
    response, _ = invite(org, org.agent.user.email, capture=django_capture_on_commit_callbacks)

    assert (response.status_code, response.json()["code"]) == (409, "accounts.already_member")
    assert (Invitation.objects.count(), len(mail.outbox)) == (0, 0)


def test_the_invited_person_sees_the_invitation_and_accepts_it(
    org: Org, django_capture_on_commit_callbacks: Any, published: Any
) -> None:
    _, token = invite(org, "lia@example.com", "viewer", capture=django_capture_on_commit_callbacks)
    lia = UserFactory(email="lia@example.com")

    public = as_user(None).get(f"/api/v1/invitations/{token}/")
    with django_capture_on_commit_callbacks(execute=True):
        accepted = as_user(lia).post(f"/api/v1/invitations/{token}/accept/")
    again = as_user(lia).post(f"/api/v1/invitations/{token}/accept/")

    assert public.status_code == 200
    assert public.json()["organization"] == {
        "id": org.organization.pk,
        "name": org.organization.name,
    }
    assert (public.json()["role"], public.json()["email"], public.json()["status"]) == (
        "viewer",
        "li***@example.com",
        "pending",
    )
    assert accepted.status_code == 200
    assert accepted.json()["role"] == "viewer"
    assert Membership.objects.filter(
        organization=org.organization, user=lia, role="viewer"
    ).exists()
    lia.refresh_from_db()
    assert lia.active_organization_id == org.organization.pk
    assert (again.status_code, again.json()["code"]) == (410, "accounts.invitation_used")
    assert "accounts.membership.created" in [message["event"] for _group, message in published]


def test_someone_signed_in_with_another_email_cannot_use_the_link(
    org: Org, django_capture_on_commit_callbacks: Any
) -> None:
    _, token = invite(org, "lia@example.com", capture=django_capture_on_commit_callbacks)
    other = UserFactory(email="other@example.com")

    response = as_user(other).post(f"/api/v1/invitations/{token}/accept/")

    assert (response.status_code, response.json()["code"]) == (
        403,
        "accounts.invitation_wrong_account",
    )
    assert Membership.objects.filter(user=other).count() == 0


def test_an_expired_invitation_cannot_be_used(
    org: Org, django_capture_on_commit_callbacks: Any
) -> None:
    _, token = invite(org, "lia@example.com", capture=django_capture_on_commit_callbacks)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    lia = UserFactory(email="lia@example.com")

    public = as_user(None).get(f"/api/v1/invitations/{token}/")
    response = as_user(lia).post(f"/api/v1/invitations/{token}/accept/")

    assert public.json()["status"] == "expired"
    assert (response.status_code, response.json()["code"]) == (410, "accounts.invitation_expired")
    assert Membership.objects.filter(user=lia).count() == 0


def test_inviting_again_replaces_the_old_link_and_revoking_closes_it(
    org: Org, django_capture_on_commit_callbacks: Any
) -> None:
    _, first = invite(org, "lia@example.com", capture=django_capture_on_commit_callbacks)
    _, second = invite(org, "lia@example.com", capture=django_capture_on_commit_callbacks)
    lia = UserFactory(email="lia@example.com")
    pending = Invitation.objects.get(revoked_at__isnull=True)

    old = as_user(lia).post(f"/api/v1/invitations/{first}/accept/")
    revoked = as_user(org.admin.user).delete(
        f"/api/v1/organizations/{org.organization.pk}/invitations/{pending.pk}/"
    )
    new = as_user(lia).post(f"/api/v1/invitations/{second}/accept/")
    listed = as_user(org.admin.user).get(
        f"/api/v1/organizations/{org.organization.pk}/invitations/"
    )

    assert (old.status_code, old.json()["code"]) == (410, "accounts.invitation_revoked")
    assert revoked.status_code == 204
    assert (new.status_code, new.json()["code"]) == (410, "accounts.invitation_revoked")
    assert listed.json()["count"] == 0


def test_an_unknown_link_is_not_found() -> None:
    response = as_user(None).get("/api/v1/invitations/not-a-real-token/")

    assert (response.status_code, response.json()["code"]) == (404, "accounts.invitation_not_found")


def test_an_invitation_of_another_organization_cannot_be_revoked_from_this_one(
    org: Org, other_org: Org, django_capture_on_commit_callbacks: Any
) -> None:
    invite(other_org, "lia@example.com", capture=django_capture_on_commit_callbacks)
    foreign = Invitation.objects.get()

    response = as_user(org.admin.user).delete(
        f"/api/v1/organizations/{org.organization.pk}/invitations/{foreign.pk}/"
    )

    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.revoked_at is None


def test_a_member_leaves_but_the_last_admin_cannot(org: Org) -> None:
    left = as_user(org.agent.user).post(f"/api/v1/organizations/{org.organization.pk}/leave/")
    refused = as_user(org.admin.user).post(f"/api/v1/organizations/{org.organization.pk}/leave/")

    assert left.status_code == 204
    assert not Membership.objects.filter(pk=org.agent.pk).exists()
    assert (refused.status_code, refused.json()["code"]) == (409, "accounts.last_org_admin")
    assert Membership.objects.filter(pk=org.admin.pk).exists()


def test_the_active_organization_is_one_of_mine(org: Org, other_org: Org) -> None:
    second = MembershipFactory(
        user=org.agent.user, organization=other_org.organization, role=Role.VIEWER
    )

    chosen = as_user(org.agent.user).post(
        "/api/v1/me/active-organization/",
        {"organization_id": second.organization_id},
        format="json",
    )
    foreign = as_user(org.viewer.user).post(
        "/api/v1/me/active-organization/",
        {"organization_id": other_org.organization.pk},
        format="json",
    )

    assert chosen.status_code == 200
    assert chosen.json()["active_organization_id"] == other_org.organization.pk
    assert (foreign.status_code, foreign.json()["code"]) == (404, "not_found")
