"""What a call costs and when it is charged (DESIGN.md §7).

A call is charged per started unit of connected time (``billing_unit_seconds``, 60 in
production): the total for ``n`` units is ``max(minimum fee, n x price)``, and unit ``n`` costs
what it adds to that total (so the first unit costs at least the minimum fee and later ones may
cost nothing until the minimum is used up). A unit is charged when it starts, on the server's
clock, from the moment both sides are connected.

- ``hold_minimum``: at accept, the minimum fee is held from the client's wallet (a queue fee
  held before is voided in the same transaction: it counts toward the call).
- ``start``: both sides connected; unit 1 is charged at once, the minimum hold posted as its
  first part (a connected call always costs the minimum).
- ``pause`` / ``resume``: a side dropped / came back; connected time stops and restarts.
- ``bill_due_calls``: the periodic pass (every ``CALLS_BILLING_INTERVAL_SECONDS``) charges every
  unit that has started, warns a client who cannot pay the next unit, and ends the call at the
  boundary of the unit they could not pay.
- ``settle``: at the end of a call; charges a unit that started before the end but was not
  billed yet, and voids a minimum hold that was never posted.

Every charge is split 85/15 (``wallet.ledger.split_charge``), kind ``charge``, reference
``call:<id>``, idempotency key ``call:<id>:unit:<n>``, metadata ``{"call_id", "unit"}``. The
call's billing fields change only here, under the call's row lock (callers lock the call first,
then billing locks the wallet's accounts: the one lock order).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from calls import events
from calls.models import Call, CallStatus, EndReason
from realtime import publish
from realtime.registry import user_group
from wallet import events as wallet_events
from wallet import ledger
from wallet.ledger import ChargeRequest, Credit, InsufficientFundsError
from wallet.models import Account, AccountKind, Hold, HoldKind, HoldStatus, TransferKind

logger = logging.getLogger(__name__)


# --- Arithmetic ----------------------------------------------------------------------------------


def total_for_units(*, units: int, price: int, minimum_fee: int) -> int:
    """What ``units`` started units cost in all: nothing for none, else at least the minimum."""
    if units <= 0:
        return 0
    return max(minimum_fee, units * price)


def unit_charge(*, unit: int, price: int, minimum_fee: int) -> int:
    """What unit number ``unit`` (1-based) adds to the call's total."""
    return total_for_units(units=unit, price=price, minimum_fee=minimum_fee) - total_for_units(
        units=unit - 1, price=price, minimum_fee=minimum_fee
    )


def required_to_start(*, price: int, minimum_fee: int) -> int:
    """The available balance a client needs to place a call: what its first unit costs."""
    return max(minimum_fee, price)


def _unit_charge_of(call: Call, unit: int) -> int:
    return unit_charge(unit=unit, price=call.price_per_minute, minimum_fee=call.minimum_fee)


def _unit_key(call: Call, unit: int) -> str:
    return f"call:{call.pk}:unit:{unit}"


def _seconds(value: int) -> datetime.timedelta:
    return datetime.timedelta(seconds=value)


# --- Holding and starting ------------------------------------------------------------------------


def hold_minimum(*, call: Call) -> Hold:
    """Hold the minimum fee from the client's wallet for ``call`` (at accept); replay-safe.

    When the call comes from the queue and its entry still holds the queue fee, that hold is
    voided and the minimum held in the same transaction: the fee counts toward the call (the
    client needs the minimum available once the fee is released). Raises
    InsufficientFundsError with nothing changed (the queue hold stays held). Sets
    ``call.minimum_hold``.
    """
    with transaction.atomic():
        entry = call.queue_entry if call.queue_entry_id else None
        entry_hold_id = entry.hold_id if entry is not None else None
        if entry_hold_id is not None:
            queue_hold = Hold.objects.get(pk=entry_hold_id)
            if queue_hold.status == HoldStatus.PENDING:
                ledger.hold_void(hold=queue_hold)
        wallet = ledger.account_for_user(user=call.client, kind=AccountKind.CLIENT_WALLET)
        hold = ledger.hold_create(
            account=wallet,
            amount=call.minimum_fee,
            kind=HoldKind.CALL_MINIMUM,
            idempotency_key=f"call:{call.pk}:minimum",
            reference=call.reference,
            metadata={"call_id": call.pk},
        )
        if call.minimum_hold_id != hold.pk:
            call.minimum_hold = hold
            call.save(update_fields=["minimum_hold", "updated_at"])
    return hold


