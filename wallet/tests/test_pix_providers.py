"""The PIX providers: the real API Pix adapter against a local mutual-TLS PSP, the sandbox,
and the parsing of the PSP's webhook payload."""

from __future__ import annotations

import base64
import datetime
import logging
import re
import ssl
import threading
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from core.providers import load_provider
from wallet import brcode
from wallet.providers import sandbox
from wallet.providers.bacen import BacenPix
from wallet.providers.pix import (
    ChargeStatus,
    PayoutResult,
    PayoutStatus,
    PixError,
    PixPermanentError,
    PixReceived,
    PixTemporaryError,
    ProviderCharge,
)
from wallet.providers.pix_payload import (
    format_valor,
    parse_horario,
    parse_valor,
    parse_webhook_payload,
)
from wallet.providers.sandbox import SandboxPix
from wallet.tests.fake_psp import (
    CLIENT_ID,
    CLIENT_SECRET,
    CREATED_AT,
    RECEIVER_KEY,
    WEBHOOK_SECRET,
    FakePsp,
    PspCertificates,
    br_code_for,
    end_to_end_id_for,
    fake_psp_fixture,  # noqa: F401  (the `fake_psp` fixture)
    location_for,
    psp_certificates_fixture,  # noqa: F401  (the `psp_certificates` fixture)
)

TXID = "AtendeRecarga7f3a9c1d2e4b5a6"
OTHER_TXID = "AtendeRecarga000000000000000"
WEBHOOK_URL = f"https://atende.example/api/wallet/pix/webhook/{WEBHOOK_SECRET}"
BASIC = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
UTC = datetime.UTC
BRT = datetime.timezone(datetime.timedelta(hours=-3))


@pytest.fixture
def slept() -> list[float]:
    """The backoff delays the adapter asked for, recorded instead of slept."""
    return []


@pytest.fixture
def adapter(fake_psp: FakePsp, slept: list[float]) -> BacenPix:
    return BacenPix(sleep=slept.append)


@pytest.fixture(autouse=True)
def _empty_sandbox() -> Iterator[None]:
    sandbox.clear()
    yield
    sandbox.clear()


def _create(provider: BacenPix | SandboxPix, txid: str = TXID) -> ProviderCharge:
    return provider.create_charge(
        txid=txid, amount_centavos=1990, expires_in=3600, description="Atende: 20 tokens"
    )


def _charge_body(description: str = "Atende: 20 tokens") -> dict[str, Any]:
    return {
        "calendario": {"expiracao": 3600},
        "valor": {"original": "19.90"},
        "chave": RECEIVER_KEY,
        "solicitacaoPagador": description,
    }


def _expected_charge(**changes: Any) -> ProviderCharge:
    values: dict[str, Any] = {
        "txid": TXID,
        "status": ChargeStatus.ACTIVE,
        "amount_centavos": 1990,
        "br_code": br_code_for(TXID),
        "location": location_for(TXID),
        "created_at": datetime.datetime(2024, 5, 2, 13, 4, 5, 123000, tzinfo=UTC),
        "expires_in": 3600,
        "payments": (),
    }
    return ProviderCharge(**{**values, **changes})


def _calls(fake: FakePsp) -> list[tuple[str, str]]:
    return [(request.method, request.path) for request in fake.requests]


TOKEN_CALL = ("POST", "/oauth/token")
CREATE_CALL = ("PUT", f"/v2/cob/{TXID}")
READ_CALL = ("GET", f"/v2/cob/{TXID}")


# --- Token --------------------------------------------------------------------------------


def test_it_asks_for_a_token_with_basic_auth_and_the_client_credentials_grant(
    adapter: BacenPix, fake_psp: FakePsp
) -> None:
    _create(adapter)

    assert _calls(fake_psp) == [TOKEN_CALL, CREATE_CALL]
    token_request = fake_psp.requests[0]
    assert token_request.headers["authorization"] == f"Basic {BASIC}"
    assert token_request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert token_request.body == {"grant_type": "client_credentials"}
    assert fake_psp.requests[1].headers["authorization"] == "Bearer fake-token-1"


def test_it_reuses_the_token_across_calls(adapter: BacenPix, fake_psp: FakePsp) -> None:
    _create(adapter)
    adapter.get_charge(TXID)
    adapter.register_webhook(WEBHOOK_URL)

    assert fake_psp.issued_tokens == ["fake-token-1"]
    assert [call for call in _calls(fake_psp) if call == TOKEN_CALL] == [TOKEN_CALL]
    assert fake_psp.bearer_tokens() == ["fake-token-1"] * 3


def test_it_renews_the_token_after_a_401_and_repeats_the_call_once(
    adapter: BacenPix, fake_psp: FakePsp, slept: list[float]
) -> None:
    _create(adapter)
    fake_psp.expire_tokens()

    charge = adapter.get_charge(TXID)

    assert charge == _expected_charge()
    assert _calls(fake_psp) == [TOKEN_CALL, CREATE_CALL, READ_CALL, TOKEN_CALL, READ_CALL]
    assert fake_psp.bearer_tokens() == ["fake-token-1", "fake-token-1", "fake-token-2"]
    # A renewal is not a retry: it costs no attempt and no backoff.
    assert slept == []


def test_a_second_401_after_renewing_the_token_is_a_permanent_auth_error(
    adapter: BacenPix, fake_psp: FakePsp, slept: list[float]
) -> None:
    fake_psp.fail_next(401, {"title": "Não autorizado", "status": 401}, times=2)

    with pytest.raises(PixPermanentError) as raised:
        _create(adapter)

    assert raised.value.code == "auth"
    assert raised.value.http_status == 401
    assert str(raised.value) == "The PSP refused to create the charge (HTTP 401): Não autorizado"
    assert _calls(fake_psp) == [TOKEN_CALL, CREATE_CALL, TOKEN_CALL, CREATE_CALL]
    assert fake_psp.charges == {}
    assert slept == []


