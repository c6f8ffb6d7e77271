from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

DOWN = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused at once


@pytest.mark.django_db
def test_it_reports_every_part_healthy() -> None:
    response = Client().get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert sorted(body["checks"]) == ["broker", "cache", "channel_layer", "database"]
    assert all(check["ok"] is True for check in body["checks"].values())
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_it_answers_503_and_names_the_parts_down_when_redis_is_down(settings: Any) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": DOWN,
            "OPTIONS": {"socket_connect_timeout": 1},
        }
    }
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [DOWN]},
        }
    }

    response = Client().get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["cache"] == {"ok": False, "error": "ConnectionError"}
    assert body["checks"]["channel_layer"] == {"ok": False, "error": "ConnectionError"}
    # The URL (which could hold a password) never appears in the answer.
    assert "127.0.0.1:1" not in response.content.decode()


@pytest.mark.django_db
def test_it_reports_the_broker_down(settings: Any) -> None:
    from config.celery import app as celery_app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    original = celery_app.conf.broker_url
    celery_app.conf.broker_url = DOWN
    try:
        response = Client().get("/healthz")
    finally:
        celery_app.conf.broker_url = original

    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["ok"] is False
