"""``manage.py ledger_check``: recomputes every balance from the transfers and reports drift."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F
from django.utils import timezone

from wallet import ledger
from wallet.models import (
    Account,
    AccountKind,
    Asset,
    Hold,
    HoldKind,
    HoldStatus,
    LedgerCheckRun,
    Transfer,
    TransferKind,
)
from wallet.tests.factories import ProfessionalFactory, funded_client, wallet_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger_in_use() -> dict[str, Any]:
    """Four accounts, three transfers and one pending hold, all written by the ledger.

    The client's wallet: 100 in, 20 charged (17 to the professional, 3 to the platform),
    10 of the 80 left held.
    """
    client, professional = funded_client(tokens=100), ProfessionalFactory()
    ledger.ledger_charge(
        client=client,
        professional=professional,
        amount=20,
        reference="call:1",
        idempotency_key="call:1:charge",
    )
    ledger.hold_create(
        account=wallet_for(client), amount=10, kind=HoldKind.CALL_MINIMUM, idempotency_key="h"
    )
    return {
        "wallet": wallet_for(client),
        "revenue": ledger.account_for_platform(kind=AccountKind.PLATFORM_REVENUE),
        "client": client,
    }


def check_fails() -> tuple[CommandError, str]:
    out = StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("ledger_check", stdout=out)
    return failed.value, out.getvalue()


def test_it_passes_a_clean_ledger(ledger_in_use: dict[str, Any]) -> None:
    out = StringIO()

    call_command("ledger_check", stdout=out)

    assert out.getvalue() == "accounts: 4  transfers: 3  problems: 0\nledger OK\n"
    run = LedgerCheckRun.objects.get()
    assert (run.ok, run.accounts_checked, run.transfers_checked, run.problems) == (True, 4, 3, [])


def test_it_passes_an_empty_ledger() -> None:
    out = StringIO()

    call_command("ledger_check", stdout=out)

    assert out.getvalue() == "accounts: 0  transfers: 0  problems: 0\nledger OK\n"
    assert LedgerCheckRun.objects.get().ok is True


@pytest.mark.ledger_tampered
def test_it_reports_a_cached_balance_changed_behind_the_ledger(
    ledger_in_use: dict[str, Any],
) -> None:
    wallet = ledger_in_use["wallet"]
    Account.objects.filter(pk=wallet.pk).update(balance=F("balance") + 5)

    error, output = check_fails()

    problem = {"check": "balance", "account": wallet.key, "cached": 85, "computed": 80}
    assert (str(error), error.returncode) == ("ledger check failed: 1 problem(s)", 1)
    assert output == (
        "accounts: 4  transfers: 3  problems: 1\n" + json.dumps(problem, sort_keys=True) + "\n"
    )
    run = LedgerCheckRun.objects.get()
    assert (run.ok, run.accounts_checked, run.transfers_checked, run.problems) == (
        False,
        4,
        3,
        [problem],
    )


@pytest.mark.ledger_tampered
def test_it_reports_a_cached_held_amount_changed_behind_the_ledger(
    ledger_in_use: dict[str, Any],
) -> None:
    wallet = ledger_in_use["wallet"]
    Account.objects.filter(pk=wallet.pk).update(held=25)

    error, output = check_fails()

    problem = {"check": "held", "account": wallet.key, "cached": 25, "computed": 10}
    assert str(error) == "ledger check failed: 1 problem(s)"
    assert output.splitlines()[1:] == [json.dumps(problem, sort_keys=True)]
    assert LedgerCheckRun.objects.get().problems == [problem]


@pytest.mark.ledger_tampered
def test_it_reports_a_transfer_written_behind_the_ledger(ledger_in_use: dict[str, Any]) -> None:
    # Inserted without the ledger: no cached balance moved, and the wallet is overdrawn.
    wallet, revenue = ledger_in_use["wallet"], ledger_in_use["revenue"]
    Transfer.objects.create(
        debit_account=wallet,
        credit_account=revenue,
        asset=Asset.TOKEN,
        amount=100,
        kind=TransferKind.ADJUSTMENT,
        idempotency_key="behind-the-back",
        debit_balance_after=-20,
        credit_balance_after=103,
    )

    error, _output = check_fails()

    assert str(error) == "ledger check failed: 3 problem(s)"
    assert LedgerCheckRun.objects.get().problems == [
        {"check": "balance", "account": wallet.key, "cached": 80, "computed": -20},
        {"check": "negative", "account": wallet.key, "balance": -20, "held": 10},
        {"check": "balance", "account": revenue.key, "cached": 3, "computed": 103},
    ]


@pytest.mark.ledger_tampered
def test_it_reports_a_transfer_between_two_assets(ledger_in_use: dict[str, Any]) -> None:
    wallet = ledger_in_use["wallet"]
    coins = ledger.account_for_user(
        user=ledger_in_use["client"], kind=AccountKind.COINS, asset=Asset.COIN
    )
    transfer = Transfer.objects.create(
        debit_account=wallet,
        credit_account=coins,
        asset=Asset.TOKEN,
        amount=5,
        kind=TransferKind.ADJUSTMENT,
        idempotency_key="tokens-into-coins",
        debit_balance_after=75,
        credit_balance_after=5,
    )

    check_fails()

    assert LedgerCheckRun.objects.get().problems == [
        {"check": "balance", "account": wallet.key, "cached": 80, "computed": 75},
        {"check": "balance", "account": coins.key, "cached": 0, "computed": 5},
        {"check": "asset_sum", "asset": "coin", "sum": 5},
        {"check": "asset_sum", "asset": "token", "sum": -5},
        {"check": "asset_mismatch", "transfer": transfer.pk},
    ]


@pytest.mark.ledger_tampered
def test_it_reports_a_posted_hold_without_its_transfers(ledger_in_use: dict[str, Any]) -> None:
    hold = Hold.objects.create(
        debit_account=ledger_in_use["wallet"],
        asset=Asset.TOKEN,
        amount=10,
        posted_amount=10,
        kind=HoldKind.CALL_MINIMUM,
        status=HoldStatus.POSTED,
        idempotency_key="posted-by-hand",
        resolved_at=timezone.now(),
    )

    check_fails()

    assert LedgerCheckRun.objects.get().problems == [
        {"check": "hold_posted", "hold": hold.pk, "posted": 10, "written": 0}
    ]
