"""A person's past calls, as a client or as a professional, with what each cost or earned.

Money figures come from the ledger, not from ``Call.billed_amount``, so the history agrees
with the wallet statement, the receipt and a dispute to the token:

- ``charged`` (client view): the sum of the ``charge`` transfers with reference
  ``call:<id>`` debited from the client's token wallet (the professional's and the
  platform's shares together);
- ``earned`` (professional view): the sum of the ``charge`` transfers with that reference
  credited to the professional's earnings clearing account (their 85% share).

A page costs a constant number of queries: the count, the page (people and rating joined)
and one grouped sum over the ledger for the page's calls.
"""

from __future__ import annotations

import datetime
from typing import Any, TypedDict

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from calls.models import Call, CallStatus


class Role:
    CLIENT = "client"
    PROFESSIONAL = "professional"
    CHOICES = (CLIENT, PROFESSIONAL)


class HistoryRow(TypedDict):
    id: int
    other: dict[str, Any]
    status: str
    end_reason: str
    requested_at: datetime.datetime
    connected_at: datetime.datetime | None
    ended_at: datetime.datetime | None
    duration_seconds: int
    charged: int | None
    earned: int | None
    rating: dict[str, Any] | None
    receipt_url: str | None
    dispute_reference: str | None


def call_history(*, user: Any, as_role: str) -> QuerySet[Call]:
    """The user's calls on one side, newest first (index ``calls_*_history_idx``)."""
    if as_role not in Role.CHOICES:
        raise ValueError(f"unknown role {as_role!r}")
    side = Q(client=user) if as_role == Role.CLIENT else Q(professional=user)
    return (
        Call.objects.filter(side)
        .select_related("client", "professional", "rating")
        .order_by("-requested_at", "-id")
    )


def ledger_amounts(*, calls: list[Call], user: Any, as_role: str) -> dict[str, int]:
    """``{"call:<id>": amount}`` charged to (client) or earned by (professional) ``user``."""
    from wallet.models import AccountKind, Transfer, TransferKind

    if not calls:
        return {}
    if as_role == Role.CLIENT:
        side = Q(debit_account__user=user, debit_account__kind=AccountKind.CLIENT_WALLET)
    else:
        side = Q(credit_account__user=user, credit_account__kind=AccountKind.EARNINGS_PENDING)
    rows = (
        Transfer.objects.filter(side, kind=TransferKind.CHARGE)
        .filter(reference__in=[call.reference for call in calls])
        .values("reference")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return {row["reference"]: int(row["total"]) for row in rows}


def duration_seconds(call: Call, *, now: datetime.datetime | None = None) -> int:
    """Connected time: the finished segments, plus the running one of an active call."""
    seconds = call.connected_seconds
    if call.status == CallStatus.ACTIVE and call.segment_started_at is not None:
        running = (now or timezone.now()) - call.segment_started_at
        seconds += max(0, int(running.total_seconds()))
    return seconds


def history_rows(
    *, calls: list[Call], user: Any, as_role: str, receipt_url: Any
) -> list[HistoryRow]:
    """The rows of one page; ``receipt_url(call_id)`` builds the receipt's address."""
    amounts = ledger_amounts(calls=calls, user=user, as_role=as_role)
    now = timezone.now()
    rows: list[HistoryRow] = []
    for call in calls:
        other = call.professional if as_role == Role.CLIENT else call.client
        amount = amounts.get(call.reference, 0)
        rating = getattr(call, "rating", None)
        rows.append(
            {
                "id": call.pk,
                "other": {
                    "id": other.pk,
                    "display_name": other.get_full_name(),
                    "avatar_url": other.avatar.url if other.avatar else None,
                },
                "status": call.status,
                "end_reason": call.end_reason,
                "requested_at": call.requested_at,
                "connected_at": call.connected_at,
                "ended_at": call.ended_at,
                "duration_seconds": duration_seconds(call, now=now),
                "charged": amount if as_role == Role.CLIENT else None,
                "earned": amount if as_role == Role.PROFESSIONAL else None,
                "rating": ({"stars": rating.stars, "comment": rating.comment} if rating else None),
                "receipt_url": receipt_url(call.pk) if call.status == CallStatus.ENDED else None,
                "dispute_reference": (
                    call.reference if as_role == Role.CLIENT and amount > 0 else None
                ),
            }
        )
    return rows
