"""The ledger's writes: transfers, linked transfers, charges, holds and the balance events."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone, translation

from accounts.tests.factories import UserFactory
from core.exceptions import ApplicationError
from wallet import ledger
from wallet.ledger import (
    Credit,
    HoldNotPendingError,
    IdempotencyMismatchError,
    InsufficientFundsError,
    InvalidAmountError,
    Leg,
)
from wallet.models import (
    Account,
    AccountKind,
    Asset,
    Hold,
    HoldKind,
    HoldStatus,
    Transfer,
    TransferKind,
)
from wallet.tests.factories import (
    ProfessionalFactory,
    fund_wallet,
    funded_client,
    pix_clearing,
    wallet_for,
)

pytestmark = pytest.mark.django_db


def state(account: Account) -> tuple[int, int]:
    """(balance, held) as stored right now."""
    account.refresh_from_db()
    return account.balance, account.held


def revenue() -> Account:
    return ledger.account_for_platform(kind=AccountKind.PLATFORM_REVENUE)


def pending_earnings(user: Any) -> Account:
    return ledger.account_for_user(user=user, kind=AccountKind.EARNINGS_PENDING)


def balance_event(user: Any, account: str, balance: int, held: int) -> tuple[str, dict[str, Any]]:
    return (
        f"user.{user.pk}",
        {
            "type": "realtime.event",
            "event": "wallet.balance.changed",
            "data": {
                "account": account,
                "asset": "token",
                "balance": balance,
                "held": held,
                "available": balance - held,
            },
        },
    )


# --- Transfers -------------------------------------------------------------------------------


def test_it_moves_the_exact_amount_and_records_the_balances_after() -> None:
    sender, receiver = funded_client(tokens=100), funded_client(tokens=5)

    transfer = ledger.ledger_transfer(
        debit=wallet_for(sender),
        credit=wallet_for(receiver),
        amount=40,
        kind=TransferKind.ADJUSTMENT,
        idempotency_key="gift:1",
        reference="gift",
        metadata={"note": "birthday"},
    )

    assert (state(wallet_for(sender)), state(wallet_for(receiver))) == ((60, 0), (45, 0))
    stored = Transfer.objects.get(idempotency_key="gift:1")
    assert stored.pk == transfer.pk
    assert (
        stored.debit_account_id,
        stored.credit_account_id,
        stored.asset,
        stored.amount,
        stored.kind,
        stored.reference,
        stored.batch,
        stored.debit_balance_after,
        stored.credit_balance_after,
        stored.metadata,
    ) == (
        wallet_for(sender).pk,
        wallet_for(receiver).pk,
        "token",
        40,
        "adjustment",
        "gift",
        "",
        60,
        45,
        {"note": "birthday"},
    )


def test_it_replays_a_key_without_moving_anything_again() -> None:
    sender, receiver = funded_client(tokens=100), funded_client(tokens=0)
    first = ledger.ledger_transfer(
        debit=wallet_for(sender),
        credit=wallet_for(receiver),
        amount=40,
        kind=TransferKind.ADJUSTMENT,
        idempotency_key="gift:1",
    )

    again = ledger.ledger_transfer(
        debit=wallet_for(sender),
        credit=wallet_for(receiver),
        amount=40,
        kind=TransferKind.ADJUSTMENT,
        idempotency_key="gift:1",
    )

    assert again.pk == first.pk
    assert Transfer.objects.filter(idempotency_key="gift:1").count() == 1
    assert (state(wallet_for(sender)), state(wallet_for(receiver))) == ((60, 0), (40, 0))


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"amount": 41}, id="another amount"),
        pytest.param({"credit": "third"}, id="another credit account"),
        pytest.param({"debit": "third"}, id="another debit account"),
    ],
)
def test_it_refuses_the_same_key_for_another_transfer(change: dict[str, Any]) -> None:
    sender, receiver, third = (
        funded_client(tokens=100),
        funded_client(tokens=0),
        funded_client(tokens=100),
    )
    ledger.ledger_transfer(
        debit=wallet_for(sender),
        credit=wallet_for(receiver),
        amount=40,
        kind=TransferKind.ADJUSTMENT,
        idempotency_key="gift:1",
    )
    request = {"debit": wallet_for(sender), "credit": wallet_for(receiver), "amount": 40}
    request.update({k: wallet_for(third) if v == "third" else v for k, v in change.items()})

    with pytest.raises(IdempotencyMismatchError) as refused:
        ledger.ledger_transfer(**request, kind=TransferKind.ADJUSTMENT, idempotency_key="gift:1")

    assert refused.value.code == "wallet.idempotency_mismatch"
    assert Transfer.objects.filter(idempotency_key__startswith="gift:1").count() == 1
    assert (state(wallet_for(sender)), state(wallet_for(receiver)), state(wallet_for(third))) == (
        (60, 0),
        (40, 0),
        (100, 0),
    )


@pytest.mark.parametrize(("first", "second"), [(1, 100), (100, 1)])
def test_it_refuses_a_charge_key_replayed_with_another_amount(first: int, second: int) -> None:
    # A charge of 1 token is one leg (the platform's) and a charge of 100 is two: the key must
    # be refused across that difference too, not only between requests with as many legs.
    client, professional = funded_client(tokens=200), ProfessionalFactory()
    ledger.ledger_charge(
        client=client,
        professional=professional,
        amount=first,
        reference="call:1",
        idempotency_key="call:1:charge",
    )
    before = Transfer.objects.count()

    with pytest.raises(IdempotencyMismatchError):
        ledger.ledger_charge(
            client=client,
            professional=professional,
            amount=second,
            reference="call:1",
            idempotency_key="call:1:charge",
        )

    assert Transfer.objects.count() == before
    assert state(wallet_for(client)) == (200 - first, 0)


def test_it_refuses_a_linked_key_replayed_with_fewer_legs() -> None:
    client, first, second, third = (funded_client(tokens=100), *UserFactory.create_batch(3))
    wallet = wallet_for(client)
    legs = [
        Leg(wallet, wallet_for(person), 10, TransferKind.ADJUSTMENT)
        for person in (first, second, third)
    ]
    ledger.ledger_transfer_linked(legs=legs, idempotency_key="split:1")

    with pytest.raises(IdempotencyMismatchError):
        ledger.ledger_transfer_linked(legs=legs[:2], idempotency_key="split:1")

    assert Transfer.objects.filter(batch="split:1").count() == 3
    assert state(wallet) == (70, 0)


@pytest.mark.parametrize(
    "amount",
    [0, -1, -100, True, False, 1.0, 2.5, Decimal("5"), "5", None],
    ids=repr,
)
def test_it_refuses_amounts_that_are_not_positive_whole_numbers(amount: Any) -> None:
    sender, receiver = funded_client(tokens=100), funded_client(tokens=0)
    before = Transfer.objects.count()

    with pytest.raises(InvalidAmountError) as refused:
        ledger.ledger_transfer(
            debit=wallet_for(sender),
            credit=wallet_for(receiver),
            amount=amount,
            kind=TransferKind.ADJUSTMENT,
            idempotency_key="bad",
        )

    assert refused.value.code == "wallet.invalid_amount"
    assert Transfer.objects.count() == before
    assert (state(wallet_for(sender)), state(wallet_for(receiver))) == ((100, 0), (0, 0))


@pytest.mark.parametrize("amount", [0, -10, True, 2.5])
def test_it_refuses_a_charge_that_is_not_a_positive_whole_number(amount: Any) -> None:
    # True used to pass: split 85/15 it became a platform share of 1, a real int.
    client, professional = funded_client(tokens=100), ProfessionalFactory()
    before = Transfer.objects.count()

    with pytest.raises(InvalidAmountError):
        ledger.ledger_charge(
            client=client,
            professional=professional,
            amount=amount,
            reference="call:1",
            idempotency_key="call:1:charge",
        )

    assert Transfer.objects.count() == before
    assert state(wallet_for(client)) == (100, 0)


def test_it_refuses_a_transfer_beyond_the_available_balance_counting_holds() -> None:
    sender, receiver = funded_client(tokens=100), funded_client(tokens=0)
    ledger.hold_create(
        account=wallet_for(sender), amount=30, kind=HoldKind.RESERVATION, idempotency_key="h"
    )
    before = Transfer.objects.count()

    with pytest.raises(InsufficientFundsError) as refused:
        ledger.ledger_transfer(
            debit=wallet_for(sender),
            credit=wallet_for(receiver),
            amount=71,
            kind=TransferKind.ADJUSTMENT,
            idempotency_key="too-much",
        )

    assert refused.value.code == "wallet.insufficient_funds"
    # 100 - 30 held leaves 70: the transfer of 71 was one token short.
    assert refused.value.extra == {"account": "client_wallet", "shortfall": 1}
    assert Transfer.objects.count() == before
    assert (state(wallet_for(sender)), state(wallet_for(receiver))) == ((100, 30), (0, 0))


def test_it_moves_the_whole_available_balance() -> None:
    sender, receiver = funded_client(tokens=100), funded_client(tokens=0)
    ledger.hold_create(
        account=wallet_for(sender), amount=30, kind=HoldKind.RESERVATION, idempotency_key="h"
    )

    ledger.ledger_transfer(
        debit=wallet_for(sender),
        credit=wallet_for(receiver),
        amount=70,
        kind=TransferKind.ADJUSTMENT,
        idempotency_key="all-of-it",
    )

    assert (state(wallet_for(sender)), state(wallet_for(receiver))) == ((30, 30), (70, 0))


def test_it_lets_a_system_account_go_negative() -> None:
    client = UserFactory()

    transfer = fund_wallet(user=client, amount=250)

    assert state(pix_clearing()) == (-250, 0)
    assert state(wallet_for(client)) == (250, 0)
    assert (transfer.debit_balance_after, transfer.credit_balance_after) == (-250, 250)


def test_it_refuses_a_transfer_between_two_assets() -> None:
    client = funded_client(tokens=100)
    coins = ledger.account_for_user(user=client, kind=AccountKind.COINS, asset=Asset.COIN)
    before = Transfer.objects.count()

    with translation.override("en"), pytest.raises(ApplicationError) as refused:
        ledger.ledger_transfer(
            debit=wallet_for(client),
            credit=coins,
            amount=10,
            kind=TransferKind.ADJUSTMENT,
            idempotency_key="swap",
        )

    assert (refused.value.code, refused.value.message) == (
        "wallet.asset_mismatch",
        "Both accounts of a transfer must hold the same asset.",
    )
    assert Transfer.objects.count() == before
    assert (state(wallet_for(client)), state(coins)) == ((100, 0), (0, 0))


def test_it_refuses_a_transfer_to_the_same_account() -> None:
    client = funded_client(tokens=100)
    before = Transfer.objects.count()

    with translation.override("en"), pytest.raises(ApplicationError) as refused:
        ledger.ledger_transfer(
            debit=wallet_for(client),
            credit=wallet_for(client),
            amount=10,
            kind=TransferKind.ADJUSTMENT,
            idempotency_key="loop",
        )

    assert (refused.value.code, refused.value.message) == (
        "wallet.same_account",
        "A transfer needs two different accounts.",
    )
    assert Transfer.objects.count() == before
    assert state(wallet_for(client)) == (100, 0)


# --- Linked transfers ------------------------------------------------------------------------


def test_it_writes_linked_legs_together_under_one_batch() -> None:
    first, second = funded_client(tokens=100), funded_client(tokens=20)
    receiver = UserFactory()

    transfers = ledger.ledger_transfer_linked(
        legs=[
            Leg(wallet_for(first), wallet_for(receiver), 50, TransferKind.ADJUSTMENT),
            Leg(wallet_for(second), wallet_for(receiver), 20, TransferKind.ADJUSTMENT),
        ],
        idempotency_key="pool:1",
        reference="pool",
    )

    assert [(t.idempotency_key, t.batch, t.amount, t.credit_balance_after) for t in transfers] == [
        ("pool:1#0", "pool:1", 50, 50),
        ("pool:1#1", "pool:1", 20, 70),
    ]
    assert (state(wallet_for(first)), state(wallet_for(second)), state(wallet_for(receiver))) == (
        (50, 0),
        (0, 0),
        (70, 0),
    )


def test_it_writes_no_leg_when_a_later_leg_is_refused() -> None:
    first, second = funded_client(tokens=100), funded_client(tokens=5)
    receiver = UserFactory()
    before = Transfer.objects.count()

    with pytest.raises(InsufficientFundsError):
        ledger.ledger_transfer_linked(
            legs=[
                Leg(wallet_for(first), wallet_for(receiver), 50, TransferKind.ADJUSTMENT),
                Leg(wallet_for(second), wallet_for(receiver), 10, TransferKind.ADJUSTMENT),
            ],
            idempotency_key="pool:1",
        )

    assert Transfer.objects.count() == before
    assert (state(wallet_for(first)), state(wallet_for(second)), state(wallet_for(receiver))) == (
        (100, 0),
        (5, 0),
        (0, 0),
    )


def test_it_judges_linked_legs_by_the_end_state_of_each_account() -> None:
    # The middle account starts empty: the set passes because it ends at zero.
    start, middle, end = funded_client(tokens=30), UserFactory(), UserFactory()

    ledger.ledger_transfer_linked(
        legs=[
            Leg(wallet_for(middle), wallet_for(end), 30, TransferKind.ADJUSTMENT),
            Leg(wallet_for(start), wallet_for(middle), 30, TransferKind.ADJUSTMENT),
        ],
        idempotency_key="through",
    )

    assert (state(wallet_for(start)), state(wallet_for(middle)), state(wallet_for(end))) == (
        (0, 0),
        (0, 0),
        (30, 0),
    )


# --- Charges ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "professional_share", "platform_share"),
    [(1, 0, 1), (7, 5, 2), (10, 8, 2), (99, 84, 15), (100, 85, 15)],
)
def test_it_splits_a_charge_85_15_giving_the_rounding_to_the_platform(
    amount: int, professional_share: int, platform_share: int
) -> None:
    client, professional = funded_client(tokens=100), ProfessionalFactory()

    transfers = ledger.ledger_charge(
        client=client,
        professional=professional,
        amount=amount,
        reference="call:1",
        idempotency_key="call:1:charge",
        metadata={"call": 1},
    )

    expected = [
        (
            pending_earnings(professional).pk,
            professional_share,
            {"share": "professional", "call": 1},
        ),
        (revenue().pk, platform_share, {"share": "platform", "call": 1}),
    ]
    assert [(t.credit_account_id, t.amount, t.metadata) for t in transfers] == [
        leg for leg in expected if leg[1]
    ]
    assert {(t.debit_account_id, t.kind, t.reference) for t in transfers} == {
        (wallet_for(client).pk, "charge", "call:1")
    }
    assert state(wallet_for(client)) == (100 - amount, 0)
    assert state(pending_earnings(professional)) == (professional_share, 0)
    assert state(revenue()) == (platform_share, 0)


def test_it_refuses_a_charge_beyond_the_wallet_and_writes_nothing() -> None:
    client, professional = funded_client(tokens=99), ProfessionalFactory()
    before = Transfer.objects.count()

    with pytest.raises(InsufficientFundsError):
        ledger.ledger_charge(
            client=client,
            professional=professional,
            amount=100,
            reference="call:1",
            idempotency_key="call:1:charge",
        )

    assert Transfer.objects.count() == before
    assert state(wallet_for(client)) == (99, 0)
    assert state(pending_earnings(professional)) == (0, 0)
    assert state(revenue()) == (0, 0)


# --- Holds -----------------------------------------------------------------------------------


def test_it_holds_an_amount_without_moving_it() -> None:
    client = funded_client(tokens=100)
    before = Transfer.objects.count()
    expires_at = timezone.now() + datetime.timedelta(minutes=5)

    hold = ledger.hold_create(
        account=wallet_for(client),
        amount=30,
        kind=HoldKind.CALL_MINIMUM,
        idempotency_key="call:1:minimum",
        reference="call:1",
        expires_at=expires_at,
    )

    stored = Hold.objects.get()
    assert stored.pk == hold.pk
    assert (
        stored.debit_account_id,
        stored.asset,
        stored.amount,
        stored.posted_amount,
        stored.kind,
        stored.status,
        stored.reference,
        stored.expires_at,
        stored.resolved_at,
    ) == (
        wallet_for(client).pk,
        "token",
        30,
        0,
        "call_minimum",
        "pending",
        "call:1",
        expires_at,
        None,
    )
    assert state(wallet_for(client)) == (100, 30)
    assert wallet_for(client).available == 70
    assert Transfer.objects.count() == before


def test_it_refuses_a_hold_beyond_the_available_balance() -> None:
    client = funded_client(tokens=100)
    ledger.hold_create(
        account=wallet_for(client), amount=60, kind=HoldKind.RESERVATION, idempotency_key="h:1"
    )

    with pytest.raises(InsufficientFundsError):
        ledger.hold_create(
            account=wallet_for(client), amount=41, kind=HoldKind.RESERVATION, idempotency_key="h:2"
        )

    assert list(Hold.objects.values_list("idempotency_key", flat=True)) == ["h:1"]
    assert state(wallet_for(client)) == (100, 60)


@pytest.mark.parametrize("amount", [0, -5, True, 1.5])
def test_it_refuses_a_hold_that_is_not_a_positive_whole_number(amount: Any) -> None:
    client = funded_client(tokens=100)

    with pytest.raises(InvalidAmountError):
        ledger.hold_create(
            account=wallet_for(client),
            amount=amount,
            kind=HoldKind.RESERVATION,
            idempotency_key="h",
        )

    assert Hold.objects.count() == 0
    assert state(wallet_for(client)) == (100, 0)


def test_it_replays_a_hold_key_and_refuses_it_for_another_amount() -> None:
    client = funded_client(tokens=100)
    hold = ledger.hold_create(
        account=wallet_for(client), amount=30, kind=HoldKind.RESERVATION, idempotency_key="h"
    )

    again = ledger.hold_create(
        account=wallet_for(client), amount=30, kind=HoldKind.RESERVATION, idempotency_key="h"
    )
    with pytest.raises(IdempotencyMismatchError):
        ledger.hold_create(
            account=wallet_for(client), amount=31, kind=HoldKind.RESERVATION, idempotency_key="h"
        )

    assert again.pk == hold.pk
    assert Hold.objects.count() == 1
    assert state(wallet_for(client)) == (100, 30)


def test_it_posts_a_hold_in_full() -> None:
    client, professional = funded_client(tokens=100), ProfessionalFactory()
    hold = ledger.hold_create(
        account=wallet_for(client),
        amount=30,
        kind=HoldKind.CALL_MINIMUM,
        idempotency_key="call:1:minimum",
        reference="call:1",
    )

    transfers = ledger.hold_post(
        hold=hold,
        credits=[
            Credit(pending_earnings(professional), 25, TransferKind.CHARGE),
            Credit(revenue(), 5, TransferKind.CHARGE),
        ],
    )

    assert [(t.idempotency_key, t.hold_id, t.reference, t.amount) for t in transfers] == [
        (f"hold:{hold.pk}:post#0", hold.pk, "call:1", 25),
        (f"hold:{hold.pk}:post#1", hold.pk, "call:1", 5),
    ]
    hold.refresh_from_db()
    assert (hold.status, hold.posted_amount, hold.resolved_at is not None) == ("posted", 30, True)
    assert state(wallet_for(client)) == (70, 0)
    assert state(pending_earnings(professional)) == (25, 0)
    assert state(revenue()) == (5, 0)


def test_it_posts_part_of_a_hold_and_releases_the_rest() -> None:
    client = funded_client(tokens=100)
    hold = ledger.hold_create(
        account=wallet_for(client), amount=30, kind=HoldKind.CALL_MINIMUM, idempotency_key="h"
    )

    ledger.hold_post(hold=hold, credits=[Credit(revenue(), 12, TransferKind.CHARGE)])

    hold.refresh_from_db()
    assert (hold.status, hold.amount, hold.posted_amount) == ("posted", 30, 12)
    assert state(wallet_for(client)) == (88, 0)
    assert state(revenue()) == (12, 0)


def test_it_posts_a_hold_that_takes_the_whole_balance() -> None:
    client = funded_client(tokens=100)
    hold = ledger.hold_create(
        account=wallet_for(client), amount=100, kind=HoldKind.CALL_MINIMUM, idempotency_key="h"
    )

    ledger.hold_post(hold=hold, credits=[Credit(revenue(), 100, TransferKind.CHARGE)])

    assert state(wallet_for(client)) == (0, 0)
    assert state(revenue()) == (100, 0)


def test_it_refuses_to_post_more_than_the_hold() -> None:
    client = funded_client(tokens=100)
    hold = ledger.hold_create(
        account=wallet_for(client), amount=30, kind=HoldKind.CALL_MINIMUM, idempotency_key="h"
    )
    before = Transfer.objects.count()

    with pytest.raises(InvalidAmountError):
        ledger.hold_post(
            hold=hold,
            credits=[
                Credit(revenue(), 20, TransferKind.CHARGE),
                Credit(pix_clearing(), 11, TransferKind.CHARGE),
            ],
        )

    hold.refresh_from_db()
    assert (hold.status, hold.posted_amount, hold.resolved_at) == ("pending", 0, None)
    assert Transfer.objects.count() == before
    assert state(wallet_for(client)) == (100, 30)


def test_it_refuses_to_post_a_hold_twice() -> None:
    client = funded_client(tokens=100)
    hold = ledger.hold_create(
        account=wallet_for(client), amount=30, kind=HoldKind.CALL_MINIMUM, idempotency_key="h"
    )
    ledger.hold_post(hold=hold, credits=[Credit(revenue(), 30, TransferKind.CHARGE)])
    before = Transfer.objects.count()

    with pytest.raises(HoldNotPendingError) as refused:
        ledger.hold_post(hold=hold, credits=[Credit(revenue(), 30, TransferKind.CHARGE)])

    assert (refused.value.code, refused.value.extra) == (
        "wallet.hold_not_pending",
        {"status": "posted"},
    )
    assert Transfer.objects.count() == before
    assert state(wallet_for(client)) == (70, 0)
    assert state(revenue()) == (30, 0)


def test_it_voids_a_hold_and_a_second_void_changes_nothing() -> None:
    client = funded_client(tokens=100)
    hold = ledger.hold_create(
        account=wallet_for(client), amount=30, kind=HoldKind.QUEUE_FEE, idempotency_key="h"
    )
    before = Transfer.objects.count()

    voided = ledger.hold_void(hold=hold)
    resolved_at = voided.resolved_at
    again = ledger.hold_void(hold=hold)

    assert (voided.status, again.status, again.resolved_at) == ("voided", "voided", resolved_at)
    assert resolved_at is not None
    assert state(wallet_for(client)) == (100, 0)
    assert Transfer.objects.count() == before


def test_it_refuses_to_post_a_voided_hold() -> None:
    client = funded_client(tokens=100)
    hold = ledger.hold_create(
        account=wallet_for(client), amount=30, kind=HoldKind.QUEUE_FEE, idempotency_key="h"
    )
    ledger.hold_void(hold=hold)
    before = Transfer.objects.count()

    with pytest.raises(HoldNotPendingError) as refused:
        ledger.hold_post(hold=hold, credits=[Credit(revenue(), 30, TransferKind.CHARGE)])

    assert refused.value.extra == {"status": "voided"}
    assert Transfer.objects.count() == before
    assert state(wallet_for(client)) == (100, 0)


def test_it_refuses_to_void_a_posted_hold() -> None:
    client = funded_client(tokens=100)
    hold = ledger.hold_create(
        account=wallet_for(client), amount=30, kind=HoldKind.QUEUE_FEE, idempotency_key="h"
    )
    ledger.hold_post(hold=hold, credits=[Credit(revenue(), 10, TransferKind.QUEUE_FEE)])

    with pytest.raises(HoldNotPendingError) as refused:
        ledger.hold_void(hold=hold)

    assert refused.value.extra == {"status": "posted"}
    hold.refresh_from_db()
    assert (hold.status, hold.posted_amount) == ("posted", 10)
    assert state(wallet_for(client)) == (90, 0)


def test_it_expires_the_holds_past_their_expiry_only() -> None:
    client = funded_client(tokens=100)
    now = timezone.now()

    def hold(key: str, expires_at: datetime.datetime | None) -> Hold:
        return ledger.hold_create(
            account=wallet_for(client),
            amount=10,
            kind=HoldKind.QUEUE_FEE,
            idempotency_key=key,
            expires_at=expires_at,
        )

    due = hold("due", now - datetime.timedelta(seconds=1))
    hold("later", now + datetime.timedelta(hours=1))
    hold("forever", None)
    posted = hold("posted", now - datetime.timedelta(minutes=1))
    ledger.hold_post(hold=posted, credits=[Credit(revenue(), 10, TransferKind.QUEUE_FEE)])

    expired = ledger.holds_expire_due(now=now)
    expired_again = ledger.holds_expire_due(now=now)

    assert (expired, expired_again) == (1, 0)
    assert dict(Hold.objects.values_list("idempotency_key", "status")) == {
        "due": HoldStatus.EXPIRED,
        "later": HoldStatus.PENDING,
        "forever": HoldStatus.PENDING,
        "posted": HoldStatus.POSTED,
    }
    assert Hold.objects.get(pk=due.pk).resolved_at is not None
    assert state(wallet_for(client)) == (90, 20)


# --- Events ----------------------------------------------------------------------------------


def test_it_publishes_the_new_balance_after_commit(
    published: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    client = UserFactory()

    with django_capture_on_commit_callbacks(execute=True):
        fund_wallet(user=client, amount=100)
        assert published == []

    assert published == [balance_event(client, "client_wallet", 100, 0)]


def test_it_publishes_to_the_users_of_a_charge_and_not_for_the_platform(
    published: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    client, professional = funded_client(tokens=100), ProfessionalFactory()
    pending_earnings(professional)

    with django_capture_on_commit_callbacks(execute=True):
        ledger.ledger_charge(
            client=client,
            professional=professional,
            amount=20,
            reference="call:1",
            idempotency_key="call:1:charge",
        )

    assert published == [
        balance_event(client, "client_wallet", 80, 0),
        balance_event(professional, "earnings_pending", 17, 0),
    ]


def test_it_publishes_only_the_final_balances_when_a_hold_is_posted(
    published: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    # The hold is released and its posted part taken in one transaction: the intermediate
    # state (released, not yet taken) never existed for anyone outside it.
    client, receiver = funded_client(tokens=100), UserFactory()
    hold = ledger.hold_create(
        account=wallet_for(client), amount=30, kind=HoldKind.RESERVATION, idempotency_key="h"
    )
    wallet_for(receiver)

    with django_capture_on_commit_callbacks(execute=True):
        ledger.hold_post(hold=hold, credits=[Credit(wallet_for(receiver), 12, TransferKind.CHARGE)])

    assert published == [
        balance_event(client, "client_wallet", 88, 0),
        balance_event(receiver, "client_wallet", 12, 0),
    ]


def test_it_publishes_the_held_amount_of_a_new_hold(
    published: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    client = funded_client(tokens=100)

    with django_capture_on_commit_callbacks(execute=True):
        ledger.hold_create(
            account=wallet_for(client), amount=30, kind=HoldKind.RESERVATION, idempotency_key="h"
        )

    assert published == [balance_event(client, "client_wallet", 100, 30)]


def test_it_publishes_nothing_when_a_transfer_is_refused(
    published: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    sender, receiver = funded_client(tokens=10), funded_client(tokens=0)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(InsufficientFundsError):
            ledger.ledger_transfer(
                debit=wallet_for(sender),
                credit=wallet_for(receiver),
                amount=11,
                kind=TransferKind.ADJUSTMENT,
                idempotency_key="too-much",
            )
        with pytest.raises(InsufficientFundsError):
            ledger.hold_create(
                account=wallet_for(sender),
                amount=11,
                kind=HoldKind.RESERVATION,
                idempotency_key="h",
            )

    assert callbacks == []
    assert published == []


def test_it_publishes_nothing_for_a_replayed_transfer(
    published: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    client = UserFactory()
    fund_wallet(user=client, amount=100, idempotency_key="pix:1")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        fund_wallet(user=client, amount=100, idempotency_key="pix:1")

    assert callbacks == []
    assert published == []


# --- The database's own guards ---------------------------------------------------------------


def test_the_database_refuses_a_negative_user_balance_written_behind_the_ledger() -> None:
    client = funded_client(tokens=10)

    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=wallet_for(client).pk).update(balance=-1)

    assert state(wallet_for(client)) == (10, 0)


def test_the_database_refuses_holding_more_than_a_user_balance_behind_the_ledger() -> None:
    client = funded_client(tokens=10)

    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=wallet_for(client).pk).update(held=11)

    assert state(wallet_for(client)) == (10, 0)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
@pytest.mark.parametrize("operation", ["UPDATE", "DELETE"])
def test_the_database_refuses_to_change_or_delete_a_transfer(operation: str) -> None:
    client = UserFactory()
    transfer = fund_wallet(user=client, amount=10)
    rows = Transfer.objects.filter(pk=transfer.pk)

    with (
        pytest.raises(
            DatabaseError, match=rf"wallet_transfer is append-only \({operation} refused\)"
        ),
        transaction.atomic(),
    ):
        if operation == "UPDATE":
            rows.update(amount=1)
        else:
            rows.delete()

    transfer.refresh_from_db()
    assert transfer.amount == 10
