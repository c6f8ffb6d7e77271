"""``ledger_charge_many``: many charges in one transaction, each judged as ``ledger_charge``
would judge it."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.tests.helpers import committed
from wallet import ledger
from wallet.checks import ledger_problems
from wallet.ledger import ChargeRequest, IdempotencyMismatchError, InsufficientFundsError
from wallet.models import Account, AccountKind, Transfer
from wallet.tests.factories import ProfessionalFactory, funded_client

pytestmark = pytest.mark.django_db


def professional() -> Any:
    return ProfessionalFactory()


def balance_of(user: Any, kind: str = AccountKind.CLIENT_WALLET) -> int:
    account = ledger.account_find(user=user, kind=kind)
    return account.balance if account else 0


def revenue() -> int:
    account = Account.objects.filter(key="platform:token:platform_revenue").first()
    return account.balance if account else 0


def request(client: Any, professional: Any, amount: int, key: str) -> ChargeRequest:
    return ChargeRequest(
        client_id=client.pk,
        professional_id=professional.pk,
        amount=amount,
        reference=f"test:{key}",
        idempotency_key=key,
        kind="charge",
        metadata={"unit": 1},
    )


def test_it_charges_each_request_85_15_with_the_keys_ledger_transfer_linked_uses(
    published: Any,
) -> None:
    # Given two clients and two professionals
    ana, bia = funded_client(tokens=100), funded_client(tokens=50)
    pro1, pro2 = professional(), professional()

    # When both are charged in one batch
    with committed():
        results = ledger.ledger_charge_many(
            [request(ana, pro1, 20, "k1"), request(bia, pro2, 10, "k2")]
        )

    # Then each charge is two linked legs, keyed <key>#0 / <key>#1 with the split metadata
    assert [(r.ok, r.replayed, r.available_after) for r in results] == [
        (True, False, 80),
        (True, False, 40),
    ]
    rows = list(
        Transfer.objects.filter(reference__startswith="test:")
        .order_by("pk")
        .values_list("idempotency_key", "batch", "amount", "kind", "metadata", "reference")
    )
    assert rows == [
        ("k1#0", "k1", 17, "charge", {"share": "professional", "unit": 1}, "test:k1"),
        ("k1#1", "k1", 3, "charge", {"share": "platform", "unit": 1}, "test:k1"),
        ("k2#0", "k2", 8, "charge", {"share": "professional", "unit": 1}, "test:k2"),
        ("k2#1", "k2", 2, "charge", {"share": "platform", "unit": 1}, "test:k2"),
    ]
    assert [t.pk for t in results[0].transfers] == list(
        Transfer.objects.filter(batch="k1").order_by("pk").values_list("pk", flat=True)
    )
    assert (balance_of(ana), balance_of(bia)) == (80, 40)
    assert balance_of(pro1, AccountKind.EARNINGS_PENDING) == 17
    assert balance_of(pro2, AccountKind.EARNINGS_PENDING) == 8
    assert revenue() == 5
    # The balance_after columns read as if the charges had been written one by one.
    second = Transfer.objects.get(idempotency_key="k1#1")
    assert (second.debit_balance_after, second.credit_balance_after) == (80, 3)
    fourth = Transfer.objects.get(idempotency_key="k2#1")
    assert (fourth.debit_balance_after, fourth.credit_balance_after) == (40, 5)
    # One balance event per user account (the platform's has no user).
    balances = [
        (g, m["data"]["balance"]) for g, m in published if m["event"] == "wallet.balance.changed"
    ]
    assert sorted(balances) == sorted(
        [
            (f"user.{ana.pk}", 80),
            (f"user.{bia.pk}", 40),
            (f"user.{pro1.pk}", 17),
            (f"user.{pro2.pk}", 8),
        ]
    )
    assert ledger_problems()[2] == []


def test_one_wallet_that_cannot_pay_does_not_stop_the_others() -> None:
    # Given a client with 5 tokens between two who can pay
    ana, poor, bia = funded_client(tokens=30), funded_client(tokens=5), funded_client(tokens=30)
    pro = professional()
    pros = [pro, professional(), professional()]

    # When all three are charged 10
    results = ledger.ledger_charge_many(
        [
            request(ana, pros[0], 10, "a"),
            request(poor, pros[1], 10, "p"),
            request(bia, pros[2], 10, "b"),
        ]
    )

    # Then only the poor one is refused, with the shortfall, and nothing of it is written
    assert [r.ok for r in results] == [True, False, True]
    error = results[1].error
    assert isinstance(error, InsufficientFundsError)
    assert error.extra == {"account": "client_wallet", "shortfall": 5}
    assert results[1].transfers == []
    assert results[1].available_after == 5
    assert not Transfer.objects.filter(idempotency_key__startswith="p").exists()
    assert (balance_of(ana), balance_of(poor), balance_of(bia)) == (20, 5, 20)
    assert balance_of(pros[1], AccountKind.EARNINGS_PENDING) == 0


def test_charges_of_one_wallet_are_judged_in_order() -> None:
    # Given a client with 25 tokens
    ana, pro = funded_client(tokens=25), professional()

    # When charged 10, 20 and 15 in one batch
    results = ledger.ledger_charge_many(
        [request(ana, pro, 10, "x1"), request(ana, pro, 20, "x2"), request(ana, pro, 15, "x3")]
    )

    # Then the second is refused (15 left) and the third still fits
    assert [(r.ok, r.available_after) for r in results] == [(True, 15), (False, 15), (True, 0)]
    assert balance_of(ana) == 0


def test_a_replay_returns_the_first_result_and_moves_nothing(published: Any) -> None:
    # Given a charge written by ledger_charge (the one-by-one function)
    ana, pro = funded_client(tokens=100), professional()
    first = ledger.ledger_charge(
        client=ana, professional=pro, amount=20, reference="test:r", idempotency_key="r"
    )

    # When the same charge comes again in a batch, next to a new one
    with committed():
        results = ledger.ledger_charge_many(
            [request(ana, pro, 20, "r"), request(ana, pro, 10, "n")]
        )

    # Then the replay returns the first transfers and only the new one moves money
    assert results[0].replayed and results[0].ok
    assert [t.pk for t in results[0].transfers] == [t.pk for t in first]
    assert results[1].ok and not results[1].replayed
    assert balance_of(ana) == 70
    assert Transfer.objects.filter(batch="r").count() == 2


def test_a_batch_charge_replayed_through_ledger_charge_is_found() -> None:
    # Given a charge written by the batch
    ana, pro = funded_client(tokens=100), professional()
    [result] = ledger.ledger_charge_many([request(ana, pro, 20, "b1")])

    # When ledger_charge replays the same key
    again = ledger.ledger_charge(
        client=ana, professional=pro, amount=20, reference="test:b1", idempotency_key="b1"
    )

    # Then it finds the batch's rows
    assert [t.pk for t in again] == [t.pk for t in result.transfers]
    assert balance_of(ana) == 80


def test_a_key_used_twice_in_one_batch_is_a_replay_of_the_first() -> None:
    ana, pro = funded_client(tokens=100), professional()

    results = ledger.ledger_charge_many([request(ana, pro, 20, "d"), request(ana, pro, 20, "d")])

    assert [(r.ok, r.replayed) for r in results] == [(True, False), (True, True)]
    assert results[1].transfers == results[0].transfers
    assert balance_of(ana) == 80


def test_a_mismatched_replay_is_refused_for_that_charge_only() -> None:
    # Given a charge of 20 under key "m" (two legs) and one of 1 under "one" (a single leg)
    ana, pro = funded_client(tokens=100), professional()
    ledger.ledger_charge(
        client=ana, professional=pro, amount=20, reference="test:m", idempotency_key="m"
    )
    ledger.ledger_charge(
        client=ana, professional=pro, amount=1, reference="test:one", idempotency_key="one"
    )
    before = list(Transfer.objects.order_by("pk").values())

    # When the keys come again with other amounts, next to a new charge
    results = ledger.ledger_charge_many(
        [request(ana, pro, 30, "m"), request(ana, pro, 20, "one"), request(ana, pro, 5, "ok")]
    )

    # Then both are refused as mismatches; the new one is written
    assert [type(r.error) for r in results] == [
        IdempotencyMismatchError,
        IdempotencyMismatchError,
        type(None),
    ]
    assert list(Transfer.objects.filter(pk__lte=before[-1]["id"]).order_by("pk").values()) == before
    assert balance_of(ana) == 100 - 20 - 1 - 5


def test_a_one_token_charge_is_a_single_leg_to_the_platform() -> None:
    ana, pro = funded_client(tokens=10), professional()

    [result] = ledger.ledger_charge_many([request(ana, pro, 1, "single")])

    assert [(t.idempotency_key, t.amount, t.batch) for t in result.transfers] == [("single", 1, "")]
    assert revenue() == 1


def test_missing_accounts_are_created_and_an_empty_wallet_is_refused() -> None:
    # Given a client without any wallet and a professional without earnings account
    broke = funded_client(tokens=0)
    pro = professional()

    [result] = ledger.ledger_charge_many([request(broke, pro, 3, "e")])

    assert isinstance(result.error, InsufficientFundsError)
    assert not Transfer.objects.filter(reference="test:e").exists()


def test_held_tokens_cannot_be_charged() -> None:
    ana, pro = funded_client(tokens=20), professional()
    ledger.hold_create(
        account=ledger.account_for_user(user=ana, kind=AccountKind.CLIENT_WALLET),
        amount=15,
        kind="call_minimum",
        idempotency_key="h",
    )

    [result] = ledger.ledger_charge_many([request(ana, pro, 10, "held")])

    assert isinstance(result.error, InsufficientFundsError)
    assert result.available_after == 5


@pytest.mark.parametrize("amount", [0, -1, True, 1.5])
def test_an_invalid_amount_refuses_the_whole_batch(amount: Any) -> None:
    ana, pro = funded_client(tokens=20), professional()
    before = Transfer.objects.count()

    with pytest.raises(ledger.InvalidAmountError):
        ledger.ledger_charge_many([request(ana, pro, 5, "fine"), request(ana, pro, amount, "bad")])

    assert Transfer.objects.count() == before


def test_an_empty_batch_does_nothing() -> None:
    assert ledger.ledger_charge_many([]) == []
