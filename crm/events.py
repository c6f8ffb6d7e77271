"""The kanban's real-time events, to everyone looking at a pipeline's board.

Group ``crm.pipeline.<pipeline_id>`` (topic registered in ``crm.topics``: whoever sees the
pipeline). Events:

- ``crm.deal.created`` ``{deal: DealCard, totals: [StageTotals]}``
- ``crm.deal.updated`` ``{deal, totals}``
- ``crm.deal.moved`` ``{deal, from_stage_id, totals}`` (totals of both columns)
- ``crm.deal.deleted`` ``{deal_id, stage_id, pipeline_id, version, totals}``
- ``crm.stage.rebalanced`` ``{stage_id, pipeline_id}`` (keys rewritten: refetch the column)
- ``crm.pipeline.changed`` ``{pipeline_id}`` (stages or custom fields edited: refetch the board)

Each function is called inside the service's transaction; the payload is built once it has
committed, so it shows the committed state (several changes in a row each send the latest
card; clients keep the highest ``version``). Delivery is at most once: a client that
reconnects refetches the board.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import transaction

from realtime.publish import publish_on_commit


def pipeline_group(pipeline_id: int) -> str:
    return f"crm.pipeline.{pipeline_id}"


def _after_commit(build: Callable[[], None]) -> None:
    # Outside a transaction on_commit runs at once, and so does the publish inside it.
    transaction.on_commit(build)


def _unique(stage_ids: Sequence[int | None]) -> list[int]:
    seen: list[int] = []
    for stage_id in stage_ids:
        if stage_id is not None and stage_id not in seen:
            seen.append(stage_id)
    return seen


def _send_card(
    deal_id: int, event: str, extra_stage_ids: Sequence[int | None] = (), **more: Any
) -> None:
    from crm.board import card_queryset, deal_card, stage_totals
    from crm.models import Deal

    deal = card_queryset(Deal.objects.filter(pk=deal_id)).first()
    if deal is None:
        return  # deleted since; its deletion sends its own event
    totals = stage_totals(_unique([*extra_stage_ids, deal.stage_id]))
    publish_on_commit(
        pipeline_group(deal.pipeline_id),
        event,
        {"deal": deal_card(deal), **more, "totals": totals},
    )


def deal_created(deal_id: int) -> None:
    """``crm.deal.created`` with the card and its column's totals."""
    _after_commit(lambda: _send_card(deal_id, "crm.deal.created"))


def deal_updated(deal_id: int) -> None:
    """``crm.deal.updated`` with the card and its column's totals."""
    _after_commit(lambda: _send_card(deal_id, "crm.deal.updated"))


def deal_moved(deal_id: int, from_stage_id: int) -> None:
    """``crm.deal.moved`` with the card, the column it left and the totals of both columns
    (one column when it moved inside it)."""
    _after_commit(
        lambda: _send_card(deal_id, "crm.deal.moved", [from_stage_id], from_stage_id=from_stage_id)
    )


def deal_deleted(*, deal_id: int, stage_id: int, pipeline_id: int, version: int) -> None:
    """``crm.deal.deleted`` with what identifies the card and its former column's totals."""

    def send() -> None:
        from crm.board import stage_totals

        publish_on_commit(
            pipeline_group(pipeline_id),
            "crm.deal.deleted",
            {
                "deal_id": deal_id,
                "stage_id": stage_id,
                "pipeline_id": pipeline_id,
                "version": version,
                "totals": stage_totals([stage_id]),
            },
        )

    _after_commit(send)


def stage_rebalanced(*, stage_id: int, pipeline_id: int) -> None:
    """``crm.stage.rebalanced``: the column's keys were rewritten (same order)."""
    publish_on_commit(
        pipeline_group(pipeline_id),
        "crm.stage.rebalanced",
        {"stage_id": stage_id, "pipeline_id": pipeline_id},
    )


def pipeline_changed(pipeline_id: int) -> None:
    """``crm.pipeline.changed``: stages or custom fields changed; clients refetch the board."""
    publish_on_commit(
        pipeline_group(pipeline_id), "crm.pipeline.changed", {"pipeline_id": pipeline_id}
    )
