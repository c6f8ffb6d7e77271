"""CSV import of contacts and deals: upload, preview and mapping, then a resumable task.

1. ``import_upload`` stores the file (private storage) after checking its size, encoding
   (UTF-8, with or without BOM, else Latin-1), separator ("," or ";") and header row, and
   counts its data rows.
2. ``import_preview`` shows the first rows and a suggested mapping of columns to fields.
3. ``import_start`` checks the mapping ``{csv header: field}`` and queues ``crm.run_import``.
4. ``import_run`` imports batches of ``BATCH_SIZE`` rows, each batch in its own transaction
   together with the job's progress (``next_row``, counters, errors), so a run that dies
   continues after the last committed batch and never imports a row twice. Each row is
   imported whole or not at all (a savepoint per row) and a refused row is reported as
   ``{"row": n, "field": name, "message": text}``, ``n`` counting data rows from 1 (the
   header row is not counted: row 1 is the file's second line). After every batch
   ``crm.import.progress`` (ImportJobData) goes to the uploader's ``user.<id>`` group; at the
   end they get a CRM_IMPORT_FINISHED notification.

Contacts are matched by email, then by phone (E.164): a match is updated (non-empty cells
overwrite, labels are added) instead of duplicated. Deals are created through
``crm.deals.deal_create`` one by one, so an imported deal gets exactly what a deal made by
hand gets (position at the end of its column, CREATED activity, board events, the stage
signal); the import is a background task, so its speed matters less than that sameness.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any, TypedDict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Membership, User
from accounts.roles import Capability, role_can
from core.exceptions import ApplicationError
from crm import access
from crm.models import (
    ActivityKind,
    Company,
    Contact,
    CustomField,
    CustomFieldKind,
    ImportEntity,
    ImportJob,
    ImportStatus,
    Label,
    Pipeline,
    Stage,
)
from crm.phones import InvalidPhoneError, normalize_phone
from crm.timeline import activity_record
from realtime.publish import publish_on_commit
from realtime.registry import user_group

BATCH_SIZE = 100
ERRORS_KEPT = 200
PREVIEW_ROWS = 10
IMPORT_PROGRESS = "crm.import.progress"
CUSTOM_PREFIX = "cf."

CONTACT_TARGETS = (
    "name",
    "email",
    "phone",
    "job_title",
    "company",
    "source",
    "owner_email",
    "labels",
    "notes",
)
DEAL_TARGETS = (
    "title",
    "value",
    "currency",
    "stage",
    "contact_email",
    "contact_name",
    "company",
    "owner_email",
    "expected_close_date",
    "labels",
    "probability",
)
REQUIRED_TARGET = {ImportEntity.CONTACTS: "name", ImportEntity.DEALS: "title"}

# Header spellings (lower case, accents removed) suggested for each field.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("name", "nome", "full name", "nome completo", "contact", "contato"),
    "email": ("email", "e-mail", "mail", "email address"),
    "phone": ("phone", "telefone", "celular", "whatsapp", "fone", "mobile"),
    "job_title": ("job title", "job_title", "cargo", "title", "funcao"),
    "company": ("company", "empresa", "organization", "organizacao"),
    "source": ("source", "origem", "fonte"),
    "owner_email": ("owner", "owner_email", "owner email", "responsavel", "dono"),
    "labels": ("labels", "tags", "etiquetas", "label", "tag"),
    "notes": ("notes", "notas", "observacoes", "obs", "observacao"),
    "title": ("title", "titulo", "deal", "negocio", "name", "nome"),
    "value": ("value", "valor", "amount", "montante"),
    "currency": ("currency", "moeda"),
    "stage": ("stage", "etapa", "fase", "estagio"),
    "contact_email": ("contact email", "contact_email", "email do contato", "email", "e-mail"),
    "contact_name": ("contact", "contact name", "contact_name", "contato", "nome do contato"),
    "expected_close_date": (
        "expected close date",
        "expected_close_date",
        "close date",
        "previsao de fechamento",
        "data de fechamento",
        "fechamento",
    ),
    "probability": ("probability", "probabilidade"),
}


class ImportJobData(TypedDict):
    id: int
    entity: str
    filename: str
    status: str
    pipeline_id: int | None
    mapping: dict[str, str]
    total_rows: int
    next_row: int
    created_count: int
    updated_count: int
    error_count: int
    errors: list[dict[str, Any]]
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None
    created_at: datetime.datetime


def import_job_data(job: ImportJob) -> ImportJobData:
    return {
        "id": job.pk,
        "entity": job.entity,
        "filename": job.filename,
        "status": job.status,
        "pipeline_id": job.pipeline_id,
        "mapping": job.mapping,
        "total_rows": job.total_rows,
        "next_row": job.next_row,
        "created_count": job.created_count,
        "updated_count": job.updated_count,
        "error_count": job.error_count,
        "errors": job.errors[:ERRORS_KEPT],
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "created_at": job.created_at,
    }


def invalid_import(field: str, message: str) -> ApplicationError:
    return ApplicationError(
        message, code="crm.invalid_import", extra={"field": field}, status_code=422
    )


def invalid_mapping(field: str, message: str) -> ApplicationError:
    return ApplicationError(
        message, code="crm.invalid_mapping", extra={"field": field}, status_code=422
    )


# --- Reading the file ------------------------------------------------------------------------


def decode(data: bytes) -> str:
    """The file's text: UTF-8 (a BOM is dropped), else Latin-1 (which decodes any bytes:
    spreadsheets on Windows save CSV as Windows-1252/Latin-1)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _delimiter(text: str) -> str:
    """ "," or ";" (Excel in Brazil writes ";"): the one that splits the header into more
    columns, read as CSV so separators inside quotes do not count."""
    first_line = text.split("\n", 1)[0]
    counts = {
        delimiter: len(next(csv.reader([first_line], delimiter=delimiter), []))
        for delimiter in (",", ";")
    }
    return ";" if counts[";"] > counts[","] else ","


