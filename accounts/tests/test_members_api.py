"""/api/v1/organizations/<id>/members/: who may list, re-role and remove members."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Membership, User
from accounts.roles import Role
from accounts.tests.conftest import Org
from accounts.tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from accounts.tests.helpers import accounts_rows, assert_error, rows

pytestmark = pytest.mark.django_db

ClientFor = Callable[[User | None], APIClient]
Published = list[tuple[str, dict[str, Any]]]


def list_url(organization_id: int) -> str:
    return f"/api/v1/organizations/{organization_id}/members/"


def detail_url(organization_id: int, membership_id: int) -> str:
    return f"/api/v1/organizations/{organization_id}/members/{membership_id}/"


def item(membership: Membership) -> dict[str, Any]:
    """A member as the list endpoint shows it; created_at in the API's local time zone."""
    created_at = timezone.localtime(membership.created_at).isoformat()
    return {
        "id": membership.pk,
        "role": membership.role,
        "created_at": created_at,
        "user": {
            "id": membership.user.pk,
            "email": membership.user.email,
            "display_name": membership.user.display_name,
        },
    }


@pytest.fixture
def named_org(db: None) -> Org:
    """An organization whose members' names fix the list order: admin, agent, viewer."""
    organization = OrganizationFactory(name="Escola Azul", slug="escola-azul")
    return Org(
        organization=organization,
        admin=MembershipFactory(
            organization=organization,
            role=Role.ORG_ADMIN,
            user=UserFactory(email="ana@example.com", display_name="Ana Admin"),
        ),
        agent=MembershipFactory(
            organization=organization,
            role=Role.AGENT,
            user=UserFactory(email="bruno@example.com", display_name="Bruno Agente"),
        ),
        viewer=MembershipFactory(
            organization=organization,
            role=Role.VIEWER,
            user=UserFactory(email="davi@example.com", display_name="Davi Leitor"),
        ),
    )


def actor(name: str, org: Org, other_org: Org, outsider: User) -> User | None:
    return {
        "anonymous": None,
        "outsider": outsider,
        "other_org_admin": other_org.admin.user,
        "viewer": org.viewer.user,
        "agent": org.agent.user,
        "admin": org.admin.user,
    }[name]


# --- Listing ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["viewer", "agent", "admin"])
def test_every_member_can_list_the_members(
    client_for: ClientFor, named_org: Org, other_org: Org, outsider: User, who: str
) -> None:
    response = client_for(actor(who, named_org, other_org, outsider)).get(
        list_url(named_org.organization.pk)
    )

    assert response.status_code == 200
    assert response.json() == {
        "count": 3,
        "next": None,
        "previous": None,
        "results": [item(named_org.admin), item(named_org.agent), item(named_org.viewer)],
    }


def test_an_anonymous_visitor_cannot_list_members(client_for: ClientFor, org: Org) -> None:
    assert_error(client_for(None).get(list_url(org.organization.pk)), 401, "not_authenticated")


@pytest.mark.parametrize("who", ["outsider", "other_org_admin"])
def test_a_non_member_is_told_the_organization_does_not_exist(
    client_for: ClientFor, org: Org, other_org: Org, outsider: User, who: str
) -> None:
    response = client_for(actor(who, org, other_org, outsider)).get(list_url(org.organization.pk))

    assert_error(response, 404, "not_found")


def test_a_missing_organization_looks_the_same_as_someone_elses(
    client_for: ClientFor, outsider: User
) -> None:
    response = client_for(outsider).get(list_url(999_999))

    assert_error(response, 404, "not_found")


def test_the_members_list_is_paginated(client_for: ClientFor, named_org: Org) -> None:
    client = client_for(named_org.viewer.user)
    url = list_url(named_org.organization.pk)

    first = client.get(url, {"page_size": 2})
    second = client.get(url, {"page_size": 2, "page": 2})

    assert first.status_code == 200
    assert first.json() == {
        "count": 3,
        "next": f"http://testserver{url}?page=2&page_size=2",
        "previous": None,
        "results": [item(named_org.admin), item(named_org.agent)],
    }
    assert second.status_code == 200
    assert second.json() == {
        "count": 3,
        "next": None,
        "previous": f"http://testserver{url}?page_size=2",
        "results": [item(named_org.viewer)],
    }


def test_a_page_past_the_end_is_not_found(client_for: ClientFor, named_org: Org) -> None:
    response = client_for(named_org.viewer.user).get(
        list_url(named_org.organization.pk), {"page_size": 2, "page": 3}
    )

    assert_error(response, 404, "not_found")


@pytest.mark.parametrize("member_count", [3, 15])
def test_listing_members_takes_the_same_queries_however_many_there_are(
    client_for: ClientFor, django_assert_num_queries: Any, member_count: int
) -> None:
    organization = OrganizationFactory()
    admin = MembershipFactory(organization=organization, role=Role.ORG_ADMIN)
    MembershipFactory.create_batch(member_count - 1, organization=organization)
    client = client_for(admin.user)

    # The token's user, the actor's membership (permission, then selector), count, page.
    with django_assert_num_queries(5):
        response = client.get(list_url(organization.pk))

    assert response.status_code == 200
    assert response.json()["count"] == member_count
    assert len(response.json()["results"]) == member_count


