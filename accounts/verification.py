"""Verifying email addresses and phone numbers with one-time codes.

A code is six digits, lives ten minutes, may be tried five times, and is stored only as a
keyed hash (HMAC with the secret key): a database leak does not reveal live codes. Asking
for a new code replaces the previous one. Sending is rate-limited per user and channel. A
contact is written to the user only when a code sent to it is confirmed, so "changing the
email or phone" and "verifying it" are the same flow.

The plain code exists only in memory and in the delivery task's arguments (masked with
``argsrepr`` so it never shows in Celery's logs or monitoring).
"""

from __future__ import annotations

import math
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from rest_framework import status

from accounts.audit import AuditAction
from accounts.models import User, VerificationChannel, VerificationCode
from accounts.services import audit_record
from core.exceptions import ApplicationError, ConflictError

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 5
RESEND_COOLDOWN = timedelta(seconds=60)
MAX_CODES_PER_HOUR = 5


def _hash(code_row_user_id: int, channel: str, target: str, plain_code: str) -> str:
    value = f"{code_row_user_id}:{channel}:{target}:{plain_code}"
    return salted_hmac("accounts.verification", value, algorithm="sha256").hexdigest()


def _current_target(user: User, channel: str) -> str:
    if channel == VerificationChannel.EMAIL:
        return user.email
    return str(user.phone) if user.phone else ""


def _is_verified(user: User, channel: str) -> bool:
    return user.email_verified if channel == VerificationChannel.EMAIL else user.phone_verified


def _check_target_free(user: User, channel: str, target: str) -> None:
    """A contact verified by someone else cannot be claimed (emails: not used at all)."""
    if channel == VerificationChannel.EMAIL:
        if User.objects.filter(email=target).exclude(pk=user.pk).exists():
            raise ConflictError(
                _("This email address is already in use."), code="accounts.email_taken"
            )
    elif (
        User.objects.filter(phone=target, phone_verified_at__isnull=False)
        .exclude(pk=user.pk)
        .exists()
    ):
        raise ConflictError(_("This phone number is already in use."), code="accounts.phone_taken")


def _too_many(message: str, code: str, wait: timedelta) -> ApplicationError:
    return ApplicationError(
        message,
        code=code,
        status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        extra={"wait": max(0, math.ceil(wait.total_seconds()))},
    )


@transaction.atomic
def verification_start(*, user: User, channel: str, target: str | None = None) -> VerificationCode:
    """Create a code for ``target`` (default: the current contact) and queue its delivery.

    Locks the user row so two requests cannot both pass the rate limits. Raises
    ``accounts.already_verified`` (409), ``accounts.phone_missing`` (400),
    ``accounts.email_taken``/``accounts.phone_taken`` (409), ``accounts.code_cooldown`` and
    ``accounts.too_many_codes`` (429, ``extra.wait`` in seconds).
    """
    locked = User.objects.select_for_update().get(pk=user.pk)
    target = (target or _current_target(locked, channel)).strip()
    if channel == VerificationChannel.EMAIL:
        target = target.lower()
    if not target:
        raise ApplicationError(_("Add a phone number first."), code="accounts.phone_missing")
    if target == _current_target(locked, channel) and _is_verified(locked, channel):
        raise ConflictError(
            _("This contact is already verified."), code="accounts.already_verified"
        )
    _check_target_free(locked, channel, target)

    now = timezone.now()
    recent = VerificationCode.objects.filter(
        user=locked, channel=channel, created_at__gte=now - timedelta(hours=1)
    ).order_by("-created_at")
    latest = recent.first()
    # A confirmed code does not hold the next one back: right after verifying an address a
    # person may well want to change it. The hourly cap still counts every code.
    if (
        latest is not None
        and latest.consumed_at is None
        and now - latest.created_at < RESEND_COOLDOWN
    ):
        raise _too_many(
            _("Wait a moment before asking for another code."),
            "accounts.code_cooldown",
            RESEND_COOLDOWN - (now - latest.created_at),
        )
    if recent.count() >= MAX_CODES_PER_HOUR:
        oldest = list(recent)[MAX_CODES_PER_HOUR - 1]
        raise _too_many(
            _("Too many codes were sent. Try again later."),
            "accounts.too_many_codes",
            oldest.created_at + timedelta(hours=1) - now,
        )

    VerificationCode.objects.filter(
        user=locked, channel=channel, consumed_at__isnull=True, superseded_at__isnull=True
    ).update(superseded_at=now)
    plain_code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    code = VerificationCode.objects.create(
        user=locked,
        channel=channel,
        target=target,
        code_hash=_hash(locked.pk, channel, target, plain_code),
        expires_at=now + CODE_TTL,
    )

    from accounts.tasks import deliver_verification_code

    # After commit, and with the code masked in Celery's logs and events.
    # robust: a failed hand-off is logged and never turns the committed request into a 500.
    transaction.on_commit(
        lambda: deliver_verification_code.apply_async(
            args=(code.pk, plain_code), argsrepr=f"({code.pk}, '******')"
        ),
        robust=True,
    )
    return code


def code_matches(code: VerificationCode, plain_code: str) -> bool:
    expected = _hash(code.user_id, code.channel, code.target, plain_code.strip())
    return constant_time_compare(expected, code.code_hash)