def test_it_renews_the_token_a_minute_before_the_psp_says_it_expires(
    fake_psp: FakePsp,
) -> None:
    now = [1000.0]
    adapter = BacenPix(sleep=lambda seconds: None, clock=lambda: now[0])
    _create(adapter)

    now[0] = 1000.0 + 3600 - 60 - 0.001
    adapter.get_charge(TXID)
    now[0] = 1000.0 + 3600 - 60
    adapter.get_charge(TXID)

    assert fake_psp.issued_tokens == ["fake-token-1", "fake-token-2"]
    assert fake_psp.bearer_tokens() == ["fake-token-1", "fake-token-1", "fake-token-2"]


def test_threads_whose_token_ran_out_together_share_one_new_token(
    adapter: BacenPix, fake_psp: FakePsp
) -> None:
    _create(adapter)
    fake_psp.expire_tokens()
    start = threading.Barrier(8)
    charges: list[ProviderCharge] = []

    def read() -> None:
        start.wait()
        charges.append(adapter.get_charge(TXID))

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert charges == [_expected_charge()] * 8
    # Each thread may see its old token refused once, but only one asks for a new one.
    assert fake_psp.issued_tokens == ["fake-token-1", "fake-token-2"]
    assert fake_psp.bearer_tokens()[-1] == "fake-token-2"


def test_the_psp_refusing_our_credentials_is_a_permanent_auth_error(
    adapter: BacenPix, fake_psp: FakePsp, settings: Any, slept: list[float]
) -> None:
    settings.PIX_CLIENT_SECRET = "not-the-secret"

    with pytest.raises(PixPermanentError) as raised:
        _create(adapter)

    assert raised.value.code == "auth"
    assert raised.value.http_status == 401
    assert str(raised.value) == (
        "The PSP refused to issue an access token (HTTP 401): invalid_client; Invalid credentials"
    )
    assert _calls(fake_psp) == [TOKEN_CALL]
    assert slept == []


def test_a_failing_token_endpoint_is_retried_like_any_call(
    adapter: BacenPix, fake_psp: FakePsp, slept: list[float]
) -> None:
    fake_psp.fail_next(503, on="token")

    charge = _create(adapter)

    assert charge == _expected_charge()
    assert _calls(fake_psp) == [TOKEN_CALL, TOKEN_CALL, CREATE_CALL]
    assert slept == [0.2]


# --- Charges ------------------------------------------------------------------------------


def test_it_creates_a_charge_with_the_documented_body_and_returns_the_psps_answer(
    adapter: BacenPix, fake_psp: FakePsp
) -> None:
    charge = _create(adapter)

    assert charge == _expected_charge()
    request = fake_psp.requests[1]
    assert (request.method, request.path) == CREATE_CALL
    assert request.headers["content-type"] == "application/json"
    assert request.body == _charge_body()
    assert fake_psp.charges[TXID]["calendario"] == {"criacao": CREATED_AT, "expiracao": 3600}


def test_a_charge_without_description_sends_no_solicitacao_pagador(
    adapter: BacenPix, fake_psp: FakePsp
) -> None:
    adapter.create_charge(txid=TXID, amount_centavos=5, expires_in=60, description="")

    assert fake_psp.requests[1].body == {
        "calendario": {"expiracao": 60},
        "valor": {"original": "0.05"},
        "chave": RECEIVER_KEY,
    }


def test_without_pix_copia_e_cola_the_br_code_is_built_from_the_location(
    adapter: BacenPix, fake_psp: FakePsp, settings: Any
) -> None:
    settings.PIX_MERCHANT_NAME = "Atende"
    settings.PIX_MERCHANT_CITY = "SAO PAULO"
    fake_psp.omit_copia_e_cola = True

    charge = _create(adapter)

    assert brcode.parse(charge.br_code) == brcode.BrCode(
        location=location_for(TXID),
        merchant_name="Atende",
        merchant_city="SAO PAULO",
        one_time=True,
    )
    assert charge == _expected_charge(br_code=charge.br_code)


def test_it_reads_the_payments_of_a_paid_charge(adapter: BacenPix, fake_psp: FakePsp) -> None:
    _create(adapter)
    first = fake_psp.pay(TXID)
    second = fake_psp.pay(
        TXID,
        valor="0.10",
        end_to_end_id="E12345678202405021400abcdef12345",
        horario="2024-05-02T17:00:01Z",
    )

    charge = adapter.get_charge(TXID)

    assert charge == _expected_charge(
        status=ChargeStatus.COMPLETED,
        payments=(
            PixReceived(
                end_to_end_id=end_to_end_id_for(TXID),
                txid=TXID,
                amount_centavos=1990,
                paid_at=datetime.datetime(2024, 5, 2, 10, 15, 0, 358000, tzinfo=BRT),
                raw=first,
            ),
            PixReceived(
                end_to_end_id="E12345678202405021400abcdef12345",
                txid=TXID,
                amount_centavos=10,
                paid_at=datetime.datetime(2024, 5, 2, 17, 0, 1, tzinfo=UTC),
                raw=second,
            ),
        ),
    )
    assert charge.payments[0].paid_at == datetime.datetime(
        2024, 5, 2, 13, 15, 0, 358000, tzinfo=UTC
    )


def test_reading_an_unknown_charge_is_a_permanent_error_in_the_psps_words(
    adapter: BacenPix, fake_psp: FakePsp, slept: list[float]
) -> None:
    with pytest.raises(PixPermanentError) as raised:
        adapter.get_charge(OTHER_TXID)

    assert raised.value.code == "not_found"
    assert raised.value.http_status == 404
    assert str(raised.value) == (
        "The PSP refused to read the charge (HTTP 404): Cobrança não encontrada.; "
        "Cobrança não encontrada para o txid informado."
    )
    assert slept == []


