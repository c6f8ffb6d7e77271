"""The SMS provider interface: one ``send`` call, one result type, two kinds of failure.

Callers (a Celery task, never a request inside a transaction) do::

    provider: SmsProvider = load_provider("accounts.sms")
    try:
        result = provider.send(to="+5511987654321", text=..., idempotency_key=...)
    except SmsTemporaryError:
        ...  # retry the task later, with the same idempotency key
    except SmsPermanentError:
        ...  # give up: record the failure, do not retry

The text of a verification SMS is a secret (it carries the code) and so is the API token:
neither may appear in a log line or an exception message. Destinations are logged masked.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass

# E.164: a plus, a country code that does not start with 0, at most 15 digits in all.
E164_PATTERN = re.compile(r"^\+[1-9]\d{7,14}$")


@dataclass(frozen=True)
class SmsResult:
    """What the provider answered for an accepted message."""

    provider_message_id: str
    provider: str


class SmsError(Exception):
    """The message was not accepted. ``code`` is stable; the message never holds secrets."""

    default_code = "sms_error"

    def __init__(self, message: str, *, code: str | None = None, http_status: int | None = None):
        super().__init__(message)
        self.code = code or self.default_code
        self.http_status = http_status


class SmsPermanentError(SmsError):
    """Retrying cannot help: bad credentials, an invalid number or request. Do not retry."""

    default_code = "rejected"


class SmsTemporaryError(SmsError):
    """The provider could not be reached or was overloaded. The caller's task retries."""

    default_code = "unavailable"


class SmsProvider(ABC):
    """Sends one text message to one phone number."""

    name: str

    @abstractmethod
    def send(self, *, to: str, text: str, idempotency_key: str) -> SmsResult:
        """Send ``text`` to ``to`` (E.164, e.g. ``+5511987654321``).

        ``idempotency_key`` identifies the message in our system; a retry of the same message
        passes the same key, so a provider that deduplicates can drop the second copy.
        Raises SmsPermanentError or SmsTemporaryError.
        """


def is_e164(phone: str) -> bool:
    return bool(E164_PATTERN.fullmatch(phone))


def mask_phone(phone: str) -> str:
    """``+5511987654321`` -> ``+55119****4321``: enough to tell numbers apart in a log."""
    if len(phone) <= 10:
        # Too short to show both ends without showing most of it.
        return "*" * max(len(phone) - 2, 0) + phone[-2:]
    return phone[:6] + "*" * (len(phone) - 10) + phone[-4:]
