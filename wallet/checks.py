"""``ledger_check``: recompute every balance from the transfers and prove the invariants.

What is checked, for every account and asset:

1. the cached balance equals credits minus debits of its transfers;
2. the cached held amount equals the sum of its pending holds;
3. an account that must never go negative has ``balance - held >= 0``;
4. each asset's balances sum to zero, and every transfer's accounts hold the transfer's asset;
5. every posted hold's posted amount equals the transfers written for it.

It reads with plain aggregate queries (a few, whatever the size of the ledger) and writes one
LedgerCheckRun row, which the admin shows.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import F, Sum
from django.db.models.functions import Coalesce

from wallet.models import Account, Hold, HoldStatus, LedgerCheckRun, Transfer


def ledger_check_run() -> LedgerCheckRun:
    """Check the ledger and record the outcome for the admin."""
    accounts, transfers, problems = ledger_problems()
    return LedgerCheckRun.objects.create(
        ok=not problems,
        accounts_checked=accounts,
        transfers_checked=transfers,
        problems=problems,
    )


def ledger_problems() -> tuple[int, int, list[dict[str, Any]]]:
    """(accounts checked, transfers checked, problems found); writes nothing."""
    problems: list[dict[str, Any]] = []
    credits = dict(
        Transfer.objects.values_list("credit_account").annotate(total=Sum("amount")).order_by()
    )
    debits = dict(
        Transfer.objects.values_list("debit_account").annotate(total=Sum("amount")).order_by()
    )
    held = dict(
        Hold.objects.filter(status=HoldStatus.PENDING)
        .values_list("debit_account")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    sums: dict[str, int] = defaultdict(int)
    accounts = 0
    for account in Account.objects.order_by("pk").iterator(chunk_size=2000):
        accounts += 1
        computed = credits.get(account.pk, 0) - debits.get(account.pk, 0)
        sums[account.asset] += computed
        if computed != account.balance:
            problems.append(
                {
                    "check": "balance",
                    "account": account.key,
                    "cached": account.balance,
                    "computed": computed,
                }
            )
        if held.get(account.pk, 0) != account.held:
            problems.append(
                {
                    "check": "held",
                    "account": account.key,
                    "cached": account.held,
                    "computed": held.get(account.pk, 0),
                }
            )
        if account.never_negative and computed - held.get(account.pk, 0) < 0:
            problems.append(
                {
                    "check": "negative",
                    "account": account.key,
                    "balance": computed,
                    "held": held.get(account.pk, 0),
                }
            )
    for asset, total in sorted(sums.items()):
        if total != 0:
            problems.append({"check": "asset_sum", "asset": asset, "sum": total})
    mixed = (
        Transfer.objects.exclude(debit_account__asset=F("asset"))
        | Transfer.objects.exclude(credit_account__asset=F("asset"))
    ).values_list("pk", flat=True)[:20]
    for transfer_id in mixed:
        problems.append({"check": "asset_mismatch", "transfer": transfer_id})
    posted = (
        Hold.objects.filter(status=HoldStatus.POSTED)
        # Fixed: Coalesce. With no transfer at all the sum is NULL, and NULL != posted_amount
        # is not true in SQL, so a posted hold missing all of its transfers went unreported.
        .annotate(written=Coalesce(Sum("transfers__amount"), 0))
        .exclude(written=F("posted_amount"))
        .values_list("pk", "posted_amount", "written")[:20]
    )
    for hold_id, posted_amount, written in posted:
        problems.append(
            {"check": "hold_posted", "hold": hold_id, "posted": posted_amount, "written": written}
        )
    return accounts, Transfer.objects.count(), problems
