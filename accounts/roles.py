"""Organization roles and what each may do: the one place these rules are written down.

Permission classes and selectors ask ``role_can``; nothing else compares role names.
Platform super admins are Django staff and work through the admin, not through a role.
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ORG_ADMIN = "org_admin", _("Organization admin")
    AGENT = "agent", _("Agent")
    VIEWER = "viewer", _("Viewer")


class Capability(StrEnum):
    VIEW_MEMBERS = "members.view"
    MANAGE_MEMBERS = "members.manage"
    FOLLOW_ORGANIZATION = "organization.follow"


ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.ORG_ADMIN: frozenset(Capability),
    Role.AGENT: frozenset({Capability.VIEW_MEMBERS, Capability.FOLLOW_ORGANIZATION}),
    Role.VIEWER: frozenset({Capability.VIEW_MEMBERS, Capability.FOLLOW_ORGANIZATION}),
}


def role_can(role: str | None, capability: Capability) -> bool:
    return role is not None and capability in ROLE_CAPABILITIES.get(role, frozenset())
