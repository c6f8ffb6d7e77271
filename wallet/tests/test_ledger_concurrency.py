"""The ledger under real concurrent transactions, with real row locks (PostgreSQL only).

SQLite takes one write lock for the whole database, so none of the interleavings below can
happen there. Every thread opens its own connection and closes it when it is done.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import OperationalError, connection, transaction

from accounts.tests.factories import UserFactory
from core.exceptions import ApplicationError
from wallet import disputes, ledger
from wallet.checks import ledger_check_run
from wallet.ledger import Credit
from wallet.models import (
    Account,
    AccountKind,
    DisputeReason,
    Hold,
    HoldKind,
    Transfer,
    TransferKind,
)
from wallet.tests.factories import fund_wallet, funded_client, pix_clearing, wallet_for

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
    pytest.mark.django_db(transaction=True),
]

PEOPLE = 6
STARTING_TOKENS = 1_000
WORKERS = 8
OPERATIONS_PER_WORKER = 60


def in_thread(work: Callable[[], Any], outcomes: list[Any]) -> threading.Thread:
    """Run ``work`` on its own connection; record its result or its error's code."""

    def run() -> None:
        try:
            outcomes.append(work())
        except Exception as exc:  # recorded for the test to assert on
            outcomes.append(getattr(exc, "code", type(exc).__name__))
        finally:
            connection.close()

    return threading.Thread(target=run, daemon=True)


def kept_open(work: Callable[[], Any], ready: threading.Event, release: threading.Event) -> Any:
    """Run ``work`` in a transaction that keeps its locks until ``release``."""

    def run() -> Any:
        with transaction.atomic():
            result = work()
            ready.set()
            release.wait(timeout=10)
        return result

    return run


