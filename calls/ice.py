"""STUN and TURN servers for a call's browsers, with coturn's ephemeral TURN credentials.

coturn's "TURN REST API" (``use-auth-secret`` + ``static-auth-secret``) shares one secret with
us and stores no users: we hand each browser a username ``"<expiry unix time>:<user id>"`` and
a password ``base64(HMAC-SHA1(secret, username))``. coturn recomputes the HMAC from the
username and refuses the credentials once the expiry has passed, so a leaked pair is worth
CALLS_TURN_TTL_SECONDS at most and nothing has to be revoked.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
from typing import Any, NotRequired, TypedDict

from django.conf import settings
from django.utils import timezone


class IceServer(TypedDict):
    """One RTCIceServer, as ``new RTCPeerConnection({iceServers})`` takes it."""

    urls: list[str]
    username: NotRequired[str]
    credential: NotRequired[str]


class IceServersPayload(TypedDict):
    media_path: str
    ice_servers: list[IceServer]
    expires_at: datetime.datetime


def turn_credentials(*, secret: str, user_id: int, expires_at: int) -> tuple[str, str]:
    """coturn REST API credentials for ``user_id`` valid until the unix time ``expires_at``."""
    username = f"{expires_at}:{user_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def ice_servers_for(
    *, user: Any, now: datetime.datetime | None = None
) -> tuple[list[IceServer], datetime.datetime]:
    """The ICE servers for ``user``'s browser and when their TURN credentials expire.

    TURN is offered only with both URLs and a secret configured: without the secret coturn
    would refuse every allocation, and an ICE server that always fails only slows gathering.
    """
    now = now or timezone.now()
    expires_at = now + datetime.timedelta(seconds=settings.CALLS_TURN_TTL_SECONDS)
    servers: list[IceServer] = []
    if settings.CALLS_STUN_URLS:
        servers.append({"urls": list(settings.CALLS_STUN_URLS)})
    if settings.CALLS_TURN_URLS and settings.CALLS_TURN_SECRET:
        username, credential = turn_credentials(
            secret=settings.CALLS_TURN_SECRET,
            user_id=user.pk,
            expires_at=int(expires_at.timestamp()),
        )
        servers.append(
            {"urls": list(settings.CALLS_TURN_URLS), "username": username, "credential": credential}
        )
    return servers, expires_at


def call_ice_servers(
    *, call: Any, user: Any, now: datetime.datetime | None = None
) -> IceServersPayload:
    """What ``GET calls/<id>/ice-servers/`` answers (the caller checked the participant)."""
    servers, expires_at = ice_servers_for(user=user, now=now)
    return {"media_path": call.media_path, "ice_servers": servers, "expires_at": expires_at}
