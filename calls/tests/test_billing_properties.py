"""Billing arithmetic and the pass, as properties (hypothesis)."""

from __future__ import annotations

import datetime

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calls import billing
from calls.models import CallStatus
from calls.tests.test_billing import T0, accepted_call, connect, wallet
from wallet import ledger
from wallet.checks import ledger_problems
from wallet.models import Transfer

prices = st.integers(min_value=1, max_value=10_000)
fees = st.integers(min_value=1, max_value=10_000)
units = st.integers(min_value=0, max_value=2_000)


@given(units=units, price=prices, minimum_fee=fees)
def test_the_total_is_the_minimum_or_units_times_price(
    units: int, price: int, minimum_fee: int
) -> None:
    total = billing.total_for_units(units=units, price=price, minimum_fee=minimum_fee)

    assert total == (0 if units == 0 else max(minimum_fee, units * price))


@given(units=units, price=prices, minimum_fee=fees)
def test_unit_charges_sum_to_the_total_and_are_never_negative(
    units: int, price: int, minimum_fee: int
) -> None:
    charges = [
        billing.unit_charge(unit=n, price=price, minimum_fee=minimum_fee)
        for n in range(1, units + 1)
    ]

    assert sum(charges) == billing.total_for_units(
        units=units, price=price, minimum_fee=minimum_fee
    )
    assert all(0 <= charge <= max(price, minimum_fee) for charge in charges)
    if units:
        assert charges[0] == billing.required_to_start(price=price, minimum_fee=minimum_fee)


@given(amount=st.integers(min_value=1, max_value=10**12))
def test_the_split_sums_to_the_charge_and_the_platform_gets_the_remainder(amount: int) -> None:
    professional, platform = ledger.split_charge(amount)

    assert professional + platform == amount
    assert professional == amount * 85 // 100
    assert 0 <= platform - amount * 15 / 100 < 1


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    balance=st.integers(min_value=1, max_value=120),
    price=st.integers(min_value=1, max_value=30),
    minimum_fee=st.integers(min_value=1, max_value=30),
    passes=st.lists(st.integers(min_value=1, max_value=400), min_size=1, max_size=6),
)
def test_billing_never_takes_more_than_the_wallet_and_charges_match_the_total(
    balance: int, price: int, minimum_fee: int, passes: list[int]
) -> None:
    with transaction.atomic():
        # Given a call whose client can at least pay the minimum
        call = accepted_call(
            balance=balance + minimum_fee, price=price, minimum_fee=minimum_fee, unit=60
        )
        connect(call)
        now = T0

        # When passes run at random later moments
        for step in passes:
            now += datetime.timedelta(seconds=step)
            billing.bill_due_calls(now=now)
            # Then the wallet never goes below zero
            available = wallet(call)[0] - wallet(call)[1]
            assert available >= 0

        # And what was taken is exactly what the call's billed units cost
        call.refresh_from_db()
        taken = sum(
            Transfer.objects.filter(reference=call.reference).values_list("amount", flat=True)
        )
        assert taken == call.billed_amount
        if call.billed_units:
            assert call.billed_amount == billing.total_for_units(
                units=call.billed_units, price=price, minimum_fee=minimum_fee
            )
        else:
            # Unit 1 could not be paid beyond the minimum: the minimum alone was taken.
            assert call.billed_amount == minimum_fee
        if call.status == CallStatus.ACTIVE and call.next_charge_at is not None:
            # Every unit that started has been charged.
            assert call.next_charge_at > now
        assert ledger_problems()[2] == []
        transaction.set_rollback(True)