def test_a_refused_charge_reports_the_psps_violations(
    adapter: BacenPix, fake_psp: FakePsp, slept: list[float]
) -> None:
    # The API Pix's own example of a refused cob (RequisicaoInvalidaCobExample1).
    fake_psp.fail_next(
        400,
        {
            "type": "https://pix.bcb.gov.br/api/v2/error/CobOperacaoInvalida",
            "title": "Cobrança inválida.",
            "status": 400,
            "detail": "A requisição que busca alterar ou criar uma cobrança para pagamento "
            "imediato não respeita o _schema_ ou está semanticamente errada.",
            "violacoes": [
                {
                    "razao": "O campo cob.valor.original não respeita o _schema_.",
                    "propriedade": "cob.valor.original",
                }
            ],
        },
    )

    with pytest.raises(PixPermanentError) as raised:
        _create(adapter)

    assert raised.value.code == "invalid_request"
    assert str(raised.value) == (
        "The PSP refused to create the charge (HTTP 400): Cobrança inválida.; A requisição "
        "que busca alterar ou criar uma cobrança para pagamento imediato não respeita o "
        "_schema_ ou está semanticamente errada.; cob.valor.original: O campo "
        "cob.valor.original não respeita o _schema_."
    )
    assert _calls(fake_psp) == [TOKEN_CALL, CREATE_CALL]
    assert slept == []


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ({"txid": TXID, "status": "ATIVA"}, "valor.original must be a string"),
        (
            {
                "txid": OTHER_TXID,
                "status": "ATIVA",
                "valor": {"original": "19.90"},
                "calendario": {"criacao": CREATED_AT, "expiracao": 3600},
                "pixCopiaECola": "000201",
            },
            "txid is 'AtendeRecarga000000000000000', not the one asked for",
        ),
        (
            {
                "txid": TXID,
                "status": "PAGA",
                "valor": {"original": "19.90"},
                "calendario": {"criacao": CREATED_AT, "expiracao": 3600},
            },
            "'PAGA' is not a valid ChargeStatus",
        ),
        (
            {
                "txid": TXID,
                "status": "ATIVA",
                "valor": {"original": "19.90"},
                "calendario": {"criacao": CREATED_AT, "expiracao": 3600},
            },
            "an active charge has neither pixCopiaECola nor location",
        ),
    ],
)
def test_a_charge_answer_we_cannot_read_is_a_temporary_error(
    adapter: BacenPix, fake_psp: FakePsp, answer: dict[str, Any], problem: str
) -> None:
    fake_psp.fail_next(201, answer)

    with pytest.raises(PixTemporaryError) as raised:
        _create(adapter)

    assert raised.value.code == "bad_response"
    assert problem in str(raised.value)
    assert _calls(fake_psp) == [TOKEN_CALL, CREATE_CALL]


# --- Webhook ------------------------------------------------------------------------------


def test_it_registers_the_webhook_for_the_url_encoded_receiver_key(
    adapter: BacenPix, fake_psp: FakePsp
) -> None:
    adapter.register_webhook(WEBHOOK_URL)

    request = fake_psp.requests[1]
    assert (request.method, request.path) == (
        "PUT",
        "/v2/webhook/pix%2Brecebimentos%40atende.com.br",
    )
    assert request.body == {"webhookUrl": WEBHOOK_URL}
    assert fake_psp.webhooks == {RECEIVER_KEY: WEBHOOK_URL}


@pytest.mark.parametrize(
    "url", ["http://atende.example/api/wallet/pix/webhook/x", "atende.example/webhook", ""]
)
def test_a_webhook_url_that_is_not_https_is_refused_without_calling_the_psp(
    adapter: BacenPix, fake_psp: FakePsp, url: str
) -> None:
    with pytest.raises(PixPermanentError) as raised:
        adapter.register_webhook(url)

    assert raised.value.code == "invalid_request"
    assert fake_psp.requests == []


# --- Temporary failures -------------------------------------------------------------------


def test_it_retries_server_errors_and_succeeds_on_the_third_attempt(
    adapter: BacenPix, fake_psp: FakePsp, slept: list[float]
) -> None:
    fake_psp.fail_next(503, times=2)

    charge = _create(adapter)

    assert charge == _expected_charge()
    assert _calls(fake_psp) == [TOKEN_CALL, CREATE_CALL, CREATE_CALL, CREATE_CALL]
    # Every attempt is the same PUT on the same txid, so the PSP cannot create two charges.
    assert [request.body for request in fake_psp.requests[1:]] == [_charge_body()] * 3
    assert slept == [0.2, 0.5]


def test_it_gives_up_after_three_server_errors(
    adapter: BacenPix, fake_psp: FakePsp, slept: list[float]
) -> None:
    fake_psp.fail_next(500, times=3)

    with pytest.raises(PixTemporaryError) as raised:
        _create(adapter)

    assert raised.value.code == "server_error"
    assert raised.value.http_status == 500
    assert str(raised.value) == (
        "The PSP failed to create the charge (HTTP 500): Serviço Indisponível; "
        "Serviço não está disponível no momento."
    )
    assert _calls(fake_psp) == [TOKEN_CALL, CREATE_CALL, CREATE_CALL, CREATE_CALL]
    assert fake_psp.charges == {}
    assert slept == [0.2, 0.5]


