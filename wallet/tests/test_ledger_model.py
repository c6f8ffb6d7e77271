"""The ledger against a model: random sequences of every money movement, checked step by step.

A Hypothesis state machine funds wallets, transfers, charges (linked 85/15 legs), holds,
posts holds in full or in part, voids and expires them, refunds disputed charges (from
clearing, from available earnings, then from the platform's dispute losses) and releases
earnings, while keeping in memory what every balance should be. After every step it checks
the invariants of DESIGN.md §6 against the database.

Each example runs in the same test transaction as the ones before it, and transfers cannot
be deleted (PostgreSQL's append-only trigger), so each example makes its own people and
compares the model with its own accounts; the platform's shared accounts are compared by
how much they moved. ``ledger_check_run`` still checks the whole ledger: every earlier
example's writes are complete, so it stays valid.
"""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass, field

import pytest
from django.db.models import F, Sum
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from accounts.tests.factories import OrganizationFactory, UserFactory
from core.exceptions import ApplicationError
from wallet import disputes, ledger, payouts
from wallet.checks import ledger_check_run
from wallet.ledger import (
    Credit,
    HoldNotPendingError,
    IdempotencyMismatchError,
    InsufficientFundsError,
)
from wallet.models import (
    Account,
    AccountKind,
    Asset,
    DisputeReason,
    Hold,
    HoldKind,
    Transfer,
    TransferKind,
)
from wallet.tests.factories import ProfessionalFactory, wallet_for

CLIENTS = 2
PROFESSIONALS = 2
_examples = itertools.count(1)


@dataclass
class ModelHold:
    pk: int
    account: int  # the held account's pk
    amount: int
    expires: bool
    reference: str
    status: str = "pending"


