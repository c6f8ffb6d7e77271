"""The queue under real concurrent transactions, with real row locks (PostgreSQL only).

SQLite takes one write lock for the whole database, so these interleavings cannot happen
there. Every thread opens its own connection and closes it when it is done.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from calls.tests.factories import client
from queueing import services
from queueing.models import EntryStatus, MarketplaceQueueEntry
from queueing.tests.helpers import at, busy_professional, end_call, join
from wallet.checks import ledger_problems
from wallet.models import Hold, HoldStatus, Transfer

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
    pytest.mark.django_db(transaction=True),
]

PROFESSIONALS = 6


def run_together(works: list[Callable[[], Any]]) -> list[Any]:
    """Start every work at the same moment, each on its own connection; their results."""
    barrier = threading.Barrier(len(works))
    outcomes: list[Any] = [None] * len(works)

    def runner(index: int, work: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[index] = work()
        except Exception as exc:  # recorded for the test to assert on
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=runner, args=(n, work), daemon=True) for n, work in enumerate(works)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_two_workers_expiring_offers_at_once_expire_each_offer_once(settings: Any) -> None:
    # Given the charge policy and six professionals, each with an expired offer and a client
    # waiting behind it
    settings.QUEUE_NO_SHOW_FEE = "charge"
    offered, waiting = [], []
    for _ in range(PROFESSIONALS):
        pro, call = busy_professional()
        offered.append(join(pro, seconds=0))
        waiting.append(join(pro, seconds=1))
        end_call(call)
        services.queue_offer_next(professional_id=pro.pk, now=at(10))

    # When two workers run the expiry sweep at the same moment
    outcomes = run_together([lambda: services.queue_offers_expire(now=at(100))] * 2)

    # Then between them every offer expired exactly once: one posted hold, two legs each,
    # and every next client offered the turn once
    assert all(isinstance(outcome, int) for outcome in outcomes), outcomes
    assert sum(outcomes) == PROFESSIONALS
    for entry in offered:
        fresh = MarketplaceQueueEntry.objects.get(pk=entry.pk)
        assert fresh.status == EntryStatus.EXPIRED
        assert Hold.objects.get(idempotency_key=f"queue:{entry.pk}:fee").status == HoldStatus.POSTED
        assert Transfer.objects.filter(reference=f"queue:{entry.pk}").count() == 2
    assert [MarketplaceQueueEntry.objects.get(pk=e.pk).status for e in waiting] == [
        EntryStatus.OFFERED
    ] * PROFESSIONALS
    assert ledger_problems()[2] == []


def test_joins_racing_for_the_last_place_fill_the_queue_once(settings: Any) -> None:
    # Given a queue with room for 2 and one client in it, and four clients joining at once
    settings.QUEUE_MAX_LENGTH = 2
    pro, _call = busy_professional()
    join(pro)
    people = [client() for _ in range(4)]

    # When they all join at the same moment
    def joiner(person: Any) -> Callable[[], Any]:
        return lambda: services.queue_join(client=person, professional_id=pro.pk)

    outcomes = run_together([joiner(person) for person in people])

    # Then exactly one got in; the others were told the queue is full, with nothing held
    codes = sorted(getattr(outcome, "code", "joined") for outcome in outcomes)
    assert codes == ["joined", *["queueing.queue_full"] * 3]
    assert MarketplaceQueueEntry.objects.filter(professional=pro).count() == 2
    assert Hold.objects.filter(status=HoldStatus.PENDING).count() == 2


def test_the_same_client_joining_twice_at_once_gets_one_entry() -> None:
    # Given a client who sends the join twice at the same moment
    pro, _call = busy_professional()
    person = client()

    # When both run together
    outcomes = run_together(
        [lambda: services.queue_join(client=person, professional_id=pro.pk)] * 2
    )

    # Then one joined, the other was told they are already in the queue; one hold
    codes = sorted(getattr(outcome, "code", "joined") for outcome in outcomes)
    assert codes == ["joined", "queueing.already_in_queue"]
    assert MarketplaceQueueEntry.objects.filter(client=person).count() == 1
    assert Hold.objects.filter(debit_account__user=person).count() == 1