def test_rate_limiting_is_retried_then_a_temporary_error(
    adapter: BacenPix, fake_psp: FakePsp, slept: list[float]
) -> None:
    fake_psp.fail_next(429, {"title": "Too Many Requests", "status": 429}, times=3)

    with pytest.raises(PixTemporaryError) as raised:
        adapter.get_charge(TXID)

    assert raised.value.code == "rate_limited"
    assert raised.value.http_status == 429
    assert _calls(fake_psp) == [TOKEN_CALL, READ_CALL, READ_CALL, READ_CALL]
    assert slept == [0.2, 0.5]


def test_retry_delays_are_configurable(fake_psp: FakePsp, slept: list[float]) -> None:
    adapter = BacenPix(retry_delays=[0.01], sleep=slept.append)
    fake_psp.fail_next(502, times=3)

    with pytest.raises(PixTemporaryError):
        _create(adapter)

    assert _calls(fake_psp) == [TOKEN_CALL, CREATE_CALL, CREATE_CALL]
    assert slept == [0.01]


def test_an_unreachable_psp_is_a_temporary_error_after_the_retries(
    adapter: BacenPix, fake_psp: FakePsp, slept: list[float]
) -> None:
    fake_psp.stop()

    with pytest.raises(PixTemporaryError) as raised:
        _create(adapter)

    assert raised.value.code == "connection_error"
    assert raised.value.http_status is None
    assert str(raised.value) == (
        "Could not connect to the PSP to issue an access token (ConnectionRefusedError)."
    )
    assert fake_psp.requests == []
    assert slept == [0.2, 0.5]


def test_a_slow_psp_is_a_temporary_error(fake_psp: FakePsp, slept: list[float]) -> None:
    adapter = BacenPix(timeout=0.2, retry_delays=[], sleep=slept.append)
    fake_psp.answer_slowly(1.0)

    with pytest.raises(PixTemporaryError) as raised:
        _create(adapter)

    assert raised.value.code == "timeout"
    assert str(raised.value) == (
        "The PSP did not answer within 0.2 s when asked to create the charge."
    )
    assert _calls(fake_psp) == [TOKEN_CALL, CREATE_CALL]
    assert slept == []


# --- Secrets ------------------------------------------------------------------------------


