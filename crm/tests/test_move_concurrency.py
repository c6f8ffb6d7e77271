"""Moves under real concurrent transactions, with real row locks (PostgreSQL only).

SQLite takes one write lock for the whole database, so these interleavings cannot happen
there. Every thread opens its own connection and closes it when it is done.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from core.exceptions import ApplicationError
from crm import board, deals
from crm.models import Deal, Stage
from crm.tests import factories as f

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
    pytest.mark.django_db(transaction=True),
]


def run_together(works: list[Callable[[], Any]]) -> list[Any]:
    """Start every work at the same moment, each on its own connection; their results."""
    barrier = threading.Barrier(len(works))
    outcomes: list[Any] = [None] * len(works)

    def runner(index: int, work: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
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
        thread.join(timeout=120)
    return outcomes


def column(stage: Stage) -> list[tuple[int, str]]:
    return list(
        Deal.objects.filter(stage=stage).order_by("position", "id").values_list("pk", "position")
    )


def test_many_people_moving_cards_at_once_never_lose_or_duplicate_one() -> None:
    # Given two columns of 10 cards and 6 agents
    team = f.team()
    pipe = f.pipeline(team["org"], stages=(("A", 10, False, False), ("B", 20, False, False)))
    first, second = f.stages(pipe)
    created = f.deals(first, 10) + f.deals(second, 10)
    movers = [team["agent"]] + [f.member(team["org"]) for _ in range(5)]

    # When each moves its own cards 15 times to random places, all at once
    def mover(index: int) -> Callable[[], Counter[str]]:
        rng = random.Random(index)
        mine = [deal.pk for deal in created[index::6]]

        def work() -> Counter[str]:
            outcomes: Counter[str] = Counter()
            for _ in range(15):
                stage = rng.choice((first, second))
                ids = [pk for pk, _key in column(stage)]
                deal_id = rng.choice(mine)
                others = [pk for pk in ids if pk != deal_id]
                spot = rng.randint(0, len(others))
                try:
                    deals.deal_move(
                        actor=movers[index],
                        deal_id=deal_id,
                        organization_id=team["org"].pk,
                        stage_id=stage.pk,
                        before_id=others[spot - 1] if spot > 0 else None,
                        after_id=others[spot] if spot < len(others) else None,
                    )
                    outcomes["moved"] += 1
                except ApplicationError as exc:
                    outcomes[exc.code] += 1
            return outcomes

        return work

    outcomes = run_together([mover(n) for n in range(6)])

    # Then every move either landed or was refused as stale, and every card is on the board
    # exactly once, each column in a strict order of distinct keys
    assert all(isinstance(outcome, Counter) for outcome in outcomes), outcomes
    total: Counter[str] = sum(outcomes, Counter())
    assert set(total) <= {"moved", "crm.stale_move"}
    assert total["moved"] + total["crm.stale_move"] == 90
    assert total["moved"] > 0
    cards = column(first) + column(second)
    assert sorted(pk for pk, _key in cards) == sorted(deal.pk for deal in created)
    for stage in (first, second):
        keys = [key for _pk, key in column(stage)]
        assert len(set(keys)) == len(keys)
    versions = sum(Deal.objects.values_list("version", flat=True))
    assert versions == 20 + total["moved"]


def test_two_people_moving_the_same_card_from_the_same_version_one_wins() -> None:
    # Given a card both people see at version 1
    team = f.team()
    pipe = f.pipeline(team["org"])
    new, qualified, proposal, *_ = f.stages(pipe)
    deal = f.deals(new, 1)[0]
    other = f.member(team["org"])

    # When both move it, to different columns, at the same moment
    def move(actor: Any, stage: Stage) -> Callable[[], Any]:
        return lambda: deals.deal_move(
            actor=actor,
            deal_id=deal.pk,
            organization_id=team["org"].pk,
            stage_id=stage.pk,
            expected_version=1,
        )

    outcomes = run_together([move(team["agent"], qualified), move(other, proposal)])

    # Then exactly one won; the other was told with the card as the winner left it
    winners = [outcome for outcome in outcomes if isinstance(outcome, Deal)]
    losers = [outcome for outcome in outcomes if isinstance(outcome, ApplicationError)]
    assert (len(winners), len(losers)) == (1, 1), outcomes
    current = board.card_by_id(deal.pk)
    assert current is not None
    assert (current["version"], current["stage_id"]) == (2, winners[0].stage_id)
    assert (losers[0].status_code, losers[0].code, losers[0].extra) == (
        409,
        "crm.stale_move",
        {"deal": current, "reason": "version"},
    )


def test_many_cards_dropped_into_the_same_gap_at_once_keep_a_total_order() -> None:
    # Given a column of two cards and 12 cards elsewhere
    team = f.team()
    pipe = f.pipeline(team["org"])
    new, qualified, *_ = f.stages(pipe)
    top, bottom = f.deals(new, 2)
    incoming = f.deals(qualified, 12)

    # When all 12 are dropped just below the top card at the same moment
    def drop(deal: Deal) -> Callable[[], Any]:
        return lambda: deals.deal_move(
            actor=team["agent"],
            deal_id=deal.pk,
            organization_id=team["org"].pk,
            stage_id=new.pk,
            before_id=top.pk,
        )

    outcomes = run_together([drop(deal) for deal in incoming])

    # Then every drop landed between the two, each with its own key
    assert all(isinstance(outcome, Deal) for outcome in outcomes), outcomes
    cards = column(new)
    assert len(cards) == 14
    assert (cards[0][0], cards[-1][0]) == (top.pk, bottom.pk)
    assert sorted(pk for pk, _key in cards[1:-1]) == sorted(deal.pk for deal in incoming)
    keys = [key for _pk, key in cards]
    assert len(set(keys)) == 14
    assert keys == sorted(keys)
