"""An SMS adapter that sends nothing: messages go to an in-memory outbox.

For the embedded default (``make run``), where tasks run eagerly in the server process, and
for tests. With ``SANDBOX_SMS_OUTBOX_FILE`` set, each message is also appended to that file as
a JSON line. With ``DEBUG`` on, each message is also logged in full so the developer can read
the verification code in the console; production never configures this adapter.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from accounts.providers.sms import (
    SmsPermanentError,
    SmsProvider,
    SmsResult,
    is_e164,
    mask_phone,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SandboxMessage:
    """One message the sandbox pretended to send."""

    to: str
    text: str
    idempotency_key: str
    provider_message_id: str
    sent_at: datetime


_outbox: list[SandboxMessage] = []
# Eager tasks may run in several server threads at once (ASGI thread pool).
_outbox_lock = threading.Lock()


def outbox() -> list[SandboxMessage]:
    """A copy of every message sent so far, oldest first."""
    with _outbox_lock:
        return list(_outbox)


def clear() -> None:
    with _outbox_lock:
        _outbox.clear()


def last_text_to(phone: str) -> str | None:
    """The text of the latest message to ``phone``, or None if it was sent none."""
    with _outbox_lock:
        for message in reversed(_outbox):
            if message.to == phone:
                return message.text
    return None


class SandboxSms(SmsProvider):
    """Keeps every message in the outbox; fails only on numbers a real provider refuses."""

    name = "sandbox"

    def send(self, *, to: str, text: str, idempotency_key: str) -> SmsResult:
        # Same contract as the real adapter, so a malformed number fails in development too.
        if not is_e164(to):
            raise SmsPermanentError(
                "The destination is not an E.164 phone number.", code="invalid_request"
            )
        message = SandboxMessage(
            to=to,
            text=text,
            idempotency_key=idempotency_key,
            provider_message_id=f"sandbox-{uuid.uuid4()}",
            sent_at=timezone.now(),
        )
        with _outbox_lock:
            _outbox.append(message)
            outbox_file = getattr(settings, "SANDBOX_SMS_OUTBOX_FILE", "")
            if outbox_file:
                # A file another process can read: the browser tests' server runs in a child
                # process, and a developer may `tail -f` it.
                with open(outbox_file, "a", encoding="utf-8") as stream:
                    stream.write(json.dumps({"to": to, "text": text}) + "\n")
        if settings.DEBUG:
            logger.info("SMS to %s: %s", mask_phone(to), text)
        else:
            logger.info("SMS to %s kept in the sandbox outbox", mask_phone(to))
        return SmsResult(provider_message_id=message.provider_message_id, provider=self.name)
