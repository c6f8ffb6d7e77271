"""Signals the accounts app sends for other apps to react to, without accounts importing them."""

from __future__ import annotations

from django.dispatch import Signal

# Sent inside the transaction that removes a membership (a removal by an admin, leaving, or
# deleting the account), with ``organization_id`` and ``user_id``. Receivers end whatever
# access the person had in that organization (chat rooms, queues...).
membership_ended = Signal()