def parse_csv(data: bytes) -> tuple[list[str], list[list[str]]]:
    """The header and the data rows (trailing empty rows dropped; cells stripped)."""
    text = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        rows = [[cell.strip() for cell in row] for row in reader]
    except csv.Error as exc:
        raise invalid_import("file", _("The file is not a valid CSV file.")) from exc
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows or not any(rows[0]):
        raise invalid_import("file", _("The file has no header row."))
    return rows[0], rows[1:]


def _read_job_file(job: ImportJob) -> tuple[list[str], list[list[str]]]:
    with job.file.open("rb") as handle:
        return parse_csv(handle.read())


# --- Upload, preview, start ------------------------------------------------------------------


@transaction.atomic
def import_upload(
    *,
    actor: User,
    organization_id: int,
    entity: str,
    file: Any,
    pipeline_id: int | None = None,
) -> ImportJob:
    """Store an uploaded CSV as an ImportJob ("uploaded", with its row count).

    Needs CRM_WRITE (403 viewers, 404 outsiders). Deals need a ``pipeline_id`` the actor
    sees. 422 ``crm.import_too_large`` past ``CRM_IMPORT_MAX_BYTES``; 422
    ``crm.invalid_import`` {"field": "entity" | "pipeline_id" | "file"} for unknown records,
    a missing pipeline, an empty file, no header row or repeated column names.
    """
    access.require_write(actor, organization_id)
    if entity not in ImportEntity.values:
        raise invalid_import("entity", _("Only contacts and deals can be imported."))
    pipeline: Pipeline | None = None
    if entity == ImportEntity.DEALS:
        if pipeline_id is None:
            raise invalid_import("pipeline_id", _("Choose the pipeline of the deals."))
        pipeline = (
            access.pipelines_visible(actor, organization_id)
            .filter(pk=pipeline_id, archived_at__isnull=True)
            .first()
        )
        if pipeline is None:
            raise invalid_import("pipeline_id", _("Choose the pipeline of the deals."))
    size = getattr(file, "size", None)
    max_bytes = settings.CRM_IMPORT_MAX_BYTES
    if size is not None and size > max_bytes:
        raise _too_large(max_bytes)
    data = file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _too_large(max_bytes)
    if not data.strip():
        raise invalid_import("file", _("The file is empty."))
    headers, rows = parse_csv(data)
    named = [header for header in headers if header]
    if len(set(named)) != len(named):
        raise invalid_import("file", _("Two columns have the same name."))
    filename = str(getattr(file, "name", "") or "import.csv").rsplit("/", 1)[-1][:255]
    job = ImportJob(
        organization_id=organization_id,
        created_by=actor,
        entity=entity,
        filename=filename,
        pipeline=pipeline,
        total_rows=len(rows),
    )
    job.file.save(filename, ContentFile(data), save=False)
    job.save()
    return job


