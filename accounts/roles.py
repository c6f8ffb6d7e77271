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
    # Post, react, upload, pin, create rooms and DMs (viewers only read).
    CHAT_WRITE = "chat.write"
    # Delete anyone's message and manage any channel of the organization.
    CHAT_MODERATE = "chat.moderate"
    # See every member's online time (others see only their own).
    VIEW_TEAM_ONLINE_TIME = "online_time.view_team"
    # Create and edit deals, contacts, companies, leads, tasks; import and export.
    CRM_WRITE = "crm.write"
    # Pipelines, stages, custom fields, lost reasons, labels, pipeline access, BotConversa;
    # every pipeline, restricted or not; deleting and merging records.
    CRM_MANAGE = "crm.manage"


ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.ORG_ADMIN: frozenset(Capability),
    Role.AGENT: frozenset(
        {
            Capability.VIEW_MEMBERS,
            Capability.FOLLOW_ORGANIZATION,
            Capability.CHAT_WRITE,
            Capability.CRM_WRITE,
        }
    ),
    Role.VIEWER: frozenset({Capability.VIEW_MEMBERS, Capability.FOLLOW_ORGANIZATION}),
}


def role_can(role: str | None, capability: Capability) -> bool:
    return role is not None and capability in ROLE_CAPABILITIES.get(role, frozenset())
