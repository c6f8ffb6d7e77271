"""CRM tasks: they take ids, call one service, and may run twice without harm."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings


@shared_task(name="crm.rebalance_stage", ignore_result=True)
def rebalance_stage(stage_id: int) -> int:
    """Give a column short position keys again, in the same order (a rerun rewrites the same
    order with the same keys)."""
    from crm.deals import stage_rebalance

    return stage_rebalance(stage_id=stage_id)


@shared_task(name="crm.rebalance_long_positions", ignore_result=True)
def rebalance_long_positions() -> int:
    """Periodic: rebalance every column holding a key past the rebalance length."""
    from crm.deals import rebalance_long_positions as rebalance

    return rebalance()


@shared_task(name="crm.send_task_reminders", ignore_result=True)
def send_task_reminders() -> int:
    """Periodic: notify the assignees of tasks that fell due (each task once)."""
    from crm.reminders import send_due_reminders

    return send_due_reminders()


@shared_task(name="crm.run_import", ignore_result=True)
def run_import(job_id: int) -> None:
    """Import a CSV's rows; a rerun continues after the last finished batch."""
    from crm.imports import import_run

    import_run(job_id)


@shared_task(name="crm.botconversa_dispatch", bind=True, ignore_result=True)
def botconversa_dispatch(self: Any, dispatch_id: int) -> None:
    """Send one call to BotConversa. A timeout or a 5xx is retried with a growing delay up to
    BOTCONVERSA_MAX_ATTEMPTS attempts; then (or on a 4xx) the dispatch is marked failed for
    the org admins to see. A sent dispatch is not sent again."""
    from crm import botconversa

    try:
        botconversa.dispatch_send(dispatch_id)
    except botconversa.RetryableError as exc:
        attempts = botconversa.dispatch_attempts(dispatch_id)
        if attempts >= settings.BOTCONVERSA_MAX_ATTEMPTS:
            botconversa.dispatch_failed(dispatch_id, str(exc))
            return
        if self.app.conf.task_always_eager:
            # Eager (embedded default, tests): no broker to come back through; the periodic
            # retry_dispatches picks it up later.
            return
        raise self.retry(exc=exc, countdown=2**attempts) from exc


@shared_task(name="crm.retry_dispatches", ignore_result=True)
def retry_dispatches() -> int:
    """Periodic: resend dispatches left pending (a worker died, an eager run gave up)."""
    from crm.botconversa import retry_stuck_dispatches

    return retry_stuck_dispatches()
