"""Support conversations and CRM contacts (filled in by the contacts work)."""

from __future__ import annotations


def on_conversation_created(conversation_id: int) -> None:
    """Link the conversation's contact to a CRM contact."""
