"""WebSocket authentication: the browser's session cookie, or a short-lived JWT.

Browsers connect with their session cookie (the origin is checked by
AllowedHostsOriginValidator in config/asgi.py); a session of a 2FA account counts only once
its second factor was verified. Other clients pass their JWT access token,
which lives minutes, as ``?token=...``. Anything else is anonymous, and the consumer refuses
anonymous handshakes before accepting them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.contrib.auth.models import AnonymousUser


@database_sync_to_async
def _user_from_token(raw_token: str) -> Any:
    from rest_framework_simplejwt.authentication import JWTAuthentication
    from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken

    authentication = JWTAuthentication()
    try:
        validated = authentication.get_validated_token(raw_token.encode())
        return authentication.get_user(validated)
    except (InvalidToken, AuthenticationFailed):
        return AnonymousUser()


@database_sync_to_async
def _second_factor_missing(user: Any, session: Any) -> bool:
    """A session user with 2FA whose session never passed the second factor."""
    from django_otp import DEVICE_ID_SESSION_KEY, user_has_device
    from django_otp.models import Device

    if not user_has_device(user, confirmed=True):
        return False
    device = Device.from_persistent_id(session.get(DEVICE_ID_SESSION_KEY) or "")
    return device is None or device.user_id != user.pk


class SecondFactorMiddleware(BaseMiddleware):
    """Treats a password-only session of a 2FA account as anonymous, as the API does."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        user = scope.get("user")
        session = scope.get("session")
        if (
            user is not None
            and user.is_authenticated
            and session is not None
            and await _second_factor_missing(user, session)
        ):
            scope = dict(scope, user=AnonymousUser())
        return await super().__call__(scope, receive, send)


class TokenAuthMiddleware(BaseMiddleware):
    """Replaces the scope's user with the JWT's user when a ``token`` query parameter is sent."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        tokens = query.get("token")
        if tokens:
            scope = dict(scope, user=await _user_from_token(tokens[0]))
        return await super().__call__(scope, receive, send)


def RealtimeAuthMiddlewareStack(inner: Any) -> Any:  # noqa: N802 - named like Channels' stacks
    # Session user first, then the second-factor check on it, then a token may replace both.
    return AuthMiddlewareStack(SecondFactorMiddleware(TokenAuthMiddleware(inner)))
