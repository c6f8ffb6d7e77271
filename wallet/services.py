"""Buying tokens with PIX: charges, the webhook, reconciliation, and what staff resolve.

The path of a top-up::

    topup_create          charge row committed, then PUT /v2/cob at the PSP (outside any
                          transaction), then the BR Code saved: status pending
    pix_webhook_process   the PSP's callback: each PIX recorded once by its endToEndId
    pix_payment_settle    (a task) the tokens credited once, keyed pix:<endToEndId>
    pix_charges_reconcile (periodic) asks the PSP about pending charges, so a lost webhook
                          still credits, and marks charges that expired unpaid

A webhook, the reconciliation and the sandbox's simulated payment all feed
``pix_payments_record``, so a payment is handled the same way however it was learned of, and
learning of it twice (webhook and reconciliation, or a webhook delivered again) changes
nothing. A PIX of another amount than charged, or a second PIX into a paid charge, is kept for
staff (``review``) and never credited on its own.
"""

from __future__ import annotations

import datetime
import logging
import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.policies import Action, require
from core.exceptions import ApplicationError, NotFoundError
from core.providers import load_provider
from wallet import events, ledger
from wallet.models import (
    AccountKind,
    PixCharge,
    PixChargeStatus,
    PixPayment,
    PixPaymentOutcome,
    PixPaymentSource,
    TokenPackage,
    TransferKind,
)
from wallet.providers.pix import (
    ChargeStatus,
    PixError,
    PixPermanentError,
    PixProvider,
    PixReceived,
)
from wallet.providers.pix_payload import parse_webhook_payload

logger = logging.getLogger(__name__)

_TXID_ALPHABET = string.ascii_letters + string.digits


class PixUnavailableError(ApplicationError):
    code = "wallet.pix_unavailable"
    status_code = 503


class UnknownPackageError(ApplicationError):
    code = "wallet.unknown_package"


class InvalidTokenAmountError(ApplicationError):
    code = "wallet.invalid_amount"


class InvalidWebhookError(ApplicationError):
    code = "wallet.invalid_webhook"


class UnknownTxidError(ApplicationError):
    code = "wallet.pix_unknown_txid"
    status_code = 422


def pix_provider() -> PixProvider:
    provider: PixProvider = load_provider("wallet.pix")
    return provider


def new_txid() -> str:
    # The API Pix accepts 26 to 35 letters and digits; 32 random ones are unguessable.
    return "".join(secrets.choice(_TXID_ALPHABET) for _ in range(32))


# --- Creating a charge ------------------------------------------------------------------------


def topup_price(
    *, package_id: int | None, tokens: int | None
) -> tuple[TokenPackage | None, int, int]:
    """(package, tokens, price in centavos) for a package or a custom amount; raises if invalid."""
    if (package_id is None) == (tokens is None):
        raise InvalidTokenAmountError(_("Choose a package or a number of tokens."))
    if package_id is not None:
        package = TokenPackage.objects.filter(pk=package_id, active=True).first()
        if package is None:
            raise UnknownPackageError(_("This package is not on sale."))
        return package, package.tokens, package.price_centavos
    assert tokens is not None
    low, high = settings.WALLET_CUSTOM_TOKENS_MIN, settings.WALLET_CUSTOM_TOKENS_MAX
    if isinstance(tokens, bool) or not low <= tokens <= high:
        raise InvalidTokenAmountError(
            _("Buy between %(low)s and %(high)s tokens.") % {"low": low, "high": high},
            extra={"min": low, "max": high},
        )
    return None, tokens, tokens * settings.WALLET_TOKEN_VALUE_CENTAVOS