def wait_until_blocked_on_a_lock(thread: threading.Thread) -> bool:
    """True once another backend waits for a row lock; False if the thread finished instead."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and thread.is_alive():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0] > 0:
                return True
        time.sleep(0.005)
    return False


class Bank:
    """Shared state of the workers: the wallets, the holds still worth trying, the tallies."""

    def __init__(self, wallets: list[Account]) -> None:
        self.wallets = wallets
        self.lock = threading.Lock()
        self.holds: list[tuple[int, int, int]] = []  # (hold id, account id, amount)
        self.outcomes: Counter[str] = Counter()
        self.transfers_written = 0
        self.deadlocks: list[str] = []
        self.unexpected: list[str] = []

    def pick_hold(self, rng: random.Random) -> tuple[int, int, int] | None:
        with self.lock:
            # Picking does not take the hold out of the list: two workers settling one hold
            # at once is one of the races under test.
            return rng.choice(self.holds) if self.holds else None

    def settled(self, hold: tuple[int, int, int]) -> None:
        with self.lock:
            if hold in self.holds:
                self.holds.remove(hold)

    def record(self, outcome: str, transfers: int = 0) -> None:
        with self.lock:
            self.outcomes[outcome] += 1
            self.transfers_written += transfers


def one_operation(bank: Bank, rng: random.Random, key: str) -> None:
    operation = rng.choice(["transfer", "transfer", "hold", "post", "void"])
    if operation == "transfer":
        debit, credit = rng.sample(bank.wallets, 2)
        ledger.ledger_transfer(
            debit=debit,
            credit=credit,
            amount=rng.randint(1, 400),
            kind=TransferKind.ADJUSTMENT,
            idempotency_key=key,
        )
        bank.record("transfer", transfers=1)
    elif operation == "hold":
        account = rng.choice(bank.wallets)
        hold = ledger.hold_create(
            account=account,
            amount=rng.randint(1, 300),
            kind=HoldKind.RESERVATION,
            idempotency_key=key,
        )
        with bank.lock:
            bank.holds.append((hold.pk, account.pk, hold.amount))
        bank.record("hold")
    else:
        picked = bank.pick_hold(rng)
        if picked is None:
            bank.record("nothing to settle")
            return
        hold_id, account_id, amount = picked
        hold = Hold(pk=hold_id, debit_account_id=account_id, amount=amount)
        if operation == "void":
            ledger.hold_void(hold=hold)
            bank.settled(picked)
            bank.record("void")
            return
        # Posted to one or two other wallets, higher or lower in primary-key order than
        # the hold's own: both lock orders are exercised.
        others = [wallet for wallet in bank.wallets if wallet.pk != account_id]
        posted = rng.randint(1, amount)
        first = rng.randint(1, posted)
        credits = [Credit(rng.choice(others), first, TransferKind.CHARGE)]
        if posted > first:
            credits.append(Credit(rng.choice(others), posted - first, TransferKind.CHARGE))
        ledger.hold_post(hold=hold, credits=credits)
        bank.settled(picked)
        bank.record("post", transfers=len(credits))


def worker(bank: Bank, seed: int) -> None:
    rng = random.Random(seed)
    try:
        for number in range(OPERATIONS_PER_WORKER):
            try:
                one_operation(bank, rng, key=f"worker:{seed}:{number}")
            except ApplicationError as exc:
                bank.record(exc.code)
            except OperationalError as exc:
                # A deadlock (or a serialization failure) is what a broken lock order
                # turns into on PostgreSQL.
                with bank.lock:
                    bank.deadlocks.append(str(exc))
            except Exception as exc:
                with bank.lock:
                    bank.unexpected.append(repr(exc))
    finally:
        connection.close()


def sampler(
    account_ids: list[int], stop: threading.Event, samples: list[tuple[int, list[int]]]
) -> None:
    """Read every balance in one snapshot, again and again, until ``stop``."""
    try:
        while not stop.is_set():
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                cursor.execute(
                    "SELECT id, balance, held, never_negative FROM wallet_account "
                    "WHERE id = ANY(%s)",
                    [account_ids],
                )
                rows = cursor.fetchall()
            total = sum(balance for _id, balance, _held, _never_negative in rows)
            below_zero = [
                account_id
                for account_id, balance, held, never_negative in rows
                if never_negative and balance - held < 0
            ]
            samples.append((total, below_zero))
            time.sleep(0.002)
    finally:
        connection.close()


def test_it_keeps_every_balance_exact_under_concurrent_transfers_and_holds() -> None:
    people = [funded_client(tokens=STARTING_TOKENS) for _ in range(PEOPLE)]
    wallets = [wallet_for(person) for person in people]
    clearing = pix_clearing()
    bank = Bank(wallets)
    stop = threading.Event()
    samples: list[tuple[int, list[int]]] = []
    watcher = threading.Thread(
        target=sampler,
        args=([clearing.pk, *(wallet.pk for wallet in wallets)], stop, samples),
        daemon=True,
    )
    workers = [
        threading.Thread(target=worker, args=(bank, seed), daemon=True) for seed in range(WORKERS)
    ]

    watcher.start()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=60)
    stop.set()
    watcher.join(timeout=10)

    assert not any(thread.is_alive() for thread in [*workers, watcher])
    assert bank.deadlocks == []
    assert bank.unexpected == []
    # Every operation ran; each kind succeeded at least once, and the races produced refusals.
    assert sum(bank.outcomes.values()) == WORKERS * OPERATIONS_PER_WORKER
    assert {"transfer", "hold", "post", "void", "wallet.insufficient_funds"} <= set(bank.outcomes)
    # Each snapshot saw money only moving, never appearing, vanishing or going below zero.
    assert len(samples) >= 10
    assert [sample for sample in samples if sample != (0, [])] == []
    assert Transfer.objects.count() == PEOPLE + bank.transfers_written
    wallet_totals = Account.objects.filter(pk__in=[w.pk for w in wallets]).values_list(
        "balance", flat=True
    )
    assert sum(wallet_totals) == PEOPLE * STARTING_TOKENS
    clearing.refresh_from_db()
    assert clearing.balance == -PEOPLE * STARTING_TOKENS
    run = ledger_check_run()
    assert (run.ok, run.problems) == (True, [])


def test_it_writes_one_transfer_when_the_same_key_is_replayed_at_the_same_moment() -> None:
    sender, receiver = funded_client(tokens=100), UserFactory()
    wallet_for(receiver)

    def send() -> int:
        return ledger.ledger_transfer(
            debit=wallet_for(sender),
            credit=wallet_for(receiver),
            amount=40,
            kind=TransferKind.ADJUSTMENT,
            idempotency_key="gift:1",
        ).pk

    ready, release = threading.Event(), threading.Event()
    first_outcome: list[Any] = []
    second_outcome: list[Any] = []
    first = in_thread(kept_open(send, ready, release), first_outcome)
    second = in_thread(send, second_outcome)

    first.start()
    assert ready.wait(timeout=10)
    second.start()
    blocked = wait_until_blocked_on_a_lock(second)
    release.set()
    first.join(timeout=10)
    second.join(timeout=10)

    assert blocked, "the replay did not wait for the first transfer's locks"
    written = Transfer.objects.get(idempotency_key="gift:1")
    assert (first_outcome, second_outcome) == ([written.pk], [written.pk])
    assert Transfer.objects.count() == 2  # the top-up and the gift
    assert [wallet_for(sender).balance, wallet_for(receiver).balance] == [60, 40]


def test_two_holds_racing_for_the_last_tokens_leave_exactly_one() -> None:
    client = funded_client(tokens=100)

    def hold(key: str) -> Callable[[], int]:
        return lambda: (
            ledger.hold_create(
                account=wallet_for(client),
                amount=60,
                kind=HoldKind.RESERVATION,
                idempotency_key=key,
            ).pk
        )

    ready, release = threading.Event(), threading.Event()
    first_outcome: list[Any] = []
    second_outcome: list[Any] = []
    first = in_thread(kept_open(hold("first"), ready, release), first_outcome)
    second = in_thread(hold("second"), second_outcome)

    first.start()
    assert ready.wait(timeout=10)
    second.start()
    blocked = wait_until_blocked_on_a_lock(second)
    release.set()
    first.join(timeout=10)
    second.join(timeout=10)

    assert blocked, "the second hold did not wait for the first one's lock on the wallet"
    held = Hold.objects.get()
    assert (first_outcome, second_outcome) == ([held.pk], ["wallet.insufficient_funds"])
    assert held.idempotency_key == "first"
    assert (wallet_for(client).balance, wallet_for(client).held) == (100, 60)


def test_many_holds_started_at_once_take_no_more_than_the_balance() -> None:
    client = funded_client(tokens=100)
    wallet_for(client)
    start = threading.Barrier(WORKERS)
    outcomes: list[Any] = []

    def hold(key: str) -> Callable[[], str]:
        def run() -> str:
            start.wait(timeout=10)
            ledger.hold_create(
                account=wallet_for(client),
                amount=30,
                kind=HoldKind.RESERVATION,
                idempotency_key=key,
            )
            return "held"

        return run

    threads = [in_thread(hold(f"hold:{n}"), outcomes) for n in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert Counter(outcomes) == {"held": 3, "wallet.insufficient_funds": WORKERS - 3}
    assert Hold.objects.count() == 3
    assert (wallet_for(client).balance, wallet_for(client).held) == (100, 90)


def test_a_top_up_and_a_charge_at_once_both_land() -> None:
    # Funding from the shared clearing account while the wallet is charged: the two lock the
    # same wallet from different sides and must queue, not lose an update.
    client = funded_client(tokens=50)
    receiver = UserFactory()
    wallet_for(receiver)
    start = threading.Barrier(2)
    outcomes: list[Any] = []

    def top_up() -> str:
        start.wait(timeout=10)
        fund_wallet(user=client, amount=25, idempotency_key="pix:2")
        return "topped up"

    def spend() -> str:
        start.wait(timeout=10)
        ledger.ledger_transfer(
            debit=wallet_for(client),
            credit=wallet_for(receiver),
            amount=50,
            kind=TransferKind.ADJUSTMENT,
            idempotency_key="spend",
        )
        return "spent"

    threads = [in_thread(top_up, outcomes), in_thread(spend, outcomes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert sorted(outcomes) == ["spent", "topped up"]
    assert [wallet_for(client).balance, wallet_for(receiver).balance] == [25, 50]
    assert pix_clearing().balance == -75


def lockable_now(account: Account) -> bool:
    """Whether ``account``'s row can be locked right now without waiting."""
    try:
        with transaction.atomic():
            Account.objects.select_for_update(nowait=True).get(pk=account.pk)
    except OperationalError:
        return False
    return True


