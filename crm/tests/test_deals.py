"""The deal services: create, edit, move, win, lose, reopen, delete.

Each refusal leaves the database as it was: no deal, no version bump, no timeline line.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from accounts.roles import Role
from accounts.tests.helpers import committed
from chat.models import Notification
from core.exceptions import ApplicationError
from crm import deals
from crm.board import card_by_id
from crm.models import (
    Activity,
    Company,
    CustomField,
    Deal,
    DealStatus,
    Label,
    LostReason,
    Stage,
)
from crm.signals import deal_stage_changed
from crm.tests import factories as f

pytestmark = pytest.mark.django_db


def timeline(deal: Deal) -> list[tuple[str, int | None, str, dict[str, Any]]]:
    """The deal's activities, oldest first: (kind, actor id, body, data)."""
    return [
        (a.kind, a.actor_id, a.body, a.data)
        for a in Activity.objects.filter(deal_id=deal.pk).order_by("id")
    ]


def ref(stage: Stage) -> dict[str, Any]:
    return {"id": stage.pk, "name": stage.name}


def snapshot() -> dict[str, Any]:
    return {
        "deals": list(Deal.objects.order_by("pk").values()),
        "activities": Activity.objects.count(),
        "notifications": Notification.objects.count(),
    }


def refused(error: pytest.ExceptionInfo[ApplicationError]) -> tuple[int, str, dict[str, Any]]:
    return error.value.status_code, error.value.code, error.value.extra


@pytest.fixture
def board() -> dict[str, Any]:
    """A team with the Sales pipeline (New, Qualified, Proposal, Won, Lost)."""
    team = f.team()
    pipe = f.pipeline(team["org"])
    return {**team, "pipeline": pipe, "stages": f.stages(pipe)}


@pytest.fixture
def stage_changes() -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    def listener(sender: Any, **kwargs: Any) -> None:
        kwargs.pop("signal", None)
        sent.append(kwargs)

    deal_stage_changed.connect(listener, weak=False, dispatch_uid="test_deals")
    yield sent
    deal_stage_changed.disconnect(dispatch_uid="test_deals")


def create(board: dict[str, Any], **fields: Any) -> Deal:
    fields.setdefault("actor", board["agent"])
    fields.setdefault("title", "Big sale")
    return deals.deal_create(
        organization_id=board["org"].pk, pipeline_id=board["pipeline"].pk, **fields
    )


def move(board: dict[str, Any], deal: Deal, stage: Stage, **fields: Any) -> Deal:
    fields.setdefault("actor", board["agent"])
    return deals.deal_move(
        deal_id=deal.pk, organization_id=board["org"].pk, stage_id=stage.pk, **fields
    )


# --- Creating --------------------------------------------------------------------------------


def test_it_creates_a_deal_at_the_end_of_the_first_stage(
    board: dict[str, Any], stage_changes: list[dict[str, Any]]
) -> None:
    # Given a first column with two cards, a contact, a company and a label
    new = board["stages"][0]
    existing = f.deals(new, 2)
    contact = f.contact(board["org"])
    company = Company.objects.create(organization=board["org"], name="ACME")
    label = Label.objects.create(organization=board["org"], name="Hot")
    CustomField.objects.create(pipeline=board["pipeline"], key="size", label="Size", kind="number")

    # When an agent creates a deal they own
    with committed():
        deal = create(
            board,
            title="  Big sale  ",
            value=150_000,
            contact_id=contact.pk,
            company_id=company.pk,
            owner_id=board["agent"].pk,
            expected_close_date="2030-01-31",
            label_ids=[label.pk],
            custom_fields={"size": 12},
        )

    # Then it sits last in the first column, open, version 1, with a CREATED line
    deal.refresh_from_db()
    assert deal.stage_id == new.pk
    assert deal.position > existing[-1].position
    assert (deal.title, deal.value, deal.currency, deal.status, deal.version) == (
        "Big sale",
        150_000,
        "BRL",
        DealStatus.OPEN,
        1,
    )
    assert (deal.contact_id, deal.company_id, deal.owner_id) == (
        contact.pk,
        company.pk,
        board["agent"].pk,
    )
    assert deal.expected_close_date == datetime.date(2030, 1, 31)
    assert deal.custom_fields == {"size": 12}
    assert list(deal.labels.values_list("pk", flat=True)) == [label.pk]
    assert deal.created_by_id == board["agent"].pk
    assert deal.closed_at is None
    assert timeline(deal) == [("created", board["agent"].pk, "", {"stage": ref(new)})]
    # The owner is the actor: nobody is notified
    assert Notification.objects.count() == 0
    assert stage_changes == [
        {
            "deal_id": deal.pk,
            "organization_id": board["org"].pk,
            "from_stage_id": None,
            "to_stage_id": new.pk,
            "version": 1,
        }
    ]


