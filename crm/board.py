"""Reading the kanban: the cards, the columns' totals, the board's first page and the next
pages of one column.

A board loads in a constant number of queries whatever its number of stages: the pipeline
with its stages and custom fields, one windowed query for the first cards of every column
(``ROW_NUMBER() OVER (PARTITION BY stage ORDER BY position, id)``, served by the
``crm_deal_board_order`` index), their labels, and the totals of every column.

Cards sort by ``(position, id)``; a column's next page starts after an opaque cursor holding
the last card's ``(position, id)``, so cards moved meanwhile never shift a page.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
from collections.abc import Sequence
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.db.models import (
    BigIntegerField,
    Count,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import status

from core.exceptions import ApplicationError
from crm.models import Deal, DealStatus, Label, Pipeline, Stage

DEFAULT_PER_COLUMN = 50
MAX_PER_COLUMN = 200


# --- Cards -----------------------------------------------------------------------------------


def iso(value: Any) -> str | None:
    """A date or datetime written as the socket's JSON encoder writes it (None stays None)."""
    return None if value is None else str(DjangoJSONEncoder().default(value))


def user_ref(user: Any) -> dict[str, Any] | None:
    """UserRef ``{"id", "name"}`` (the full name, else the email), or None."""
    if user is None:
        return None
    return {"id": user.pk, "name": user.get_full_name()}


def label_data(label: Label) -> dict[str, Any]:
    """LabelData ``{"id", "name", "color"}``."""
    return {"id": label.pk, "name": label.name, "color": label.color}


def card_queryset(deals: QuerySet[Deal]) -> QuerySet[Deal]:
    """``deals`` with what ``deal_card`` reads: two queries however many cards."""
    return deals.select_related("stage", "owner", "contact", "company").prefetch_related("labels")


def effective_probability(deal: Deal) -> int:
    """The deal's own win probability if set, else its stage's."""
    return deal.probability if deal.probability is not None else deal.stage.probability


def is_rotting(deal: Deal, *, now: datetime.datetime | None = None) -> bool:
    """An open deal left untouched for longer than its stage's ``rotting_days``."""
    days = deal.stage.rotting_days
    if days is None or deal.status != DealStatus.OPEN:
        return False
    return deal.updated_at < (now or timezone.now()) - datetime.timedelta(days=days)


def deal_card(deal: Deal) -> dict[str, Any]:
    """DealCard, the card on the board (fetch ``deal`` through ``card_queryset``)."""
    probability = effective_probability(deal)
    contact, company = deal.contact, deal.company
    return {
        "id": deal.pk,
        "pipeline_id": deal.pipeline_id,
        "stage_id": deal.stage_id,
        "position": deal.position,
        "version": deal.version,
        "title": deal.title,
        "value": deal.value,
        "currency": deal.currency,
        "probability": probability,
        "weighted_value": deal.value * probability // 100,
        "status": deal.status,
        "owner": user_ref(deal.owner),
        "contact": {"id": contact.pk, "name": contact.name} if contact else None,
        "company": {"id": company.pk, "name": company.name} if company else None,
        "expected_close_date": (
            deal.expected_close_date.isoformat() if deal.expected_close_date else None
        ),
        "labels": [label_data(label) for label in deal.labels.all()],
        "rotting": is_rotting(deal),
        "updated_at": iso(deal.updated_at),
    }


def card_by_id(deal_id: int) -> dict[str, Any] | None:
    """The DealCard of a deal by id, or None if it is gone."""
    deal = card_queryset(Deal.objects.filter(pk=deal_id)).first()
    return deal_card(deal) if deal else None


# --- Totals ----------------------------------------------------------------------------------


def stage_totals(stage_ids: Sequence[int]) -> list[dict[str, Any]]:
    """StageTotals ``{"stage_id", "count", "value", "weighted_value"}`` of each stage, in the
    order given, over all its deals (any status). One query.

    The weighted value sums each deal's ``value * probability // 100`` (its own probability,
    else the stage's), so it equals the sum of the cards' ``weighted_value``.
    """
    ids = list(dict.fromkeys(stage_ids))
    if not ids:
        return []
    weighted = ExpressionWrapper(
        F("value") * Coalesce("probability", "stage__probability") / Value(100),
        output_field=BigIntegerField(),
    )
    rows = {
        row["stage_id"]: row
        for row in Deal.objects.filter(stage_id__in=ids)
        .values("stage_id")
        .annotate(count=Count("id"), total=Sum("value"), weighted=Sum(weighted))
        .order_by()
    }
    totals = []
    for stage_id in ids:
        row = rows.get(stage_id)
        totals.append(
            {
                "stage_id": stage_id,
                "count": row["count"] if row else 0,
                "value": int(row["total"] or 0) if row else 0,
                "weighted_value": int(row["weighted"] or 0) if row else 0,
            }
        )
    return totals


# --- Cursors ---------------------------------------------------------------------------------


def invalid_cursor() -> ApplicationError:
    return ApplicationError(
        _("This page link is not valid; reload the board."),
        code="crm.invalid_cursor",
        status_code=status.HTTP_422_UNPROCESSABLE_ENTITY,
    )


