"""Writes of the accounts app: users, organizations, memberships and their invariants."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from rest_framework.serializers import DateTimeField

from accounts import services
from accounts.models import Membership, Organization, User
from accounts.roles import Role
from accounts.tests.conftest import Org
from accounts.tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from accounts.tests.helpers import accounts_rows, rows
from core.exceptions import ApplicationError, ConflictError

pytestmark = pytest.mark.django_db

Published = list[tuple[str, dict[str, Any]]]


def events(published: Published) -> list[tuple[str, str]]:
    return [(group, message["event"]) for group, message in published]


# --- user_create --------------------------------------------------------------------------


def test_user_create_stores_a_trimmed_lower_cased_email() -> None:
    user = services.user_create(
        email="  Ana.Souza@Example.COM ", password="s3cret-pass", display_name="Ana"
    )

    user.refresh_from_db()
    assert user.email == "ana.souza@example.com"
    assert user.display_name == "Ana"
    assert user.check_password("s3cret-pass")
    assert (user.is_staff, user.is_superuser, user.is_active) == (False, False, True)


def test_user_create_refuses_an_email_taken_in_another_case() -> None:
    UserFactory(email="ana@example.com")
    before = rows(User)

    with pytest.raises(ConflictError) as raised:
        services.user_create(email="ANA@example.com", password="whatever-pass")

    assert raised.value.code == "accounts.email_taken"
    assert raised.value.status_code == 409
    assert rows(User) == before


def test_user_create_without_a_password_makes_an_unusable_one() -> None:
    user = services.user_create(email="ana@example.com", password=None)

    assert user.has_usable_password() is False


# --- user_update_profile ------------------------------------------------------------------


def test_user_update_profile_saves_the_named_fields_only() -> None:
    user = UserFactory(display_name="Ana", language="pt-br")
    User.objects.filter(pk=user.pk).update(time_zone="Europe/Lisbon")  # changed elsewhere

    services.user_update_profile(user=user, data={"display_name": "Ana Souza", "language": "en"})

    user.refresh_from_db()
    assert (user.display_name, user.language, user.time_zone) == (
        "Ana Souza",
        "en",
        "Europe/Lisbon",
    )


def test_user_update_profile_refuses_fields_that_are_not_profile_fields() -> None:
    user = UserFactory(display_name="Ana")
    before = rows(User)

    with pytest.raises(ApplicationError) as raised:
        services.user_update_profile(
            user=user,
            data={"display_name": "Ana Souza", "is_staff": True, "email": "x@example.com"},
        )

    assert raised.value.code == "accounts.unknown_profile_field"
    assert raised.value.extra == {"fields": ["email", "is_staff"]}
    assert rows(User) == before
    assert (user.display_name, user.is_staff, user.email) == ("Ana", False, before[0]["email"])


def test_user_update_profile_refuses_an_unknown_time_zone(django_assert_num_queries: Any) -> None:
    user = UserFactory()
    before = rows(User)

    with pytest.raises(ValidationError) as raised, django_assert_num_queries(0):
        services.user_update_profile(user=user, data={"time_zone": "Mars/Base"})

    assert list(raised.value.message_dict) == ["time_zone"]
    assert rows(User) == before


def test_user_update_profile_with_nothing_to_change_does_not_write(
    django_assert_num_queries: Any,
) -> None:
    user = UserFactory()

    with django_assert_num_queries(0):
        returned = services.user_update_profile(user=user, data={})

    assert returned is user


# --- organization_create ------------------------------------------------------------------


def test_organization_create_makes_the_creator_its_org_admin(
    django_capture_on_commit_callbacks: Any, published: Published
) -> None:
    creator = UserFactory()

    with django_capture_on_commit_callbacks(execute=True):
        organization = services.organization_create(name="  Acme  ", creator=creator)

    organization.refresh_from_db()
    assert (organization.name, organization.slug) == ("Acme", "acme")
    assert list(Membership.objects.values_list("organization_id", "user_id", "role")) == [
        (organization.pk, creator.pk, Role.ORG_ADMIN)
    ]
    assert events(published) == [
        (f"accounts.organization.{organization.pk}", "accounts.membership.created")
    ]


def test_organization_create_gives_each_organization_a_unique_slug() -> None:
    creator = UserFactory()

    slugs = [services.organization_create(name="Acme", creator=creator).slug for _ in range(3)]

    assert slugs == ["acme", "acme-2", "acme-3"]
    assert Organization.objects.count() == 3


def test_organization_create_falls_back_to_a_generic_slug_for_a_name_without_letters() -> None:
    organization = services.organization_create(name="!!!", creator=UserFactory())

    assert organization.slug == "org"


def test_organization_create_keeps_long_slugs_within_the_column() -> None:
    creator = UserFactory()

    first = services.organization_create(name="x" * 150, creator=creator)
    second = services.organization_create(name="x" * 150, creator=creator)

    assert first.slug == "x" * 50
    assert second.slug == "x" * 50 + "-2"


# --- membership_create --------------------------------------------------------------------


def test_membership_create_adds_the_member_and_announces_it(
    django_capture_on_commit_callbacks: Any, published: Published
) -> None:
    organization = OrganizationFactory()
    user = UserFactory(email="bruno@example.com", display_name="Bruno")

    with django_capture_on_commit_callbacks(execute=True):
        membership = services.membership_create(
            organization=organization, user=user, role=Role.VIEWER
        )

    assert (membership.organization_id, membership.user_id, membership.role) == (
        organization.pk,
        user.pk,
        Role.VIEWER,
    )
    assert published == [
        (
            f"accounts.organization.{organization.pk}",
            {
                "type": "realtime.event",
                "event": "accounts.membership.created",
                "data": {
                    "organization_id": organization.pk,
                    "membership": {
                        "id": membership.pk,
                        "role": "viewer",
                        "created_at": DateTimeField().to_representation(membership.created_at),
                        "user": {
                            "id": user.pk,
                            "email": "bruno@example.com",
                            "display_name": "Bruno",
                        },
                    },
                },
            },
        )
    ]


def test_membership_create_refuses_someone_already_a_member(
    org: Org, django_capture_on_commit_callbacks: Any, published: Published
) -> None:
    before = accounts_rows()

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ConflictError) as raised:
        services.membership_create(
            organization=org.organization, user=org.agent.user, role=Role.ORG_ADMIN
        )

    assert raised.value.code == "accounts.already_member"
    assert raised.value.status_code == 409
    assert accounts_rows() == before
    assert published == []


def test_the_same_person_may_belong_to_two_organizations(org: Org, other_org: Org) -> None:
    membership = services.membership_create(
        organization=other_org.organization, user=org.agent.user, role=Role.AGENT
    )

    assert Membership.objects.filter(user=org.agent.user).count() == 2
    assert membership.organization_id == other_org.organization.pk


# --- membership_change_role ---------------------------------------------------------------


def test_membership_change_role_changes_the_role_and_announces_it(
    org: Org, django_capture_on_commit_callbacks: Any, published: Published
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        changed = services.membership_change_role(membership=org.agent, role=Role.VIEWER)

    assert changed.role == Role.VIEWER
    org.agent.refresh_from_db()
    assert org.agent.role == Role.VIEWER
    assert events(published) == [
        (f"accounts.organization.{org.organization.pk}", "accounts.membership.updated")
    ]
    assert published[0][1]["data"]["membership"]["role"] == "viewer"


def test_membership_change_role_to_the_same_role_writes_and_announces_nothing(
    org: Org, django_capture_on_commit_callbacks: Any, published: Published
) -> None:
    before = rows(Membership)

    with django_capture_on_commit_callbacks(execute=True):
        services.membership_change_role(membership=org.agent, role=Role.AGENT)

    assert rows(Membership) == before
    assert published == []


def test_the_only_org_admin_cannot_be_demoted(
    org: Org, django_capture_on_commit_callbacks: Any, published: Published
) -> None:
    before = accounts_rows()

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(services.LastOrgAdminError) as raised,
    ):
        services.membership_change_role(membership=org.admin, role=Role.AGENT)

    assert raised.value.code == "accounts.last_org_admin"
    assert raised.value.status_code == 409
    assert accounts_rows() == before
    assert published == []


def test_the_last_admin_check_reads_the_database_not_a_stale_object(org: Org) -> None:
    # The caller's copy says "agent", but the row was promoted meanwhile and is now the only
    # admin: the service must judge by the locked row.
    stale = Membership.objects.get(pk=org.agent.pk)
    services.membership_change_role(membership=org.agent, role=Role.ORG_ADMIN)
    services.membership_change_role(membership=org.admin, role=Role.VIEWER)
    before = rows(Membership)

    with pytest.raises(services.LastOrgAdminError):
        services.membership_change_role(membership=stale, role=Role.VIEWER)

    assert rows(Membership) == before


def test_one_of_two_org_admins_can_be_demoted_but_then_not_the_other(org: Org) -> None:
    second = MembershipFactory(organization=org.organization, role=Role.ORG_ADMIN)

    services.membership_change_role(membership=org.admin, role=Role.AGENT)

    with pytest.raises(services.LastOrgAdminError):
        services.membership_change_role(membership=second, role=Role.AGENT)
    assert list(
        Membership.objects.filter(organization=org.organization, role=Role.ORG_ADMIN).values_list(
            "pk", flat=True
        )
    ) == [second.pk]


def test_an_admin_of_another_organization_does_not_count(org: Org, other_org: Org) -> None:
    with pytest.raises(services.LastOrgAdminError):
        services.membership_change_role(membership=org.admin, role=Role.AGENT)

    org.admin.refresh_from_db()
    assert org.admin.role == Role.ORG_ADMIN


# --- membership_remove --------------------------------------------------------------------


def test_membership_remove_deletes_the_row_and_revokes_the_topic(
    org: Org, django_capture_on_commit_callbacks: Any, published: Published
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.membership_remove(membership=org.viewer)

    assert not Membership.objects.filter(pk=org.viewer.pk).exists()
    topic = f"accounts.organization.{org.organization.pk}"
    assert events(published) == [
        (topic, "accounts.membership.deleted"),
        (f"user.{org.viewer.user_id}", "realtime.revoke"),
    ]
    assert published[1][1]["topic"] == topic


def test_the_only_org_admin_cannot_be_removed(
    org: Org, django_capture_on_commit_callbacks: Any, published: Published
) -> None:
    before = accounts_rows()

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(services.LastOrgAdminError),
    ):
        services.membership_remove(membership=org.admin)

    assert accounts_rows() == before
    assert published == []


def test_an_org_admin_can_be_removed_when_another_remains(org: Org) -> None:
    MembershipFactory(organization=org.organization, role=Role.ORG_ADMIN)

    services.membership_remove(membership=org.admin)

    assert not Membership.objects.filter(pk=org.admin.pk).exists()


# --- events wait for the commit -----------------------------------------------------------


def test_events_go_out_only_after_the_commit(
    org: Org, django_capture_on_commit_callbacks: Any, published: Published
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.membership_change_role(membership=org.agent, role=Role.VIEWER)
        services.membership_remove(membership=org.viewer)

    assert published == []
    assert len(callbacks) == 3

    for callback in callbacks:
        callback()

    assert events(published) == [
        (f"accounts.organization.{org.organization.pk}", "accounts.membership.updated"),
        (f"accounts.organization.{org.organization.pk}", "accounts.membership.deleted"),
        (f"user.{org.viewer.user_id}", "realtime.revoke"),
    ]


def test_nothing_is_announced_when_the_surrounding_transaction_rolls_back(
    org: Org, django_capture_on_commit_callbacks: Any, published: Published
) -> None:
    before = accounts_rows()

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.membership_change_role(membership=org.agent, role=Role.VIEWER)
        services.membership_create(
            organization=org.organization, user=UserFactory(), role=Role.AGENT
        )
        raise RuntimeError("the caller failed after the service succeeded")

    assert callbacks == []
    assert published == []
    assert accounts_rows() == before
