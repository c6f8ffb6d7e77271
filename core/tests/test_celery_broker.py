"""With a real broker, tasks travel through it to a real worker (PostgreSQL + Redis mode)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.tasks import purge_expired_credentials
from config.celery import app as celery_app

pytestmark = [
    pytest.mark.broker,
    pytest.mark.skipif(
        not settings.CELERY_BROKER_URL, reason="needs CELERY_BROKER_URL or REDIS_URL"
    ),
]


@pytest.mark.django_db(transaction=True)
def test_a_task_sent_through_the_broker_runs_on_a_worker() -> None:
    session = SessionStore()
    session.create()
    Session.objects.filter(session_key=session.session_key).update(
        expire_date=timezone.now() - timedelta(days=1)
    )
    celery_app.conf.task_always_eager = False
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            purge_expired_credentials.delay()
            gone = wait_until(
                lambda: not Session.objects.filter(session_key=session.session_key).exists()
            )
    finally:
        celery_app.conf.task_always_eager = True

    assert gone is True


def wait_until(condition: Callable[[], bool], attempts: int = 200) -> bool:
    """Poll a condition the worker thread will make true; bounded, never a timed assertion."""
    for _ in range(attempts):
        if condition():
            return True
        time.sleep(0.05)
    return False
