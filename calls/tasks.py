"""Background jobs of calls (run by beat, see CELERY_BEAT_SCHEDULE). Each is safe to run twice."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="calls.sweep_calls", ignore_result=True)
def sweep_calls() -> int:
    """Missed rings, media that never connected, sides gone past their grace."""
    from calls.services import calls_sweep

    return calls_sweep()


@shared_task(name="calls.sweep_professionals", ignore_result=True)
def sweep_professionals() -> int:
    """Professionals whose presence is gone too long go offline."""
    from calls.services import professionals_sweep

    return professionals_sweep()


@shared_task(name="calls.bill_due_calls", ignore_result=True)
def bill_due_calls() -> int:
    """Charge the units that started (and end calls that cannot pay for theirs)."""
    from calls import billing

    return billing.bill_due_calls().charges
