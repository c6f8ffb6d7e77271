"""Background jobs of the wallet. Each takes ids, calls one service and is safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task

from wallet.providers.pix import PixTemporaryError

logger = logging.getLogger(__name__)


@shared_task(name="wallet.settle_pix_payment", ignore_result=True)
def settle_pix_payment(payment_id: int) -> str:
    """Credit (or send to review) a recorded PIX payment; a settled one is left alone."""
    from wallet.services import pix_payment_settle

    return str(pix_payment_settle(payment_id=payment_id).outcome)


@shared_task(name="wallet.reconcile_pix_charges", ignore_result=True)
def reconcile_pix_charges() -> int:
    """Ask the PSP about pending charges: a lost webhook still credits; lapsed ones expire."""
    from wallet.services import pix_charges_reconcile

    return pix_charges_reconcile()


@shared_task(name="wallet.expire_holds", ignore_result=True)
def expire_holds() -> int:
    from wallet.ledger import holds_expire_due

    return holds_expire_due()


@shared_task(name="wallet.release_cleared_earnings", ignore_result=True)
def release_cleared_earnings() -> int:
    from wallet.payouts import earnings_release_due

    return earnings_release_due()


@shared_task(name="wallet.purge_idempotency_records", ignore_result=True)
def purge_idempotency_records() -> int:
    from wallet.idempotency import purge_expired

    return purge_expired()


@shared_task(name="wallet.ledger_check", ignore_result=True)
def ledger_check() -> bool:
    """The nightly ledger check; a failure is logged as an error for whoever watches logs."""
    from wallet.checks import ledger_check_run

    run = ledger_check_run()
    if not run.ok:
        logger.error("ledger check failed", extra={"problems": len(run.problems)})
    return run.ok


@shared_task(
    name="wallet.send_payout",
    ignore_result=True,
    autoretry_for=(PixTemporaryError,),
    retry_backoff=10,
    retry_backoff_max=600,
    max_retries=8,
)
def send_payout(payout_id: int) -> str:
    """Send an approved payout; retried on PSP outages with the same PSP idempotency id."""
    from wallet.payouts import payout_send

    return str(payout_send(payout_id=payout_id).status)


@shared_task(name="wallet.send_payout_email", ignore_result=True)
def send_payout_email(payout_id: int) -> str:
    """Tell the professional how their withdrawal ended, in their language."""
    from django.conf import settings
    from django.core.mail import send_mail
    from django.utils import translation
    from django.utils.translation import gettext as _

    from wallet.models import Payout, PayoutStatus

    payout = Payout.objects.select_related("user").filter(pk=payout_id).first()
    if payout is None or payout.status not in (
        PayoutStatus.PAID,
        PayoutStatus.FAILED,
        PayoutStatus.REJECTED,
    ):
        return "skipped"
    amount = f"R$ {payout.amount_centavos // 100},{payout.amount_centavos % 100:02d}"
    with translation.override(payout.user.language):
        if payout.status == PayoutStatus.PAID:
            subject = _("Your withdrawal was sent")
            body = _("%(amount)s were sent to your PIX key.") % {"amount": amount}
        elif payout.status == PayoutStatus.FAILED:
            subject = _("Your withdrawal could not be sent")
            body = _(
                "The PIX of %(amount)s could not be sent: %(reason)s\n\n"
                "The tokens are back in your available earnings."
            ) % {"amount": amount, "reason": payout.failure_reason}
        else:
            subject = _("Your withdrawal was not approved")
            body = _(
                "Your withdrawal of %(amount)s was not approved: %(reason)s\n\n"
                "The tokens are back in your available earnings."
            ) % {"amount": amount, "reason": payout.rejection_reason}
        send_mail(
            subject=subject,
            message=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[payout.user.email],
        )
    return "sent"


@shared_task(name="wallet.send_dispute_email", ignore_result=True)
def send_dispute_email(dispute_id: int) -> str:
    """Tell the client how their dispute was resolved, in their language."""
    from django.conf import settings
    from django.core.mail import send_mail
    from django.utils import translation
    from django.utils.translation import gettext as _

    from wallet.models import Dispute, DisputeStatus

    dispute = Dispute.objects.select_related("client").filter(pk=dispute_id).first()
    if dispute is None or dispute.status == DisputeStatus.OPEN:
        return "skipped"
    with translation.override(dispute.client.language):
        if dispute.status == DisputeStatus.REFUNDED:
            subject = _("Your dispute was accepted")
            body = _("%(tokens)s tokens were returned to your wallet.") % {
                "tokens": dispute.refunded_amount
            }
        else:
            subject = _("Your dispute was not accepted")
            body = _("We reviewed your dispute and did not refund the charge.")
        if dispute.resolution_note:
            body += "\n\n" + dispute.resolution_note
        send_mail(
            subject=subject,
            message=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[dispute.client.email],
        )
    return "sent"
