"""Background jobs of the accounts app."""

from __future__ import annotations

import logging

from celery import shared_task
from django.contrib.sessions.models import Session
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

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
