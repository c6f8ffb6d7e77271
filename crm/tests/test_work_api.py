"""Tasks, saved views, imports and exports over the API: shapes and the permission matrix."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation
from rest_framework.test import APIClient

from accounts.tests.helpers import assert_error, client_for
from crm.models import (
    CustomField,
    Deal,
    ImportJob,
    ImportStatus,
    Label,
    SavedView,
    Task,
)
from crm.tests import factories as make

pytestmark = pytest.mark.django_db

DUE = "2025-05-06T12:00:00Z"


@pytest.fixture(autouse=True)
def _setup(settings: Any, tmp_path: Path) -> Iterator[None]:
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path)
    with translation.override("en"):
        yield


@pytest.fixture
def team() -> dict[str, Any]:
    return make.team()


def client(user: Any) -> APIClient:
    made = client_for(user)
    made.credentials(HTTP_ACCEPT_LANGUAGE="en")
    return made


def url(team: dict[str, Any], path: str) -> str:
    return f"/api/v1/crm/{team['org'].pk}/{path}"


def streamed(response: Any) -> str:
    return b"".join(response.streaming_content).decode("utf-8")


# --- Tasks -----------------------------------------------------------------------------------


def test_an_agent_creates_lists_completes_reopens_and_deletes_a_task(team: dict[str, Any]) -> None:
    contact = make.contact(team["org"], "Ana Souza")
    agent = client(team["agent"])

    created = agent.post(
        url(team, "tasks/"),
        {"title": "Call", "due_at": DUE, "contact_id": contact.pk},
        format="json",
    )

    assert created.status_code == 201, created.content
    task_id = created.json()["id"]
    assert created.json() == {
        "id": task_id,
        "title": "Call",
        "notes": "",
        "due_at": "2025-05-06T09:00:00-03:00",
        "deal": None,
        "contact": {"id": contact.pk, "name": "Ana Souza"},
        "lead": None,
        "assignee": {"id": team["agent"].pk, "name": team["agent"].get_full_name()},
        "done_at": None,
        "overdue": True,
        "created_at": created.json()["created_at"],
    }
    listed = agent.get(url(team, "tasks/?assignee=me&done=0"))
    assert listed.status_code == 200
    assert (listed.json()["count"], [t["id"] for t in listed.json()["results"]]) == (1, [task_id])
    assert agent.get(url(team, "tasks/?done=1")).json()["count"] == 0

    done = agent.post(url(team, f"tasks/{task_id}/done/"))
    assert done.status_code == 200
    assert (done.json()["done_at"] is not None, done.json()["overdue"]) == (True, False)
    reopened = agent.post(url(team, f"tasks/{task_id}/reopen/"))
    assert reopened.json()["done_at"] is None

    changed = agent.patch(url(team, f"tasks/{task_id}/"), {"title": "Call again"}, format="json")
    assert changed.json()["title"] == "Call again"
    assert agent.delete(url(team, f"tasks/{task_id}/")).status_code == 204
    assert Task.objects.count() == 0


def test_task_filters_are_checked(team: dict[str, Any]) -> None:
    response = client(team["agent"]).get(url(team, "tasks/?done=perhaps"))

    assert_error(response, 422, "crm.invalid_filter", {"field": "done"})


def test_the_task_permission_matrix(team: dict[str, Any]) -> None:
    contact = make.contact(team["org"])
    task = Task.objects.create(
        organization=team["org"],
        contact=contact,
        assignee=team["agent"],
        title="T",
        due_at=timezone.now(),
    )
    body = {"title": "X", "due_at": DUE, "contact_id": contact.pk}

    assert client(None).get(url(team, "tasks/")).status_code == 401
    assert_error(client(team["outsider"]).get(url(team, "tasks/")), 404, "crm.not_found")
    assert_error(
        client(team["outsider"]).post(url(team, f"tasks/{task.pk}/done/")), 404, "crm.not_found"
    )
    assert client(team["viewer"]).get(url(team, "tasks/")).json()["count"] == 1
    viewer = client(team["viewer"])
    for response in (
        viewer.post(url(team, "tasks/"), body, format="json"),
        viewer.patch(url(team, f"tasks/{task.pk}/"), {"title": "Y"}, format="json"),
        viewer.delete(url(team, f"tasks/{task.pk}/")),
        viewer.post(url(team, f"tasks/{task.pk}/done/")),
        viewer.post(url(team, f"tasks/{task.pk}/reopen/")),
    ):
        assert_error(response, 403, "crm.permission_denied")
    other_task = Task.objects.create(
        organization=team["other_org"],
        contact=make.contact(team["other_org"]),
        assignee=team["outsider"],
        title="Theirs",
        due_at=timezone.now(),
    )
    assert_error(
        client(team["agent"]).post(url(team, f"tasks/{other_task.pk}/done/")), 404, "crm.not_found"
    )
    assert list(Task.objects.order_by("id").values_list("title", "done_at")) == [
        ("T", None),
        ("Theirs", None),
    ]


def test_the_task_list_takes_a_constant_number_of_queries(
    team: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    org = team["org"]
    stage = make.stages(make.pipeline(org))[0]
    for deal in make.deals(stage, 5):
        Task.objects.create(
            organization=org, deal=deal, assignee=team["agent"], title="T", due_at=timezone.now()
        )
    agent = client(team["agent"])

    with django_assert_max_num_queries(8):
        response = agent.get(url(team, "tasks/"))

    assert response.json()["count"] == 5


# --- Saved views -----------------------------------------------------------------------------


def test_views_are_personal(team: dict[str, Any]) -> None:
    viewer = client(team["viewer"])
    created = viewer.post(
        url(team, "views/"),
        {"name": "Won", "entity": "deals", "filters": {"status": "won"}},
        format="json",
    )
    assert created.status_code == 201
    view_id = created.json()["id"]
    assert created.json() == {
        "id": view_id,
        "name": "Won",
        "entity": "deals",
        "mode": "list",
        "filters": {"status": "won"},
        "order": 0,
    }
    assert viewer.get(url(team, "views/?entity=deals")).json() == [created.json()]
    assert viewer.get(url(team, "views/?entity=tasks")).json() == []

    other = client(team["agent"])
    assert other.get(url(team, "views/")).json() == []
    assert_error(
        other.patch(url(team, f"views/{view_id}/"), {"name": "Mine"}, format="json"),
        404,
        "crm.not_found",
    )
    assert_error(other.delete(url(team, f"views/{view_id}/")), 404, "crm.not_found")
    assert_error(client(team["outsider"]).get(url(team, "views/")), 404, "crm.not_found")
    assert_error(
        viewer.post(url(team, "views/"), {"name": "Won", "entity": "deals"}, format="json"),
        409,
        "crm.view_name_taken",
    )
    assert_error(
        viewer.post(
            url(team, "views/"),
            {"name": "X", "entity": "deals", "filters": {"nope": 1}},
            format="json",
        ),
        422,
        "crm.invalid_filter",
        {"field": "nope"},
    )

    renamed = viewer.patch(url(team, f"views/{view_id}/"), {"name": "Won deals"}, format="json")
    assert renamed.json()["name"] == "Won deals"
    assert viewer.delete(url(team, f"views/{view_id}/")).status_code == 204
    assert SavedView.objects.count() == 0


# --- Imports ---------------------------------------------------------------------------------


def test_an_import_over_the_api(
    team: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    # The rows' errors are written in the uploader's language.
    team["agent"].language = "en"
    team["agent"].save(update_fields=["language"])
    agent = client(team["agent"])
    upload = SimpleUploadedFile("people.csv", b"Name;Email\nAna;ana@x.com\nBruno;bad\n")

    uploaded = agent.post(url(team, "imports/"), {"entity": "contacts", "file": upload})

    assert uploaded.status_code == 201, uploaded.content
    job_id = uploaded.json()["id"]
    assert uploaded.json()["preview"] == {
        "headers": ["Name", "Email"],
        "rows": [["Ana", "ana@x.com"], ["Bruno", "bad"]],
        "suggested_mapping": {"Name": "name", "Email": "email"},
    }
    assert (uploaded.json()["status"], uploaded.json()["total_rows"]) == ("uploaded", 2)
    assert client(team["viewer"]).get(url(team, f"imports/{job_id}/")).json()["preview"][
        "headers"
    ] == ["Name", "Email"]

    with django_capture_on_commit_callbacks(execute=True):
        started = agent.post(
            url(team, f"imports/{job_id}/start/"),
            {"mapping": {"Name": "name", "Email": "email"}},
            format="json",
        )

    assert started.status_code == 200, started.content
    detail = agent.get(url(team, f"imports/{job_id}/")).json()
    assert "preview" not in detail
    assert (detail["status"], detail["created_count"], detail["error_count"]) == ("done", 1, 1)
    assert detail["errors"] == [
        {"row": 2, "field": "email", "message": "Enter a valid email address."}
    ]
    listed = agent.get(url(team, "imports/")).json()
    assert [job["id"] for job in listed["results"]] == [job_id]


def test_the_import_permission_matrix(team: dict[str, Any]) -> None:
    body = {"entity": "contacts", "file": SimpleUploadedFile("a.csv", b"Name\nA\n")}
    assert_error(
        client(team["viewer"]).post(url(team, "imports/"), body), 403, "crm.permission_denied"
    )
    body["file"] = SimpleUploadedFile("a.csv", b"Name\nA\n")
    assert_error(client(team["outsider"]).post(url(team, "imports/"), body), 404, "crm.not_found")
    assert ImportJob.objects.count() == 0
    other_job = ImportJob.objects.create(
        organization=team["other_org"], entity="contacts", filename="x.csv", file="x.csv"
    )
    assert_error(
        client(team["agent"]).get(url(team, f"imports/{other_job.pk}/")), 404, "crm.not_found"
    )
    assert_error(
        client(team["agent"]).post(
            url(team, f"imports/{other_job.pk}/start/"), {"mapping": {}}, format="json"
        ),
        404,
        "crm.not_found",
    )
    assert ImportJob.objects.get().status == ImportStatus.UPLOADED


# --- Export ----------------------------------------------------------------------------------


def test_deals_of_one_pipeline_export_with_their_custom_fields(team: dict[str, Any]) -> None:
    org, agent = team["org"], team["agent"]
    pipe = make.pipeline(org)
    new = make.stages(pipe)[0]
    CustomField.objects.create(pipeline=pipe, key="seats", label="Seats", kind="number", order=1)
    CustomField.objects.create(pipeline=pipe, key="renewal", label="Renewal", kind="date", order=2)
    hot = Label.objects.create(organization=org, name="hot")
    ana = make.contact(org, "Ana, the buyer", email="ana@x.com")
    first, second = make.deals(
        new, 2, value=123456, owner=agent, expected_close_date=datetime.date(2025, 12, 31)
    )
    first.contact = ana
    first.custom_fields = {"seats": 12, "renewal": "2026-01-31"}
    first.save()
    first.labels.set([hot])
    second.title = "=HYPERLINK()"
    second.value = 5
    second.probability = 50
    second.save()
    make.deals(make.stages(make.pipeline(org, "Other"))[0], 1, title="Elsewhere")
    stamp = timezone.localtime(first.created_at).isoformat()
    stamp2 = timezone.localtime(second.created_at).isoformat()

    response = client(team["viewer"]).get(url(team, f"export/deals.csv?pipeline={pipe.pk}"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="crm-deals-{timezone.localdate().isoformat()}.csv"'
    )
    assert streamed(response) == (
        "id,title,pipeline,stage,status,value,currency,probability,weighted_value,owner_email,"
        "contact_name,contact_email,company,expected_close_date,labels,created_at,closed_at,"
        "cf.seats,cf.renewal\r\n"
        f"{first.pk},Deal 1,Sales,New,open,1234.56,BRL,,123.45,{agent.email},"
        f'"Ana, the buyer",ana@x.com,,2025-12-31,hot,{stamp},,12,2026-01-31\r\n'
        f"{second.pk},'=HYPERLINK(),Sales,New,open,0.05,BRL,50,0.02,{agent.email},"
        f",,,2025-12-31,,{stamp2},,,\r\n"
    )


def test_contacts_export_with_a_saved_view(team: dict[str, Any]) -> None:
    org = team["org"]
    ana = make.contact(org, "Ana", email="ana@x.com", phone="+5511999998888", source="site")
    make.contact(org, "Bruno", source="fair")
    view = SavedView.objects.create(
        organization=org,
        user=team["agent"],
        name="Site",
        entity="contacts",
        filters={"source": "site"},
    )
    stamp = timezone.localtime(ana.created_at).isoformat()

    response = client(team["agent"]).get(url(team, f"export/contacts.csv?view={view.pk}"))

    assert streamed(response) == (
        "id,name,email,phone,job_title,company,owner_email,source,labels,notes,created_at\r\n"
        f"{ana.pk},Ana,ana@x.com,+5511999998888,,,,site,,,{stamp}\r\n"
    )
    # Someone else's view, or a view of other records, is refused.
    assert_error(
        client(team["admin"]).get(url(team, f"export/contacts.csv?view={view.pk}")),
        404,
        "crm.not_found",
    )
    assert_error(
        client(team["agent"]).get(url(team, f"export/deals.csv?view={view.pk}")),
        422,
        "crm.invalid_filter",
        {"field": "view"},
    )


def test_export_refuses_outsiders_unknown_records_and_bad_filters(team: dict[str, Any]) -> None:
    assert_error(client(team["outsider"]).get(url(team, "export/deals.csv")), 404, "crm.not_found")
    assert_error(
        client(team["agent"]).get(url(team, "export/calls.csv")),
        422,
        "crm.invalid_filter",
        {"field": "entity"},
    )
    assert_error(
        client(team["agent"]).get(url(team, "export/deals.csv?value_min=abc")),
        422,
        "crm.invalid_filter",
        {"field": "value_min"},
    )


def test_restricted_deals_are_not_exported_to_those_who_do_not_see_them(
    team: dict[str, Any],
) -> None:
    org = team["org"]
    make.deals(make.stages(make.pipeline(org, "Secret", restricted=True))[0], 1, title="Secret")
    make.deals(make.stages(make.pipeline(org))[0], 1, title="Open")

    agent_lines = streamed(client(team["agent"]).get(url(team, "export/deals.csv"))).splitlines()
    admin_lines = streamed(client(team["admin"]).get(url(team, "export/deals.csv"))).splitlines()

    assert [line.split(",")[1] for line in agent_lines[1:]] == ["Open 1"]
    assert sorted(line.split(",")[1] for line in admin_lines[1:]) == ["Open 1", "Secret 1"]
    assert Deal.objects.count() == 2
