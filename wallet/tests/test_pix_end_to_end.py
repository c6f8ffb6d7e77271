"""The whole top-up and payout paths through the real API Pix adapter and a mimic PSP.

The PSP here is the mutual-TLS fake of ``fake_psp``: the charge is created there, paid there
without any webhook (the webhook is lost), and reconciliation finds and credits it; a payout
is sent there with our payout id as its ``idEnvio``.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from wallet import payouts, services
from wallet.checks import ledger_check_run
from wallet.models import PixCharge, PixPayment
from wallet.tests.fake_psp import (  # noqa: F401  (the fixtures)
    FakePsp,
    fake_psp_fixture,
    psp_certificates_fixture,
)
from wallet.tests.helpers import (
    balance,
    client_for,
    committed,
    earn,
    key,
    professional,
    verified_client,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def real_pix(settings: Any, fake_psp: FakePsp) -> FakePsp:
    settings.PROVIDERS = {**settings.PROVIDERS, "wallet.pix": "wallet.providers.bacen.BacenPix"}
    return fake_psp


def test_a_lost_webhook_is_credited_by_reconciliation_through_the_real_adapter(
    real_pix: FakePsp,
) -> None:
    user = verified_client()
    response = client_for(user).post(
        "/api/v1/wallet/topups/", {"tokens": 25}, format="json", HTTP_IDEMPOTENCY_KEY=key()
    )
    assert response.status_code == 201
    charge = PixCharge.objects.get()
    assert (charge.provider, charge.status, response.json()["br_code"] != "") == (
        "bacen",
        "pending",
        True,
    )
    assert real_pix.charges[charge.txid]["valor"]["original"] == "25.00"

    real_pix.pay(charge.txid)
    with committed():
        services.pix_charges_reconcile(now=timezone.now() + datetime.timedelta(minutes=1))

    charge.refresh_from_db()
    assert charge.status == "paid"
    assert PixPayment.objects.get().source == "reconciliation"
    assert balance(user) == (25, 0)
    assert ledger_check_run().ok


def test_an_approved_payout_is_sent_through_the_real_adapter(real_pix: FakePsp) -> None:
    pro = professional()
    earn(pro, 100)
    payouts.earnings_release_due(now=timezone.now() + datetime.timedelta(days=8))
    payout = payouts.payout_request(
        user=pro, amount=40, pix_key_type="cpf", pix_key="52998224725", idempotency_key="e2e"
    )

    with committed():
        payouts.payout_approve(payout=payout, actor=verified_client(is_staff=True))

    payout.refresh_from_db()
    assert (payout.status, payout.provider_reference) == ("paid", payout.provider_id)
    assert payout.end_to_end_id != ""
    sent = [r for r in real_pix.requests if r.path.startswith("/v3/gn/pix/")]
    assert [(r.method, r.path, r.body["valor"]) for r in sent] == [
        ("PUT", f"/v3/gn/pix/{payout.provider_id}", "40.00")
    ]
    assert balance(pro, "earnings") == (45, 0)
    assert ledger_check_run().ok


def test_a_psp_outage_leaves_the_payout_sending_for_the_retry(real_pix: FakePsp) -> None:
    from wallet.providers.pix import PixTemporaryError

    pro = professional()
    earn(pro, 100)
    payouts.earnings_release_due(now=timezone.now() + datetime.timedelta(days=8))
    payout = payouts.payout_request(
        user=pro, amount=40, pix_key_type="cpf", pix_key="52998224725", idempotency_key="e2e"
    )
    payouts.payout_approve(payout=payout, actor=verified_client(is_staff=True))
    # Every attempt the adapter makes inside one run of the task fails.
    real_pix.fail_next(503, times=3)

    with pytest.raises(PixTemporaryError):
        payouts.payout_send(payout_id=payout.pk)

    payout.refresh_from_db()
    assert payout.status == "sending"
    assert balance(pro, "earnings") == (85, 40)
    payouts.payout_send(payout_id=payout.pk)
    payout.refresh_from_db()
    assert payout.status == "paid"
    assert balance(pro, "earnings") == (45, 0)
