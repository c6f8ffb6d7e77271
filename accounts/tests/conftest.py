from __future__ import annotations

from dataclasses import dataclass

import pytest

from accounts.models import Membership, Organization, User
from accounts.roles import Role
from accounts.tests.factories import MembershipFactory, OrganizationFactory, UserFactory


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
