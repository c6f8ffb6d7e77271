"""`manage.py serve`: one daphne process for HTTP + WebSocket, plus the embedded beat.

This is what `make run` starts. In production run daphne directly
(`daphne config.asgi:application`) with Celery worker and beat beside it; `serve` refuses to
run the embedded beat when a broker is configured, so a schedule never runs twice.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

logger = logging.getLogger("atende.access")


def log_action(protocol: str, action: str, details: dict[str, Any]) -> None:
    """One access-log line per finished HTTP request and per WebSocket connect/disconnect."""
    if protocol == "http" and action == "complete":
        logger.info("%s %s %s", details["method"], details["path"], details["status"])
    elif protocol == "websocket" and action in {"connected", "disconnected", "rejected"}:
        logger.info("WS %s %s", action, details["path"])


class Command(BaseCommand):
    help = "Serve HTTP and WebSocket with daphne; without a broker also run the beat schedule."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--no-beat",
            action="store_true",
            help="Do not run the schedule in-process (a Celery beat runs it instead).",
        )

    def handle(self, *args: Any, host: str, port: int, no_beat: bool, **options: Any) -> None:
        # daphne.server installs the asyncio Twisted reactor on import; import it first.
        from daphne.server import Server

        from config.asgi import application
        from config.celery import app as celery_app
        from core.scheduler import EmbeddedBeat

        run_beat = settings.CELERY_TASK_ALWAYS_EAGER and not no_beat
        background: set[asyncio.Task[None]] = set()

        def on_ready() -> None:
            # Called by daphne inside its running event loop, once it listens.
            if run_beat:
                beat = EmbeddedBeat(celery_app, settings.CELERY_BEAT_SCHEDULE)
                background.add(asyncio.ensure_future(beat.run_forever()))

        self.stdout.write(
            f"Atende on http://{host}:{port}/ "
            f"({'embedded beat running' if run_beat else 'schedule left to Celery beat'})"
        )
        Server(
            application=application,
            endpoints=[f"tcp:port={port}:interface={host}"],
            signal_handlers=True,
            action_logger=log_action,
            ready_callable=on_ready,
            # The consumer refuses frames over 16 KiB; nothing bigger is worth buffering.
            websocket_max_message_size=64 * 1024,
        ).run()