def topup_create(
    *, user: Any, package_id: int | None = None, tokens: int | None = None
) -> PixCharge:
    """Create a PIX charge for a package or a custom number of tokens.

    The charge row is committed first (``creating``), then the PSP is called with no
    transaction open, then the BR Code is saved (``pending``). When the PSP fails the charge
    is marked ``failed`` and PixUnavailableError (503) is raised. Raises the verification policy's
    errors (email and phone verified), UnknownPackageError, InvalidTokenAmountError.
    """
    require(user, Action.BUY_TOKENS)
    package, count, price = topup_price(package_id=package_id, tokens=tokens)
    provider = pix_provider()
    expires_in = settings.WALLET_PIX_CHARGE_EXPIRES_SECONDS
    charge = PixCharge.objects.create(
        user=user,
        txid=new_txid(),
        package=package,
        tokens=count,
        amount_centavos=price,
        provider=provider.name,
        expires_at=timezone.now() + datetime.timedelta(seconds=expires_in),
    )
    try:
        created = provider.create_charge(
            txid=charge.txid,
            amount_centavos=price,
            expires_in=expires_in,
            description=_("Atende: %(tokens)s tokens") % {"tokens": count},
        )
    except PixError as exc:
        logger.warning("pix charge creation failed", extra={"txid": charge.txid, "code": exc.code})
        PixCharge.objects.filter(pk=charge.pk).update(status=PixChargeStatus.FAILED)
        raise PixUnavailableError(
            _("PIX is unavailable right now. Nothing was charged; try again in a moment.")
        ) from exc
    charge.br_code = created.br_code
    charge.location = created.location
    # Our clock, not the PSP's "criacao": a skewed PSP clock must not expire a charge early.
    charge.expires_at = charge.created_at + datetime.timedelta(seconds=created.expires_in)
    charge.status = PixChargeStatus.PENDING
    charge.save(update_fields=("br_code", "location", "expires_at", "status", "updated_at"))
    return charge


# --- Receiving payments -----------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookResult:
    recorded: int
    duplicates: int
    unknown_txids: tuple[str, ...]


def pix_webhook_process(*, body: Any, source: str = PixPaymentSource.WEBHOOK) -> WebhookResult:
    """Handle the PSP's callback body ``{"pix": [...]}`` (also the sandbox's simulation).

    Raises InvalidWebhookError for a malformed body (nothing recorded) and UnknownTxidError after
    recording the known payments when some txid is not one of our charges.
    """
    try:
        received = parse_webhook_payload(body)
    except ValueError as exc:
        raise InvalidWebhookError(str(exc)) from exc
    return pix_payments_record(received=received, source=source)


def pix_payments_record(*, received: Sequence[PixReceived], source: str) -> WebhookResult:
    """Record each payment once (unique endToEndId) and settle it after commit.

    A payment for a txid we never issued is not recorded: it is logged and reported back.
    """
    from wallet import tasks

    recorded = duplicates = 0
    unknown: list[str] = []
    for pix in received:
        charge = PixCharge.objects.filter(txid=pix.txid).first() if pix.txid else None
        if charge is None:
            logger.warning("pix for an unknown txid", extra={"txid": pix.txid})
            unknown.append(pix.txid)
            continue
        try:
            with transaction.atomic():
                payment = PixPayment.objects.create(
                    end_to_end_id=pix.end_to_end_id,
                    charge=charge,
                    amount_centavos=pix.amount_centavos,
                    paid_at=pix.paid_at,
                    source=source,
                    raw=pix.raw,
                )
                tasks.settle_pix_payment.delay_on_commit(payment.pk)
        except IntegrityError:
            duplicates += 1
            continue
        recorded += 1
    result = WebhookResult(recorded=recorded, duplicates=duplicates, unknown_txids=tuple(unknown))
    if unknown:
        raise UnknownTxidError(
            _("Some payments are for charges we do not know."),
            extra={
                "unknown_txids": list(unknown),
                "recorded": recorded,
                "duplicates": duplicates,
            },
        )
    return result


@transaction.atomic
def pix_payment_settle(*, payment_id: int) -> PixPayment:
    """Credit a recorded payment's tokens once, or keep it for staff.

    Locks the payment, then its charge, then (through the ledger) the accounts. Credits when
    the amount is the charged one and the charge has not been paid yet (even when it was
    marked expired: the money arrived, so the tokens are owed). Otherwise the payment and
    the charge go to ``review``. A payment already settled is left as it is.
    """
    payment = PixPayment.objects.select_for_update().get(pk=payment_id)
    if payment.outcome != PixPaymentOutcome.RECEIVED:
        return payment
    charge = PixCharge.objects.select_for_update().get(pk=payment.charge_id)
    if (
        charge.status == PixChargeStatus.PAID
        or charge.payments.filter(
            outcome__in=(PixPaymentOutcome.CREDITED, PixPaymentOutcome.CREDITED_BY_STAFF)
        ).exists()
    ):
        return _to_review(payment, charge, "paid_twice", keep_charge_status=True)
    if payment.amount_centavos != charge.amount_centavos:
        return _to_review(payment, charge, "amount_mismatch")
    _credit(payment, charge)
    payment.outcome = PixPaymentOutcome.CREDITED
    payment.save(update_fields=("outcome", "transfer"))
    return payment


