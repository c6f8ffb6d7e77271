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
from collections.abc import Iterable, Sequence
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