def test_it_creates_at_the_top_and_in_a_chosen_stage(board: dict[str, Any]) -> None:
    qualified = board["stages"][1]
    existing = f.deals(qualified, 2)

    deal = create(board, stage_id=qualified.pk, at_top=True)

    order = list(Deal.objects.filter(stage=qualified).order_by("position", "id"))
    assert [d.pk for d in order] == [deal.pk, existing[0].pk, existing[1].pk]


def test_a_deal_created_in_a_won_stage_is_won_at_once(board: dict[str, Any]) -> None:
    won = board["stages"][3]

    deal = create(board, stage_id=won.pk)

    assert deal.status == DealStatus.WON
    assert deal.closed_at is not None


def test_a_new_owner_other_than_the_actor_is_notified_in_their_language(
    board: dict[str, Any],
) -> None:
    admin = board["admin"]
    admin.language = "en"
    admin.save()
    board["agent"].display_name = "Bia Agent"
    board["agent"].save()

    deal = create(board, owner_id=admin.pk)

    notification = Notification.objects.get()
    assert (
        notification.user_id,
        notification.kind,
        notification.source,
        notification.title,
        notification.url,
        notification.data,
        notification.organization_id,
    ) == (
        admin.pk,
        "crm_deal_assigned",
        f"deal_assigned:{deal.pk}:1",
        "Bia Agent gave you the deal Big sale",
        f"/crm/deals/{deal.pk}",
        {"deal_id": deal.pk, "pipeline_id": board["pipeline"].pk},
        board["org"].pk,
    )


def test_it_refuses_references_outside_the_organization(board: dict[str, Any]) -> None:
    other = board["other_org"]
    other_pipe = f.pipeline(other, "Theirs")
    foreign = {
        "contact_id": f.contact(other).pk,
        "company_id": Company.objects.create(organization=other, name="Elsewhere").pk,
        "owner_id": board["outsider"].pk,
        "label_ids": [Label.objects.create(organization=other, name="Theirs").pk],
        "stage_id": f.stages(other_pipe)[0].pk,
    }
    before = snapshot()

    for field, value in foreign.items():
        with pytest.raises(ApplicationError) as error:
            create(board, **{field: value})
        assert refused(error) == (422, "crm.invalid_reference", {"field": field})

    assert snapshot() == before


def test_a_stage_of_another_pipeline_of_the_organization_is_refused(
    board: dict[str, Any],
) -> None:
    other_stage = f.stages(f.pipeline(board["org"], "Renewals"))[0]

    with pytest.raises(ApplicationError) as error:
        create(board, stage_id=other_stage.pk)

    assert refused(error) == (422, "crm.invalid_reference", {"field": "stage_id"})
    assert Deal.objects.count() == 0


