"""What verification unlocks: the one place these rules are written down and enforced.

Services that sell, call or pay out ask ``require(user, Action.X)`` before doing anything;
the API answers with the first missing step (``accounts.phone_not_verified``...) and lists
every missing step in ``extra.missing`` so a client can guide the person through all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import status

from core.exceptions import ApplicationError


class Action(StrEnum):
    BUY_TOKENS = "buy_tokens"
    START_CALL = "start_call"
    JOIN_QUEUE = "join_queue"
    WITHDRAW = "withdraw"


class Requirement(StrEnum):
    EMAIL_VERIFIED = "email_verified"
    PHONE_VERIFIED = "phone_verified"
    KYC_APPROVED = "kyc_approved"


REQUIREMENTS: dict[Action, tuple[Requirement, ...]] = {
    Action.BUY_TOKENS: (Requirement.EMAIL_VERIFIED, Requirement.PHONE_VERIFIED),
    Action.START_CALL: (Requirement.EMAIL_VERIFIED, Requirement.PHONE_VERIFIED),
    Action.JOIN_QUEUE: (Requirement.EMAIL_VERIFIED, Requirement.PHONE_VERIFIED),
    Action.WITHDRAW: (Requirement.PHONE_VERIFIED, Requirement.KYC_APPROVED),
}

ERROR_CODES: dict[Requirement, tuple[str, Any]] = {
    Requirement.EMAIL_VERIFIED: (
        "accounts.email_not_verified",
        _("Verify your email address first."),
    ),
    Requirement.PHONE_VERIFIED: (
        "accounts.phone_not_verified",
        _("Verify your phone number first."),
    ),
    Requirement.KYC_APPROVED: (
        "accounts.kyc_not_approved",
        _("Your identity verification (KYC) must be approved first."),
    ),
}


def _kyc_approved(user: Any) -> bool:
    from accounts.selectors import user_kyc_approved

    return user_kyc_approved(user=user)


CHECKS: dict[Requirement, Callable[[Any], bool]] = {
    Requirement.EMAIL_VERIFIED: lambda user: user.email_verified,
    Requirement.PHONE_VERIFIED: lambda user: user.phone_verified,
    Requirement.KYC_APPROVED: _kyc_approved,
}


def missing(user: Any, action: Action) -> list[Requirement]:
    """The requirements of ``action`` that ``user`` has not met yet, in order."""
    return [req for req in REQUIREMENTS[action] if not CHECKS[req](user)]


def require(user: Any, action: Action) -> None:
    """Raise the first missing step of ``action`` as an ApplicationError (403)."""
    steps = missing(user, action)
    if steps:
        code, message = ERROR_CODES[steps[0]]
        raise ApplicationError(
            str(message),
            code=code,
            status_code=status.HTTP_403_FORBIDDEN,
            extra={"action": str(action), "missing": [str(step) for step in steps]},
        )
