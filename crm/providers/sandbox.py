"""An in-memory BotConversa for the demo and local runs: nothing leaves the machine.

It answers like ``BotConversaApi``: the key ``demo`` is accepted (any other raises
``BotConversaAuthError``), a few tags and flows exist, subscribers are created on demand and
every call is recorded in ``calls`` (``clear()`` empties it).
"""

from __future__ import annotations

import threading
from typing import Any

from crm.providers.botconversa import (
    BotConversaAuthError,
    BotConversaCredentials,
    BotConversaPermanentError,
)

DEMO_KEY = "demo"
TAGS = [
    {"id": "1", "name": "lead"},
    {"id": "2", "name": "qualificado"},
    {"id": "3", "name": "cliente"},
]
FLOWS = [
    {"id": "10", "name": "Boas-vindas"},
    {"id": "11", "name": "Proposta enviada"},
]

_lock = threading.Lock()
_subscribers: dict[str, dict[str, Any]] = {}
calls: list[dict[str, Any]] = []


def clear() -> None:
    with _lock:
        _subscribers.clear()
        calls.clear()


class SandboxBotConversa:
    name = "sandbox"

    def _check(self, credentials: BotConversaCredentials, call: dict[str, Any]) -> None:
        if credentials.api_key != DEMO_KEY:
            raise BotConversaAuthError("BotConversa refused the API key (HTTP 401, sandbox).")
        with _lock:
            calls.append(call)

    def get_subscriber_by_phone(
        self, credentials: BotConversaCredentials, phone: str
    ) -> dict[str, Any] | None:
        self._check(credentials, {"call": "get_subscriber_by_phone", "phone": phone})
        with _lock:
            found = _subscribers.get(phone)
            return dict(found) if found else None

    def create_subscriber(
        self, credentials: BotConversaCredentials, *, phone: str, first_name: str, last_name: str
    ) -> dict[str, Any]:
        self._check(credentials, {"call": "create_subscriber", "phone": phone})
        with _lock:
            subscriber = _subscribers.get(phone)
            if subscriber is None:
                subscriber = {
                    "id": str(1000 + len(_subscribers) + 1),
                    "phone": phone,
                    "first_name": first_name,
                    "last_name": last_name,
                    "tags": [],
                }
                _subscribers[phone] = subscriber
            return dict(subscriber)

    def list_tags(self, credentials: BotConversaCredentials) -> list[dict[str, str]]:
        self._check(credentials, {"call": "list_tags"})
        return [dict(tag) for tag in TAGS]

    def list_flows(self, credentials: BotConversaCredentials) -> list[dict[str, str]]:
        self._check(credentials, {"call": "list_flows"})
        return [dict(flow) for flow in FLOWS]

    def _subscriber(self, subscriber_id: str) -> dict[str, Any]:
        for subscriber in _subscribers.values():
            if subscriber["id"] == str(subscriber_id):
                return subscriber
        raise BotConversaPermanentError("BotConversa refused the request (HTTP 404, sandbox).")

    def add_tag(self, credentials: BotConversaCredentials, subscriber_id: str, tag_id: str) -> None:
        self._check(
            credentials, {"call": "add_tag", "subscriber_id": subscriber_id, "tag_id": tag_id}
        )
        with _lock:
            subscriber = self._subscriber(subscriber_id)
            if tag_id not in subscriber["tags"]:
                subscriber["tags"].append(tag_id)

    def send_message(
        self, credentials: BotConversaCredentials, subscriber_id: str, text: str
    ) -> None:
        self._check(
            credentials, {"call": "send_message", "subscriber_id": subscriber_id, "text": text}
        )
        with _lock:
            self._subscriber(subscriber_id)

    def send_flow(
        self, credentials: BotConversaCredentials, subscriber_id: str, flow_id: str
    ) -> None:
        self._check(
            credentials, {"call": "send_flow", "subscriber_id": subscriber_id, "flow_id": flow_id}
        )
        with _lock:
            self._subscriber(subscriber_id)
