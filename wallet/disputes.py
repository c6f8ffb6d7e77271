"""Disputes: a client contests a charge; staff reject it or refund it in full or in part.

A refund is a set of linked reversing transfers into the client's wallet, written together:

- the platform's share (15% of the refund, plus the rounding) comes back from platform
  revenue;
- the professional's share comes back from their earnings still in clearing for that charge
  first, then from their available earnings (what is not held for a withdrawal);
- **when the professional has already withdrawn it, the difference is taken from the
  platform's ``dispute_losses`` account**: the client is refunded in full, no user account
  goes negative, and the loss is visible to staff in one place instead of as a debt hidden
  in someone's balance.

The charge's original transfers are never touched; every refund leg points at what it
reverses (``origin`` for clearing legs, ``reference`` for the rest).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import AuditAction
from core.exceptions import ApplicationError, ConflictError, NotFoundError
from wallet import events, ledger
from wallet.models import (
    AccountKind,
    Dispute,
    DisputeReason,
    DisputeStatus,
    Transfer,
    TransferKind,
)

CHARGE_KINDS = (TransferKind.CHARGE, TransferKind.QUEUE_FEE)


class DisputeWindowClosedError(ApplicationError):
    code = "wallet.dispute_window_closed"


class DisputeNotOpenError(ApplicationError):
    code = "wallet.dispute_not_open"
    status_code = 409


class InvalidRefundError(ApplicationError):
    code = "wallet.invalid_refund"


def _charges(*, client: Any, reference: str) -> Any:
    wallet = ledger.account_for_user(user=client, kind=AccountKind.CLIENT_WALLET)
    return Transfer.objects.filter(debit_account=wallet, kind__in=CHARGE_KINDS, reference=reference)


def _audit(action: AuditAction, *, actor: Any, dispute: Dispute, **data: Any) -> None:
    from accounts.services import audit_record

    audit_record(
        action=action,
        actor=actor,
        target=dispute,
        data={"reference": dispute.reference, "status": dispute.status, **data},
    )


@transaction.atomic
def dispute_open(*, client: Any, reference: str, reason: str, description: str = "") -> Dispute:
    """Open a dispute on the client's charge ``reference`` within the dispute window.

    Raises NotFoundError (``wallet.charge_not_found``) when the client has no such charge,
    DisputeWindowClosedError, ConflictError (``wallet.dispute_exists``) for a second dispute.
    """
    if reason not in DisputeReason.values:
        raise ApplicationError(_("Choose a reason."), code="wallet.invalid_reason")
    totals = _charges(client=client, reference=reference).aggregate(
        total=Sum("amount"), last=Max("created_at")
    )
    if not totals["total"]:
        raise NotFoundError(_("No such charge."), code="wallet.charge_not_found")
    window = datetime.timedelta(days=settings.WALLET_DISPUTE_WINDOW_DAYS)
    if timezone.now() > totals["last"] + window:
        raise DisputeWindowClosedError(
            _("Charges can be disputed for %(days)s days.")
            % {"days": settings.WALLET_DISPUTE_WINDOW_DAYS}
        )
    try:
        with transaction.atomic():
            dispute = Dispute.objects.create(
                client=client,
                reference=reference,
                reason=reason,
                description=description.strip(),
                charged_amount=totals["total"],
            )
    except IntegrityError as exc:
        raise ConflictError(
            _("This charge is already disputed."), code="wallet.dispute_exists"
        ) from exc
    _audit(AuditAction.DISPUTE_OPENED, actor=client, dispute=dispute, reason=reason)
    events.dispute_updated(dispute)
    return dispute


def _lock(dispute: Dispute) -> Dispute:
    locked = Dispute.objects.select_for_update().select_related("client").get(pk=dispute.pk)
    if locked.status != DisputeStatus.OPEN:
        raise DisputeNotOpenError(
            _("This dispute was already resolved."), extra={"status": locked.status}
        )
    return locked


@transaction.atomic
def dispute_reject(*, dispute: Dispute, actor: Any, note: str) -> Dispute:
    """Close a dispute without a refund. Locks the dispute; audited; the client is told."""
    from wallet import tasks

    locked = _lock(dispute)
    locked.status = DisputeStatus.REJECTED
    locked.resolution_note = (note or "").strip()[:500]
    locked.resolved_by = actor
    locked.resolved_at = timezone.now()
    locked.save()
    _audit(AuditAction.DISPUTE_REJECTED, actor=actor, dispute=locked, note=locked.resolution_note)
    events.dispute_updated(locked)
    tasks.send_dispute_email.delay_on_commit(locked.pk)
    return locked


@transaction.atomic
def dispute_refund(
    *, dispute: Dispute, actor: Any, amount: int | None = None, note: str = ""
) -> Dispute:
    """Refund ``amount`` (all of the charge when None) to the client with reversing transfers.

    Locks the dispute, then every account involved (through the ledger, in primary-key
    order). Raises DisputeNotOpenError, InvalidRefundError. The module docstring says where
    each part of the money comes from.
    """
    from wallet import tasks

    locked = _lock(dispute)
    amount = locked.charged_amount if amount is None else amount
    if (
        isinstance(amount, bool)
        or not isinstance(amount, int)
        or not 0 < amount <= locked.charged_amount
    ):
        raise InvalidRefundError(
            _("Refund between 1 and %(max)s tokens.") % {"max": locked.charged_amount},
            extra={"max": locked.charged_amount},
        )
    legs = _refund_legs(dispute=locked, amount=amount)
    ledger.ledger_transfer_linked(
        legs=legs, idempotency_key=f"dispute:{locked.pk}:refund", reference=f"dispute:{locked.pk}"
    )
    locked.status = DisputeStatus.REFUNDED
    locked.refunded_amount = amount
    locked.resolution_note = (note or "").strip()[:500]
    locked.resolved_by = actor
    locked.resolved_at = timezone.now()
    locked.save()
    _audit(
        AuditAction.DISPUTE_REFUNDED,
        actor=actor,
        dispute=locked,
        amount=amount,
        from_losses=sum(leg.amount for leg in legs if leg.debit.kind == AccountKind.DISPUTE_LOSSES),
    )
    events.dispute_updated(locked)
    tasks.send_dispute_email.delay_on_commit(locked.pk)
    return locked


def _refund_legs(*, dispute: Dispute, amount: int) -> list[ledger.Leg]:
    client = dispute.client
    charges = list(
        _charges(client=client, reference=dispute.reference).select_related("credit_account")
    )
    professional_legs = [
        t for t in charges if t.credit_account.kind == AccountKind.EARNINGS_PENDING
    ]
    charged = sum(t.amount for t in charges)
    professional_charged = sum(t.amount for t in professional_legs)
    # The same proportion as the charge; the platform takes the rounding, as when charging.
    professional_part = amount * professional_charged // charged
    platform_part = amount - professional_part

    wallet = ledger.account_for_user(user=client, kind=AccountKind.CLIENT_WALLET)
    revenue = ledger.account_for_platform(kind=AccountKind.PLATFORM_REVENUE)
    losses = ledger.account_for_platform(kind=AccountKind.DISPUTE_LOSSES)
    metadata = {"dispute": dispute.pk, "charge": dispute.reference}
    legs: list[ledger.Leg] = []
    if platform_part:
        legs.append(
            ledger.Leg(revenue, wallet, platform_part, TransferKind.REFUND, metadata=metadata)
        )
    if not professional_part:
        return legs

    professional = professional_legs[0].credit_account.user
    available = ledger.account_for_user(user=professional, kind=AccountKind.EARNINGS)
    # Lock first, then read what is left: the figures below must not move under us.
    # Fixed: every account the refund may touch is locked here, at once, in primary-key
    # order. Locking only the professional's here and the client's wallet and the platform's
    # accounts later (in the ledger) took them out of order, and deadlocked against a charge
    # of the same client locking its wallet first.
    locked = ledger._lock_accounts(
        [leg.credit_account_id for leg in professional_legs]
        + [available.pk, wallet.pk, revenue.pk, losses.pk]
    )
    left = professional_part
    for leg in sorted(professional_legs, key=lambda t: t.pk, reverse=True):
        if not left:
            break
        gone = (
            Transfer.objects.filter(origin=leg, debit_account_id=leg.credit_account_id).aggregate(
                total=Sum("amount")
            )["total"]
            or 0
        )
        take = min(left, leg.amount - gone)
        if take > 0:
            legs.append(
                ledger.Leg(
                    leg.credit_account,
                    wallet,
                    take,
                    TransferKind.REFUND,
                    origin=leg,
                    metadata=metadata,
                )
            )
            left -= take
    spendable = locked[available.pk].balance - locked[available.pk].held
    take = min(left, max(spendable, 0))
    if take:
        legs.append(ledger.Leg(available, wallet, take, TransferKind.REFUND, metadata=metadata))
        left -= take
    if left:
        legs.append(
            ledger.Leg(
                losses,
                wallet,
                left,
                TransferKind.REFUND,
                metadata={**metadata, "shortfall_of": professional.pk},
            )
        )
    return legs
