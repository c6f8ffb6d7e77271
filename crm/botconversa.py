"""BotConversa sync (filled in by the BotConversa work)."""

from __future__ import annotations


def on_staff_message_sent(*, conversation_id: int, message_id: int, channel: str) -> None:
    """Forward a staff reply in a WhatsApp conversation to BotConversa."""


def on_conversation_status_changed(*, conversation_id: int, status: str, channel: str) -> None:
    """Tell BotConversa a WhatsApp attendance's status changed."""


def on_deal_stage_changed(
    *,
    deal_id: int,
    organization_id: int,
    from_stage_id: int | None,
    to_stage_id: int,
    version: int,
) -> None:
    """Apply the stage's rules (add a tag, start a flow)."""


class RetryableError(Exception):
    """A call that may succeed later (a timeout, a 5xx)."""


def dispatch_send(dispatch_id: int) -> None:
    """Send one pending dispatch."""


def dispatch_attempts(dispatch_id: int) -> int:
    """How many times the dispatch was tried."""
    return 0


def dispatch_failed(dispatch_id: int, error: str) -> None:
    """Mark the dispatch failed and tell the org admins."""


def retry_stuck_dispatches() -> int:
    """Resend dispatches left pending."""
    return 0
