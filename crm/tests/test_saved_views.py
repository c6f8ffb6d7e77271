"""Saved views: per-user named filter sets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import translation

from accounts.tests.helpers import rows
from core.exceptions import ApplicationError
from crm import saved_views
from crm.models import SavedView
from crm.tests import factories as make

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def error(excinfo: pytest.ExceptionInfo[ApplicationError]) -> tuple[int, str, dict[str, Any]]:
    return excinfo.value.status_code, excinfo.value.code, excinfo.value.extra


def test_a_member_saves_views_with_cleaned_filters_in_order() -> None:
    team = make.team()
    org, viewer = team["org"], team["viewer"]

    first = saved_views.saved_view_create(
        actor=viewer,
        organization_id=org.pk,
        name=" Big deals ",
        entity="deals",
        mode="board",
        filters={"value_min": "100000", "label": ["3", 4], "owner": "me", "q": ""},
    )
    second = saved_views.saved_view_create(
        actor=viewer, organization_id=org.pk, name="Mine", entity="tasks"
    )

    assert saved_views.saved_view_data(first) == {
        "id": first.pk,
        "name": "Big deals",
        "entity": "deals",
        "mode": "board",
        "filters": {"value_min": 100000, "label": [3, 4], "owner": "me"},
        "order": 0,
    }
    assert second.order == 1
    assert [v.name for v in saved_views.saved_views_list(user=viewer, organization_id=org.pk)] == [
        "Big deals",
        "Mine",
    ]
    assert [
        v.name
        for v in saved_views.saved_views_list(user=viewer, organization_id=org.pk, entity="tasks")
    ] == ["Mine"]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"name": "  "}, (422, "crm.invalid_view", {"field": "name"})),
        ({"entity": "calls"}, (422, "crm.invalid_view", {"field": "entity"})),
        ({"mode": "grid"}, (422, "crm.invalid_view", {"field": "mode"})),
        ({"entity": "contacts", "mode": "board"}, (422, "crm.invalid_view", {"field": "mode"})),
        ({"filters": {"value_min": "lots"}}, (422, "crm.invalid_filter", {"field": "value_min"})),
        ({"name": "Taken"}, (409, "crm.view_name_taken", {})),
    ],
)
def test_it_refuses_bad_views(
    fields: dict[str, Any], expected: tuple[int, str, dict[str, Any]]
) -> None:
    team = make.team()
    org, agent = team["org"], team["agent"]
    saved_views.saved_view_create(actor=agent, organization_id=org.pk, name="Taken", entity="deals")
    before = rows(SavedView)

    with pytest.raises(ApplicationError) as excinfo:
        saved_views.saved_view_create(
            actor=agent, organization_id=org.pk, **{"name": "New", "entity": "deals", **fields}
        )

    assert error(excinfo) == expected
    assert rows(SavedView) == before


def test_two_people_may_use_the_same_name() -> None:
    team = make.team()
    org = team["org"]

    saved_views.saved_view_create(
        actor=team["agent"], organization_id=org.pk, name="Hot", entity="deals"
    )
    saved_views.saved_view_create(
        actor=team["admin"], organization_id=org.pk, name="Hot", entity="deals"
    )

    assert SavedView.objects.count() == 2


def test_outsiders_may_not_save_views_here() -> None:
    team = make.team()

    with pytest.raises(ApplicationError) as excinfo:
        saved_views.saved_view_create(
            actor=team["outsider"], organization_id=team["org"].pk, name="X", entity="deals"
        )

    assert excinfo.value.status_code == 404
    assert SavedView.objects.count() == 0


def test_updating_replaces_the_filters_and_keeps_names_unique() -> None:
    team = make.team()
    org, agent = team["org"], team["agent"]
    view = saved_views.saved_view_create(
        actor=agent, organization_id=org.pk, name="A", entity="deals", filters={"status": "won"}
    )
    saved_views.saved_view_create(actor=agent, organization_id=org.pk, name="B", entity="deals")

    updated = saved_views.saved_view_update(
        actor=agent, view=view, name="A2", filters={"value_max": 500}, mode="board", order=7
    )

    assert saved_views.saved_view_data(updated) == {
        "id": view.pk,
        "name": "A2",
        "entity": "deals",
        "mode": "board",
        "filters": {"value_max": 500},
        "order": 7,
    }
    with pytest.raises(ApplicationError) as excinfo:
        saved_views.saved_view_update(actor=agent, view=view, name="B")
    assert error(excinfo) == (409, "crm.view_name_taken", {})
    assert SavedView.objects.get(pk=view.pk).name == "A2"


def test_another_persons_view_is_not_found() -> None:
    team = make.team()
    org = team["org"]
    view = saved_views.saved_view_create(
        actor=team["admin"], organization_id=org.pk, name="A", entity="deals"
    )

    for call in (
        lambda: saved_views.saved_view_for(team["agent"], org.pk, view.pk),
        lambda: saved_views.saved_view_update(actor=team["agent"], view=view, name="Mine now"),
        lambda: saved_views.saved_view_delete(actor=team["agent"], view=view),
    ):
        with pytest.raises(ApplicationError) as excinfo:
            call()
        assert (excinfo.value.status_code, excinfo.value.code) == (404, "crm.not_found")
    assert SavedView.objects.get().name == "A"

    saved_views.saved_view_delete(actor=team["admin"], view=view)
    assert SavedView.objects.count() == 0
