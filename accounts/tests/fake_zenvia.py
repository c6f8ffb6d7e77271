"""A local HTTP server that answers like Zenvia's v2 SMS API, for the real adapter's tests.

``fake_zenvia`` starts one on 127.0.0.1 at a free port and records every request. By default
it accepts each message; tell it otherwise before sending::

    fake_zenvia.answer_unauthorized()
    fake_zenvia.answer_server_errors(2)      # two 500s, then acceptance again
    fake_zenvia.answer(429, {"code": "TOO_MANY_REQUESTS", "message": "Too many requests"})
    fake_zenvia.answer_slowly(1.0)            # holds the next answer back for a second
    fake_zenvia.stop()                        # nothing listens any more: connection refused

Response bodies follow Zenvia's documented shapes: the message object on success, and
``{"code": ..., "message": ...}`` on errors.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    # Header names lower-cased: HTTP does not care about their case, and urllib changes it.
    headers: dict[str, str]
    body: Any


@dataclass(frozen=True)
class _Answer:
    status: int
    body: dict[str, Any] | None  # None: the message object of an accepted message
    delay: float = 0.0


def message_id_for(number: int) -> str:
    """The id the fake gives the ``number``-th accepted message (1-based), UUID-shaped."""
    return f"6f1c2a5e-0d4b-4c3e-9a7f-{number:012d}"


class FakeZenvia:
    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._answers: deque[_Answer] = deque()
        self._accepted = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        # A short poll keeps shutdown() quick; the default half second adds up across tests.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._running = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> None:
        self._thread.start()
        self._running = True

    def stop(self) -> None:
        if self._running:
            self._server.shutdown()
            self._running = False
        self._server.server_close()

    def answer(self, status: int, body: dict[str, Any] | None = None, *, times: int = 1) -> None:
        with self._lock:
            self._answers.extend(_Answer(status, body) for _ in range(times))

    def answer_unauthorized(self) -> None:
        self.answer(401, {"code": "AUTHENTICATION_ERROR", "message": "Invalid API token"})

    def answer_server_errors(self, times: int) -> None:
        self.answer(500, {"code": "INTERNAL_ERROR", "message": "Internal error"}, times=times)

    def answer_slowly(self, seconds: float) -> None:
        with self._lock:
            self._answers.append(_Answer(200, None, delay=seconds))

    def _next_answer(self) -> _Answer:
        with self._lock:
            return self._answers.popleft() if self._answers else _Answer(200, None)

    def _accept(self, request_body: Any) -> dict[str, Any]:
        with self._lock:
            self._accepted += 1
            number = self._accepted
        request_body = request_body if isinstance(request_body, dict) else {}
        return {
            "id": message_id_for(number),
            "from": request_body.get("from"),
            "to": request_body.get("to"),
            "direction": "OUT",
            "channel": "sms",
            "contents": request_body.get("contents"),
            "timestamp": "2024-05-02T13:04:05.000Z",
        }

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    body: Any = json.loads(raw)
                except ValueError:
                    body = raw
                with fake._lock:
                    fake.requests.append(
                        RecordedRequest(
                            method="POST",
                            path=self.path,
                            headers={name.lower(): value for name, value in self.headers.items()},
                            body=body,
                        )
                    )
                answer = fake._next_answer()
                if answer.delay:
                    time.sleep(answer.delay)
                if self.path != "/v2/channels/sms/messages":
                    status, reply = 404, {"code": "NOT_FOUND", "message": "Not found"}
                elif answer.body is None and 200 <= answer.status < 300:
                    status, reply = answer.status, fake._accept(body)
                else:
                    status, reply = answer.status, answer.body or {}
                payload = json.dumps(reply).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    # A client that timed out has hung up; that is what the test wanted.
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                # Quiet: the test output is for assertions, not an access log.
                pass

        return Handler


@pytest.fixture(name="fake_zenvia")
def fake_zenvia_fixture() -> Iterator[FakeZenvia]:
    fake = FakeZenvia()
    fake.start()
    yield fake
    fake.stop()
