"""BotConversa's REST API (the "webhook" API of a BotConversa account), over plain urllib.

Which documented call each method makes
---------------------------------------
BotConversa publishes no developer guide; its API is described by a Swagger document at
``https://backend.botconversa.com.br/swagger/`` that integrators quote. Every path below is
relative to the connection's ``api_url`` (by default
``https://backend.botconversa.com.br/api/v1/webhook/``) and every request carries the account's
key in the ``API-KEY`` header.

* ``get_subscriber_by_phone``: ``GET subscriber/get_by_phone/{phone}/``. 200 with the
  subscriber (``id``, ``phone``, ``first_name``, ``last_name``, ``tags``...); 404 when the
  number is not a subscriber, which we answer with None.
* ``create_subscriber``: ``POST subscriber/`` with ``{"phone", "first_name", "last_name",
  "has_opt_in_whatsapp": true}``; the answer is the subscriber.
* ``list_tags``: ``GET tags/``: ``[{"id", "name"}, ...]``.
* ``list_flows``: ``GET flows/``: ``[{"id", "name"}, ...]``.
* ``add_tag``: ``POST subscriber/{subscriber_id}/tags/{tag_id}/`` with an empty JSON object.
* ``send_message``: ``POST subscriber/{subscriber_id}/send_message/`` with
  ``{"type": "text", "value": text}``.
* ``send_flow``: ``POST subscriber/{subscriber_id}/send_flow/`` with ``{"flow": flow_id}``.

Where the documentation was uncertain
-------------------------------------
* The phone in ``get_by_phone``: one integrator reading the Swagger says E.164 with the "+",
  URL-encoded; most public clients send the digits only (``5511...``). We send E.164
  URL-encoded (``%2B5511...``); ``PHONE_IN_PATH`` is the one place to change.
* ``has_opt_in_whatsapp`` on creation is reported by one integrator only; without it the
  subscriber reportedly cannot receive WhatsApp messages, so we always send it true.
* The list answers: the clients seen read a bare JSON array; a paginated
  ``{"results": [...]}`` is read too, in case the Swagger's list views paginate.
* Ids are numbers in the answers seen; we keep them as strings.
* The error bodies are not documented; we never quote them (they may echo the request).
* A rate limit of 600 requests per minute appears in one third-party page only; a 429 is
  treated as retryable whatever the limit is.
* Status changes: a ``subscriber/{id}/change_conversation_status/`` call appears in one client
  generated from the Swagger, without its body; we do not call it.

Errors: a timeout, a connection failure, a 5xx or a 429 raise ``BotConversaRetryableError``;
401/403 ``BotConversaAuthError``; any other 4xx ``BotConversaPermanentError``. The adapter does
not retry by itself: the dispatch task does, with a growing delay. The API key never appears in
logs or error messages, and redirects are refused (urllib would carry the key along).
"""

from __future__ import annotations

import http.client
import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from django.conf import settings

logger = logging.getLogger(__name__)

SUBSCRIBER_BY_PHONE_PATH = "subscriber/get_by_phone/{phone}/"
SUBSCRIBER_PATH = "subscriber/"
TAGS_PATH = "tags/"
FLOWS_PATH = "flows/"
ADD_TAG_PATH = "subscriber/{subscriber_id}/tags/{tag_id}/"
SEND_MESSAGE_PATH = "subscriber/{subscriber_id}/send_message/"
SEND_FLOW_PATH = "subscriber/{subscriber_id}/send_flow/"
# E.164 with its "+", percent-encoded (see "Where the documentation was uncertain").
PHONE_IN_PATH = True

DEFAULT_TIMEOUT_SECONDS = 10.0


class BotConversaError(Exception):
    """A call to BotConversa failed. The message names the operation and the HTTP status,
    never the key nor BotConversa's answer."""

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        super().__init__(message)
        self.http_status = http_status


class BotConversaRetryableError(BotConversaError):
    """May succeed later: a timeout, no connection, a 5xx, a 429."""


class BotConversaAuthError(BotConversaError):
    """BotConversa refused the API key (401/403)."""


