"""The ledger's writes: transfers, linked transfers, holds. Every other wallet service and
every app that moves money (calls, queueing, gamification) goes through these functions.

Rules kept here, for every asset:

- The amount leaving one account is the amount entering another, in one transaction, so the
  sum of all balances never changes (it is zero: every account starts at zero).
- Accounts are locked with ``SELECT ... FOR UPDATE`` in primary-key order, always, by every
  caller. Two transfers between the same pair of accounts in opposite directions therefore
  queue behind each other instead of deadlocking. A hold row is locked before its accounts.
- A user's account never goes below zero counting what is held (``balance - held >= 0``):
  checked on the locked rows for a clear error, and by a CHECK constraint as the backstop.
- Each transfer and hold has a unique idempotency key. Calling again with a key already used
  returns what the first call wrote and moves nothing; the same key with different accounts or
  amounts is refused (``wallet.idempotency_mismatch``).

Balance changes of a user's account are published to that user's sockets after commit.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from wallet import events
from wallet.models import (
    USER_ACCOUNT_KINDS,
    Account,
    AccountKind,
    Asset,
    Hold,
    HoldStatus,
    Transfer,
    account_key,
)

# How a charge is shared: the professional gets 85% (rounded down), the platform the rest.
PROFESSIONAL_SHARE_PERCENT = 85


class InsufficientFundsError(ApplicationError):
    code = "wallet.insufficient_funds"
    status_code = 409


class IdempotencyMismatchError(ApplicationError):
    code = "wallet.idempotency_mismatch"
    status_code = 422


class InvalidAmountError(ApplicationError):
    code = "wallet.invalid_amount"


@dataclass(frozen=True)
class Leg:
    """One transfer of a linked set: all of them are written, or none."""

    debit: Account
    credit: Account
    amount: int
    kind: str
    origin: Transfer | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Credit:
    """Where part of a posted hold goes."""

    account: Account
    amount: int
    kind: str
    metadata: dict[str, Any] = field(default_factory=dict)


# --- Accounts -------------------------------------------------------------------------------


def account_for_user(*, user: Any, kind: str, asset: str = Asset.TOKEN) -> Account:
    """The user's account of ``kind``, created on first use (never negative)."""
    if kind not in USER_ACCOUNT_KINDS:
        raise ValueError(f"{kind} is not a user account kind")
    return _get_or_create(
        key=account_key(kind=kind, asset=asset, user_id=user.pk),
        defaults={"user": user, "kind": kind, "asset": asset, "never_negative": True},
    )


def account_find(*, user: Any, kind: str, asset: str = Asset.TOKEN) -> Account | None:
    """The user's account of ``kind`` if it exists; reads never create accounts."""
    return Account.objects.filter(key=account_key(kind=kind, asset=asset, user_id=user.pk)).first()


def account_for_organization(*, organization: Any, kind: str, asset: str) -> Account:
    """An organization's system account (coins it issues), created on first use."""
    return _get_or_create(
        key=account_key(kind=kind, asset=asset, organization_id=organization.pk),
        defaults={
            "organization": organization,
            "kind": kind,
            "asset": asset,
            "never_negative": kind in USER_ACCOUNT_KINDS,
        },
    )


def account_for_platform(*, kind: str, asset: str = Asset.TOKEN) -> Account:
    """One of the platform's system accounts (PIX clearing, revenue...), created on first use."""
    return _get_or_create(
        key=account_key(kind=kind, asset=asset),
        defaults={"kind": kind, "asset": asset, "never_negative": False},
    )


def _get_or_create(*, key: str, defaults: dict[str, Any]) -> Account:
    account = Account.objects.filter(key=key).first()
    if account is not None:
        return account
    # get_or_create retries the read when a concurrent request inserted the same key first.
    account, _created = Account.objects.get_or_create(key=key, defaults=defaults)
    return account


def split_charge(amount: int) -> tuple[int, int]:
    """(professional, platform) shares of a charge; the platform gets the rounding remainder."""
    professional = amount * PROFESSIONAL_SHARE_PERCENT // 100
    return professional, amount - professional