@pytest.mark.parametrize("value", ["abc", "1000", 10.5, -1, True, None, 10**16])
def test_a_value_that_is_not_whole_centavos_is_refused(board: dict[str, Any], value: Any) -> None:
    with pytest.raises(ApplicationError) as error:
        create(board, value=value)

    assert refused(error) == (422, "crm.invalid_value", {})
    assert snapshot() == {"deals": [], "activities": 0, "notifications": 0}


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"title": "   "}, "crm.invalid_title"),
        ({"title": "x" * 201}, "crm.invalid_title"),
        ({"currency": "R$"}, "crm.invalid_currency"),
        ({"probability": 101}, "crm.invalid_probability"),
        ({"expected_close_date": "31/01/2030"}, "crm.invalid_date"),
    ],
)
def test_bad_fields_are_refused(board: dict[str, Any], fields: dict[str, Any], code: str) -> None:
    with pytest.raises(ApplicationError) as error:
        create(board, **fields)

    assert refused(error) == (422, code, {})
    assert Deal.objects.count() == 0


@pytest.mark.parametrize(
    ("values", "code", "extra"),
    [
        ({"nope": 1}, "crm.unknown_custom_field", {"field": "nope"}),
        (
            {"size": "12", "tier": "gold"},
            "crm.invalid_custom_field",
            {"field": "size", "kind": "number"},
        ),
        (
            {"size": True, "tier": "gold"},
            "crm.invalid_custom_field",
            {"field": "size", "kind": "number"},
        ),
        (
            {"due": "2030-02-30", "tier": "gold"},
            "crm.invalid_custom_field",
            {"field": "due", "kind": "date"},
        ),
        ({"tier": "platinum"}, "crm.invalid_custom_field", {"field": "tier", "kind": "choice"}),
        (
            {"note": "x" * 1001, "tier": "gold"},
            "crm.invalid_custom_field",
            {"field": "note", "kind": "text"},
        ),
        ({"size": 3}, "crm.custom_field_required", {"field": "tier"}),
        ({"tier": None}, "crm.custom_field_required", {"field": "tier"}),
        ("tier=gold", "crm.invalid_custom_field", {"field": None, "kind": None}),
    ],
)
def test_custom_field_values_are_checked(
    board: dict[str, Any], values: Any, code: str, extra: dict[str, Any]
) -> None:
    pipe = board["pipeline"]
    CustomField.objects.create(pipeline=pipe, key="size", label="Size", kind="number")
    CustomField.objects.create(pipeline=pipe, key="due", label="Due", kind="date")
    CustomField.objects.create(pipeline=pipe, key="note", label="Note", kind="text")
    CustomField.objects.create(
        pipeline=pipe,
        key="tier",
        label="Tier",
        kind="choice",
        choices=["gold", "silver"],
        required=True,
    )

    with pytest.raises(ApplicationError) as error:
        create(board, custom_fields=values)

    assert refused(error) == (422, code, extra)
    assert Deal.objects.count() == 0


def test_custom_fields_of_every_kind_are_stored(board: dict[str, Any]) -> None:
    pipe = board["pipeline"]
    CustomField.objects.create(pipeline=pipe, key="size", label="Size", kind="number")
    CustomField.objects.create(pipeline=pipe, key="due", label="Due", kind="date")
    CustomField.objects.create(pipeline=pipe, key="note", label="Note", kind="text")
    CustomField.objects.create(
        pipeline=pipe, key="tier", label="Tier", kind="choice", choices=["gold"]
    )

    deal = create(
        board, custom_fields={"size": 2.5, "due": "2030-02-28", "note": "Hi", "tier": None}
    )

    assert deal.custom_fields == {"size": 2.5, "due": "2030-02-28", "note": "Hi"}


def test_viewers_outsiders_and_agents_of_a_restricted_pipeline_cannot_create(
    board: dict[str, Any],
) -> None:
    restricted = f.pipeline(board["org"], "Secret", restricted=True)

    with pytest.raises(ApplicationError) as viewer:
        create(board, actor=board["viewer"])
    with pytest.raises(ApplicationError) as outsider:
        create(board, actor=board["outsider"])
    with pytest.raises(ApplicationError) as agent:
        deals.deal_create(
            actor=board["agent"],
            organization_id=board["org"].pk,
            pipeline_id=restricted.pk,
            title="Hidden",
        )

    assert refused(viewer) == (403, "crm.permission_denied", {})
    assert refused(outsider) == (404, "crm.not_found", {})
    assert refused(agent) == (404, "crm.not_found", {})
    assert Deal.objects.count() == 0


