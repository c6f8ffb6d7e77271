"""Signals the support inbox sends for the apps that build on it (crm).

Each is sent after the transaction that caused it commits (``transaction.on_commit``), with
ids only; listeners enqueue idempotent tasks or write in their own transactions.
"""

from django.dispatch import Signal

# A conversation was opened. kwargs: conversation_id, organization_id.
conversation_created = Signal()
# Staff replied to the contact (not a note). kwargs: conversation_id, message_id, channel.
staff_message_sent = Signal()
# A conversation's status changed (opened, pending, snoozed, resolved, reopened).
# kwargs: conversation_id, status, channel.
conversation_status_changed = Signal()


def send_on_commit(signal: Signal, **kwargs: object) -> None:
    from django.db import transaction

    transaction.on_commit(lambda: signal.send(sender=None, **kwargs))
