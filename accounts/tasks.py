"""Background jobs of the accounts app."""

from __future__ import annotations

import logging

from celery import shared_task
from django.contrib.sessions.models import Session
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.models import VerificationCode
from accounts.providers.sms import SmsTemporaryError

logger = logging.getLogger(__name__)


@shared_task(name="accounts.purge_expired_credentials", ignore_result=True)
def purge_expired_credentials() -> dict[str, int]:
    """Delete expired sessions and expired refresh tokens (with their blacklist rows).

    Idempotent: a second run finds nothing left to delete. An expired refresh token is
    refused on its own expiry, so its blacklist row has nothing left to guard.
    """
    now = timezone.now()
    sessions, _ = Session.objects.filter(expire_date__lt=now).delete()
    tokens = OutstandingToken.objects.filter(expires_at__lt=now)
    token_count = tokens.count()
    tokens.delete()
    result = {"sessions": sessions, "refresh_tokens": token_count}
    logger.info("purged expired credentials", extra=result)
    return result


@shared_task(
    name="accounts.deliver_verification_code",
    ignore_result=True,
    autoretry_for=(SmsTemporaryError,),
    retry_backoff=5,
    retry_backoff_max=120,
    max_retries=4,
)
def deliver_verification_code(code_id: int, plain_code: str) -> str:
    """Send a verification code by email or SMS, unless it is no longer worth sending.

    Idempotent enough to retry: a code already used, replaced or expired is skipped, and SMS
    carry the code id as the provider's idempotency key. The plain code must match the
    stored hash, so a forged task cannot send arbitrary text.
    """
    from accounts.verification import code_matches, send_code_message

    code = VerificationCode.objects.select_related("user").filter(pk=code_id).first()
    if code is None or code.consumed_at or code.superseded_at or code.expires_at <= timezone.now():
        return "skipped"
    if not code_matches(code, plain_code):
        logger.warning("verification code task with a mismatching code", extra={"code_id": code_id})
        return "mismatch"
    send_code_message(code=code, plain_code=plain_code)
    return "sent"


@shared_task(name="accounts.process_email_event", ignore_result=True)
def process_email_event(webhook_id: int) -> str:
    """Apply a recorded bounce/drop to the account it concerns. Idempotent."""
    from accounts.services import user_mark_email_undeliverable
    from core.models import InboundWebhook

    record = InboundWebhook.objects.filter(pk=webhook_id).first()
    if record is None:
        return "missing"
    detail = record.payload.get("detail") or record.payload.get("reason", "")
    user = user_mark_email_undeliverable(email=record.payload["email"], reason=str(detail))
    return "marked" if user is not None else "no_account"


@shared_task(name="accounts.send_invitation_email", ignore_result=True)
def send_invitation_email(invitation_id: int, token: str) -> str:
    """Email the invitation link, unless the invitation was closed meanwhile."""
    from django.conf import settings
    from django.core.mail import send_mail
    from django.utils import translation
    from django.utils.translation import gettext as _

    from accounts.models import Invitation
    from accounts.services import invitation_status, invitation_token_hash

    invitation = (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None or invitation_status(invitation) != "pending":
        return "skipped"
    if invitation.token_hash != invitation_token_hash(token):
        return "mismatch"
    link = f"{settings.SITE_URL}/invitations/{token}"
    inviter = invitation.invited_by
    with translation.override(inviter.language):
        send_mail(
            subject=_("%(name)s invited you to %(organization)s on Atende")
            % {"name": inviter.get_full_name(), "organization": invitation.organization.name},
            message=_(
                "%(name)s invited you to join %(organization)s on Atende.\n\n"
                "Open this link to accept (it works once, for 7 days):\n%(link)s\n\n"
                "If you did not expect this, ignore this message."
            )
            % {
                "name": inviter.get_full_name(),
                "organization": invitation.organization.name,
                "link": link,
            },
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[invitation.email],
        )
    return "sent"


@shared_task(name="accounts.send_kyc_decision_email", ignore_result=True)
def send_kyc_decision_email(submission_id: int) -> str:
    """Tell the professional the outcome of their KYC review, in their language."""
    from django.conf import settings
    from django.core.mail import send_mail
    from django.utils import translation
    from django.utils.translation import gettext as _

    from accounts.models import KycStatus, KycSubmission

    submission = KycSubmission.objects.select_related("user").filter(pk=submission_id).first()
    if submission is None or submission.status == KycStatus.PENDING:
        return "skipped"
    user = submission.user
    with translation.override(user.language):
        if submission.status == KycStatus.APPROVED:
            subject = _("Your identity is verified")
            body = _("Your documents were approved. You can now withdraw your earnings.")
        else:
            subject = _("Your documents need another look")
            body = _(
                "Your documents were not approved: %(reason)s\n\n"
                "You can send them again from your account."
            ) % {"reason": submission.rejection_reason}
        send_mail(
            subject=subject,
            message=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[user.email],
        )
    return "sent"