def test_posting_a_hold_holds_no_lock_while_it_waits_for_a_lower_numbered_account() -> None:
    # Every writer locks accounts in primary-key order. A post that locked the held wallet
    # and then waited for a lower-numbered credited one could deadlock with a transfer that
    # locks in the right order.
    receiver = UserFactory()
    lower = wallet_for(receiver)
    client = funded_client(tokens=100)
    higher = wallet_for(client)
    assert lower.pk < higher.pk
    hold = ledger.hold_create(
        account=higher, amount=30, kind=HoldKind.CALL_MINIMUM, idempotency_key="h"
    )
    ready, release = threading.Event(), threading.Event()
    blocker_outcome: list[Any] = []
    post_outcome: list[Any] = []
    blocker = in_thread(
        kept_open(lambda: Account.objects.select_for_update().get(pk=lower.pk).pk, ready, release),
        blocker_outcome,
    )
    post = in_thread(
        lambda: len(ledger.hold_post(hold=hold, credits=[Credit(lower, 30, TransferKind.CHARGE)])),
        post_outcome,
    )

    blocker.start()
    assert ready.wait(timeout=10)
    post.start()
    blocked = wait_until_blocked_on_a_lock(post)
    higher_free_meanwhile = lockable_now(higher)
    release.set()
    blocker.join(timeout=10)
    post.join(timeout=10)

    assert blocked
    assert higher_free_meanwhile, "the post locked the held wallet before a lower account"
    assert post_outcome == [1]
    assert [wallet_for(client).balance, wallet_for(client).held] == [70, 0]
    assert wallet_for(receiver).balance == 30