@dataclass
class ModelCharge:
    """A charge (or a posted hold) the example made, and what is left of its earnings leg."""

    client: int  # index into the clients
    reference: str
    amount: int
    professional_leg: Transfer | None
    left_in_clearing: int
    transfers: list[int] = field(default_factory=list)
    # The key it was charged with; a posted hold has none (it is keyed by the hold).
    idempotency_key: str | None = None
    disputed: bool = False


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.prefix = f"model:{next(_examples)}"
        self.keys = itertools.count(1)
        self.clients = [UserFactory() for _ in range(CLIENTS)]
        self.professionals = [ProfessionalFactory() for _ in range(PROFESSIONALS)]
        self.staff = UserFactory(is_staff=True)
        self.wallets = [wallet_for(client) for client in self.clients]
        self.coins = [
            ledger.account_for_user(user=client, kind=AccountKind.COINS, asset=Asset.COIN)
            for client in self.clients
        ]
        self.clearing = [
            ledger.account_for_user(user=person, kind=AccountKind.EARNINGS_PENDING)
            for person in self.professionals
        ]
        self.earnings = [
            ledger.account_for_user(user=person, kind=AccountKind.EARNINGS)
            for person in self.professionals
        ]
        self.issuance = ledger.account_for_organization(
            organization=OrganizationFactory(), kind=AccountKind.COIN_ISSUANCE, asset=Asset.COIN
        )
        self.pix = ledger.account_for_platform(kind=AccountKind.PIX_CLEARING)
        self.revenue = ledger.account_for_platform(kind=AccountKind.PLATFORM_REVENUE)
        self.losses = ledger.account_for_platform(kind=AccountKind.DISPUTE_LOSSES)
        self.payouts = ledger.account_for_platform(kind=AccountKind.PAYOUT_CLEARING)
        accounts = [
            *self.wallets,
            *self.coins,
            *self.clearing,
            *self.earnings,
            self.issuance,
            self.pix,
            self.revenue,
            self.losses,
            self.payouts,
        ]
        # The platform's accounts carry what earlier examples left in them: start from that.
        self.expected = {
            pk: [balance, held]
            for pk, balance, held in Account.objects.filter(
                pk__in=[account.pk for account in accounts]
            ).values_list("pk", "balance", "held")
        }
        self.holds: list[ModelHold] = []
        self.charges: list[ModelCharge] = []

    def teardown(self) -> None:
        # Settle what this example left pending, so that the next example's expiry and
        # release runs find only their own holds and legs and their counts stay exact.
        later = timezone.now() + datetime.timedelta(days=365)
        ledger.holds_expire_due(now=later)
        payouts.earnings_release_due(now=later)

    # --- The model ---------------------------------------------------------------------------

    def key(self, what: str) -> str:
        return f"{self.prefix}:{what}:{next(self.keys)}"

    def available(self, account: Account) -> int:
        balance, held = self.expected[account.pk]
        return balance - held

    def move(self, debit: Account, credit: Account, amount: int) -> None:
        self.expected[debit.pk][0] -= amount
        self.expected[credit.pk][0] += amount

    def pay_in(self, client: int, amount: int) -> None:
        ledger.ledger_transfer(
            debit=self.pix,
            credit=self.wallets[client],
            amount=amount,
            kind=TransferKind.TOP_UP,
            idempotency_key=self.key("pix"),
        )
        self.move(self.pix, self.wallets[client], amount)

    def charge_recorded(
        self,
        *,
        client: int,
        reference: str,
        amount: int,
        transfers: list[Transfer],
        idempotency_key: str | None = None,
    ) -> None:
        professional_leg = next(
            (t for t in transfers if t.credit_account.kind == AccountKind.EARNINGS_PENDING), None
        )
        self.charges.append(
            ModelCharge(
                client=client,
                reference=reference,
                amount=amount,
                professional_leg=professional_leg,
                left_in_clearing=professional_leg.amount if professional_leg else 0,
                transfers=[t.pk for t in transfers],
                idempotency_key=idempotency_key,
            )
        )

    def professional_of(self, charge: ModelCharge) -> int:
        assert charge.professional_leg is not None
        return [account.pk for account in self.clearing].index(
            charge.professional_leg.credit_account_id
        )

    # --- Rules -------------------------------------------------------------------------------

    @initialize(amounts=st.lists(st.integers(0, 400), min_size=CLIENTS, max_size=CLIENTS))
    def fund_the_wallets(self, amounts: list[int]) -> None:
        for client, amount in enumerate(amounts):
            if amount:
                self.pay_in(client, amount)

    @rule(client=st.integers(0, CLIENTS - 1), amount=st.integers(1, 300))
    def top_up(self, client: int, amount: int) -> None:
        self.pay_in(client, amount)

    @rule(sender=st.integers(0, CLIENTS - 1), amount=st.integers(1, 200))
    def transfer(self, sender: int, amount: int) -> None:
        debit, credit = self.wallets[sender], self.wallets[1 - sender]
        enough = amount <= self.available(debit)
        try:
            ledger.ledger_transfer(
                debit=debit,
                credit=credit,
                amount=amount,
                kind=TransferKind.ADJUSTMENT,
                idempotency_key=self.key("transfer"),
            )
        except InsufficientFundsError:
            assert not enough
            return
        assert enough
        self.move(debit, credit, amount)

    @rule(
        client=st.integers(0, CLIENTS - 1),
        professional=st.integers(0, PROFESSIONALS - 1),
        amount=st.integers(1, 150),
    )
    def charge(self, client: int, professional: int, amount: int) -> None:
        reference = self.key("call")
        enough = amount <= self.available(self.wallets[client])
        try:
            transfers = ledger.ledger_charge(
                client=self.clients[client],
                professional=self.professionals[professional],
                amount=amount,
                reference=reference,
                idempotency_key=f"{reference}:charge",
            )
        except InsufficientFundsError:
            assert not enough
            return
        assert enough
        professional_share, platform_share = ledger.split_charge(amount)
        assert [t.amount for t in transfers] == [
            share for share in (professional_share, platform_share) if share
        ]
        if professional_share:
            self.move(self.wallets[client], self.clearing[professional], professional_share)
        self.move(self.wallets[client], self.revenue, platform_share)
        self.charge_recorded(
            client=client,
            reference=reference,
            amount=amount,
            transfers=transfers,
            idempotency_key=f"{reference}:charge",
        )

    def keyed_charges(self) -> list[ModelCharge]:
        return [charge for charge in self.charges if charge.idempotency_key]

    @precondition(lambda self: self.keyed_charges())
    @rule(data=st.data())
    def replay_a_charge(self, data: st.DataObject) -> None:
        charge = data.draw(st.sampled_from(self.keyed_charges()))
        professional = (
            self.professionals[self.professional_of(charge)]
            if charge.professional_leg
            else self.professionals[0]
        )
        transfers = ledger.ledger_charge(
            client=self.clients[charge.client],
            professional=professional,
            amount=charge.amount,
            reference=charge.reference,
            idempotency_key=charge.idempotency_key,
        )
        assert [t.pk for t in transfers] == charge.transfers

    @precondition(lambda self: self.keyed_charges())
    @rule(data=st.data())
    def replay_a_charge_with_another_amount(self, data: st.DataObject) -> None:
        charge = data.draw(st.sampled_from(self.keyed_charges()))
        amount = data.draw(st.integers(1, 150).filter(lambda n: n != charge.amount))
        with pytest.raises(IdempotencyMismatchError):
            ledger.ledger_charge(
                client=self.clients[charge.client],
                professional=self.professionals[0],
                amount=amount,
                reference=charge.reference,
                idempotency_key=charge.idempotency_key,
            )

    @rule(
        owner=st.integers(0, 1),
        amount=st.integers(1, 120),
        expires=st.booleans(),
        on_earnings=st.booleans(),
    )
    def hold(self, owner: int, amount: int, expires: bool, on_earnings: bool) -> None:
        # Holds on a wallet are call minimums; holds on available earnings are withdrawals.
        account = self.earnings[owner] if on_earnings else self.wallets[owner]
        reference = self.key("hold-call")
        enough = amount <= self.available(account)
        try:
            hold = ledger.hold_create(
                account=account,
                amount=amount,
                kind=HoldKind.PAYOUT if on_earnings else HoldKind.CALL_MINIMUM,
                idempotency_key=reference,
                reference=reference,
                expires_at=timezone.now() + datetime.timedelta(minutes=30) if expires else None,
            )
        except InsufficientFundsError:
            assert not enough
            return
        assert enough
        self.expected[account.pk][1] += amount
        self.holds.append(ModelHold(hold.pk, account.pk, amount, expires, reference))

    def holds_in(self, *statuses: str) -> list[ModelHold]:
        return [hold for hold in self.holds if hold.status in statuses]

    @precondition(lambda self: self.holds_in("pending"))
    @rule(data=st.data(), professional=st.integers(0, PROFESSIONALS - 1))
    def post_a_hold(self, data: st.DataObject, professional: int) -> None:
        hold = data.draw(st.sampled_from(self.holds_in("pending")))
        posted = data.draw(st.just(hold.amount) | st.integers(1, hold.amount))
        on_wallet = hold.account in [wallet.pk for wallet in self.wallets]
        if on_wallet:
            # A call's minimum fee: split 85/15 like any charge, and disputable like one.
            professional_share, platform_share = ledger.split_charge(posted)
            credits = [Credit(self.revenue, platform_share, TransferKind.CHARGE)]
            if professional_share:
                credits.insert(
                    0, Credit(self.clearing[professional], professional_share, TransferKind.CHARGE)
                )
        else:
            credits = [Credit(self.payouts, posted, TransferKind.PAYOUT)]

        transfers = ledger.hold_post(hold=Hold.objects.get(pk=hold.pk), credits=credits)

        hold.status = "posted"
        assert [t.amount for t in transfers] == [credit.amount for credit in credits]
        self.expected[hold.account][1] -= hold.amount
        self.expected[hold.account][0] -= posted
        for credit in credits:
            self.expected[credit.account.pk][0] += credit.amount
        if on_wallet:
            self.charge_recorded(
                client=[wallet.pk for wallet in self.wallets].index(hold.account),
                reference=hold.reference,
                amount=posted,
                transfers=transfers,
            )

    @precondition(lambda self: self.holds_in("pending"))
    @rule(data=st.data())
    def void_a_hold(self, data: st.DataObject) -> None:
        hold = data.draw(st.sampled_from(self.holds_in("pending")))

        voided = ledger.hold_void(hold=Hold.objects.get(pk=hold.pk))

        hold.status = "voided"
        assert voided.status == "voided"
        self.expected[hold.account][1] -= hold.amount

    @precondition(lambda self: self.holds_in("posted", "voided", "expired"))
    @rule(data=st.data(), post=st.booleans())
    def settle_a_settled_hold_again(self, data: st.DataObject, post: bool) -> None:
        # Posting anything settled, or voiding a posted hold, is refused; voiding a voided
        # or expired hold answers with it as it is. Either way nothing moves.
        hold = data.draw(st.sampled_from(self.holds_in("posted", "voided", "expired")))
        stored = Hold.objects.get(pk=hold.pk)
        if post:
            with pytest.raises(HoldNotPendingError) as refused:
                ledger.hold_post(
                    hold=stored, credits=[Credit(self.revenue, 1, TransferKind.CHARGE)]
                )
            assert refused.value.extra == {"status": hold.status}
        elif hold.status == "posted":
            with pytest.raises(HoldNotPendingError):
                ledger.hold_void(hold=stored)
        else:
            assert ledger.hold_void(hold=stored).status == hold.status

    @rule()
    def expire_due_holds(self) -> None:
        due = [hold for hold in self.holds if hold.status == "pending" and hold.expires]

        expired = ledger.holds_expire_due(now=timezone.now() + datetime.timedelta(hours=1))

        assert expired == len(due)
        for hold in due:
            hold.status = "expired"
            self.expected[hold.account][1] -= hold.amount

    @precondition(lambda self: any(not charge.disputed for charge in self.charges))
    @rule(data=st.data())
    def refund_a_disputed_charge(self, data: st.DataObject) -> None:
        charge = data.draw(st.sampled_from([c for c in self.charges if not c.disputed]))
        amount = data.draw(st.none() | st.integers(1, charge.amount))
        dispute = disputes.dispute_open(
            client=self.clients[charge.client],
            reference=charge.reference,
            reason=DisputeReason.QUALITY,
        )

        refunded = disputes.dispute_refund(dispute=dispute, actor=self.staff, amount=amount)

        charge.disputed = True
        amount = charge.amount if amount is None else amount
        assert (refunded.status, refunded.refunded_amount) == ("refunded", amount)
        # Where the money comes back from, as wallet.disputes documents it.
        wallet = self.wallets[charge.client]
        professional_charged = charge.professional_leg.amount if charge.professional_leg else 0
        professional_part = amount * professional_charged // charge.amount
        self.move(self.revenue, wallet, amount - professional_part)
        if not professional_part:
            return
        professional = self.professional_of(charge)
        from_clearing = min(professional_part, charge.left_in_clearing)
        if from_clearing:
            self.move(self.clearing[professional], wallet, from_clearing)
            charge.left_in_clearing -= from_clearing
        left = professional_part - from_clearing
        from_earnings = min(left, max(self.available(self.earnings[professional]), 0))
        if from_earnings:
            self.move(self.earnings[professional], wallet, from_earnings)
        if left - from_earnings:
            self.move(self.losses, wallet, left - from_earnings)

    @precondition(lambda self: any(charge.professional_leg for charge in self.charges))
    @rule(data=st.data())
    def release_one_charge(self, data: st.DataObject) -> None:
        charge = data.draw(st.sampled_from([c for c in self.charges if c.professional_leg]))
        assert charge.professional_leg is not None

        released = payouts.earnings_release(leg=charge.professional_leg)

        if not charge.left_in_clearing:
            assert released is None
            return
        assert released is not None
        assert (released.amount, released.origin_id) == (
            charge.left_in_clearing,
            charge.professional_leg.pk,
        )
        professional = self.professional_of(charge)
        self.move(self.clearing[professional], self.earnings[professional], released.amount)
        charge.left_in_clearing = 0

    @rule()
    def release_due_earnings(self) -> None:
        due = [charge for charge in self.charges if charge.left_in_clearing]

        released = payouts.earnings_release_due(now=timezone.now() + datetime.timedelta(days=8))

        assert released == len(due)
        for charge in due:
            professional = self.professional_of(charge)
            self.move(
                self.clearing[professional], self.earnings[professional], charge.left_in_clearing
            )
            charge.left_in_clearing = 0

    @rule(client=st.integers(0, CLIENTS - 1), amount=st.integers(1, 50))
    def award_coins(self, client: int, amount: int) -> None:
        ledger.ledger_transfer(
            debit=self.issuance,
            credit=self.coins[client],
            amount=amount,
            kind=TransferKind.COIN_AWARD,
            idempotency_key=self.key("coins"),
        )
        self.move(self.issuance, self.coins[client], amount)

    @rule(client=st.integers(0, CLIENTS - 1), amount=st.integers(1, 50))
    def pay_tokens_into_coins_is_refused(self, client: int, amount: int) -> None:
        with pytest.raises(ApplicationError):
            ledger.ledger_transfer(
                debit=self.wallets[client],
                credit=self.coins[client],
                amount=amount,
                kind=TransferKind.ADJUSTMENT,
                idempotency_key=self.key("cross-asset"),
            )

    # --- Invariants, after every step --------------------------------------------------------

    @invariant()
    def every_balance_and_held_amount_is_the_models(self) -> None:
        stored = {
            pk: [balance, held]
            for pk, balance, held in Account.objects.filter(pk__in=self.expected).values_list(
                "pk", "balance", "held"
            )
        }
        assert stored == self.expected

    @invariant()
    def every_asset_sums_to_zero(self) -> None:
        sums = dict(Account.objects.values_list("asset").annotate(total=Sum("balance")).order_by())
        assert set(sums.values()) <= {0}, sums

    @invariant()
    def no_user_account_is_below_zero_counting_holds(self) -> None:
        assert not Account.objects.filter(never_negative=True, balance__lt=F("held")).exists()
        assert all(
            self.available(account) >= 0
            for account in [*self.wallets, *self.coins, *self.clearing, *self.earnings]
        )

    @invariant()
    def the_ledger_check_passes(self) -> None:
        run = ledger_check_run()
        assert (run.ok, run.problems) == (True, [])


@pytest.mark.django_db
def test_the_ledger_keeps_its_invariants_through_any_sequence_of_operations() -> None:
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
