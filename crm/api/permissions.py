"""Permission classes of the CRM API. Every route starts with ``<organization_id>``.

Outsiders get 404 ``crm.not_found`` (as if the organization did not exist), viewers 403 on
writes, agents 403 on configuration. Per-object rules (restricted pipelines) are checked by
``crm.access`` in the views' lookups.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from crm import access


class IsCrmMember(BasePermission):
    """Any role in the organization: reads."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        self.check(request.user, int(view.kwargs["organization_id"]))
        return True

    def check(self, user: Any, organization_id: int) -> None:
        access.require_member(user, organization_id)


class IsCrmWriter(IsCrmMember):
    """Agents and admins (viewers 403)."""

    def check(self, user: Any, organization_id: int) -> None:
        access.require_write(user, organization_id)


class IsCrmManager(IsCrmMember):
    """Org admins (agents and viewers 403)."""

    def check(self, user: Any, organization_id: int) -> None:
        access.require_manage(user, organization_id)


class IsCrmMemberReadingOrWriter(IsCrmMember):
    """GET for any member; changes for agents and admins."""

    def has_permission(self, request: Request, view: Any) -> bool:
        chosen = IsCrmMember() if request.method in SAFE_METHODS else IsCrmWriter()
        return chosen.has_permission(request, view)


class IsCrmMemberReadingOrManager(IsCrmMember):
    """GET for any member; changes for org admins."""

    def has_permission(self, request: Request, view: Any) -> bool:
        chosen = IsCrmMember() if request.method in SAFE_METHODS else IsCrmManager()
        return chosen.has_permission(request, view)