def verification_confirm(*, user: User, channel: str, plain_code: str) -> User:
    """Confirm the pending code; on success write the contact as verified.

    A wrong code still counts: the attempt is committed before the error is raised, so
    retrying never resets the counter. Raises ``accounts.no_code_pending`` (400),
    ``accounts.code_expired`` (400), ``accounts.code_attempts_exceeded`` (429),
    ``accounts.code_invalid`` (400, ``extra.attempts_left``) and the "taken" conflicts.
    """
    with transaction.atomic():
        code = (
            VerificationCode.objects.select_for_update()
            .filter(
                user=user, channel=channel, consumed_at__isnull=True, superseded_at__isnull=True
            )
            .order_by("-created_at")
            .first()
        )
        if code is None:
            raise ApplicationError(
                _("There is no code waiting. Ask for a new one."), code="accounts.no_code_pending"
            )
        if code.expires_at <= timezone.now():
            raise ApplicationError(
                _("This code has expired. Ask for a new one."), code="accounts.code_expired"
            )
        if code.attempts >= MAX_ATTEMPTS:
            # The wait is until a new code may be asked for (the resend cooldown).
            raise _too_many(
                _("Too many wrong codes. Ask for a new one."),
                "accounts.code_attempts_exceeded",
                code.created_at + RESEND_COOLDOWN - timezone.now(),
            )
        if not code_matches(code, plain_code):
            code.attempts += 1
            code.save(update_fields=["attempts", "updated_at"])
            if code.attempts == MAX_ATTEMPTS:
                audit_record(
                    action=AuditAction.VERIFICATION_LOCKED,
                    actor=user,
                    target=user,
                    data={"channel": channel},
                )
            attempts_left = MAX_ATTEMPTS - code.attempts
            wrong = True
        else:
            wrong = False
            updated = _apply_verified_contact(user=user, code=code)
    if wrong:
        # Raised after the block committed, so the attempt above is kept.
        raise ApplicationError(
            _("This code is not right."),
            code="accounts.code_invalid",
            extra={"attempts_left": attempts_left},
        )
    return updated


def _apply_verified_contact(*, user: User, code: VerificationCode) -> User:
    locked = User.objects.select_for_update().get(pk=user.pk)
    now = timezone.now()
    code.consumed_at = now
    code.save(update_fields=["consumed_at", "updated_at"])
    _check_target_free(locked, code.channel, code.target)
    changed: dict[str, Any] = {}
    if code.channel == VerificationChannel.EMAIL:
        previous = locked.email
        locked.email = code.target
        locked.email_verified_at = now
        locked.email_undeliverable_at = None
        locked.email_undeliverable_reason = ""
        fields = [
            "email",
            "email_verified_at",
            "email_undeliverable_at",
            "email_undeliverable_reason",
        ]
        action = (
            AuditAction.EMAIL_CHANGED if previous != code.target else AuditAction.EMAIL_VERIFIED
        )
        if previous != code.target:
            changed = {"from": previous, "to": code.target}
    else:
        previous = str(locked.phone) if locked.phone else ""
        locked.phone = code.target
        locked.phone_verified_at = now
        fields = ["phone", "phone_verified_at"]
        action = (
            AuditAction.PHONE_CHANGED if previous != code.target else AuditAction.PHONE_VERIFIED
        )
        if previous != code.target:
            changed = {"from": previous, "to": code.target}
    try:
        with transaction.atomic():
            locked.save(update_fields=[*fields, "updated_at"])
    except IntegrityError as exc:  # the address was taken between the check and the write
        raise ConflictError(
            _("This email address is already in use."), code="accounts.email_taken"
        ) from exc
    if code.channel == VerificationChannel.EMAIL:
        _sync_allauth_email(locked)
    audit_record(action=action, actor=locked, target=locked, data=changed)
    return locked


def _sync_allauth_email(user: User) -> None:
    """Keep allauth's EmailAddress (used by its password reset) in line with the user."""
    from allauth.account.models import EmailAddress

    EmailAddress.objects.filter(user=user).exclude(email__iexact=user.email).delete()
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )


def verification_pending(*, user: User, channel: str) -> VerificationCode | None:
    """The code waiting to be confirmed, if any (for showing "code sent to ...")."""
    return (
        VerificationCode.objects.filter(
            user=user,
            channel=channel,
            consumed_at__isnull=True,
            superseded_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .order_by("-created_at")
        .first()
    )


def send_code_message(*, code: VerificationCode, plain_code: str) -> None:
    """Deliver a code by email or SMS (called by the delivery task, outside transactions)."""
    from django.core.mail import send_mail

    from core.providers import load_provider

    minutes = int(CODE_TTL.total_seconds() // 60)
    if code.channel == VerificationChannel.EMAIL:
        with _user_language(code.user):
            send_mail(
                subject=_("Your Atende verification code: %(code)s") % {"code": plain_code},
                message=_(
                    "Your verification code is %(code)s. It expires in %(minutes)d minutes.\n\n"
                    "If you did not ask for it, ignore this message."
                )
                % {"code": plain_code, "minutes": minutes},
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[code.target],
            )
    else:
        with _user_language(code.user):
            text = _("Atende: your code is %(code)s (expires in %(minutes)d min).") % {
                "code": plain_code,
                "minutes": minutes,
            }
        load_provider("accounts.sms").send(
            to=code.target, text=text, idempotency_key=f"verification-{code.pk}"
        )


def _user_language(user: User) -> Any:
    from django.utils import translation

    return translation.override(user.language)
