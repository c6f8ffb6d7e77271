"""Two withdrawals at the same moment, with real threads and row locks (PostgreSQL only)."""

from __future__ import annotations

import datetime
import threading
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from wallet import payouts
from wallet.checks import ledger_check_run
from wallet.models import Payout
from wallet.tests.helpers import balance, earn, professional

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
    pytest.mark.django_db(transaction=True),
]


def test_two_withdrawals_at_once_cannot_together_exceed_the_balance() -> None:
    pro = professional()
    earn(pro, 100)
    payouts.earnings_release_due(now=timezone.now() + datetime.timedelta(days=8))
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def withdraw(n: int) -> None:
        try:
            start.wait()
            payouts.payout_request(
                user=pro,
                amount=60,
                pix_key_type="cpf",
                pix_key="52998224725",
                idempotency_key=f"race-{n}",
            )
            outcomes.append("held")
        except Exception as exc:  # recorded for the assertion
            outcomes.append(getattr(exc, "code", type(exc).__name__))
        finally:
            connection.close()

    threads = [threading.Thread(target=withdraw, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert sorted(outcomes) == ["held", "wallet.insufficient_funds"]
    assert Payout.objects.count() == 1
    assert balance(pro, "earnings") == (85, 60)
    assert ledger_check_run().ok


def test_the_same_withdrawal_sent_twice_at_once_is_held_once() -> None:
    pro = professional()
    earn(pro, 100)
    payouts.earnings_release_due(now=timezone.now() + datetime.timedelta(days=8))
    start = threading.Barrier(2)
    results: list[Any] = []

    def withdraw() -> None:
        try:
            start.wait()
            results.append(
                payouts.payout_request(
                    user=pro,
                    amount=30,
                    pix_key_type="cpf",
                    pix_key="52998224725",
                    idempotency_key="same",
                ).pk
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=withdraw) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert len(results) == 2 and results[0] == results[1]
    assert Payout.objects.count() == 1
    assert balance(pro, "earnings") == (85, 30)