def charge_legs(*, client: Any, professional: Any, amount: int, kind: str) -> list[Leg]:
    """The two linked legs of a charge: 85% to the professional's clearing, 15% to us."""
    # Fixed: validated before splitting. True passed through split_charge as a platform
    # share of 1 (a real int) and charged one token.
    _validate_amount(amount)
    wallet = account_for_user(user=client, kind=AccountKind.CLIENT_WALLET)
    professional_share, platform_share = split_charge(amount)
    legs = []
    if professional_share:
        legs.append(
            Leg(
                debit=wallet,
                credit=account_for_user(user=professional, kind=AccountKind.EARNINGS_PENDING),
                amount=professional_share,
                kind=kind,
                metadata={"share": "professional"},
            )
        )
    legs.append(
        Leg(
            debit=wallet,
            credit=account_for_platform(kind=AccountKind.PLATFORM_REVENUE),
            amount=platform_share,
            kind=kind,
            metadata={"share": "platform"},
        )
    )
    return legs


# --- Locking ---------------------------------------------------------------------------------


def _lock_accounts(ids: Iterable[int]) -> dict[int, Account]:
    """Lock the accounts in primary-key order (the one order every writer uses)."""
    locked = Account.objects.select_for_update().filter(pk__in=set(ids)).order_by("pk")
    return {account.pk: account for account in locked}


def _check_available(account: Account) -> None:
    # Called on the state after the change: what is below zero is how much was missing.
    if account.never_negative and account.balance - account.held < 0:
        raise InsufficientFundsError(
            _("Not enough balance."),
            extra={"account": account.kind, "shortfall": account.held - account.balance},
        )


def _validate_amount(amount: Any) -> None:
    # bool is an int in Python; a True amount is a bug in the caller, never one token.
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise InvalidAmountError(_("The amount must be a positive whole number."))


def _save_balances(accounts: Iterable[Account]) -> None:
    now = timezone.now()
    for account in accounts:
        Account.objects.filter(pk=account.pk).update(
            balance=account.balance, held=account.held, updated_at=now
        )
        if account.user_id is not None:
            events.balance_changed(account)


# --- Transfers -------------------------------------------------------------------------------


def ledger_transfer(
    *,
    debit: Account,
    credit: Account,
    amount: int,
    kind: str,
    idempotency_key: str,
    reference: str = "",
    origin: Transfer | None = None,
    metadata: dict[str, Any] | None = None,
) -> Transfer:
    """Move ``amount`` from ``debit`` to ``credit``; replay-safe on ``idempotency_key``.

    Locks both accounts in primary-key order. Raises InsufficientFundsError (nothing written),
    InvalidAmountError, or IdempotencyMismatchError when the key was used for another transfer.
    Publishes ``wallet.balance.changed`` for each user account after commit.
    """
    leg = Leg(
        debit=debit,
        credit=credit,
        amount=amount,
        kind=kind,
        origin=origin,
        metadata=metadata or {},
    )
    return ledger_transfer_linked(legs=[leg], idempotency_key=idempotency_key, reference=reference)[
        0
    ]