def test_secrets_never_reach_errors_or_logs_even_when_the_psp_quotes_them(
    adapter: BacenPix, fake_psp: FakePsp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    raised: list[PixError] = []
    # A PSP quoting our credentials, our token and our webhook URL back at us.
    fake_psp.fail_next(
        401,
        {"error": "invalid_client", "error_description": f"bad {CLIENT_ID}:{CLIENT_SECRET}"},
        on="token",
    )
    fake_psp.fail_next(
        400,
        {"title": "Webhook inválido.", "detail": f"webhookUrl {WEBHOOK_URL} recusada"},
    )
    fake_psp.fail_next(500, {"detail": "token fake-token-1 expirado"}, times=3)

    for call in (
        lambda: adapter.register_webhook(WEBHOOK_URL),
        lambda: adapter.register_webhook(WEBHOOK_URL),
        lambda: adapter.get_charge(TXID),
    ):
        with pytest.raises(PixError) as failure:
            call()
        raised.append(failure.value)

    assert [str(error) for error in raised] == [
        "The PSP refused to issue an access token (HTTP 401): invalid_client; "
        "bad [redacted]:[redacted]",
        "The PSP refused to register the webhook (HTTP 400): Webhook inválido.; "
        "webhookUrl [redacted] recusada",
        "The PSP failed to read the charge (HTTP 500): token [redacted] expirado",
    ]
    assert caplog.records != []
    for secret in (CLIENT_SECRET, WEBHOOK_SECRET, "fake-token-1", BASIC):
        assert secret not in caplog.text
        for error in raised:
            assert secret not in str(error)
            assert secret not in repr(error)


# --- Mutual TLS ---------------------------------------------------------------------------


def test_the_psp_refuses_a_client_without_a_certificate(
    fake_psp: FakePsp, psp_certificates: PspCertificates
) -> None:
    trusting_only = ssl.create_default_context(cafile=str(psp_certificates.ca_file))
    with_certificate = ssl.create_default_context(cafile=str(psp_certificates.ca_file))
    with_certificate.load_cert_chain(
        psp_certificates.client_cert_file, psp_certificates.client_key_file
    )

    def token_request(context: ssl.SSLContext) -> int:
        request = urllib.request.Request(
            f"{fake_psp.url}/oauth/token",
            data=b"grant_type=client_credentials",
            headers={"Authorization": f"Basic {BASIC}"},
        )
        with urllib.request.urlopen(request, context=context, timeout=5) as response:
            return response.status

    with pytest.raises(OSError):
        token_request(trusting_only)
    refused = fake_psp.wait_for_refused_handshakes(1)
    requests_without_certificate = list(fake_psp.requests)
    status_with_certificate = token_request(with_certificate)

    assert refused == 1
    assert requests_without_certificate == []
    # The same request with the certificate gets through: the refusal was the certificate.
    assert status_with_certificate == 200
    assert _calls(fake_psp) == [TOKEN_CALL]


def test_the_psp_refuses_the_adapter_with_another_cas_certificate(
    adapter: BacenPix,
    fake_psp: FakePsp,
    psp_certificates: PspCertificates,
    settings: Any,
    slept: list[float],
) -> None:
    settings.PIX_CERT_FILE = str(psp_certificates.stranger_cert_file)
    settings.PIX_KEY_FILE = str(psp_certificates.stranger_key_file)

    with pytest.raises(PixTemporaryError) as raised:
        _create(adapter)

    assert raised.value.code == "connection_error"
    assert fake_psp.wait_for_refused_handshakes(3) == 3
    assert fake_psp.requests == []
    assert slept == [0.2, 0.5]


def test_the_adapter_refuses_a_psp_whose_certificate_it_does_not_trust(
    adapter: BacenPix,
    fake_psp: FakePsp,
    psp_certificates: PspCertificates,
    settings: Any,
    slept: list[float],
) -> None:
    settings.PIX_CA_FILE = str(psp_certificates.other_ca_file)

    with pytest.raises(PixPermanentError) as raised:
        _create(adapter)

    assert raised.value.code == "tls"
    assert str(raised.value).startswith("The PSP's TLS certificate is not trusted (")
    assert fake_psp.requests == []
    # Not a blip: an untrusted server is not retried, and our secret was never sent to it.
    assert slept == []


# --- Payouts ------------------------------------------------------------------------------


def test_it_sends_a_pix_with_the_documented_body(adapter: BacenPix, fake_psp: FakePsp) -> None:
    result = adapter.send_pix(
        payout_id="Repasse42",
        amount_centavos=12345,
        key="(11) 98765-4321",
        key_type="phone",
        description="Atende: repasse de abril",
    )

    assert result == PayoutResult(
        status=PayoutStatus.SENT,
        provider_reference="Repasse42",
        end_to_end_id=end_to_end_id_for("Repasse42"),
    )
    request = fake_psp.requests[1]
    assert (request.method, request.path) == ("PUT", "/v3/gn/pix/Repasse42")
    assert request.headers["authorization"] == "Bearer fake-token-1"
    # The key goes out as the DICT stores it, whatever way it was typed.
    assert request.body == {
        "valor": "123.45",
        "pagador": {"chave": RECEIVER_KEY, "infoPagador": "Atende: repasse de abril"},
        "favorecido": {"chave": "+5511987654321"},
    }


@pytest.mark.parametrize(
    ("psp_status", "expected"),
    [
        ("EM_PROCESSAMENTO", PayoutStatus.SENT),
        ("REALIZADO", PayoutStatus.SENT),
        ("NAO_REALIZADO", PayoutStatus.FAILED),
    ],
)
def test_the_documented_envio_statuses_map_to_payout_statuses(
    adapter: BacenPix, fake_psp: FakePsp, psp_status: str, expected: PayoutStatus
) -> None:
    fake_psp.envio_status = psp_status

    result = adapter.send_pix(
        payout_id="Repasse42",
        amount_centavos=500,
        key="pix@exemplo.com.br",
        key_type="email",
        description="",
    )

    assert result == PayoutResult(
        status=expected,
        provider_reference="Repasse42",
        end_to_end_id=end_to_end_id_for("Repasse42"),
        failure_reason="The PSP reported NAO_REALIZADO." if psp_status == "NAO_REALIZADO" else "",
    )
    assert fake_psp.requests[1].body["pagador"] == {"chave": RECEIVER_KEY}


def test_an_unknown_envio_status_is_a_temporary_error(adapter: BacenPix, fake_psp: FakePsp) -> None:
    fake_psp.envio_status = "AGENDADO"

    with pytest.raises(PixTemporaryError) as raised:
        adapter.send_pix(
            payout_id="Repasse42",
            amount_centavos=500,
            key="pix@exemplo.com.br",
            key_type="email",
            description="",
        )

    assert raised.value.code == "bad_response"


def test_a_retried_payout_reads_the_first_envio_back_instead_of_failing(
    adapter: BacenPix, fake_psp: FakePsp, caplog: pytest.LogCaptureFixture
) -> None:
    payout: dict[str, Any] = {
        "payout_id": "Repasse42",
        "amount_centavos": 500,
        "key": "pix@exemplo.com.br",
        "key_type": "email",
        "description": "",
    }
    first = adapter.send_pix(**payout)
    caplog.clear()
    caplog.set_level(logging.INFO)

    second = adapter.send_pix(**payout)

    assert second == first
    assert _calls(fake_psp) == [
        TOKEN_CALL,
        ("PUT", "/v3/gn/pix/Repasse42"),
        ("PUT", "/v3/gn/pix/Repasse42"),
        ("GET", "/v2/gn/pix/enviados/id-envio/Repasse42"),
    ]
    assert list(fake_psp.envios) == ["Repasse42"]
    # An expected 409 is not a warning for the on-call person.
    assert [record.levelname for record in caplog.records] == ["INFO", "INFO"]


def test_a_used_payout_id_for_another_amount_is_a_conflict(
    adapter: BacenPix, fake_psp: FakePsp
) -> None:
    adapter.send_pix(
        payout_id="Repasse42",
        amount_centavos=500,
        key="pix@exemplo.com.br",
        key_type="email",
        description="",
    )

    with pytest.raises(PixPermanentError) as raised:
        adapter.send_pix(
            payout_id="Repasse42",
            amount_centavos=900,
            key="pix@exemplo.com.br",
            key_type="email",
            description="",
        )

    assert raised.value.code == "conflict"
    assert fake_psp.envios["Repasse42"]["valor"] == "5.00"


def test_the_payees_key_is_not_quoted_when_the_psp_refuses_a_payout(
    adapter: BacenPix, fake_psp: FakePsp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_psp.fail_next(
        400, {"nome": "chave_invalida", "mensagem": "Chave +5511987654321 não encontrada"}
    )

    with pytest.raises(PixPermanentError) as raised:
        adapter.send_pix(
            payout_id="Repasse42",
            amount_centavos=500,
            key="11987654321",
            key_type="phone",
            description="",
        )

    assert str(raised.value) == (
        "The PSP refused to send the PIX (HTTP 400): chave_invalida; Chave [redacted] não "
        "encontrada"
    )
    assert "987654321" not in caplog.text


def test_an_invalid_destination_key_is_refused_without_calling_the_psp(
    adapter: BacenPix, fake_psp: FakePsp
) -> None:
    with pytest.raises(PixPermanentError) as raised:
        adapter.send_pix(
            payout_id="Repasse42",
            amount_centavos=500,
            key="529.982.247-26",
            key_type="cpf",
            description="",
        )

    assert raised.value.code == "invalid_key"
    assert str(raised.value) == "The destination is not a valid PIX key of type 'cpf'."
    assert fake_psp.requests == []


# --- Arguments and configuration ----------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"txid": "AtendeRecarga"},  # 13 characters: too short for a cob
        {"txid": "Atende-Recarga-7f3a9c1d2e4b5a6"},
        {"txid": "A" * 36},
        {"amount_centavos": 0},
        {"amount_centavos": -100},
        {"amount_centavos": 19.9},
        {"amount_centavos": True},
        {"amount_centavos": 1_000_000_000_000},
        {"expires_in": 0},
        {"expires_in": 2**31},
        {"description": "x" * 141},
    ],
)
def test_invalid_charge_arguments_are_refused_before_any_request(
    adapter: BacenPix, fake_psp: FakePsp, changes: dict[str, Any]
) -> None:
    arguments = {
        "txid": TXID,
        "amount_centavos": 1990,
        "expires_in": 3600,
        "description": "Atende",
        **changes,
    }

    with pytest.raises(PixPermanentError) as raised:
        adapter.create_charge(**arguments)

    assert raised.value.code == "invalid_request"
    assert fake_psp.requests == []


