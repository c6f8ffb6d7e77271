"""Real-time payloads of calls, sent to ``user.<id>`` groups after commit.

Sockets only hurry things along: a client that reconnects reads its call from REST
(``calls/current/``), so nothing here is the only copy of anything.
"""

from __future__ import annotations

from typing import Any, TypedDict

from realtime.publish import publish_on_commit
from realtime.registry import user_group

EVENT_CALL_UPDATED = "calls.call.updated"
EVENT_PROFESSIONAL_STATUS = "calls.professional.status"

# Every signed-in user may follow professional status changes (topic registered by H3).
CATALOG_GROUP = "calls.catalog.all"


class PersonBrief(TypedDict):
    id: int
    display_name: str
    avatar_url: str | None


class CallPayload(TypedDict):
    id: int
    status: str
    end_reason: str
    media_path: str
    client: PersonBrief
    professional: PersonBrief
    price_per_minute: int
    minimum_fee: int
    billing_unit_seconds: int
    requested_at: Any
    ringing_at: Any
    ring_deadline: Any
    answered_at: Any
    connect_deadline: Any
    connected_at: Any
    ended_at: Any
    client_connected: bool
    professional_connected: bool
    disconnect_deadline: Any
    billed_units: int
    billed_amount: int
    connected_seconds: int
    segment_started_at: Any
    next_charge_at: Any
    low_balance_warned_at: Any
    queue_entry_id: int | None
    rated: bool


class ProfessionalStatusPayload(TypedDict):
    professional_id: int
    status: str
    accepting_calls: bool


def person_brief(user: Any) -> PersonBrief:
    return {
        "id": user.pk,
        "display_name": user.get_full_name(),
        "avatar_url": user.avatar.url if user.avatar else None,
    }


def _rated(call: Any) -> bool:
    from calls.models import CallRating

    cached = getattr(call, "_prefetched_rated", None)
    if cached is not None:
        return bool(cached)
    return CallRating.objects.filter(call_id=call.pk).exists()


def call_payload(call: Any) -> CallPayload:
    """The call as both participants see it (the same JSON as ``CallOutput``)."""
    return {
        "id": call.pk,
        "status": call.status,
        "end_reason": call.end_reason,
        "media_path": call.media_path,
        "client": person_brief(call.client),
        "professional": person_brief(call.professional),
        "price_per_minute": call.price_per_minute,
        "minimum_fee": call.minimum_fee,
        "billing_unit_seconds": call.billing_unit_seconds,
        "requested_at": call.requested_at,
        "ringing_at": call.ringing_at,
        "ring_deadline": call.ring_deadline,
        "answered_at": call.answered_at,
        "connect_deadline": call.connect_deadline,
        "connected_at": call.connected_at,
        "ended_at": call.ended_at,
        "client_connected": call.client_connected,
        "professional_connected": call.professional_connected,
        "disconnect_deadline": call.disconnect_deadline,
        "billed_units": call.billed_units,
        "billed_amount": call.billed_amount,
        "connected_seconds": call.connected_seconds,
        "segment_started_at": call.segment_started_at,
        "next_charge_at": call.next_charge_at,
        "low_balance_warned_at": call.low_balance_warned_at,
        "queue_entry_id": call.queue_entry_id,
        "rated": _rated(call),
    }


def to_participants(call: Any, event: str, data: dict[str, Any]) -> None:
    """Send ``event`` to both participants' user groups after commit."""
    publish_on_commit(user_group(call.client_id), event, data)
    publish_on_commit(user_group(call.professional_id), event, data)


def call_updated(call: Any) -> None:
    """``calls.call.updated`` to both participants: a transition or a media change."""
    to_participants(call, EVENT_CALL_UPDATED, dict(call_payload(call)))


def professional_status_changed(profile: Any) -> None:
    """``calls.professional.status`` to the catalog and to the professional's own sockets."""
    data: ProfessionalStatusPayload = {
        "professional_id": profile.user_id,
        "status": profile.status,
        "accepting_calls": profile.accepting_calls,
    }
    publish_on_commit(CATALOG_GROUP, EVENT_PROFESSIONAL_STATUS, dict(data))
    publish_on_commit(user_group(profile.user_id), EVENT_PROFESSIONAL_STATUS, dict(data))


# --- Billing (H2) ------------------------------------------------------------------------------

EVENT_CALL_BILLED = "calls.call.billed"
EVENT_CALL_LOW_BALANCE = "calls.call.low_balance"


class CallBilledPayload(TypedDict):
    call_id: int
    billed_units: int
    billed_amount: int
    next_charge_at: Any
    connected_seconds: int


class CallLowBalancePayload(TypedDict):
    call_id: int
    ends_at: Any
    available: int


def call_billed_payload(call: Any, *, connected_seconds: int) -> CallBilledPayload:
    return {
        "call_id": call.pk,
        "billed_units": call.billed_units,
        "billed_amount": call.billed_amount,
        "next_charge_at": call.next_charge_at,
        "connected_seconds": connected_seconds,
    }


def call_billed(call: Any, *, connected_seconds: int) -> None:
    """``calls.call.billed`` to both participants after a charge (``connected_seconds``: the
    connected time when the pass charged, closed segments plus the open one)."""
    data = call_billed_payload(call, connected_seconds=connected_seconds)
    to_participants(call, EVENT_CALL_BILLED, dict(data))


def call_low_balance_payload(call: Any, *, ends_at: Any, available: int) -> CallLowBalancePayload:
    return {"call_id": call.pk, "ends_at": ends_at, "available": available}


def call_low_balance(call: Any, *, ends_at: Any, available: int) -> None:
    """``calls.call.low_balance`` to the client only: the next unit cannot be paid, the call
    ends at ``ends_at`` unless they top up."""
    data = call_low_balance_payload(call, ends_at=ends_at, available=available)
    publish_on_commit(user_group(call.client_id), EVENT_CALL_LOW_BALANCE, dict(data))
