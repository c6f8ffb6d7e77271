"""Email and phone verification with one-time codes: services, API and the delivery task."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.utils import timezone
from rest_framework.fields import DateTimeField
from rest_framework.test import APIClient

from accounts import verification
from accounts.models import User, VerificationChannel, VerificationCode
from accounts.providers import sandbox
from accounts.tasks import deliver_verification_code
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import assert_error, audit_row, audit_rows, rows, six_digit_code
from core.exceptions import ApplicationError

pytestmark = pytest.mark.django_db

ClientFor = Callable[[User | None], APIClient]

EMAIL = VerificationChannel.EMAIL
PHONE = VerificationChannel.PHONE
EMAIL_START = "/api/v1/me/email/verification/"
EMAIL_CONFIRM = "/api/v1/me/email/verification/confirm/"
PHONE_START = "/api/v1/me/phone/verification/"
PHONE_CONFIRM = "/api/v1/me/phone/verification/confirm/"
ANA_PHONE = "+5511987654321"


@pytest.fixture
def ana() -> User:
    return UserFactory(email="ana@example.com", phone=ANA_PHONE, language="en")


@pytest.fixture
def start(django_capture_on_commit_callbacks: Any) -> Callable[..., str]:
    """Ask for a code through the service, deliver it, and return the code that was sent."""

    def run(user: User, channel: str, target: str | None = None) -> str:
        with django_capture_on_commit_callbacks(execute=True):
            code = verification.verification_start(user=user, channel=channel, target=target)
        if channel == EMAIL:
            return six_digit_code(mail.outbox[-1].body)
        text = sandbox.last_text_to(code.target)
        assert text is not None
        return six_digit_code(text)

    return run


def refused(**kwargs: Any) -> ApplicationError:
    """The domain error ``verification_confirm`` raises for these arguments."""
    with pytest.raises(ApplicationError) as raised:
        verification.verification_confirm(**kwargs)
    return raised.value


def start_refused(**kwargs: Any) -> ApplicationError:
    with pytest.raises(ApplicationError) as raised:
        verification.verification_start(**kwargs)
    return raised.value


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def age_codes(user: User, by: timedelta) -> None:
    """Move every code of ``user`` back in time, as if it had been asked for earlier."""
    for code in VerificationCode.objects.filter(user=user):
        VerificationCode.objects.filter(pk=code.pk).update(created_at=code.created_at - by)


# --- Sending ------------------------------------------------------------------------------


def test_starting_email_verification_sends_one_email_with_the_code(
    ana: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        code = verification.verification_start(user=ana, channel=EMAIL)

    [message] = mail.outbox
    plain = six_digit_code(message.subject)
    assert message.to == ["ana@example.com"]
    assert message.subject == f"Your Atende verification code: {plain}"
    assert message.body == (
        f"Your verification code is {plain}. It expires in 10 minutes.\n\n"
        "If you did not ask for it, ignore this message."
    )
    assert sandbox.outbox() == []
    stored = VerificationCode.objects.get()
    assert stored.pk == code.pk
    assert (stored.user_id, stored.channel, stored.target) == (ana.pk, "email", "ana@example.com")
    assert (stored.attempts, stored.consumed_at, stored.superseded_at) == (0, None, None)
    assert timedelta(minutes=9, seconds=59) < stored.expires_at - stored.created_at
    assert stored.expires_at - stored.created_at <= timedelta(minutes=10)


def test_starting_phone_verification_sends_one_sms_with_the_code(
    ana: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        code = verification.verification_start(user=ana, channel=PHONE)

    [message] = sandbox.outbox()
    plain = six_digit_code(message.text)
    assert message.to == ANA_PHONE
    assert message.text == f"Atende: your code is {plain} (expires in 10 min)."
    assert message.idempotency_key == f"verification-{code.pk}"
    assert mail.outbox == []
    stored = VerificationCode.objects.get()
    assert (stored.user_id, stored.channel, stored.target) == (ana.pk, "phone", ANA_PHONE)


def test_the_code_goes_out_only_after_the_commit(
    ana: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        verification.verification_start(user=ana, channel=EMAIL)

    assert len(callbacks) == 1
    assert mail.outbox == []


def test_the_code_is_stored_only_as_a_hash(ana: User, start: Callable[..., str]) -> None:
    plain = start(ana, EMAIL)

    [row] = VerificationCode.objects.values()
    assert all(plain not in str(value) for value in row.values())
    assert re.fullmatch(r"[0-9a-f]{64}", row["code_hash"])
    code = VerificationCode.objects.get()
    assert verification.code_matches(code, plain)
    assert not verification.code_matches(code, other_code(plain))


# --- Confirming ---------------------------------------------------------------------------


def test_the_right_email_code_verifies_the_address(ana: User, start: Callable[..., str]) -> None:
    plain = start(ana, EMAIL)

    returned = verification.verification_confirm(user=ana, channel=EMAIL, plain_code=plain)

    ana.refresh_from_db()
    assert returned.pk == ana.pk
    assert ana.email == "ana@example.com"
    assert ana.email_verified_at is not None
    assert ana.phone_verified_at is None
    code = VerificationCode.objects.get()
    assert code.consumed_at == ana.email_verified_at
    assert code.attempts == 0
    assert audit_rows() == [audit_row("accounts.email_verified", actor=ana, target=ana)]
    assert list(EmailAddress.objects.values("user_id", "email", "verified", "primary")) == [
        {"user_id": ana.pk, "email": "ana@example.com", "verified": True, "primary": True}
    ]


def test_confirming_the_email_marks_allauths_existing_address_verified_and_primary(
    ana: User, start: Callable[..., str]
) -> None:
    EmailAddress.objects.create(user=ana, email="ana@example.com", verified=False, primary=False)
    plain = start(ana, EMAIL)

    verification.verification_confirm(user=ana, channel=EMAIL, plain_code=plain)

    assert list(EmailAddress.objects.values("user_id", "email", "verified", "primary")) == [
        {"user_id": ana.pk, "email": "ana@example.com", "verified": True, "primary": True}
    ]


def test_the_right_phone_code_verifies_the_number(ana: User, start: Callable[..., str]) -> None:
    plain = start(ana, PHONE)

    verification.verification_confirm(user=ana, channel=PHONE, plain_code=f" {plain} ")

    ana.refresh_from_db()
    assert str(ana.phone) == ANA_PHONE
    assert ana.phone_verified_at is not None
    assert ana.email_verified_at is None
    assert VerificationCode.objects.get().consumed_at == ana.phone_verified_at
    assert audit_rows() == [audit_row("accounts.phone_verified", actor=ana, target=ana)]
    assert EmailAddress.objects.count() == 0


def test_a_used_code_cannot_be_used_again(ana: User, start: Callable[..., str]) -> None:
    plain = start(ana, PHONE)
    verification.verification_confirm(user=ana, channel=PHONE, plain_code=plain)
    before = rows(User), rows(VerificationCode), audit_rows()

    error = refused(user=ana, channel=PHONE, plain_code=plain)

    assert (error.code, error.status_code, error.extra) == ("accounts.no_code_pending", 400, {})
    assert (rows(User), rows(VerificationCode), audit_rows()) == before


def test_a_wrong_code_is_refused_and_the_attempt_is_kept(
    ana: User, start: Callable[..., str]
) -> None:
    plain = start(ana, EMAIL)
    users_before = rows(User)

    error = refused(user=ana, channel=EMAIL, plain_code=other_code(plain))

    assert (error.code, error.status_code, error.extra) == (
        "accounts.code_invalid",
        400,
        {"attempts_left": 4},
    )
    # Raised after its own transaction committed: the attempt survives the error.
    code = VerificationCode.objects.get()
    assert (code.attempts, code.consumed_at) == (1, None)
    assert rows(User) == users_before
    assert audit_rows() == []


def test_five_wrong_codes_lock_the_code_even_for_the_right_one(
    ana: User, start: Callable[..., str]
) -> None:
    plain = start(ana, EMAIL)
    wrong = other_code(plain)

    left = [refused(user=ana, channel=EMAIL, plain_code=wrong).extra for _ in range(5)]
    users_before = rows(User)
    error = refused(user=ana, channel=EMAIL, plain_code=plain)

    assert left == [{"attempts_left": n} for n in (4, 3, 2, 1, 0)]
    assert (error.code, error.status_code, error.extra) == (
        "accounts.code_attempts_exceeded",
        429,
        {"wait": 60},
    )
    code = VerificationCode.objects.get()
    assert (code.attempts, code.consumed_at) == (5, None)
    assert rows(User) == users_before
    assert audit_rows() == [
        audit_row("accounts.verification_locked", actor=ana, target=ana, data={"channel": "email"})
    ]


def test_an_expired_code_is_refused(ana: User, start: Callable[..., str]) -> None:
    plain = start(ana, PHONE)
    VerificationCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    before = rows(User), rows(VerificationCode)

    error = refused(user=ana, channel=PHONE, plain_code=plain)

    assert (error.code, error.status_code, error.extra) == ("accounts.code_expired", 400, {})
    assert (rows(User), rows(VerificationCode)) == before
    assert audit_rows() == []


def test_a_new_code_replaces_the_previous_one(ana: User, start: Callable[..., str]) -> None:
    first = start(ana, EMAIL)
    age_codes(ana, timedelta(seconds=61))
    second = start(ana, EMAIL)
    assert first != second  # one chance in a million that the two codes are equal

    old_refused = refused(user=ana, channel=EMAIL, plain_code=first)
    verification.verification_confirm(user=ana, channel=EMAIL, plain_code=second)

    assert (old_refused.code, old_refused.extra) == ("accounts.code_invalid", {"attempts_left": 4})
    old, new = VerificationCode.objects.order_by("pk")
    assert old.superseded_at is not None
    assert (old.consumed_at, old.attempts) == (None, 0)
    assert new.superseded_at is None
    assert new.consumed_at is not None
    assert new.attempts == 1
    assert len(mail.outbox) == 2


def test_nothing_to_confirm_without_a_code(ana: User) -> None:
    before = rows(User)

    error = refused(user=ana, channel=EMAIL, plain_code="123456")

    assert (error.code, error.status_code, error.extra) == ("accounts.no_code_pending", 400, {})
    assert rows(User) == before


def test_a_code_for_the_email_does_not_confirm_the_phone(
    ana: User, start: Callable[..., str]
) -> None:
    plain = start(ana, EMAIL)

    error = refused(user=ana, channel=PHONE, plain_code=plain)

    assert error.code == "accounts.no_code_pending"
    assert VerificationCode.objects.get().attempts == 0


def test_someone_elses_code_does_not_verify_me(ana: User, start: Callable[..., str]) -> None:
    bruno = UserFactory(email="bruno@example.com", language="en")
    brunos = start(bruno, EMAIL)
    start(ana, EMAIL)

    error = refused(user=ana, channel=EMAIL, plain_code=brunos)

    assert (error.code, error.extra) == ("accounts.code_invalid", {"attempts_left": 4})
    ana.refresh_from_db()
    bruno.refresh_from_db()
    assert (ana.email_verified_at, bruno.email_verified_at) == (None, None)


# --- Rate limits --------------------------------------------------------------------------


def test_a_second_code_within_a_minute_is_refused(ana: User, start: Callable[..., str]) -> None:
    start(ana, EMAIL)
    before = rows(VerificationCode)

    error = start_refused(user=ana, channel=EMAIL)

    assert (error.code, error.status_code, error.extra) == (
        "accounts.code_cooldown",
        429,
        {"wait": 60},
    )
    assert rows(VerificationCode) == before
    assert len(mail.outbox) == 1


def test_the_cooldown_tells_how_long_is_left(ana: User, start: Callable[..., str]) -> None:
    start(ana, PHONE)
    age_codes(ana, timedelta(seconds=30))

    error = start_refused(user=ana, channel=PHONE)

    assert (error.code, error.extra) == ("accounts.code_cooldown", {"wait": 30})


def test_the_cooldown_is_per_channel(ana: User, start: Callable[..., str]) -> None:
    start(ana, EMAIL)

    start(ana, PHONE)

    assert VerificationCode.objects.filter(consumed_at=None, superseded_at=None).count() == 2


def test_at_most_five_codes_an_hour(ana: User, start: Callable[..., str]) -> None:
    for _ in range(5):
        age_codes(ana, timedelta(minutes=10))
        start(ana, EMAIL)
    # The codes were asked for 50, 40, 30, 20 and 10 minutes ago (give or take a moment).
    age_codes(ana, timedelta(minutes=10))
    before = rows(VerificationCode)

    error = start_refused(user=ana, channel=EMAIL)

    assert (error.code, error.status_code, error.extra) == (
        "accounts.too_many_codes",
        429,
        {"wait": 600},
    )
    assert rows(VerificationCode) == before
    assert len(mail.outbox) == 5


def test_codes_older_than_an_hour_do_not_count(ana: User, start: Callable[..., str]) -> None:
    for _ in range(5):
        start(ana, EMAIL)
        age_codes(ana, timedelta(minutes=15))

    start(ana, EMAIL)

    assert VerificationCode.objects.count() == 6
    assert len(mail.outbox) == 6


# --- Changing a contact -------------------------------------------------------------------


def test_changing_the_email_changes_nothing_until_the_code_is_confirmed(
    ana: User, start: Callable[..., str]
) -> None:
    User.objects.filter(pk=ana.pk).update(email_verified_at=timezone.now())
    EmailAddress.objects.create(user=ana, email="ana@example.com", verified=True, primary=True)
    users_before = rows(User)
    addresses_before = list(EmailAddress.objects.values())

    plain = start(ana, EMAIL, "Ana.Nova@Example.com")

    assert mail.outbox[-1].to == ["ana.nova@example.com"]
    assert VerificationCode.objects.get().target == "ana.nova@example.com"
    assert rows(User) == users_before
    assert list(EmailAddress.objects.values()) == addresses_before
    assert audit_rows() == []

    verification.verification_confirm(user=ana, channel=EMAIL, plain_code=plain)

    ana.refresh_from_db()
    assert ana.email == "ana.nova@example.com"
    assert ana.email_verified_at is not None
    assert ana.email_verified_at != users_before[0]["email_verified_at"]
    assert audit_rows() == [
        audit_row(
            "accounts.email_changed",
            actor=ana,
            target=ana,
            data={"from": "ana@example.com", "to": "ana.nova@example.com"},
        )
    ]
    assert list(EmailAddress.objects.values("user_id", "email", "verified", "primary")) == [
        {"user_id": ana.pk, "email": "ana.nova@example.com", "verified": True, "primary": True}
    ]


def test_confirming_a_new_email_clears_the_undeliverable_mark(
    ana: User, start: Callable[..., str]
) -> None:
    User.objects.filter(pk=ana.pk).update(
        email_undeliverable_at=timezone.now(), email_undeliverable_reason="bounce"
    )
    ana.refresh_from_db()
    plain = start(ana, EMAIL, "ana.nova@example.com")

    verification.verification_confirm(user=ana, channel=EMAIL, plain_code=plain)

    ana.refresh_from_db()
    assert (ana.email_undeliverable_at, ana.email_undeliverable_reason) == (None, "")


def test_changing_the_phone_changes_nothing_until_the_code_is_confirmed(
    ana: User, start: Callable[..., str]
) -> None:
    User.objects.filter(pk=ana.pk).update(phone_verified_at=timezone.now())
    ana.refresh_from_db()
    users_before = rows(User)

    plain = start(ana, PHONE, "+5521999998888")

    assert [message.to for message in sandbox.outbox()] == ["+5521999998888"]
    assert rows(User) == users_before

    verification.verification_confirm(user=ana, channel=PHONE, plain_code=plain)

    ana.refresh_from_db()
    assert str(ana.phone) == "+5521999998888"
    assert ana.phone_verified_at is not None
    assert audit_rows() == [
        audit_row(
            "accounts.phone_changed",
            actor=ana,
            target=ana,
            data={"from": ANA_PHONE, "to": "+5521999998888"},
        )
    ]


def test_an_email_used_by_another_account_cannot_be_claimed(ana: User) -> None:
    UserFactory(email="bruno@example.com")
    before = rows(User)

    error = start_refused(user=ana, channel=EMAIL, target="Bruno@Example.com")

    assert (error.code, error.status_code, error.extra) == ("accounts.email_taken", 409, {})
    assert rows(User) == before
    assert VerificationCode.objects.count() == 0


def test_an_email_taken_between_sending_and_confirming_is_refused(
    ana: User, start: Callable[..., str]
) -> None:
    plain = start(ana, EMAIL, "shared@example.com")
    UserFactory(email="shared@example.com")
    before = rows(User), rows(VerificationCode)

    error = refused(user=ana, channel=EMAIL, plain_code=plain)

    assert (error.code, error.status_code) == ("accounts.email_taken", 409)
    assert (rows(User), rows(VerificationCode)) == before
    assert audit_rows() == []


def test_a_phone_verified_by_another_account_cannot_be_claimed(ana: User) -> None:
    UserFactory(phone="+5521999998888", phone_verified_at=timezone.now())
    before = rows(User)

    error = start_refused(user=ana, channel=PHONE, target="+5521999998888")

    assert (error.code, error.status_code, error.extra) == ("accounts.phone_taken", 409, {})
    assert rows(User) == before
    assert VerificationCode.objects.count() == 0


def test_a_phone_another_account_has_not_verified_can_be_claimed(
    ana: User, start: Callable[..., str]
) -> None:
    other = UserFactory(phone="+5521999998888")
    plain = start(ana, PHONE, "+5521999998888")

    verification.verification_confirm(user=ana, channel=PHONE, plain_code=plain)

    ana.refresh_from_db()
    other.refresh_from_db()
    assert (str(ana.phone), ana.phone_verified) == ("+5521999998888", True)
    assert (str(other.phone), other.phone_verified) == ("+5521999998888", False)


def test_a_verified_contact_is_not_verified_again(ana: User) -> None:
    User.objects.filter(pk=ana.pk).update(
        email_verified_at=timezone.now(), phone_verified_at=timezone.now()
    )
    ana.refresh_from_db()

    email_error = start_refused(user=ana, channel=EMAIL, target="ANA@example.com")
    phone_error = start_refused(user=ana, channel=PHONE)

    assert (email_error.code, email_error.status_code) == ("accounts.already_verified", 409)
    assert (phone_error.code, phone_error.status_code) == ("accounts.already_verified", 409)
    assert VerificationCode.objects.count() == 0


def test_a_phone_code_needs_a_phone(django_capture_on_commit_callbacks: Any) -> None:
    user = UserFactory()

    with django_capture_on_commit_callbacks(execute=True):
        error = start_refused(user=user, channel=PHONE)

    assert (error.code, error.status_code, error.extra) == ("accounts.phone_missing", 400, {})
    assert VerificationCode.objects.count() == 0
    assert sandbox.outbox() == []


# --- API ----------------------------------------------------------------------------------


def sent_payload(channel: str, target: str) -> dict[str, str]:
    code = VerificationCode.objects.get(consumed_at=None, superseded_at=None, channel=channel)
    return {
        "channel": channel,
        "target": target,
        "expires_at": DateTimeField().to_representation(code.expires_at),
        "resend_after": DateTimeField().to_representation(code.created_at + timedelta(seconds=60)),
        # Right after sending: the whole cooldown (the test runs well under a second).
        "resend_in": 60,
    }


def test_the_api_sends_an_email_code_and_shows_where_it_went(
    client_for: ClientFor, ana: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(ana).post(EMAIL_START, {}, format="json")

    assert response.status_code == 202
    assert response.json() == sent_payload("email", "an***@example.com")
    [message] = mail.outbox
    assert message.to == ["ana@example.com"]
    assert sandbox.outbox() == []


def test_the_api_sends_an_sms_code_to_a_new_national_number_in_e164(
    client_for: ClientFor, ana: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(ana).post(PHONE_START, {"phone": "21999998888"}, format="json")

    assert response.status_code == 202
    assert response.json() == sent_payload("phone", "+5521****8888")
    assert [message.to for message in sandbox.outbox()] == ["+5521999998888"]
    assert mail.outbox == []


def test_confirming_through_the_api_answers_with_the_updated_profile(
    client_for: ClientFor, ana: User, start: Callable[..., str]
) -> None:
    User.objects.filter(pk=ana.pk).update(email_verified_at=timezone.now())
    plain = start(ana, PHONE)

    response = client_for(ana).post(PHONE_CONFIRM, {"code": plain}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["phone"], body["email_verified"], body["phone_verified"]) == (
        ana.pk,
        ANA_PHONE,
        True,
        True,
    )
    assert body["missing"] == {
        "buy_tokens": [],
        "start_call": [],
        "join_queue": [],
        "withdraw": ["kyc_approved"],
    }
    assert audit_rows() == [
        audit_row("accounts.phone_verified", actor=ana, target=ana, ip_address="127.0.0.1")
    ]


def test_the_api_confirms_an_email_change(
    client_for: ClientFor, ana: User, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(ana)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(EMAIL_START, {"email": "ana.nova@example.com"}, format="json")
    plain = six_digit_code(mail.outbox[0].body)
    assert client.get("/api/v1/me/").json()["email"] == "ana@example.com"

    response = client.post(EMAIL_CONFIRM, {"code": plain}, format="json")

    assert response.status_code == 200
    assert (response.json()["email"], response.json()["email_verified"]) == (
        "ana.nova@example.com",
        True,
    )


def test_a_wrong_code_through_the_api_is_refused_and_counted(
    client_for: ClientFor, ana: User, start: Callable[..., str]
) -> None:
    plain = start(ana, EMAIL)
    users_before = rows(User)

    response = client_for(ana).post(EMAIL_CONFIRM, {"code": other_code(plain)}, format="json")

    assert_error(response, 400, "accounts.code_invalid", {"attempts_left": 4})
    assert VerificationCode.objects.get().attempts == 1
    assert rows(User) == users_before


def test_five_wrong_codes_through_the_api_lock_the_code(
    client_for: ClientFor, ana: User, start: Callable[..., str]
) -> None:
    plain = start(ana, PHONE)
    client = client_for(ana)

    statuses = [
        client.post(PHONE_CONFIRM, {"code": other_code(plain)}, format="json").json()["extra"]
        for _ in range(5)
    ]
    users_before = rows(User)
    response = client.post(PHONE_CONFIRM, {"code": plain}, format="json")

    assert statuses == [{"attempts_left": n} for n in (4, 3, 2, 1, 0)]
    assert_error(response, 429, "accounts.code_attempts_exceeded", {"wait": 60})
    assert rows(User) == users_before
    assert VerificationCode.objects.get().attempts == 5


def test_an_expired_code_through_the_api_is_refused(
    client_for: ClientFor, ana: User, start: Callable[..., str]
) -> None:
    plain = start(ana, EMAIL)
    VerificationCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    users_before = rows(User)

    response = client_for(ana).post(EMAIL_CONFIRM, {"code": plain}, format="json")

    assert_error(response, 400, "accounts.code_expired")
    assert rows(User) == users_before


def test_the_api_refuses_a_second_code_within_a_minute(
    client_for: ClientFor, ana: User, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(ana)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(PHONE_START, {}, format="json")
        response = client.post(PHONE_START, {}, format="json")

    assert_error(response, 429, "accounts.code_cooldown", {"wait": 60})
    assert VerificationCode.objects.count() == 1
    assert len(sandbox.outbox()) == 1


def test_the_api_refuses_a_sixth_code_in_an_hour(
    client_for: ClientFor, ana: User, start: Callable[..., str]
) -> None:
    for _ in range(5):
        age_codes(ana, timedelta(minutes=10))
        start(ana, PHONE)
    age_codes(ana, timedelta(minutes=10))

    response = client_for(ana).post(PHONE_START, {}, format="json")

    assert_error(response, 429, "accounts.too_many_codes", {"wait": 600})
    assert VerificationCode.objects.count() == 5


@pytest.mark.parametrize(
    ("url", "data", "status", "code"),
    [
        (EMAIL_START, {"email": "bruno@example.com"}, 409, "accounts.email_taken"),
        (PHONE_START, {"phone": "+5521999998888"}, 409, "accounts.phone_taken"),
        (EMAIL_CONFIRM, {"code": "123456"}, 400, "accounts.no_code_pending"),
        (PHONE_CONFIRM, {"code": "123456"}, 400, "accounts.no_code_pending"),
    ],
    ids=["email_taken", "phone_taken", "no_email_code", "no_phone_code"],
)
def test_the_api_refuses_what_the_services_refuse(
    client_for: ClientFor,
    ana: User,
    django_capture_on_commit_callbacks: Any,
    url: str,
    data: dict[str, str],
    status: int,
    code: str,
) -> None:
    UserFactory(email="bruno@example.com", phone="+5521999998888", phone_verified_at=timezone.now())
    before = rows(User)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(ana).post(url, data, format="json")

    assert_error(response, status, code)
    assert rows(User) == before
    assert VerificationCode.objects.count() == 0
    assert (mail.outbox, sandbox.outbox()) == ([], [])


@pytest.mark.parametrize("url", [EMAIL_START, PHONE_START])
def test_the_api_refuses_to_verify_a_verified_contact(
    client_for: ClientFor, ana: User, url: str
) -> None:
    User.objects.filter(pk=ana.pk).update(
        email_verified_at=timezone.now(), phone_verified_at=timezone.now()
    )

    response = client_for(ana).post(url, {}, format="json")

    assert_error(response, 409, "accounts.already_verified")
    assert VerificationCode.objects.count() == 0


def test_the_api_asks_for_a_phone_first(client_for: ClientFor) -> None:
    user = UserFactory()

    response = client_for(user).post(PHONE_START, {}, format="json")

    assert_error(response, 400, "accounts.phone_missing")
    assert VerificationCode.objects.count() == 0


@pytest.mark.parametrize("url", [EMAIL_START, EMAIL_CONFIRM, PHONE_START, PHONE_CONFIRM])
def test_an_anonymous_visitor_cannot_verify_anything(client_for: ClientFor, url: str) -> None:
    response = client_for(None).post(url, {"code": "123456"}, format="json")

    assert_error(response, 401, "not_authenticated")
    assert VerificationCode.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({}, {"code": ["This field is required."]}),
        ({"code": "12345"}, {"code": ["This value does not match the required pattern."]}),
        ({"code": "1234567"}, {"code": ["This value does not match the required pattern."]}),
        ({"code": "12a456"}, {"code": ["This value does not match the required pattern."]}),
        (
            {"code": "1234567890123"},
            {
                "code": [
                    "Ensure this field has no more than 12 characters.",
                    "This value does not match the required pattern.",
                ]
            },
        ),
        ({"code": "123456", "channel": "phone"}, {"channel": ["Unknown field."]}),
    ],
    ids=["missing", "short", "long", "letters", "too_long", "unknown_field"],
)
@pytest.mark.parametrize("url", [EMAIL_CONFIRM, PHONE_CONFIRM])
def test_a_malformed_code_is_refused_without_counting_an_attempt(
    client_for: ClientFor,
    ana: User,
    start: Callable[..., str],
    url: str,
    data: dict[str, str],
    fields: dict[str, list[str]],
) -> None:
    start(ana, EMAIL)
    start(ana, PHONE)
    before = rows(VerificationCode)

    response = client_for(ana).post(url, data, format="json")

    assert_error(response, 400, "validation_error", {"fields": fields})
    assert rows(VerificationCode) == before


@pytest.mark.parametrize(
    ("url", "data", "fields"),
    [
        (EMAIL_START, {"email": "not-an-email"}, {"email": ["Enter a valid email address."]}),
        (EMAIL_START, {"email": ""}, {"email": ["This field may not be blank."]}),
        (PHONE_START, {"phone": "123"}, {"phone": ["Enter a valid phone number."]}),
        (PHONE_START, {"phone": ""}, {"phone": ["This field may not be blank."]}),
    ],
    ids=["bad_email", "blank_email", "bad_phone", "blank_phone"],
)
def test_a_malformed_contact_is_refused(
    client_for: ClientFor,
    ana: User,
    url: str,
    data: dict[str, str],
    fields: dict[str, list[str]],
) -> None:
    response = client_for(ana).post(url, data, format="json")

    assert_error(response, 400, "validation_error", {"fields": fields})
    assert VerificationCode.objects.count() == 0


# --- Delivery task ------------------------------------------------------------------------


def sent_nothing() -> bool:
    return mail.outbox == [] and sandbox.outbox() == []


def test_the_task_sends_a_live_code(ana: User, start: Callable[..., str]) -> None:
    plain = start(ana, PHONE)
    sandbox.clear()

    result = deliver_verification_code(VerificationCode.objects.get().pk, plain)

    assert result == "sent"
    assert [(message.to, six_digit_code(message.text)) for message in sandbox.outbox()] == [
        (ANA_PHONE, plain)
    ]


def test_the_task_skips_a_used_code(ana: User, start: Callable[..., str]) -> None:
    plain = start(ana, EMAIL)
    verification.verification_confirm(user=ana, channel=EMAIL, plain_code=plain)
    mail.outbox.clear()

    assert deliver_verification_code(VerificationCode.objects.get().pk, plain) == "skipped"
    assert sent_nothing()


def test_the_task_skips_a_replaced_code(ana: User, start: Callable[..., str]) -> None:
    first = start(ana, PHONE)
    age_codes(ana, timedelta(seconds=61))
    start(ana, PHONE)
    sandbox.clear()
    old = VerificationCode.objects.order_by("pk").first()
    assert old is not None

    assert deliver_verification_code(old.pk, first) == "skipped"
    assert sent_nothing()


def test_the_task_skips_an_expired_code(ana: User, start: Callable[..., str]) -> None:
    plain = start(ana, EMAIL)
    VerificationCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    mail.outbox.clear()

    assert deliver_verification_code(VerificationCode.objects.get().pk, plain) == "skipped"
    assert sent_nothing()


def test_the_task_skips_a_code_that_no_longer_exists(ana: User, start: Callable[..., str]) -> None:
    plain = start(ana, EMAIL)
    code_id = VerificationCode.objects.get().pk
    VerificationCode.objects.all().delete()
    mail.outbox.clear()

    assert deliver_verification_code(code_id, plain) == "skipped"
    assert sent_nothing()


def test_the_task_refuses_to_send_a_code_that_does_not_match(
    ana: User, start: Callable[..., str]
) -> None:
    plain = start(ana, EMAIL)
    mail.outbox.clear()

    result = deliver_verification_code(VerificationCode.objects.get().pk, other_code(plain))

    assert result == "mismatch"
    assert sent_nothing()


def test_the_waiting_code_can_be_looked_up_after_a_reload(
    django_capture_on_commit_callbacks: Any,
) -> None:
    from rest_framework.test import APIClient

    user = UserFactory(email="lia@example.com")
    client = APIClient()
    client.force_authenticate(user)

    before = client.get("/api/v1/me/email/verification/")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/api/v1/me/email/verification/", {}, format="json")
    after = client.get("/api/v1/me/email/verification/")

    assert before.json() == {"pending": None}
    pending = after.json()["pending"]
    assert (pending["channel"], pending["target"]) == ("email", "li***@example.com")
    assert 59 <= pending["resend_in"] <= 60


def test_a_confirmed_code_does_not_hold_back_the_next_change(
    django_capture_on_commit_callbacks: Any,
) -> None:
    from django.core import mail

    user = UserFactory(email="lia@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        verification.verification_start(user=user, channel=EMAIL)
    plain = re.search(r"\b(\d{6})\b", mail.outbox[-1].subject).group(1)
    verification.verification_confirm(user=user, channel=EMAIL, plain_code=plain)

    with django_capture_on_commit_callbacks(execute=True):
        code = verification.verification_start(user=user, channel=EMAIL, target="new@example.com")

    assert code.target == "new@example.com"
