"""CSV export of any filtered CRM list (deals, contacts, companies, leads, tasks).

``export_csv`` yields the file line by line (header first) while reading the rows in chunks,
so a large export streams in constant memory. Columns are named like the import's fields
(``title``, ``value``, ``owner_email``, ``cf.<key>``...) so an exported file imports back
with the suggested mapping. Money is in reais with a dot ("1234.56"), dates and times ISO
8601, labels comma separated. Deals filtered on one pipeline get that pipeline's custom
fields as ``cf.<key>`` columns.

Cells a spreadsheet would run as a formula ("=...", "@...", "+..." that is not a number) get
a leading apostrophe (CSV injection).
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Callable, Iterator
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from crm import access, filtering
from crm.models import Company, Contact, CustomField, Lead
from crm.reminders import tasks_visible

CHUNK_SIZE = 500
# A cell that is only a number or a phone ("+55 11 99999-8888", "-12.5") is left alone.
NUMBER_LIKE = re.compile(r"^[+-]?[\d\s().,-]*$")


def money(centavos: int) -> str:
    """Centavos as reais with a dot: 123456 -> "1234.56"."""
    return f"{centavos // 100}.{centavos % 100:02d}"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = str(value)
    if text[:1] in ("=", "@", "\t", "\r") or (
        text[:1] in ("+", "-") and not NUMBER_LIKE.match(text)
    ):
        return "'" + text
    return text


def _line(values: list[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([_cell(value) for value in values])
    return buffer.getvalue()


def _labels(record: Any) -> str:
    return ", ".join(label.name for label in record.labels.all())


def _email(user: Any) -> str:
    return user.email if user is not None else ""


def _deal_columns(
    custom_keys: list[str],
) -> tuple[list[str], Callable[[Any], list[Any]]]:
    headers = [
        "id",
        "title",
        "pipeline",
        "stage",
        "status",
        "value",
        "currency",
        "probability",
        "weighted_value",
        "owner_email",
        "contact_name",
        "contact_email",
        "company",
        "expected_close_date",
        "labels",
        "created_at",
        "closed_at",
        *(f"cf.{key}" for key in custom_keys),
    ]

    def row(deal: Any) -> list[Any]:
        probability = deal.probability if deal.probability is not None else deal.stage.probability
        return [
            deal.pk,
            deal.title,
            deal.pipeline.name,
            deal.stage.name,
            deal.status,
            money(deal.value),
            deal.currency,
            deal.probability,
            money(deal.value * probability // 100),
            _email(deal.owner),
            deal.contact.name if deal.contact else "",
            deal.contact.email if deal.contact else "",
            deal.company.name if deal.company else "",
            deal.expected_close_date,
            _labels(deal),
            deal.created_at,
            deal.closed_at,
            *(deal.custom_fields.get(key) for key in custom_keys),
        ]

    return headers, row


def _contact_row(contact: Any) -> list[Any]:
    return [
        contact.pk,
        contact.name,
        contact.email,
        contact.phone,
        contact.job_title,
        contact.company.name if contact.company else "",
        _email(contact.owner),
        contact.source,
        _labels(contact),
        contact.notes,
        contact.created_at,
    ]


def _company_row(company: Any) -> list[Any]:
    return [
        company.pk,
        company.name,
        company.domain,
        company.phone,
        company.tax_id,
        company.address,
        _email(company.owner),
        company.source,
        _labels(company),
        company.notes,
        company.created_at,
    ]


def _lead_row(lead: Any) -> list[Any]:
    return [
        lead.pk,
        lead.name,
        lead.email,
        lead.phone,
        lead.company_name,
        lead.source,
        lead.status,
        _email(lead.owner),
        _labels(lead),
        lead.notes,
        lead.created_at,
    ]


def _task_row(task: Any) -> list[Any]:
    return [
        task.pk,
        task.title,
        task.due_at,
        task.done_at,
        _email(task.assignee),
        task.deal.title if task.deal else "",
        task.contact.name if task.contact else "",
        task.lead.name if task.lead else "",
        task.notes,
        task.created_at,
    ]


CONTACT_HEADERS = [
    "id",
    "name",
    "email",
    "phone",
    "job_title",
    "company",
    "owner_email",
    "source",
    "labels",
    "notes",
    "created_at",
]
COMPANY_HEADERS = [
    "id",
    "name",
    "domain",
    "phone",
    "tax_id",
    "address",
    "owner_email",
    "source",
    "labels",
    "notes",
    "created_at",
]
LEAD_HEADERS = [
    "id",
    "name",
    "email",
    "phone",
    "company_name",
    "source",
    "status",
    "owner_email",
    "labels",
    "notes",
    "created_at",
]
TASK_HEADERS = [
    "id",
    "title",
    "due_at",
    "done_at",
    "assignee_email",
    "deal",
    "contact",
    "lead",
    "notes",
    "created_at",
]


def _source(
    user: Any, organization_id: int, entity: str, filters: filtering.Filters
) -> tuple[list[str], Callable[[Any], list[Any]], QuerySet[Any]]:
    """The headers, the row builder and the (unfiltered) records the user sees."""
    queryset: QuerySet[Any]
    if entity == "deals":
        custom_keys: list[str] = []
        if "pipeline" in filters:
            custom_keys = list(
                CustomField.objects.filter(
                    pipeline_id=filters["pipeline"], pipeline__organization_id=organization_id
                )
                .order_by("order", "id")
                .values_list("key", flat=True)
            )
        headers, row = _deal_columns(custom_keys)
        queryset = (
            access.deals_visible(user, organization_id)
            .select_related("pipeline", "stage", "owner", "contact", "company")
            .prefetch_related("labels")
            .order_by(
                "pipeline__order", "pipeline_id", "stage__order", "stage_id", "position", "id"
            )
        )
        return headers, row, queryset
    if entity == "tasks":
        queryset = (
            tasks_visible(user, organization_id)
            .select_related("assignee", "deal", "contact", "lead")
            .order_by("due_at", "id")
        )
        return TASK_HEADERS, _task_row, queryset
    model: Any
    headers, row, model, related = {
        "contacts": (CONTACT_HEADERS, _contact_row, Contact, ("owner", "company")),
        "companies": (COMPANY_HEADERS, _company_row, Company, ("owner",)),
        "leads": (LEAD_HEADERS, _lead_row, Lead, ("owner",)),
    }[entity]
    queryset = model._default_manager.filter(organization_id=organization_id)
    if entity != "companies":
        # Merged contacts and leads live on in their target.
        queryset = queryset.filter(merged_into__isnull=True)
    queryset = queryset.select_related(*related).prefetch_related("labels").order_by("id")
    return headers, row, queryset


def export_csv(
    *, user: Any, organization_id: int, entity: str, filters: filtering.Filters | None
) -> Iterator[str]:
    """The CSV lines of the records of ``entity`` the user sees, filtered (cleaned filters,
    ``crm.filtering``), header first.

    Checks membership before yielding anything (404 ``crm.not_found`` outside); unknown
    records are 422 ``crm.invalid_filter`` {"field": "entity"}. Reads in chunks of
    ``CHUNK_SIZE`` (labels prefetched per chunk).
    """
    access.require_member(user, organization_id)
    if entity not in filtering.KEYS:
        raise filtering.invalid_filter("entity")
    filters = filters or {}
    headers, row, queryset = _source(user, organization_id, entity, filters)
    queryset = filtering.apply_filters(
        entity, queryset, filters, organization_id=organization_id, user=user
    )
    return _lines(headers, row, queryset)


def _lines(
    headers: list[str], row: Callable[[Any], list[Any]], queryset: QuerySet[Any]
) -> Iterator[str]:
    yield _line(list(headers))
    for record in queryset.iterator(chunk_size=CHUNK_SIZE):
        yield _line(row(record))