@transaction.atomic
def ledger_transfer_linked(
    *, legs: Sequence[Leg], idempotency_key: str, reference: str = "", hold: Hold | None = None
) -> list[Transfer]:
    """Write every leg or none (a charge split 85/15, a refund from several accounts).

    The legs' keys are ``<idempotency_key>`` for one leg and ``<key>#<n>`` for several. Locks
    every account involved at once, in primary-key order; checks every user account only
    after all legs are applied, so a set that passes through an account is judged by its end
    state. Raises as ``ledger_transfer`` does.
    """
    if not legs:
        raise InvalidAmountError(_("A transfer needs at least one leg."))
    for leg in legs:
        _validate_amount(leg.amount)
        if leg.debit.pk == leg.credit.pk:
            raise ApplicationError(
                _("A transfer needs two different accounts."), code="wallet.same_account"
            )
    keys = _leg_keys(idempotency_key, len(legs))
    accounts = _lock_accounts([a for leg in legs for a in (leg.debit.pk, leg.credit.pk)])

    # Checked after the locks: a concurrent call with the same key has committed by now.
    # Fixed: also look for the key used with another number of legs ("<key>" for one leg,
    # "<key>#0" for several, "<key>#<n>" for more than now). Looking only for this call's own
    # leg keys let a charge of 1 token (one leg) and one of 100 (two legs) under one key both
    # be written; _replay refuses a different number of legs.
    lookup = {*keys, idempotency_key, f"{idempotency_key}#0", f"{idempotency_key}#{len(legs)}"}
    existing = list(Transfer.objects.filter(idempotency_key__in=lookup).order_by("pk"))
    if existing:
        return _replay(existing, legs, keys)

    for leg in legs:
        debit, credit = accounts[leg.debit.pk], accounts[leg.credit.pk]
        if debit.asset != credit.asset:
            raise ApplicationError(
                _("Both accounts of a transfer must hold the same asset."),
                code="wallet.asset_mismatch",
            )
    now = timezone.now()
    transfers = []
    for leg, key in zip(legs, keys, strict=True):
        debit, credit = accounts[leg.debit.pk], accounts[leg.credit.pk]
        debit.balance -= leg.amount
        credit.balance += leg.amount
        transfers.append(
            Transfer(
                debit_account=debit,
                credit_account=credit,
                asset=debit.asset,
                amount=leg.amount,
                kind=leg.kind,
                idempotency_key=key,
                reference=reference,
                batch=idempotency_key if len(legs) > 1 else "",
                hold=hold,
                origin=leg.origin,
                debit_balance_after=debit.balance,
                credit_balance_after=credit.balance,
                metadata=dict(leg.metadata),
                created_at=now,
            )
        )
    touched = [
        accounts[pk] for pk in sorted({a for leg in legs for a in (leg.debit.pk, leg.credit.pk)})
    ]
    for account in touched:
        _check_available(account)
    _save_balances(touched)
    # No savepoint around the insert: the key was checked under the account locks above, so
    # a duplicate cannot get here, and the unique index still refuses one if it ever did.
    Transfer.objects.bulk_create(transfers)
    return transfers


def _leg_keys(key: str, count: int) -> list[str]:
    if not key:
        raise ApplicationError(_("A transfer needs an idempotency key."))
    return [key] if count == 1 else [f"{key}#{n}" for n in range(count)]


def _replay(existing: list[Transfer], legs: Sequence[Leg], keys: list[str]) -> list[Transfer]:
    by_key = {transfer.idempotency_key: transfer for transfer in existing}
    same = len(existing) == len(legs) and all(
        key in by_key
        and by_key[key].debit_account_id == leg.debit.pk
        and by_key[key].credit_account_id == leg.credit.pk
        and by_key[key].amount == leg.amount
        for leg, key in zip(legs, keys, strict=True)
    )
    if not same:
        raise IdempotencyMismatchError(
            _("This idempotency key was already used for another transfer.")
        )
    return [by_key[key] for key in keys]


# --- Holds -----------------------------------------------------------------------------------


@transaction.atomic
def hold_create(
    *,
    account: Account,
    amount: int,
    kind: str,
    idempotency_key: str,
    reference: str = "",
    expires_at: datetime.datetime | None = None,
    metadata: dict[str, Any] | None = None,
) -> Hold:
    """Set ``amount`` aside on ``account`` (its available balance drops, its balance does not).

    Locks the account. Replay-safe on ``idempotency_key``. Raises InsufficientFundsError when the
    available balance is short, InvalidAmountError, IdempotencyMismatchError.
    """
    _validate_amount(amount)
    if not idempotency_key:
        raise ApplicationError(_("A hold needs an idempotency key."))
    locked = _lock_accounts([account.pk])[account.pk]
    existing = Hold.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        if existing.debit_account_id != account.pk or existing.amount != amount:
            raise IdempotencyMismatchError(
                _("This idempotency key was already used for another hold.")
            )
        return existing
    locked.held += amount
    _check_available(locked)
    _save_balances([locked])
    return Hold.objects.create(
        debit_account=locked,
        asset=locked.asset,
        amount=amount,
        kind=kind,
        idempotency_key=idempotency_key,
        reference=reference,
        expires_at=expires_at,
        metadata=metadata or {},
    )


class HoldNotPendingError(ApplicationError):
    code = "wallet.hold_not_pending"
    status_code = 409


def _lock_hold(hold: Hold) -> Hold:
    return Hold.objects.select_for_update().get(pk=hold.pk)


