"""DRF permission classes for organization-scoped endpoints.

Outsiders get 404 (the organization might as well not exist); members whose role lacks the
capability get 403. The rules themselves live in accounts/roles.py.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from accounts.roles import Capability, role_can
from accounts.selectors import membership_get_or_404
from accounts.two_factor import user_has_two_factor


class OrganizationCapability(BasePermission):
    """Allows a member of ``view.kwargs['organization_id']`` whose role has ``capability``."""

    capability: Capability

    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        membership = membership_get_or_404(
            user=request.user, organization_id=int(view.kwargs["organization_id"])
        )
        request.membership = membership  # type: ignore[attr-defined]
        return role_can(membership.role, self.capability)


class CanViewMembers(OrganizationCapability):
    capability = Capability.VIEW_MEMBERS


class CanManageMembers(OrganizationCapability):
    """Org admins; when the organization requires it, only with 2FA switched on."""

    capability = Capability.MANAGE_MEMBERS

    def has_permission(self, request: Request, view: Any) -> bool:
        allowed = super().has_permission(request, view)
        membership = getattr(request, "membership", None)
        if (
            allowed
            and membership is not None
            and membership.organization.require_two_factor
            and not user_has_two_factor(request.user)
        ):
            raise TwoFactorSetupRequired()
        return allowed


class TwoFactorSetupRequired(PermissionDenied):
    default_detail = _("This organization requires two-factor authentication for its admins.")
    default_code = "accounts.two_factor_required"
