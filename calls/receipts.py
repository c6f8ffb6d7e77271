"""A call's receipt, read from the ledger: what each unit cost and who got what.

The lines come from the transfers of the call (reference ``call:<id>``), so the receipt always
agrees with the wallet statement and with what a dispute can refund. Unit 1 is the posted
minimum hold plus, when the first unit costs more than the minimum, the rest charged from the
wallet; units inside the minimum cost nothing and have no line.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from calls.models import Call
from wallet.models import Hold, HoldStatus, Transfer, TransferKind


def call_receipt(*, call: Call, viewer: Any) -> dict[str, Any]:
    """The receipt of ``call`` as ``viewer`` (one of its participants) sees it.

    Both see the call, its prices, one line per charged unit (``unit``, ``amount``, ``at``),
    the total charged and how the minimum fee and a queue fee were handled. The client also
    gets the dispute reference (``call:<id>``) when something was charged; the professional
    gets their 85% share and the platform's 15% instead.
    """
    transfers = list(
        Transfer.objects.filter(reference=call.reference, kind=TransferKind.CHARGE).order_by("pk")
    )
    amounts: dict[int, int] = defaultdict(int)
    first_at: dict[int, Any] = {}
    professional_share = 0
    for transfer in transfers:
        unit = int(transfer.metadata.get("unit", 0))
        amounts[unit] += transfer.amount
        first_at.setdefault(unit, transfer.created_at)
        if transfer.metadata.get("share") == "professional":
            professional_share += transfer.amount
    total = sum(amounts.values())
    lines = [
        {"unit": unit, "amount": amounts[unit], "at": first_at[unit]} for unit in sorted(amounts)
    ]
    minimum_status = None
    if call.minimum_hold_id is not None:
        hold = Hold.objects.filter(pk=call.minimum_hold_id).first()
        minimum_status = hold.status if hold is not None else None
    queue_fee = None
    if call.queue_entry_id is not None:
        entry = call.queue_entry
        assert entry is not None
        queue_hold = Hold.objects.filter(pk=entry.hold_id).first() if entry.hold_id else None
        queue_fee = {
            "amount": entry.fee,
            # Voided when the call took over: the fee counted toward the minimum, never twice.
            "counted_toward_call": queue_hold is not None
            and queue_hold.status == HoldStatus.VOIDED,
        }
    receipt: dict[str, Any] = {
        "call_id": call.pk,
        "status": call.status,
        "end_reason": call.end_reason,
        "connected_at": call.connected_at,
        "ended_at": call.ended_at,
        "connected_seconds": call.connected_seconds,
        "price_per_minute": call.price_per_minute,
        "billing_unit_seconds": call.billing_unit_seconds,
        "billed_units": call.billed_units,
        "lines": lines,
        "total": total,
        "minimum_fee": {
            "amount": call.minimum_fee,
            # "posted": part of unit 1; "voided": released, the call never connected.
            "status": minimum_status,
            "charged": minimum_status == HoldStatus.POSTED,
        },
        "queue_fee": queue_fee,
    }
    if viewer.pk == call.professional_id:
        receipt["professional_share"] = professional_share
        receipt["platform_share"] = total - professional_share
    else:
        receipt["dispute_reference"] = call.reference if total else None
    return receipt
