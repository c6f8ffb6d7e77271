"""Real-time payloads of the wallet, sent to the owner's own ``user.<id>`` group after commit.

The socket only tells a client that something changed; the client reads the state from REST
after a reconnect, so nothing here is the only copy of anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from realtime.publish import publish_on_commit
from realtime.registry import user_group

if TYPE_CHECKING:
    from wallet.models import Account, Dispute, Payout, PixCharge


class BalancePayload(TypedDict):
    account: str
    asset: str
    balance: int
    held: int
    available: int


class PixChargePayload(TypedDict):
    id: int
    txid: str
    status: str
    tokens: int


class PayoutPayload(TypedDict):
    id: int
    status: str
    amount: int


class DisputePayload(TypedDict):
    id: int
    status: str
    refunded_amount: int


BALANCE_CHANGED = "wallet.balance.changed"


def balance_payload(account: Account) -> BalancePayload:
    return {
        "account": account.kind,
        "asset": account.asset,
        "balance": account.balance,
        "held": account.held,
        "available": account.balance - account.held,
    }


def balance_changed(account: Account) -> None:
    assert account.user_id is not None
    publish_on_commit(user_group(account.user_id), BALANCE_CHANGED, dict(balance_payload(account)))


def pix_charge_updated(charge: PixCharge) -> None:
    payload: PixChargePayload = {
        "id": charge.pk,
        "txid": charge.txid,
        "status": charge.status,
        "tokens": charge.tokens,
    }
    publish_on_commit(user_group(charge.user_id), "wallet.pix_charge.updated", dict(payload))


def payout_updated(payout: Payout) -> None:
    payload: PayoutPayload = {"id": payout.pk, "status": payout.status, "amount": payout.amount}
    publish_on_commit(user_group(payout.user_id), "wallet.payout.updated", dict(payload))


def dispute_updated(dispute: Dispute) -> None:
    payload: DisputePayload = {
        "id": dispute.pk,
        "status": dispute.status,
        "refunded_amount": dispute.refunded_amount,
    }
    publish_on_commit(user_group(dispute.client_id), "wallet.dispute.updated", dict(payload))