# --- Editing ---------------------------------------------------------------------------------


def test_an_edit_records_each_change_and_bumps_the_version(board: dict[str, Any]) -> None:
    CustomField.objects.create(pipeline=board["pipeline"], key="size", label="Size", kind="number")
    CustomField.objects.create(pipeline=board["pipeline"], key="note", label="Note", kind="text")
    hot = Label.objects.create(organization=board["org"], name="Hot")
    deal = create(board, value=100, custom_fields={"size": 1, "note": "keep"})

    updated = deals.deal_update(
        actor=board["agent"],
        deal=deal,
        expected_version=1,
        title="Bigger sale",
        value=250,
        probability=40,
        expected_close_date=datetime.date(2030, 5, 1),
        label_ids=[hot.pk],
        custom_fields={"size": 2, "note": None},
        currency="BRL",
    )

    updated.refresh_from_db()
    assert (updated.title, updated.value, updated.probability, updated.version) == (
        "Bigger sale",
        250,
        40,
        2,
    )
    assert updated.custom_fields == {"size": 2}
    assert list(updated.labels.values_list("pk", flat=True)) == [hot.pk]
    assert timeline(updated)[1:] == [
        (
            "field_change",
            board["agent"].pk,
            "",
            {
                "changes": {
                    "title": ["Big sale", "Bigger sale"],
                    "value": [100, 250],
                    "probability": [None, 40],
                    "expected_close_date": [None, "2030-05-01"],
                    "custom_fields.size": [1, 2],
                    "custom_fields.note": ["keep", None],
                    "label_ids": [[], [hot.pk]],
                }
            },
        )
    ]


def test_an_edit_that_changes_nothing_writes_nothing(board: dict[str, Any]) -> None:
    deal = create(board, value=100)
    before = snapshot()

    same = deals.deal_update(actor=board["agent"], deal=deal, title="Big sale", value=100)

    assert same.version == 1
    assert snapshot() == before


def test_a_stale_edit_is_refused_with_the_current_card(board: dict[str, Any]) -> None:
    deal = create(board)
    deals.deal_update(actor=board["agent"], deal=deal, title="Changed")
    before = snapshot()

    with pytest.raises(ApplicationError) as error:
        deals.deal_update(actor=board["agent"], deal=deal, expected_version=1, title="Mine")

    assert refused(error) == (409, "crm.stale_deal", {"deal": card_by_id(deal.pk)})
    assert error.value.extra["deal"]["version"] == 2
    assert snapshot() == before


def test_an_edit_to_another_owner_notifies_them_and_a_bad_reference_changes_nothing(
    board: dict[str, Any],
) -> None:
    deal = create(board)
    before = snapshot()

    with pytest.raises(ApplicationError) as error:
        deals.deal_update(
            actor=board["agent"], deal=deal, title="New", owner_id=board["outsider"].pk
        )
    assert refused(error) == (422, "crm.invalid_reference", {"field": "owner_id"})
    assert snapshot() == before

    deals.deal_update(actor=board["agent"], deal=deal, owner_id=board["admin"].pk)

    assert list(Notification.objects.values_list("user_id", "source")) == [
        (board["admin"].pk, f"deal_assigned:{deal.pk}:2")
    ]


def test_viewers_cannot_edit(board: dict[str, Any]) -> None:
    deal = create(board)

    with pytest.raises(ApplicationError) as error:
        deals.deal_update(actor=board["viewer"], deal=deal, title="No")

    assert refused(error) == (403, "crm.permission_denied", {})
    assert Deal.objects.get().title == "Big sale"


# --- Moving ----------------------------------------------------------------------------------


