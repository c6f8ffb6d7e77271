"""The receipt of a call, read from its ledger transfers."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from calls import billing
from calls.receipts import call_receipt
from calls.tests.test_billing import T0, accepted_call, active_call, at
from wallet.models import Transfer

pytestmark = pytest.mark.django_db


def created_at(call: Any, key: str) -> Any:
    return Transfer.objects.get(idempotency_key=key).created_at


def test_the_client_sees_one_line_per_charged_unit_and_the_dispute_reference() -> None:
    # Given a call at 15 a minute (minimum 10), billed three units and hung up at 150 s
    call = active_call(balance=100, price=15, minimum_fee=10, unit=60)
    billing.bill_due_calls(now=at(120))
    with transaction.atomic():
        billing.settle(call=call, at=at(150))
    call.refresh_from_db()

    receipt = call_receipt(call=call, viewer=call.client)

    assert receipt["lines"] == [
        {"unit": 1, "amount": 15, "at": created_at(call, f"call:{call.pk}:unit:1#0")},
        {"unit": 2, "amount": 15, "at": created_at(call, f"call:{call.pk}:unit:2#0")},
        {"unit": 3, "amount": 15, "at": created_at(call, f"call:{call.pk}:unit:3#0")},
    ]
    assert receipt["total"] == 45 == call.billed_amount
    assert receipt["connected_seconds"] == 150
    assert receipt["minimum_fee"] == {"amount": 10, "status": "posted", "charged": True}
    assert receipt["queue_fee"] is None
    assert receipt["dispute_reference"] == f"call:{call.pk}"
    assert "professional_share" not in receipt


def test_the_professional_sees_their_share_and_the_platforms() -> None:
    call = active_call(balance=100, price=15, minimum_fee=10, unit=60)
    billing.bill_due_calls(now=at(60))

    receipt = call_receipt(call=call, viewer=call.professional)

    # Unit 1: hold 10 -> 8/2, rest 5 -> 4/1; unit 2: 15 -> 12/3.
    assert (receipt["total"], receipt["professional_share"], receipt["platform_share"]) == (
        30,
        24,
        6,
    )
    assert "dispute_reference" not in receipt


def test_a_call_that_never_connected_has_no_lines_and_no_dispute() -> None:
    call = accepted_call(balance=50)
    with transaction.atomic():
        billing.settle(call=call, at=T0)

    receipt = call_receipt(call=call, viewer=call.client)

    assert receipt["lines"] == []
    assert receipt["total"] == 0
    assert receipt["minimum_fee"] == {"amount": 10, "status": "voided", "charged": False}
    assert receipt["dispute_reference"] is None
