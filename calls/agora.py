"""Agora RTC tokens: AccessToken2 (the "007" tokens), written from Agora's published format.

A token is ``"007" + base64(zlib(signature + signing_info))`` where, with every integer little
endian and every string a uint16 length followed by its bytes:

- ``signing_info`` = app id, issue timestamp (uint32), expire seconds (uint32), salt (uint32),
  the number of services (uint16), then each service: its type (uint16), its privileges as a
  uint16 count of (privilege uint16, expire seconds uint32) sorted by privilege, and for RTC
  the channel name and the uid as a decimal string (empty for uid 0);
- the signing key is HMAC-SHA256 chained over the issue timestamp and then the salt:
  ``HMAC(key=uint32(salt), msg=HMAC(key=uint32(issue_ts), msg=app_certificate))``;
- ``signature`` = HMAC-SHA256(signing key, signing_info), packed as a string.

Expiry values are seconds from ``issue_ts``, not timestamps. Agora checks the signature with the
App Certificate it holds, so the certificate never leaves the server.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import re
import secrets
import struct
import time
import zlib
from collections.abc import Iterable
from typing import Any, TypedDict

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.exceptions import ApplicationError

VERSION = "007"
SERVICE_RTC = 1
PRIVILEGE_JOIN_CHANNEL = 1
PRIVILEGE_PUBLISH_AUDIO = 2
PRIVILEGE_PUBLISH_VIDEO = 3
PRIVILEGE_PUBLISH_DATA = 4
PUBLISHER_PRIVILEGES = (
    PRIVILEGE_JOIN_CHANNEL,
    PRIVILEGE_PUBLISH_AUDIO,
    PRIVILEGE_PUBLISH_VIDEO,
    PRIVILEGE_PUBLISH_DATA,
)
# App IDs and App Certificates are 32 hexadecimal characters.
_HEX32 = re.compile(r"^[0-9A-Fa-f]{32}$")


def _uint16(value: int) -> bytes:
    return struct.pack("<H", value)


def _uint32(value: int) -> bytes:
    return struct.pack("<I", value)


def _string(value: bytes) -> bytes:
    return _uint16(len(value)) + value


def _signing_key(app_certificate: str, *, issue_ts: int, salt: int) -> bytes:
    key = hmac.new(_uint32(issue_ts), app_certificate.encode(), hashlib.sha256).digest()
    return hmac.new(_uint32(salt), key, hashlib.sha256).digest()


def _rtc_service(*, channel: str, uid: int | str, privileges: dict[int, int]) -> bytes:
    # uid 0 ("any uid") is packed as an empty string; others as their decimal text. A user
    # account (a string uid) is packed the same way, so str(2882341273) == 2882341273.
    uid_bytes = b"" if uid in (0, "0", "") else str(uid).encode()
    packed_privileges = _uint16(len(privileges)) + b"".join(
        _uint16(privilege) + _uint32(expire) for privilege, expire in sorted(privileges.items())
    )
    return _uint16(SERVICE_RTC) + packed_privileges + _string(channel.encode()) + _string(uid_bytes)


def rtc_token(
    *,
    app_id: str,
    app_certificate: str,
    channel: str,
    uid: int | str,
    expire: int,
    privileges: Iterable[int] = PUBLISHER_PRIVILEGES,
    privilege_expire: int | None = None,
    issue_ts: int | None = None,
    salt: int | None = None,
) -> str:
    """An AccessToken2 for one RTC channel and uid, valid ``expire`` seconds from ``issue_ts``.

    ``issue_ts`` (now by default) and ``salt`` (random by default) are parameters so a known
    token can be reproduced (Agora's published test vector).
    """
    if not _HEX32.match(app_id) or not _HEX32.match(app_certificate):
        raise ValueError("Agora App ID and App Certificate are 32 hexadecimal characters.")
    if len(channel.encode()) >= 64:
        raise ValueError("Agora channel names are under 64 bytes.")
    issue_ts = int(time.time()) if issue_ts is None else issue_ts
    salt = secrets.randbelow(99_999_999) + 1 if salt is None else salt
    privilege_expire = expire if privilege_expire is None else privilege_expire
    service = _rtc_service(
        channel=channel,
        uid=uid,
        privileges=dict.fromkeys(privileges, privilege_expire),
    )
    signing_info = (
        _string(app_id.encode())
        + _uint32(issue_ts)
        + _uint32(expire)
        + _uint32(salt)
        + _uint16(1)  # one service: RTC
        + service
    )
    key = _signing_key(app_certificate, issue_ts=issue_ts, salt=salt)
    signature = hmac.new(key, signing_info, hashlib.sha256).digest()
    content = zlib.compress(_string(signature) + signing_info)
    return VERSION + base64.b64encode(content).decode()


class AgoraUnavailableError(ApplicationError):
    status_code = 503
    code = "calls.agora_unavailable"
    default_message = _("Video calls through Agora are not available right now.")


class AgoraTokenPayload(TypedDict):
    app_id: str
    channel: str
    uid: int
    token: str
    expires_at: datetime.datetime


def channel_for_call(call_id: int) -> str:
    """The Agora channel of a call (both participants join the same one)."""
    return f"atende-call-{call_id}"


def agora_configured() -> bool:
    return bool(settings.AGORA_APP_ID and settings.AGORA_APP_CERTIFICATE)


def call_agora_token(
    *, call: Any, user: Any, now: datetime.datetime | None = None
) -> AgoraTokenPayload:
    """A publisher token for ``user`` in ``call``'s channel, its uid being the user id.

    The caller has already checked the user is a participant of the live call. Raises
    AgoraUnavailableError (503) when the App ID or App Certificate is not configured.
    """
    if not agora_configured():
        raise AgoraUnavailableError()
    now = now or timezone.now()
    ttl = settings.AGORA_TOKEN_TTL_SECONDS
    channel = channel_for_call(call.pk)
    token = rtc_token(
        app_id=settings.AGORA_APP_ID,
        app_certificate=settings.AGORA_APP_CERTIFICATE,
        channel=channel,
        uid=user.pk,
        expire=ttl,
        issue_ts=int(now.timestamp()),
    )
    return {
        "app_id": settings.AGORA_APP_ID,
        "channel": channel,
        "uid": user.pk,
        "token": token,
        "expires_at": now + datetime.timedelta(seconds=ttl),
    }