def test_a_move_within_a_column_changes_only_the_position_and_version(
    board: dict[str, Any], stage_changes: list[dict[str, Any]]
) -> None:
    new = board["stages"][0]
    a, b, c = f.deals(new, 3)
    changed_at = Deal.objects.get(pk=c.pk).stage_changed_at

    with committed():
        moved = move(board, c, new, before_id=a.pk, after_id=b.pk, expected_version=1)

    assert list(
        Deal.objects.filter(stage=new).order_by("position", "id").values_list("pk", flat=True)
    ) == [
        a.pk,
        c.pk,
        b.pk,
    ]
    moved.refresh_from_db()
    assert (moved.version, moved.stage_changed_at, moved.status) == (2, changed_at, "open")
    assert timeline(moved) == []
    assert stage_changes == []


def test_a_move_between_columns_records_the_stage_change(
    board: dict[str, Any], stage_changes: list[dict[str, Any]]
) -> None:
    new, qualified = board["stages"][:2]
    deal = f.deals(new, 1)[0]
    target = f.deals(qualified, 2)

    with committed():
        moved = move(board, deal, qualified, before_id=target[1].pk)

    moved.refresh_from_db()
    assert moved.stage_id == qualified.pk
    assert moved.version == 2
    assert moved.stage_changed_at > deal.stage_changed_at
    assert list(
        Deal.objects.filter(stage=qualified).order_by("position", "id").values_list("pk", flat=True)
    ) == [
        target[0].pk,
        target[1].pk,
        deal.pk,
    ]
    assert timeline(moved) == [
        ("stage_change", board["agent"].pk, "", {"from": ref(new), "to": ref(qualified)})
    ]
    assert stage_changes == [
        {
            "deal_id": deal.pk,
            "organization_id": board["org"].pk,
            "from_stage_id": new.pk,
            "to_stage_id": qualified.pk,
            "version": 2,
        }
    ]


def test_moving_into_won_and_lost_stages_closes_and_leaving_them_reopens(
    board: dict[str, Any],
) -> None:
    new, _qualified, _proposal, won, lost = board["stages"]
    deal = f.deals(new, 1)[0]

    move(board, deal, won)
    deal.refresh_from_db()
    assert (deal.status, deal.closed_at is not None) == ("won", True)

    move(board, deal, lost)
    deal.refresh_from_db()
    assert (deal.status, deal.closed_at is not None, deal.lost_reason_id) == ("lost", True, None)

    move(board, deal, new)
    deal.refresh_from_db()
    assert (deal.status, deal.closed_at, deal.version) == ("open", None, 4)


def test_a_move_to_another_pipelines_or_organizations_stage_is_refused(
    board: dict[str, Any],
) -> None:
    deal = f.deals(board["stages"][0], 1)[0]
    elsewhere = [
        f.stages(f.pipeline(board["org"], "Renewals"))[0],
        f.stages(f.pipeline(board["other_org"], "Theirs"))[0],
    ]
    before = snapshot()

    for stage in elsewhere:
        with pytest.raises(ApplicationError) as error:
            move(board, deal, stage)
        assert refused(error) == (422, "crm.invalid_stage", {})

    assert snapshot() == before


def test_a_stale_move_is_refused_with_the_current_card(board: dict[str, Any]) -> None:
    new, qualified = board["stages"][:2]
    deal = f.deals(new, 1)[0]
    move(board, deal, qualified, expected_version=1)
    before = snapshot()

    with pytest.raises(ApplicationError) as error:
        move(board, deal, new, expected_version=1)

    assert refused(error) == (
        409,
        "crm.stale_move",
        {"deal": card_by_id(deal.pk), "reason": "version"},
    )
    assert error.value.extra["deal"]["stage_id"] == qualified.pk
    assert snapshot() == before


def test_neighbours_that_are_no_longer_next_to_each_other_are_refused(
    board: dict[str, Any],
) -> None:
    new, qualified = board["stages"][:2]
    a, b, c = f.deals(new, 3)
    mover = f.deals(qualified, 1)[0]
    outside = f.deals(qualified, 1)[0]
    before = snapshot()

    for neighbours in (
        {"before_id": a.pk, "after_id": c.pk},  # b is between them now
        {"before_id": b.pk, "after_id": a.pk},  # the wrong way round
        {"before_id": outside.pk},  # not in the column
        {"after_id": 999_999},
    ):
        with pytest.raises(ApplicationError) as error:
            move(board, mover, new, **neighbours)
        assert refused(error) == (
            409,
            "crm.stale_move",
            {"deal": card_by_id(mover.pk), "reason": "neighbours"},
        )

    assert snapshot() == before