def _too_large(max_bytes: int) -> ApplicationError:
    return ApplicationError(
        _("The file is larger than %(size)s MB.") % {"size": max_bytes // (1024 * 1024) or 1},
        code="crm.import_too_large",
        extra={"max_bytes": max_bytes},
        status_code=422,
    )


def _simplify(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join(text.lower().replace("_", " ").split())


def targets_for(job: ImportJob) -> list[str]:
    """The fields a column of this job may be mapped to (deals: plus ``cf.<key>``)."""
    if job.entity == ImportEntity.CONTACTS:
        return list(CONTACT_TARGETS)
    keys = CustomField.objects.filter(pipeline_id=job.pipeline_id or 0).values_list(
        "key", flat=True
    )
    return [*DEAL_TARGETS, *(f"{CUSTOM_PREFIX}{key}" for key in keys)]


def suggested_mapping(job: ImportJob, headers: list[str]) -> dict[str, str]:
    """A guess of each column's field from its name (English or Portuguese; custom fields by
    key or label). Unrecognized columns map to "" (ignored); no field is suggested twice."""
    targets = targets_for(job)
    names: dict[str, str] = {}
    for target in targets:
        if target.startswith(CUSTOM_PREFIX):
            names.setdefault(_simplify(target[len(CUSTOM_PREFIX) :]), target)
            names.setdefault(_simplify(target), target)
    if job.entity == ImportEntity.DEALS:
        for key, label in CustomField.objects.filter(pipeline_id=job.pipeline_id or 0).values_list(
            "key", "label"
        ):
            names.setdefault(_simplify(label), f"{CUSTOM_PREFIX}{key}")
    for target in targets:
        for synonym in SYNONYMS.get(target, (target,)):
            names.setdefault(_simplify(synonym), target)
    used: set[str] = set()
    mapping: dict[str, str] = {}
    for header in headers:
        if not header:
            continue
        target = names.get(_simplify(header), "")
        if target in used:
            target = ""
        if target:
            used.add(target)
        mapping[header] = target
    return mapping


def import_preview(job: ImportJob, rows: int = PREVIEW_ROWS) -> dict[str, Any]:
    """``{"headers", "rows" (the first ``rows`` data rows), "suggested_mapping"}``."""
    headers, data = _read_job_file(job)
    return {
        "headers": headers,
        "rows": data[:rows],
        "suggested_mapping": suggested_mapping(job, headers),
    }


def clean_mapping(job: ImportJob, headers: list[str], mapping: Any) -> dict[str, str]:
    """The mapping without ignored columns; 422 ``crm.invalid_mapping`` {"field"} for a
    column not in the file, an unknown field, a field chosen twice or the required field
    (contacts: name, deals: title) missing."""
    if not isinstance(mapping, dict):
        raise invalid_mapping("mapping", _("The mapping must pair columns with fields."))
    targets = set(targets_for(job))
    cleaned: dict[str, str] = {}
    for header, target in mapping.items():
        if target in (None, ""):
            continue
        if header not in headers:
            raise invalid_mapping(str(header), _("The file has no column with this name."))
        if not isinstance(target, str) or target not in targets:
            raise invalid_mapping(str(header), _("Unknown field."))
        if target in cleaned.values():
            raise invalid_mapping(str(header), _("Two columns are mapped to the same field."))
        cleaned[header] = target
    required = REQUIRED_TARGET[ImportEntity(job.entity)]
    if required not in cleaned.values():
        raise invalid_mapping(
            required, _("Choose the column with the %(field)s.") % {"field": required}
        )
    return cleaned


@transaction.atomic
def import_start(*, actor: User, job: ImportJob, mapping: Any) -> ImportJob:
    """Check the mapping and queue the import (``crm.run_import`` after commit).

    Needs CRM_WRITE; only an "uploaded" job starts (409 ``crm.import_started`` otherwise).
    Locks the job. Errors of ``clean_mapping``.
    """
    access.require_write(actor, job.organization_id)
    locked = ImportJob.objects.select_for_update().get(pk=job.pk)
    if locked.status != ImportStatus.UPLOADED:
        raise ApplicationError(
            _("This import has already started."), code="crm.import_started", status_code=409
        )
    headers, _rows = _read_job_file(locked)
    locked.mapping = clean_mapping(locked, headers, mapping)
    locked.status = ImportStatus.QUEUED
    locked.save(update_fields=["mapping", "status", "updated_at"])

    from crm import tasks

    tasks.run_import.delay_on_commit(locked.pk)
    return locked


def imports_list(*, user: Any, organization_id: int) -> QuerySet[ImportJob]:
    """The organization's imports, newest first (any member sees them)."""
    access.require_member(user, organization_id)
    return ImportJob.objects.filter(organization_id=organization_id).order_by("-created_at", "-id")


def import_for(user: Any, organization_id: int, job_id: int) -> ImportJob:
    job = imports_list(user=user, organization_id=organization_id).filter(pk=job_id).first()
    if job is None:
        raise access.not_found()
    return job


# --- Parsing cells ---------------------------------------------------------------------------


class RowError(Exception):
    """A cell that cannot be imported: reported for the row, which is skipped."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def parse_money(text: str) -> int:
    """Reais as written in Brazil or by machines ("1.234,56", "1234.56", "R$ 10") in
    centavos; RowError for anything else (negative, more than two decimals)."""
    cleaned = re.sub(r"\s|R\$", "", text)
    if not re.fullmatch(r"[0-9.,]+", cleaned or "-"):
        raise RowError("value", _("Enter an amount like 1234.56 or 1.234,56."))
    last_comma, last_dot = cleaned.rfind(","), cleaned.rfind(".")
    if last_comma > last_dot:
        # "1.234,56": the comma is the decimal separator.
        integer, decimals = cleaned[:last_comma].replace(".", ""), cleaned[last_comma + 1 :]
    elif last_dot > last_comma and len(cleaned) - last_dot - 1 != 3:
        # "1234.56" or "1,234.5": the dot is the decimal separator.
        integer, decimals = cleaned[:last_dot].replace(",", ""), cleaned[last_dot + 1 :]
    else:
        # "1.234" or "1.234.567": thousands separators only.
        integer, decimals = cleaned.replace(".", "").replace(",", ""), ""
    if "," in integer or "." in integer or "," in decimals or len(decimals) > 2:
        raise RowError("value", _("Enter an amount like 1234.56 or 1.234,56."))
    try:
        amount = Decimal(f"{integer or '0'}.{decimals or '0'}")
    except InvalidOperation:
        raise RowError("value", _("Enter an amount like 1234.56 or 1.234,56.")) from None
    return int(amount * 100)


def parse_date_cell(field: str, text: str) -> datetime.date:
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise RowError(field, _("Enter a date as YYYY-MM-DD or DD/MM/YYYY."))


def parse_number_cell(field: str, text: str) -> int | float:
    normalized = text.replace(" ", "")
    if "," in normalized:
        normalized = normalized.replace(".", "").replace(",", ".")
    try:
        number = Decimal(normalized)
    except InvalidOperation:
        raise RowError(field, _("Enter a number.")) from None
    if not number.is_finite():
        raise RowError(field, _("Enter a number."))
    return int(number) if number == number.to_integral_value() else float(number)


def _label_names(text: str) -> list[str]:
    names: list[str] = []
    for part in text.split(","):
        name = part.strip()[:50]
        if name and name.lower() not in {known.lower() for known in names}:
            names.append(name)
    return names


class Importer:
    """Imports the rows of one job (one instance per run: it caches lookups)."""

    def __init__(self, job: ImportJob, actor: User) -> None:
        self.job = job
        self.actor = actor
        self.organization_id = job.organization_id
        self._owners: dict[str, int | None] = {}
        self._stages: dict[str, Stage] | None = None
        self._first_stage: Stage | None = None
        self._custom_kinds: dict[str, str] | None = None

    # Lookups

    def owner_id(self, email: str) -> int:
        key = email.lower()
        if key not in self._owners:
            self._owners[key] = (
                Membership.objects.filter(
                    organization_id=self.organization_id,
                    user__email__iexact=email,
                    role__in=access.STAFF_ROLES,
                )
                .values_list("user_id", flat=True)
                .first()
            )
        found = self._owners[key]
        if found is None:
            raise RowError("owner_email", _("No member of the organization has this email."))
        return found

    def labels(self, text: str) -> list[Label]:
        found: list[Label] = []
        for name in _label_names(text):
            label = Label.objects.filter(
                organization_id=self.organization_id, name__iexact=name
            ).first()
            if label is None:
                label = Label.objects.create(organization_id=self.organization_id, name=name)
            found.append(label)
        return found

    def company_id(self, name: str) -> int:
        company = (
            Company.objects.filter(organization_id=self.organization_id, name__iexact=name)
            .order_by("id")
            .first()
        )
        if company is None:
            company = Company.objects.create(
                organization_id=self.organization_id, name=name[:150], source="import"
            )
        return company.pk

    def stage(self, name: str) -> Stage:
        if self._stages is None:
            stages = list(
                Stage.objects.filter(pipeline_id=self.job.pipeline_id or 0).order_by("order", "id")
            )
            self._stages = {}
            for stage in stages:
                self._stages.setdefault(stage.name.lower(), stage)
            self._first_stage = stages[0] if stages else None
        if not name:
            if self._first_stage is None:
                raise RowError("stage", _("The pipeline has no stages."))
            return self._first_stage
        found = self._stages.get(name.lower())
        if found is None:
            raise RowError("stage", _("The pipeline has no stage with this name."))
        return found

    def custom_kinds(self) -> dict[str, str]:
        if self._custom_kinds is None:
            self._custom_kinds = dict(
                CustomField.objects.filter(pipeline_id=self.job.pipeline_id or 0).values_list(
                    "key", "kind"
                )
            )
        return self._custom_kinds

    # Rows

    def import_row(self, values: dict[str, str]) -> bool:
        """Import one row (``{field: cell}``); True if it created a record, False if it
        updated one. RowError or ApplicationError when refused."""
        if self.job.entity == ImportEntity.CONTACTS:
            return self.contact_row(values)
        return self.deal_row(values)

    def _email(self, field: str, text: str) -> str:
        if not text:
            return ""
        try:
            validate_email(text)
        except ValidationError:
            raise RowError(field, _("Enter a valid email address.")) from None
        return text

    def _phone(self, field: str, text: str) -> str:
        try:
            return normalize_phone(text)
        except InvalidPhoneError:
            raise RowError(field, _("Enter a valid phone number.")) from None

    def _existing_contact(self, email: str, phone: str) -> Contact | None:
        contacts = Contact.objects.filter(
            organization_id=self.organization_id, merged_into__isnull=True
        ).order_by("id")
        if email:
            found = contacts.filter(email__iexact=email).first()
            if found is not None:
                return found
        if phone:
            return contacts.filter(phone=phone).first()
        return None

    def contact_row(self, values: dict[str, str]) -> bool:
        name = values.get("name", "")
        if not name:
            raise RowError("name", _("Enter a name."))
        fields: dict[str, Any] = {"name": name[:150]}
        if values.get("email"):
            fields["email"] = self._email("email", values["email"])
        if values.get("phone"):
            fields["phone"] = self._phone("phone", values["phone"])
        for target, limit in (("job_title", 100), ("source", 60), ("notes", 10_000)):
            if values.get(target):
                fields[target] = values[target][:limit]
        if values.get("owner_email"):
            fields["owner_id"] = self.owner_id(values["owner_email"])
        if values.get("company"):
            fields["company_id"] = self.company_id(values["company"])
        labels = self.labels(values["labels"]) if values.get("labels") else []
        existing = self._existing_contact(fields.get("email", ""), fields.get("phone", ""))
        if existing is None:
            contact = Contact.objects.create(
                organization_id=self.organization_id, created_by=self.actor, **fields
            )
            contact.labels.add(*labels)
            activity_record(
                organization_id=self.organization_id,
                kind=ActivityKind.IMPORT,
                actor_id=self.actor.pk,
                contact_id=contact.pk,
                data={"import_id": self.job.pk},
            )
            return True
        locked = Contact.objects.select_for_update().get(pk=existing.pk)
        changes = {
            key: [getattr(locked, key), value]
            for key, value in fields.items()
            if getattr(locked, key) != value
        }
        for key, (_old, new) in changes.items():
            setattr(locked, key, new)
        if changes:
            locked.save(update_fields=[*changes, "updated_at"])
        before = set(locked.labels.values_list("pk", flat=True))
        added = [label for label in labels if label.pk not in before]
        if added:
            locked.labels.add(*added)
            changes["label_ids"] = [
                sorted(before),
                sorted(before | {label.pk for label in added}),
            ]
        activity_record(
            organization_id=self.organization_id,
            kind=ActivityKind.IMPORT,
            actor_id=self.actor.pk,
            contact_id=locked.pk,
            data={"import_id": self.job.pk, "changes": changes},
        )
        return False

    def _deal_contact(self, email: str, name: str) -> int | None:
        if not email and not name:
            return None
        contacts = Contact.objects.filter(
            organization_id=self.organization_id, merged_into__isnull=True
        ).order_by("id")
        found = (
            contacts.filter(email__iexact=email).first()
            if email
            else contacts.filter(name__iexact=name).first()
        )
        if found is None:
            found = Contact.objects.create(
                organization_id=self.organization_id,
                name=(name or email)[:150],
                email=email,
                created_by=self.actor,
            )
            activity_record(
                organization_id=self.organization_id,
                kind=ActivityKind.IMPORT,
                actor_id=self.actor.pk,
                contact_id=found.pk,
                data={"import_id": self.job.pk},
            )
        return found.pk

    def _custom_values(self, values: dict[str, str]) -> dict[str, Any]:
        kinds = self.custom_kinds()
        custom: dict[str, Any] = {}
        for target, text in values.items():
            if not target.startswith(CUSTOM_PREFIX) or not text:
                continue
            key = target[len(CUSTOM_PREFIX) :]
            kind = kinds.get(key)
            if kind == CustomFieldKind.NUMBER:
                custom[key] = parse_number_cell(target, text)
            elif kind == CustomFieldKind.DATE:
                custom[key] = parse_date_cell(target, text).isoformat()
            else:
                custom[key] = text
        return custom

    def deal_row(self, values: dict[str, str]) -> bool:
        from crm.deals import deal_create
        from crm.fields import clean_custom_fields

        title = values.get("title", "")
        if not title:
            raise RowError("title", _("Enter a title."))
        value = parse_money(values["value"]) if values.get("value") else 0
        currency = values.get("currency", "").upper() or None
        if currency is not None and not re.fullmatch(r"[A-Z]{3}", currency):
            raise RowError("currency", _("Enter a three-letter currency code (BRL)."))
        stage = self.stage(values.get("stage", ""))
        probability: int | None = None
        if values.get("probability"):
            text = values["probability"].rstrip("%").strip()
            if not text.isdigit() or int(text) > 100:
                raise RowError("probability", _("Enter a whole number from 0 to 100."))
            probability = int(text)
        close = (
            parse_date_cell("expected_close_date", values["expected_close_date"])
            if values.get("expected_close_date")
            else None
        )
        owner_id = self.owner_id(values["owner_email"]) if values.get("owner_email") else None
        contact_email = self._email("contact_email", values.get("contact_email", ""))
        custom = self._custom_values(values)
        pipeline = self.job.pipeline
        assert pipeline is not None
        try:
            custom = clean_custom_fields(pipeline, custom, partial=False)
        except ApplicationError as exc:
            raise RowError(f"{CUSTOM_PREFIX}{exc.extra.get('field')}", exc.message) from None
        company_id = self.company_id(values["company"]) if values.get("company") else None
        contact_id = self._deal_contact(contact_email, values.get("contact_name", ""))
        labels = self.labels(values["labels"]) if values.get("labels") else []
        deal_create(
            actor=self.actor,
            organization_id=self.organization_id,
            pipeline_id=pipeline.pk,
            stage_id=stage.pk,
            title=title[:200],
            value=value,
            currency=currency,
            probability=probability,
            contact_id=contact_id,
            company_id=company_id,
            owner_id=owner_id,
            expected_close_date=close,
            label_ids=[label.pk for label in labels],
            custom_fields=custom,
            # The deal's first timeline line says where it came from.
            source_activity={"kind": ActivityKind.IMPORT, "data": {"import_id": self.job.pk}},
        )
        return True


# --- Running ---------------------------------------------------------------------------------


def _row_values(headers: list[str], row: list[str], mapping: dict[str, str]) -> dict[str, str]:
    index = {header: position for position, header in enumerate(headers)}
    values: dict[str, str] = {}
    for header, target in mapping.items():
        position = index.get(header)
        values[target] = row[position] if position is not None and position < len(row) else ""
    return values


def _error(row_number: int, field: str, message: str) -> dict[str, Any]:
    return {"row": row_number, "field": field, "message": message}


def _run_batch(
    job_id: int,
    start: int,
    headers: list[str],
    rows: list[list[str]],
    importer: Importer | None,
) -> ImportJob | None:
    """Import rows ``start`` to ``start + BATCH_SIZE`` and record the progress, in one
    transaction. Locks the job first: a concurrent run that already moved ``next_row`` on
    makes this one stop (None)."""
    with transaction.atomic():
        job = (
            ImportJob.objects.select_for_update(of=("self",))
            .select_related("pipeline")
            .get(pk=job_id)
        )
        if job.next_row != start or job.status != ImportStatus.RUNNING:
            return None
        if importer is None or importer.job.pk != job.pk:
            raise AssertionError("importer of another job")
        importer.job = job
        created = updated = 0
        errors: list[dict[str, Any]] = []
        end = min(start + BATCH_SIZE, len(rows))
        with translation.override(_job_language(job)):
            for index in range(start, end):
                row = rows[index]
                if not any(row):
                    continue
                values = _row_values(headers, row, job.mapping)
                try:
                    with transaction.atomic():
                        if importer.import_row(values):
                            created += 1
                        else:
                            updated += 1
                except RowError as exc:
                    errors.append(_error(index + 1, exc.field, exc.message))
                except ApplicationError as exc:
                    field = exc.extra.get("field") if isinstance(exc.extra, dict) else None
                    errors.append(_error(index + 1, str(field or ""), exc.message))
        job.next_row = end
        job.created_count += created
        job.updated_count += updated
        job.error_count += len(errors)
        job.errors = (job.errors + errors)[:ERRORS_KEPT]
        job.save(
            update_fields=[
                "next_row",
                "created_count",
                "updated_count",
                "error_count",
                "errors",
                "updated_at",
            ]
        )
        _publish_progress(job)
        return job


def _job_language(job: ImportJob) -> str:
    return job.created_by.language if job.created_by else settings.LANGUAGE_CODE


def _publish_progress(job: ImportJob) -> None:
    if job.created_by_id is not None:
        publish_on_commit(
            user_group(job.created_by_id), IMPORT_PROGRESS, dict(import_job_data(job))
        )


def _begin(job_id: int) -> ImportJob | None:
    """Mark the job running (queued or interrupted); None if it is finished or not started."""
    with transaction.atomic():
        job = (
            ImportJob.objects.select_for_update(of=("self",))
            .select_related("created_by")
            .get(pk=job_id)
        )
        if job.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
            return None
        if job.status == ImportStatus.QUEUED:
            job.status = ImportStatus.RUNNING
            job.started_at = job.started_at or timezone.now()
            job.save(update_fields=["status", "started_at", "updated_at"])
        return job


def _finish(job_id: int, *, failed_message: str | None = None) -> None:
    """Mark the job done (or failed), tell the uploader live and with a notification."""
    from chat.models import NotificationKind
    from chat.notifications import notification_create

    with transaction.atomic():
        job = (
            ImportJob.objects.select_for_update(of=("self",))
            .select_related("created_by")
            .get(pk=job_id)
        )
        if job.status in (ImportStatus.DONE, ImportStatus.FAILED):
            return
        job.status = ImportStatus.FAILED if failed_message else ImportStatus.DONE
        job.finished_at = timezone.now()
        if failed_message:
            job.errors = [*job.errors, _error(0, "", failed_message)][:ERRORS_KEPT]
        job.save(update_fields=["status", "finished_at", "errors", "updated_at"])
        _publish_progress(job)
        user = job.created_by
        if user is None:
            return
        with translation.override(user.language):
            if failed_message:
                title = _("Import of %(file)s failed") % {"file": job.filename}
            else:
                title = _("Import of %(file)s finished") % {"file": job.filename}
            body = _("%(created)s created, %(updated)s updated, %(errors)s with errors.") % {
                "created": job.created_count,
                "updated": job.updated_count,
                "errors": job.error_count,
            }
            notification_create(
                user_id=user.pk,
                kind=NotificationKind.CRM_IMPORT_FINISHED,
                source=f"crm_import:{job.pk}",
                title=title,
                body=body,
                url=f"/crm/import/{job.pk}",
                data={"import_id": job.pk, "status": job.status},
                organization_id=job.organization_id,
            )


def import_run(job_id: int) -> None:
    """Run (or resume) an import: batches from ``next_row`` on, then finish.

    Idempotent: a finished job is left alone; a rerun after a crash continues after the
    last committed batch. The uploader no longer able to write (left the organization, became
    a viewer) fails the job.
    """
    job = _begin(job_id)
    if job is None:
        return
    actor = job.created_by
    if actor is None or not role_can(access.role(actor, job.organization_id), Capability.CRM_WRITE):
        _finish(
            job_id,
            failed_message=_("The person who uploaded the file may no longer import."),
        )
        return
    headers, rows = _read_job_file(job)
    importer = Importer(job, actor)
    start = job.next_row
    while start < len(rows):
        progressed = _run_batch(job_id, start, headers, rows, importer)
        if progressed is None:
            # Another run took over this job (or it was finished): leave it to that one.
            return
        start = progressed.next_row
    _finish(job_id)
