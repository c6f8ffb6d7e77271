"""CSV import: upload checks, preview and mapping, per-row errors, dedupe, progress, resume."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from accounts.tests.helpers import rows
from chat.models import Notification, NotificationKind
from core.exceptions import ApplicationError
from crm import imports
from crm.models import (
    Activity,
    ActivityKind,
    Company,
    Contact,
    CustomField,
    Deal,
    ImportJob,
    ImportStatus,
    Label,
)
from crm.tests import factories as make

pytestmark = pytest.mark.django_db

CONTACT_MAPPING = {
    "Nome": "name",
    "E-mail": "email",
    "Telefone": "phone",
    "Empresa": "company",
    "Etiquetas": "labels",
    "Responsável": "owner_email",
}


@pytest.fixture(autouse=True)
def _private_media(settings: Any, tmp_path: Path) -> Iterator[None]:
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path)
    with translation.override("en"):
        yield


@pytest.fixture
def team() -> dict[str, Any]:
    found = make.team()
    found["agent"].language = "en"
    found["agent"].save(update_fields=["language"])
    return found


def csv_file(content: str | bytes, name: str = "people.csv") -> SimpleUploadedFile:
    data = content.encode("utf-8") if isinstance(content, str) else content
    return SimpleUploadedFile(name, data, content_type="text/csv")


def upload(team: dict[str, Any], content: str | bytes, **kwargs: Any) -> ImportJob:
    return imports.import_upload(
        actor=team["agent"],
        organization_id=team["org"].pk,
        entity=kwargs.pop("entity", "contacts"),
        file=csv_file(content),
        **kwargs,
    )


def run(team: dict[str, Any], job: ImportJob, mapping: dict[str, str]) -> ImportJob:
    imports.import_start(actor=team["agent"], job=job, mapping=mapping)
    imports.import_run(job.pk)
    job.refresh_from_db()
    return job


def error(excinfo: pytest.ExceptionInfo[ApplicationError]) -> tuple[int, str, dict[str, Any]]:
    return excinfo.value.status_code, excinfo.value.code, excinfo.value.extra


def contacts() -> list[tuple[str, str, str, str | None]]:
    return list(
        Contact.objects.order_by("id").values_list("name", "email", "phone", "company__name")
    )


# --- Upload and preview ----------------------------------------------------------------------


def test_upload_counts_rows_and_previews_with_a_suggested_mapping(team: dict[str, Any]) -> None:
    job = upload(
        team,
        "\ufeffNome,E-mail,Telefone,Empresa,Etiquetas,Responsável,Shoe size\n"
        "Ana,ana@x.com,11 99999-8888,Acme,vip,,42\n"
        "Bruno,,,,,,\n\n",
    )

    assert (job.status, job.total_rows, job.filename, job.created_by_id) == (
        ImportStatus.UPLOADED,
        2,
        "people.csv",
        team["agent"].pk,
    )
    assert imports.import_preview(job) == {
        "headers": [
            "Nome",
            "E-mail",
            "Telefone",
            "Empresa",
            "Etiquetas",
            "Responsável",
            "Shoe size",
        ],
        "rows": [
            ["Ana", "ana@x.com", "11 99999-8888", "Acme", "vip", "", "42"],
            ["Bruno", "", "", "", "", "", ""],
        ],
        "suggested_mapping": {**CONTACT_MAPPING, "Shoe size": ""},
    }


def test_a_semicolon_latin1_file_is_read(team: dict[str, Any]) -> None:
    content = "Nome;E-mail;Observações\nJoão Conceição;joao@x.com;Olá, tudo bem\n".encode("latin-1")
    job = upload(team, content)

    assert imports.import_preview(job)["rows"] == [
        ["João Conceição", "joao@x.com", "Olá, tudo bem"]
    ]
    done = run(team, job, {"Nome": "name", "E-mail": "email", "Observações": "notes"})

    assert (done.status, done.created_count, done.errors) == (ImportStatus.DONE, 1, [])
    assert list(Contact.objects.values_list("name", "notes")) == [
        ("João Conceição", "Olá, tudo bem")
    ]


@pytest.mark.parametrize(
    ("content", "kwargs", "expected"),
    [
        ("", {}, (422, "crm.invalid_import", {"field": "file"})),
        ("\n\n", {}, (422, "crm.invalid_import", {"field": "file"})),
        ("Name,Name\nA,B\n", {}, (422, "crm.invalid_import", {"field": "file"})),
        ("Name\nA\n", {"entity": "calls"}, (422, "crm.invalid_import", {"field": "entity"})),
        ("Title\nA\n", {"entity": "deals"}, (422, "crm.invalid_import", {"field": "pipeline_id"})),
        (
            "Name\n" + "A" * 200 + "\n",
            {},
            (422, "crm.import_too_large", {"max_bytes": 100}),
        ),
    ],
)
def test_bad_uploads_are_refused(
    team: dict[str, Any],
    settings: Any,
    content: str,
    kwargs: dict[str, Any],
    expected: tuple[int, str, dict[str, Any]],
) -> None:
    settings.CRM_IMPORT_MAX_BYTES = 100

    with pytest.raises(ApplicationError) as excinfo:
        upload(team, content, **kwargs)

    assert error(excinfo) == expected
    assert ImportJob.objects.count() == 0


def test_viewers_may_not_import(team: dict[str, Any]) -> None:
    with pytest.raises(ApplicationError) as excinfo:
        imports.import_upload(
            actor=team["viewer"],
            organization_id=team["org"].pk,
            entity="contacts",
            file=csv_file("Name\nA\n"),
        )

    assert (excinfo.value.status_code, excinfo.value.code) == (403, "crm.permission_denied")


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [
        ({"Nome": "name", "Nope": "email"}, {"field": "Nope"}),
        ({"Nome": "name", "E-mail": "birthday"}, {"field": "E-mail"}),
        ({"Nome": "name", "E-mail": "name"}, {"field": "E-mail"}),
        ({"E-mail": "email"}, {"field": "name"}),
        ({"Nome": "name", "E-mail": "cf.size"}, {"field": "E-mail"}),
        ("name", {"field": "mapping"}),
    ],
)
def test_a_wrong_mapping_is_refused(
    team: dict[str, Any], mapping: Any, expected: dict[str, Any]
) -> None:
    job = upload(team, "Nome,E-mail\nAna,ana@x.com\n")

    with pytest.raises(ApplicationError) as excinfo:
        imports.import_start(actor=team["agent"], job=job, mapping=mapping)

    assert error(excinfo) == (422, "crm.invalid_mapping", expected)
    job.refresh_from_db()
    assert (job.status, job.mapping) == (ImportStatus.UPLOADED, {})


def test_a_started_import_does_not_start_again(team: dict[str, Any]) -> None:
    job = upload(team, "Nome\nAna\n")
    imports.import_start(actor=team["agent"], job=job, mapping={"Nome": "name"})

    with pytest.raises(ApplicationError) as excinfo:
        imports.import_start(actor=team["agent"], job=job, mapping={"Nome": "name"})

    assert error(excinfo) == (409, "crm.import_started", {})


# --- Contacts --------------------------------------------------------------------------------


def test_good_rows_are_imported_and_bad_rows_reported_one_by_one(team: dict[str, Any]) -> None:
    org, agent = team["org"], team["agent"]
    Label.objects.create(organization=org, name="VIP")
    job = upload(
        team,
        "Nome,E-mail,Telefone,Empresa,Etiquetas,Responsável\n"
        'Ana Souza,ana@x.com,(11) 99999-8888,Acme,"vip, new",\n'
        ",nobody@x.com,,,,\n"
        "Bruno,not-an-email,,,,\n"
        "Carla,,12,,,\n"
        f"Dani,,,Acme,,{agent.email.upper()}\n"
        f"Edu,,,,,{team['outsider'].email}\n",
    )

    done = run(team, job, CONTACT_MAPPING)

    assert (done.status, done.next_row, done.created_count, done.updated_count) == (
        ImportStatus.DONE,
        6,
        2,
        0,
    )
    assert (done.error_count, done.errors) == (
        4,
        [
            {"row": 2, "field": "name", "message": "Enter a name."},
            {"row": 3, "field": "email", "message": "Enter a valid email address."},
            {"row": 4, "field": "phone", "message": "Enter a valid phone number."},
            {
                "row": 6,
                "field": "owner_email",
                "message": "No member of the organization has this email.",
            },
        ],
    )
    assert contacts() == [
        ("Ana Souza", "ana@x.com", "+5511999998888", "Acme"),
        ("Dani", "", "", "Acme"),
    ]
    ana, dani = Contact.objects.order_by("id")
    assert sorted(ana.labels.values_list("name", flat=True)) == ["VIP", "new"]
    assert dani.owner_id == agent.pk
    assert Company.objects.count() == 1
    assert list(Activity.objects.order_by("id").values_list("kind", "contact_id", "data")) == [
        (ActivityKind.IMPORT, ana.pk, {"import_id": job.pk}),
        (ActivityKind.IMPORT, dani.pk, {"import_id": job.pk}),
    ]
    assert list(
        Notification.objects.values_list("user_id", "kind", "source", "title", "body", "url")
    ) == [
        (
            agent.pk,
            NotificationKind.CRM_IMPORT_FINISHED,
            f"crm_import:{job.pk}",
            "Import of people.csv finished",
            "2 created, 0 updated, 4 with errors.",
            f"/crm/import/{job.pk}",
        )
    ]


def test_contacts_are_matched_by_email_or_phone_and_updated(team: dict[str, Any]) -> None:
    org = team["org"]
    by_email = make.contact(org, "Ana", email="Ana@X.com", job_title="CEO")
    by_phone = make.contact(org, "Bruno", phone="+5511999998888")
    job = upload(
        team,
        "Nome,E-mail,Telefone,Cargo\n"
        "Ana Souza,ana@x.com,,\n"
        "Bruno Lima,,+55 11 99999-8888,CTO\n"
        "Carla,carla@x.com,,\n"
        "Carla C.,carla@x.com,,Dev\n",
    )

    done = run(
        team, job, {"Nome": "name", "E-mail": "email", "Telefone": "phone", "Cargo": "job_title"}
    )

    assert (done.created_count, done.updated_count, done.error_count) == (1, 3, 0)
    assert list(Contact.objects.order_by("id").values_list("pk", "name", "email", "job_title")) == [
        (by_email.pk, "Ana Souza", "ana@x.com", "CEO"),
        (by_phone.pk, "Bruno Lima", "", "CTO"),
        (by_phone.pk + 1, "Carla C.", "carla@x.com", "Dev"),
    ]
    assert Activity.objects.filter(contact=by_phone).get().data == {
        "import_id": job.pk,
        "changes": {"name": ["Bruno", "Bruno Lima"], "job_title": ["", "CTO"]},
    }


def test_progress_is_published_after_each_batch(
    team: dict[str, Any],
    published: list[tuple[str, dict[str, Any]]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    lines = "".join(f"Person {n},p{n}@x.com\n" for n in range(1, 251))
    job = upload(team, "Nome,E-mail\n" + lines)

    with django_capture_on_commit_callbacks(execute=True):
        imports.import_start(
            actor=team["agent"], job=job, mapping={"Nome": "name", "E-mail": "email"}
        )

    progress = [
        (message["data"]["status"], message["data"]["next_row"], message["data"]["created_count"])
        for group, message in published
        if group == f"user.{team['agent'].pk}" and message["event"] == "crm.import.progress"
    ]
    assert progress == [
        ("running", 100, 100),
        ("running", 200, 200),
        ("running", 250, 250),
        ("done", 250, 250),
    ]
    assert Contact.objects.count() == 250


def test_a_crashed_run_resumes_after_the_last_committed_batch(
    team: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = "".join(f"Person {n},p{n}@x.com\n" for n in range(1, 251))
    job = upload(team, "Nome,E-mail\n" + lines)
    imports.import_start(actor=team["agent"], job=job, mapping={"Nome": "name", "E-mail": "email"})
    original = imports.Importer.import_row

    def crash_at_row_150(self: imports.Importer, values: dict[str, str]) -> bool:
        if values["name"] == "Person 150":
            raise RuntimeError("worker lost")
        return original(self, values)

    monkeypatch.setattr(imports.Importer, "import_row", crash_at_row_150)
    with pytest.raises(RuntimeError):
        imports.import_run(job.pk)
    job.refresh_from_db()
    assert (job.status, job.next_row, job.created_count, Contact.objects.count()) == (
        ImportStatus.RUNNING,
        100,
        100,
        100,
    )

    monkeypatch.setattr(imports.Importer, "import_row", original)
    imports.import_run(job.pk)
    imports.import_run(job.pk)

    job.refresh_from_db()
    assert (job.status, job.next_row, job.created_count, job.updated_count) == (
        ImportStatus.DONE,
        250,
        250,
        0,
    )
    assert Contact.objects.count() == 250
    assert Contact.objects.values("email").distinct().count() == 250
    assert Notification.objects.count() == 1


def test_a_run_of_a_job_not_started_does_nothing(team: dict[str, Any]) -> None:
    job = upload(team, "Nome\nAna\n")

    imports.import_run(job.pk)

    job.refresh_from_db()
    assert (job.status, job.next_row) == (ImportStatus.UPLOADED, 0)
    assert Contact.objects.count() == 0


# --- Deals -----------------------------------------------------------------------------------


def test_deals_are_imported_into_the_pipeline_with_per_row_errors(team: dict[str, Any]) -> None:
    org, agent = team["org"], team["agent"]
    pipe = make.pipeline(org)
    new, qualified = make.stages(pipe)[:2]
    CustomField.objects.create(pipeline=pipe, key="seats", label="Seats", kind="number")
    CustomField.objects.create(
        pipeline=pipe, key="plan", label="Plan", kind="choice", choices=["basic", "pro"]
    )
    existing = make.contact(org, "Ana", email="ana@x.com")
    job = upload(
        team,
        "Título;Valor;Etapa;Email do contato;Contato;Fechamento;Seats;Plan;Probabilidade\n"
        "Big one;1.234,56;Qualified;ana@x.com;;31/12/2025;12;pro;40%\n"
        "Plain;1234.5;;;Bruno;2025-11-30;;;\n"
        "Bad value;12,345,6;;;;;;;\n"
        "Bad stage;10;Nowhere;;;;;;\n"
        "Bad seats;10;;;;;many;;\n"
        "Bad plan;10;;;;;;gold;\n"
        "Bad date;10;;;;2025-13-01;;;\n"
        ";10;;;;;;;\n",
        entity="deals",
        pipeline_id=pipe.pk,
    )
    assert imports.import_preview(job)["suggested_mapping"] == {
        "Título": "title",
        "Valor": "value",
        "Etapa": "stage",
        "Email do contato": "contact_email",
        "Contato": "contact_name",
        "Fechamento": "expected_close_date",
        "Seats": "cf.seats",
        "Plan": "cf.plan",
        "Probabilidade": "probability",
    }

    done = run(team, job, imports.import_preview(job)["suggested_mapping"])

    assert (done.created_count, done.error_count) == (2, 6)
    assert done.errors == [
        {"row": 3, "field": "value", "message": "Enter an amount like 1234.56 or 1.234,56."},
        {"row": 4, "field": "stage", "message": "The pipeline has no stage with this name."},
        {"row": 5, "field": "cf.seats", "message": "Enter a number."},
        {"row": 6, "field": "cf.plan", "message": "Plan: this value does not fit the field."},
        {
            "row": 7,
            "field": "expected_close_date",
            "message": "Enter a date as YYYY-MM-DD or DD/MM/YYYY.",
        },
        {"row": 8, "field": "title", "message": "Enter a title."},
    ]
    big, plain = Deal.objects.order_by("id")
    bruno = Contact.objects.get(name="Bruno")
    assert (
        big.title,
        big.value,
        big.stage_id,
        big.contact_id,
        big.expected_close_date,
        big.custom_fields,
        big.probability,
        big.created_by_id,
        big.currency,
    ) == (
        "Big one",
        123456,
        qualified.pk,
        existing.pk,
        datetime.date(2025, 12, 31),
        {"seats": 12, "plan": "pro"},
        40,
        agent.pk,
        "BRL",
    )
    assert (plain.value, plain.stage_id, plain.contact_id, plain.expected_close_date) == (
        123450,
        new.pk,
        bruno.pk,
        datetime.date(2025, 11, 30),
    )
    assert list(
        Activity.objects.filter(deal__isnull=False)
        .order_by("id")
        .values_list("kind", "deal_id", "data")
    ) == [
        (ActivityKind.IMPORT, big.pk, {"import_id": job.pk}),
        (ActivityKind.IMPORT, plain.pk, {"import_id": job.pk}),
    ]


@pytest.mark.parametrize(
    ("text", "centavos"),
    [
        ("1.234,56", 123456),
        ("1234.56", 123456),
        ("1234,5", 123450),
        ("R$ 10", 1000),
        ("1.234", 123400),
        ("1,234.56", 123456),
        ("0,99", 99),
    ],
)
def test_money_cells_are_read_as_reais(text: str, centavos: int) -> None:
    assert imports.parse_money(text) == centavos


@pytest.mark.parametrize("text", ["-10", "abc", "1.2.3,4,5", "10,999"])
def test_bad_money_cells_are_refused(text: str) -> None:
    with pytest.raises(imports.RowError):
        imports.parse_money(text)


def test_a_row_refused_late_leaves_nothing_behind(
    team: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The company, contact and labels of a row are written before its deal; when the deal is
    # then refused, the row's savepoint takes them back.
    from crm import deals

    def refuse(**kwargs: Any) -> None:
        raise ApplicationError("No.", code="crm.invalid_reference", extra={"field": "stage_id"})

    monkeypatch.setattr(deals, "deal_create", refuse)
    pipe = make.pipeline(team["org"])
    job = upload(
        team,
        "Title,Company,Contact,Labels\nDeal,Initech,Ana,hot\n",
        entity="deals",
        pipeline_id=pipe.pk,
    )
    before = rows(Company), rows(Contact), rows(Label), rows(Activity)

    done = run(
        team,
        job,
        {"Title": "title", "Company": "company", "Contact": "contact_name", "Labels": "labels"},
    )

    assert done.errors == [{"row": 1, "field": "stage_id", "message": "No."}]
    assert (rows(Company), rows(Contact), rows(Label), rows(Activity)) == before
