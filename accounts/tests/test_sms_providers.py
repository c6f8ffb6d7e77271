"""The SMS providers: the real Zenvia adapter against a local fake, and the sandbox."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from accounts.providers import sandbox
from accounts.providers.sandbox import SandboxSms
from accounts.providers.sms import (
    SmsError,
    SmsPermanentError,
    SmsResult,
    SmsTemporaryError,
    mask_phone,
)
from accounts.providers.zenvia import ZenviaSms
from accounts.tests.fake_zenvia import (
    FakeZenvia,
    fake_zenvia_fixture,  # noqa: F401  (the `fake_zenvia` fixture)
    message_id_for,
)
from core.providers import load_provider

TOKEN = "zv-test-token-7f3a9c"
SENDER = "atende"
PHONE = "+5511987654321"
MASKED_PHONE = "+55119****4321"
TEXT = "Atende: seu código de verificação é 482913"
KEY = "phone-verification-41"


@pytest.fixture
def slept() -> list[float]:
    """The backoff delays the adapter asked for, recorded instead of slept."""
    return []


@pytest.fixture
def zenvia(fake_zenvia: FakeZenvia, slept: list[float]) -> ZenviaSms:
    return ZenviaSms(api_token=TOKEN, sender=SENDER, api_url=fake_zenvia.url, sleep=slept.append)


@pytest.fixture(autouse=True)
def _empty_sandbox_outbox() -> Iterator[None]:
    sandbox.clear()
    yield
    sandbox.clear()


def _expected_body() -> dict[str, Any]:
    return {
        "from": SENDER,
        "to": "5511987654321",
        "contents": [{"type": "text", "text": TEXT}],
        "externalId": KEY,
    }


# --- Zenvia -------------------------------------------------------------------------------


def test_it_sends_one_request_in_zenvias_format_and_returns_the_message_id(
    zenvia: ZenviaSms, fake_zenvia: FakeZenvia, slept: list[float]
) -> None:
    result = zenvia.send(to=PHONE, text=TEXT, idempotency_key=KEY)

    assert result == SmsResult(provider_message_id=message_id_for(1), provider="zenvia")
    assert len(fake_zenvia.requests) == 1
    request = fake_zenvia.requests[0]
    assert request.method == "POST"
    assert request.path == "/v2/channels/sms/messages"
    assert request.headers["x-api-token"] == TOKEN
    assert request.headers["content-type"] == "application/json"
    assert request.body == _expected_body()
    assert slept == []


@pytest.mark.parametrize("status", [401, 403])
def test_it_does_not_retry_when_zenvia_refuses_the_credentials(
    zenvia: ZenviaSms, fake_zenvia: FakeZenvia, slept: list[float], status: int
) -> None:
    fake_zenvia.answer(status, {"code": "AUTHENTICATION_ERROR", "message": "Invalid API token"})

    with pytest.raises(SmsPermanentError) as raised:
        zenvia.send(to=PHONE, text=TEXT, idempotency_key=KEY)

    assert raised.value.code == "auth"
    assert raised.value.http_status == status
    assert (
        str(raised.value) == f"Zenvia refused the API token (HTTP {status}, AUTHENTICATION_ERROR)."
    )
    assert len(fake_zenvia.requests) == 1
    assert slept == []


@pytest.mark.parametrize("status", [400, 422])
def test_it_does_not_retry_a_message_zenvia_calls_invalid(
    zenvia: ZenviaSms, fake_zenvia: FakeZenvia, slept: list[float], status: int
) -> None:
    fake_zenvia.answer(status, {"code": "VALIDATION_ERROR", "message": "Validation error"})

    with pytest.raises(SmsPermanentError) as raised:
        zenvia.send(to=PHONE, text=TEXT, idempotency_key=KEY)

    assert raised.value.code == "invalid_request"
    assert raised.value.http_status == status
    assert len(fake_zenvia.requests) == 1
    assert slept == []


def test_it_retries_server_errors_and_succeeds_on_the_third_attempt(
    zenvia: ZenviaSms, fake_zenvia: FakeZenvia, slept: list[float]
) -> None:
    fake_zenvia.answer_server_errors(2)

    result = zenvia.send(to=PHONE, text=TEXT, idempotency_key=KEY)

    assert result == SmsResult(provider_message_id=message_id_for(1), provider="zenvia")
    assert len(fake_zenvia.requests) == 3
    # Every attempt is the same message with the same externalId, so Zenvia can dedupe.
    assert [request.body for request in fake_zenvia.requests] == [_expected_body()] * 3
    assert slept == [0.2, 0.5]


def test_it_gives_up_after_three_server_errors(
    zenvia: ZenviaSms, fake_zenvia: FakeZenvia, slept: list[float]
) -> None:
    fake_zenvia.answer_server_errors(3)

    with pytest.raises(SmsTemporaryError) as raised:
        zenvia.send(to=PHONE, text=TEXT, idempotency_key=KEY)

    assert raised.value.code == "server_error"
    assert raised.value.http_status == 500
    assert str(raised.value) == "Zenvia failed (HTTP 500, INTERNAL_ERROR)."
    assert len(fake_zenvia.requests) == 3
    assert slept == [0.2, 0.5]


def test_retry_delays_are_configurable(fake_zenvia: FakeZenvia, slept: list[float]) -> None:
    zenvia = ZenviaSms(
        api_token=TOKEN,
        sender=SENDER,
        api_url=fake_zenvia.url,
        retry_delays=[0.01],
        sleep=slept.append,
    )
    fake_zenvia.answer_server_errors(3)

    with pytest.raises(SmsTemporaryError):
        zenvia.send(to=PHONE, text=TEXT, idempotency_key=KEY)

    assert len(fake_zenvia.requests) == 2
    assert slept == [0.01]


def test_an_unreachable_zenvia_is_a_temporary_error_after_the_retries(
    zenvia: ZenviaSms, fake_zenvia: FakeZenvia, slept: list[float]
) -> None:
    fake_zenvia.stop()

    with pytest.raises(SmsTemporaryError) as raised:
        zenvia.send(to=PHONE, text=TEXT, idempotency_key=KEY)

    assert raised.value.code == "connection_error"
    assert raised.value.http_status is None
    assert str(raised.value) == "Could not connect to Zenvia (ConnectionRefusedError)."
    assert fake_zenvia.requests == []
    assert slept == [0.2, 0.5]


def test_rate_limiting_is_a_temporary_error_without_retry(
    zenvia: ZenviaSms, fake_zenvia: FakeZenvia, slept: list[float]
) -> None:
    fake_zenvia.answer(429, {"code": "TOO_MANY_REQUESTS", "message": "Too many requests"})

    with pytest.raises(SmsTemporaryError) as raised:
        zenvia.send(to=PHONE, text=TEXT, idempotency_key=KEY)

    assert raised.value.code == "rate_limited"
    assert raised.value.http_status == 429
    assert len(fake_zenvia.requests) == 1
    assert slept == []


def test_a_slow_zenvia_is_a_temporary_error_without_retry(
    fake_zenvia: FakeZenvia, slept: list[float]
) -> None:
    zenvia = ZenviaSms(
        api_token=TOKEN, sender=SENDER, api_url=fake_zenvia.url, timeout=0.2, sleep=slept.append
    )
    fake_zenvia.answer_slowly(1.0)

    with pytest.raises(SmsTemporaryError) as raised:
        zenvia.send(to=PHONE, text=TEXT, idempotency_key=KEY)

    assert raised.value.code == "timeout"
    assert str(raised.value) == "Zenvia did not answer within 0.2 s."
    assert len(fake_zenvia.requests) == 1
    assert slept == []


def test_an_answer_without_a_message_id_is_a_temporary_error(
    zenvia: ZenviaSms, fake_zenvia: FakeZenvia
) -> None:
    fake_zenvia.answer(200, {"status": "queued"})

    with pytest.raises(SmsTemporaryError) as raised:
        zenvia.send(to=PHONE, text=TEXT, idempotency_key=KEY)

    assert raised.value.code == "bad_response"
    assert len(fake_zenvia.requests) == 1


@pytest.mark.parametrize("phone", ["11987654321", "5511987654321", "+55 11 98765-4321", ""])
def test_it_refuses_a_number_that_is_not_e164_without_calling_zenvia(
    zenvia: ZenviaSms, fake_zenvia: FakeZenvia, phone: str
) -> None:
    with pytest.raises(SmsPermanentError) as raised:
        zenvia.send(to=phone, text=TEXT, idempotency_key=KEY)

    assert raised.value.code == "invalid_request"
    assert fake_zenvia.requests == []


def test_the_token_and_the_text_never_reach_logs_or_exceptions(
    zenvia: ZenviaSms, fake_zenvia: FakeZenvia, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # Zenvia's own error message may quote the request back; it must not be passed on.
    fake_zenvia.answer(400, {"code": "VALIDATION_ERROR", "message": f"Bad text: {TEXT}"})
    fake_zenvia.answer_unauthorized()
    fake_zenvia.answer_server_errors(3)
    raised: list[SmsError] = []

    for _ in range(3):
        with pytest.raises((SmsPermanentError, SmsTemporaryError)) as failure:
            zenvia.send(to=PHONE, text=TEXT, idempotency_key=KEY)
        raised.append(failure.value)
    zenvia.send(to=PHONE, text=TEXT, idempotency_key=KEY)
    fake_zenvia.stop()
    with pytest.raises(SmsTemporaryError) as failure:
        zenvia.send(to=PHONE, text=TEXT, idempotency_key=KEY)
    raised.append(failure.value)

    assert len(fake_zenvia.requests) == 6
    assert [error.code for error in raised] == [
        "invalid_request",
        "auth",
        "server_error",
        "connection_error",
    ]
    for error in raised:
        for secret in (TOKEN, TEXT, "482913", PHONE):
            assert secret not in str(error)
            assert secret not in repr(error)
    assert caplog.records != []
    for secret in (TOKEN, TEXT, "482913", PHONE):
        assert secret not in caplog.text
    assert MASKED_PHONE in caplog.text


def test_load_provider_returns_the_zenvia_adapter_and_it_reads_settings_at_send_time(
    settings: Any, fake_zenvia: FakeZenvia
) -> None:
    settings.PROVIDERS = {"accounts.sms": "accounts.providers.zenvia.ZenviaSms"}
    settings.ZENVIA_API_URL = fake_zenvia.url
    settings.ZENVIA_API_TOKEN = TOKEN
    settings.ZENVIA_SMS_FROM = SENDER
    provider = load_provider("accounts.sms")

    first = provider.send(to=PHONE, text=TEXT, idempotency_key=KEY)
    settings.ZENVIA_API_TOKEN = "zv-rotated-token"
    second = provider.send(to=PHONE, text=TEXT, idempotency_key="phone-verification-42")

    assert isinstance(provider, ZenviaSms)
    assert first == SmsResult(provider_message_id=message_id_for(1), provider="zenvia")
    assert second == SmsResult(provider_message_id=message_id_for(2), provider="zenvia")
    assert [request.headers["x-api-token"] for request in fake_zenvia.requests] == [
        TOKEN,
        "zv-rotated-token",
    ]
    assert fake_zenvia.requests[0].body == _expected_body()


@pytest.mark.parametrize("missing", ["ZENVIA_API_TOKEN", "ZENVIA_SMS_FROM"])
def test_missing_credentials_are_a_configuration_error(
    settings: Any, fake_zenvia: FakeZenvia, missing: str
) -> None:
    settings.ZENVIA_API_URL = fake_zenvia.url
    settings.ZENVIA_API_TOKEN = TOKEN
    settings.ZENVIA_SMS_FROM = SENDER
    setattr(settings, missing, "")

    with pytest.raises(ImproperlyConfigured, match="ZENVIA_API_TOKEN and ZENVIA_SMS_FROM"):
        ZenviaSms().send(to=PHONE, text=TEXT, idempotency_key=KEY)

    assert fake_zenvia.requests == []


def test_a_non_http_api_url_is_a_configuration_error(fake_zenvia: FakeZenvia) -> None:
    zenvia = ZenviaSms(api_token=TOKEN, sender=SENDER, api_url="file:///etc")

    with pytest.raises(ImproperlyConfigured, match="ZENVIA_API_URL must be an http"):
        zenvia.send(to=PHONE, text=TEXT, idempotency_key=KEY)


# --- Sandbox ------------------------------------------------------------------------------


def test_the_sandbox_keeps_each_message_in_the_outbox() -> None:
    provider = SandboxSms()

    first = provider.send(to=PHONE, text="code 111111", idempotency_key="k1")
    second = provider.send(to="+5521912345678", text="code 222222", idempotency_key="k2")
    third = provider.send(to=PHONE, text="code 333333", idempotency_key="k3")

    assert [(m.to, m.text, m.idempotency_key) for m in sandbox.outbox()] == [
        (PHONE, "code 111111", "k1"),
        ("+5521912345678", "code 222222", "k2"),
        (PHONE, "code 333333", "k3"),
    ]
    assert [m.provider_message_id for m in sandbox.outbox()] == [
        first.provider_message_id,
        second.provider_message_id,
        third.provider_message_id,
    ]
    assert len({first.provider_message_id, second.provider_message_id}) == 2
    assert first.provider == "sandbox"
    assert sandbox.last_text_to(PHONE) == "code 333333"
    assert sandbox.last_text_to("+5521912345678") == "code 222222"
    assert sandbox.last_text_to("+5531900000000") is None


def test_clearing_the_sandbox_empties_the_outbox() -> None:
    SandboxSms().send(to=PHONE, text=TEXT, idempotency_key=KEY)

    sandbox.clear()

    assert sandbox.outbox() == []
    assert sandbox.last_text_to(PHONE) is None


def test_the_outbox_returned_is_a_copy() -> None:
    SandboxSms().send(to=PHONE, text=TEXT, idempotency_key=KEY)

    sandbox.outbox().clear()

    assert len(sandbox.outbox()) == 1


def test_the_sandbox_keeps_every_message_sent_from_many_threads() -> None:
    provider = SandboxSms()

    def send_many(thread: int) -> None:
        for number in range(50):
            provider.send(to=PHONE, text=f"{thread}-{number}", idempotency_key=f"{thread}-{number}")

    threads = [threading.Thread(target=send_many, args=(thread,)) for thread in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(sandbox.outbox()) == 400
    assert len({message.idempotency_key for message in sandbox.outbox()}) == 400


def test_the_sandbox_logs_the_text_for_the_developer_when_debug_is_on(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.DEBUG = True
    caplog.set_level(logging.INFO, logger="accounts.providers.sandbox")

    SandboxSms().send(to=PHONE, text=TEXT, idempotency_key=KEY)

    assert [record.getMessage() for record in caplog.records] == [f"SMS to {MASKED_PHONE}: {TEXT}"]


def test_the_sandbox_does_not_log_the_text_when_debug_is_off(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.DEBUG = False
    caplog.set_level(logging.DEBUG)

    SandboxSms().send(to=PHONE, text=TEXT, idempotency_key=KEY)

    assert [record.getMessage() for record in caplog.records] == [
        f"SMS to {MASKED_PHONE} kept in the sandbox outbox"
    ]
    assert sandbox.last_text_to(PHONE) == TEXT


def test_the_sandbox_refuses_a_number_that_is_not_e164() -> None:
    with pytest.raises(SmsPermanentError) as raised:
        SandboxSms().send(to="11987654321", text=TEXT, idempotency_key=KEY)

    assert raised.value.code == "invalid_request"
    assert sandbox.outbox() == []


def test_load_provider_returns_the_sandbox_when_configured(settings: Any) -> None:
    settings.PROVIDERS = {"accounts.sms": "accounts.providers.sandbox.SandboxSms"}

    assert isinstance(load_provider("accounts.sms"), SandboxSms)


# --- Masking ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("+5511987654321", "+55119****4321"),
        ("+551133334444", "+55113***4444"),
        ("+14155550100", "+14155**0100"),
        ("+123456789", "********89"),
    ],
)
def test_a_phone_number_is_masked_for_logs(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked
