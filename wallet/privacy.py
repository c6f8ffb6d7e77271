"""The wallet's part of a person's data export (LGPD Art. 18, II).

Registered with ``accounts.privacy`` from ``WalletConfig.ready()``: accounts never imports
the wallet. One query per kind of record, however many there are.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from accounts.privacy import export_time
from wallet.models import Account, Dispute, Payout, PixCharge, Transfer


def wallet_data_export(user: Any) -> dict[str, Any]:
    """The person's ledger accounts, every transfer touching them, top-ups, payouts, disputes."""
    accounts = list(Account.objects.filter(user=user).order_by("pk"))
    account_ids = {account.pk for account in accounts}
    transfers = (
        Transfer.objects.filter(Q(debit_account__user=user) | Q(credit_account__user=user))
        .select_related("debit_account", "credit_account")
        .order_by("created_at", "pk")
    )
    return {
        "accounts": [
            {
                "asset": account.asset,
                "kind": account.kind,
                "balance": account.balance,
                "held": account.held,
            }
            for account in accounts
        ],
        "transfers": [
            {
                "created_at": export_time(transfer.created_at),
                "kind": transfer.kind,
                "asset": transfer.asset,
                "amount": transfer.amount,
                # Which of the person's accounts it left and entered; the other side of a
                # charge or a payment is someone else's account, and shows as None.
                "from_account": transfer.debit_account.kind
                if transfer.debit_account_id in account_ids
                else None,
                "to_account": transfer.credit_account.kind
                if transfer.credit_account_id in account_ids
                else None,
                "reference": transfer.reference,
            }
            for transfer in transfers
        ],
        "pix_charges": [
            {
                "txid": charge.txid,
                "tokens": charge.tokens,
                "amount_centavos": charge.amount_centavos,
                "status": charge.status,
                "created_at": export_time(charge.created_at),
                "paid_at": export_time(charge.paid_at),
            }
            for charge in PixCharge.objects.filter(user=user).order_by("created_at", "pk")
        ],
        "payouts": [
            {
                "amount": payout.amount,
                "amount_centavos": payout.amount_centavos,
                "pix_key_type": payout.pix_key_type,
                # Their own key: it is the person's data, so the export shows it whole.
                "pix_key": payout.pix_key,
                "status": payout.status,
                "rejection_reason": payout.rejection_reason,
                "created_at": export_time(payout.created_at),
                "completed_at": export_time(payout.completed_at),
            }
            for payout in Payout.objects.filter(user=user).order_by("created_at", "pk")
        ],
        "disputes": [
            {
                "reference": dispute.reference,
                "reason": dispute.reason,
                "description": dispute.description,
                "status": dispute.status,
                "charged_amount": dispute.charged_amount,
                "refunded_amount": dispute.refunded_amount,
                "resolution_note": dispute.resolution_note,
                "created_at": export_time(dispute.created_at),
                "resolved_at": export_time(dispute.resolved_at),
            }
            for dispute in Dispute.objects.filter(client=user).order_by("created_at", "pk")
        ],
    }
