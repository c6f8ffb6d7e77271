"""The CRM's socket topics, registered at start-up (filled in by the kanban work)."""

from __future__ import annotations


def register() -> None:
    """Register ``crm.pipeline.<id>``."""