def _credit(payment: PixPayment, charge: PixCharge) -> None:
    transfer = ledger.ledger_transfer(
        debit=ledger.account_for_platform(kind=AccountKind.PIX_CLEARING),
        credit=ledger.account_for_user(user=charge.user, kind=AccountKind.CLIENT_WALLET),
        amount=charge.tokens,
        kind=TransferKind.TOP_UP,
        idempotency_key=f"pix:{payment.end_to_end_id}",
        reference=charge.reference,
        metadata={"txid": charge.txid, "end_to_end_id": payment.end_to_end_id},
    )
    payment.transfer = transfer
    charge.status = PixChargeStatus.PAID
    charge.paid_at = payment.paid_at
    charge.review_reason = ""
    charge.save(update_fields=("status", "paid_at", "review_reason", "updated_at"))
    events.pix_charge_updated(charge)


def _to_review(
    payment: PixPayment, charge: PixCharge, reason: str, *, keep_charge_status: bool = False
) -> PixPayment:
    logger.warning(
        "pix payment needs review",
        extra={"txid": charge.txid, "end_to_end_id": payment.end_to_end_id, "reason": reason},
    )
    payment.outcome = PixPaymentOutcome.REVIEW
    payment.review_reason = reason
    payment.save(update_fields=("outcome", "review_reason"))
    if not keep_charge_status:
        charge.status = PixChargeStatus.REVIEW
        charge.review_reason = reason
        charge.save(update_fields=("status", "review_reason", "updated_at"))
        events.pix_charge_updated(charge)
    return payment


class NotUnderReviewError(ApplicationError):
    code = "wallet.payment_not_under_review"
    status_code = 409


@transaction.atomic
def pix_payment_resolve(*, payment: PixPayment, actor: Any, credit: bool) -> PixPayment:
    """Staff decide a payment under review: credit the charge's tokens, or dismiss it (the
    money is returned outside the platform). Locks the payment and the charge; audited.
    """
    from accounts.audit import AuditAction
    from accounts.services import audit_record

    locked = PixPayment.objects.select_for_update().get(pk=payment.pk)
    if locked.outcome != PixPaymentOutcome.REVIEW:
        raise NotUnderReviewError(_("This payment is not waiting for a decision."))
    charge = PixCharge.objects.select_for_update().get(pk=locked.charge_id)
    if credit:
        _credit(locked, charge)
        locked.outcome = PixPaymentOutcome.CREDITED_BY_STAFF
    else:
        locked.outcome = PixPaymentOutcome.DISMISSED
        if charge.status == PixChargeStatus.REVIEW:
            charge.status = PixChargeStatus.EXPIRED
            charge.save(update_fields=("status", "updated_at"))
            events.pix_charge_updated(charge)
    locked.resolved_by = actor
    locked.save(update_fields=("outcome", "transfer", "resolved_by"))
    audit_record(
        action=AuditAction.PIX_PAYMENT_RESOLVED,
        actor=actor,
        target=locked,
        data={"credit": credit, "txid": charge.txid, "reason": locked.review_reason},
    )
    return locked


# --- Reconciliation ---------------------------------------------------------------------------

# A charge younger than this is left to its webhook; asking the PSP at once is wasted effort.
RECONCILE_AFTER = datetime.timedelta(seconds=30)
# How long after its expiry a charge is still asked about (a PIX settles in seconds; a PSP
# outage is the case this covers).
RECONCILE_UNTIL = datetime.timedelta(days=1)


