"""Reads of the wallet, each scoped to the person asking: nobody sees another's money."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import Max, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import NotFoundError
from wallet import ledger
from wallet.models import (
    Account,
    AccountKind,
    Dispute,
    Hold,
    HoldStatus,
    Payout,
    PayoutStatus,
    PixCharge,
    TokenPackage,
    Transfer,
    TransferKind,
)

# The accounts a person may read a statement of, by the name the API uses.
STATEMENT_ACCOUNTS = {
    "wallet": AccountKind.CLIENT_WALLET,
    "earnings": AccountKind.EARNINGS,
    "clearing": AccountKind.EARNINGS_PENDING,
    "coins": AccountKind.COINS,
}


def packages_on_sale() -> QuerySet[TokenPackage]:
    return TokenPackage.objects.filter(active=True).order_by("position", "tokens")


def topup_catalog() -> dict[str, Any]:
    """What can be bought: packages on sale, the custom amount's limits, sandbox or not."""
    from wallet.services import simulation_enabled

    return {
        "packages": packages_on_sale(),
        "token_value_centavos": settings.WALLET_TOKEN_VALUE_CENTAVOS,
        "custom_min": settings.WALLET_CUSTOM_TOKENS_MIN,
        "custom_max": settings.WALLET_CUSTOM_TOKENS_MAX,
        "sandbox": simulation_enabled(),
    }


def wallet_overview(*, user: Any) -> dict[str, Any]:
    """Balance of the user's wallet and its open holds (zero before the first top-up)."""
    wallet = ledger.account_find(user=user, kind=AccountKind.CLIENT_WALLET)
    if wallet is None:
        return {"balance": 0, "held": 0, "available": 0, "holds": []}
    return {
        "balance": wallet.balance,
        "held": wallet.held,
        "available": wallet.balance - wallet.held,
        "holds": list(
            Hold.objects.filter(debit_account=wallet, status=HoldStatus.PENDING)
            .order_by("-created_at")
            .values("id", "kind", "amount", "reference", "created_at", "expires_at")
        ),
    }


def earnings_summary(*, user: Any) -> dict[str, int]:
    """Pending (in clearing), available, held for withdrawals, and withdrawn so far."""
    pending = ledger.account_find(user=user, kind=AccountKind.EARNINGS_PENDING)
    available = ledger.account_find(user=user, kind=AccountKind.EARNINGS)
    withdrawn = (
        Payout.objects.filter(user=user, status=PayoutStatus.PAID).aggregate(total=Sum("amount"))[
            "total"
        ]
        or 0
    )
    return {
        "pending": pending.balance if pending else 0,
        "available": available.balance - available.held if available else 0,
        "in_withdrawal": available.held if available else 0,
        "withdrawn": withdrawn,
        "token_value_centavos": settings.WALLET_TOKEN_VALUE_CENTAVOS,
        "min_payout": settings.WALLET_PAYOUT_MIN_TOKENS,
        "clearing_days": settings.WALLET_CLEARING_DAYS,
    }


def statement_account(*, user: Any, account: str) -> Account | None:
    """The user's account named ``account`` in the API, or None if it was never used."""
    kind = STATEMENT_ACCOUNTS.get(account)
    if kind is None:
        raise NotFoundError(_("No such account."), code="wallet.unknown_account")
    asset = "coin" if kind == AccountKind.COINS else "token"
    return ledger.account_find(user=user, kind=kind, asset=asset)


def statement_for_account(*, account: Account | None) -> QuerySet[Transfer]:
    """Every transfer in or out of ``account``; one query, whatever the page size."""
    if account is None:
        return Transfer.objects.none()
    return Transfer.objects.filter(Q(debit_account=account) | Q(credit_account=account))


def statement_line(transfer: Transfer, account: Account) -> dict[str, Any]:
    incoming = transfer.credit_account_id == account.pk
    return {
        "id": transfer.pk,
        "created_at": transfer.created_at,
        "kind": transfer.kind,
        "reference": transfer.reference,
        "amount": transfer.amount if incoming else -transfer.amount,
        "balance_after": (
            transfer.credit_balance_after if incoming else transfer.debit_balance_after
        ),
    }


