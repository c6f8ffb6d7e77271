"""Who may see and change what in the CRM: the one place these rules live.

- Everyone with a role in the organization (org admin, agent, viewer) reads its CRM; viewers
  only read. Agents and admins write (``Capability.CRM_WRITE``); admins also configure it
  (``Capability.CRM_MANAGE``: pipelines, stages, custom fields, lost reasons, labels, access,
  BotConversa), delete and merge.
- A ``restricted`` pipeline, and its deals, are seen only by org admins and the members given
  the ``crm.use_pipeline`` object permission on it (django-guardian). Contacts, companies and
  leads are organization-wide.

Anything outside the organization, or outside what the user sees, answers the same 404
``crm.not_found``, so a refusal never tells whether it exists.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from guardian.shortcuts import get_objects_for_user

from accounts.models import Membership
from accounts.roles import Capability, Role, role_can
from core.exceptions import NotFoundError, PermissionDeniedError
from crm.models import Deal, Pipeline

STAFF_ROLES = (Role.ORG_ADMIN, Role.AGENT, Role.VIEWER)
USE_PIPELINE = "crm.use_pipeline"


class CrmNotFoundError(NotFoundError):
    code = "crm.not_found"


class CrmPermissionDeniedError(PermissionDeniedError):
    code = "crm.permission_denied"


def not_found() -> CrmNotFoundError:
    return CrmNotFoundError(_("Not found."))


def permission_denied(message: str | None = None) -> CrmPermissionDeniedError:
    return CrmPermissionDeniedError(message or _("You do not have permission to do this."))


def role(user: Any, organization_id: int) -> str | None:
    """The user's role in the organization (asked afresh: roles change), or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    value = (
        Membership.objects.filter(user_id=user.pk, organization_id=organization_id)
        .values_list("role", flat=True)
        .first()
    )
    return value if value in STAFF_ROLES else None


def require_member(user: Any, organization_id: int) -> str:
    """The user's role; 404 ``crm.not_found`` for anyone outside the organization."""
    found = role(user, organization_id)
    if found is None:
        raise not_found()
    return found


def require_write(user: Any, organization_id: int) -> str:
    """Agents and admins; 403 for viewers, 404 for outsiders."""
    found = require_member(user, organization_id)
    if not role_can(found, Capability.CRM_WRITE):
        raise permission_denied()
    return found


def require_manage(user: Any, organization_id: int) -> str:
    """Org admins; 403 for agents and viewers, 404 for outsiders."""
    found = require_member(user, organization_id)
    if not role_can(found, Capability.CRM_MANAGE):
        raise permission_denied()
    return found


def can_manage(user: Any, organization_id: int) -> bool:
    return role_can(role(user, organization_id), Capability.CRM_MANAGE)


def pipelines_visible(user: Any, organization_id: int) -> QuerySet[Pipeline]:
    """The organization's pipelines the user sees (archived ones included; filter them)."""
    found = role(user, organization_id)
    pipelines = Pipeline.objects.filter(organization_id=organization_id)
    if found is None:
        return pipelines.none()
    if role_can(found, Capability.CRM_MANAGE):
        return pipelines
    granted = get_objects_for_user(
        user, USE_PIPELINE, klass=Pipeline, accept_global_perms=False
    ).filter(organization_id=organization_id)
    return pipelines.filter(Q(restricted=False) | Q(pk__in=granted.values("pk")))


def deals_visible(user: Any, organization_id: int) -> QuerySet[Deal]:
    """The organization's deals in pipelines the user sees."""
    return Deal.objects.filter(
        organization_id=organization_id,
        pipeline__in=pipelines_visible(user, organization_id).values("pk"),
    )


def can_see_pipeline(user: Any, pipeline: Pipeline) -> bool:
    return pipelines_visible(user, pipeline.organization_id).filter(pk=pipeline.pk).exists()


def pipeline_for(user: Any, organization_id: int, pipeline_id: int) -> Pipeline:
    """The pipeline, if the user sees it; 404 ``crm.not_found`` otherwise."""
    pipeline = pipelines_visible(user, organization_id).filter(pk=pipeline_id).first()
    if pipeline is None:
        raise not_found()
    return pipeline


def deal_for(user: Any, organization_id: int, deal_id: int) -> Deal:
    """The deal, if the user sees its pipeline; 404 ``crm.not_found`` otherwise."""
    deal = deals_visible(user, organization_id).filter(pk=deal_id).first()
    if deal is None:
        raise not_found()
    return deal