@pytest.mark.parametrize(
    "changes",
    [
        {"payout_id": "repasse-42"},
        {"payout_id": ""},
        {"payout_id": "R" * 36},
        {"amount_centavos": 0},
        {"description": "x" * 141},
    ],
)
def test_invalid_payout_arguments_are_refused_before_any_request(
    adapter: BacenPix, fake_psp: FakePsp, changes: dict[str, Any]
) -> None:
    arguments = {
        "payout_id": "Repasse42",
        "amount_centavos": 500,
        "key": "pix@exemplo.com.br",
        "key_type": "email",
        "description": "",
        **changes,
    }

    with pytest.raises(PixPermanentError) as raised:
        adapter.send_pix(**arguments)

    assert raised.value.code == "invalid_request"
    assert fake_psp.requests == []


def test_load_provider_returns_the_bacen_adapter_and_it_reads_settings_at_call_time(
    settings: Any, fake_psp: FakePsp
) -> None:
    settings.PROVIDERS = {"wallet.pix": "wallet.providers.bacen.BacenPix"}
    provider = load_provider("wallet.pix")

    _create(provider)
    settings.PIX_RECEIVER_KEY = "outra-chave@atende.com.br"
    _create(provider, OTHER_TXID)

    assert isinstance(provider, BacenPix)
    assert provider.name == "bacen"
    assert [charge["chave"] for charge in fake_psp.charges.values()] == [
        RECEIVER_KEY,
        "outra-chave@atende.com.br",
    ]


@pytest.mark.parametrize(
    "missing",
    [
        "PIX_API_URL",
        "PIX_CLIENT_ID",
        "PIX_CLIENT_SECRET",
        "PIX_CERT_FILE",
        "PIX_KEY_FILE",
        "PIX_RECEIVER_KEY",
    ],
)
def test_a_missing_setting_is_a_configuration_error(
    adapter: BacenPix, fake_psp: FakePsp, settings: Any, missing: str
) -> None:
    setattr(settings, missing, "")

    with pytest.raises(ImproperlyConfigured, match=re.escape(f"The PIX adapter needs {missing}.")):
        _create(adapter)

    assert fake_psp.requests == []


def test_an_api_url_that_is_not_https_is_a_configuration_error(
    adapter: BacenPix, fake_psp: FakePsp, settings: Any
) -> None:
    settings.PIX_API_URL = fake_psp.url.replace("https://", "http://")

    with pytest.raises(
        ImproperlyConfigured, match=re.escape("PIX_API_URL must be an https:// URL.")
    ):
        _create(adapter)

    assert fake_psp.requests == []


def test_an_unreadable_certificate_is_a_configuration_error(
    adapter: BacenPix, fake_psp: FakePsp, settings: Any, tmp_path: Any
) -> None:
    settings.PIX_CERT_FILE = str(tmp_path / "missing.pem")

    with pytest.raises(
        ImproperlyConfigured,
        match=re.escape("PIX_CERT_FILE and PIX_KEY_FILE cannot be loaded (FileNotFoundError)."),
    ):
        _create(adapter)

    assert fake_psp.requests == []


# --- Sandbox ------------------------------------------------------------------------------


def test_the_sandbox_creates_a_charge_with_a_dynamic_br_code(settings: Any) -> None:
    settings.PIX_MERCHANT_NAME = "Atende"
    settings.PIX_MERCHANT_CITY = "SAO PAULO"

    charge = _create(SandboxPix())

    location = f"sandbox.pix.invalid/v2/cob/{TXID}"
    assert brcode.parse(charge.br_code) == brcode.BrCode(
        location=location,
        amount_centavos=1990,
        merchant_name="Atende",
        merchant_city="SAO PAULO",
        one_time=True,
    )
    assert charge == ProviderCharge(
        txid=TXID,
        status=ChargeStatus.ACTIVE,
        amount_centavos=1990,
        br_code=charge.br_code,
        location=location,
        created_at=charge.created_at,
        expires_in=3600,
    )
    assert charge.created_at.tzinfo is not None


def test_the_sandbox_answers_for_the_charges_it_created(settings: Any) -> None:
    provider = SandboxPix()
    created = _create(provider)

    assert provider.get_charge(TXID) == created
    # A retried create answers the same charge, as PUT /cob/{txid} does.
    assert _create(provider) is created


