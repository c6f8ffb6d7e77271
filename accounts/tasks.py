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