def pix_charges_reconcile(*, now: datetime.datetime | None = None, batch_size: int = 100) -> int:
    """Ask the PSP about pending charges: record what was paid, expire what lapsed unpaid.

    Each charge is read from the PSP with no transaction open; what it reports goes through
    ``pix_payments_record`` (idempotent). Returns how many charges were checked.
    """
    now = now or timezone.now()
    charges = list(
        PixCharge.objects.filter(
            status=PixChargeStatus.PENDING,
            created_at__lte=now - RECONCILE_AFTER,
            expires_at__gte=now - RECONCILE_UNTIL,
        ).order_by("last_checked_at", "created_at")[:batch_size]
    )
    provider = pix_provider()
    for charge in charges:
        PixCharge.objects.filter(pk=charge.pk).update(last_checked_at=now)
        try:
            remote = provider.get_charge(charge.txid)
        except PixPermanentError as exc:
            # The PSP does not know the charge (any more): unpaid as far as it can tell.
            logger.warning(
                "psp does not know the charge", extra={"txid": charge.txid, "code": exc.code}
            )
            if charge.expires_at <= now:
                pix_charge_expire(charge_id=charge.pk)
            continue
        except PixError as exc:
            logger.warning(
                "pix reconciliation failed", extra={"txid": charge.txid, "code": exc.code}
            )
            continue
        if remote.payments:
            try:
                pix_payments_record(
                    received=remote.payments, source=PixPaymentSource.RECONCILIATION
                )
            except UnknownTxidError:
                logger.warning("psp reported payments of another txid", extra={"txid": charge.txid})
        elif remote.status != ChargeStatus.ACTIVE or charge.expires_at <= now:
            pix_charge_expire(charge_id=charge.pk)
    # Pending charges past the window were never paid, as far as anyone can tell.
    for charge_id in PixCharge.objects.filter(
        status=PixChargeStatus.PENDING, expires_at__lt=now - RECONCILE_UNTIL
    ).values_list("pk", flat=True)[:batch_size]:
        pix_charge_expire(charge_id=charge_id)
    return len(charges)


@transaction.atomic
def pix_charge_expire(*, charge_id: int) -> PixCharge:
    """Mark a pending charge expired (a payment arriving later still credits it)."""
    charge = PixCharge.objects.select_for_update().get(pk=charge_id)
    if charge.status == PixChargeStatus.PENDING:
        charge.status = PixChargeStatus.EXPIRED
        charge.save(update_fields=("status", "updated_at"))
        events.pix_charge_updated(charge)
    return charge


# --- Sandbox ---------------------------------------------------------------------------------


class SimulationUnavailableError(NotFoundError):
    pass


def simulation_enabled() -> bool:
    from wallet.providers.sandbox import SandboxPix

    return bool(settings.PIX_SANDBOX_SIMULATION) and isinstance(pix_provider(), SandboxPix)


def pix_simulated_webhook_body(
    *, charge: PixCharge, amount_centavos: int | None = None
) -> dict[str, Any]:
    """The body a PSP posts for a payment of ``charge``, as the sandbox simulates it.

    The endToEndId has the documented shape: ``E``, the payer's ISPB (8 digits), the date and
    time (``yyyyMMddHHmm``) and 11 random letters and digits.
    """
    now = timezone.now()
    amount = charge.amount_centavos if amount_centavos is None else amount_centavos
    suffix = "".join(secrets.choice(_TXID_ALPHABET) for _ in range(11))
    return {
        "pix": [
            {
                "endToEndId": f"E00000000{now:%Y%m%d%H%M}{suffix}",
                "txid": charge.txid,
                "valor": f"{amount // 100}.{amount % 100:02d}",
                "horario": now.isoformat(),
                "infoPagador": "sandbox",
            }
        ]
    }


def pix_charge_simulate_payment(
    *, charge: PixCharge, amount_centavos: int | None = None
) -> WebhookResult:
    """Sandbox only: pay ``charge`` through the same path as the PSP's webhook."""
    if not simulation_enabled():
        raise SimulationUnavailableError()
    body = pix_simulated_webhook_body(charge=charge, amount_centavos=amount_centavos)
    return pix_webhook_process(body=body, source=PixPaymentSource.SIMULATION)
