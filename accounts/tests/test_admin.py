"""The back office for users, organizations and memberships."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import ERROR, get_messages
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Membership, User
from accounts.roles import Role
from accounts.tests.conftest import Org
from accounts.tests.factories import OrganizationFactory, UserFactory
from accounts.tests.helpers import accounts_rows

pytestmark = pytest.mark.django_db

Published = list[tuple[str, dict[str, Any]]]


@pytest.fixture
def staff_client() -> Client:
    """Staff signed in and past the second factor, as the admin (OTPAdminSite) demands."""
    staff = UserFactory(email="staff@example.com", is_staff=True, is_superuser=True, language="en")
    device = TOTPDevice.objects.create(user=staff, name="app", confirmed=True)
    client = Client()
    client.force_login(staff)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def messages_of(response: Any) -> list[tuple[int, str]]:
    return [(message.level, str(message)) for message in get_messages(response.wsgi_request)]


@pytest.mark.parametrize(
    "path",
    [
        "/admin/accounts/user/",
        "/admin/accounts/organization/",
        "/admin/accounts/membership/",
        "/admin/accounts/user/add/",
        "/admin/accounts/organization/add/",
        "/admin/accounts/membership/add/",
    ],
)
def test_staff_can_open_the_changelists_and_add_pages(
    staff_client: Client, org: Org, path: str
) -> None:
    response = staff_client.get(path)

    assert response.status_code == 200


def test_staff_can_open_the_change_pages(staff_client: Client, org: Org) -> None:
    for path in [
        f"/admin/accounts/user/{org.admin.user_id}/change/",
        f"/admin/accounts/organization/{org.organization.pk}/change/",
        f"/admin/accounts/membership/{org.agent.pk}/change/",
    ]:
        assert staff_client.get(path).status_code == 200, path


def test_the_changelists_search(staff_client: Client, org: Org) -> None:
    for path in [
        "/admin/accounts/user/?q=example",
        "/admin/accounts/organization/?q=Organization",
        "/admin/accounts/membership/?q=example",
    ]:
        assert staff_client.get(path).status_code == 200, path


@pytest.mark.parametrize("path", ["/admin/accounts/user/", "/admin/accounts/membership/"])
def test_a_non_staff_user_is_sent_to_the_admin_login(org: Org, path: str) -> None:
    client = Client()
    client.force_login(org.admin.user)

    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={path}"


def test_changing_a_role_in_the_admin_goes_through_the_service(
    staff_client: Client, org: Org, django_capture_on_commit_callbacks: Any, published: Published
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            f"/admin/accounts/membership/{org.agent.pk}/change/", {"role": "viewer"}
        )

    assert response.status_code == 302
    org.agent.refresh_from_db()
    assert org.agent.role == Role.VIEWER
    assert [message["event"] for _group, message in published] == ["accounts.membership.updated"]


def test_demoting_the_only_org_admin_in_the_admin_shows_an_error_and_changes_nothing(
    staff_client: Client, org: Org, django_capture_on_commit_callbacks: Any, published: Published
) -> None:
    before = accounts_rows()

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            f"/admin/accounts/membership/{org.admin.pk}/change/", {"role": "agent"}
        )

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "An organization needs at least one organization admin."
    ]
    assert accounts_rows() == before
    assert published == []


def test_a_refused_role_change_in_the_admin_is_not_reported_as_saved(
    staff_client: Client, org: Org
) -> None:
    response = staff_client.post(
        f"/admin/accounts/membership/{org.admin.pk}/change/", {"role": "agent"}
    )

    assert messages_of(response) == []


def test_a_refused_deletion_in_the_admin_is_not_reported_as_done(
    staff_client: Client, org: Org
) -> None:
    response = staff_client.post(
        f"/admin/accounts/membership/{org.admin.pk}/delete/", {"post": "yes"}
    )

    assert [level for level, _text in messages_of(response)] == [ERROR]


def test_adding_a_membership_in_the_admin_goes_through_the_service(
    staff_client: Client, django_capture_on_commit_callbacks: Any, published: Published
) -> None:
    organization = OrganizationFactory()
    user = UserFactory()

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            "/admin/accounts/membership/add/",
            {"user": user.pk, "organization": organization.pk, "role": "agent"},
        )

    assert response.status_code == 302
    assert list(Membership.objects.values_list("user_id", "organization_id", "role")) == [
        (user.pk, organization.pk, "agent")
    ]
    assert [message["event"] for _group, message in published] == ["accounts.membership.created"]


def test_deleting_the_only_org_admin_in_the_admin_is_refused(
    staff_client: Client, org: Org, django_capture_on_commit_callbacks: Any, published: Published
) -> None:
    before = accounts_rows()

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            f"/admin/accounts/membership/{org.admin.pk}/delete/", {"post": "yes"}
        )

    assert response.status_code == 302
    assert response["Location"] == f"/admin/accounts/membership/{org.admin.pk}/change/"
    assert messages_of(response) == [
        (ERROR, "An organization needs at least one organization admin.")
    ]
    assert accounts_rows() == before
    assert published == []


def test_deleting_a_member_in_the_admin_goes_through_the_service(
    staff_client: Client, org: Org, django_capture_on_commit_callbacks: Any, published: Published
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            f"/admin/accounts/membership/{org.viewer.pk}/delete/", {"post": "yes"}
        )

    assert response.status_code == 302
    assert not Membership.objects.filter(pk=org.viewer.pk).exists()
    assert [message["event"] for _group, message in published] == [
        "accounts.membership.deleted",
        "realtime.revoke",
    ]


def test_bulk_deleting_members_in_the_admin_keeps_the_last_org_admin(
    staff_client: Client, org: Org, django_capture_on_commit_callbacks: Any, published: Published
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            "/admin/accounts/membership/",
            {
                "action": "delete_selected",
                "post": "yes",
                "_selected_action": [org.admin.pk, org.agent.pk, org.viewer.pk],
            },
        )

    assert list(Membership.objects.values_list("pk", flat=True)) == [org.admin.pk]
    assert sorted(message["event"] for _group, message in published) == [
        "accounts.membership.deleted",
        "accounts.membership.deleted",
        "realtime.revoke",
        "realtime.revoke",
    ]


def test_staff_can_create_a_user_with_a_lower_cased_email(staff_client: Client) -> None:
    response = staff_client.post(
        "/admin/accounts/user/add/",
        {
            "email": "Nova@Example.com",
            "password1": "correct-horse-battery",
            "password2": "correct-horse-battery",
        },
    )

    assert response.status_code == 302
    user = User.objects.get(email__iexact="nova@example.com")
    assert user.check_password("correct-horse-battery")


def test_the_audit_trail_is_visible_to_staff_and_cannot_be_edited(staff_client: Client) -> None:
    from accounts.models import AuditEvent

    event = AuditEvent.objects.create(action="auth.sign_in", actor_label="ana@example.com")

    listing = staff_client.get("/admin/accounts/auditevent/?action=auth.sign_in")
    change = staff_client.post(
        f"/admin/accounts/auditevent/{event.pk}/change/", {"action": "auth.sign_out"}
    )
    delete = staff_client.post(f"/admin/accounts/auditevent/{event.pk}/delete/", {"post": "yes"})
    add = staff_client.get("/admin/accounts/auditevent/add/")

    assert listing.status_code == 200
    assert "ana@example.com" in listing.content.decode()
    assert (change.status_code, delete.status_code, add.status_code) == (403, 403, 403)
    event.refresh_from_db()
    assert event.action == "auth.sign_in"
