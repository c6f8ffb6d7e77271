"""Request ids carried through logs: one id per request, visible in every log line."""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")


@dataclass(frozen=True)
class ClientInfo:
    """Where the current request comes from, for the audit trail."""

    ip_address: str | None
    user_agent: str


client_var: ContextVar[ClientInfo | None] = ContextVar("client", default=None)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record so formatters can always print it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True
