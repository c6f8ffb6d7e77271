"""The embedded default's beat: runs ``CELERY_BEAT_SCHEDULE`` inside the server process.

Production runs the schedule with Celery beat (django-celery-beat) and a worker. The
embedded default has no broker, so ``manage.py serve`` runs this loop in daphne's own event
loop instead. It reads the same schedule, asks Celery's own schedule objects when each entry
is due, and runs the same task code with ``Task.apply``.

Why in the server process and not a second one: the embedded channel layer lives in memory,
so events a task publishes reach WebSocket clients only from inside the process that holds
their sockets.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from asgiref.sync import sync_to_async
from celery import Celery
from celery.schedules import BaseSchedule, maybe_schedule
from django.db import close_old_connections

logger = logging.getLogger(__name__)

# Never sleep longer than this, so a clock jump or a new entry is noticed soon enough.
MAX_SLEEP_SECONDS = 60.0


@dataclass
class Entry:
    """One schedule entry and when it last ran."""

    name: str
    task: str
    schedule: BaseSchedule
    last_run_at: datetime
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


class EmbeddedBeat:
    """Runs due entries of a Celery beat schedule, in-process, one at a time."""

    def __init__(self, app: Celery, schedule: dict[str, dict[str, Any]]) -> None:
        self.app = app
        # What a Celery worker does at start: import every app's tasks module (autodiscovery
        # is lazy), so each entry's task is registered before it is first due.
        app.autodiscover_tasks(force=True)
        now = app.now()
        # Like Celery beat with a fresh state: an entry first runs at its next due time.
        self.entries = [
            Entry(
                name=name,
                task=spec["task"],
                schedule=maybe_schedule(spec["schedule"], app=app),
                last_run_at=now,
                args=tuple(spec.get("args", ())),
                kwargs=dict(spec.get("kwargs", {})),
            )
            for name, spec in schedule.items()
        ]

    def run_entry(self, entry: Entry) -> bool:
        """Run one entry's task now, in this thread. Returns whether it succeeded."""
        # Like a Celery worker: no connection outlives its task in a pool thread, where nothing
        # else would ever close it (CONN_MAX_AGE still applies to the healthy ones).
        close_old_connections()
        try:
            return self._apply(entry)
        finally:
            close_old_connections()

    def _apply(self, entry: Entry) -> bool:
        task = self.app.tasks[entry.task]
        # throw=False: a failure is reported here instead of raised, even with eager propagation on.
        result = task.apply(args=entry.args, kwargs=entry.kwargs, throw=False)
        if result.failed():
            logger.error(
                "scheduled task failed",
                extra={"entry": entry.name, "task": entry.task, "error": repr(result.result)},
            )
            return False
        logger.info("scheduled task ran", extra={"entry": entry.name, "task": entry.task})
        return True

    async def tick(self) -> float:
        """Run every due entry; return how many seconds to sleep before the next tick."""
        sleep_for = MAX_SLEEP_SECONDS
        for entry in self.entries:
            is_due, next_check = entry.schedule.is_due(entry.last_run_at)
            if is_due:
                entry.last_run_at = self.app.now()
                # A worker thread, so a slow task never blocks the sockets; tasks publish
                # through async_to_sync, which hops back to this loop.
                await sync_to_async(self.run_entry, thread_sensitive=False)(entry)
            sleep_for = min(sleep_for, max(float(next_check), 0.5))
        return sleep_for

    async def run_forever(self) -> None:
        logger.info("embedded beat started", extra={"entries": [e.name for e in self.entries]})
        while True:
            try:
                sleep_for = await self.tick()
            except Exception:
                # One broken entry must not stop the others for the rest of the process.
                logger.exception("embedded beat tick failed")
                sleep_for = MAX_SLEEP_SECONDS
            await asyncio.sleep(sleep_for)