def start(*, call: Call, now: datetime.datetime) -> bool:
    """Both sides are connected (the call just became active): charge unit 1, start the clock.

    Unit 1 is the pending minimum hold, posted 85/15, plus what the unit costs beyond it,
    charged from the wallet. Returns False when that rest cannot be paid: the minimum is still
    taken (the call connected), nothing else, and the caller ends the call
    (``balance_exhausted`` at ``now``). Called with the call locked.
    """
    if call.billed_units:
        # Already started (a repeated report): the clock is the pass's business now.
        return True
    amount = _unit_charge_of(call, 1)
    hold = _pending_minimum_hold(call)
    held = min(hold.amount, amount) if hold is not None else 0
    rest = amount - held
    metadata = {"call_id": call.pk, "unit": 1}
    paid = True
    if rest:
        try:
            with transaction.atomic():
                ledger.ledger_charge(
                    client=call.client,
                    professional=call.professional,
                    amount=rest,
                    reference=call.reference,
                    idempotency_key=_unit_key(call, 1),
                    kind=TransferKind.CHARGE,
                    metadata=metadata,
                )
        except InsufficientFundsError:
            paid = False
    if hold is not None:
        _post_minimum(call, hold, held if paid else hold.amount, metadata)
    if not paid:
        call.billed_amount = hold.amount if hold is not None else 0
        call.save(update_fields=["billed_amount", "updated_at"])
        return False
    call.billed_units = 1
    call.billed_amount = amount
    call.segment_started_at = now
    call.next_charge_at = now + _seconds(call.billing_unit_seconds)
    warn = _low_after(call, _available(call.client_id))
    if warn is not None:
        call.low_balance_warned_at = now
    call.save(
        update_fields=[
            "billed_units",
            "billed_amount",
            "segment_started_at",
            "next_charge_at",
            "low_balance_warned_at",
            "updated_at",
        ]
    )
    events.call_billed(call, connected_seconds=call.connected_seconds)
    if warn is not None:
        events.call_low_balance(call, ends_at=call.next_charge_at, available=warn)
    return True


def _pending_minimum_hold(call: Call) -> Hold | None:
    if call.minimum_hold_id is None:
        return None
    hold = Hold.objects.get(pk=call.minimum_hold_id)
    return hold if hold.status == HoldStatus.PENDING else None


def _post_minimum(call: Call, hold: Hold, amount: int, metadata: dict[str, Any]) -> None:
    """Post ``amount`` of the minimum hold 85/15 (the rest of it, if any, is released)."""
    professional_share, platform_share = ledger.split_charge(amount)
    credits = []
    if professional_share:
        credits.append(
            Credit(
                account=ledger.account_for_user(
                    user=call.professional, kind=AccountKind.EARNINGS_PENDING
                ),
                amount=professional_share,
                kind=TransferKind.CHARGE,
                metadata={"share": "professional", **metadata},
            )
        )
    credits.append(
        Credit(
            account=ledger.account_for_platform(kind=AccountKind.PLATFORM_REVENUE),
            amount=platform_share,
            kind=TransferKind.CHARGE,
            metadata={"share": "platform", **metadata},
        )
    )
    ledger.hold_post(hold=hold, credits=credits)


# --- Pausing and resuming ------------------------------------------------------------------------


def pause(*, call: Call, now: datetime.datetime) -> None:
    """A side dropped: connected time stops (whole seconds), no unit starts while paused."""
    if call.segment_started_at is None:
        return
    elapsed = max(0, int((now - call.segment_started_at).total_seconds()))
    call.connected_seconds += elapsed
    call.segment_started_at = None
    call.next_charge_at = None
    call.save(
        update_fields=["connected_seconds", "segment_started_at", "next_charge_at", "updated_at"]
    )


def resume(*, call: Call, now: datetime.datetime) -> None:
    """Both sides are connected again: the clock restarts where it stopped.

    When the paid time is used up the next unit is charged at once; a client who cannot pay it
    ends the call (``balance_exhausted`` at ``now``, through ``call_finish``: the caller sees
    ``call.status`` final).
    """
    if call.segment_started_at is not None or call.status != CallStatus.ACTIVE:
        return
    paid_seconds = call.billed_units * call.billing_unit_seconds
    remaining = max(0, paid_seconds - call.connected_seconds)
    call.segment_started_at = now
    call.next_charge_at = now + _seconds(remaining)
    call.save(update_fields=["segment_started_at", "next_charge_at", "updated_at"])
    if remaining == 0:
        outcome = BillingPass()
        _bill_locked([call], now=now, outcome=outcome)