# --- Changing a role ----------------------------------------------------------------------


def test_an_org_admin_changes_a_members_role(
    client_for: ClientFor,
    org: Org,
    django_capture_on_commit_callbacks: Any,
    published: Published,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(org.admin.user).patch(
            detail_url(org.organization.pk, org.agent.pk), {"role": "viewer"}, format="json"
        )

    assert response.status_code == 200
    org.agent.refresh_from_db()
    assert org.agent.role == Role.VIEWER
    assert response.json() == item(org.agent)
    assert response.json()["role"] == "viewer"
    [(group, message)] = published
    assert group == f"accounts.organization.{org.organization.pk}"
    assert message["type"] == "realtime.event"
    assert message["event"] == "accounts.membership.updated"
    event_member = message["data"]["membership"]
    assert message["data"] == {"organization_id": org.organization.pk, "membership": event_member}
    assert datetime.fromisoformat(event_member["created_at"]) == org.agent.created_at
    assert {**event_member, "created_at": None} == {**response.json(), "created_at": None}


def test_the_membership_event_carries_exactly_the_list_item(
    client_for: ClientFor,
    org: Org,
    django_capture_on_commit_callbacks: Any,
    published: Published,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(org.admin.user).patch(
            detail_url(org.organization.pk, org.agent.pk), {"role": "viewer"}, format="json"
        )

    listed = client_for(org.admin.user).get(list_url(org.organization.pk)).json()["results"]
    [(_group, message)] = published
    assert message["data"]["membership"] == response.json()
    assert message["data"]["membership"] in listed


def test_an_org_admin_can_promote_a_viewer_to_admin(client_for: ClientFor, org: Org) -> None:
    response = client_for(org.admin.user).patch(
        detail_url(org.organization.pk, org.viewer.pk), {"role": "org_admin"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["role"] == "org_admin"
    org.viewer.refresh_from_db()
    assert org.viewer.role == Role.ORG_ADMIN


def test_setting_the_role_a_member_already_has_changes_and_publishes_nothing(
    client_for: ClientFor,
    org: Org,
    django_capture_on_commit_callbacks: Any,
    published: Published,
) -> None:
    before = rows(Membership)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(org.admin.user).patch(
            detail_url(org.organization.pk, org.agent.pk), {"role": "agent"}, format="json"
        )

    assert response.status_code == 200
    assert response.json() == item(org.agent)
    assert rows(Membership) == before
    assert published == []


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("anonymous", 401, "not_authenticated"),
        ("outsider", 404, "not_found"),
        ("other_org_admin", 404, "not_found"),
        ("viewer", 403, "permission_denied"),
        ("agent", 403, "permission_denied"),
    ],
)
def test_only_an_org_admin_may_change_roles(
    client_for: ClientFor,
    org: Org,
    other_org: Org,
    outsider: User,
    django_capture_on_commit_callbacks: Any,
    published: Published,
    who: str,
    status: int,
    code: str,
) -> None:
    before = accounts_rows()

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(actor(who, org, other_org, outsider)).patch(
            detail_url(org.organization.pk, org.viewer.pk), {"role": "org_admin"}, format="json"
        )

    assert_error(response, status, code)
    assert accounts_rows() == before
    assert published == []


def test_an_agent_cannot_promote_themselves(
    client_for: ClientFor, org: Org, django_capture_on_commit_callbacks: Any, published: Published
) -> None:
    before = accounts_rows()

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(org.agent.user).patch(
            detail_url(org.organization.pk, org.agent.pk), {"role": "org_admin"}, format="json"
        )

    assert_error(response, 403, "permission_denied")
    assert accounts_rows() == before
    assert published == []


def test_a_membership_of_another_organization_cannot_be_changed_through_mine(
    client_for: ClientFor,
    org: Org,
    other_org: Org,
    django_capture_on_commit_callbacks: Any,
    published: Published,
) -> None:
    before = accounts_rows()

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(org.admin.user).patch(
            detail_url(org.organization.pk, other_org.admin.pk), {"role": "viewer"}, format="json"
        )

    assert_error(response, 404, "not_found")
    assert accounts_rows() == before
    assert published == []


def test_a_missing_membership_is_not_found(client_for: ClientFor, org: Org) -> None:
    response = client_for(org.admin.user).patch(
        detail_url(org.organization.pk, 999_999), {"role": "viewer"}, format="json"
    )

    assert_error(response, 404, "not_found")


def test_the_last_org_admin_cannot_demote_themselves(
    client_for: ClientFor, org: Org, django_capture_on_commit_callbacks: Any, published: Published
) -> None:
    before = accounts_rows()

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(org.admin.user).patch(
            detail_url(org.organization.pk, org.admin.pk), {"role": "agent"}, format="json"
        )

    assert_error(response, 409, "accounts.last_org_admin")
    assert accounts_rows() == before
    assert published == []


def test_an_org_admin_may_step_down_when_another_admin_remains(
    client_for: ClientFor, org: Org
) -> None:
    MembershipFactory(organization=org.organization, role=Role.ORG_ADMIN)

    response = client_for(org.admin.user).patch(
        detail_url(org.organization.pk, org.admin.pk), {"role": "agent"}, format="json"
    )

    assert response.status_code == 200
    org.admin.refresh_from_db()
    assert org.admin.role == Role.AGENT


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({"role": "owner"}, {"role": ['"owner" is not a valid choice.']}),
        ({}, {"role": ["This field is required."]}),
        ({"role": "viewer", "rol": "x"}, {"rol": ["Unknown field."]}),
    ],
    ids=["unknown_role", "missing", "unknown_field"],
)
def test_it_refuses_an_invalid_role_change(
    client_for: ClientFor,
    org: Org,
    django_capture_on_commit_callbacks: Any,
    published: Published,
    data: dict[str, Any],
    fields: dict[str, list[str]],
) -> None:
    before = accounts_rows()

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(org.admin.user).patch(
            detail_url(org.organization.pk, org.agent.pk), data, format="json"
        )

    assert_error(response, 400, "validation_error", {"fields": fields})
    assert accounts_rows() == before
    assert published == []


