"""Fixtures for the browser tests: a real daphne server on the test database, and Chromium.

The server runs in a child process (daphne's own testing helper, as Channels'
ChannelsLiveServerTestCase does), so the page talks to exactly what `manage.py serve` runs:
HTTP, static files and the WebSocket in one ASGI application. Both processes use the
pytest-django test database, which therefore has to be a file (settings point SQLite's test
database at one) and has to see each other's commits (`transactional_db`, no wrapping
transaction).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from daphne.testing import DaphneProcess
from django.db import connections

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]
SERVER_START_TIMEOUT_SECONDS = 30


@pytest.fixture(autouse=True)
def _require_chromium() -> str:
    """The system Chromium, or a skip on a developer machine without it (a failure in CI)."""
    chromium = shutil.which("chromium")
    if chromium is None:
        message = (
            "Browser tests need the system Chromium (`chromium` on PATH, e.g. "
            "`apt-get install chromium`); none was found."
        )
        if os.environ.get("CI"):
            pytest.fail(f"{message} CI must run the browser tests.", pytrace=False)
        pytest.skip(message)
    return chromium


def _application() -> Any:
    # Imported in the server process, after the fork, so the ASGI app (and its middleware)
    # is built there with the test settings it inherited.
    from concurrent.futures import ThreadPoolExecutor

    from asgiref.sync import SyncToAsync
    from channels.layers import channel_layers

    from config.asgi import application

    # Two things came through the fork in a state that only made sense in the parent:
    # asgiref's single-thread executor believes its worker thread exists (it does not in the
    # child, so every database_sync_to_async in the consumer would wait forever), and the
    # channel layer holds asyncio locks and Redis pools bound to the parent's event loop.
    SyncToAsync.single_thread_executor = ThreadPoolExecutor(max_workers=1)
    channel_layers.backends.clear()
    return application


@pytest.fixture
def live_server_url(transactional_db: None, settings: Any) -> Iterator[str]:
    """Base URL of a daphne process serving config.asgi.application on the test database."""
    for connection in connections.all():
        if connection.vendor == "sqlite" and connection.is_in_memory_db():
            pytest.fail(
                "The browser tests need a file-based SQLite test database: set "
                "DATABASES['default']['TEST']['NAME'] to a file path.",
                pytrace=False,
            )

    # The child inherits these settings through the fork. Plain HTTP on 127.0.0.1 must work
    # even where the environment turns DEBUG (and with it the HTTPS-only settings) off.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False

    # A database connection must not cross the fork: two processes speaking on one socket
    # (PostgreSQL) or one file handle (SQLite) corrupt each other. Both reconnect lazily.
    connections.close_all()
    server = DaphneProcess(host="127.0.0.1", get_application=_application)
    server.daemon = True
    server.start()
    try:
        if not server.ready.wait(SERVER_START_TIMEOUT_SECONDS):
            error = "" if server.errors.empty() else server.errors.get(False)[1]
            pytest.fail(f"daphne did not start:\n{error}", pytrace=False)
        yield f"http://127.0.0.1:{server.port.value}"
    finally:
        server.terminate()
        server.join(timeout=10)


@pytest.fixture
def browser(_require_chromium: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=_require_chromium, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(live_server_url: str, browser: Any) -> Iterator[Any]:
    """A desktop-sized page whose browser asks for Brazilian Portuguese, like most visitors.

    `live_server_url` comes first on purpose: the server process is forked before Playwright
    starts its driver and threads, which a fork must not copy.
    """
    from playwright.sync_api import expect

    # Cold starts of the first page (catalog, modules, socket) can exceed the 5 s default.
    expect.set_options(timeout=15_000)
    context = browser.new_context(
        base_url=live_server_url,
        locale="pt-BR",
        viewport={"width": 1280, "height": 800},
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    # An uncaught exception in the app is a failure even if the screens looked right.
    assert errors == []
