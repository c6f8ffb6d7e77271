"""The timeline of deals, contacts and leads: every service records what it did here.

``activity_record`` is the only writer of Activity rows; the selectors read them newest first.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from crm.models import Activity


def activity_record(
    *,
    organization_id: int,
    kind: str,
    actor_id: int | None,
    deal_id: int | None = None,
    contact_id: int | None = None,
    lead_id: int | None = None,
    body: str = "",
    data: dict[str, Any] | None = None,
    conversation_id: int | None = None,
    call_id: int | None = None,
    task_id: int | None = None,
) -> Activity:
    """Append one line to a timeline (call inside the service's transaction).

    At least one of deal, contact or lead is required (a database constraint says so).
    """
    return Activity.objects.create(
        organization_id=organization_id,
        kind=kind,
        actor_id=actor_id,
        deal_id=deal_id,
        contact_id=contact_id,
        lead_id=lead_id,
        body=body,
        data=data or {},
        conversation_id=conversation_id,
        call_id=call_id,
        task_id=task_id,
        created_at=timezone.now(),
    )
