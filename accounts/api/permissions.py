"""DRF permission classes for organization-scoped endpoints.

Outsiders get 404 (the organization might as well not exist); members whose role lacks the
capability get 403. The rules themselves live in accounts/roles.py.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from accounts.roles import Capability, role_can
from accounts.selectors import membership_get_or_404


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
    capability = Capability.MANAGE_MEMBERS
