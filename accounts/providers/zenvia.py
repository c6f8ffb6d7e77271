"""SMS through Zenvia's v2 API (https://zenvia.github.io/zenvia-openapi-spec/v2/).

One message is one request::

    POST {ZENVIA_API_URL}/v2/channels/sms/messages
    X-API-TOKEN: <token>
    Content-Type: application/json

    {"from": "<sender alias>", "to": "5511987654321",
     "contents": [{"type": "text", "text": "..."}], "externalId": "<idempotency key>"}

Zenvia answers 200 with the message object, whose ``id`` we keep. Errors come as 4xx/5xx
with ``{"code": "...", "message": "..."}``; Zenvia's documented table says only 5xx are
worth retrying. ``to`` is the full number with country code and no ``+``.

Settings are read at each send, not at construction: ``load_provider`` caches one instance
per dotted path for the life of the process, and a cached instance must not keep a stale
token or URL after the settings change (``override_settings`` in tests, a rotated token).
"""

from __future__ import annotations

import http.client
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from accounts.providers.sms import (
    SmsError,
    SmsPermanentError,
    SmsProvider,
    SmsResult,
    SmsTemporaryError,
    is_e164,
    mask_phone,
)

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.zenvia.com"
MESSAGES_PATH = "/v2/channels/sms/messages"
DEFAULT_TIMEOUT_SECONDS = 10.0
# Two quick retries smooth over a blip; anything longer is the Celery task's job.
DEFAULT_RETRY_DELAYS: tuple[float, ...] = (0.2, 0.5)


@dataclass(frozen=True)
class _Config:
    api_token: str
    sender: str
    messages_url: str
    timeout: float


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    # urllib would follow a redirect with our headers, X-API-TOKEN included, to wherever
    # it points. Zenvia's API does not redirect, so a redirect is an error, not a hop.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_RefuseRedirects)


class _ConnectionFailedError(Exception):
    """The request may not have reached Zenvia; safe to try again at once."""


class _NoAnswerError(Exception):
    """Zenvia did not answer in time."""