def test_one_neighbour_is_enough_and_none_means_the_end(board: dict[str, Any]) -> None:
    new, qualified = board["stages"][:2]
    a, b = f.deals(new, 2)
    x, y, z = f.deals(qualified, 3)

    move(board, x, new, before_id=a.pk)
    move(board, y, new, after_id=a.pk)
    move(board, z, new)

    assert list(
        Deal.objects.filter(stage=new).order_by("position", "id").values_list("pk", flat=True)
    ) == [
        y.pk,
        a.pk,
        x.pk,
        b.pk,
        z.pk,
    ]


def test_viewers_and_outsiders_cannot_move(board: dict[str, Any]) -> None:
    new, qualified = board["stages"][:2]
    deal = f.deals(new, 1)[0]

    with pytest.raises(ApplicationError) as viewer:
        move(board, deal, qualified, actor=board["viewer"])
    with pytest.raises(ApplicationError) as outsider:
        move(board, deal, qualified, actor=board["outsider"])

    assert refused(viewer) == (403, "crm.permission_denied", {})
    assert refused(outsider) == (404, "crm.not_found", {})
    assert Deal.objects.get().version == 1


# --- Winning, losing, reopening --------------------------------------------------------------


def test_marking_won_moves_to_the_won_stage(
    board: dict[str, Any], stage_changes: list[dict[str, Any]]
) -> None:
    new, won = board["stages"][0], board["stages"][3]
    already = f.deals(won, 1)[0]
    deal = f.deals(new, 1)[0]

    with committed():
        result = deals.deal_mark_won(actor=board["agent"], deal=deal, expected_version=1)

    result.refresh_from_db()
    assert (result.status, result.stage_id, result.version) == ("won", won.pk, 2)
    assert result.closed_at is not None
    assert result.position > already.position
    assert timeline(result) == [("won", board["agent"].pk, "", {"from": ref(new), "to": ref(won)})]
    assert [change["to_stage_id"] for change in stage_changes] == [won.pk]
    # Winning it again changes nothing
    again = deals.deal_mark_won(actor=board["agent"], deal=result)
    assert again.version == 2
    assert len(timeline(result)) == 1


def test_marking_won_without_a_won_stage_changes_only_the_status(board: dict[str, Any]) -> None:
    team = f.team()
    pipe = f.pipeline(team["org"], stages=(("Only", 30, False, False),))
    deal = f.deals(f.stages(pipe)[0], 1)[0]

    result = deals.deal_mark_won(actor=team["agent"], deal=deal)

    assert (result.status, result.stage_id, result.version) == ("won", deal.stage_id, 2)
    assert timeline(result) == [("won", team["agent"].pk, "", {})]


def test_marking_lost_needs_an_active_reason_of_the_organization(board: dict[str, Any]) -> None:
    lost = board["stages"][4]
    deal = f.deals(board["stages"][1], 1)[0]
    price = LostReason.objects.create(organization=board["org"], name="Price")
    retired = LostReason.objects.create(organization=board["org"], name="Old", active=False)
    foreign = LostReason.objects.create(organization=board["other_org"], name="Theirs")
    before = snapshot()

    for reason_id in (None, retired.pk, foreign.pk):
        with pytest.raises(ApplicationError) as error:
            deals.deal_mark_lost(actor=board["agent"], deal=deal, reason_id=reason_id)
        assert refused(error) == (422, "crm.invalid_lost_reason", {})
    assert snapshot() == before

    result = deals.deal_mark_lost(
        actor=board["agent"], deal=deal, reason_id=price.pk, note=" Too expensive "
    )

    result.refresh_from_db()
    assert (result.status, result.stage_id, result.lost_reason_id, result.lost_note) == (
        "lost",
        lost.pk,
        price.pk,
        "Too expensive",
    )
    assert timeline(result) == [
        (
            "lost",
            board["agent"].pk,
            "Too expensive",
            {
                "from": ref(board["stages"][1]),
                "to": ref(lost),
                "reason": {"id": price.pk, "name": "Price"},
            },
        )
    ]


