"""Fixtures shared by every app's tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.providers import sandbox as sandbox_sms
from config.celery import app as celery_app
from wallet.providers import sandbox as sandbox_pix


@pytest.fixture(autouse=True)
def _test_defaults(settings: Any) -> Iterator[None]:
    # Hashing with MD5 keeps the suite fast; production keeps Django's PBKDF2 default.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tasks run in the test's own process, so tests see their effects at once; the
    # broker-backed path is proven separately by the tests marked `broker`.
    celery_app.conf.task_always_eager = True
    cache.clear()
    sandbox_sms.clear()
    sandbox_pix.clear()
    yield


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """Records every message realtime sends to a group, and still sends it.

    Combine with ``django_capture_on_commit_callbacks(execute=True)``: messages go out only
    after commit, so a test without it sees none.
    """
    from realtime import publish

    sent: list[tuple[str, dict[str, Any]]] = []
    original = publish._send

    def spy(group: str, message: dict[str, Any]) -> None:
        # The frame a socket receives is encoded once by the publisher; it must say exactly
        # what the event and data say, so tests compare those and leave the text out.
        recorded = dict(message)
        text = recorded.pop("text", None)
        if text is not None:
            assert json.loads(text) == {"type": message["event"], "data": message["data"]}
        sent.append((group, recorded))
        original(group, message)

    monkeypatch.setattr(publish, "_send", spy)
    return sent


@pytest.fixture(autouse=True)
def _ledger_stays_balanced(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every test that used the database, the ledger must check clean.

    Every balance equals its transfers, each asset sums to zero, no user account is below
    zero: whatever the test did through services, it cannot have broken the books. Tests
    that corrupt the ledger on purpose (to prove ``ledger_check`` notices) opt out.
    """
    uses_db = "_django_db_helper" in request.fixturenames
    if uses_db:
        # Set up first, so it is torn down (rolled back or flushed) after this check ran.
        request.getfixturevalue("_django_db_helper")
    yield
    if not uses_db or request.node.get_closest_marker("ledger_tampered"):
        return
    from wallet.checks import ledger_problems

    _accounts, _transfers, problems = ledger_problems()
    assert problems == [], f"the ledger is off after {request.node.nodeid}: {problems}"
