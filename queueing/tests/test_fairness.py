"""Fairness: first come, first served; positions are always 1..n in the order people joined."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calls.tests.factories import client
from queueing import selectors, services
from queueing.models import EntryStatus, MarketplaceQueueEntry
from queueing.tests.helpers import (
    at,
    busy_professional,
    committed,
    end_call,
    join,
    queue_events,
    reload,
)

pytestmark = pytest.mark.django_db


def test_positions_follow_the_order_of_joining() -> None:
    # Given three clients joining a busy professional's queue one after another
    pro, _call = busy_professional()
    entries = [join(pro, seconds=n) for n in (0, 5, 9)]

    # When their positions are read
    positions = [selectors.entry_position(entry) for entry in entries]

    # Then they are 1, 2, 3 in joining order, and the waits grow by one average call
    assert positions == [1, 2, 3]
    waits = [selectors.entry_payload(entry)["estimated_wait_seconds"] for entry in entries]
    assert waits == [600, 1200, 1800]


def test_the_estimated_wait_uses_the_professionals_average_call() -> None:
    # Given a professional whose calls last 4 minutes on average, free with a turn offered
    from calls.models import ProfessionalProfile

    pro, call = busy_professional()
    ProfessionalProfile.objects.filter(user=pro).update(average_call_seconds=240)
    entries = [join(pro, seconds=n) for n in range(3)]
    end_call(call)
    services.queue_offer_next(professional_id=pro.pk, now=at(10))

    # When the waits are read
    waits = [selectors.entry_payload(reload(entry))["estimated_wait_seconds"] for entry in entries]

    # Then the offered turn waits 0, the others one average call per entry ahead of them
    assert waits == [0, 240, 480]


def test_the_same_joining_time_is_ordered_by_id() -> None:
    # Given two clients joining in the same instant
    pro, _call = busy_professional()
    first = join(pro, seconds=0)
    second = join(pro, seconds=0)

    # Then the lower id is ahead
    assert (selectors.entry_position(first), selectors.entry_position(second)) == (1, 2)


def test_offers_always_go_to_the_first_in_line() -> None:
    # Given four clients in line for a professional who gets free
    pro, call = busy_professional()
    entries = [join(pro, seconds=n) for n in range(4)]
    end_call(call)

    # When turns pass: the first declines, the second's offer expires, the third leaves
    offered_in_order = []
    services.queue_offer_next(professional_id=pro.pk, now=at(10))
    offered_in_order.append(_offered(pro.pk))
    services.queue_offer_decline(client=entries[0].client, entry_id=entries[0].pk, now=at(11))
    offered_in_order.append(_offered(pro.pk))
    services.queue_offers_expire(now=at(100))
    offered_in_order.append(_offered(pro.pk))
    services.queue_leave(client=entries[2].client, entry_id=entries[2].pk, now=at(101))
    offered_in_order.append(_offered(pro.pk))

    # Then each turn went to whoever was first in line then
    assert offered_in_order == [entry.pk for entry in entries]


def _offered(professional_id: int) -> int:
    return MarketplaceQueueEntry.objects.get(
        professional_id=professional_id, status=EntryStatus.OFFERED
    ).pk


def test_leaving_tells_everyone_behind_their_new_position(
    published: list[tuple[str, dict[str, Any]]],
) -> None:
    # Given three clients in line
    pro, _call = busy_professional()
    entries = [join(pro, seconds=n) for n in range(3)]

    # When the second leaves
    with committed():
        services.queue_leave(client=entries[1].client, entry_id=entries[1].pk, now=at(20))

    # Then the leaver hears they left, the third that they are now second, the first nothing,
    # and the professional the new length
    told = [
        (group, event, data.get("position", data.get("length")))
        for group, event, data in queue_events(published)
    ]
    assert told == [
        (f"user.{entries[1].client_id}", "queueing.entry.updated", None),
        (f"user.{entries[2].client_id}", "queueing.entry.updated", 2),
        (f"user.{pro.pk}", "queueing.queue.changed", 2),
    ]


# Each step: ("join",) or ("leave", k) where k picks one of the open entries.
STEPS = st.lists(
    st.one_of(st.just(("join", 0)), st.tuples(st.just("leave"), st.integers(0, 20))),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=STEPS)
def test_positions_are_always_one_to_n_in_joining_order(steps: list[tuple[str, int]]) -> None:
    # Given a busy professional (each example starts from an empty queue of its own)
    pro, _call = busy_professional()
    line: list[MarketplaceQueueEntry] = []

    # When clients join and leave in any order
    for number, (step, pick) in enumerate(steps):
        if step == "join":
            line.append(join(pro, seconds=number, who=client()))
        elif line:
            leaver = line.pop(pick % len(line))
            services.queue_leave(client=leaver.client, entry_id=leaver.pk, now=at(number))

        # Then after every step the open entries hold positions 1..n in joining order
        assert {entry.pk: selectors.entry_position(entry) for entry in line} == {
            entry.pk: index for index, entry in enumerate(line, start=1)
        }
        assert selectors.positions(professional_id=pro.pk) == {
            entry.pk: index for index, entry in enumerate(line, start=1)
        }
        # (and each client reads the same position from REST)
        for index, entry in enumerate(line, start=1):
            assert [
                p["position"] for p in selectors.client_entry_payloads(client=entry.client)
            ] == [index]
