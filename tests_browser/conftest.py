"""Fixtures for the browser tests: a real daphne server on the test database, and Chromium.

The server runs in a child process (daphne's own testing helper, as Channels'
ChannelsLiveServerTestCase does), so the page talks to exactly what `manage.py serve` runs:
HTTP, static files and the WebSocket in one ASGI application. Both processes use the
pytest-django test database, which therefore has to be a file (settings point SQLite's test
database at one) and has to see each other's commits (`transactional_db`, no wrapping
transaction).
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
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
OUTBOX_WAIT_SECONDS = 10


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
def live_server_url(transactional_db: None, settings: Any, tmp_path: Path) -> Iterator[str]:
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
    # The server's e-mails and SMS land in files the test can read (the in-memory outboxes
    # live in the server process, out of the test's reach). See the `outbox` fixture.
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "emails")
    settings.SANDBOX_SMS_OUTBOX_FILE = str(tmp_path / "sms.jsonl")

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


def _six_digit_code(text: str) -> str:
    match = re.search(r"\b(\d{6})\b", text)
    assert match, f"no 6-digit code in {text!r}"
    return match.group(1)


class Outbox:
    """What the server sent: e-mails (Django's file backend) and SMS (the sandbox's file).

    Sending happens after the request's commit, so readers wait a little for a message
    instead of failing on the first look.
    """

    def __init__(self, email_dir: Path, sms_file: Path) -> None:
        self.email_dir = email_dir
        self.sms_file = sms_file

    def emails(self) -> list[EmailMessage]:
        """Every e-mail sent so far, oldest first (one file per connection, named by time)."""
        if not self.email_dir.exists():
            return []
        messages = []
        for path in sorted(self.email_dir.iterdir(), key=lambda item: item.stat().st_mtime_ns):
            # The backend separates messages with a line of 79 dashes.
            for chunk in re.split(rb"\n-{79}\n", path.read_bytes()):
                if chunk.strip():
                    messages.append(email.message_from_bytes(chunk, policy=email.policy.default))
        return messages  # type: ignore[return-value]

    def sms(self) -> list[dict[str, str]]:
        if not self.sms_file.exists():
            return []
        lines = self.sms_file.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def latest_email_to(self, address: str, *, after: int = 0) -> str:
        """The plain-text body of the newest e-mail to `address` among those after the
        first `after` e-mails."""
        return self._wait(
            lambda: [
                message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
                for message in self.emails()[after:]
                if message["To"] == address
            ],
            f"an e-mail to {address}",
        )

    def latest_sms_to(self, phone: str, *, after: int = 0) -> str:
        return self._wait(
            lambda: [message["text"] for message in self.sms()[after:] if message["to"] == phone],
            f"an SMS to {phone}",
        )

    def email_code(self, address: str) -> str:
        """The 6-digit code in the newest e-mail to `address`."""
        return _six_digit_code(self.latest_email_to(address))

    def sms_code(self, phone: str) -> str:
        """The 6-digit code in the newest SMS to `phone` (E.164)."""
        return _six_digit_code(self.latest_sms_to(phone))

    @staticmethod
    def _wait(read: Any, what: str) -> str:
        deadline = time.monotonic() + OUTBOX_WAIT_SECONDS
        while True:
            found = read()
            if found:
                return str(found[-1])
            if time.monotonic() > deadline:
                pytest.fail(f"The server sent no {what}.", pytrace=False)
            time.sleep(0.1)


@pytest.fixture
def outbox(live_server_url: str, settings: Any) -> Outbox:
    """The e-mails and SMS of the server started by `live_server_url`."""
    return Outbox(Path(settings.EMAIL_FILE_PATH), Path(settings.SANDBOX_SMS_OUTBOX_FILE))


@pytest.fixture
def orm(page: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lets a browser test use the ORM (to arrange rows and check the outcome).

    Playwright's sync API keeps an event loop running in the test's thread, which Django takes
    for an async context and refuses ORM calls in. The calls here are plain synchronous ones,
    so the guard is lifted, and only in the test process: `page` comes first, so the server
    was forked before and keeps the guard.
    """
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