# --- Settling ------------------------------------------------------------------------------------


def settle(*, call: Call, at: datetime.datetime) -> None:
    """The call is finishing at ``at`` (called by ``call_finish``, with the call locked).

    A unit that started before ``at`` and was not billed yet (the pass runs every few seconds)
    is charged if the client can pay it; the open segment is closed into ``connected_seconds``;
    a minimum hold still pending (the call never connected) is voided, never charged.
    """
    if call.status == CallStatus.ACTIVE and call.next_charge_at is not None:
        charged, _refused, _available = _charge_rounds(
            [call], until=at, inclusive=False, now=timezone.now()
        )
        if charged:
            _save_calls(charged, now=timezone.now())
            for billed in charged:
                events.call_billed(billed, connected_seconds=_live_seconds(billed, at))
    if call.segment_started_at is not None:
        call.connected_seconds += max(0, int((at - call.segment_started_at).total_seconds()))
    call.segment_started_at = None
    call.next_charge_at = None
    call.save(
        update_fields=["connected_seconds", "segment_started_at", "next_charge_at", "updated_at"]
    )
    hold = _pending_minimum_hold(call)
    if hold is not None:
        ledger.hold_void(hold=hold)


# --- The periodic pass ---------------------------------------------------------------------------


@dataclass
class BillingPass:
    """What one ``bill_due_calls`` pass did."""

    calls: int = 0  # due calls it locked and looked at
    charges: int = 0  # units charged (a unit that costs nothing counts too)
    amount: int = 0  # tokens charged in all
    warned: int = 0  # low-balance warnings sent
    ended: int = 0  # calls ended because the client could not pay
    batches: int = 0
    errors: list[int] = field(default_factory=list)  # calls left for the next pass


# What the pass reads of a call; a call it must end is read again in full first.
_PASS_FIELDS = (
    "id",
    "client_id",
    "professional_id",
    "status",
    "price_per_minute",
    "minimum_fee",
    "billing_unit_seconds",
    "billed_units",
    "billed_amount",
    "connected_seconds",
    "segment_started_at",
    "next_charge_at",
    "low_balance_warned_at",
)


