"""Professionals' earnings: clearing, withdrawals to a PIX key, staff approval, sending.

Earnings of a charge land in the professional's ``earnings_pending`` account and move to
``earnings`` (available) after ``WALLET_CLEARING_DAYS`` (``earnings_release_due``, periodic):
the window in which a client can still dispute a charge. A withdrawal holds the amount on
``earnings`` until staff decide:

    payout_request   (professional) KYC approved and phone verified; the amount held
    payout_approve   (staff, admin) approved; the send task is queued after commit
    payout_send      (task) the PSP is called with no transaction open, our payout id as
                     its idempotency key; then posted to ``payout_clearing`` on success,
                     or voided on failure
    payout_reject    (staff, admin) the hold voided, the professional told why

Every step is audited and the professional is told by email and over the socket.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import AuditAction
from accounts.policies import Action, require
from core.exceptions import ApplicationError
from wallet import events, ledger
from wallet.models import (
    AccountKind,
    HoldKind,
    Payout,
    PayoutStatus,
    Transfer,
    TransferKind,
)
from wallet.pix_keys import InvalidPixKey, normalize_pix_key
from wallet.providers.pix import PayoutStatus as ProviderPayoutStatus
from wallet.providers.pix import PixPermanentError

logger = logging.getLogger(__name__)


class PayoutNotAllowedError(ApplicationError):
    code = "wallet.payout_not_allowed"
    status_code = 409


class InvalidPayoutError(ApplicationError):
    code = "wallet.invalid_payout"


# --- Clearing -------------------------------------------------------------------------------


def _pending_remaining() -> Any:
    """What is still in clearing of each earnings leg: its amount minus what left it since."""
    taken = (
        Transfer.objects.filter(
            origin=OuterRef("pk"), debit_account__kind=AccountKind.EARNINGS_PENDING
        )
        .values("origin")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(taken, 0)


def earnings_release_due(*, now: datetime.datetime | None = None, batch_size: int = 500) -> int:
    """Move every earnings leg older than the clearing window to the available account.

    Each leg is released in its own transaction, keyed ``release:<leg id>``, for what is left
    of it after refunds, so two workers running this at once release nothing twice.
    Returns how many legs were released.
    """
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.WALLET_CLEARING_DAYS)
    released = Transfer.objects.filter(origin=OuterRef("pk"), kind=TransferKind.RELEASE)
    due = list(
        Transfer.objects.filter(
            credit_account__kind=AccountKind.EARNINGS_PENDING, created_at__lte=cutoff
        )
        .exclude(Exists(released))
        .annotate(taken=_pending_remaining())
        .filter(amount__gt=F("taken"))
        .select_related("credit_account__user")
        .order_by("pk")[:batch_size]
    )
    for leg in due:
        earnings_release(leg=leg)
    return len(due)


@transaction.atomic
def earnings_release(*, leg: Transfer) -> Transfer | None:
    """Release what is left of one earnings leg; nothing when refunds took all of it."""
    pending = leg.credit_account
    available = ledger.account_for_user(user=pending.user, kind=AccountKind.EARNINGS)
    # The ledger locks both accounts; what is left is computed under that lock, below.
    ledger._lock_accounts([pending.pk, available.pk])
    taken = (
        Transfer.objects.filter(origin=leg, debit_account=pending).aggregate(total=Sum("amount"))[
            "total"
        ]
        or 0
    )
    remaining = leg.amount - taken
    if remaining <= 0:
        return None
    return ledger.ledger_transfer(
        debit=pending,
        credit=available,
        amount=remaining,
        kind=TransferKind.RELEASE,
        idempotency_key=f"release:{leg.pk}",
        reference=leg.reference,
        origin=leg,
    )


# --- Withdrawals ------------------------------------------------------------------------------


@transaction.atomic
def payout_request(
    *, user: Any, amount: int, pix_key_type: str, pix_key: str, idempotency_key: str
) -> Payout:
    """Hold ``amount`` of the professional's available earnings for a withdrawal.

    Checks the withdrawal policy (phone verified, KYC approved) and the key; the hold locks
    the earnings account, so two requests at once can never together exceed the balance.
    Raises the policy's errors, InvalidPayoutError, InsufficientFundsError.
    """
    require(user, Action.WITHDRAW)
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidPayoutError(_("The amount must be a positive whole number of tokens."))
    if amount < settings.WALLET_PAYOUT_MIN_TOKENS:
        raise InvalidPayoutError(
            _("The smallest withdrawal is %(min)s tokens.")
            % {"min": settings.WALLET_PAYOUT_MIN_TOKENS},
            extra={"min": settings.WALLET_PAYOUT_MIN_TOKENS},
        )
    try:
        key = normalize_pix_key(pix_key_type, pix_key)
    except InvalidPixKey as exc:
        raise InvalidPayoutError(str(exc), extra={"field": "pix_key"}) from exc
    account = ledger.account_for_user(user=user, kind=AccountKind.EARNINGS)
    hold = ledger.hold_create(
        account=account,
        amount=amount,
        kind=HoldKind.PAYOUT,
        idempotency_key=f"payout:{idempotency_key}",
    )
    existing = Payout.objects.filter(hold=hold).first()
    if existing is not None:
        return existing
    payout = Payout.objects.create(
        user=user,
        amount=amount,
        amount_centavos=amount * settings.WALLET_TOKEN_VALUE_CENTAVOS,
        pix_key_type=pix_key_type,
        pix_key=key,
        hold=hold,
    )
    hold.reference = payout.reference
    hold.save(update_fields=("reference",))
    _audit(AuditAction.PAYOUT_REQUESTED, actor=user, payout=payout)
    events.payout_updated(payout)
    return payout


def _lock(payout: Payout) -> Payout:
    return Payout.objects.select_for_update().select_related("hold").get(pk=payout.pk)


def _audit(action: AuditAction, *, actor: Any, payout: Payout, **data: Any) -> None:
    from accounts.services import audit_record

    audit_record(
        action=action,
        actor=actor,
        target=payout,
        data={"amount": payout.amount, "status": payout.status, **data},
    )


@transaction.atomic
def payout_approve(*, payout: Payout, actor: Any) -> Payout:
    """Approve a requested payout and queue its sending after commit. Locks the payout."""
    from wallet import tasks

    locked = _lock(payout)
    if locked.status != PayoutStatus.REQUESTED:
        raise PayoutNotAllowedError(
            _("Only a payout waiting for approval can be approved."),
            extra={"status": locked.status},
        )
    locked.status = PayoutStatus.APPROVED
    locked.reviewed_by = actor
    locked.reviewed_at = timezone.now()
    locked.save(update_fields=("status", "reviewed_by", "reviewed_at", "updated_at"))
    _audit(AuditAction.PAYOUT_APPROVED, actor=actor, payout=locked)
    events.payout_updated(locked)
    tasks.send_payout.delay_on_commit(locked.pk)
    return locked


@transaction.atomic
def payout_reject(*, payout: Payout, actor: Any, reason: str) -> Payout:
    """Refuse a requested payout: the hold is voided and the professional told why."""
    from wallet import tasks

    reason = (reason or "").strip()
    if not reason:
        raise InvalidPayoutError(_("Say why the payout is rejected."), extra={"field": "reason"})
    locked = _lock(payout)
    if locked.status != PayoutStatus.REQUESTED:
        raise PayoutNotAllowedError(
            _("Only a payout waiting for approval can be rejected."),
            extra={"status": locked.status},
        )
    ledger.hold_void(hold=locked.hold)
    locked.status = PayoutStatus.REJECTED
    locked.rejection_reason = reason[:500]
    locked.reviewed_by = actor
    locked.reviewed_at = timezone.now()
    locked.completed_at = locked.reviewed_at
    locked.save()
    _audit(AuditAction.PAYOUT_REJECTED, actor=actor, payout=locked, reason=locked.rejection_reason)
    events.payout_updated(locked)
    tasks.send_payout_email.delay_on_commit(locked.pk)
    return locked


def payout_send(*, payout_id: int) -> Payout:
    """Send an approved payout through the PSP, then post or void its hold.

    The payout is moved to ``sending`` in a short transaction, then the PSP is called with
    none open; a retried run finds ``sending`` and calls the PSP again with the same payout
    id, which the PSP treats as the same PIX. Temporary PSP errors propagate (the task
    retries); a permanent refusal fails the payout.
    """
    from wallet.services import pix_provider

    with transaction.atomic():
        payout = Payout.objects.select_for_update().get(pk=payout_id)
        if payout.status not in (PayoutStatus.APPROVED, PayoutStatus.SENDING):
            return payout
        if payout.status == PayoutStatus.APPROVED:
            payout.status = PayoutStatus.SENDING
            payout.save(update_fields=("status", "updated_at"))
    try:
        result = pix_provider().send_pix(
            payout_id=payout.provider_id,
            amount_centavos=payout.amount_centavos,
            key=payout.pix_key,
            key_type=payout.pix_key_type,
            description=_("Atende: withdrawal %(id)s") % {"id": payout.pk},
        )
    except PixPermanentError as exc:
        return payout_complete(
            payout_id=payout_id,
            sent=False,
            provider_reference="",
            end_to_end_id="",
            failure_reason=str(exc),
        )
    return payout_complete(
        payout_id=payout_id,
        sent=result.status == ProviderPayoutStatus.SENT,
        provider_reference=result.provider_reference,
        end_to_end_id=result.end_to_end_id,
        failure_reason=result.failure_reason,
    )


@transaction.atomic
def payout_complete(
    *, payout_id: int, sent: bool, provider_reference: str, end_to_end_id: str, failure_reason: str
) -> Payout:
    """Record the PSP's answer: post the hold to payout clearing, or void it. Once."""
    from wallet import tasks

    payout = Payout.objects.select_for_update().select_related("hold").get(pk=payout_id)
    if payout.status != PayoutStatus.SENDING:
        return payout
    if sent:
        ledger.hold_post(
            hold=payout.hold,
            credits=[
                ledger.Credit(
                    account=ledger.account_for_platform(kind=AccountKind.PAYOUT_CLEARING),
                    amount=payout.amount,
                    kind=TransferKind.PAYOUT,
                    metadata={"end_to_end_id": end_to_end_id},
                )
            ],
        )
        payout.status = PayoutStatus.PAID
    else:
        ledger.hold_void(hold=payout.hold)
        payout.status = PayoutStatus.FAILED
        payout.failure_reason = (failure_reason or _("The PIX could not be sent."))[:500]
    payout.provider_reference = provider_reference[:40]
    payout.end_to_end_id = end_to_end_id[:40]
    payout.completed_at = timezone.now()
    payout.save()
    _audit(
        AuditAction.PAYOUT_PAID if sent else AuditAction.PAYOUT_FAILED,
        actor=None,
        payout=payout,
        end_to_end_id=payout.end_to_end_id,
    )
    events.payout_updated(payout)
    tasks.send_payout_email.delay_on_commit(payout.pk)
    return payout