@transaction.atomic
def hold_post(*, hold: Hold, credits: Sequence[Credit]) -> list[Transfer]:
    """Take ``sum(credits)`` (at most the held amount) and release whatever is left, once.

    Locks the hold, then its accounts in primary-key order. The transfers are linked and keyed
    ``hold:<id>:post``. Raises HoldNotPendingError when the hold was already posted, voided or
    expired, InvalidAmountError when the credits exceed the hold or are not positive.
    """
    locked = _lock_hold(hold)
    if locked.status != HoldStatus.PENDING:
        raise HoldNotPendingError(
            _("This hold was already settled."), extra={"status": locked.status}
        )
    total = sum(credit.amount for credit in credits)
    for credit in credits:
        _validate_amount(credit.amount)
    if total > locked.amount:
        raise InvalidAmountError(_("A hold cannot be posted for more than it holds."))
    debit = Account.objects.get(pk=locked.debit_account_id)
    # Release the hold first, inside the same transaction: the linked transfer then takes
    # the posted part out of the balance and the accounts' checks see the final state.
    # Fixed: lock the credited accounts together with the held one. Locking the held one alone
    # first, and the others later in ledger_transfer_linked, broke the primary-key order and
    # deadlocked against a transfer that had locked a lower-numbered credited account first.
    account = _lock_accounts([debit.pk, *(c.account.pk for c in credits)])[debit.pk]
    account.held -= locked.amount
    # Fixed: saved without a balance event. This state (released, not yet taken) never
    # exists outside the transaction; ledger_transfer_linked saves this account again and
    # publishes its final balance.
    Account.objects.filter(pk=account.pk).update(held=account.held)
    transfers = ledger_transfer_linked(
        legs=[
            Leg(debit=account, credit=c.account, amount=c.amount, kind=c.kind, metadata=c.metadata)
            for c in credits
        ],
        idempotency_key=f"hold:{locked.pk}:post",
        reference=locked.reference,
        hold=locked,
    )
    locked.status = HoldStatus.POSTED
    locked.posted_amount = total
    locked.resolved_at = timezone.now()
    locked.save(update_fields=("status", "posted_amount", "resolved_at"))
    return transfers


@transaction.atomic
def hold_void(*, hold: Hold, expired: bool = False) -> Hold:
    """Release a pending hold in full; a hold already voided stays as it is.

    Locks the hold, then its account. Raises HoldNotPendingError when it was posted.
    """
    locked = _lock_hold(hold)
    if locked.status in (HoldStatus.VOIDED, HoldStatus.EXPIRED):
        return locked
    if locked.status != HoldStatus.PENDING:
        raise HoldNotPendingError(
            _("This hold was already settled."), extra={"status": locked.status}
        )
    account = _lock_accounts([locked.debit_account_id])[locked.debit_account_id]
    account.held -= locked.amount
    _save_balances([account])
    locked.status = HoldStatus.EXPIRED if expired else HoldStatus.VOIDED
    locked.resolved_at = timezone.now()
    locked.save(update_fields=("status", "resolved_at"))
    return locked


def holds_expire_due(*, now: datetime.datetime | None = None, batch_size: int = 500) -> int:
    """Void every pending hold past its expiry, each in its own transaction. Returns how many.

    Safe to run in two workers at once: each hold is re-read under its lock, and one that
    another worker settled first is skipped.
    """
    now = now or timezone.now()
    ids = list(
        Hold.objects.filter(status=HoldStatus.PENDING, expires_at__lte=now)
        .order_by("expires_at")
        .values_list("pk", flat=True)[:batch_size]
    )
    expired = 0
    for hold_id in ids:
        with transaction.atomic():
            hold = Hold.objects.select_for_update().get(pk=hold_id)
            if hold.status != HoldStatus.PENDING:
                continue
            hold_void(hold=hold, expired=True)
            expired += 1
    return expired


def ledger_charge(
    *,
    client: Any,
    professional: Any,
    amount: int,
    reference: str,
    idempotency_key: str,
    kind: str = "charge",
    metadata: dict[str, Any] | None = None,
) -> list[Transfer]:
    """Charge ``amount`` from the client's wallet, split 85/15 as linked transfers.

    The professional's share goes to their clearing account and becomes withdrawable after
    the clearing window (``wallet.payouts.earnings_release_due``). Raises InsufficientFundsError
    when the client's available balance is short: nothing is written.
    """
    legs = [
        Leg(
            debit=leg.debit,
            credit=leg.credit,
            amount=leg.amount,
            kind=leg.kind,
            metadata={**leg.metadata, **(metadata or {})},
        )
        for leg in charge_legs(client=client, professional=professional, amount=amount, kind=kind)
    ]
    return ledger_transfer_linked(legs=legs, idempotency_key=idempotency_key, reference=reference)


