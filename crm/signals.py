"""Signals the CRM sends for its own listeners (BotConversa sync) and other apps.

Each is sent after the transaction that caused it commits, with ids only.
"""

from django.dispatch import Signal

# A deal entered a stage (created in it or moved to it). kwargs: deal_id, organization_id,
# from_stage_id (None on creation), to_stage_id, version.
deal_stage_changed = Signal()


def send_on_commit(signal: Signal, **kwargs: object) -> None:
    from django.db import transaction

    transaction.on_commit(lambda: signal.send(sender=None, **kwargs))
