"""Two-factor authentication with TOTP apps and recovery codes (django-otp).

Setting up is two steps: a new, unconfirmed TOTP device (its secret shown once as a QR
code), then a code from the app confirms it and ten single-use recovery codes are issued.
Turning 2FA off needs the password again. django-otp throttles wrong TOTP codes per device.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django_otp import match_token, user_has_device
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework import status

from accounts.audit import AuditAction
from accounts.models import User
from accounts.services import audit_record
from core.exceptions import ApplicationError, ConflictError

RECOVERY_CODE_COUNT = 10
TOTP_NAME = "app"
RECOVERY_NAME = "recovery"


@dataclass(frozen=True)
class TotpSetup:
    device: TOTPDevice
    otpauth_url: str


def user_has_two_factor(user: Any) -> bool:
    return bool(user.is_authenticated and user_has_device(user, confirmed=True))


def _invalid_code() -> ApplicationError:
    return ApplicationError(
        _("This code is not right."),
        code="accounts.otp_invalid",
        status_code=status.HTTP_400_BAD_REQUEST,
    )


@transaction.atomic
def totp_setup_start(*, user: User) -> TotpSetup:
    """Create a fresh unconfirmed TOTP device (replacing an earlier unconfirmed one)."""
    if user_has_two_factor(user):
        raise ConflictError(
            _("Two-factor authentication is already on."), code="accounts.otp_enabled"
        )
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    return TotpSetup(device=device, otpauth_url=device.config_url)


@transaction.atomic
def totp_setup_confirm(*, user: User, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the pending device with a code from the app; return it and the recovery codes."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None:
        raise ApplicationError(_("Start the setup again."), code="accounts.otp_setup_missing")
    if not device.verify_token(code.strip()):
        raise _invalid_code()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _new_recovery_codes(user)
    audit_record(action=AuditAction.TWO_FACTOR_ENABLED, actor=user, target=user)
    return device, codes


def _new_recovery_codes(user: User) -> list[str]:
    static, _created = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_NAME, defaults={"confirmed": True}
    )
    static.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=static, token=code) for code in codes)
    return codes


@transaction.atomic
def recovery_codes_regenerate(*, user: User, password: str) -> list[str]:
    """Replace every recovery code; needs the password again."""
    _reauthenticate(user, password)
    if not user_has_two_factor(user):
        raise ApplicationError(_("Two-factor authentication is off."), code="accounts.otp_disabled")
    codes = _new_recovery_codes(user)
    audit_record(action=AuditAction.RECOVERY_CODES_REGENERATED, actor=user, target=user)
    return codes


@transaction.atomic
def two_factor_disable(*, user: User, password: str) -> None:
    """Turn 2FA off (every device and recovery code); needs the password again."""
    _reauthenticate(user, password)
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    audit_record(action=AuditAction.TWO_FACTOR_DISABLED, actor=user, target=user)


def two_factor_check(*, user: User, code: str) -> Device:
    """The device that accepts ``code`` (TOTP or a recovery code, which is then used up).

    Raises ``accounts.otp_invalid``; each failure is written to the audit trail.
    """
    # Recovery codes are lower-case letters and digits; people type them any way.
    device = match_token(user, code.strip().replace(" ", "").replace("-", "").lower())
    if device is None:
        with transaction.atomic():
            audit_record(action=AuditAction.TWO_FACTOR_FAILED, actor=user, target=user)
        raise _invalid_code()
    return device


def _reauthenticate(user: User, password: str) -> None:
    if not user.check_password(password):
        raise ApplicationError(
            _("The password is not right."),
            code="accounts.reauthentication_failed",
            status_code=status.HTTP_403_FORBIDDEN,
        )


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__name=RECOVERY_NAME).count()
