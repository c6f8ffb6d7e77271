"""Reading deals outside the board: the list mode and a deal's detail.

Both build on ``crm.board.deal_card`` (the card every board, list and event shows) and read
only deals of pipelines the user sees (``access.deals_visible``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from crm import access, filtering
from crm.board import card_queryset, deal_card, iso, user_ref
from crm.models import Deal, Task


def deals_list(user: Any, organization_id: int, filters: dict[str, Any]) -> QuerySet[Deal]:
    """The deals the user sees, filtered (``crm.filtering`` keys), newest first.

    Deals of archived pipelines show only when the filters name their pipeline. The
    queryset is ready for ``deal_card``: a page costs the same queries whatever its size.
    """
    deals = access.deals_visible(user, organization_id)
    if not filters.get("pipeline"):
        deals = deals.filter(pipeline__archived_at__isnull=True)
    deals = filtering.apply_filters(
        "deals", deals, filters, organization_id=organization_id, user=user
    )
    return card_queryset(deals).order_by("-created_at", "-id")


def deal_detail(deal: Deal) -> dict[str, Any]:
    """DealDetail: the card plus custom fields, lost reason, dates, creator, pipeline, stage,
    the contact's email and phone, and how many open tasks it has (four queries)."""
    full = (
        card_queryset(Deal.objects.filter(pk=deal.pk))
        .select_related("pipeline", "lost_reason", "created_by")
        .get()
    )
    contact = full.contact
    reason = full.lost_reason
    return {
        **deal_card(full),
        "custom_fields": dict(full.custom_fields or {}),
        "lost_reason": {"id": reason.pk, "name": reason.name} if reason is not None else None,
        "lost_note": full.lost_note,
        "closed_at": iso(full.closed_at),
        "created_at": iso(full.created_at),
        "created_by": user_ref(full.created_by),
        "stage_changed_at": iso(full.stage_changed_at),
        "pipeline": {"id": full.pipeline.pk, "name": full.pipeline.name},
        "stage": {"id": full.stage.pk, "name": full.stage.name, "color": full.stage.color},
        "contact": {
            "id": contact.pk,
            "name": contact.name,
            "email": contact.email,
            "phone": contact.phone,
        }
        if contact is not None
        else None,
        "open_tasks": Task.objects.filter(deal_id=full.pk, done_at__isnull=True).count(),
    }
