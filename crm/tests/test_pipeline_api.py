"""The pipelines, configuration, deal detail and timeline endpoints: payloads and errors."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from accounts.roles import Role
from accounts.tests.helpers import assert_error, client_for
from crm import pipelines
from crm.board import iso as card_iso
from crm.models import Activity, ActivityKind, CustomField, Deal, LostReason, Pipeline, Stage, Task
from crm.tests import factories as make

pytestmark = pytest.mark.django_db


def url(org: Any, path: str) -> str:
    return f"/api/v1/crm/{org.pk}/{path}"


def iso(value: Any) -> str:
    return str(card_iso(value))


@pytest.fixture(autouse=True)
def _english() -> Any:
    with translation.override("en"):
        yield


# --- Pipelines -------------------------------------------------------------------------------


def test_members_see_the_pipelines_they_may_use_in_order() -> None:
    people = make.team()
    org = people["org"]
    sales = make.pipeline(org, "Sales", order=1)
    secret = make.pipeline(org, "Secret", order=0, restricted=True)
    make.pipeline(org, "Old", archived_at=timezone.now())

    agent = client_for(people["agent"]).get(url(org, "pipelines/"))
    admin = client_for(people["admin"]).get(url(org, "pipelines/"))
    archived = client_for(people["agent"]).get(url(org, "pipelines/?archived=1"))

    assert agent.status_code == 200
    assert agent.json() == [pipelines.pipeline_data(sales)]
    assert [item["name"] for item in admin.json()] == ["Secret", "Sales"]
    assert admin.json()[0]["restricted"] is True
    assert [item["name"] for item in archived.json()] == ["Old"]
    assert archived.json()[0]["archived"] is True
    assert_error(
        client_for(people["agent"]).get(url(org, f"pipelines/{secret.pk}/")), 404, "crm.not_found"
    )


def test_an_admin_creates_changes_and_archives_a_pipeline() -> None:
    people = make.team()
    org = people["org"]
    client = client_for(people["admin"])

    created = client.post(
        url(org, "pipelines/"),
        {"name": "Cursos", "stages": [{"name": "Interesse", "probability": 20}]},
        format="json",
    )
    pipeline = Pipeline.objects.get(name="Cursos")
    stage = pipeline.stages.get()
    changed = client.patch(
        url(org, f"pipelines/{pipeline.pk}/"), {"name": "Cursos 2025"}, format="json"
    )
    archived = client.delete(url(org, f"pipelines/{pipeline.pk}/"))

    assert created.status_code == 201
    assert created.json() == {
        "id": pipeline.pk,
        "name": "Cursos",
        "currency": "BRL",
        "order": 0,
        "restricted": False,
        "archived": False,
        "stages": [
            {
                "id": stage.pk,
                "pipeline_id": pipeline.pk,
                "name": "Interesse",
                "color": "#3b82f6",
                "probability": 20,
                "is_won": False,
                "is_lost": False,
                "order": 0,
                "rotting_days": None,
            }
        ],
        "custom_fields": [],
    }
    assert changed.status_code == 200
    assert changed.json()["name"] == "Cursos 2025"
    assert archived.status_code == 204
    assert Pipeline.objects.get(pk=pipeline.pk).archived_at is not None


def test_pipeline_input_errors_are_reported_with_their_field() -> None:
    people = make.team()
    org = people["org"]
    make.pipeline(org, "Sales")
    client = client_for(people["admin"])

    assert_error(
        client.post(url(org, "pipelines/"), {"name": "Sales"}, format="json"),
        409,
        "crm.name_taken",
        {"field": "name"},
    )
    assert_error(
        client.post(url(org, "pipelines/"), {"name": "X", "currency": "brl"}, format="json"),
        422,
        "crm.invalid_field",
        {"field": "currency"},
    )
    response = client.post(url(org, "pipelines/"), {"name": "X", "colour": "red"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert Pipeline.objects.count() == 1


# --- Stages, custom fields, access -----------------------------------------------------------


def test_stages_are_added_changed_reordered_and_deleted_with_their_deals_moved() -> None:
    people = make.team()
    org = people["org"]
    pipeline = make.pipeline(org)
    new, qualified, proposal, won, lost = make.stages(pipeline)
    make.deals(new, 2, title="Moved")
    make.deals(qualified, 1, title="Kept")
    client = client_for(people["admin"])
    base = f"pipelines/{pipeline.pk}/stages/"

    added = client.post(
        url(org, base), {"name": "Demo", "position": 1, "rotting_days": 5}, format="json"
    )
    demo = Stage.objects.get(name="Demo")
    patched = client.patch(
        url(org, f"{base}{demo.pk}/"), {"color": "#ABCDEF", "probability": 40}, format="json"
    )
    reordered = client.post(
        url(org, f"{base}reorder/"),
        {"stage_ids": [new.pk, qualified.pk, demo.pk, proposal.pk, won.pk, lost.pk]},
        format="json",
    )
    in_use = client.delete(url(org, f"{base}{new.pk}/"))
    deleted = client.delete(url(org, f"{base}{new.pk}/?move_to={qualified.pk}"))
    by_body = client.delete(url(org, f"{base}{demo.pk}/"), {"move_to": proposal.pk}, format="json")

    assert added.status_code == 201
    assert added.json() == {
        "id": demo.pk,
        "pipeline_id": pipeline.pk,
        "name": "Demo",
        "color": "#3b82f6",
        "probability": 0,
        "is_won": False,
        "is_lost": False,
        "order": 1,
        "rotting_days": 5,
    }
    assert patched.status_code == 200
    assert (patched.json()["color"], patched.json()["probability"]) == ("#abcdef", 40)
    assert [item["id"] for item in reordered.json()] == [
        new.pk,
        qualified.pk,
        demo.pk,
        proposal.pk,
        won.pk,
        lost.pk,
    ]
    assert_error(in_use, 409, "crm.stage_in_use", {"deal_count": 2})
    assert deleted.status_code == 204
    assert by_body.status_code == 204
    assert list(qualified.deals.order_by("position", "id").values_list("title", flat=True)) == [
        "Kept 1",
        "Moved 1",
        "Moved 2",
    ]
    assert [s.name for s in make.stages(pipeline)] == ["Qualified", "Proposal", "Won", "Lost"]


def test_a_stage_of_another_pipeline_is_not_found_under_this_one() -> None:
    people = make.team()
    org = people["org"]
    pipeline = make.pipeline(org)
    other = make.stages(make.pipeline(org, "Other"))[0]

    response = client_for(people["admin"]).patch(
        url(org, f"pipelines/{pipeline.pk}/stages/{other.pk}/"), {"name": "X"}, format="json"
    )

    assert_error(response, 404, "crm.not_found")
    assert Stage.objects.get(pk=other.pk).name == "New"


def test_custom_fields_are_added_changed_and_deleted() -> None:
    people = make.team()
    org = people["org"]
    pipeline = make.pipeline(org)
    make.deals(make.stages(pipeline)[0], 1, custom_fields={"tamanho": 3})
    client = client_for(people["admin"])
    base = f"pipelines/{pipeline.pk}/custom-fields/"

    created = client.post(
        url(org, base),
        {"label": "Tamanho", "kind": "number", "required": True},
        format="json",
    )
    field = CustomField.objects.get()
    refused = client.patch(url(org, f"{base}{field.pk}/"), {"kind": "text"}, format="json")
    relabelled = client.patch(url(org, f"{base}{field.pk}/"), {"label": "Porte"}, format="json")
    bad_kind = client.post(url(org, base), {"label": "Cor", "kind": "color"}, format="json")
    deleted = client.delete(url(org, f"{base}{field.pk}/"))

    assert created.status_code == 201
    assert created.json() == {
        "id": field.pk,
        "key": "tamanho",
        "label": "Tamanho",
        "kind": "number",
        "choices": [],
        "required": True,
        "order": 0,
    }
    assert_error(refused, 409, "crm.custom_field_in_use", {"deal_count": 1})
    assert relabelled.json()["label"] == "Porte"
    assert_error(
        bad_kind,
        422,
        "crm.invalid_field",
        {"field": "kind", "allowed": ["text", "number", "date", "choice"]},
    )
    assert deleted.status_code == 204
    assert Deal.objects.get().custom_fields == {}


def test_an_admin_gives_a_restricted_pipeline_to_chosen_agents() -> None:
    people = make.team()
    org = people["org"]
    pipeline = make.pipeline(org)
    people["agent"].display_name = "Ana"
    people["agent"].save()
    client = client_for(people["admin"])
    path = url(org, f"pipelines/{pipeline.pk}/access/")

    before = client.get(path)
    given = client.put(path, {"restricted": True, "user_ids": [people["agent"].pk]}, format="json")
    outsider = client.put(
        path, {"restricted": True, "user_ids": [people["outsider"].pk]}, format="json"
    )

    assert before.json() == {"restricted": False, "users": []}
    assert given.status_code == 200
    assert given.json() == {
        "restricted": True,
        "users": [{"id": people["agent"].pk, "name": "Ana"}],
    }
    assert client.get(path).json() == given.json()
    assert_error(outsider, 422, "crm.invalid_reference", {"field": "user_ids"})
    assert client_for(people["agent"]).get(url(org, f"pipelines/{pipeline.pk}/")).status_code == 200
    assert_error(
        client_for(people["viewer"]).get(url(org, f"pipelines/{pipeline.pk}/")),
        404,
        "crm.not_found",
    )


# --- Lost reasons, labels, members -----------------------------------------------------------


def test_lost_reasons_labels_and_members_are_listed_and_edited() -> None:
    people = make.team()
    org = people["org"]
    admin = client_for(people["admin"])
    agent = client_for(people["agent"])

    reason = admin.post(url(org, "lost-reasons/"), {"name": "Preço"}, format="json")
    reason_id = reason.json()["id"]
    deactivated = admin.patch(
        url(org, f"lost-reasons/{reason_id}/"), {"active": False}, format="json"
    )
    label = agent.post(url(org, "labels/"), {"name": "VIP", "color": "#FFAA00"}, format="json")
    label_id = label.json()["id"]
    agent_patch = agent.patch(url(org, f"labels/{label_id}/"), {"name": "X"}, format="json")
    renamed = admin.patch(url(org, f"labels/{label_id}/"), {"name": "Premium"}, format="json")
    members = client_for(people["viewer"]).get(url(org, "members/"))

    assert reason.status_code == 201
    assert reason.json() == {"id": reason_id, "name": "Preço", "order": 0, "active": True}
    assert deactivated.json() == {"id": reason_id, "name": "Preço", "order": 0, "active": False}
    assert agent.get(url(org, "lost-reasons/")).json() == [deactivated.json()]
    assert label.status_code == 201
    assert label.json() == {"id": label_id, "name": "VIP", "color": "#ffaa00"}
    assert_error(agent_patch, 403, "crm.permission_denied")
    assert renamed.json() == {"id": label_id, "name": "Premium", "color": "#ffaa00"}
    assert agent.get(url(org, "labels/")).json() == [renamed.json()]
    assert members.status_code == 200
    assert sorted(members.json(), key=lambda item: item["id"]) == sorted(
        [
            {"id": people[who].pk, "name": people[who].get_full_name(), "role": role}
            for who, role in (
                ("admin", Role.ORG_ADMIN),
                ("agent", Role.AGENT),
                ("viewer", Role.VIEWER),
            )
        ],
        key=lambda item: item["id"],
    )
    assert admin.delete(url(org, f"lost-reasons/{reason_id}/")).status_code == 204
    assert admin.delete(url(org, f"labels/{label_id}/")).status_code == 204
    assert LostReason.objects.count() == 0


# --- Deals -----------------------------------------------------------------------------------


def test_the_deal_list_costs_the_same_queries_for_one_or_twenty_deals() -> None:
    people = make.team()
    org = people["org"]
    pipeline = make.pipeline(org)
    stage = make.stages(pipeline)[0]
    label = pipelines.label_create(actor=people["admin"], organization_id=org.pk, name="VIP")
    client = client_for(people["agent"])

    def listed() -> tuple[int, dict[str, Any]]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url(org, "deals/?page_size=50"))
        assert response.status_code == 200
        return len(queries), response.json()

    first = make.deals(stage, 1, owner=people["agent"], contact=make.contact(org))[0]
    first.labels.add(label)
    one, body = listed()
    for deal in make.deals(stage, 19, owner=people["admin"], contact=make.contact(org, "Bia")):
        deal.labels.add(label)
    twenty, many = listed()

    assert one == twenty
    assert body["count"] == 1
    assert body["results"] == [
        {
            "id": first.pk,
            "pipeline_id": pipeline.pk,
            "stage_id": stage.pk,
            "position": first.position,
            "version": 1,
            "title": "Deal 1",
            "value": 0,
            "currency": "BRL",
            "probability": 10,
            "weighted_value": 0,
            "status": "open",
            "owner": {"id": people["agent"].pk, "name": people["agent"].get_full_name()},
            "contact": {"id": first.contact_id, "name": "Ana Souza"},
            "company": None,
            "expected_close_date": None,
            "labels": [{"id": label.pk, "name": "VIP", "color": "#64748b"}],
            "rotting": False,
            "updated_at": iso(Deal.objects.get(pk=first.pk).updated_at),
        }
    ]
    assert many["count"] == 20
    assert len(many["results"]) == 20


def test_the_deal_list_hides_restricted_pipelines_and_filters() -> None:
    people = make.team()
    org = people["org"]
    open_deals = make.deals(make.stages(make.pipeline(org))[0], 2, title="Open")
    make.deals(make.stages(make.pipeline(org, "Secret", restricted=True))[0], 1, title="Hidden")
    open_deals[0].owner = people["agent"]
    open_deals[0].save()
    client = client_for(people["agent"])

    everything = client.get(url(org, "deals/")).json()
    mine = client.get(url(org, "deals/?owner=me")).json()
    searched = client.get(url(org, "deals/?q=Open 2")).json()

    assert [item["title"] for item in everything["results"]] == ["Open 2", "Open 1"]
    assert [item["title"] for item in mine["results"]] == ["Open 1"]
    assert [item["title"] for item in searched["results"]] == ["Open 2"]
    admin = client_for(people["admin"]).get(url(org, "deals/")).json()
    assert admin["count"] == 3


def test_a_deal_detail_shows_the_card_and_its_details() -> None:
    people = make.team()
    org = people["org"]
    pipeline = make.pipeline(org)
    stage = make.stages(pipeline)[1]
    contact = make.contact(org, email="ana@example.com", phone="+5511999998888")
    deal = make.deals(
        stage,
        1,
        value=150000,
        probability=40,
        contact=contact,
        created_by=people["admin"],
        custom_fields={"plano": "Pro"},
        expected_close_date=datetime.date(2026, 3, 1),
    )[0]
    Task.objects.create(
        organization=org,
        title="Ligar",
        due_at=timezone.now(),
        deal=deal,
        assignee=people["agent"],
    )
    Task.objects.create(
        organization=org,
        title="Feito",
        due_at=timezone.now(),
        deal=deal,
        assignee=people["agent"],
        done_at=timezone.now(),
    )
    deal.refresh_from_db()

    response = client_for(people["viewer"]).get(url(org, f"deals/{deal.pk}/"))

    assert response.status_code == 200
    assert response.json() == {
        "id": deal.pk,
        "pipeline_id": pipeline.pk,
        "stage_id": stage.pk,
        "position": deal.position,
        "version": 1,
        "title": "Deal 1",
        "value": 150000,
        "currency": "BRL",
        "probability": 40,
        "weighted_value": 60000,
        "status": "open",
        "owner": None,
        "contact": {
            "id": contact.pk,
            "name": "Ana Souza",
            "email": "ana@example.com",
            "phone": "+5511999998888",
        },
        "company": None,
        "expected_close_date": "2026-03-01",
        "labels": [],
        "rotting": False,
        "updated_at": iso(deal.updated_at),
        "custom_fields": {"plano": "Pro"},
        "lost_reason": None,
        "lost_note": "",
        "closed_at": None,
        "created_at": iso(deal.created_at),
        "created_by": {"id": people["admin"].pk, "name": people["admin"].get_full_name()},
        "stage_changed_at": iso(deal.stage_changed_at),
        "pipeline": {"id": pipeline.pk, "name": "Sales"},
        "stage": {"id": stage.pk, "name": "Qualified", "color": "#3b82f6"},
        "open_tasks": 1,
    }


def test_a_deal_is_edited_won_lost_reopened_and_deleted() -> None:
    people = make.team()
    org = people["org"]
    pipeline = make.pipeline(org)
    new, _qualified, _proposal, won, lost = make.stages(pipeline)
    deal = make.deals(new, 1, owner=people["agent"])[0]
    reason = LostReason.objects.create(organization=org, name="Preço")
    client = client_for(people["agent"])
    path = url(org, f"deals/{deal.pk}/")

    edited = client.patch(path, {"title": "Escola X", "value": 990000, "version": 1}, format="json")
    stale = client.patch(path, {"title": "Outra", "version": 1}, format="json")
    not_a_number = client.patch(path, {"value": "12,50"}, format="json")
    made_won = client.post(f"{path}won/", {}, format="json")
    made_lost = client.post(
        f"{path}lost/", {"reason_id": reason.pk, "note": "Caro demais"}, format="json"
    )
    reopened = client.post(f"{path}reopen/", {}, format="json")

    assert edited.status_code == 200
    assert (edited.json()["title"], edited.json()["value"], edited.json()["version"]) == (
        "Escola X",
        990000,
        2,
    )
    assert stale.status_code == 409
    assert stale.json()["code"] == "crm.stale_deal"
    assert stale.json()["extra"]["deal"]["version"] == 2
    assert not_a_number.status_code == 422
    assert not_a_number.json()["code"] == "crm.invalid_value"
    assert (made_won.json()["status"], made_won.json()["stage_id"]) == ("won", won.pk)
    assert made_won.json()["closed_at"] is not None
    assert (made_lost.json()["status"], made_lost.json()["stage_id"]) == ("lost", lost.pk)
    assert made_lost.json()["lost_reason"] == {"id": reason.pk, "name": "Preço"}
    assert made_lost.json()["lost_note"] == "Caro demais"
    assert (reopened.json()["status"], reopened.json()["stage_id"]) == ("open", new.pk)
    assert_error(client_for(people["viewer"]).delete(path), 403, "crm.permission_denied")
    assert client.delete(path).status_code == 204
    assert not Deal.objects.filter(pk=deal.pk).exists()


def test_a_deal_timeline_pages_newest_first_and_takes_notes() -> None:
    people = make.team()
    org = people["org"]
    deal = make.deals(make.stages(make.pipeline(org))[0], 1)[0]
    client = client_for(people["agent"])
    people["agent"].display_name = "Ana"
    people["agent"].save()

    created = [
        client.post(url(org, f"deals/{deal.pk}/notes/"), {"body": f"Nota {n}\n"}, format="json")
        for n in range(3)
    ]
    first_page = client.get(url(org, f"deals/{deal.pk}/timeline/?page_size=2"))
    second_page = client.get(first_page.json()["next"])
    empty = client.post(url(org, f"deals/{deal.pk}/notes/"), {"body": "  "}, format="json")
    too_long = client.post(url(org, f"deals/{deal.pk}/notes/"), {"body": "x" * 5001}, format="json")

    note = Activity.objects.order_by("id").first()
    assert note is not None
    assert created[0].status_code == 201
    assert created[0].json() == {
        "id": note.pk,
        "kind": ActivityKind.NOTE,
        "actor": {"id": people["agent"].pk, "name": "Ana"},
        "body": "Nota 0",
        "data": {},
        "created_at": iso(note.created_at),
        "deal_id": deal.pk,
        "contact_id": None,
        "lead_id": None,
        "conversation": None,
        "call": None,
        "task": None,
    }
    assert [item["body"] for item in first_page.json()["results"]] == ["Nota 2", "Nota 1"]
    assert [item["body"] for item in second_page.json()["results"]] == ["Nota 0"]
    assert second_page.json()["next"] is None
    assert_error(empty, 422, "crm.invalid_note", {"field": "body", "max_length": 5000})
    assert_error(too_long, 422, "crm.invalid_note", {"field": "body", "max_length": 5000})
    assert Activity.objects.count() == 3
    assert_error(
        client_for(people["viewer"]).post(
            url(org, f"deals/{deal.pk}/notes/"), {"body": "Oi"}, format="json"
        ),
        403,
        "crm.permission_denied",
    )


def test_a_deal_of_a_restricted_pipeline_is_not_found_for_those_not_given_it() -> None:
    people = make.team()
    org = people["org"]
    deal = make.deals(make.stages(make.pipeline(org, restricted=True))[0], 1)[0]
    client = client_for(people["agent"])

    for method, suffix, body in (
        ("get", "", None),
        ("get", "timeline/", None),
        ("post", "notes/", {"body": "x"}),
        ("patch", "", {"title": "x"}),
        ("post", "won/", {}),
        ("delete", "", None),
    ):
        response = getattr(client, method)(
            url(org, f"deals/{deal.pk}/{suffix}"), body, format="json"
        )
        assert_error(response, 404, "crm.not_found")
    assert Activity.objects.count() == 0
    assert Deal.objects.get(pk=deal.pk).title == "Deal 1"
