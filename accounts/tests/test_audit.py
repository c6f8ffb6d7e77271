"""The audit trail: who did what, to what, from where; append-only on PostgreSQL."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from rest_framework.test import APIClient

from accounts import services
from accounts.audit import AuditAction
from accounts.models import AuditEvent, Membership, Organization, User
from accounts.roles import Role
from accounts.tests.conftest import Org
from accounts.tests.factories import PASSWORD, UserFactory
from accounts.tests.helpers import accounts_rows, assert_error, audit_row, audit_rows

ClientFor = Callable[[User | None], APIClient]

AUTH = "/_allauth/browser/v1"
TOKEN_URL = "/api/v1/auth/token/"
IP = "203.0.113.7"
AGENT = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the append-only trigger is created on PostgreSQL only (SQLite is for trying out)",
)


def member_url(membership: Membership) -> str:
    return f"/api/v1/organizations/{membership.organization_id}/members/{membership.pk}/"


@pytest.fixture
def browser() -> Client:
    """A browser at a known address with a known user agent."""
    return Client(
        enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en", HTTP_USER_AGENT=AGENT, REMOTE_ADDR=IP
    )


def browser_sign_in(browser: Client, email: str, password: str = PASSWORD) -> Any:
    browser.get(f"{AUTH}/config")
    return browser.post(
        f"{AUTH}/auth/login",
        json.dumps({"email": email, "password": password}),
        content_type="application/json",
        headers={"X-CSRFToken": browser.cookies["csrftoken"].value},
    )


# --- Signing in and out -------------------------------------------------------------------


@pytest.mark.django_db
def test_signing_in_in_the_browser_is_recorded_with_where_from(browser: Client) -> None:
    ana = UserFactory(email="ana@example.com")

    response = browser_sign_in(browser, "ana@example.com")

    assert response.status_code == 200
    assert audit_rows() == [
        audit_row("auth.sign_in", actor=ana, target=ana, ip_address=IP, user_agent=AGENT)
    ]


@pytest.mark.django_db
def test_a_failed_browser_sign_in_is_recorded_with_the_email_tried(browser: Client) -> None:
    ana = UserFactory(email="ana@example.com")

    response = browser_sign_in(browser, "Ana@Example.com", password="guess")

    assert response.status_code == 400
    assert audit_rows() == [
        audit_row(
            "auth.sign_in_failed",
            target=ana,
            data={"email": "ana@example.com"},
            ip_address=IP,
            user_agent=AGENT,
        )
    ]


@pytest.mark.django_db
def test_a_failed_sign_in_for_an_unknown_email_has_no_target(browser: Client) -> None:
    response = browser_sign_in(browser, "nobody@example.com", password="guess")

    assert response.status_code == 400
    assert audit_rows() == [
        audit_row(
            "auth.sign_in_failed",
            data={"email": "nobody@example.com"},
            ip_address=IP,
            user_agent=AGENT,
        )
    ]


@pytest.mark.django_db
def test_signing_out_is_recorded(browser: Client) -> None:
    ana = UserFactory(email="ana@example.com")
    browser_sign_in(browser, "ana@example.com")

    response = browser.delete(
        f"{AUTH}/auth/session", headers={"X-CSRFToken": browser.cookies["csrftoken"].value}
    )

    assert response.status_code == 401
    assert [row["action"] for row in audit_rows()] == ["auth.sign_in", "auth.sign_out"]
    assert audit_rows()[1] == audit_row(
        "auth.sign_out", actor=ana, target=ana, ip_address=IP, user_agent=AGENT
    )


@pytest.mark.django_db
def test_issuing_a_token_is_recorded() -> None:
    ana = UserFactory(email="ana@example.com")
    api = APIClient(REMOTE_ADDR=IP, HTTP_USER_AGENT="atende-cli/1.0")

    response = api.post(
        TOKEN_URL, {"email": "ana@example.com", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 200
    assert audit_rows() == [
        audit_row(
            "auth.token_issued",
            actor=ana,
            target=ana,
            ip_address=IP,
            user_agent="atende-cli/1.0",
        )
    ]


@pytest.mark.django_db
def test_a_wrong_password_for_a_token_is_recorded_as_a_failed_sign_in() -> None:
    ana = UserFactory(email="ana@example.com")
    api = APIClient(REMOTE_ADDR=IP, HTTP_USER_AGENT="atende-cli/1.0")

    response = api.post(TOKEN_URL, {"email": "ANA@example.com", "password": "x"}, format="json")

    assert response.status_code == 401
    assert audit_rows() == [
        audit_row(
            "auth.sign_in_failed",
            target=ana,
            data={"email": "ana@example.com"},
            ip_address=IP,
            user_agent="atende-cli/1.0",
        )
    ]


@pytest.mark.django_db
def test_the_failed_attempt_never_records_the_password(browser: Client) -> None:
    UserFactory(email="ana@example.com")

    browser_sign_in(browser, "ana@example.com", password="my-secret-guess")

    assert "my-secret-guess" not in json.dumps(list(AuditEvent.objects.values("data")))


# --- Organizations and members ------------------------------------------------------------


@pytest.mark.django_db
def test_creating_an_organization_records_it_and_its_first_admin(client_for: ClientFor) -> None:
    ana = UserFactory(email="ana@example.com")

    response = client_for(ana).post("/api/v1/organizations/", {"name": "Acme"}, format="json")

    assert response.status_code == 201
    organization = Organization.objects.get()
    membership = Membership.objects.get()
    assert audit_rows() == [
        audit_row(
            "organizations.created",
            actor=ana,
            target=organization,
            organization=organization,
            ip_address="127.0.0.1",
        ),
        audit_row(
            "organizations.member_added",
            actor=ana,
            target=membership,
            organization=organization,
            data={"user_id": ana.pk, "role": "org_admin"},
            ip_address="127.0.0.1",
        ),
    ]


def test_changing_a_role_records_who_did_it_and_what_changed(
    client_for: ClientFor, org: Org
) -> None:
    response = client_for(org.admin.user).patch(
        member_url(org.agent), {"role": "viewer"}, format="json"
    )

    assert response.status_code == 200
    assert audit_rows() == [
        audit_row(
            "organizations.role_changed",
            actor=org.admin.user,
            target=org.agent,
            organization=org.organization,
            data={"user_id": org.agent.user_id, "from": "agent", "to": "viewer"},
            ip_address="127.0.0.1",
        )
    ]


def test_removing_a_member_records_who_and_with_which_role(client_for: ClientFor, org: Org) -> None:
    response = client_for(org.admin.user).delete(member_url(org.viewer))

    assert response.status_code == 204
    assert audit_rows() == [
        audit_row(
            "organizations.member_removed",
            actor=org.admin.user,
            target=org.viewer,
            organization=org.organization,
            data={"user_id": org.viewer.user_id, "role": "viewer"},
            ip_address="127.0.0.1",
        )
    ]


def test_setting_the_same_role_records_nothing(client_for: ClientFor, org: Org) -> None:
    response = client_for(org.admin.user).patch(
        member_url(org.agent), {"role": "agent"}, format="json"
    )

    assert response.status_code == 200
    assert audit_rows() == []


def test_a_refused_change_records_nothing(client_for: ClientFor, org: Org) -> None:
    before = accounts_rows()

    demoted = client_for(org.admin.user).patch(
        member_url(org.admin), {"role": "viewer"}, format="json"
    )
    removed = client_for(org.admin.user).delete(member_url(org.admin))
    forbidden = client_for(org.agent.user).delete(member_url(org.viewer))

    assert_error(demoted, 409, "accounts.last_org_admin")
    assert_error(removed, 409, "accounts.last_org_admin")
    assert_error(forbidden, 403, "permission_denied")
    assert accounts_rows() == before
    assert audit_rows() == []


def test_a_change_made_by_the_system_has_no_actor(org: Org) -> None:
    services.membership_change_role(membership=org.agent, role=Role.VIEWER)

    assert audit_rows() == [
        audit_row(
            "organizations.role_changed",
            target=org.agent,
            organization=org.organization,
            data={"user_id": org.agent.user_id, "from": "agent", "to": "viewer"},
        )
    ]


# --- Append-only --------------------------------------------------------------------------


@pytest.fixture
def event(db: None) -> AuditEvent:
    ana = UserFactory(email="ana@example.com")
    return services.audit_record(
        action=AuditAction.SIGN_IN, actor=ana, target=ana, data={"note": "kept"}
    )


@on_postgresql
def test_the_database_refuses_to_update_an_audit_event(event: AuditEvent) -> None:
    before = audit_rows()

    with (
        pytest.raises(DatabaseError, match=r"append-only \(UPDATE refused\)"),
        transaction.atomic(),
    ):
        AuditEvent.objects.filter(pk=event.pk).update(action="auth.sign_out")
    with (
        pytest.raises(DatabaseError, match=r"append-only \(UPDATE refused\)"),
        transaction.atomic(),
    ):
        event.data = {"note": "rewritten"}
        event.save()

    assert audit_rows() == before


@on_postgresql
def test_the_database_refuses_to_delete_an_audit_event(event: AuditEvent) -> None:
    before = audit_rows()

    with (
        pytest.raises(DatabaseError, match=r"append-only \(DELETE refused\)"),
        transaction.atomic(),
    ):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with (
        pytest.raises(DatabaseError, match=r"append-only \(DELETE refused\)"),
        transaction.atomic(),
    ):
        AuditEvent.objects.all().delete()

    assert audit_rows() == before


@on_postgresql
def test_the_database_still_accepts_new_audit_events(event: AuditEvent) -> None:
    services.audit_record(action=AuditAction.SIGN_OUT, actor=None)

    assert [row["action"] for row in audit_rows()] == ["auth.sign_in", "auth.sign_out"]


def test_the_append_only_migration_sends_sql_postgresql_accepts() -> None:
    migration = importlib.import_module("accounts.migrations.0003_auditevent_append_only")
    sent: list[tuple[str, Any]] = []

    class PostgresqlSchemaEditor:
        connection = SimpleNamespace(vendor="postgresql")

        def execute(self, sql: str, params: Any = ()) -> None:
            sent.append((sql, params))

    migration.create(None, PostgresqlSchemaEditor())
    migration.drop(None, PostgresqlSchemaEditor())

    assert len(sent) == 2
    # Django's PostgreSQL schema editor passes anything but params=None through psycopg's
    # client-side binding, where a lone '%' is a placeholder and must be written '%%'.
    for sql, params in sent:
        assert params is None or "%" not in sql.replace("%%", "")