def test_the_sandbox_does_not_invent_charges_it_never_created() -> None:
    with pytest.raises(PixPermanentError) as raised:
        SandboxPix().get_charge(TXID)

    assert raised.value.code == "not_found"
    assert str(raised.value) == "unknown charge"


def test_the_sandbox_refuses_a_txid_a_psp_would_refuse() -> None:
    with pytest.raises(PixPermanentError) as raised:
        SandboxPix().create_charge(
            txid="curto", amount_centavos=1990, expires_in=3600, description=""
        )

    assert raised.value.code == "invalid_request"
    with pytest.raises(PixPermanentError):
        SandboxPix().get_charge("curto")


def test_the_sandbox_sends_a_payout_with_an_end_to_end_id_derived_from_its_id() -> None:
    result = SandboxPix().send_pix(
        payout_id="Repasse42",
        amount_centavos=12345,
        key="(11) 98765-4321",
        key_type="phone",
        description="Atende: repasse",
    )

    assert result == PayoutResult(
        status=PayoutStatus.SENT,
        provider_reference="Repasse42",
        end_to_end_id=sandbox.end_to_end_id_for("Repasse42"),
    )
    assert re.fullmatch(r"E[0-9a-f]{31}", result.end_to_end_id)
    assert sandbox.end_to_end_id_for("Repasse42") != sandbox.end_to_end_id_for("Repasse43")
    assert [
        (payout.payout_id, payout.amount_centavos, payout.key, payout.key_type, payout.result)
        for payout in sandbox.sent()
    ] == [("Repasse42", 12345, "+5511987654321", "phone", result)]


def test_the_sandbox_fails_payouts_to_the_documented_failure_key() -> None:
    result = SandboxPix().send_pix(
        payout_id="Repasse42",
        amount_centavos=500,
        key="Falha@Sandbox.Invalid",
        key_type="email",
        description="",
    )

    assert result == PayoutResult(
        status=PayoutStatus.FAILED,
        provider_reference="Repasse42",
        failure_reason="The sandbox refuses every payout to falha@sandbox.invalid.",
    )
    assert [payout.result for payout in sandbox.sent()] == [result]


def test_the_sandbox_does_not_send_a_retried_payout_twice() -> None:
    provider = SandboxPix()
    payout: dict[str, Any] = {
        "payout_id": "Repasse42",
        "amount_centavos": 500,
        "key": "pix@exemplo.com.br",
        "key_type": "email",
        "description": "",
    }

    first = provider.send_pix(**payout)
    second = provider.send_pix(**payout)
    with pytest.raises(PixPermanentError) as raised:
        provider.send_pix(**{**payout, "amount_centavos": 900})

    assert second == first
    assert raised.value.code == "conflict"
    assert len(sandbox.sent()) == 1


def test_the_sandbox_refuses_an_invalid_destination_key() -> None:
    with pytest.raises(PixPermanentError) as raised:
        SandboxPix().send_pix(
            payout_id="Repasse42",
            amount_centavos=500,
            key="não é email",
            key_type="email",
            description="",
        )

    assert raised.value.code == "invalid_key"
    assert sandbox.sent() == []


def test_clearing_the_sandbox_forgets_charges_and_payouts() -> None:
    provider = SandboxPix()
    _create(provider)
    provider.send_pix(
        payout_id="Repasse42",
        amount_centavos=500,
        key="pix@exemplo.com.br",
        key_type="email",
        description="",
    )

    sandbox.clear()

    assert sandbox.sent() == []
    with pytest.raises(PixPermanentError):
        provider.get_charge(TXID)


def test_the_sandbox_outbox_returned_is_a_copy() -> None:
    SandboxPix().send_pix(
        payout_id="Repasse42",
        amount_centavos=500,
        key="pix@exemplo.com.br",
        key_type="email",
        description="",
    )

    sandbox.sent().clear()

    assert len(sandbox.sent()) == 1


def test_the_sandbox_registers_no_webhook_and_calls_nobody(fake_psp: FakePsp) -> None:
    SandboxPix().register_webhook(WEBHOOK_URL)

    assert fake_psp.requests == []


def test_load_provider_returns_the_sandbox_when_configured(settings: Any) -> None:
    settings.PROVIDERS = {"wallet.pix": "wallet.providers.sandbox.SandboxPix"}

    provider = load_provider("wallet.pix")

    assert isinstance(provider, SandboxPix)
    assert provider.name == "sandbox"


# --- Webhook payload ----------------------------------------------------------------------

# The API Pix's examples pixWebhook1 and pixWebhook2 (bacen/pix-api openapi.yaml), verbatim;
# the first has "devolucoes" as an object although the schema says array: we do not read it.
DOCUMENTED_PIX_1 = {
    "endToEndId": "E12345678202009091221kkkkkkkkkkk",
    "txid": "c3e0e7a4e7f1469a9f782d3d4999343c",
    "valor": "110.00",
    "horario": "2020-09-09T20:15:00.358Z",
    "infoPagador": "0123456789",
    "devolucoes": {
        "id": "123ABC",
        "rtrId": "D12345678202009091221abcdf098765",
        "valor": "10.00",
        "horario": {"solicitacao": "2020-09-09T20:15:00.358Z"},
        "status": "EM_PROCESSAMENTO",
    },
}
DOCUMENTED_PIX_2 = {
    "endToEndId": "E87654321202009091221dfghi123456",
    "txid": "971122d8f37211eaadc10242ac120002",
    "valor": "110.00",
    "horario": "2020-09-09T20:15:00.358Z",
    "infoPagador": "0123456789",
}


