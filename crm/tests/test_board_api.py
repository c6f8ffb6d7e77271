"""The kanban API: the board, a column's pages, creating and moving cards, and who may."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.tests.helpers import assert_error, client_for
from crm import board
from crm.models import Activity, Deal
from crm.tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup() -> dict[str, Any]:
    team = f.team()
    pipe = f.pipeline(team["org"])
    org = team["org"].pk
    return {
        **team,
        "pipeline": pipe,
        "stages": f.stages(pipe),
        "base": f"/api/v1/crm/{org}/",
    }


def test_members_read_the_board_and_outsiders_get_404(setup: dict[str, Any]) -> None:
    new = setup["stages"][0]
    f.deals(new, 3)
    url = f"{setup['base']}pipelines/{setup['pipeline'].pk}/board/?per_column=2"

    response = client_for(setup["viewer"]).get(url)

    assert response.status_code == 200
    assert response.json() == board.board_data(
        user=setup["viewer"], pipeline=setup["pipeline"], per_column=2
    )
    assert_error(client_for(setup["outsider"]).get(url), 404, "crm.not_found")
    assert client_for(None).get(url).status_code == 401


def test_a_restricted_pipeline_is_404_for_agents_not_given_it(setup: dict[str, Any]) -> None:
    secret = f.pipeline(setup["org"], "Secret", restricted=True)

    response = client_for(setup["agent"]).get(f"{setup['base']}pipelines/{secret.pk}/board/")

    assert_error(response, 404, "crm.not_found")


def test_the_board_takes_filters_and_refuses_bad_ones(setup: dict[str, Any]) -> None:
    new = setup["stages"][0]
    mine = f.deals(new, 1, owner=setup["agent"])
    f.deals(new, 1)
    url = f"{setup['base']}pipelines/{setup['pipeline'].pk}/board/"

    response = client_for(setup["agent"]).get(url, {"owner": "me"})
    bad = client_for(setup["agent"]).get(url, {"value_min": "lots"})

    assert [card["id"] for card in response.json()["columns"][0]["deals"]] == [mine[0].pk]
    assert_error(bad, 422, "crm.invalid_filter", {"field": "value_min"})


def test_a_column_pages_through_its_cards(setup: dict[str, Any]) -> None:
    new = setup["stages"][0]
    created = f.deals(new, 3)
    board_url = f"{setup['base']}pipelines/{setup['pipeline'].pk}/board/?per_column=2"
    column_url = f"{setup['base']}pipelines/{setup['pipeline'].pk}/stages/{new.pk}/deals/"
    client = client_for(setup["agent"])
    cursor = client.get(board_url).json()["columns"][0]["next_cursor"]

    response = client.get(column_url, {"cursor": cursor, "limit": 2})

    assert response.status_code == 200
    assert response.json() == {
        "deals": [board.card_by_id(created[2].pk)],
        "next_cursor": None,
        "totals": {"stage_id": new.pk, "count": 3, "value": 0, "weighted_value": 0},
    }
    assert_error(client.get(column_url, {"cursor": "nope"}), 422, "crm.invalid_cursor")
    other_stage = f.stages(f.pipeline(setup["org"], "Other"))[0]
    wrong = f"{setup['base']}pipelines/{setup['pipeline'].pk}/stages/{other_stage.pk}/deals/"
    assert_error(client.get(wrong), 404, "crm.not_found")
    assert_error(client_for(setup["outsider"]).get(column_url), 404, "crm.not_found")


def test_an_agent_creates_a_deal(setup: dict[str, Any]) -> None:
    qualified = setup["stages"][1]

    response = client_for(setup["agent"]).post(
        f"{setup['base']}deals/",
        {
            "pipeline_id": setup["pipeline"].pk,
            "stage_id": qualified.pk,
            "title": "Website",
            "value": 120_000,
            "expected_close_date": "2030-03-01",
        },
        format="json",
    )

    assert response.status_code == 201
    deal = Deal.objects.get()
    assert response.json() == board.card_by_id(deal.pk)
    assert (deal.stage_id, deal.value, deal.title) == (qualified.pk, 120_000, "Website")


def test_creating_is_refused_for_viewers_outsiders_and_bad_values(setup: dict[str, Any]) -> None:
    url = f"{setup['base']}deals/"
    body = {"pipeline_id": setup["pipeline"].pk, "title": "Website"}

    assert_error(
        client_for(setup["viewer"]).post(url, body, format="json"), 403, "crm.permission_denied"
    )
    assert_error(client_for(setup["outsider"]).post(url, body, format="json"), 404, "crm.not_found")
    assert_error(
        client_for(setup["agent"]).post(url, {**body, "value": "abc"}, format="json"),
        422,
        "crm.invalid_value",
    )
    assert_error(
        client_for(setup["agent"]).post(url, {**body, "value": 1.5}, format="json"),
        422,
        "crm.invalid_value",
    )
    other_stage = f.stages(f.pipeline(setup["other_org"], "Theirs"))[0]
    assert_error(
        client_for(setup["agent"]).post(url, {**body, "stage_id": other_stage.pk}, format="json"),
        422,
        "crm.invalid_reference",
        {"field": "stage_id"},
    )
    assert Deal.objects.count() == 0


def test_the_deal_list_still_answers_on_the_same_route(setup: dict[str, Any]) -> None:
    f.deals(setup["stages"][0], 2)

    response = client_for(setup["viewer"]).get(f"{setup['base']}deals/")

    assert response.status_code == 200
    assert response.json()["count"] == 2


def test_an_agent_moves_a_card(setup: dict[str, Any]) -> None:
    new, qualified = setup["stages"][:2]
    deal = f.deals(new, 1)[0]
    above, below = f.deals(qualified, 2)

    response = client_for(setup["agent"]).post(
        f"{setup['base']}deals/{deal.pk}/move/",
        {"stage_id": qualified.pk, "before_id": above.pk, "after_id": below.pk, "version": 1},
        format="json",
    )

    assert response.status_code == 200
    assert response.json() == board.card_by_id(deal.pk)
    assert response.json()["version"] == 2
    assert list(
        Deal.objects.filter(stage=qualified).order_by("position", "id").values_list("pk", flat=True)
    ) == [above.pk, deal.pk, below.pk]


def test_a_stale_move_answers_409_with_the_current_card(setup: dict[str, Any]) -> None:
    new, qualified = setup["stages"][:2]
    deal = f.deals(new, 1)[0]
    client = client_for(setup["agent"])
    url = f"{setup['base']}deals/{deal.pk}/move/"
    client.post(url, {"stage_id": qualified.pk, "version": 1}, format="json")

    response = client.post(url, {"stage_id": new.pk, "version": 1}, format="json")

    assert_error(
        response, 409, "crm.stale_move", {"deal": board.card_by_id(deal.pk), "reason": "version"}
    )
    assert Deal.objects.get().stage_id == qualified.pk


def test_moves_to_stages_outside_the_pipeline_are_422_and_others_are_refused(
    setup: dict[str, Any],
) -> None:
    deal = f.deals(setup["stages"][0], 1)[0]
    url = f"{setup['base']}deals/{deal.pk}/move/"
    other_pipeline_stage = f.stages(f.pipeline(setup["org"], "Renewals"))[0]
    other_org_stage = f.stages(f.pipeline(setup["other_org"], "Theirs"))[0]
    agent = client_for(setup["agent"])

    for stage in (other_pipeline_stage, other_org_stage):
        assert_error(
            agent.post(url, {"stage_id": stage.pk}, format="json"), 422, "crm.invalid_stage"
        )
    target = {"stage_id": setup["stages"][1].pk}
    assert_error(
        client_for(setup["viewer"]).post(url, target, format="json"), 403, "crm.permission_denied"
    )
    assert_error(
        client_for(setup["outsider"]).post(url, target, format="json"), 404, "crm.not_found"
    )
    assert_error(
        agent.post(f"{setup['base']}deals/999999/move/", target, format="json"),
        404,
        "crm.not_found",
    )
    unknown = agent.post(url, {**target, "surprise": 1}, format="json")
    assert (unknown.status_code, unknown.json()["code"]) == (400, "validation_error")
    assert list(unknown.json()["extra"]["fields"]) == ["surprise"]
    assert Deal.objects.get().version == 1
    assert Activity.objects.count() == 0
