"""Who may use the queue API beyond being signed in."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from accounts.models import AccountType


class IsProfessional(BasePermission):
    """A professional's own queue is theirs to see."""

    message = _("Only professionals have a queue.")

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        return bool(
            user and user.is_authenticated and user.account_type == AccountType.PROFESSIONAL
        )
