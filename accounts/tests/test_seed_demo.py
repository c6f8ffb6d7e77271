"""`manage.py seed_demo`: the demo organization and logins, the same however often it runs."""

from __future__ import annotations

import io
from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.management.commands.seed_demo import DEMO_PASSWORD
from accounts.models import Membership, Organization, User
from accounts.tests.helpers import accounts_rows

pytestmark = pytest.mark.django_db

LOGINS = [
    "staff@atende.test",
    "admin@atende.test",
    "agent1@atende.test",
    "agent2@atende.test",
    "viewer@atende.test",
    "professional@atende.test",
    "client@atende.test",
    # The catalog's other professionals and the client who wrote their reviews (calls.seed).
    "pro2@atende.test",
    "pro3@atende.test",
    "pro4@atende.test",
    "pro5@atende.test",
    "cliente2@atende.test",
]


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_it_creates_the_demo_organization_people_and_roles() -> None:
    seed()

    organization = Organization.objects.get()
    assert (organization.name, organization.slug) == ("Escola Atende Demo", "escola-atende-demo")
    assert sorted(User.objects.values_list("email", flat=True)) == sorted(LOGINS)
    assert sorted(Membership.objects.values_list("user__email", "role", "organization_id")) == [
        ("admin@atende.test", "org_admin", organization.pk),
        ("agent1@atende.test", "agent", organization.pk),
        ("agent2@atende.test", "agent", organization.pk),
        ("viewer@atende.test", "viewer", organization.pk),
    ]
    assert list(User.objects.filter(is_staff=True).values_list("email", "is_superuser")) == [
        ("staff@atende.test", True)
    ]
    assert User.objects.filter(is_superuser=True).count() == 1
    assert all(user.check_password(DEMO_PASSWORD) for user in User.objects.all())


def test_running_it_again_changes_nothing() -> None:
    seed()
    first = accounts_rows()

    seed()

    assert accounts_rows() == first
    assert (User.objects.count(), Organization.objects.count(), Membership.objects.count()) == (
        12,
        1,
        4,
    )


def test_it_tops_up_a_partly_seeded_database() -> None:
    seed()
    Membership.objects.filter(user__email="viewer@atende.test").delete()
    # A person with money in the ledger cannot be deleted; one without can, and comes back.
    User.objects.filter(email="agent2@atende.test").delete()

    seed()

    assert (User.objects.count(), Organization.objects.count(), Membership.objects.count()) == (
        12,
        1,
        4,
    )
    assert Membership.objects.get(user__email="viewer@atende.test").role == "viewer"


def test_it_prints_every_login_and_the_password() -> None:
    output = seed()

    assert "Demo organization: Escola Atende Demo" in output
    assert f"password for all: {DEMO_PASSWORD}" in output
    login_lines = [line.split()[0] for line in output.splitlines() if line.startswith("  ")]
    assert login_lines == LOGINS


def test_the_demo_password_works_on_the_token_endpoint(api_client: APIClient) -> None:
    seed()

    response = api_client.post(
        "/api/v1/auth/token/",
        {"email": "agent1@atende.test", "password": DEMO_PASSWORD},
        format="json",
    )

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}


def test_the_demo_professional_is_a_professional_and_demo_contacts_are_verified() -> None:
    from django.core.management import call_command

    from accounts.models import User

    call_command("seed_demo", stdout=io.StringIO())

    assert list(
        User.objects.filter(account_type="professional")
        .order_by("pk")
        .values_list("email", flat=True)
    ) == [
        "professional@atende.test",
        "pro2@atende.test",
        "pro3@atende.test",
        "pro4@atende.test",
        "pro5@atende.test",
    ]
    assert User.objects.filter(email_verified_at__isnull=True).count() == 0
    assert User.objects.filter(phone_verified_at__isnull=True).count() == 0
    assert User.objects.values("phone").distinct().count() == 12
