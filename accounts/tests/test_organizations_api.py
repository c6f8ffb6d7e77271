"""/api/v1/organizations/: the organizations I belong to, and creating one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import Membership, Organization, User
from accounts.roles import Role
from accounts.tests.conftest import Org
from accounts.tests.factories import MembershipFactory, OrganizationFactory
from accounts.tests.helpers import accounts_rows, assert_error

pytestmark = pytest.mark.django_db

URL = "/api/v1/organizations/"
ClientFor = Callable[[User | None], APIClient]


def test_it_lists_only_the_organizations_i_belong_to_ordered_by_name(
    client_for: ClientFor, org: Org, other_org: Org
) -> None:
    user = org.agent.user
    second = OrganizationFactory(name="AAA First", slug="aaa-first")
    MembershipFactory(user=user, organization=second, role=Role.VIEWER)

    response = client_for(user).get(URL)

    assert response.status_code == 200
    assert response.json() == [
        {"id": second.pk, "name": "AAA First", "slug": "aaa-first", "require_two_factor": False},
        {
            "id": org.organization.pk,
            "name": org.organization.name,
            "slug": org.organization.slug,
            "require_two_factor": False,
        },
    ]


def test_someone_in_no_organization_gets_an_empty_list(
    client_for: ClientFor, outsider: User, org: Org
) -> None:
    response = client_for(outsider).get(URL)

    assert response.status_code == 200
    assert response.json() == []


def test_an_anonymous_visitor_cannot_list_organizations(client_for: ClientFor, org: Org) -> None:
    assert_error(client_for(None).get(URL), 401, "not_authenticated")


def test_creating_an_organization_makes_me_its_admin(
    client_for: ClientFor,
    outsider: User,
    django_capture_on_commit_callbacks: Any,
    published: list[tuple[str, dict[str, Any]]],
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(outsider).post(URL, {"name": "  Clínica Boa Saúde  "}, format="json")

    assert response.status_code == 201
    organization = Organization.objects.get()
    assert response.json() == {
        "id": organization.pk,
        "name": "Clínica Boa Saúde",
        "slug": "clinica-boa-saude",
        "require_two_factor": False,
    }
    membership = Membership.objects.get()
    assert (membership.organization_id, membership.user_id, membership.role) == (
        organization.pk,
        outsider.pk,
        Role.ORG_ADMIN,
    )
    assert [(group, message["event"]) for group, message in published] == [
        (f"accounts.organization.{organization.pk}", "accounts.membership.created")
    ]
    assert client_for(outsider).get(URL).json() == [response.json()]


def test_a_second_organization_with_the_same_name_gets_its_own_slug(
    client_for: ClientFor, outsider: User
) -> None:
    first = client_for(outsider).post(URL, {"name": "Acme"}, format="json")
    second = client_for(outsider).post(URL, {"name": "Acme"}, format="json")

    assert (first.status_code, second.status_code) == (201, 201)
    assert (first.json()["slug"], second.json()["slug"]) == ("acme", "acme-2")
    assert Membership.objects.filter(user=outsider, role=Role.ORG_ADMIN).count() == 2


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({"name": ""}, {"name": ["This field may not be blank."]}),
        ({"name": "   "}, {"name": ["This field may not be blank."]}),
        ({"name": "A"}, {"name": ["Ensure this field has at least 2 characters."]}),
        ({"name": "x" * 151}, {"name": ["Ensure this field has no more than 150 characters."]}),
        ({}, {"name": ["This field is required."]}),
        ({"name": "Acme", "slug": "mine"}, {"slug": ["Unknown field."]}),
    ],
    ids=["empty", "blank", "short", "long", "missing", "unknown"],
)
def test_it_refuses_an_invalid_organization_and_creates_nothing(
    client_for: ClientFor,
    outsider: User,
    data: dict[str, Any],
    fields: dict[str, list[str]],
    django_capture_on_commit_callbacks: Any,
    published: list[tuple[str, dict[str, Any]]],
) -> None:
    before = accounts_rows()

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(outsider).post(URL, data, format="json")

    assert_error(response, 400, "validation_error", {"fields": fields})
    assert accounts_rows() == before
    assert published == []


def test_an_anonymous_visitor_cannot_create_an_organization(client_for: ClientFor) -> None:
    response = client_for(None).post(URL, {"name": "Acme"}, format="json")

    assert_error(response, 401, "not_authenticated")
    assert Organization.objects.count() == 0
    assert Membership.objects.count() == 0