def bill_due_calls(
    *, now: datetime.datetime | None = None, batch_size: int | None = None
) -> BillingPass:
    """Charge every unit that has started (``next_charge_at <= now``) of every active call.

    The due calls are read once; then they are taken in batches of
    ``CALLS_BILLING_BATCH_SIZE``, each batch in one transaction with its calls locked
    ``FOR UPDATE SKIP LOCKED`` and re-checked: two workers share the due calls instead of
    waiting for each other (one skips the batch the other holds), and a call locked by a
    request (a hang-up) is left for the next pass. Inside a batch the charges go through
    ``ledger_charge_many`` (a late call catches up unit by unit, in rounds); a client who
    cannot pay a unit has the call ended at that unit's boundary through
    ``calls.services.call_finish``. Safe to run in several workers: a unit is charged under
    the call's lock and its idempotency key, once.
    """
    now = now or timezone.now()
    batch_size = batch_size or settings.CALLS_BILLING_BATCH_SIZE
    outcome = BillingPass()
    # The due calls' ids in one read (no lock), then each batch locked and re-checked: every
    # batch is an index lookup by primary key instead of another scan of everything due.
    due_ids = list(
        Call.objects.filter(status=CallStatus.ACTIVE, next_charge_at__lte=now)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for start_at in range(0, len(due_ids), batch_size):
        with transaction.atomic():
            calls = list(
                Call.objects.select_for_update(skip_locked=True)
                .filter(
                    pk__in=due_ids[start_at : start_at + batch_size],
                    # Re-checked under the lock: another worker may have billed it since.
                    status=CallStatus.ACTIVE,
                    next_charge_at__lte=now,
                )
                .only(*_PASS_FIELDS)
                .order_by("pk")
            )
            if not calls:
                continue
            outcome.batches += 1
            outcome.calls += len(calls)
            _bill_locked(calls, now=now, outcome=outcome)
    return outcome


def _bill_locked(calls: Sequence[Call], *, now: datetime.datetime, outcome: BillingPass) -> None:
    """Charge the started units of ``calls`` (locked, active); end those that cannot pay."""
    outbox = _Outbox()
    charged, refused, available = _charge_rounds(
        calls, until=now, inclusive=True, now=now, on_balance_changed=outbox.balance_changed
    )
    warnings: list[tuple[Call, int]] = []
    for call in charged:
        left = available.get(call.pk)
        if left is None:
            continue
        short = _low_after(call, left)
        if short is not None:
            call.low_balance_warned_at = now
            warnings.append((call, short))
    if charged:
        _save_calls(charged, now=now)
    for call in charged:
        data = dict(events.call_billed_payload(call, connected_seconds=_live_seconds(call, now)))
        outbox.add(user_group(call.client_id), events.EVENT_CALL_BILLED, data)
        outbox.add(user_group(call.professional_id), events.EVENT_CALL_BILLED, data)
    for call, short in warnings:
        warning = events.call_low_balance_payload(
            call, ends_at=call.next_charge_at, available=short
        )
        outbox.add(user_group(call.client_id), events.EVENT_CALL_LOW_BALANCE, dict(warning))
    outbox.send_on_commit()
    outcome.charges += sum(call._billing_units_charged for call in charged)  # type: ignore[attr-defined]
    outcome.amount += sum(call._billing_amount_charged for call in charged)  # type: ignore[attr-defined]
    outcome.warned += len(warnings)
    if not refused:
        return
    from calls.services import call_finish

    for partial, boundary in refused:
        try:
            with transaction.atomic():
                # The pass read only its columns: read the rest (the row is locked already).
                # A call given in full (resume) is ended as it is, so its caller sees it end.
                call = Call.objects.get(pk=partial.pk) if partial.get_deferred_fields() else partial
                call_finish(
                    call=call,
                    status=CallStatus.ENDED,
                    reason=EndReason.BALANCE_EXHAUSTED,
                    at=boundary,
                )
        except Exception:
            # One call that cannot be ended must not stop the others' billing; it stays due
            # and the next pass tries again.
            logger.exception("ending call %s at its unpaid boundary failed", partial.pk)
            outcome.errors.append(partial.pk)
        else:
            outcome.ended += 1


# Below this many events a batch publishes them one by one (``publish_on_commit``); above, in
# one go after commit: a pass over thousands of calls would otherwise spend most of its time
# making one round trip to the channel layer per event.
BULK_EVENTS_FROM = 50


class _Outbox:
    """The socket events of one batch, sent after its commit."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str, dict[str, Any]]] = []

    def add(self, group: str, event: str, payload: dict[str, Any]) -> None:
        self.items.append((group, event, payload))

    def balance_changed(self, account: Account) -> None:
        """What ``wallet.events.balance_changed`` sends, collected instead of sent."""
        assert account.user_id is not None
        payload = dict(wallet_events.balance_payload(account))
        self.add(user_group(account.user_id), wallet_events.BALANCE_CHANGED, payload)

    def send_on_commit(self) -> None:
        if len(self.items) < BULK_EVENTS_FROM:
            for group, event, payload in self.items:
                publish.publish_on_commit(group, event, payload)
            return
        publish.publish_many_on_commit(self.items)


def _charge_rounds(
    calls: Sequence[Call],
    *,
    until: datetime.datetime,
    inclusive: bool,
    now: datetime.datetime,
    on_balance_changed: Any = None,
) -> tuple[list[Call], list[tuple[Call, datetime.datetime]], dict[int, int]]:
    """Charge, in rounds of one unit per call, every unit starting before ``until``.

    Returns the calls charged at least once (their fields advanced in memory, not saved), the
    calls refused with the boundary of the unit they could not pay, and each charged client's
    available balance after its last charge (when known without another query).
    """
    unit_for: dict[int, int] = {}
    pending = list(calls)
    charged: dict[int, Call] = {}
    refused: list[tuple[Call, datetime.datetime]] = []
    available: dict[int, int] = {}
    free: set[int] = set()

    def is_due(call: Call) -> bool:
        boundary = call.next_charge_at
        if boundary is None:
            return False
        return boundary <= until if inclusive else boundary < until

    while True:
        due = [call for call in pending if is_due(call)]
        if not due:
            break
        paying: list[tuple[Call, int, int]] = []
        pending = []
        for call in due:
            unit = call.billed_units + 1
            amount = _unit_charge_of(call, unit)
            if amount:
                paying.append((call, unit, amount))
            else:
                _advance(call, unit, 0, charged)
                free.add(call.pk)
                pending.append(call)
        results = ledger.ledger_charge_many(
            [
                ChargeRequest(
                    client_id=call.client_id,
                    professional_id=call.professional_id,
                    amount=amount,
                    reference=call.reference,
                    idempotency_key=_unit_key(call, unit),
                    kind=TransferKind.CHARGE,
                    metadata={"call_id": call.pk, "unit": unit},
                )
                for call, unit, amount in paying
            ],
            on_balance_changed=on_balance_changed,
        )
        for (call, unit, amount), result in zip(paying, results, strict=True):
            unit_for[call.pk] = unit
            if result.ok:
                _advance(call, unit, amount, charged)
                available[call.pk] = result.available_after
                free.discard(call.pk)
                pending.append(call)
            elif isinstance(result.error, InsufficientFundsError):
                assert call.next_charge_at is not None
                refused.append((call, call.next_charge_at))
            else:
                # An idempotency mismatch: this unit's key was used for another amount. Never
                # expected; the call is left as it is, logged, and tried again next pass.
                logger.error("call %s unit %s: %s", call.pk, unit, result.error)
    # Free units do not touch the wallet: read what those clients have left, in one query.
    unknown = [call for call in charged.values() if call.pk in free]
    if unknown:
        by_user = _available_many([call.client_id for call in unknown])
        for call in unknown:
            available[call.pk] = by_user.get(call.client_id, 0)
    return list(charged.values()), refused, available


def _advance(call: Call, unit: int, amount: int, charged: dict[int, Call]) -> None:
    assert call.next_charge_at is not None
    call.billed_units = unit
    call.billed_amount += amount
    call.next_charge_at += _seconds(call.billing_unit_seconds)
    if call.pk not in charged:
        call._billing_units_charged = 0  # type: ignore[attr-defined]
        call._billing_amount_charged = 0  # type: ignore[attr-defined]
        charged[call.pk] = call
    call._billing_units_charged += 1  # type: ignore[attr-defined]
    call._billing_amount_charged += amount  # type: ignore[attr-defined]


def _low_after(call: Call, available: int) -> int | None:
    """``available`` when it cannot pay the call's next unit (the client is warned), else None."""
    following = _unit_charge_of(call, call.billed_units + 1)
    return available if available < following else None


def _available(user_id: int) -> int:
    return _available_many([user_id]).get(user_id, 0)


def _available_many(user_ids: Sequence[int]) -> dict[int, int]:
    rows = Account.objects.filter(
        user_id__in=set(user_ids), kind=AccountKind.CLIENT_WALLET, asset="token"
    ).values_list("user_id", "balance", "held")
    return {user_id: balance - held for user_id, balance, held in rows}


def _live_seconds(call: Call, at: datetime.datetime) -> int:
    """Connected seconds at ``at``: the closed segments plus the open one."""
    if call.segment_started_at is None:
        return call.connected_seconds
    return call.connected_seconds + max(0, int((at - call.segment_started_at).total_seconds()))


_CALL_FIELDS = ("billed_units", "billed_amount", "next_charge_at", "low_balance_warned_at")


def _save_calls(calls: Sequence[Call], *, now: datetime.datetime) -> None:
    """One UPDATE for the billing fields of many calls (PostgreSQL: ``UPDATE ... FROM VALUES``)."""
    for call in calls:
        call.updated_at = now
    if connection.vendor != "postgresql":
        Call.objects.bulk_update(calls, [*_CALL_FIELDS, "updated_at"], batch_size=200)
        return
    table = Call._meta.db_table
    # Arrays instead of a VALUES list: thousands of placeholders cost more to bind than to run.
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{table}" AS c SET "billed_units" = v.units, '  # noqa: S608
            '"billed_amount" = v.amount, "next_charge_at" = v.next_at, '
            '"low_balance_warned_at" = v.warned_at, "updated_at" = %s '
            "FROM unnest(%s::bigint[], %s::integer[], %s::bigint[], %s::timestamptz[], "
            "%s::timestamptz[]) AS v(id, units, amount, next_at, warned_at) "
            'WHERE c."id" = v.id',
            [
                now,
                [call.pk for call in calls],
                [call.billed_units for call in calls],
                [call.billed_amount for call in calls],
                [call.next_charge_at for call in calls],
                [call.low_balance_warned_at for call in calls],
            ],
        )
