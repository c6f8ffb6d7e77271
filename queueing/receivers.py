"""Listeners for calls' signals; connected in QueueingConfig.ready().

The signals are sent after the sender's transaction committed, with ids only: each listener
enqueues an idempotent task and writes nothing in the sender's transaction.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from calls.signals import professional_freed, professional_went_offline
from queueing import tasks


@receiver(professional_freed, dispatch_uid="queueing.professional_freed")
def on_professional_freed(sender: Any, professional_id: int, **kwargs: Any) -> None:
    tasks.offer_next.delay_on_commit(professional_id)


@receiver(professional_went_offline, dispatch_uid="queueing.professional_went_offline")
def on_professional_went_offline(sender: Any, professional_id: int, **kwargs: Any) -> None:
    tasks.close_queue.delay_on_commit(professional_id)
