"""The web app signs in with a session through django-allauth's headless browser API."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.test.client import MULTIPART_CONTENT

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from accounts.tests.helpers import assert_error

pytestmark = pytest.mark.django_db

AUTH = "/_allauth/browser/v1"
ME_URL = "/api/v1/me/"


@pytest.fixture
def browser() -> Client:
    """A client that checks CSRF the way a real browser request is checked."""
    return Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")


def csrf_token(browser: Client) -> str:
    return browser.cookies["csrftoken"].value


def fetch_csrf_cookie(browser: Client) -> str:
    # Every headless browser view sets the CSRF cookie; /config is the one the web app
    # reads first.
    response = browser.get(f"{AUTH}/config")
    assert response.status_code == 200
    return csrf_token(browser)


def post_json(browser: Client, path: str, data: dict[str, Any], **headers: str) -> Any:
    return browser.post(path, json.dumps(data), content_type="application/json", headers=headers)


def sign_in(browser: Client, email: str, password: str = PASSWORD) -> Any:
    token = fetch_csrf_cookie(browser)
    return post_json(
        browser,
        f"{AUTH}/auth/login",
        {"email": email, "password": password},
        **{"X-CSRFToken": token},
    )


def patch_me(browser: Client, data: dict[str, Any], **headers: str) -> Any:
    return browser.patch(ME_URL, json.dumps(data), content_type="application/json", headers=headers)


def test_login_without_a_csrf_token_is_refused(browser: Client) -> None:
    UserFactory(email="ana@example.com")

    response = post_json(
        browser, f"{AUTH}/auth/login", {"email": "ana@example.com", "password": PASSWORD}
    )

    assert_error(response, 403, "csrf_failed")
    assert "sessionid" not in browser.cookies


def test_login_with_a_csrf_token_signs_in_and_the_session_reaches_the_api(browser: Client) -> None:
    user = UserFactory(email="ana@example.com", display_name="Ana")

    response = sign_in(browser, "ana@example.com")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == 200
    assert body["meta"] == {"is_authenticated": True}
    assert body["data"]["user"]["id"] == user.pk
    assert body["data"]["user"]["email"] == "ana@example.com"
    me = browser.get(ME_URL)
    assert me.status_code == 200
    assert me.json()["id"] == user.pk


def test_the_headless_api_shows_the_display_name_of_the_signed_in_user(browser: Client) -> None:
    user = UserFactory(email="ana@example.com", display_name="Ana")

    response = sign_in(browser, "ana@example.com")

    assert response.json()["data"]["user"] == {
        "id": user.pk,
        "display": "Ana",
        "email": "ana@example.com",
        "has_usable_password": True,
    }


def test_login_with_a_wrong_password_does_not_sign_in(browser: Client) -> None:
    UserFactory(email="ana@example.com")

    response = sign_in(browser, "ana@example.com", password="guess")

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "email_password_mismatch"
    assert_error(browser.get(ME_URL), 401, "not_authenticated")


def test_a_session_write_without_the_csrf_header_is_refused(browser: Client) -> None:
    user = UserFactory(email="ana@example.com", display_name="Ana")
    sign_in(browser, "ana@example.com")

    response = patch_me(browser, {"display_name": "Mallory"})

    assert_error(response, 403, "permission_denied")
    user.refresh_from_db()
    assert user.display_name == "Ana"


def test_a_session_write_with_the_csrf_header_is_accepted(browser: Client) -> None:
    user = UserFactory(email="ana@example.com", display_name="Ana")
    sign_in(browser, "ana@example.com")

    # Signing in rotates the CSRF token, so the cookie now holds a new one.
    response = patch_me(
        browser, {"display_name": "Ana Souza"}, **{"X-CSRFToken": csrf_token(browser)}
    )

    assert response.status_code == 200
    assert response.json()["display_name"] == "Ana Souza"
    user.refresh_from_db()
    assert user.display_name == "Ana Souza"


def test_sign_up_creates_a_lower_cased_account_and_signs_in(browser: Client) -> None:
    token = fetch_csrf_cookie(browser)

    response = post_json(
        browser,
        f"{AUTH}/auth/signup",
        {
            "email": "Nova.Pessoa@Example.com",
            "password": PASSWORD,
            "display_name": "Nova Pessoa",
            "phone": "11987654321",
        },
        **{"X-CSRFToken": token},
    )

    assert response.status_code == 200
    assert response.json()["meta"]["is_authenticated"] is True
    user = User.objects.get()
    assert user.email == "nova.pessoa@example.com"
    assert user.display_name == "Nova Pessoa"
    assert user.check_password(PASSWORD)
    # The visitor was browsing in English, so the account starts in English.
    assert user.language == "en"
    me = browser.get(ME_URL)
    assert me.status_code == 200
    assert me.json()["email"] == "nova.pessoa@example.com"


def test_sign_up_starts_in_portuguese_for_a_visitor_browsing_in_portuguese() -> None:
    browser = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="pt-BR")
    token = fetch_csrf_cookie(browser)

    response = post_json(
        browser,
        f"{AUTH}/auth/signup",
        {"email": "nova@example.com", "password": PASSWORD, "phone": "11987654321"},
        **{"X-CSRFToken": token},
    )

    assert response.status_code == 200
    user = User.objects.get()
    assert user.language == "pt-br"
    assert user.display_name == ""


def test_sign_up_with_a_taken_email_is_refused(browser: Client) -> None:
    existing = UserFactory(email="ana@example.com")
    token = fetch_csrf_cookie(browser)

    response = post_json(
        browser,
        f"{AUTH}/auth/signup",
        {
            "email": "ANA@example.com",
            "password": PASSWORD,
            "display_name": "Impostor",
            "phone": "11987654321",
        },
        **{"X-CSRFToken": token},
    )

    assert response.status_code == 400
    assert [(error["code"], error["param"]) for error in response.json()["errors"]] == [
        ("email_taken", "email")
    ]
    assert list(User.objects.values_list("pk", flat=True)) == [existing.pk]
    assert_error(browser.get(ME_URL), 401, "not_authenticated")


def test_logging_out_ends_the_session(browser: Client) -> None:
    UserFactory(email="ana@example.com")
    sign_in(browser, "ana@example.com")

    response = browser.delete(f"{AUTH}/auth/session", headers={"X-CSRFToken": csrf_token(browser)})

    assert response.status_code == 401
    assert response.json()["meta"]["is_authenticated"] is False
    assert_error(browser.get(ME_URL), 401, "not_authenticated")


def test_logging_out_without_the_csrf_header_is_refused(browser: Client) -> None:
    UserFactory(email="ana@example.com")
    sign_in(browser, "ana@example.com")

    response = browser.delete(f"{AUTH}/auth/session")

    assert_error(response, 403, "csrf_failed")
    assert browser.get(ME_URL).status_code == 200


def test_a_form_encoded_session_write_needs_the_csrf_token_too(browser: Client) -> None:
    # A cross-site form post is the classic CSRF attack: it arrives with the session cookie
    # and a form body, never with the header.
    user = UserFactory(email="ana@example.com", display_name="Ana")
    sign_in(browser, "ana@example.com")

    response = browser.patch(ME_URL, {"display_name": "Mallory"}, content_type=MULTIPART_CONTENT)

    assert_error(response, 403, "permission_denied")
    user.refresh_from_db()
    assert user.display_name == "Ana"
