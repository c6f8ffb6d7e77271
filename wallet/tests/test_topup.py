"""Buying tokens: the charge, the webhook, reconciliation, review, idempotency."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from accounts.tests.helpers import assert_error, rows
from wallet import services
from wallet.brcode import parse
from wallet.checks import ledger_check_run
from wallet.models import (
    IdempotencyRecord,
    PixCharge,
    PixChargeStatus,
    PixPayment,
    PixPaymentOutcome,
    Transfer,
)
from wallet.providers import pix
from wallet.tests.helpers import (
    balance,
    client_for,
    committed,
    key,
    package,
    platform_balance,
    verified_client,
)
from wallet.webhooks import pix_webhook_secret

pytestmark = pytest.mark.django_db

CHARGE_FIELDS = {
    "id",
    "txid",
    "status",
    "tokens",
    "amount_centavos",
    "br_code",
    "qr_svg",
    "expires_at",
    "paid_at",
    "created_at",
}


def buy(user: Any, body: dict[str, Any], idempotency_key: str | None = None) -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": idempotency_key or key()}
    return client_for(user).post("/api/v1/wallet/topups/", body, format="json", **headers)


def webhook(body: Any, secret: str | None = None) -> Any:
    from rest_framework.test import APIClient

    with committed():
        return APIClient().post(
            f"/webhooks/pix/{secret or pix_webhook_secret()}/pix", body, format="json"
        )


def paid_body(
    charge: PixCharge, *, e2e: str = "E12345678202611221200abcdefghijk", amount: int | None = None
) -> dict[str, Any]:
    cents = charge.amount_centavos if amount is None else amount
    return {
        "pix": [
            {
                "endToEndId": e2e,
                "txid": charge.txid,
                "valor": f"{cents // 100}.{cents % 100:02d}",
                "horario": "2026-11-22T12:00:00.000-03:00",
                "infoPagador": "obrigado",
            }
        ]
    }


def wallet_state() -> dict[str, Any]:
    return {
        "charges": rows(PixCharge),
        "payments": rows(PixPayment),
        "transfers": rows(Transfer),
        "idempotency": rows(IdempotencyRecord),
    }


# --- Creating a charge --------------------------------------------------------------------


def test_a_package_becomes_a_pix_charge_with_a_valid_br_code() -> None:
    user = verified_client()
    offer = package(tokens=50, price_centavos=4500)

    response = buy(user, {"package_id": offer.pk})

    assert response.status_code == 201
    body = response.json()
    assert set(body) == CHARGE_FIELDS
    charge = PixCharge.objects.get()
    assert (body["id"], body["txid"], body["status"], body["tokens"], body["amount_centavos"]) == (
        charge.pk,
        charge.txid,
        "pending",
        50,
        4500,
    )
    assert (charge.user, charge.package, charge.provider) == (user, offer, "sandbox")
    code = parse(body["br_code"])
    # A dynamic BR Code names its charge by the location; its own txid field stays "***".
    assert (code.amount_centavos, code.txid, code.location.endswith(charge.txid)) == (
        4500,
        "***",
        True,
    )
    assert body["qr_svg"].startswith("<svg")
    assert balance(user) == (0, 0)


def test_a_custom_amount_is_priced_by_the_token_value() -> None:
    response = buy(verified_client(), {"tokens": 37})

    assert response.status_code == 201
    assert (response.json()["tokens"], response.json()["amount_centavos"]) == (37, 3700)


@pytest.mark.parametrize(
    ("body", "status", "code", "extra"),
    [
        ({"tokens": 9}, 400, "wallet.invalid_amount", {"min": 10, "max": 5000}),
        ({"tokens": 5001}, 400, "wallet.invalid_amount", {"min": 10, "max": 5000}),
        ({}, 400, "wallet.invalid_amount", {}),
        ({"package_id": 1, "tokens": 20}, 400, "wallet.invalid_amount", {}),
        ({"package_id": 999999}, 400, "wallet.unknown_package", {}),
    ],
)
def test_it_refuses_bad_amounts_and_unknown_packages(
    body: dict[str, Any], status: int, code: str, extra: dict[str, Any]
) -> None:
    user = verified_client()
    before = wallet_state()

    response = buy(user, body)

    assert_error(response, status, code, extra)
    assert wallet_state() == before


@pytest.mark.parametrize("tokens", [0, -5, 10**12, "ten", 1.5, None])
def test_it_refuses_absurd_amounts_at_the_edge(tokens: Any) -> None:
    before = wallet_state()

    response = buy(verified_client(), {"tokens": tokens})

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert list(response.json()["extra"]["fields"]) == ["tokens"]
    assert wallet_state() == before


def test_an_inactive_package_is_not_on_sale() -> None:
    offer = package(active=False)

    assert_error(buy(verified_client(), {"package_id": offer.pk}), 400, "wallet.unknown_package")
    assert PixCharge.objects.count() == 0


def test_an_unverified_phone_cannot_buy() -> None:
    user = verified_client(phone="", phone_verified_at=None)
    before = wallet_state()

    response = buy(user, {"tokens": 20})

    assert_error(
        response,
        403,
        "accounts.phone_not_verified",
        {"action": "buy_tokens", "missing": ["phone_verified"]},
    )
    assert wallet_state() == before


def test_a_money_request_without_an_idempotency_key_is_refused() -> None:
    response = client_for(verified_client()).post(
        "/api/v1/wallet/topups/", {"tokens": 20}, format="json"
    )

    assert_error(response, 400, "wallet.idempotency_key_required")
    assert PixCharge.objects.count() == 0


def test_a_replay_returns_the_first_charge_and_creates_no_other() -> None:
    user = verified_client()
    first = buy(user, {"tokens": 20}, "same-key")

    again = buy(user, {"tokens": 20}, "same-key")

    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert PixCharge.objects.count() == 1


def test_the_same_key_with_another_body_is_refused() -> None:
    user = verified_client()
    buy(user, {"tokens": 20}, "same-key")

    response = buy(user, {"tokens": 21}, "same-key")

    assert_error(response, 422, "wallet.idempotency_mismatch")
    assert PixCharge.objects.count() == 1


def test_two_users_may_use_the_same_key() -> None:
    assert buy(verified_client(), {"tokens": 20}, "k").status_code == 201
    assert buy(verified_client(), {"tokens": 20}, "k").status_code == 201
    assert PixCharge.objects.count() == 2


class FailingPix(pix.PixProvider):
    name = "failing"

    def create_charge(self, **kwargs: Any) -> pix.ProviderCharge:
        raise pix.PixTemporaryError("PSP down")

    def get_charge(self, txid: str) -> pix.ProviderCharge:
        raise pix.PixTemporaryError("PSP down")

    def register_webhook(self, url: str) -> None:
        raise pix.PixTemporaryError("PSP down")

    def send_pix(self, **kwargs: Any) -> pix.PayoutResult:
        raise pix.PixTemporaryError("PSP down")


def test_a_psp_outage_fails_the_charge_and_frees_the_key_for_a_retry(settings: Any) -> None:
    user = verified_client()
    settings.PROVIDERS = {**settings.PROVIDERS, "wallet.pix": f"{__name__}.FailingPix"}

    response = buy(user, {"tokens": 20}, "retry-me")

    assert_error(response, 503, "wallet.pix_unavailable")
    assert list(PixCharge.objects.values_list("status", flat=True)) == ["failed"]
    assert IdempotencyRecord.objects.count() == 0
    settings.PROVIDERS = {**settings.PROVIDERS, "wallet.pix": "wallet.providers.sandbox.SandboxPix"}
    assert buy(user, {"tokens": 20}, "retry-me").status_code == 201


def test_another_users_charge_is_not_found() -> None:
    charge_id = buy(verified_client(), {"tokens": 20}).json()["id"]

    response = client_for(verified_client()).get(f"/api/v1/wallet/topups/{charge_id}/")

    assert_error(response, 404, "not_found")


# --- The webhook --------------------------------------------------------------------------


def new_charge(tokens: int = 20) -> PixCharge:
    user = verified_client()
    buy(user, {"tokens": tokens})
    return PixCharge.objects.get(user=user)


def test_the_webhook_credits_the_tokens_once_and_tells_the_payer_live(
    published: list[tuple[str, dict[str, Any]]],
) -> None:
    charge = new_charge(20)

    response = webhook(paid_body(charge))

    assert (response.status_code, response.json()) == (200, {"recorded": 1, "duplicates": 0})
    charge.refresh_from_db()
    assert (charge.status, charge.paid_at is not None) == ("paid", True)
    assert balance(charge.user) == (20, 0)
    assert platform_balance("pix_clearing") == -20
    transfer = Transfer.objects.get()
    assert (transfer.kind, transfer.amount, transfer.reference, transfer.idempotency_key) == (
        "top_up",
        20,
        f"pix:{charge.txid}",
        "pix:E12345678202611221200abcdefghijk",
    )
    group = f"user.{charge.user_id}"
    assert [(g, m["event"], m["data"]) for g, m in published] == [
        (
            group,
            "wallet.balance.changed",
            {
                "account": "client_wallet",
                "asset": "token",
                "balance": 20,
                "held": 0,
                "available": 20,
            },
        ),
        (
            group,
            "wallet.pix_charge.updated",
            {"id": charge.pk, "txid": charge.txid, "status": "paid", "tokens": 20},
        ),
    ]
    assert ledger_check_run().ok


def test_a_webhook_delivered_twice_credits_once() -> None:
    charge = new_charge(20)
    webhook(paid_body(charge))

    response = webhook(paid_body(charge))

    assert (response.status_code, response.json()) == (200, {"recorded": 0, "duplicates": 1})
    assert balance(charge.user) == (20, 0)
    assert (PixPayment.objects.count(), Transfer.objects.count()) == (1, 1)


def test_a_forged_webhook_is_refused_and_records_nothing() -> None:
    charge = new_charge(20)

    response = webhook(paid_body(charge), secret="not-the-secret")

    assert_error(response, 404, "not_found")
    assert (PixPayment.objects.count(), Transfer.objects.count()) == (0, 0)
    assert balance(charge.user) == (0, 0)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"pix": "nope"},
        {"pix": [{"txid": "x"}]},
        [1, 2, 3],
    ],
)
def test_a_malformed_webhook_is_refused(body: Any) -> None:
    new_charge()

    response = webhook(body)

    assert response.status_code == 400
    assert response.json()["code"] == "wallet.invalid_webhook"
    assert PixPayment.objects.count() == 0


def test_a_webhook_for_an_unknown_txid_is_refused_and_moves_nothing() -> None:
    charge = new_charge()
    charge.txid = "UnknownTxid0000000000000000000000"[:32]

    response = webhook(paid_body(charge))

    assert_error(
        response,
        422,
        "wallet.pix_unknown_txid",
        {"unknown_txids": [charge.txid], "recorded": 0, "duplicates": 0},
    )
    assert (PixPayment.objects.count(), Transfer.objects.count()) == (0, 0)


def test_a_different_amount_is_kept_for_staff_and_not_credited() -> None:
    charge = new_charge(20)

    webhook(paid_body(charge, amount=1999))

    charge.refresh_from_db()
    payment = PixPayment.objects.get()
    assert (charge.status, charge.review_reason) == ("review", "amount_mismatch")
    assert (payment.outcome, payment.review_reason) == ("review", "amount_mismatch")
    assert Transfer.objects.count() == 0
    assert balance(charge.user) == (0, 0)


def test_a_second_pix_into_a_paid_charge_is_kept_for_staff() -> None:
    charge = new_charge(20)
    webhook(paid_body(charge))

    webhook(paid_body(charge, e2e="E99999999202611221201zzzzzzzzzzz"))

    charge.refresh_from_db()
    assert charge.status == "paid"
    assert sorted(PixPayment.objects.values_list("outcome", "review_reason")) == [
        ("credited", ""),
        ("review", "paid_twice"),
    ]
    assert balance(charge.user) == (20, 0)


def test_staff_credit_or_dismiss_a_payment_under_review() -> None:
    from accounts.models import AuditEvent

    staff = verified_client(is_staff=True)
    short = new_charge(20)
    other = new_charge(30)
    webhook(paid_body(short, amount=1000))
    webhook(paid_body(other, e2e="E11111111202611221202yyyyyyyyyyy", amount=1))

    services.pix_payment_resolve(
        payment=PixPayment.objects.get(charge=short), actor=staff, credit=True
    )
    services.pix_payment_resolve(
        payment=PixPayment.objects.get(charge=other), actor=staff, credit=False
    )

    assert balance(short.user) == (20, 0)
    assert balance(other.user) == (0, 0)
    assert dict(PixPayment.objects.values_list("charge_id", "outcome")) == {
        short.pk: "credited_by_staff",
        other.pk: "dismissed",
    }
    assert AuditEvent.objects.filter(action="wallet.pix_payment_resolved", actor=staff).count() == 2
    with pytest.raises(services.NotUnderReviewError):
        services.pix_payment_resolve(
            payment=PixPayment.objects.get(charge=short), actor=staff, credit=True
        )
    assert balance(short.user) == (20, 0)


# --- Reconciliation -----------------------------------------------------------------------


class PaidPix(pix.PixProvider):
    """A PSP that reports every charge it is asked about as paid in full (no webhook)."""

    name = "paid"
    amounts: dict[str, int] = {}

    def create_charge(self, **kwargs: Any) -> pix.ProviderCharge:
        raise NotImplementedError

    def get_charge(self, txid: str) -> pix.ProviderCharge:
        amount = self.amounts[txid]
        paid = pix.PixReceived(
            end_to_end_id=f"E12345678202611221200{txid[:11]}",
            txid=txid,
            amount_centavos=amount,
            paid_at=timezone.now(),
            raw={},
        )
        return pix.ProviderCharge(
            txid=txid,
            status=pix.ChargeStatus.COMPLETED,
            amount_centavos=amount,
            br_code="",
            location="",
            created_at=timezone.now(),
            expires_in=1800,
            payments=(paid,),
        )

    def register_webhook(self, url: str) -> None:
        raise NotImplementedError

    def send_pix(self, **kwargs: Any) -> pix.PayoutResult:
        raise NotImplementedError


def test_reconciliation_credits_a_charge_whose_webhook_never_came(settings: Any) -> None:
    charge = new_charge(20)
    PaidPix.amounts = {charge.txid: charge.amount_centavos}
    settings.PROVIDERS = {**settings.PROVIDERS, "wallet.pix": f"{__name__}.PaidPix"}

    with committed():
        checked = services.pix_charges_reconcile(now=timezone.now() + datetime.timedelta(minutes=1))

    charge.refresh_from_db()
    assert (checked, charge.status) == (1, "paid")
    assert PixPayment.objects.get().source == "reconciliation"
    assert balance(charge.user) == (20, 0)


def test_a_webhook_after_reconciliation_credited_moves_nothing(settings: Any) -> None:
    charge = new_charge(20)
    PaidPix.amounts = {charge.txid: charge.amount_centavos}
    settings.PROVIDERS = {**settings.PROVIDERS, "wallet.pix": f"{__name__}.PaidPix"}
    with committed():
        services.pix_charges_reconcile(now=timezone.now() + datetime.timedelta(minutes=1))
    e2e = PixPayment.objects.get().end_to_end_id

    response = webhook(paid_body(charge, e2e=e2e))

    assert response.json() == {"recorded": 0, "duplicates": 1}
    assert balance(charge.user) == (20, 0)
    assert Transfer.objects.count() == 1


def test_reconciliation_expires_an_unpaid_charge_and_a_late_pix_still_credits() -> None:
    charge = new_charge(20)
    later = charge.expires_at + datetime.timedelta(minutes=1)

    with override_settings(PIX_SANDBOX_SIMULATION=True):
        services.pix_charges_reconcile(now=later)
    charge.refresh_from_db()
    assert charge.status == "expired"

    webhook(paid_body(charge))

    charge.refresh_from_db()
    assert charge.status == "paid"
    assert balance(charge.user) == (20, 0)


def test_a_young_charge_is_left_to_its_webhook(settings: Any) -> None:
    charge = new_charge(20)
    settings.PROVIDERS = {**settings.PROVIDERS, "wallet.pix": f"{__name__}.PaidPix"}

    assert services.pix_charges_reconcile(now=timezone.now()) == 0
    charge.refresh_from_db()
    assert charge.status == PixChargeStatus.PENDING


# --- Sandbox simulation -------------------------------------------------------------------


def test_the_sandbox_button_pays_through_the_webhook_path() -> None:
    charge = new_charge(20)

    with committed():
        response = client_for(charge.user).post(
            f"/api/v1/wallet/topups/{charge.pk}/simulate-payment/", {}, format="json"
        )

    assert response.status_code == 200
    charge.refresh_from_db()
    assert charge.status == "paid"
    assert PixPayment.objects.get().source == "simulation"
    assert balance(charge.user) == (20, 0)


def test_the_sandbox_button_does_not_exist_outside_development(settings: Any) -> None:
    charge = new_charge(20)
    settings.PIX_SANDBOX_SIMULATION = False

    response = client_for(charge.user).post(
        f"/api/v1/wallet/topups/{charge.pk}/simulate-payment/", {}, format="json"
    )

    assert_error(response, 404, "not_found")
    assert balance(charge.user) == (0, 0)
    assert PixPayment.objects.count() == 0


def test_the_simulate_command_pays_a_charge_in_process() -> None:
    from io import StringIO

    from django.core.management import call_command

    charge = new_charge(20)
    out = StringIO()

    with committed():
        call_command("pix_simulate_payment", charge.txid, "--local", stdout=out)

    assert "recorded in-process: 1 payment(s)" in out.getvalue()
    assert balance(charge.user) == (20, 0)
    assert PixPayment.objects.get().outcome == PixPaymentOutcome.CREDITED


def test_the_webhook_is_not_rate_limited_like_anonymous_callers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rest_framework.throttling import SimpleRateThrottle

    # DRF reads the rates once, at import: patch them where the throttles look.
    rates = {**SimpleRateThrottle.THROTTLE_RATES, "anon": "2/min"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    charges = [new_charge(20) for _ in range(4)]

    answers = [
        webhook(paid_body(charge, e2e=f"E1234567820261122120{n}abcdefghijk")).status_code
        for n, charge in enumerate(charges)
    ]

    assert answers == [200, 200, 200, 200]
    assert [balance(charge.user) for charge in charges] == [(20, 0)] * 4
