"""Two billing workers at once on PostgreSQL: every started unit charged exactly once.

SQLite takes one write lock for the whole database, so the race cannot happen there. Each
worker is a thread with its own connection (closed when it is done).
"""

from __future__ import annotations

import datetime
import threading
from collections import Counter
from typing import Any

import pytest
from django.db import connection

from calls import billing
from calls.models import Call, CallStatus
from calls.tests.test_billing import T0, active_call
from wallet.checks import ledger_problems
from wallet.models import Transfer

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
    pytest.mark.django_db(transaction=True),
]

CALLS = 24


def run_workers(count: int, now: datetime.datetime, batch_size: int) -> list[Any]:
    outcomes: list[Any] = []
    start = threading.Barrier(count)

    def work() -> None:
        try:
            start.wait(timeout=10)
            outcomes.append(billing.bill_due_calls(now=now, batch_size=batch_size))
        except Exception as exc:  # recorded for the test to assert on
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_two_workers_never_double_charge_or_skip_a_unit() -> None:
    # Given active calls whose clients can pay, and a few that cannot pay unit 3
    calls = [active_call(balance=100, price=5, minimum_fee=5, unit=60) for _ in range(CALLS)]
    poor = [active_call(balance=10, price=5, minimum_fee=5, unit=60) for _ in range(4)]

    # When two workers bill the same moment, three units late, in small batches, twice over
    for now in (T0 + datetime.timedelta(seconds=185), T0 + datetime.timedelta(seconds=245)):
        outcomes = run_workers(2, now, batch_size=5)
        assert all(isinstance(o, billing.BillingPass) for o in outcomes), outcomes

    # Then every unit of every call was charged once: (call, unit) pairs have no duplicates
    units = Counter(
        (meta["call_id"], meta["unit"])
        for meta in Transfer.objects.filter(reference__startswith="call:").values_list(
            "metadata", flat=True
        )
    )
    # Each charged unit is two legs (85/15), never four.
    assert set(units.values()) == {2}
    for call in calls:
        call.refresh_from_db()
        assert (call.status, call.billed_units, call.billed_amount) == (CallStatus.ACTIVE, 5, 25)
        assert call.next_charge_at == T0 + datetime.timedelta(seconds=300)
        assert sorted(u for c, u in units if c == call.pk) == [1, 2, 3, 4, 5]
    for call in poor:
        call.refresh_from_db()
        assert (call.status, call.billed_units, call.ended_at) == (
            CallStatus.ENDED,
            2,
            T0 + datetime.timedelta(seconds=120),
        )
    assert not Call.objects.filter(status=CallStatus.ACTIVE, next_charge_at__lte=T0).exists()
    assert ledger_problems()[2] == []
