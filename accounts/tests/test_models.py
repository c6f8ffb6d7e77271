"""Database constraints that hold even when a code path forgets a rule."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from accounts.models import Membership, User
from accounts.tests.conftest import Org
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_manager_lower_cases_emails() -> None:
    user = User.objects.create_user(email="Ana@Example.COM", password="pw-123456")

    assert user.email == "ana@example.com"


def test_create_superuser_makes_a_staff_superuser() -> None:
    user = User.objects.create_superuser(email="root@example.com", password="pw-123456")

    assert (user.is_staff, user.is_superuser) == (True, True)


def test_the_manager_requires_an_email() -> None:
    with pytest.raises(ValueError):
        User.objects.create_user(email="", password="pw-123456")
    assert User.objects.count() == 0


def test_two_accounts_cannot_differ_only_by_email_case() -> None:
    UserFactory(email="ana@example.com")

    with pytest.raises(IntegrityError), transaction.atomic():
        # Bypasses the manager's normalisation on purpose: the constraint is the last line.
        User.objects.bulk_create([User(email="ANA@example.com")])

    assert User.objects.count() == 1


def test_a_person_is_a_member_of_an_organization_once(org: Org) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(organization=org.organization, user=org.agent.user, role="viewer")

    assert Membership.objects.count() == 3


def test_a_role_outside_the_known_ones_is_refused_by_the_database(org: Org) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.filter(pk=org.agent.pk).update(role="owner")

    org.agent.refresh_from_db()
    assert org.agent.role == "agent"


def test_names_shown_for_a_user() -> None:
    named = UserFactory(email="ana@example.com", display_name="Ana Souza")
    unnamed = UserFactory(email="bruno@example.com", display_name="")

    assert (named.get_full_name(), named.get_short_name()) == ("Ana Souza", "Ana Souza")
    assert (unnamed.get_full_name(), unnamed.get_short_name()) == ("bruno@example.com", "bruno")
    assert str(named) == "ana@example.com"
