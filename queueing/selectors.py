"""Reads of the marketplace queue: positions, estimated waits and the payloads clients see.

A position is never stored: it is the entry's rank (1-based) among the professional's open
entries ordered by ``(joined_at, id)``, so leaving the line never rewrites anyone else's row
and a client who reconnects reads the same position from REST (``GET queue/mine/``).

The estimated wait is ``(position - 1 + (1 if the professional is in a call)) x average call
length``: everyone ahead of you takes one average call, and the call in progress (if any)
counts as one more. The average is ``ProfessionalProfile.average_call_seconds``, or
``DEFAULT_CALL_SECONDS`` (10 minutes) while the professional has no finished call yet.
"""

from __future__ import annotations

from typing import Any, TypedDict

from django.db.models import QuerySet

from accounts.models import User
from calls.models import LIVE_STATUSES, Call, ProfessionalProfile
from queueing.models import OPEN_STATUSES, EntryStatus, MarketplaceQueueEntry

# Used for the estimated wait until the professional has finished a call.
DEFAULT_CALL_SECONDS = 10 * 60


class PersonBrief(TypedDict):
    id: int
    display_name: str
    avatar_url: str | None


class QueueEntryPayload(TypedDict):
    id: int
    professional: PersonBrief
    status: str
    fee: int
    position: int | None
    estimated_wait_seconds: int | None
    joined_at: Any
    offered_at: Any
    offer_expires_at: Any
    call_id: int | None


class QueueClientBrief(TypedDict):
    id: int
    display_name: str


class ProfessionalQueueRow(TypedDict):
    id: int
    client: QueueClientBrief
    joined_at: Any
    status: str


class ProfessionalQueue(TypedDict):
    length: int
    entries: list[ProfessionalQueueRow]


def person_brief(user: User) -> PersonBrief:
    return {
        "id": user.pk,
        "display_name": user.get_full_name(),
        "avatar_url": user.avatar.url if user.avatar else None,
    }


def open_entries(*, professional_id: int) -> QuerySet[MarketplaceQueueEntry]:
    """The professional's line, first in line first."""
    return MarketplaceQueueEntry.objects.filter(
        professional_id=professional_id, status__in=OPEN_STATUSES
    ).order_by("joined_at", "id")


def queue_length(*, professional_id: int) -> int:
    return open_entries(professional_id=professional_id).count()


def professional_in_call(*, professional_id: int) -> bool:
    return Call.objects.filter(professional_id=professional_id, status__in=LIVE_STATUSES).exists()


def client_in_call(*, client_id: int) -> bool:
    return Call.objects.filter(client_id=client_id, status__in=LIVE_STATUSES).exists()


def average_call_seconds(*, professional_id: int) -> int:
    average = (
        ProfessionalProfile.objects.filter(user_id=professional_id)
        .values_list("average_call_seconds", flat=True)
        .first()
    )
    return average or DEFAULT_CALL_SECONDS


def estimated_wait_seconds(*, position: int, in_call: bool, average_seconds: int) -> int:
    """``(position - 1 + (1 if in a call)) x average``: see the module docstring."""
    return (position - 1 + (1 if in_call else 0)) * average_seconds


def positions(*, professional_id: int) -> dict[int, int]:
    """Every open entry's position in the professional's line: ``{entry id: position}``."""
    ids = open_entries(professional_id=professional_id).values_list("id", flat=True)
    return {entry_id: index for index, entry_id in enumerate(ids, start=1)}


def entry_position(entry: MarketplaceQueueEntry) -> int | None:
    """1-based rank among the professional's open entries; None once the entry is closed."""
    if entry.status not in OPEN_STATUSES:
        return None
    ahead = (
        open_entries(professional_id=entry.professional_id)
        .filter(joined_at__lte=entry.joined_at)
        .exclude(joined_at=entry.joined_at, id__gte=entry.pk)
        .count()
    )
    return ahead + 1


def entry_payload(
    entry: MarketplaceQueueEntry,
    *,
    position: int | None = None,
    in_call: bool | None = None,
    average_seconds: int | None = None,
) -> QueueEntryPayload:
    """The entry as its client sees it; pass what a caller already computed for a whole line."""
    is_open = entry.status in OPEN_STATUSES
    if is_open and position is None:
        position = entry_position(entry)
    if not is_open:
        position = None
    wait: int | None = None
    if position is not None:
        if entry.status == EntryStatus.OFFERED:
            wait = 0
        else:
            if in_call is None:
                in_call = professional_in_call(professional_id=entry.professional_id)
            if average_seconds is None:
                average_seconds = average_call_seconds(professional_id=entry.professional_id)
            wait = estimated_wait_seconds(
                position=position, in_call=in_call, average_seconds=average_seconds
            )
    call_id = (
        Call.objects.filter(queue_entry_id=entry.pk).values_list("id", flat=True).first()
        if entry.status == EntryStatus.ACCEPTED
        else None
    )
    return {
        "id": entry.pk,
        "professional": person_brief(entry.professional),
        "status": entry.status,
        "fee": entry.fee,
        "position": position,
        "estimated_wait_seconds": wait,
        "joined_at": entry.joined_at,
        "offered_at": entry.offered_at,
        "offer_expires_at": entry.offer_expires_at,
        "call_id": call_id,
    }


def line(*, professional_id: int) -> list[tuple[int, QueueEntryPayload]]:
    """``(client id, payload)`` for the professional's whole line, in order (four queries)."""
    entries = list(open_entries(professional_id=professional_id).select_related("professional"))
    in_call = professional_in_call(professional_id=professional_id)
    average = average_call_seconds(professional_id=professional_id)
    return [
        (
            entry.client_id,
            entry_payload(entry, position=index, in_call=in_call, average_seconds=average),
        )
        for index, entry in enumerate(entries, start=1)
    ]


def entries_open_for_client(*, client: User) -> list[MarketplaceQueueEntry]:
    """The client's open entries (one per professional at most), oldest first."""
    return list(
        MarketplaceQueueEntry.objects.filter(client=client, status__in=OPEN_STATUSES)
        .select_related("professional")
        .order_by("joined_at", "id")
    )


def client_entry_payloads(*, client: User) -> list[QueueEntryPayload]:
    return [entry_payload(entry) for entry in entries_open_for_client(client=client)]


def entry_get_for_client(*, client: User, entry_id: int) -> MarketplaceQueueEntry | None:
    return (
        MarketplaceQueueEntry.objects.filter(pk=entry_id, client=client)
        .select_related("professional")
        .first()
    )


def professional_queue(*, professional_id: int) -> ProfessionalQueue:
    """What the professional sees: the line's length and who is in it, first first."""
    entries = list(open_entries(professional_id=professional_id).select_related("client"))
    rows: list[ProfessionalQueueRow] = [
        {
            "id": entry.pk,
            "client": {"id": entry.client_id, "display_name": entry.client.get_full_name()},
            "joined_at": entry.joined_at,
            "status": entry.status,
        }
        for entry in entries
    ]
    return {"length": len(rows), "entries": rows}
