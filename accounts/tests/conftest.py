from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import Membership, Organization, User
from accounts.roles import Role
from accounts.tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from core.logging import client_var


@pytest.fixture(autouse=True)
def _no_client_left_from_another_test() -> Iterator[None]:
    # The request middleware sets the client (IP, user agent) for the audit trail and never
    # resets it: under ASGI each request has its own context, but every test shares this
    # thread's, so a service called outside a request would see the last test's client.
    token = client_var.set(None)
    yield
    client_var.reset(token)


@dataclass
class Org:
    organization: Organization
    admin: Membership
    agent: Membership
    viewer: Membership


@pytest.fixture
def org(db: None) -> Org:
    """An organization with one member of each role."""
    organization = OrganizationFactory()
    return Org(
        organization=organization,
        admin=MembershipFactory(organization=organization, role=Role.ORG_ADMIN),
        agent=MembershipFactory(organization=organization, role=Role.AGENT),
        viewer=MembershipFactory(organization=organization, role=Role.VIEWER),
    )


@pytest.fixture
def other_org(db: None) -> Org:
    organization = OrganizationFactory()
    return Org(
        organization=organization,
        admin=MembershipFactory(organization=organization, role=Role.ORG_ADMIN),
        agent=MembershipFactory(organization=organization, role=Role.AGENT),
        viewer=MembershipFactory(organization=organization, role=Role.VIEWER),
    )


@pytest.fixture
def outsider(db: None) -> User:
    return UserFactory()


@pytest.fixture
def client_for(db: None) -> Callable[[User | None], APIClient]:
    """An API client signed in with a real access token (None: anonymous).

    English is requested so validation messages can be asserted word for word; the
    language tests set their own.
    """

    def make(user: User | None) -> APIClient:
        client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
        return client

    return make