class ZenviaSms(SmsProvider):
    """The real SMS adapter. Constructor arguments override settings (tests use them)."""

    name = "zenvia"

    def __init__(
        self,
        *,
        api_token: str | None = None,
        sender: str | None = None,
        api_url: str | None = None,
        timeout: float | None = None,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._api_token = api_token
        self._sender = sender
        self._api_url = api_url
        self._timeout = timeout
        self._retry_delays = tuple(retry_delays)
        self._sleep = sleep

    def send(self, *, to: str, text: str, idempotency_key: str) -> SmsResult:
        """POST the message; retry at most ``len(retry_delays)`` times on 5xx or no connection.

        4xx are never retried: 401/403 raise SmsPermanentError("auth"), 400/422
        SmsPermanentError("invalid_request"), 429 SmsTemporaryError("rate_limited"). A
        timeout raises SmsTemporaryError("timeout") without retrying here: Zenvia may already
        have the message, and three slow attempts would hold the worker for 30 s.
        """
        masked = mask_phone(to)
        if not is_e164(to):
            raise SmsPermanentError(
                "The destination is not an E.164 phone number.", code="invalid_request"
            )
        config = self._config()
        body = json.dumps(
            {
                "from": config.sender,
                "to": to.removeprefix("+"),
                "contents": [{"type": "text", "text": text}],
                "externalId": idempotency_key,
            }
        ).encode()

        attempts = len(self._retry_delays) + 1
        for attempt in range(1, attempts + 1):
            try:
                status, payload = self._post(config, body)
            except _NoAnswerError:
                logger.warning("Zenvia did not answer in time for SMS to %s", masked)
                raise SmsTemporaryError(
                    f"Zenvia did not answer within {config.timeout:g} s.", code="timeout"
                ) from None
            except _ConnectionFailedError as exc:
                error: SmsError = SmsTemporaryError(
                    f"Could not connect to Zenvia ({exc}).", code="connection_error"
                )
            else:
                if 200 <= status < 300:
                    return self._result(payload, masked)
                error = _error_for(status, payload)
                if status < 500:
                    logger.warning(
                        "Zenvia refused SMS to %s: %s", masked, error, extra={"code": error.code}
                    )
                    raise error

            if attempt == attempts:
                logger.warning(
                    "Zenvia SMS to %s failed after %d attempts: %s", masked, attempts, error
                )
                raise error
            delay = self._retry_delays[attempt - 1]
            logger.info(
                "Zenvia SMS to %s failed (attempt %d of %d), retrying in %g s: %s",
                masked,
                attempt,
                attempts,
                delay,
                error,
            )
            self._sleep(delay)
        raise AssertionError("unreachable: the loop returns or raises")

    def _config(self) -> _Config:
        api_token = self._api_token or getattr(settings, "ZENVIA_API_TOKEN", "")
        sender = self._sender or getattr(settings, "ZENVIA_SMS_FROM", "")
        api_url = self._api_url or getattr(settings, "ZENVIA_API_URL", "") or DEFAULT_API_URL
        timeout = self._timeout or getattr(settings, "ZENVIA_TIMEOUT_SECONDS", 0)
        if not api_token or not sender:
            raise ImproperlyConfigured("ZENVIA_API_TOKEN and ZENVIA_SMS_FROM must be set.")
        if urlsplit(api_url).scheme not in ("https", "http"):
            raise ImproperlyConfigured("ZENVIA_API_URL must be an http(s) URL.")
        return _Config(
            api_token=api_token,
            sender=sender,
            messages_url=api_url.rstrip("/") + MESSAGES_PATH,
            timeout=float(timeout or DEFAULT_TIMEOUT_SECONDS),
        )

    def _post(self, config: _Config, body: bytes) -> tuple[int, bytes]:
        # The scheme was checked in _config: only http(s), never file: or ftp:.
        request = urllib.request.Request(  # noqa: S310
            config.messages_url,
            data=body,
            method="POST",
            headers={
                "X-API-TOKEN": config.api_token,
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
        )
        try:
            with _opener.open(request, timeout=config.timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, exc.read()
        except TimeoutError as exc:
            raise _NoAnswerError from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise _NoAnswerError from exc
            raise _ConnectionFailedError(_describe(exc.reason)) from exc
        except (OSError, http.client.HTTPException) as exc:
            raise _ConnectionFailedError(_describe(exc)) from exc

    def _result(self, payload: bytes, masked: str) -> SmsResult:
        message_id = _json_object(payload).get("id")
        if not isinstance(message_id, str) or not message_id:
            # Zenvia took the request but we cannot tell which message it made. Temporary,
            # so the task tries again; the retry carries the same externalId.
            raise SmsTemporaryError("Zenvia answered without a message id.", code="bad_response")
        logger.info("Zenvia accepted SMS to %s as %s", masked, message_id)
        return SmsResult(provider_message_id=message_id, provider=self.name)


def _error_for(status: int, payload: bytes) -> SmsError:
    # Only Zenvia's error code goes into our messages. Its "message" and "details" may
    # quote the request back, and the request holds the verification code.
    zenvia_code = _json_object(payload).get("code")
    known_code = isinstance(zenvia_code, str) and zenvia_code.isidentifier()
    suffix = f", {zenvia_code}" if known_code else ""
    if status in (401, 403):
        return SmsPermanentError(
            f"Zenvia refused the API token (HTTP {status}{suffix}).",
            code="auth",
            http_status=status,
        )
    if status in (400, 422):
        return SmsPermanentError(
            f"Zenvia refused the message as invalid (HTTP {status}{suffix}).",
            code="invalid_request",
            http_status=status,
        )
    if status == 429:
        return SmsTemporaryError(
            f"Zenvia is rate limiting us (HTTP 429{suffix}).", code="rate_limited", http_status=429
        )
    if status >= 500:
        return SmsTemporaryError(
            f"Zenvia failed (HTTP {status}{suffix}).", code="server_error", http_status=status
        )
    return SmsPermanentError(
        f"Zenvia answered HTTP {status}{suffix}.", code="rejected", http_status=status
    )


def _json_object(payload: bytes) -> dict[str, Any]:
    try:
        value = json.loads(payload)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _describe(reason: object) -> str:
    return type(reason).__name__ if isinstance(reason, BaseException) else str(reason)
