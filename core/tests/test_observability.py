"""Request ids in responses and in structured (JSON) log lines."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from typing import Any

import pytest
from django.conf import settings
from django.test import Client


@pytest.mark.django_db
def test_every_response_carries_a_fresh_request_id() -> None:
    first = Client().get("/healthz")
    second = Client().get("/healthz")

    assert len(first["X-Request-ID"]) == 32
    assert first["X-Request-ID"] != second["X-Request-ID"]


@pytest.mark.django_db
def test_a_well_formed_incoming_request_id_is_kept() -> None:
    response = Client().get("/healthz", headers={"X-Request-ID": "lb-7f3a.9"})

    assert response["X-Request-ID"] == "lb-7f3a.9"


@pytest.mark.django_db
def test_an_incoming_request_id_that_could_forge_log_lines_is_replaced() -> None:
    response = Client().get("/healthz", headers={"X-Request-ID": "x\ninjected"})

    assert response["X-Request-ID"] != "x\ninjected"
    assert len(response["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_production_logs_are_json_lines_with_the_request_id(monkeypatch: Any) -> None:
    stream = io.StringIO()
    config = json.loads(json.dumps(settings.LOGGING))
    config["handlers"]["console"]["formatter"] = "json"
    # dictConfig takes the stream by name: point the name at our buffer.
    monkeypatch.setattr("sys.stderr", stream)
    config["handlers"]["console"]["stream"] = "ext://sys.stderr"
    logging.config.dictConfig(config)
    try:
        response = Client().get("/api/v1/me/")
    finally:
        logging.config.dictConfig(settings.LOGGING)

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    unauthorized = [line for line in lines if line["logger"] == "django.request"]
    assert len(unauthorized) == 1
    assert unauthorized[0]["level"] == "WARNING"
    assert unauthorized[0]["request_id"] == response["X-Request-ID"]
    assert unauthorized[0]["message"] == "Unauthorized: /api/v1/me/"
