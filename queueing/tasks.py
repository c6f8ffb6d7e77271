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


# --- Support inbox ---------------------------------------------------------------------------


@shared_task(name="queueing.route_conversation", ignore_result=True)
def route_conversation(conversation_id: int) -> int | None:
    """Assign a waiting conversation by its queue's strategy; a rerun finds it assigned."""
    from queueing.routing import route_conversation as route

    return route(conversation_id=conversation_id)


@shared_task(name="queueing.assign_waiting_for_agent", ignore_result=True)
def assign_waiting_for_agent(organization_id: int, user_id: int) -> list[int]:
    """Fill an agent's free capacity from the waiting line; a rerun finds it full or empty."""
    from queueing.routing import assign_waiting_for_agent as assign

    return assign(organization_id=organization_id, user_id=user_id)


@shared_task(name="queueing.route_waiting", ignore_result=True)
def route_waiting(queue_id: int) -> list[int]:
    """Route everything waiting in a queue (its agents came online, its hours changed)."""
    from queueing.routing import route_waiting as route

    return route(queue_id=queue_id)


@shared_task(name="queueing.requeue_unanswered", ignore_result=True)
def requeue_unanswered() -> int:
    """Put back in line the conversations whose assignee did not answer in time (periodic)."""
    from queueing.routing import requeue_unanswered as requeue

    return requeue()


@shared_task(name="queueing.check_sla", ignore_result=True)
def check_sla() -> dict[str, int]:
    """Warn before SLA breaches and record them (periodic; safe in two workers)."""
    from queueing.sla import sla_check

    return sla_check()


@shared_task(name="queueing.wake_snoozed", ignore_result=True)
def wake_snoozed() -> int:
    """Reopen snoozed conversations whose time came (periodic)."""
    from queueing.inbox import wake_snoozed as wake

    return wake()


@shared_task(name="queueing.sweep_agents", ignore_result=True)
def sweep_agents() -> int:
    """Stop routing to agents whose sockets closed long enough ago (periodic)."""
    from queueing.agents import agents_sweep

    return agents_sweep()


@shared_task(name="queueing.publish_queue_positions", ignore_result=True)
def publish_queue_positions(queue_id: int) -> int:
    """Tell everyone waiting in a queue their current place (coalesced; reads the line now)."""
    from queueing.inbox_events import queue_positions_publish

    return queue_positions_publish(queue_id)
