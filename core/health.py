"""`/healthz`: is this process able to serve? Checks every part it depends on.

Answers 200 when every check passes and 503 otherwise, so a load balancer takes a degraded
process out of rotation. Failures name only the exception class: a message could carry a
connection URL with a password in it.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import sync_to_async
from celery import current_app as celery_app
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse

CHECK_TIMEOUT_SECONDS = 3.0


def _check_database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"vendor": connection.vendor}


def _check_cache() -> dict[str, Any]:
    key = f"healthz:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=10)
    if cache.get(key) != "ok":
        raise RuntimeError("cache did not return the value just written")
    cache.delete(key)
    backend = str(settings.CACHES["default"]["BACKEND"])
    return {"backend": backend.rsplit(".", 1)[-1]}


def _check_broker() -> dict[str, Any]:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"mode": "eager"}
    with celery_app.connection_for_write(connect_timeout=2) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
    return {"mode": "broker"}


async def _check_channel_layer() -> dict[str, Any]:
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")
    channel = await layer.new_channel("healthz.")
    await layer.send(channel, {"type": "healthz.ping"})
    message = await layer.receive(channel)
    if message.get("type") != "healthz.ping":
        raise RuntimeError("channel layer returned another message")
    return {"backend": type(layer).__name__}


async def _run(check: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        details = await asyncio.wait_for(check(), timeout=CHECK_TIMEOUT_SECONDS)
    except Exception as exc:  # any failure is a degraded check, never a 500
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1), **details}


async def healthz(request: HttpRequest) -> JsonResponse:
    checks = {
        "database": await _run(sync_to_async(_check_database)),
        "cache": await _run(sync_to_async(_check_cache)),
        "channel_layer": await _run(_check_channel_layer),
        "broker": await _run(sync_to_async(_check_broker, thread_sensitive=False)),
    }
    healthy = all(check["ok"] for check in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "degraded", "checks": checks},
        status=200 if healthy else 503,
        headers={"Cache-Control": "no-store"},
    )