def test_a_refund_holds_no_lock_while_it_waits_for_the_clients_wallet() -> None:
    # The client's wallet is numbered below the professional's accounts (it existed first).
    # A refund that locked the professional's accounts and then waited for the wallet could
    # deadlock with a charge of the same client, which locks the wallet first.
    client, professional, staff = funded_client(tokens=100), UserFactory(), UserFactory()
    ledger.ledger_charge(
        client=client,
        professional=professional,
        amount=100,
        reference="call:1",
        idempotency_key="call:1:charge",
    )
    clearing = ledger.account_for_user(user=professional, kind=AccountKind.EARNINGS_PENDING)
    dispute = disputes.dispute_open(
        client=client, reference="call:1", reason=DisputeReason.NOT_DELIVERED
    )
    wallet = wallet_for(client)
    assert wallet.pk < clearing.pk
    ready, release = threading.Event(), threading.Event()
    blocker_outcome: list[Any] = []
    refund_outcome: list[Any] = []
    blocker = in_thread(
        kept_open(lambda: Account.objects.select_for_update().get(pk=wallet.pk).pk, ready, release),
        blocker_outcome,
    )
    refund = in_thread(
        lambda: disputes.dispute_refund(dispute=dispute, actor=staff).status, refund_outcome
    )

    blocker.start()
    assert ready.wait(timeout=10)
    refund.start()
    blocked = wait_until_blocked_on_a_lock(refund)
    clearing_free_meanwhile = lockable_now(clearing)
    release.set()
    blocker.join(timeout=10)
    refund.join(timeout=10)

    assert blocked
    assert clearing_free_meanwhile, "the refund locked the professional's account first"
    assert refund_outcome == ["refunded"]
    assert wallet_for(client).balance == 100
    clearing.refresh_from_db()
    assert clearing.balance == 0