def test_without_reasons_a_deal_is_lost_without_one(board: dict[str, Any]) -> None:
    deal = f.deals(board["stages"][0], 1)[0]

    result = deals.deal_mark_lost(actor=board["agent"], deal=deal)

    assert (result.status, result.lost_reason_id) == ("lost", None)


def test_reopening_goes_back_to_the_first_open_stage_or_the_one_chosen(
    board: dict[str, Any],
) -> None:
    new, qualified, _proposal, won, _lost = board["stages"]
    first = f.deals(won, 1, status="won", closed_at=timezone.now())[0]
    second = f.deals(won, 1, status="won", closed_at=timezone.now())[0]

    reopened = deals.deal_reopen(actor=board["agent"], deal=first)
    chosen = deals.deal_reopen(actor=board["agent"], deal=second, stage_id=qualified.pk)

    assert (reopened.status, reopened.stage_id, reopened.closed_at) == ("open", new.pk, None)
    assert (chosen.status, chosen.stage_id) == ("open", qualified.pk)
    assert timeline(reopened) == [
        ("reopened", board["agent"].pk, "", {"from": ref(won), "to": ref(new)})
    ]
    with pytest.raises(ApplicationError) as error:
        deals.deal_reopen(actor=board["agent"], deal=chosen, stage_id=won.pk)
    assert refused(error) == (422, "crm.invalid_stage", {})
    # An open deal is left as it is
    assert deals.deal_reopen(actor=board["agent"], deal=chosen).version == 2


def test_a_deal_won_without_a_won_stage_reopens_in_place(board: dict[str, Any]) -> None:
    deal = f.deals(board["stages"][2], 1, status="won", closed_at=timezone.now())[0]

    result = deals.deal_reopen(actor=board["agent"], deal=deal)

    assert (result.status, result.stage_id, result.version) == ("open", deal.stage_id, 2)
    assert timeline(result) == [("reopened", board["agent"].pk, "", {})]


# --- Deleting --------------------------------------------------------------------------------


def test_only_the_owner_or_an_admin_deletes_a_deal(board: dict[str, Any]) -> None:
    mine = f.deals(board["stages"][0], 1, owner=board["agent"])[0]
    theirs = f.deals(board["stages"][0], 1, owner=board["admin"])[0]
    other_agent = f.member(board["org"], role=Role.AGENT)

    for actor, code in ((board["viewer"], 403), (other_agent, 403), (board["outsider"], 404)):
        with pytest.raises(ApplicationError) as error:
            deals.deal_delete(actor=actor, deal=mine)
        assert error.value.status_code == code
    assert Deal.objects.count() == 2

    deals.deal_delete(actor=board["agent"], deal=mine)
    deals.deal_delete(actor=board["admin"], deal=theirs)

    assert Deal.objects.count() == 0


# --- Rebalancing -----------------------------------------------------------------------------


def test_only_columns_with_long_keys_are_rebalanced(board: dict[str, Any]) -> None:
    new, qualified = board["stages"][:2]
    long_column = f.deals(new, 3)
    short_column = f.deals(qualified, 2)
    Deal.objects.filter(pk=long_column[1].pk).update(position="a0" + "V" * 60)
    short_keys = [d.position for d in short_column]

    assert deals.rebalance_long_positions() == 1

    assert list(
        Deal.objects.filter(stage=new).order_by("position", "id").values_list("position", flat=True)
    ) == [
        "a0",
        "a1",
        "a2",
    ]
    assert (
        list(
            Deal.objects.filter(stage=qualified)
            .order_by("position")
            .values_list("position", flat=True)
        )
        == short_keys
    )
    assert deals.rebalance_long_positions() == 0
