"""Failed sign-ins lock the account for a while, through whichever door they came.

The JWT endpoint and the browser sign-in share allauth's ``login_failed`` rate limit
(settings.ACCOUNT_RATE_LIMITS: 5 failures per account in 5 minutes, 10 per IP a minute).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from accounts.tests.helpers import assert_error, audit_row, audit_rows

pytestmark = pytest.mark.django_db

AUTH = "/_allauth/browser/v1"
TOKEN_URL = "/api/v1/auth/token/"
NEW_PASSWORD = "a-brand-new-passphrase-42"


@pytest.fixture
def ana() -> User:
    return UserFactory(email="ana@example.com")


@pytest.fixture
def api() -> APIClient:
    return APIClient(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def browser() -> Client:
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    assert client.get(f"{AUTH}/config").status_code == 200
    return client


def obtain(api: APIClient, email: str, password: str) -> Any:
    return api.post(TOKEN_URL, {"email": email, "password": password}, format="json")


def browser_post(browser: Client, path: str, data: dict[str, Any]) -> Any:
    return browser.post(
        f"{AUTH}{path}",
        json.dumps(data),
        content_type="application/json",
        headers={"X-CSRFToken": browser.cookies["csrftoken"].value},
    )


def fail_five_times(api: APIClient, email: str) -> None:
    statuses = [obtain(api, email, "wrong-password").status_code for _ in range(5)]
    assert statuses == [401] * 5


def test_the_sixth_attempt_is_refused_even_with_the_right_password(
    api: APIClient, ana: User
) -> None:
    fail_five_times(api, "ana@example.com")

    response = obtain(api, "ana@example.com", PASSWORD)

    assert_error(response, 429, "accounts.too_many_attempts")
    assert response.json()["message"] == (
        "Too many failed attempts. Try again in a few minutes, or reset your password."
    )
    assert OutstandingToken.objects.count() == 0
    ana.refresh_from_db()
    assert ana.last_login is None
    rows = audit_rows()
    assert [row["action"] for row in rows] == ["auth.sign_in_failed"] * 5 + ["auth.sign_in_locked"]
    assert rows[-1] == audit_row(
        "auth.sign_in_locked", data={"email": "ana@example.com"}, ip_address="127.0.0.1"
    )


def test_four_failures_do_not_lock(api: APIClient, ana: User) -> None:
    for _ in range(4):
        obtain(api, "ana@example.com", "wrong-password")

    response = obtain(api, "ana@example.com", PASSWORD)

    assert response.status_code == 200
    assert OutstandingToken.objects.count() == 1


def test_the_email_is_counted_whatever_its_case(api: APIClient, ana: User) -> None:
    for email in ["ana@example.com", "ANA@example.com", "Ana@Example.com", " ana@example.com"]:
        obtain(api, email, "wrong-password")
    obtain(api, "ana@EXAMPLE.com", "wrong-password")

    response = obtain(api, "ana@example.com", PASSWORD)

    assert_error(response, 429, "accounts.too_many_attempts")


def test_a_success_between_failures_does_not_reset_the_count(api: APIClient, ana: User) -> None:
    # Otherwise an attacker who knows one password could keep guessing another account's
    # between their own sign-ins; allauth rolls back only the successful attempt.
    for _ in range(4):
        obtain(api, "ana@example.com", "wrong-password")
    assert obtain(api, "ana@example.com", PASSWORD).status_code == 200
    obtain(api, "ana@example.com", "wrong-password")

    response = obtain(api, "ana@example.com", PASSWORD)

    assert_error(response, 429, "accounts.too_many_attempts")


def test_the_browser_sign_in_is_locked_by_failures_on_the_token_endpoint(
    api: APIClient, browser: Client, ana: User
) -> None:
    fail_five_times(api, "ana@example.com")

    response = browser_post(
        browser, "/auth/login", {"email": "ana@example.com", "password": PASSWORD}
    )

    assert response.status_code == 400
    assert response.json() == {
        "status": 400,
        "errors": [
            {
                "message": "Too many failed login attempts. Try again later.",
                "code": "too_many_login_attempts",
            }
        ],
    }
    assert browser.get("/api/v1/me/").status_code == 401
    assert "auth.sign_in" not in [row["action"] for row in audit_rows()]


def test_the_token_endpoint_is_locked_by_failures_in_the_browser(
    api: APIClient, browser: Client, ana: User
) -> None:
    for _ in range(5):
        failed = browser_post(
            browser, "/auth/login", {"email": "ana@example.com", "password": "wrong-password"}
        )
        assert failed.status_code == 400

    response = obtain(api, "ana@example.com", PASSWORD)

    assert_error(response, 429, "accounts.too_many_attempts")
    assert OutstandingToken.objects.count() == 0


def test_another_account_at_the_same_address_is_not_locked(api: APIClient, ana: User) -> None:
    bruno = UserFactory(email="bruno@example.com")
    fail_five_times(api, "ana@example.com")

    response = obtain(api, "bruno@example.com", PASSWORD)

    assert response.status_code == 200
    assert list(OutstandingToken.objects.values_list("user_id", flat=True)) == [bruno.pk]


def test_a_password_reset_lifts_the_lock(
    api: APIClient, browser: Client, ana: User, django_capture_on_commit_callbacks: Any
) -> None:
    fail_five_times(api, "ana@example.com")
    assert obtain(api, "ana@example.com", PASSWORD).status_code == 429

    with django_capture_on_commit_callbacks(execute=True):
        requested = browser_post(browser, "/auth/password/request", {"email": "ana@example.com"})
    [message] = mail.outbox
    key = re.search(r"/reset-password/(\S+)", message.body)
    assert key is not None
    reset = browser_post(
        browser, "/auth/password/reset", {"key": key.group(1), "password": NEW_PASSWORD}
    )
    response = obtain(api, "ana@example.com", NEW_PASSWORD)

    assert requested.json() == {"status": 200}
    assert message.to == ["ana@example.com"]
    # Without ACCOUNT_LOGIN_ON_PASSWORD_RESET the reset does not sign in: 401 and the flows.
    assert reset.status_code == 401
    assert response.status_code == 200
    assert OutstandingToken.objects.filter(user=ana).count() == 1
    assert [row["action"] for row in audit_rows()][-2:] == [
        "accounts.password_reset",
        "auth.token_issued",
    ]


def test_the_old_password_no_longer_works_after_the_reset(
    api: APIClient, browser: Client, ana: User, django_capture_on_commit_callbacks: Any
) -> None:
    fail_five_times(api, "ana@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        browser_post(browser, "/auth/password/request", {"email": "ana@example.com"})
    key = re.search(r"/reset-password/(\S+)", mail.outbox[0].body)
    assert key is not None
    browser_post(browser, "/auth/password/reset", {"key": key.group(1), "password": NEW_PASSWORD})

    response = obtain(api, "ana@example.com", PASSWORD)

    assert_error(response, 401, "no_active_account")
    assert OutstandingToken.objects.count() == 0


def test_ten_failures_from_one_address_lock_that_address_for_everyone(api: APIClient) -> None:
    for email in ["ana@example.com", "bruno@example.com"]:
        UserFactory(email=email)
        fail_five_times(api, email)
    UserFactory(email="carla@example.com")
    elsewhere = APIClient(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR="198.51.100.20")

    here = obtain(api, "carla@example.com", PASSWORD)
    there = obtain(elsewhere, "carla@example.com", PASSWORD)

    assert_error(here, 429, "accounts.too_many_attempts")
    assert there.status_code == 200
