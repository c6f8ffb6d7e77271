"""The real BotConversa adapter against a local server that answers like BotConversa."""

from __future__ import annotations

import logging

import pytest

from crm.providers.botconversa import (
    BotConversaApi,
    BotConversaAuthError,
    BotConversaCredentials,
    BotConversaError,
    BotConversaPermanentError,
    BotConversaRetryableError,
)
from crm.tests.fake_botconversa import API_KEY, FakeBotConversa, fake_botconversa_fixture

__all__ = ["fake_botconversa_fixture"]


def credentials(fake: FakeBotConversa, key: str = API_KEY) -> BotConversaCredentials:
    return BotConversaCredentials(api_url=fake.url, api_key=key)


def test_it_looks_up_a_subscriber_by_its_e164_phone_url_encoded(
    fake_botconversa: FakeBotConversa,
) -> None:
    fake_botconversa.add_subscriber("+5511999998888", 77, "Ana")

    found = BotConversaApi().get_subscriber_by_phone(
        credentials(fake_botconversa), "+5511999998888"
    )

    assert found is not None
    assert found["id"] == "77"
    request = fake_botconversa.requests[0]
    assert (request.method, request.path) == (
        "GET",
        "/api/v1/webhook/subscriber/get_by_phone/%2B5511999998888/",
    )
    assert request.headers["api-key"] == API_KEY
    assert request.headers["accept"] == "application/json"
    assert request.body is None


def test_an_unknown_phone_is_none(fake_botconversa: FakeBotConversa) -> None:
    found = BotConversaApi().get_subscriber_by_phone(
        credentials(fake_botconversa), "+5511999998888"
    )

    assert found is None


def test_it_creates_a_subscriber_opted_in_to_whatsapp(fake_botconversa: FakeBotConversa) -> None:
    created = BotConversaApi().create_subscriber(
        credentials(fake_botconversa), phone="+5511999998888", first_name="Ana", last_name="Souza"
    )

    assert created["id"] == "500"
    request = fake_botconversa.requests[0]
    assert (request.method, request.path) == ("POST", "/api/v1/webhook/subscriber/")
    assert request.headers["content-type"] == "application/json"
    assert request.body == {
        "phone": "+5511999998888",
        "first_name": "Ana",
        "last_name": "Souza",
        "has_opt_in_whatsapp": True,
    }


def test_it_lists_tags_and_flows_as_ids_and_names(fake_botconversa: FakeBotConversa) -> None:
    api = BotConversaApi()

    tags = api.list_tags(credentials(fake_botconversa))
    flows = api.list_flows(credentials(fake_botconversa))

    assert tags == [{"id": "11", "name": "lead"}, {"id": "12", "name": "Qualificado"}]
    assert flows == [{"id": "21", "name": "Boas-vindas"}, {"id": "22", "name": "Proposta"}]
    assert fake_botconversa.calls() == [("GET", "tags/", None), ("GET", "flows/", None)]


def test_it_adds_a_tag_sends_a_message_and_starts_a_flow(
    fake_botconversa: FakeBotConversa,
) -> None:
    fake_botconversa.add_subscriber("+5511999998888", 77)
    api = BotConversaApi()

    api.add_tag(credentials(fake_botconversa), "77", "12")
    api.send_message(credentials(fake_botconversa), "77", "Olá, Ana!")
    api.send_flow(credentials(fake_botconversa), "77", "21")

    assert fake_botconversa.calls() == [
        ("POST", "subscriber/77/tags/12/", {}),
        ("POST", "subscriber/77/send_message/", {"type": "text", "value": "Olá, Ana!"}),
        ("POST", "subscriber/77/send_flow/", {"flow": 21}),
    ]
    assert {request.headers["api-key"] for request in fake_botconversa.requests} == {API_KEY}


def test_an_id_cannot_add_path_segments(fake_botconversa: FakeBotConversa) -> None:
    with pytest.raises(BotConversaPermanentError):
        BotConversaApi().send_message(credentials(fake_botconversa), "../tags", "x")

    assert fake_botconversa.calls() == [
        ("POST", "subscriber/..%2Ftags/send_message/", {"type": "text", "value": "x"})
    ]


def test_a_5xx_is_retryable(fake_botconversa: FakeBotConversa) -> None:
    fake_botconversa.answer_server_errors(1)

    with pytest.raises(BotConversaRetryableError) as raised:
        BotConversaApi().list_tags(credentials(fake_botconversa))

    assert raised.value.http_status == 500
    assert len(fake_botconversa.requests) == 1


def test_a_429_is_retryable(fake_botconversa: FakeBotConversa) -> None:
    fake_botconversa.answer(429)

    with pytest.raises(BotConversaRetryableError) as raised:
        BotConversaApi().list_flows(credentials(fake_botconversa))

    assert raised.value.http_status == 429


def test_a_wrong_key_is_an_auth_error(fake_botconversa: FakeBotConversa) -> None:
    with pytest.raises(BotConversaAuthError) as raised:
        BotConversaApi().list_tags(credentials(fake_botconversa, "wrong-key-123456"))

    assert raised.value.http_status == 401


def test_another_4xx_is_permanent(fake_botconversa: FakeBotConversa) -> None:
    with pytest.raises(BotConversaPermanentError) as raised:
        BotConversaApi().send_flow(credentials(fake_botconversa), "999", "21")

    assert raised.value.http_status == 404


def test_a_timeout_is_retryable(fake_botconversa: FakeBotConversa) -> None:
    fake_botconversa.answer_slowly(1.0)

    with pytest.raises(BotConversaRetryableError, match=r"did not answer within 0\.2 s"):
        BotConversaApi(timeout=0.2).list_tags(credentials(fake_botconversa))


def test_no_server_is_retryable() -> None:
    fake = FakeBotConversa()
    url = fake.url
    fake.stop()

    with pytest.raises(BotConversaRetryableError, match="Could not connect"):
        BotConversaApi().list_tags(BotConversaCredentials(api_url=url, api_key=API_KEY))


@pytest.mark.parametrize("status", [500, 401, 404])
def test_the_key_never_appears_in_errors_or_logs(
    fake_botconversa: FakeBotConversa, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    fake_botconversa.answer(status)
    caplog.set_level(logging.DEBUG)

    with pytest.raises(BotConversaError) as raised:
        BotConversaApi().send_message(credentials(fake_botconversa), "77", "Olá")

    assert API_KEY not in str(raised.value)
    assert API_KEY not in repr(raised.value)
    assert API_KEY not in caplog.text
    assert API_KEY not in repr(credentials(fake_botconversa))