def encode_cursor(deal: Deal) -> str:
    """An opaque cursor pointing just after ``deal`` in its column."""
    raw = json.dumps([deal.position, deal.pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, int]:
    """``(position, id)`` from a cursor; 422 ``crm.invalid_cursor`` if it is not one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position, deal_id = json.loads(raw)
    except (ValueError, TypeError, binascii.Error):
        raise invalid_cursor() from None
    if not isinstance(position, str) or isinstance(deal_id, bool) or not isinstance(deal_id, int):
        raise invalid_cursor()
    return position, deal_id


def _after(position: str, deal_id: int) -> Q:
    return Q(position__gt=position) | Q(position=position, pk__gt=deal_id)


# --- The board -------------------------------------------------------------------------------


def _filtered(
    deals: QuerySet[Deal], pipeline: Pipeline, filters: dict[str, Any] | None, user: Any
) -> QuerySet[Deal]:
    from crm.filtering import apply_filters

    if not filters:
        return deals
    return apply_filters(
        "deals", deals, filters, organization_id=pipeline.organization_id, user=user
    )


def _first_of_each_column(
    deals: QuerySet[Deal], stage_ids: list[int], limit: int
) -> QuerySet[Deal]:
    """The first ``limit`` cards of every column, in one query (one more than a page says
    whether the column has a next page).

    On PostgreSQL a UNION ALL of one ``ORDER BY position, id LIMIT n`` per column: each reads
    only its n rows through the (stage, position, id) index, so a column of 5,000 cards costs
    what a column of 50 does. Databases that refuse LIMIT inside a compound query (SQLite)
    number the rows of each column with a window function instead, which reads them all.
    """
    if not stage_ids:
        return deals.none()
    if connection.features.supports_slicing_ordering_in_compound:
        parts = [
            deals.filter(stage_id=stage_id).order_by("position", "id").values("pk")[:limit]
            for stage_id in stage_ids
        ]
        return Deal.objects.filter(pk__in=parts[0].union(*parts[1:], all=True))
    return deals.annotate(
        board_row=Window(
            RowNumber(),
            partition_by=[F("stage_id")],
            order_by=[F("position").asc(), F("id").asc()],
        )
    ).filter(board_row__lte=limit)


def board_data(
    *,
    user: Any,
    pipeline: Pipeline,
    filters: dict[str, Any] | None = None,
    per_column: int = DEFAULT_PER_COLUMN,
) -> dict[str, Any]:
    """The board's first page: ``{"pipeline": PipelineData, "columns": [{"stage": StageData,
    "deals": [DealCard], "next_cursor": str | None, "totals": StageTotals}]}``.

    ``filters`` (cleaned by ``crm.filtering``) narrow the cards; the totals are always over
    every deal of the column, as the live events send them. The caller has checked that
    ``user`` sees the pipeline. A constant number of queries, whatever the number of stages
    and cards.
    """
    from crm.pipelines import pipeline_data

    per_column = max(1, min(per_column, MAX_PER_COLUMN))
    pipeline_payload = pipeline_data(pipeline)
    stage_ids = [stage["id"] for stage in pipeline_payload["stages"]]
    deals = _filtered(Deal.objects.filter(pipeline=pipeline), pipeline, filters, user)
    ranked = card_queryset(_first_of_each_column(deals, stage_ids, per_column + 1)).order_by(
        "stage_id", "position", "id"
    )
    by_stage: dict[int, list[Deal]] = {stage_id: [] for stage_id in stage_ids}
    for deal in ranked:
        by_stage.setdefault(deal.stage_id, []).append(deal)
    totals = {row["stage_id"]: row for row in stage_totals(stage_ids)}
    columns = []
    for stage in pipeline_payload["stages"]:
        cards = by_stage[stage["id"]]
        page = cards[:per_column]
        columns.append(
            {
                "stage": stage,
                "deals": [deal_card(deal) for deal in page],
                "next_cursor": encode_cursor(page[-1]) if len(cards) > per_column else None,
                "totals": totals[stage["id"]],
            }
        )
    return {"pipeline": pipeline_payload, "columns": columns}


def stage_of(pipeline: Pipeline, stage_id: int) -> Stage:
    """A stage of ``pipeline``; 404 ``crm.not_found`` for any other (another pipeline's or
    organization's stage answers the same)."""
    from crm import access

    stage = Stage.objects.filter(pk=stage_id, pipeline_id=pipeline.pk).first()
    if stage is None:
        raise access.not_found()
    return stage


def column_page(
    *,
    pipeline: Pipeline,
    stage: Stage,
    cursor: str | None,
    filters: dict[str, Any] | None = None,
    limit: int = DEFAULT_PER_COLUMN,
    user: Any = None,
) -> dict[str, Any]:
    """One column's cards after ``cursor`` (from the start without one): ``{"deals":
    [DealCard], "next_cursor": str | None, "totals": StageTotals}``. Four queries.

    422 ``crm.invalid_cursor`` for a cursor this did not make.
    """
    assert stage.pipeline_id == pipeline.pk
    limit = max(1, min(limit, MAX_PER_COLUMN))
    deals = _filtered(Deal.objects.filter(stage=stage), pipeline, filters, user)
    if cursor:
        deals = deals.filter(_after(*decode_cursor(cursor)))
    cards = list(card_queryset(deals).order_by("position", "id")[: limit + 1])
    page = cards[:limit]
    return {
        "deals": [deal_card(deal) for deal in page],
        "next_cursor": encode_cursor(page[-1]) if len(cards) > limit else None,
        "totals": stage_totals([stage.pk])[0],
    }
