"""Configuring pipelines: stages, custom fields, lost reasons, labels and access."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from accounts.roles import Role
from accounts.tests.helpers import rows
from core.exceptions import ApplicationError
from crm import access, pipelines
from crm.models import (
    Activity,
    ActivityKind,
    CustomField,
    Deal,
    DealStatus,
    Label,
    LostReason,
    Pipeline,
    Stage,
)
from crm.tests import factories as make

pytestmark = pytest.mark.django_db


def refused(error: pytest.ExceptionInfo[ApplicationError]) -> tuple[int, str, dict[str, Any]]:
    return error.value.status_code, error.value.code, error.value.extra


def column(stage: Stage) -> list[str]:
    return list(stage.deals.order_by("position", "id").values_list("title", flat=True))


def changed(published: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, str, Any]]:
    return [(group, message["event"], message["data"]) for group, message in published]


def snapshot() -> dict[str, list[dict[str, Any]]]:
    models = (Pipeline, Stage, CustomField, Deal, LostReason, Label, Activity)
    return {model.__name__: rows(model) for model in models}


# --- Pipelines -------------------------------------------------------------------------------


def test_a_new_pipeline_gets_the_default_stages_in_the_creators_language(
    published: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    people = make.team()
    make.pipeline(people["org"], "Existing")

    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        pipeline = pipelines.pipeline_create(
            actor=people["admin"], organization_id=people["org"].pk, name="  Vendas   B2B "
        )

    assert pipelines.pipeline_data(pipeline) == {
        "id": pipeline.pk,
        "name": "Vendas B2B",
        "currency": "BRL",
        "order": 1,
        "restricted": False,
        "archived": False,
        "stages": [
            {
                "id": stage.pk,
                "pipeline_id": pipeline.pk,
                "name": name,
                "color": color,
                "probability": probability,
                "is_won": name == "Won",
                "is_lost": name == "Lost",
                "order": order,
                "rotting_days": None,
            }
            for order, (stage, (name, color, probability)) in enumerate(
                zip(
                    make.stages(pipeline),
                    [
                        ("New", "#3b82f6", 10),
                        ("Qualified", "#6366f1", 25),
                        ("Proposal", "#8b5cf6", 50),
                        ("Negotiation", "#f59e0b", 75),
                        ("Won", "#16a34a", 100),
                        ("Lost", "#dc2626", 0),
                    ],
                    strict=True,
                )
            )
        ],
        "custom_fields": [],
    }
    assert changed(published) == [
        (f"crm.pipeline.{pipeline.pk}", "crm.pipeline.changed", {"pipeline_id": pipeline.pk})
    ]


def test_a_pipeline_takes_the_stages_it_is_given() -> None:
    people = make.team()

    pipeline = pipelines.pipeline_create(
        actor=people["admin"],
        organization_id=people["org"].pk,
        name="Matrículas",
        currency="USD",
        restricted=True,
        stages=[
            {"name": "Lead", "probability": 5, "rotting_days": 7},
            {"name": "Pago", "color": "#00AA00", "probability": 100, "is_won": True},
        ],
    )

    assert [
        (s.name, s.color, s.probability, s.is_won, s.is_lost, s.order, s.rotting_days)
        for s in make.stages(pipeline)
    ] == [
        ("Lead", "#3b82f6", 5, False, False, 0, 7),
        ("Pago", "#00aa00", 100, True, False, 1, None),
    ]
    assert (pipeline.currency, pipeline.restricted, pipeline.order) == ("USD", True, 0)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"name": " "}, (422, "crm.invalid_field", {"field": "name"})),
        ({"name": "X", "currency": "real"}, (422, "crm.invalid_field", {"field": "currency"})),
        ({"name": "X", "stages": []}, (422, "crm.invalid_field", {"field": "stages"})),
        (
            {"name": "X", "stages": [{"name": "A", "is_won": True, "is_lost": True}]},
            (422, "crm.invalid_field", {"field": "is_lost"}),
        ),
        (
            {"name": "X", "stages": [{"name": "A", "probability": 101}]},
            (422, "crm.invalid_field", {"field": "probability", "minimum": 0, "maximum": 100}),
        ),
        ({"name": "Sales"}, (409, "crm.name_taken", {"field": "name"})),
    ],
)
def test_it_refuses_a_bad_pipeline_and_creates_nothing(
    fields: dict[str, Any], expected: tuple[int, str, dict[str, Any]]
) -> None:
    people = make.team()
    make.pipeline(people["org"], "Sales")
    before = snapshot()

    with pytest.raises(ApplicationError) as error:
        pipelines.pipeline_create(actor=people["admin"], organization_id=people["org"].pk, **fields)

    assert refused(error) == expected
    assert snapshot() == before


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("agent", (403, "crm.permission_denied", {})),
        ("viewer", (403, "crm.permission_denied", {})),
        ("outsider", (404, "crm.not_found", {})),
    ],
)
def test_only_org_admins_configure_pipelines(
    who: str, expected: tuple[int, str, dict[str, Any]]
) -> None:
    people = make.team()
    pipeline = make.pipeline(people["org"])
    stage = make.stages(pipeline)[0]
    before = snapshot()
    attempts = [
        lambda: pipelines.pipeline_create(
            actor=people[who], organization_id=people["org"].pk, name="Nope"
        ),
        lambda: pipelines.pipeline_update(actor=people[who], pipeline=pipeline, name="Nope"),
        lambda: pipelines.pipeline_archive(actor=people[who], pipeline=pipeline),
        lambda: pipelines.stage_create(actor=people[who], pipeline=pipeline, name="Nope"),
        lambda: pipelines.stage_update(actor=people[who], stage=stage, name="Nope"),
        lambda: pipelines.stage_delete(actor=people[who], stage=stage),
        lambda: pipelines.custom_field_create(
            actor=people[who], pipeline=pipeline, label="Nope", kind="text"
        ),
        lambda: pipelines.lost_reason_create(
            actor=people[who], organization_id=people["org"].pk, name="Nope"
        ),
        lambda: pipelines.pipeline_access_set(
            actor=people[who], pipeline=pipeline, restricted=True, user_ids=[]
        ),
    ]

    for attempt in attempts:
        with pytest.raises(ApplicationError) as error:
            attempt()
        assert refused(error) == expected

    assert snapshot() == before


def test_archiving_hides_the_pipeline_and_frees_its_name_and_restoring_it_checks_again() -> None:
    people = make.team()
    old = make.pipeline(people["org"], "Sales")
    make.deals(make.stages(old)[0], 2)

    pipelines.pipeline_archive(actor=people["admin"], pipeline=old)
    pipelines.pipeline_create(actor=people["admin"], organization_id=people["org"].pk, name="Sales")

    visible = pipelines.pipeline_list(user=people["agent"], organization_id=people["org"].pk)
    archived = pipelines.pipeline_list(
        user=people["agent"], organization_id=people["org"].pk, archived=True
    )
    assert [(item.name, item.pk == old.pk) for item in visible] == [("Sales", False)]
    assert [item.pk for item in archived] == [old.pk]
    assert Deal.objects.filter(pipeline=old).count() == 2
    with pytest.raises(ApplicationError) as error:
        pipelines.pipeline_update(actor=people["admin"], pipeline=old, archived=False)
    assert refused(error) == (409, "crm.name_taken", {"field": "name"})
    restored = pipelines.pipeline_update(
        actor=people["admin"], pipeline=old, name="Sales 2024", archived=False
    )
    assert pipelines.pipeline_data(restored)["archived"] is False


# --- Stages ----------------------------------------------------------------------------------


def test_editing_stages_keeps_their_deals() -> None:
    people = make.team()
    pipeline = make.pipeline(people["org"])
    new = make.stages(pipeline)[0]
    make.deals(new, 3)

    stage = pipelines.stage_update(
        actor=people["admin"],
        stage=new,
        name="Entrada",
        color="#111111",
        probability=15,
        rotting_days=10,
    )
    created = pipelines.stage_create(
        actor=people["admin"], pipeline=pipeline, name="Demo", position=1, probability=30
    )

    assert (stage.name, stage.color, stage.probability, stage.rotting_days) == (
        "Entrada",
        "#111111",
        15,
        10,
    )
    assert column(new) == ["Deal 1", "Deal 2", "Deal 3"]
    assert [(s.name, s.order) for s in make.stages(pipeline)] == [
        ("Entrada", 0),
        ("Demo", 1),
        ("Qualified", 2),
        ("Proposal", 3),
        ("Won", 4),
        ("Lost", 5),
    ]
    assert created.order == 1
    unlimited = pipelines.stage_update(actor=people["admin"], stage=new, rotting_days=None)
    assert unlimited.rotting_days is None


def test_a_stage_with_deals_keeps_its_won_and_lost_flags() -> None:
    people = make.team()
    pipeline = make.pipeline(people["org"])
    new, qualified, *_ = make.stages(pipeline)
    make.deals(new, 2)
    before = snapshot()

    with pytest.raises(ApplicationError) as error:
        pipelines.stage_update(actor=people["admin"], stage=new, is_won=True)

    assert refused(error) == (409, "crm.stage_in_use", {"deal_count": 2})
    assert snapshot() == before
    emptied = pipelines.stage_update(actor=people["admin"], stage=qualified, is_lost=True)
    assert (emptied.is_won, emptied.is_lost) == (False, True)


def test_reordering_stages_takes_every_stage_once(
    published: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    people = make.team()
    pipeline = make.pipeline(people["org"])
    new, qualified, proposal, won, lost = make.stages(pipeline)

    with django_capture_on_commit_callbacks(execute=True):
        pipelines.stages_reorder(
            actor=people["admin"],
            pipeline=pipeline,
            stage_ids=[qualified.pk, new.pk, proposal.pk, lost.pk, won.pk],
        )

    assert [s.name for s in make.stages(pipeline)] == [
        "Qualified",
        "New",
        "Proposal",
        "Lost",
        "Won",
    ]
    assert changed(published) == [
        (f"crm.pipeline.{pipeline.pk}", "crm.pipeline.changed", {"pipeline_id": pipeline.pk})
    ]
    before = snapshot()
    for wrong in (
        [new.pk, qualified.pk],
        [new.pk] * 5,
        [new.pk, qualified.pk, proposal.pk, won.pk, 0],
    ):
        with pytest.raises(ApplicationError) as error:
            pipelines.stages_reorder(actor=people["admin"], pipeline=pipeline, stage_ids=wrong)
        assert refused(error) == (422, "crm.invalid_field", {"field": "stage_ids"})
    assert snapshot() == before


def test_deleting_a_stage_moves_its_deals_to_the_end_of_the_target_in_order(
    published: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    people = make.team()
    pipeline = make.pipeline(people["org"])
    new, qualified, proposal, *_ = make.stages(pipeline)
    make.deals(qualified, 2, title="Kept")
    moving = make.deals(new, 3, title="Moved")
    make.deals(proposal, 1, title="Other")

    with django_capture_on_commit_callbacks(execute=True):
        count = pipelines.stage_delete(
            actor=people["admin"], stage=new, move_to_stage_id=qualified.pk
        )

    assert count == 3
    assert not Stage.objects.filter(pk=new.pk).exists()
    assert column(qualified) == ["Kept 1", "Kept 2", "Moved 1", "Moved 2", "Moved 3"]
    assert column(proposal) == ["Other 1"]
    assert Deal.objects.filter(pipeline=pipeline).count() == 6
    assert (
        list(
            Deal.objects.filter(pk__in=[d.pk for d in moving])
            .order_by("pk")
            .values_list("version", "status")
        )
        == [(2, "open")] * 3
    )
    assert list(
        Activity.objects.filter(kind=ActivityKind.STAGE_CHANGE)
        .order_by("deal_id")
        .values_list("deal_id", "actor_id", "data")
    ) == [
        (
            deal.pk,
            people["admin"].pk,
            {
                "from": {"id": new.pk, "name": "New"},
                "to": {"id": qualified.pk, "name": "Qualified"},
            },
        )
        for deal in moving
    ]
    assert changed(published) == [
        (f"crm.pipeline.{pipeline.pk}", "crm.pipeline.changed", {"pipeline_id": pipeline.pk})
    ]


def test_deals_moved_into_a_won_stage_are_won() -> None:
    people = make.team()
    pipeline = make.pipeline(people["org"])
    new, _qualified, _proposal, won, _lost = make.stages(pipeline)
    make.deals(new, 2)

    pipelines.stage_delete(actor=people["admin"], stage=new, move_to_stage_id=won.pk)

    deals = list(won.deals.order_by("position"))
    assert [(d.title, d.status, d.closed_at is not None) for d in deals] == [
        ("Deal 1", DealStatus.WON, True),
        ("Deal 2", DealStatus.WON, True),
    ]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (None, (409, "crm.stage_in_use", {"deal_count": 2})),
        ("itself", (422, "crm.invalid_stage", {"field": "move_to"})),
        ("other_pipeline", (422, "crm.invalid_stage", {"field": "move_to"})),
        ("other_org", (422, "crm.invalid_stage", {"field": "move_to"})),
    ],
)
def test_it_refuses_to_delete_a_stage_without_a_stage_of_the_pipeline_for_its_deals(
    target: str | None, expected: tuple[int, str, dict[str, Any]]
) -> None:
    people = make.team()
    pipeline = make.pipeline(people["org"])
    new = make.stages(pipeline)[0]
    make.deals(new, 2)
    targets = {
        None: None,
        "itself": new.pk,
        "other_pipeline": make.stages(make.pipeline(people["org"], "Other"))[1].pk,
        "other_org": make.stages(make.pipeline(people["other_org"]))[1].pk,
    }
    before = snapshot()

    with pytest.raises(ApplicationError) as error:
        pipelines.stage_delete(actor=people["admin"], stage=new, move_to_stage_id=targets[target])

    assert refused(error) == expected
    assert snapshot() == before


def test_an_empty_stage_is_deleted_without_a_target_but_the_last_one_stays() -> None:
    people = make.team()
    pipeline = make.pipeline(people["org"], stages=(("Only", 0, False, False),))
    spare = pipelines.stage_create(actor=people["admin"], pipeline=pipeline, name="Spare")

    assert pipelines.stage_delete(actor=people["admin"], stage=spare) == 0
    with pytest.raises(ApplicationError) as error:
        pipelines.stage_delete(actor=people["admin"], stage=make.stages(pipeline)[0])
    assert refused(error) == (409, "crm.last_stage", {})
    assert [s.name for s in make.stages(pipeline)] == ["Only"]


# --- Custom fields ---------------------------------------------------------------------------


def test_custom_fields_get_a_key_from_their_label_unique_in_the_pipeline() -> None:
    people = make.team()
    pipeline = make.pipeline(people["org"])
    other = make.pipeline(people["org"], "Other")

    first = pipelines.custom_field_create(
        actor=people["admin"], pipeline=pipeline, label="Região de Atuação", kind="text"
    )
    second = pipelines.custom_field_create(
        actor=people["admin"],
        pipeline=pipeline,
        label="Plano",
        kind="choice",
        choices=[" Básico ", "Pro"],
        required=True,
    )
    elsewhere = pipelines.custom_field_create(
        actor=people["admin"], pipeline=other, label="Plano", kind="number"
    )

    assert pipelines.custom_field_data(first) == {
        "id": first.pk,
        "key": "regiao_de_atuacao",
        "label": "Região de Atuação",
        "kind": "text",
        "choices": [],
        "required": False,
        "order": 0,
    }
    assert (second.key, second.choices, second.required, second.order) == (
        "plano",
        ["Básico", "Pro"],
        True,
        1,
    )
    assert elsewhere.key == "plano"
    with pytest.raises(ApplicationError) as error:
        pipelines.custom_field_create(
            actor=people["admin"], pipeline=pipeline, label="Outro", key="plano", kind="date"
        )
    assert refused(error) == (409, "crm.custom_field_key_taken", {"field": "key"})


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"label": "Plano", "kind": "choice"}, "choices"),
        ({"label": "Plano", "kind": "choice", "choices": []}, "choices"),
        ({"label": "Plano", "kind": "choice", "choices": ["A", "A "]}, "choices"),
        ({"label": "Plano", "kind": "choice", "choices": ["A", ""]}, "choices"),
        ({"label": "Plano", "kind": "choice", "choices": "A,B"}, "choices"),
        ({"label": "Plano", "kind": "text", "choices": ["A"]}, "choices"),
        ({"label": "Plano", "kind": "color"}, "kind"),
        ({"label": "Plano", "kind": "text", "key": "Plano"}, "key"),
        ({"label": "Plano", "kind": "text", "key": "a__min"}, "key"),
        ({"label": "!!!", "kind": "text"}, "key"),
        ({"label": "", "kind": "text"}, "label"),
    ],
)
def test_it_refuses_a_bad_custom_field(fields: dict[str, Any], field: str) -> None:
    people = make.team()
    pipeline = make.pipeline(people["org"])

    with pytest.raises(ApplicationError) as error:
        pipelines.custom_field_create(actor=people["admin"], pipeline=pipeline, **fields)

    assert (error.value.status_code, error.value.code, error.value.extra["field"]) == (
        422,
        "crm.invalid_field",
        field,
    )
    assert CustomField.objects.count() == 0


def test_a_custom_field_with_values_keeps_its_kind_and_its_used_choices() -> None:
    people = make.team()
    pipeline = make.pipeline(people["org"])
    stage = make.stages(pipeline)[0]
    plan = pipelines.custom_field_create(
        actor=people["admin"],
        pipeline=pipeline,
        label="Plano",
        kind="choice",
        choices=["Básico", "Pro", "Max"],
    )
    notes = pipelines.custom_field_create(
        actor=people["admin"], pipeline=pipeline, label="Notas", kind="text"
    )
    make.deals(stage, 1, custom_fields={"plano": "Pro"})
    make.deals(stage, 1, custom_fields={"notas": None})
    before = snapshot()

    with pytest.raises(ApplicationError) as kind_error:
        pipelines.custom_field_update(actor=people["admin"], field=plan, kind="text")
    with pytest.raises(ApplicationError) as choice_error:
        pipelines.custom_field_update(actor=people["admin"], field=plan, choices=["Básico"])

    assert refused(kind_error) == (409, "crm.custom_field_in_use", {"deal_count": 1})
    assert refused(choice_error) == (409, "crm.custom_field_in_use", {"choices": ["Pro"]})
    assert snapshot() == before
    trimmed = pipelines.custom_field_update(
        actor=people["admin"], field=plan, choices=["Pro", "Enterprise"], label="Plano atual"
    )
    assert (trimmed.label, trimmed.choices) == ("Plano atual", ["Pro", "Enterprise"])
    # Only a null value: nothing is lost by changing the kind.
    retyped = pipelines.custom_field_update(
        actor=people["admin"], field=notes, kind="choice", choices=["Sim", "Não"]
    )
    assert (retyped.kind, retyped.choices) == ("choice", ["Sim", "Não"])
    untyped = pipelines.custom_field_update(actor=people["admin"], field=notes, kind="number")
    assert (untyped.kind, untyped.choices) == ("number", [])


def test_deleting_a_custom_field_removes_its_values_from_every_deal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pipelines, "CUSTOM_FIELD_BATCH", 2)
    people = make.team()
    pipeline = make.pipeline(people["org"])
    other = make.pipeline(people["org"], "Other")
    stage = make.stages(pipeline)[0]
    size = pipelines.custom_field_create(
        actor=people["admin"], pipeline=pipeline, label="Size", kind="number"
    )
    make.deals(stage, 3, custom_fields={"size": 3, "color": "blue"})
    make.deals(stage, 1, custom_fields={"color": "red"})
    make.deals(make.stages(other)[0], 1, custom_fields={"size": 7})

    cleared = pipelines.custom_field_delete(actor=people["admin"], field=size)

    assert cleared == 3
    assert not CustomField.objects.filter(pk=size.pk).exists()
    assert list(Deal.objects.order_by("pk").values_list("custom_fields", flat=True)) == [
        {"color": "blue"},
        {"color": "blue"},
        {"color": "blue"},
        {"color": "red"},
        {"size": 7},
    ]


# --- Lost reasons and labels -----------------------------------------------------------------


def test_lost_reasons_are_added_in_order_renamed_deactivated_and_deleted_when_unused() -> None:
    people = make.team()
    org = people["org"]
    price = pipelines.lost_reason_create(
        actor=people["admin"], organization_id=org.pk, name="Preço"
    )
    timing = pipelines.lost_reason_create(
        actor=people["admin"], organization_id=org.pk, name="Prazo"
    )
    make.deals(make.stages(make.pipeline(org))[4], 1, status="lost", lost_reason=price)

    with pytest.raises(ApplicationError) as taken:
        pipelines.lost_reason_create(actor=people["admin"], organization_id=org.pk, name="Preço")
    with pytest.raises(ApplicationError) as in_use:
        pipelines.lost_reason_delete(actor=people["admin"], reason=price)
    inactive = pipelines.lost_reason_update(
        actor=people["admin"], reason=price, name="Preço alto", active=False, order=5
    )
    pipelines.lost_reason_delete(actor=people["admin"], reason=timing)

    assert refused(taken) == (409, "crm.name_taken", {"field": "name"})
    assert refused(in_use) == (409, "crm.lost_reason_in_use", {})
    assert [
        pipelines.lost_reason_data(r) for r in pipelines.lost_reason_list(organization_id=org.pk)
    ] == [{"id": inactive.pk, "name": "Preço alto", "order": 5, "active": False}]
    assert list(pipelines.lost_reason_list(organization_id=org.pk, active_only=True)) == []
    assert Deal.objects.get().lost_reason_id == price.pk


def test_agents_create_labels_and_only_admins_change_or_delete_them(
    published: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    people = make.team()
    org = people["org"]
    pipeline = make.pipeline(org)
    hot = pipelines.label_create(actor=people["agent"], organization_id=org.pk, name="Quente")
    deal = make.deals(make.stages(pipeline)[0], 1)[0]
    deal.labels.add(hot)

    for attempt in (
        lambda: pipelines.label_update(actor=people["agent"], label=hot, name="Frio"),
        lambda: pipelines.label_delete(actor=people["agent"], label=hot),
    ):
        with pytest.raises(ApplicationError) as error:
            attempt()
        assert refused(error) == (403, "crm.permission_denied", {})
    with pytest.raises(ApplicationError) as viewer_error:
        pipelines.label_create(actor=people["viewer"], organization_id=org.pk, name="X")
    with pytest.raises(ApplicationError) as color_error:
        pipelines.label_create(actor=people["agent"], organization_id=org.pk, name="X", color="red")
    with django_capture_on_commit_callbacks(execute=True):
        renamed = pipelines.label_update(
            actor=people["admin"], label=hot, name="Muito quente", color="#FF0000"
        )

    assert refused(viewer_error) == (403, "crm.permission_denied", {})
    assert refused(color_error) == (422, "crm.invalid_field", {"field": "color"})
    assert (renamed.name, renamed.color) == ("Muito quente", "#ff0000")
    assert changed(published) == [
        (f"crm.pipeline.{pipeline.pk}", "crm.pipeline.changed", {"pipeline_id": pipeline.pk})
    ]
    pipelines.label_delete(actor=people["admin"], label=hot)
    assert list(deal.labels.all()) == []
    assert Label.objects.count() == 0


# --- Access ----------------------------------------------------------------------------------


def test_access_to_a_restricted_pipeline_is_given_and_taken_back() -> None:
    people = make.team()
    org = people["org"]
    pipeline = make.pipeline(org)
    second_agent = make.member(org, role=Role.AGENT, display_name="Zé")
    people["agent"].display_name = "Ana"
    people["agent"].save()

    granted = pipelines.pipeline_access_set(
        actor=people["admin"],
        pipeline=pipeline,
        restricted=True,
        user_ids=[second_agent.pk, people["agent"].pk],
    )

    assert [user.pk for user in granted] == [people["agent"].pk, second_agent.pk]
    assert access.can_see_pipeline(people["agent"], pipeline)
    assert not access.can_see_pipeline(people["viewer"], pipeline)
    assert pipelines.pipeline_access_data(Pipeline.objects.get(pk=pipeline.pk)) == {
        "restricted": True,
        "users": [
            {"id": people["agent"].pk, "name": "Ana"},
            {"id": second_agent.pk, "name": "Zé"},
        ],
    }

    remaining = pipelines.pipeline_access_set(
        actor=people["admin"], pipeline=pipeline, restricted=True, user_ids=[second_agent.pk]
    )

    assert [user.pk for user in remaining] == [second_agent.pk]
    assert not access.can_see_pipeline(people["agent"], pipeline)
    assert access.can_see_pipeline(people["admin"], pipeline)
    pipelines.pipeline_access_set(
        actor=people["admin"], pipeline=pipeline, restricted=False, user_ids=[second_agent.pk]
    )
    assert access.can_see_pipeline(people["agent"], pipeline)


def test_access_is_given_only_to_members_of_the_organization() -> None:
    people = make.team()
    pipeline = make.pipeline(people["org"])

    with pytest.raises(ApplicationError) as error:
        pipelines.pipeline_access_set(
            actor=people["admin"],
            pipeline=pipeline,
            restricted=True,
            user_ids=[people["agent"].pk, people["outsider"].pk],
        )

    assert refused(error) == (422, "crm.invalid_reference", {"field": "user_ids"})
    pipeline.refresh_from_db()
    assert pipeline.restricted is False
    assert pipelines.pipeline_access_data(pipeline)["users"] == []


def test_members_are_listed_by_name_with_their_role() -> None:
    org = make.organization()
    bia = make.member(org, role=Role.VIEWER, display_name="bia")
    ana = make.member(org, role=Role.ORG_ADMIN, display_name="Ana")
    make.member(make.organization(), display_name="Alguém de fora")

    assert pipelines.member_list(organization_id=org.pk) == [
        {"id": ana.pk, "name": "Ana", "role": "org_admin"},
        {"id": bia.pk, "name": "bia", "role": "viewer"},
    ]