# --- Batched charges (the calls' billing pass) -------------------------------------------------


@dataclass(frozen=True)
class ChargeRequest:
    """One charge of a batch: what ``ledger_charge`` would do for these users and this key.

    ``client_id`` and ``professional_id`` are user ids: the batch finds (or creates) their
    accounts in one query instead of one per person.
    """

    client_id: int
    professional_id: int
    amount: int
    reference: str
    idempotency_key: str
    kind: str = "charge"
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ChargeResult:
    """What became of one ChargeRequest.

    ``transfers``: the legs written (or found, for a replay); empty when refused.
    ``error``: InsufficientFundsError or IdempotencyMismatchError when refused, else None.
    ``available_after``: the client's available balance right after this charge (or, when
    refused or replayed, at that point of the batch).
    """

    request: ChargeRequest
    transfers: list[Transfer]
    error: ApplicationError | None
    replayed: bool
    available_after: int

    @property
    def ok(self) -> bool:
        return self.error is None


def ledger_charge_many(
    charges: Sequence[ChargeRequest],
    *,
    on_balance_changed: Callable[[Account], None] | None = None,
) -> list[ChargeResult]:
    """Many ``ledger_charge`` calls in one transaction and a handful of queries.

    Each charge is judged on its own, in order, exactly as ``ledger_charge`` would judge it
    after the ones before it: a wallet that cannot pay refuses that charge only (its result
    carries the error and nothing of it is written), a key already used returns the first
    result (``replayed``) or is refused when it named other accounts or amounts. The legs are
    keyed ``<key>`` / ``<key>#0``, ``<key>#1`` as ``ledger_transfer_linked`` names them, so a
    replay through either function finds the other's rows.

    Locks every account of the batch once, in primary-key order (the order every writer
    uses), checks all idempotency keys in one query, writes the transfers with one bulk
    insert and the balances with one UPDATE, and publishes one ``wallet.balance.changed`` per
    user account after commit (``on_balance_changed(account)`` instead, when given: a caller
    that sends many events at once). Raises InvalidAmountError (nothing written) for an amount
    that is not a positive whole number or a missing key: those are the caller's bugs.
    """
    if not charges:
        return []
    for charge in charges:
        _validate_amount(charge.amount)
        if not charge.idempotency_key:
            raise ApplicationError(_("A transfer needs an idempotency key."))
    with transaction.atomic():
        return _charge_many(charges, on_balance_changed or events.balance_changed)


