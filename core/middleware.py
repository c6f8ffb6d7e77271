"""HTTP middleware with no business rules: request ids and client info for logs and audit."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse, HttpResponseBase

from core.logging import ClientInfo, client_var, request_id_var

# An id from a trusted proxy is kept so logs line up across hops; anything odd is replaced
# so a client cannot inject text into log lines.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _request_id(request: HttpRequest) -> str:
    incoming = request.headers.get("X-Request-ID", "")
    request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
    # REMOTE_ADDR is the client as daphne saw it (with --proxy-headers, as the proxy said).
    client_var.set(
        ClientInfo(
            ip_address=request.META.get("REMOTE_ADDR") or None,
            user_agent=request.headers.get("User-Agent", "")[:300],
        )
    )
    return request_id


class RequestIdMiddleware:
    """Gives each request an id, exposes it in logs and in the ``X-Request-ID`` header."""

    sync_capable = True
    async_capable = True

    def __init__(
        self, get_response: Callable[[HttpRequest], HttpResponse | Awaitable[HttpResponse]]
    ):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):  # type: ignore[no-untyped-def]
        if self.is_async:
            return self.__acall__(request)
        request_id = _request_id(request)
        # Not reset on the way out: Django logs the response ("Not Found: /x") after the
        # middleware chain returns, and that line must carry the id too. Each request sets
        # its own id first, and under ASGI each request runs in its own context anyway.
        request_id_var.set(request_id)
        response = self.get_response(request)
        # Streaming and file responses (WhiteNoise) are HttpResponseBase, not HttpResponse.
        assert isinstance(response, HttpResponseBase)
        response["X-Request-ID"] = request_id
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        request_id = _request_id(request)
        request_id_var.set(request_id)
        response = await self.get_response(request)  # type: ignore[misc]
        response["X-Request-ID"] = request_id
        return response
