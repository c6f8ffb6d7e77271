"""The board's payload, its constant query count and the column pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from crm import board
from crm.models import Company, Deal, Label, Pipeline
from crm.pipelines import pipeline_data
from crm.tests import factories as f

pytestmark = pytest.mark.django_db


def ids(cards: list[dict[str, Any]]) -> list[int]:
    return [card["id"] for card in cards]


def test_the_board_payload_is_exact() -> None:
    # Given a pipeline with a card carrying everything, and a second card with nothing
    team = f.team()
    pipe = f.pipeline(team["org"])
    new, qualified, *_ = f.stages(pipe)
    contact = f.contact(team["org"], "Ana Souza")
    company = Company.objects.create(organization=team["org"], name="ACME")
    hot = Label.objects.create(organization=team["org"], name="Hot", color="#ff0000")
    rich = f.deals(
        new,
        1,
        value=10_001,
        probability=33,
        owner=team["agent"],
        contact=contact,
        company=company,
        expected_close_date=timezone.localdate(),
    )[0]
    rich.labels.add(hot)
    plain = f.deals(new, 1, title="Plain")[0]
    rich.refresh_from_db()
    plain.refresh_from_db()

    # When the board is read
    data = board.board_data(user=team["agent"], pipeline=pipe)

    # Then it is the pipeline, then one column per stage with its cards and totals
    assert data["pipeline"] == pipeline_data(pipe)
    assert [column["stage"]["id"] for column in data["columns"]] == [s.pk for s in f.stages(pipe)]
    first = data["columns"][0]
    assert first["next_cursor"] is None
    assert first["totals"] == {
        "stage_id": new.pk,
        "count": 2,
        "value": 10_001,
        "weighted_value": 3300,
    }
    assert first["deals"] == [
        {
            "id": rich.pk,
            "pipeline_id": pipe.pk,
            "stage_id": new.pk,
            "position": "a0",
            "version": 1,
            "title": "Deal 1",
            "value": 10_001,
            "currency": "BRL",
            "probability": 33,
            "weighted_value": 3300,
            "status": "open",
            "owner": {"id": team["agent"].pk, "name": team["agent"].get_full_name()},
            "contact": {"id": contact.pk, "name": "Ana Souza"},
            "company": {"id": company.pk, "name": "ACME"},
            "expected_close_date": timezone.localdate().isoformat(),
            "labels": [{"id": hot.pk, "name": "Hot", "color": "#ff0000"}],
            "rotting": False,
            "updated_at": board.iso(rich.updated_at),
        },
        {
            "id": plain.pk,
            "pipeline_id": pipe.pk,
            "stage_id": new.pk,
            "position": "a1",
            "version": 1,
            "title": "Plain 1",
            "value": 0,
            "currency": "BRL",
            "probability": 10,
            "weighted_value": 0,
            "status": "open",
            "owner": None,
            "contact": None,
            "company": None,
            "expected_close_date": None,
            "labels": [],
            "rotting": False,
            "updated_at": board.iso(plain.updated_at),
        },
    ]
    assert data["columns"][1] == {
        "stage": pipeline_data(pipe)["stages"][1],
        "deals": [],
        "next_cursor": None,
        "totals": {"stage_id": qualified.pk, "count": 0, "value": 0, "weighted_value": 0},
    }


def test_weighted_totals_floor_each_card_like_the_cards_do() -> None:
    team = f.team()
    pipe = f.pipeline(team["org"])
    stage = f.stages(pipe)[0]  # 10%
    f.deals(stage, 3, value=19)  # 1.9 -> 1 each
    f.deals(stage, 1, value=99, probability=50)  # 49.5 -> 49

    totals = board.stage_totals([stage.pk])

    assert totals == [{"stage_id": stage.pk, "count": 4, "value": 156, "weighted_value": 52}]


def test_an_open_deal_untouched_past_its_stage_rotting_days_is_rotting() -> None:
    team = f.team()
    pipe = f.pipeline(team["org"])
    stage = f.stages(pipe)[0]
    stage.rotting_days = 3
    stage.save()
    old, fresh = f.deals(stage, 2)
    closed = f.deals(stage, 1, status="won")[0]
    Deal.objects.filter(pk__in=[old.pk, closed.pk]).update(
        updated_at=timezone.now() - timezone.timedelta(days=4)
    )

    cards = board.board_data(user=team["agent"], pipeline=pipe)["columns"][0]["deals"]

    assert [(card["id"], card["rotting"]) for card in cards] == [
        (old.pk, True),
        (fresh.pk, False),
        (closed.pk, False),
    ]


def _board_with(stage_count: int, deals_per_stage: int) -> tuple[dict[str, Any], Pipeline]:
    team = f.team()
    label = Label.objects.create(organization=team["org"], name="L")
    pipe = f.pipeline(team["org"], stages=[(f"S{n}", 10, False, False) for n in range(stage_count)])
    for stage in f.stages(pipe):
        for deal in f.deals(
            stage, deals_per_stage, owner=team["agent"], contact=f.contact(team["org"])
        ):
            deal.labels.add(label)
    return team, pipe


@pytest.mark.parametrize(("stage_count", "deals_per_stage"), [(2, 1), (6, 1), (2, 30), (6, 30)])
def test_the_board_takes_the_same_queries_whatever_its_size(
    django_assert_num_queries: Any, stage_count: int, deals_per_stage: int
) -> None:
    team, pipe = _board_with(stage_count, deals_per_stage)
    pipe = Pipeline.objects.get(pk=pipe.pk)

    # stages, custom fields, the windowed cards, their labels, the totals
    with django_assert_num_queries(5):
        data = board.board_data(user=team["agent"], pipeline=pipe, per_column=10)

    assert [len(column["deals"]) for column in data["columns"]] == [
        min(deals_per_stage, 10)
    ] * stage_count


def test_filters_narrow_the_cards_but_not_the_totals(django_assert_num_queries: Any) -> None:
    team = f.team()
    pipe = f.pipeline(team["org"])
    stage = f.stages(pipe)[0]
    mine = f.deals(stage, 2, owner=team["agent"], value=5)
    f.deals(stage, 2, owner=team["admin"], value=7)

    with django_assert_num_queries(5):
        data = board.board_data(
            user=team["agent"], pipeline=pipe, filters={"owner": "me", "q": "deal"}
        )

    column = data["columns"][0]
    assert ids(column["deals"]) == [d.pk for d in mine]
    assert column["totals"]["count"] == 4


def test_a_column_pages_by_cursor_without_gaps_or_repeats() -> None:
    team = f.team()
    pipe = f.pipeline(team["org"])
    stage = f.stages(pipe)[0]
    created = f.deals(stage, 7)
    # Two cards share a key: the id breaks the tie
    Deal.objects.filter(pk=created[4].pk).update(position=created[3].position)

    first = board.board_data(user=team["agent"], pipeline=pipe, per_column=3)["columns"][0]
    second = board.column_page(pipeline=pipe, stage=stage, cursor=first["next_cursor"], limit=3)
    third = board.column_page(pipeline=pipe, stage=stage, cursor=second["next_cursor"], limit=3)

    assert ids(first["deals"]) + ids(second["deals"]) + ids(third["deals"]) == [
        d.pk for d in created
    ]
    assert (second["next_cursor"] is not None, third["next_cursor"]) == (True, None)
    assert third["totals"] == {"stage_id": stage.pk, "count": 7, "value": 0, "weighted_value": 0}
    whole = board.column_page(pipeline=pipe, stage=stage, cursor=None, limit=50)
    assert ids(whole["deals"]) == [d.pk for d in created]


@pytest.mark.parametrize("cursor", ["garbage", "W10", "eyJ4IjogMX0", "WzEsMl0"])
def test_a_cursor_the_board_did_not_make_is_refused(cursor: str) -> None:
    from core.exceptions import ApplicationError

    team = f.team()
    pipe = f.pipeline(team["org"])
    stage = f.stages(pipe)[0]

    with pytest.raises(ApplicationError) as error:
        board.column_page(pipeline=pipe, stage=stage, cursor=cursor)

    assert (error.value.status_code, error.value.code) == (422, "crm.invalid_cursor")
