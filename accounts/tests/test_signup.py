"""Signing up through allauth's headless browser API: email, password and a phone number."""

from __future__ import annotations

import json
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client

from accounts.models import User, VerificationCode
from accounts.providers import sandbox
from accounts.tests.factories import PASSWORD, UserFactory
from accounts.tests.helpers import audit_row, audit_rows, rows, six_digit_code

pytestmark = pytest.mark.django_db

AUTH = "/_allauth/browser/v1"
SIGNUP_URL = f"{AUTH}/auth/signup"


@pytest.fixture
def browser() -> Client:
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    assert client.get(f"{AUTH}/config").status_code == 200
    return client


def post_json(browser: Client, url: str, data: dict[str, Any]) -> Any:
    return browser.post(
        url,
        json.dumps(data),
        content_type="application/json",
        headers={"X-CSRFToken": browser.cookies["csrftoken"].value},
    )


def sign_up(browser: Client, capture: Any, **data: Any) -> Any:
    with capture(execute=True):
        return post_json(browser, SIGNUP_URL, {"password": PASSWORD, **data})


def test_sign_up_creates_an_unverified_account_with_an_e164_phone_and_sends_both_codes(
    browser: Client, django_capture_on_commit_callbacks: Any
) -> None:
    response = sign_up(
        browser,
        django_capture_on_commit_callbacks,
        email="Nova@Example.com",
        phone="11987654321",
        display_name="Nova",
    )

    assert response.status_code == 200
    assert response.json()["meta"]["is_authenticated"] is True
    user = User.objects.get()
    assert (user.email, str(user.phone), user.display_name) == (
        "nova@example.com",
        "+5511987654321",
        "Nova",
    )
    assert (user.email_verified_at, user.phone_verified_at) == (None, None)
    [email] = mail.outbox
    [sms] = sandbox.outbox()
    assert email.to == ["nova@example.com"]
    assert email.subject == f"Your Atende verification code: {six_digit_code(email.body)}"
    assert sms.to == "+5511987654321"
    assert sms.text == f"Atende: your code is {six_digit_code(sms.text)} (expires in 10 min)."
    assert sorted(
        VerificationCode.objects.values_list("channel", "target", "consumed_at", "superseded_at")
    ) == [
        ("email", "nova@example.com", None, None),
        ("phone", "+5511987654321", None, None),
    ]
    assert audit_rows() == [
        audit_row("accounts.signed_up", actor=user, target=user, ip_address="127.0.0.1"),
        audit_row("auth.sign_in", actor=user, target=user, ip_address="127.0.0.1"),
    ]


def test_the_codes_sent_at_sign_up_verify_the_new_account(
    browser: Client, django_capture_on_commit_callbacks: Any
) -> None:
    sign_up(
        browser, django_capture_on_commit_callbacks, email="nova@example.com", phone="11987654321"
    )
    email_code = six_digit_code(mail.outbox[0].body)
    sms = sandbox.last_text_to("+5511987654321")
    assert sms is not None
    token = browser.cookies["csrftoken"].value

    email = browser.post(
        "/api/v1/me/email/verification/confirm/",
        json.dumps({"code": email_code}),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    phone = browser.post(
        "/api/v1/me/phone/verification/confirm/",
        json.dumps({"code": six_digit_code(sms)}),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )

    assert (email.status_code, phone.status_code) == (200, 200)
    assert (phone.json()["email_verified"], phone.json()["phone_verified"]) == (True, True)
    assert list(EmailAddress.objects.values("email", "verified", "primary")) == [
        {"email": "nova@example.com", "verified": True, "primary": True}
    ]


@pytest.mark.parametrize(
    ("phone", "error"),
    [
        (None, {"message": "This field is required.", "code": "required", "param": "phone"}),
        ("", {"message": "This field is required.", "code": "required", "param": "phone"}),
        (
            "12345",
            {
                "message": "Enter a valid phone number (e.g. (11) 2345-6789) or a number with "
                "an international call prefix.",
                "code": "invalid",
                "param": "phone",
            },
        ),
    ],
    ids=["missing", "blank", "invalid"],
)
def test_sign_up_without_a_valid_phone_is_refused(
    browser: Client, django_capture_on_commit_callbacks: Any, phone: str | None, error: Any
) -> None:
    data = {"email": "nova@example.com"} | ({} if phone is None else {"phone": phone})

    response = sign_up(browser, django_capture_on_commit_callbacks, **data)

    assert response.status_code == 400
    assert response.json() == {"status": 400, "errors": [error]}
    assert User.objects.count() == 0
    assert VerificationCode.objects.count() == 0
    assert audit_rows() == []
    assert (mail.outbox, sandbox.outbox()) == ([], [])


def test_sign_up_with_a_taken_email_sends_no_code(
    browser: Client, django_capture_on_commit_callbacks: Any
) -> None:
    UserFactory(email="ana@example.com")
    before = rows(User)

    response = sign_up(
        browser, django_capture_on_commit_callbacks, email="ana@example.com", phone="11987654321"
    )

    assert response.status_code == 400
    assert rows(User) == before
    assert VerificationCode.objects.count() == 0
    assert (mail.outbox, sandbox.outbox()) == ([], [])


def test_two_accounts_may_sign_up_with_the_same_unverified_phone(
    django_capture_on_commit_callbacks: Any,
) -> None:
    first, second = (Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en") for _ in range(2))
    for client in (first, second):
        client.get(f"{AUTH}/config")

    one = sign_up(
        first, django_capture_on_commit_callbacks, email="one@example.com", phone="11987654321"
    )
    two = sign_up(
        second, django_capture_on_commit_callbacks, email="two@example.com", phone="+5511987654321"
    )

    assert (one.status_code, two.status_code) == (200, 200)
    assert sorted((user.email, str(user.phone)) for user in User.objects.all()) == [
        ("one@example.com", "+5511987654321"),
        ("two@example.com", "+5511987654321"),
    ]
    assert [message.to for message in sandbox.outbox()] == ["+5511987654321"] * 2
    assert sorted(message.to[0] for message in mail.outbox) == [
        "one@example.com",
        "two@example.com",
    ]
