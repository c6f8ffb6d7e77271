"""Listeners that write the audit trail and start verification after allauth's events.

Connected in AccountsConfig.ready(). Each one calls a service; none holds rules of its own.
"""

from __future__ import annotations

import logging
from typing import Any

from allauth.account.signals import password_changed, password_reset, user_signed_up
from anymail.signals import EventType, tracking
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts import services, verification
from accounts.audit import AuditAction
from accounts.models import User, VerificationChannel
from core.exceptions import ApplicationError

logger = logging.getLogger(__name__)


@receiver(user_signed_up, dispatch_uid="accounts.signed_up")
def on_signed_up(sender: Any, request: Any, user: User, **kwargs: Any) -> None:
    services.audit_record(action=AuditAction.SIGN_UP, actor=user, target=user)
    # Both codes go out right away: the sign-up screen leads straight to entering them.
    for channel in (VerificationChannel.EMAIL, VerificationChannel.PHONE):
        try:
            verification.verification_start(user=user, channel=channel)
        except ApplicationError as exc:
            logger.info("no code sent at sign-up", extra={"channel": channel, "code": exc.code})


@receiver(user_logged_in, dispatch_uid="accounts.logged_in")
def on_logged_in(sender: Any, request: Any, user: User, **kwargs: Any) -> None:
    services.audit_record(action=AuditAction.SIGN_IN, actor=user, target=user)


@receiver(user_login_failed, dispatch_uid="accounts.login_failed")
def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    # Django has already masked the password; only the identifier is kept.
    email = str(credentials.get("email") or credentials.get("username") or "").lower()[:254]
    user = User.objects.filter(email=email).first() if email else None
    services.audit_record(
        action=AuditAction.SIGN_IN_FAILED, actor=None, target=user, data={"email": email}
    )


@receiver(user_logged_out, dispatch_uid="accounts.logged_out")
def on_logged_out(sender: Any, request: Any, user: User | None, **kwargs: Any) -> None:
    if user is not None:
        services.audit_record(action=AuditAction.SIGN_OUT, actor=user, target=user)


@receiver(password_changed, dispatch_uid="accounts.password_changed")
def on_password_changed(sender: Any, request: Any, user: User, **kwargs: Any) -> None:
    services.audit_record(action=AuditAction.PASSWORD_CHANGED, actor=user, target=user)


@receiver(password_reset, dispatch_uid="accounts.password_reset")
def on_password_reset(sender: Any, request: Any, user: User, **kwargs: Any) -> None:
    services.audit_record(action=AuditAction.PASSWORD_RESET, actor=user, target=user)


# Events after which mail to the address will not arrive: hard bounces and provider drops.
UNDELIVERABLE_EVENTS = frozenset({EventType.BOUNCED, EventType.REJECTED})


@receiver(tracking, dispatch_uid="accounts.email_tracking")
def on_email_tracking(sender: Any, event: Any, esp_name: str, **kwargs: Any) -> None:
    if event.event_type not in UNDELIVERABLE_EVENTS or not event.recipient:
        return
    services.email_event_receive(
        provider=esp_name.lower(),
        event_id=event.event_id or "",
        email=event.recipient,
        reason=str(event.reject_reason or event.event_type),
        detail=str(event.mta_response or "")[:200],
        payload=event.esp_event if isinstance(event.esp_event, dict) else {},
    )
