"""Builders and snapshots shared by the queue's tests.

"The professional is in a call" is a Call row in a live status created directly: the queue
only reads that fact, so the call need not have come through the lifecycle services.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from accounts.models import User
from accounts.tests.helpers import client_for, committed, rows
from calls.models import Call, CallStatus
from calls.tests.factories import client, professional, profile_of
from chat.models import Notification
from queueing import services
from queueing.models import MarketplaceQueueEntry
from wallet.models import Account, AccountKind, Hold, Transfer

T0 = datetime.datetime(2025, 3, 10, 14, 0, tzinfo=datetime.UTC)


def at(seconds: float) -> datetime.datetime:
    return T0 + datetime.timedelta(seconds=seconds)


def live_call_row(pro: User, *, status: str = CallStatus.ACTIVE) -> Call:
    """A live call of ``pro`` with a fresh client (no hold: only its existence matters)."""
    caller = client(balance=0)
    return Call.objects.create(
        client=caller,
        professional=pro,
        status=status,
        price_per_minute=5,
        minimum_fee=10,
        billing_unit_seconds=60,
    )


def end_call(call: Call) -> None:
    Call.objects.filter(pk=call.pk).update(status=CallStatus.ENDED, ended_at=timezone.now())


def busy_professional(**fields: Any) -> tuple[User, Call]:
    pro = professional(**fields)
    return pro, live_call_row(pro)


def join(
    pro: User, *, balance: int = 100, seconds: float = 0, who: User | None = None
) -> MarketplaceQueueEntry:
    """A funded client joins ``pro``'s queue at ``T0 + seconds``."""
    person = who or client(balance=balance)
    return services.queue_join(client=person, professional_id=pro.pk, now=at(seconds))


def reload(entry: MarketplaceQueueEntry) -> MarketplaceQueueEntry:
    return MarketplaceQueueEntry.objects.select_related("hold").get(pk=entry.pk)


def wallet(user: User) -> Account:
    return Account.objects.get(user=user, kind=AccountKind.CLIENT_WALLET)


def balance(user: User) -> tuple[int, int]:
    """(balance, held) of the user's wallet."""
    account = wallet(user)
    return account.balance, account.held


def hold_status(entry: MarketplaceQueueEntry) -> str:
    hold = Hold.objects.get(idempotency_key=f"queue:{entry.pk}:fee")
    return hold.status


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row a queue command may write: entries, holds, transfers, notifications."""
    return {
        "entries": rows(MarketplaceQueueEntry),
        "holds": rows(Hold),
        "transfers": rows(Transfer),
        "notifications": rows(Notification),
        "accounts": [
            {key: value for key, value in row.items() if key != "updated_at"}
            for row in rows(Account)
        ],
    }


def queue_events(published: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, str, Any]]:
    """(group, event, data) of the queue's events among what was published."""
    return [
        (group, message["event"], message["data"])
        for group, message in published
        if message["event"].startswith("queueing.")
    ]


__all__ = ["client", "client_for", "committed", "professional", "profile_of"]