def _charge_many(
    charges: Sequence[ChargeRequest], on_balance_changed: Callable[[Account], None]
) -> list[ChargeResult]:
    token = Asset.TOKEN
    revenue_key = account_key(kind=AccountKind.PLATFORM_REVENUE, asset=token)
    wanted: dict[str, dict[str, Any]] = {
        revenue_key: {"kind": AccountKind.PLATFORM_REVENUE, "asset": token, "never_negative": False}
    }
    for charge in charges:
        for user_id, kind in (
            (charge.client_id, AccountKind.CLIENT_WALLET),
            (charge.professional_id, AccountKind.EARNINGS_PENDING),
        ):
            wanted[account_key(kind=kind, asset=token, user_id=user_id)] = {
                "user_id": user_id,
                "kind": kind,
                "asset": token,
                "never_negative": True,
            }
    by_key = _lock_accounts_by_key(wanted)
    accounts = {account.pk: account for account in by_key.values()}
    revenue = by_key[revenue_key]

    # The legs of every charge, as charge_legs builds them.
    plans: list[tuple[list[Leg], list[str]]] = []
    lookup: dict[str, int] = {}
    for index, charge in enumerate(charges):
        wallet = by_key[
            account_key(kind=AccountKind.CLIENT_WALLET, asset=token, user_id=charge.client_id)
        ]
        pending = by_key[
            account_key(
                kind=AccountKind.EARNINGS_PENDING, asset=token, user_id=charge.professional_id
            )
        ]
        professional_share, platform_share = split_charge(charge.amount)
        legs = []
        if professional_share:
            legs.append(
                Leg(
                    debit=wallet,
                    credit=pending,
                    amount=professional_share,
                    kind=charge.kind,
                    metadata={"share": "professional", **charge.metadata},
                )
            )
        legs.append(
            Leg(
                debit=wallet,
                credit=revenue,
                amount=platform_share,
                kind=charge.kind,
                metadata={"share": "platform", **charge.metadata},
            )
        )
        key = charge.idempotency_key
        keys = _leg_keys(key, len(legs))
        plans.append((legs, keys))
        # The same keys ledger_transfer_linked looks for; the first charge of the batch that
        # uses a key owns it (a later one with the same key is a replay of it).
        for candidate in (*keys, key, f"{key}#0", f"{key}#{len(legs)}"):
            lookup.setdefault(candidate, index)

    # Checked after the locks, as ledger_transfer_linked does: a concurrent writer of the same
    # key has committed by now.
    existing: dict[int, list[Transfer]] = {}
    for transfer in _transfers_keyed(lookup, [charge.idempotency_key for charge in charges]):
        existing.setdefault(lookup[transfer.idempotency_key], []).append(transfer)

    now = timezone.now()
    results: list[ChargeResult] = []
    written: list[Transfer] = []
    first_by_key: dict[str, tuple[ChargeRequest, list[Leg], list[Transfer]]] = {}
    touched: set[int] = set()
    for index, (charge, (legs, keys)) in enumerate(zip(charges, plans, strict=True)):
        wallet = legs[0].debit
        key = charge.idempotency_key
        earlier = first_by_key.get(key)
        if index in existing or earlier is not None:
            found = existing[index] if index in existing else earlier[2] if earlier else []
            try:
                transfers = _replay(found, legs, keys)
            except IdempotencyMismatchError as exc:
                results.append(ChargeResult(charge, [], exc, False, wallet.available))
            else:
                results.append(ChargeResult(charge, transfers, None, True, wallet.available))
            continue
        transfers = []
        for leg, leg_key in zip(legs, keys, strict=True):
            leg.debit.balance -= leg.amount
            leg.credit.balance += leg.amount
            transfers.append(
                Transfer(
                    debit_account_id=leg.debit.pk,
                    credit_account_id=leg.credit.pk,
                    asset=leg.debit.asset,
                    amount=leg.amount,
                    kind=leg.kind,
                    idempotency_key=leg_key,
                    reference=charge.reference,
                    batch=key if len(legs) > 1 else "",
                    hold_id=None,
                    origin_id=None,
                    debit_balance_after=leg.debit.balance,
                    credit_balance_after=leg.credit.balance,
                    metadata=dict(leg.metadata),
                    created_at=now,
                )
            )
        try:
            # Judged on the state after all its legs, as ledger_transfer_linked judges it.
            _check_available(wallet)
        except InsufficientFundsError as exc:
            for leg in legs:
                leg.debit.balance += leg.amount
                leg.credit.balance -= leg.amount
            results.append(ChargeResult(charge, [], exc, False, wallet.available))
            continue
        touched.update(pk for leg in legs for pk in (leg.debit.pk, leg.credit.pk))
        written.extend(transfers)
        first_by_key[key] = (charge, legs, transfers)
        results.append(ChargeResult(charge, transfers, None, False, wallet.available))

    if written:
        changed = [accounts[pk] for pk in sorted(touched)]
        _save_balances_many(changed, now=now, on_balance_changed=on_balance_changed)
        _insert_transfers(written)
    return results


# What a batch reads of an account (the timestamps and owners' other columns stay unread).
_ACCOUNT_FIELDS = ("id", "key", "user_id", "kind", "asset", "balance", "held", "never_negative")


