"""The live board: every change goes to ``crm.pipeline.<id>`` after commit, with the card as
committed and the totals of the columns it touched; only people who see the pipeline may
follow it."""

from __future__ import annotations

from typing import Any

import pytest
from guardian.shortcuts import assign_perm

from accounts.tests.helpers import committed
from core.exceptions import ApplicationError
from crm import board, deals, events
from crm.tests import factories as f
from crm.topics import can_follow_pipeline

pytestmark = pytest.mark.django_db


def sent(published: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, str, Any]]:
    return [(group, message["event"], message["data"]) for group, message in published]


@pytest.fixture
def setup() -> dict[str, Any]:
    team = f.team()
    pipe = f.pipeline(team["org"])
    return {**team, "pipeline": pipe, "stages": f.stages(pipe), "group": f"crm.pipeline.{pipe.pk}"}


def test_a_created_deal_is_sent_with_its_column_totals(
    setup: dict[str, Any], published: list[tuple[str, dict[str, Any]]]
) -> None:
    new = setup["stages"][0]
    f.deals(new, 1, value=100)

    with committed():
        deal = deals.deal_create(
            actor=setup["agent"],
            organization_id=setup["org"].pk,
            pipeline_id=setup["pipeline"].pk,
            title="Fresh",
            value=500,
        )

    assert sent(published) == [
        (
            setup["group"],
            "crm.deal.created",
            {
                "deal": board.card_by_id(deal.pk),
                "totals": [{"stage_id": new.pk, "count": 2, "value": 600, "weighted_value": 60}],
            },
        )
    ]


def test_nothing_is_sent_before_the_commit_or_for_a_refusal(
    setup: dict[str, Any], published: list[tuple[str, dict[str, Any]]]
) -> None:
    deals.deal_create(
        actor=setup["agent"],
        organization_id=setup["org"].pk,
        pipeline_id=setup["pipeline"].pk,
        title="Uncommitted",
    )
    with committed(), pytest.raises(ApplicationError):
        deals.deal_create(
            actor=setup["agent"],
            organization_id=setup["org"].pk,
            pipeline_id=setup["pipeline"].pk,
            title="Bad",
            value="abc",
        )

    assert published == []


def test_a_move_between_columns_sends_the_card_and_both_totals(
    setup: dict[str, Any], published: list[tuple[str, dict[str, Any]]]
) -> None:
    new, qualified = setup["stages"][:2]
    deal = f.deals(new, 1, value=1000)[0]
    f.deals(qualified, 1, value=40)

    with committed():
        deals.deal_move(
            actor=setup["agent"],
            deal_id=deal.pk,
            organization_id=setup["org"].pk,
            stage_id=qualified.pk,
        )

    card = board.card_by_id(deal.pk)
    assert card is not None and card["version"] == 2 and card["stage_id"] == qualified.pk
    assert sent(published) == [
        (
            setup["group"],
            "crm.deal.moved",
            {
                "deal": card,
                "from_stage_id": new.pk,
                "totals": [
                    {"stage_id": new.pk, "count": 0, "value": 0, "weighted_value": 0},
                    {"stage_id": qualified.pk, "count": 2, "value": 1040, "weighted_value": 260},
                ],
            },
        )
    ]


def test_a_move_inside_a_column_sends_its_totals_once(
    setup: dict[str, Any], published: list[tuple[str, dict[str, Any]]]
) -> None:
    new = setup["stages"][0]
    a, b = f.deals(new, 2)

    with committed():
        deals.deal_move(
            actor=setup["agent"],
            deal_id=b.pk,
            organization_id=setup["org"].pk,
            stage_id=new.pk,
            after_id=a.pk,
        )

    assert sent(published) == [
        (
            setup["group"],
            "crm.deal.moved",
            {
                "deal": board.card_by_id(b.pk),
                "from_stage_id": new.pk,
                "totals": [{"stage_id": new.pk, "count": 2, "value": 0, "weighted_value": 0}],
            },
        )
    ]


def test_an_edit_and_a_deletion_are_sent(
    setup: dict[str, Any], published: list[tuple[str, dict[str, Any]]]
) -> None:
    new = setup["stages"][0]
    deal = f.deals(new, 1, owner=setup["agent"])[0]

    with committed():
        deals.deal_update(actor=setup["agent"], deal=deal, value=300)
    edited = board.card_by_id(deal.pk)
    with committed():
        deals.deal_delete(actor=setup["agent"], deal=deal)

    assert edited is not None and edited["version"] == 2
    assert sent(published) == [
        (
            setup["group"],
            "crm.deal.updated",
            {
                "deal": edited,
                "totals": [{"stage_id": new.pk, "count": 1, "value": 300, "weighted_value": 30}],
            },
        ),
        (
            setup["group"],
            "crm.deal.deleted",
            {
                "deal_id": deal.pk,
                "stage_id": new.pk,
                "pipeline_id": setup["pipeline"].pk,
                "version": 2,
                "totals": [{"stage_id": new.pk, "count": 0, "value": 0, "weighted_value": 0}],
            },
        ),
    ]


def test_a_rebalance_and_a_pipeline_change_are_sent(
    setup: dict[str, Any], published: list[tuple[str, dict[str, Any]]]
) -> None:
    new = setup["stages"][0]
    f.deals(new, 2)

    with committed():
        deals.stage_rebalance(stage_id=new.pk)
        events.pipeline_changed(setup["pipeline"].pk)

    assert sent(published) == [
        (
            setup["group"],
            "crm.stage.rebalanced",
            {"stage_id": new.pk, "pipeline_id": setup["pipeline"].pk},
        ),
        (setup["group"], "crm.pipeline.changed", {"pipeline_id": setup["pipeline"].pk}),
    ]


def test_only_people_who_see_the_pipeline_may_follow_its_board(setup: dict[str, Any]) -> None:
    from accounts.roles import Role

    restricted = f.pipeline(setup["org"], "Secret", restricted=True)
    granted = f.member(setup["org"], role=Role.AGENT)
    assign_perm("crm.use_pipeline", granted, restricted)
    people = {
        "admin": setup["admin"],
        "agent": setup["agent"],
        "granted": granted,
        "viewer": setup["viewer"],
        "outsider": setup["outsider"],
    }

    def allowed(key: str) -> list[str]:
        return [name for name, user in people.items() if can_follow_pipeline(user, key)]

    assert allowed(str(setup["pipeline"].pk)) == ["admin", "agent", "granted", "viewer"]
    assert allowed(str(restricted.pk)) == ["admin", "granted"]
    assert allowed("999999") == []
    assert allowed("abc") == []