# --- Removing a member --------------------------------------------------------------------


def test_an_org_admin_removes_a_member(
    client_for: ClientFor, org: Org, django_capture_on_commit_callbacks: Any, published: Published
) -> None:
    removed_user_id = org.agent.user_id

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(org.admin.user).delete(detail_url(org.organization.pk, org.agent.pk))

    assert response.status_code == 204
    assert response.content == b""
    assert not Membership.objects.filter(pk=org.agent.pk).exists()
    assert User.objects.filter(pk=removed_user_id).exists()
    assert Membership.objects.filter(organization=org.organization).count() == 2
    topic = f"accounts.organization.{org.organization.pk}"
    assert published == [
        (
            topic,
            {
                "type": "realtime.event",
                "event": "accounts.membership.deleted",
                "data": {
                    "organization_id": org.organization.pk,
                    "membership": {"id": org.agent.pk, "user_id": removed_user_id},
                },
            },
        ),
        (
            f"user.{removed_user_id}",
            {"type": "realtime.revoke", "event": "realtime.revoke", "topic": topic},
        ),
    ]


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("anonymous", 401, "not_authenticated"),
        ("outsider", 404, "not_found"),
        ("other_org_admin", 404, "not_found"),
        ("viewer", 403, "permission_denied"),
        ("agent", 403, "permission_denied"),
    ],
)
def test_only_an_org_admin_may_remove_members(
    client_for: ClientFor,
    org: Org,
    other_org: Org,
    outsider: User,
    django_capture_on_commit_callbacks: Any,
    published: Published,
    who: str,
    status: int,
    code: str,
) -> None:
    before = accounts_rows()

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(actor(who, org, other_org, outsider)).delete(
            detail_url(org.organization.pk, org.viewer.pk)
        )

    assert_error(response, status, code)
    assert accounts_rows() == before
    assert published == []


def test_a_membership_of_another_organization_cannot_be_removed_through_mine(
    client_for: ClientFor,
    org: Org,
    other_org: Org,
    django_capture_on_commit_callbacks: Any,
    published: Published,
) -> None:
    before = accounts_rows()

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(org.admin.user).delete(
            detail_url(org.organization.pk, other_org.agent.pk)
        )

    assert_error(response, 404, "not_found")
    assert accounts_rows() == before
    assert published == []


def test_the_last_org_admin_cannot_leave(
    client_for: ClientFor, org: Org, django_capture_on_commit_callbacks: Any, published: Published
) -> None:
    before = accounts_rows()

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(org.admin.user).delete(detail_url(org.organization.pk, org.admin.pk))

    assert_error(response, 409, "accounts.last_org_admin")
    assert accounts_rows() == before
    assert published == []


def test_an_org_admin_may_leave_when_another_admin_remains(client_for: ClientFor, org: Org) -> None:
    MembershipFactory(organization=org.organization, role=Role.ORG_ADMIN)

    response = client_for(org.admin.user).delete(detail_url(org.organization.pk, org.admin.pk))

    assert response.status_code == 204
    assert not Membership.objects.filter(pk=org.admin.pk).exists()


def test_a_removed_member_loses_access_at_once(client_for: ClientFor, org: Org) -> None:
    removed = client_for(org.agent.user)

    client_for(org.admin.user).delete(detail_url(org.organization.pk, org.agent.pk))

    assert_error(removed.get(list_url(org.organization.pk)), 404, "not_found")