def statement_lines(transfers: Iterable[Transfer], account: Account | None) -> list[dict[str, Any]]:
    """Statement lines, with the legs of one linked set (a charge split 85/15) as one line.

    The client paid one amount for one thing; how it was shared is not their business. Legs
    of a set are written together and sort next to each other, so merging neighbours is
    enough; the balance after the set is its last-written leg's, in either order.
    """
    lines: list[dict[str, Any]] = []
    if account is None:
        return lines
    last_batch = ""
    for transfer in transfers:
        line = statement_line(transfer, account)
        if transfer.batch and transfer.batch == last_batch and lines:
            merged = lines[-1]
            merged["amount"] += line["amount"]
            if line["id"] > merged["id"]:
                merged["id"], merged["balance_after"] = line["id"], line["balance_after"]
            continue
        last_batch = transfer.batch
        lines.append(line)
    return lines


def pix_charges_for_user(*, user: Any) -> QuerySet[PixCharge]:
    return PixCharge.objects.filter(user=user).order_by("-created_at", "-id")


def pix_charge_get(*, user: Any, charge_id: int) -> PixCharge:
    charge = PixCharge.objects.filter(user=user, pk=charge_id).first()
    if charge is None:
        raise NotFoundError()
    return charge


def payouts_for_user(*, user: Any) -> QuerySet[Payout]:
    return Payout.objects.filter(user=user).order_by("-created_at", "-id")


def disputes_for_user(*, user: Any) -> QuerySet[Dispute]:
    return Dispute.objects.filter(client=user).order_by("-created_at", "-id")


def disputable_charges(*, user: Any, now: datetime.datetime | None = None) -> list[dict[str, Any]]:
    """The user's charges still inside the dispute window and not disputed yet."""
    since = (now or timezone.now()) - datetime.timedelta(days=settings.WALLET_DISPUTE_WINDOW_DAYS)
    wallet = ledger.account_find(user=user, kind=AccountKind.CLIENT_WALLET)
    if wallet is None:
        return []
    disputed = Dispute.objects.filter(client=user).values("reference")
    rows = (
        Transfer.objects.filter(
            debit_account=wallet,
            kind__in=(TransferKind.CHARGE, TransferKind.QUEUE_FEE),
            created_at__gte=since,
        )
        .exclude(reference__in=disputed)
        .values("reference")
        .annotate(amount=Sum("amount"), last=Max("created_at"))
        .order_by("reference")
    )
    window = datetime.timedelta(days=settings.WALLET_DISPUTE_WINDOW_DAYS)
    return [
        {
            "reference": row["reference"],
            "amount": row["amount"],
            "disputable_until": row["last"] + window,
        }
        for row in rows
    ]


def receipt_for_user(*, user: Any, reference: str) -> dict[str, Any]:
    """A receipt of what ``reference`` moved in or out of the user's own accounts."""
    accounts = list(Account.objects.filter(user=user).values_list("pk", flat=True))
    transfers = list(
        Transfer.objects.filter(reference=reference)
        .filter(Q(debit_account_id__in=accounts) | Q(credit_account_id__in=accounts))
        .select_related("debit_account", "credit_account")
        .order_by("created_at", "pk")
    )
    charge = None
    if reference.startswith("pix:"):
        charge = PixCharge.objects.filter(user=user, txid=reference[4:]).first()
    if not transfers and charge is None:
        raise NotFoundError()
    lines = []
    for transfer in transfers:
        mine_out = transfer.debit_account_id in accounts
        mine_in = transfer.credit_account_id in accounts
        if mine_out and mine_in:
            # Between two of the user's own accounts (earnings released): no net change.
            continue
        lines.append(
            {
                "id": transfer.pk,
                "created_at": transfer.created_at,
                "kind": transfer.kind,
                "account": (transfer.credit_account if mine_in else transfer.debit_account).kind,
                "amount": transfer.amount if mine_in else -transfer.amount,
            }
        )
    receipt: dict[str, Any] = {
        "reference": reference,
        "issued_to": user.email,
        "lines": lines,
        "total": sum(line["amount"] for line in lines),
        "pix": None,
    }
    if charge is not None:
        receipt["pix"] = {
            "txid": charge.txid,
            "status": charge.status,
            "tokens": charge.tokens,
            "amount_centavos": charge.amount_centavos,
            "paid_at": charge.paid_at,
            "end_to_end_ids": list(charge.payments.values_list("end_to_end_id", flat=True)),
        }
    return receipt
