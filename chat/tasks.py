"""Chat tasks: they take ids, call one service, and may run twice without harm."""

from __future__ import annotations

from celery import shared_task

# --- Notifications (chat.notifications) ---------------------------------------------------


@shared_task(name="chat.notify_message", ignore_result=True)
def notify_message(message_id: int) -> int:
    """Create and push the notifications a new message causes; a rerun notifies no one again."""
    from chat.notifications import notify_for_message

    return len(notify_for_message(message_id=message_id))


@shared_task(name="chat.send_notification_digests", ignore_result=True)
def send_notification_digests() -> int:
    """Email the mentions and direct messages still unread after the delay, one digest each."""
    from chat.notifications import notification_digests_send

    return notification_digests_send()


# --- Attachments (chat.attachments) ------------------------------------------------------------


@shared_task(name="chat.purge_unsent_attachments", ignore_result=True)
def purge_unsent_attachments() -> int:
    """Delete uploads never sent within a day (rows and files); a rerun finds nothing left."""
    from chat.attachments import attachments_purge_unsent

    return attachments_purge_unsent()


# --- Presence (chat.presence) ------------------------------------------------------------------


@shared_task(name="chat.sweep_presence", ignore_result=True)
def sweep_presence() -> int:
    """Forget dead sockets, close silent online-time sessions, publish what the clock changed."""
    from chat.presence import sweep_presence as sweep

    return sweep()