def _lock_accounts_by_key(wanted: dict[str, dict[str, Any]]) -> dict[str, Account]:
    """Lock the accounts keyed ``wanted`` in primary-key order, creating the missing ones."""

    def lock() -> dict[str, Account]:
        locked = (
            Account.objects.select_for_update()
            .filter(key__in=list(wanted))
            .only(*_ACCOUNT_FIELDS)
            .order_by("pk")
        )
        return {account.key: account for account in locked}

    found = lock()
    missing = [key for key in wanted if key not in found]
    if not missing:
        return found
    # ignore_conflicts: a concurrent writer may create the same account first. Then every
    # account is locked again, all together in primary-key order (never one after the other).
    Account.objects.bulk_create(
        [Account(key=key, **wanted[key]) for key in missing], ignore_conflicts=True, batch_size=2000
    )
    return lock()


def _transfers_keyed(lookup: dict[str, int], keys: Sequence[str]) -> list[Transfer]:
    """The transfers whose key is one of ``lookup`` (``keys`` and their ``#n`` leg keys)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return list(Transfer.objects.filter(idempotency_key__in=list(lookup)).order_by("pk"))
    # One array of the charges' keys instead of four keys per charge; each is still an index
    # lookup. The leg keys looked for (<key>, #0, #1, #2) cover every set lookup names.
    table = Transfer._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT t."id", t."idempotency_key" FROM unnest(%s::text[]) AS k(key) '  # noqa: S608
            f'JOIN "{table}" t ON t."idempotency_key" IN '
            "(k.key, k.key || '#0', k.key || '#1', k.key || '#2')",
            [list(set(keys))],
        )
        ids = [pk for pk, key in cursor.fetchall() if key in lookup]
    if not ids:
        return []
    return list(Transfer.objects.filter(pk__in=ids).order_by("pk"))


_TRANSFER_COLUMNS = (
    "id",
    "debit_account_id",
    "credit_account_id",
    "asset",
    "amount",
    "kind",
    "idempotency_key",
    "reference",
    "batch",
    "hold_id",
    "origin_id",
    "debit_balance_after",
    "credit_balance_after",
    "metadata",
    "created_at",
)


def _insert_transfers(transfers: list[Transfer]) -> None:
    """Insert new transfers and set their primary keys (PostgreSQL: ids reserved, then COPY)."""
    import json

    from django.db import connection

    if connection.vendor != "postgresql":
        Transfer.objects.bulk_create(transfers, batch_size=500)
        return
    table = Transfer._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, len(transfers)],
        )
        ids = sorted(row[0] for row in cursor.fetchall())
        columns = ", ".join(f'"{column}"' for column in _TRANSFER_COLUMNS)
        raw = cursor.cursor  # psycopg's own cursor: COPY is not part of Django's API
        with raw.copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy:
            for pk, transfer in zip(ids, transfers, strict=True):
                transfer.pk = pk
                copy.write_row(
                    (
                        pk,
                        transfer.debit_account_id,
                        transfer.credit_account_id,
                        transfer.asset,
                        transfer.amount,
                        transfer.kind,
                        transfer.idempotency_key,
                        transfer.reference,
                        transfer.batch,
                        transfer.hold_id,
                        transfer.origin_id,
                        transfer.debit_balance_after,
                        transfer.credit_balance_after,
                        json.dumps(transfer.metadata),
                        transfer.created_at,
                    )
                )
        for transfer in transfers:
            transfer._state.adding = False
            transfer._state.db = connection.alias


def _save_balances_many(
    accounts: Sequence[Account],
    *,
    now: datetime.datetime,
    on_balance_changed: Callable[[Account], None],
) -> None:
    """One UPDATE for many accounts' balances, then one balance event per user account."""
    from django.db import connection

    if connection.vendor == "postgresql":
        table = Account._meta.db_table
        # Three arrays instead of a VALUES list: a statement with thousands of placeholders
        # costs more to bind on the client than to run.
        with connection.cursor() as cursor:
            cursor.execute(
                f'UPDATE "{table}" AS a SET "balance" = v.balance, "held" = v.held, '  # noqa: S608
                '"updated_at" = %s FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) '
                'AS v(id, balance, held) WHERE a."id" = v.id',
                [
                    now,
                    [account.pk for account in accounts],
                    [account.balance for account in accounts],
                    [account.held for account in accounts],
                ],
            )
    else:
        for account in accounts:
            account.updated_at = now
        Account.objects.bulk_update(accounts, ["balance", "held", "updated_at"], batch_size=250)
    for account in accounts:
        if account.user_id is not None:
            on_balance_changed(account)