def test_it_reads_the_documented_webhook_example() -> None:
    received = parse_webhook_payload({"pix": [DOCUMENTED_PIX_1, DOCUMENTED_PIX_2]})

    paid_at = datetime.datetime(2020, 9, 9, 20, 15, 0, 358000, tzinfo=UTC)
    assert received == [
        PixReceived(
            end_to_end_id="E12345678202009091221kkkkkkkkkkk",
            txid="c3e0e7a4e7f1469a9f782d3d4999343c",
            amount_centavos=11000,
            paid_at=paid_at,
            raw=DOCUMENTED_PIX_1,
        ),
        PixReceived(
            end_to_end_id="E87654321202009091221dfghi123456",
            txid="971122d8f37211eaadc10242ac120002",
            amount_centavos=11000,
            paid_at=paid_at,
            raw=DOCUMENTED_PIX_2,
        ),
    ]


def test_a_pix_without_txid_is_read_with_an_empty_txid() -> None:
    entry = {key: value for key, value in DOCUMENTED_PIX_2.items() if key != "txid"}

    [received] = parse_webhook_payload({"pix": [entry]})

    assert received.txid == ""
    assert received.amount_centavos == 11000


def test_a_short_txid_from_a_static_br_code_is_accepted_for_the_caller_to_judge() -> None:
    [received] = parse_webhook_payload({"pix": [{**DOCUMENTED_PIX_2, "txid": "LOJA42"}]})

    assert received.txid == "LOJA42"


def test_an_empty_pix_array_is_well_formed() -> None:
    assert parse_webhook_payload({"pix": []}) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([DOCUMENTED_PIX_2], "The body must be a JSON object, not [{"),
        ({}, 'The body must have a "pix" array, not None.'),
        ({"pix": DOCUMENTED_PIX_2}, 'The body must have a "pix" array, not {'),
        ({"pix": ["E123"]}, "pix[0] must be an object, not 'E123'."),
        (
            {"pix": [DOCUMENTED_PIX_2, {**DOCUMENTED_PIX_2, "endToEndId": None}]},
            "pix[1].endToEndId must be 32 ASCII letters and digits, not None.",
        ),
        (
            {"pix": [{**DOCUMENTED_PIX_2, "endToEndId": "E1234567820200909"}]},
            "pix[0].endToEndId must be 32 ASCII letters and digits, not 'E1234567820200909'.",
        ),
        (
            {"pix": [{**DOCUMENTED_PIX_2, "txid": "c3e0e7a4-e7f1-469a"}]},
            "pix[0].txid must be 1 to 35 ASCII letters and digits, not 'c3e0e7a4-e7f1-469a'.",
        ),
        (
            {"pix": [{**DOCUMENTED_PIX_2, "txid": "A" * 36}]},
            "pix[0].txid must be 1 to 35 ASCII letters and digits",
        ),
        (
            {"pix": [{**DOCUMENTED_PIX_2, "txid": ""}]},
            "pix[0].txid must be 1 to 35 ASCII letters and digits, not ''.",
        ),
        (
            {"pix": [{key: v for key, v in DOCUMENTED_PIX_2.items() if key != "valor"}]},
            'pix[0].valor must be a string like "10.00", not None.',
        ),
        (
            {"pix": [{**DOCUMENTED_PIX_2, "valor": 110.0}]},
            'pix[0].valor must be a string like "10.00", not 110.0.',
        ),
        (
            {"pix": [{**DOCUMENTED_PIX_2, "valor": "110.001"}]},
            "pix[0].valor must be a string like \"10.00\", not '110.001'.",
        ),
        (
            {"pix": [{**DOCUMENTED_PIX_2, "valor": "0.00"}]},
            "pix[0].valor must be more than zero, not '0.00'.",
        ),
        (
            {"pix": [{key: v for key, v in DOCUMENTED_PIX_2.items() if key != "horario"}]},
            "pix[0].horario must be an RFC 3339 timestamp with an offset, not None.",
        ),
        (
            {"pix": [{**DOCUMENTED_PIX_2, "horario": "2020-09-09T20:15:00"}]},
            "pix[0].horario must be an RFC 3339 timestamp with an offset, "
            "not '2020-09-09T20:15:00'.",
        ),
        (
            {"pix": [{**DOCUMENTED_PIX_2, "horario": "2020-02-30T20:15:00Z"}]},
            "pix[0].horario is not a real date and time: '2020-02-30T20:15:00Z'.",
        ),
    ],
)
def test_a_malformed_webhook_body_is_refused_whole(body: Any, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}"):
        parse_webhook_payload(body)


@pytest.mark.parametrize(
    ("text", "centavos"),
    [
        ("0.01", 1),
        ("10.00", 1000),
        ("19.90", 1990),
        ("0.10", 10),
        ("9999999999.99", 999_999_999_999),
    ],
)
def test_amounts_are_read_into_exact_centavos(text: str, centavos: int) -> None:
    assert parse_valor(text) == centavos
    assert format_valor(centavos) == text


@pytest.mark.parametrize(
    "value", ["10", "10.5", "10.001", "-1.00", "1e3", " 10.00", "10,00", "10000000000.00", 10]
)
def test_amounts_that_are_not_exact_centavos_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match=re.escape('valor must be a string like "10.00"')):
        parse_valor(value)


@pytest.mark.parametrize("value", [0, -1, 1_000_000_000_000, 19.9, True, "1990"])
def test_only_positive_whole_centavos_can_be_written(value: Any) -> None:
    with pytest.raises(ValueError, match="An amount "):
        format_valor(value)


def test_a_timestamp_keeps_its_offset() -> None:
    moment = parse_horario("2024-05-02T10:15:00.358-03:00")

    assert moment.utcoffset() == datetime.timedelta(hours=-3)
    assert moment == datetime.datetime(2024, 5, 2, 13, 15, 0, 358000, tzinfo=UTC)
