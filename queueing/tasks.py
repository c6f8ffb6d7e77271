"""Queue tasks: they take ids, call one service, and may run twice without harm."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="queueing.offer_next", ignore_result=True)
def offer_next(professional_id: int) -> int | None:
    """Offer the turn to the first in line if the professional is free; a rerun offers nothing
    more (one offer per professional at a time). Returns the offered entry's id."""
    from queueing.services import queue_offer_next

    entry = queue_offer_next(professional_id=professional_id)
    return entry.pk if entry is not None else None


@shared_task(name="queueing.close_queue", ignore_result=True)
def close_queue(professional_id: int) -> int:
    """Close an offline professional's queue and void its holds; a rerun finds nothing open."""
    from queueing.services import queue_close_for_professional

    return queue_close_for_professional(professional_id=professional_id)


@shared_task(name="queueing.expire_offers", ignore_result=True)
def expire_offers() -> int:
    """Expire offers past their window and pass each turn on (periodic; safe in two workers)."""
    from queueing.services import queue_offers_expire

    return queue_offers_expire()