class BotConversaPermanentError(BotConversaError):
    """BotConversa refused the request itself (another 4xx, or an answer we cannot read)."""


@dataclass(frozen=True)
class BotConversaCredentials:
    """Where an organization's account is and its key (decrypted only for the call)."""

    api_url: str
    api_key: str = field(repr=False)


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    # urllib would follow a redirect with our API-KEY header to wherever it points.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_RefuseRedirects)


def _segment(value: object) -> str:
    """One path segment: everything percent-encoded, so an id cannot add path parts."""
    text = str(value)
    if not text:
        raise BotConversaPermanentError("An empty id cannot be sent to BotConversa.")
    return quote(text, safe="")


class BotConversaApi:
    """The real adapter; one instance serves every organization (credentials per call)."""

    name = "botconversa"

    def __init__(self, *, timeout: float | None = None) -> None:
        self._timeout = timeout

    # --- The interface ------------------------------------------------------------------

    def get_subscriber_by_phone(
        self, credentials: BotConversaCredentials, phone: str
    ) -> dict[str, Any] | None:
        """``GET subscriber/get_by_phone/{phone}/``; None when BotConversa answers 404."""
        number = phone if PHONE_IN_PATH else phone.removeprefix("+")
        try:
            payload = self._call(
                credentials,
                "GET",
                SUBSCRIBER_BY_PHONE_PATH.format(phone=_segment(number)),
                operation="look up a subscriber",
            )
        except BotConversaPermanentError as exc:
            if exc.http_status == 404:
                return None
            raise
        return _subscriber(payload, "look up a subscriber")

    def create_subscriber(
        self, credentials: BotConversaCredentials, *, phone: str, first_name: str, last_name: str
    ) -> dict[str, Any]:
        """``POST subscriber/`` (opted in to WhatsApp); the new subscriber."""
        payload = self._call(
            credentials,
            "POST",
            SUBSCRIBER_PATH,
            body={
                "phone": phone,
                "first_name": first_name,
                "last_name": last_name,
                "has_opt_in_whatsapp": True,
            },
            operation="create a subscriber",
        )
        return _subscriber(payload, "create a subscriber")

    def list_tags(self, credentials: BotConversaCredentials) -> list[dict[str, str]]:
        """``GET tags/``: ``[{"id", "name"}]``."""
        return _named_items(
            self._call(credentials, "GET", TAGS_PATH, operation="list tags"), "list tags"
        )

    def list_flows(self, credentials: BotConversaCredentials) -> list[dict[str, str]]:
        """``GET flows/``: ``[{"id", "name"}]``."""
        return _named_items(
            self._call(credentials, "GET", FLOWS_PATH, operation="list flows"), "list flows"
        )

    def add_tag(self, credentials: BotConversaCredentials, subscriber_id: str, tag_id: str) -> None:
        """``POST subscriber/{id}/tags/{tag_id}/``."""
        self._call(
            credentials,
            "POST",
            ADD_TAG_PATH.format(subscriber_id=_segment(subscriber_id), tag_id=_segment(tag_id)),
            body={},
            operation="add a tag",
        )

    def send_message(
        self, credentials: BotConversaCredentials, subscriber_id: str, text: str
    ) -> None:
        """``POST subscriber/{id}/send_message/`` with a text message."""
        self._call(
            credentials,
            "POST",
            SEND_MESSAGE_PATH.format(subscriber_id=_segment(subscriber_id)),
            body={"type": "text", "value": text},
            operation="send a message",
        )

    def send_flow(
        self, credentials: BotConversaCredentials, subscriber_id: str, flow_id: str
    ) -> None:
        """``POST subscriber/{id}/send_flow/`` with ``{"flow": <id>}`` (a number when it is one)."""
        flow: int | str = int(flow_id) if str(flow_id).isdigit() else str(flow_id)
        self._call(
            credentials,
            "POST",
            SEND_FLOW_PATH.format(subscriber_id=_segment(subscriber_id)),
            body={"flow": flow},
            operation="start a flow",
        )

    # --- HTTP -----------------------------------------------------------------------------

    def _timeout_seconds(self) -> float:
        configured = self._timeout or getattr(settings, "BOTCONVERSA_TIMEOUT_SECONDS", 0)
        return float(configured or DEFAULT_TIMEOUT_SECONDS)

    def _call(
        self,
        credentials: BotConversaCredentials,
        method: str,
        path: str,
        *,
        operation: str,
        body: dict[str, Any] | None = None,
    ) -> Any:
        base = credentials.api_url
        if urlsplit(base).scheme not in ("https", "http"):
            raise BotConversaPermanentError("The BotConversa address must be an http(s) URL.")
        if not credentials.api_key:
            raise BotConversaAuthError("No BotConversa API key is configured.")
        url = base.rstrip("/") + "/" + path
        headers = {"API-KEY": credentials.api_key, "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        # The scheme was checked above: only http(s), never file: or ftp:.
        request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
        timeout = self._timeout_seconds()
        try:
            with _opener.open(request, timeout=timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            with exc:
                status, raw = exc.code, b""
        except TimeoutError:
            raise self._logged(
                BotConversaRetryableError(
                    f"BotConversa did not answer within {timeout:g} s ({operation})."
                ),
                operation,
            ) from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise self._logged(
                    BotConversaRetryableError(
                        f"BotConversa did not answer within {timeout:g} s ({operation})."
                    ),
                    operation,
                ) from None
            raise self._logged(
                BotConversaRetryableError(
                    f"Could not connect to BotConversa ({operation}: {_describe(exc.reason)})."
                ),
                operation,
            ) from None
        except (OSError, http.client.HTTPException) as exc:
            raise self._logged(
                BotConversaRetryableError(
                    f"Could not connect to BotConversa ({operation}: {_describe(exc)})."
                ),
                operation,
            ) from None
        if 200 <= status < 300:
            if not raw.strip():
                return {}
            try:
                return json.loads(raw)
            except ValueError:
                raise self._logged(
                    BotConversaPermanentError(
                        f"BotConversa answered something that is not JSON ({operation}).",
                        http_status=status,
                    ),
                    operation,
                ) from None
        error = _error_for(status, operation)
        if status != 404:
            self._logged(error, operation)
        raise error

    @staticmethod
    def _logged(error: BotConversaError, operation: str) -> BotConversaError:
        logger.warning("BotConversa call failed (%s): %s", operation, error)
        return error


def _error_for(status: int, operation: str) -> BotConversaError:
    if status in (401, 403):
        return BotConversaAuthError(
            f"BotConversa refused the API key (HTTP {status}, {operation}).", http_status=status
        )
    if status == 429:
        return BotConversaRetryableError(
            f"BotConversa is rate limiting us (HTTP 429, {operation}).", http_status=status
        )
    if status >= 500:
        return BotConversaRetryableError(
            f"BotConversa failed (HTTP {status}, {operation}).", http_status=status
        )
    return BotConversaPermanentError(
        f"BotConversa refused the request (HTTP {status}, {operation}).", http_status=status
    )


def _subscriber(payload: Any, operation: str) -> dict[str, Any]:
    if not isinstance(payload, dict) or payload.get("id") in (None, ""):
        raise BotConversaPermanentError(f"BotConversa answered without a subscriber ({operation}).")
    return {**payload, "id": str(payload["id"])}


def _named_items(payload: Any, operation: str) -> list[dict[str, str]]:
    items = payload.get("results") if isinstance(payload, dict) else payload
    if not isinstance(items, list):
        raise BotConversaPermanentError(f"BotConversa answered an unexpected list ({operation}).")
    return [
        {"id": str(item["id"]), "name": str(item.get("name") or "")}
        for item in items
        if isinstance(item, dict) and item.get("id") not in (None, "")
    ]


def _describe(reason: object) -> str:
    # The exception's type only: its text may hold the URL, and the URL is the customer's.
    return type(reason).__name__ if isinstance(reason, BaseException) else "connection error"
