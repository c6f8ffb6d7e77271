"""A local HTTP server that answers like BotConversa's REST API, for the adapter's tests.

``fake_botconversa`` starts one on 127.0.0.1 at a free port (the API lives under
``/api/v1/webhook/``, as BotConversa's does) and records every request. It knows the key
``API_KEY``; any other gets 401. Tell it to misbehave before calling::

    fake_botconversa.answer_server_errors(2)    # two 500s, then normal answers again
    fake_botconversa.answer(429, times=1)
    fake_botconversa.answer_unauthorized()       # the next answer is a 401
    fake_botconversa.answer_slowly(1.0)          # holds the next answer back for a second
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import pytest

API_KEY = "bc-test-key-0123456789abcdef"
PREFIX = "/api/v1/webhook/"
TAGS = [{"id": 11, "name": "lead"}, {"id": 12, "name": "Qualificado"}]
FLOWS = [{"id": 21, "name": "Boas-vindas"}, {"id": 22, "name": "Proposta"}]


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass(frozen=True)
class _Answer:
    status: int
    delay: float = 0.0


class FakeBotConversa:
    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        # phone (E.164) -> subscriber
        self.subscribers: dict[str, dict[str, Any]] = {}
        self._answers: deque[_Answer] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._running = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{PREFIX}"

    def start(self) -> None:
        self._thread.start()
        self._running = True

    def stop(self) -> None:
        if self._running:
            self._server.shutdown()
            self._running = False
        self._server.server_close()

    def add_subscriber(self, phone: str, subscriber_id: int, name: str = "Ana") -> None:
        self.subscribers[phone] = {
            "id": subscriber_id,
            "phone": phone,
            "first_name": name,
            "last_name": "",
            "tags": [],
        }

    def answer(self, status: int, *, times: int = 1) -> None:
        with self._lock:
            self._answers.extend(_Answer(status) for _ in range(times))

    def answer_unauthorized(self) -> None:
        self.answer(401)

    def answer_server_errors(self, times: int) -> None:
        self.answer(500, times=times)

    def answer_slowly(self, seconds: float) -> None:
        with self._lock:
            self._answers.append(_Answer(200, delay=seconds))

    def calls(self) -> list[tuple[str, str, Any]]:
        """(method, path under the API prefix, body) of every request, in order."""
        return [(item.method, item.path.removeprefix(PREFIX), item.body) for item in self.requests]

    def _route(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if not path.startswith(PREFIX):
            return 404, {"detail": "Not found."}
        rest = path.removeprefix(PREFIX)
        if method == "GET" and rest == "tags/":
            return 200, TAGS
        if method == "GET" and rest == "flows/":
            return 200, FLOWS
        found = re.fullmatch(r"subscriber/get_by_phone/([^/]+)/", rest)
        if method == "GET" and found:
            subscriber = self.subscribers.get(unquote(found.group(1)))
            return (200, subscriber) if subscriber else (404, {"detail": "Not found."})
        if method == "POST" and rest == "subscriber/":
            phone = body.get("phone") if isinstance(body, dict) else None
            if not phone:
                return 400, {"phone": ["This field is required."]}
            if phone not in self.subscribers:
                self.add_subscriber(phone, 500 + len(self.subscribers), body.get("first_name", ""))
            return 201, self.subscribers[phone]
        found = re.fullmatch(r"subscriber/(\d+)/(send_message|send_flow|tags/(\d+))/", rest)
        if method == "POST" and found:
            known = {str(item["id"]) for item in self.subscribers.values()}
            if found.group(1) not in known:
                return 404, {"detail": "Not found."}
            return 200, {}
        return 404, {"detail": "Not found."}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length", "0") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body: Any = json.loads(raw) if raw else None
                except ValueError:
                    body = raw
                with fake._lock:
                    fake.requests.append(
                        RecordedRequest(
                            method=method,
                            path=self.path,
                            headers={name.lower(): value for name, value in self.headers.items()},
                            body=body,
                        )
                    )
                    answer = fake._answers.popleft() if fake._answers else None
                if answer is not None and answer.delay:
                    time.sleep(answer.delay)
                if self.headers.get("API-KEY") != API_KEY:
                    status, reply = 401, {"detail": "Invalid API key."}
                elif answer is not None and answer.status != 200:
                    status, reply = answer.status, {"detail": "Error."}
                else:
                    with fake._lock:
                        status, reply = fake._route(method, self.path, body)
                payload = json.dumps(reply).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture(name="fake_botconversa")
def fake_botconversa_fixture() -> Iterator[FakeBotConversa]:
    fake = FakeBotConversa()
    fake.start()
    yield fake
    fake.stop()
