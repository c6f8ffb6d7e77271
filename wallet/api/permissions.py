"""Who may use the wallet API beyond being signed in."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from accounts.models import AccountType


class IsProfessional(BasePermission):
    """Earnings and withdrawals belong to professionals."""

    message = _("Only professionals have earnings.")

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        return bool(
            user and user.is_authenticated and user.account_type == AccountType.PROFESSIONAL
        )
