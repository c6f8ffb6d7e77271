"""Fractional-index keys under many moves: the database's order is always the moves' order,
and a rebalance keeps it with short keys."""

from __future__ import annotations

import contextlib
import random

import pytest

from accounts.tests.helpers import committed
from crm import deals, ordering
from crm.models import Deal, Stage
from crm.tests import factories as f

pytestmark = pytest.mark.django_db


def column(stage: Stage) -> list[int]:
    return list(
        Deal.objects.filter(stage=stage).order_by("position", "id").values_list("pk", flat=True)
    )


def keys(stage: Stage) -> list[str]:
    return list(
        Deal.objects.filter(stage=stage)
        .order_by("position", "id")
        .values_list("position", flat=True)
    )


def test_key_between_sorts_between_its_neighbours_bytewise() -> None:
    first = ordering.key_between(None, None)
    after = ordering.key_between(first, None)
    before = ordering.key_between(None, first)
    middle = ordering.key_between(first, after)

    assert (first, after, before) == ("a0", "a1", "Zz")
    assert before < first < middle < after
    assert ordering.keys_between(None, None, 3) == ["a0", "a1", "a2"]
    assert ordering.keys_between("a0", "a1", 0) == []
    assert ordering.REBALANCE_LENGTH == 50


def test_the_database_order_always_matches_the_moves() -> None:
    # Given three columns, the first with 12 cards
    rng = random.Random(20251108)
    team = f.team()
    pipe = f.pipeline(
        team["org"],
        stages=(("A", 10, False, False), ("B", 20, False, False), ("C", 30, False, False)),
    )
    stage_list = f.stages(pipe)
    model = {stage.pk: [] for stage in stage_list}
    model[stage_list[0].pk] = [deal.pk for deal in f.deals(stage_list[0], 12)]
    by_id = {stage.pk: stage for stage in stage_list}

    # When 250 random moves are made, each naming its new neighbours in one of four ways
    for step in range(250):
        deal_id = rng.choice([pk for ids in model.values() for pk in ids])
        source = next(stage_id for stage_id, ids in model.items() if deal_id in ids)
        target = rng.choice(list(model))
        model[source].remove(deal_id)
        ids = model[target]
        index = rng.randint(0, len(ids))
        above = ids[index - 1] if index > 0 else None
        below = ids[index] if index < len(ids) else None
        style = rng.choice(("both", "above", "below", "none" if below is None else "both"))
        before_id = above if style in ("both", "above") else None
        after_id = below if style in ("both", "below") else None
        if style == "above" and above is None:
            after_id = below
        if style == "below" and below is None:
            before_id = above
        deals.deal_move(
            actor=team["agent"],
            deal_id=deal_id,
            organization_id=team["org"].pk,
            stage_id=target,
            before_id=before_id,
            after_id=after_id,
        )
        ids.insert(index, deal_id)

        # Then every column reads back in the model's order
        for stage_id, expected in model.items():
            assert column(by_id[stage_id]) == expected, step
    assert Deal.objects.count() == 12
    assert sum(Deal.objects.values_list("version", flat=True)) == 12 + 250


def test_a_rebalance_keeps_the_order_and_shortens_the_keys() -> None:
    # Given a column whose keys grew long by inserts into one gap
    team = f.team()
    pipe = f.pipeline(team["org"])
    stage = f.stages(pipe)[0]
    cards = f.deals(stage, 4)
    for card in f.deals(stage, 60, title="Squeezed"):
        deals.deal_move(
            actor=None,
            deal_id=card.pk,
            organization_id=team["org"].pk,
            stage_id=stage.pk,
            before_id=cards[0].pk,
        )
    order = column(stage)
    assert max(len(key) for key in keys(stage)) > 10

    # When the column is rebalanced
    count = deals.stage_rebalance(stage_id=stage.pk)

    # Then the order is the same, with the short keys of a fresh column
    assert count == 64
    assert column(stage) == order
    assert keys(stage) == ordering.keys_between(None, None, 64)
    assert max(len(key) for key in keys(stage)) <= 3
    # A rerun writes the same keys
    assert deals.stage_rebalance(stage_id=stage.pk) == 64
    assert keys(stage) == ordering.keys_between(None, None, 64)
    assert deals.stage_rebalance(stage_id=999_999) == 0


def test_inserts_into_the_same_gap_grow_the_keys_until_the_column_is_rebalanced(
    published: list,
) -> None:
    # Given a column of two cards
    team = f.team()
    pipe = f.pipeline(team["org"])
    stage = f.stages(pipe)[0]
    first, last = f.deals(stage, 2)
    model = [first.pk, last.pk]
    newcomers = f.deals(f.stages(pipe)[1], 400, title="Newcomer")
    lengths = []
    rebalanced_at = None

    # When card after card is dropped right below the first one (always the same gap)
    for step, card in enumerate(newcomers):
        # Only the last moves need their after-commit work run (it is what is tested).
        near = bool(lengths) and lengths[-1] >= ordering.REBALANCE_LENGTH - 5
        with committed() if near else contextlib.nullcontext():
            moved = deals.deal_move(
                actor=team["agent"],
                deal_id=card.pk,
                organization_id=team["org"].pk,
                stage_id=stage.pk,
                before_id=first.pk,
                after_id=model[1],
            )
        model.insert(1, card.pk)
        lengths.append(len(moved.position))
        assert column(stage) == model, step
        if any(event["event"] == "crm.stage.rebalanced" for _group, event in published):
            rebalanced_at = step
            break

    # Then the keys grew past the rebalance length, the move that made one that long
    # scheduled a rebalance, and the column got short keys again in the same order
    assert rebalanced_at is not None
    assert lengths[-1] > ordering.REBALANCE_LENGTH
    assert max(lengths[:-1]) <= ordering.REBALANCE_LENGTH
    assert lengths == sorted(lengths)
    assert column(stage) == model
    assert keys(stage) == ordering.keys_between(None, None, len(model))
    assert next(event for _group, event in published if event["event"] == "crm.stage.rebalanced")[
        "data"
    ] == {"stage_id": stage.pk, "pipeline_id": pipe.pk}


def test_equal_keys_left_by_a_raw_write_are_spread_before_a_move_between_them() -> None:
    # Given three cards that share one key (written without the services)
    team = f.team()
    pipe = f.pipeline(team["org"])
    stage = f.stages(pipe)[0]
    a, b, c = f.deals(stage, 3)
    Deal.objects.filter(pk__in=[a.pk, b.pk, c.pk]).update(position="a0")
    mover = f.deals(f.stages(pipe)[1], 1)[0]

    # When a card is dropped between the first two
    deals.deal_move(
        actor=team["agent"],
        deal_id=mover.pk,
        organization_id=team["org"].pk,
        stage_id=stage.pk,
        before_id=a.pk,
        after_id=b.pk,
    )

    # Then it sits between them and every key is distinct again
    assert column(stage) == [a.pk, mover.pk, b.pk, c.pk]
    assert len(set(keys(stage))) == 4
