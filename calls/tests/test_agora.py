"""Agora AccessToken2 ("007") RTC tokens, checked against Agora's published test vectors."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import struct
import zlib
from typing import Any

import pytest

from accounts.tests.helpers import assert_error, client_for
from calls import agora
from calls.models import CallStatus
from calls.tests import factories
from calls.tests.media_helpers import make_call

# The fixed inputs of the unit tests in Agora's own token builders (AgoraIO/Tools,
# DynamicKey/AgoraDynamicKey: python3/test/AccessToken2Test.py, and the same values and
# expected tokens in the C++, Go, Node and C# tests).
APP_ID = "970CA35de60c44645bbae8a215061b33"
APP_CERTIFICATE = "5CFd2fd1755d40ecb72977518be15d3b"
CHANNEL = "7d72365eb983485397e3e3f9d460bdda"
UID = 2882341273
EXPIRE = 600
ISSUE_TS = 1111111
SALT = 1
# ServiceRtc with the join-channel privilege only, for uid 2882341273 and for uid 0.
VECTOR_UID = (
    "007eJxTYBBbsMMnKq7p9Hf/HcIX5kce9b518kCiQgSr5Zrp4X1Tu6UUGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcw"
    "Mk4yN3b8IMEQwMTAwMoAwBIL4CgzmKeZGxmamqUmWFsYmFqbGluapxqnGaZYpJmYGSSkpiVwMRhYWRsYmhkbmxgDCaiTj"
)
VECTOR_UID_0 = (
    "007eJxTYLhzZP08Lxa1Pg57+TcXb/3cZ3wi4V6kbpbOog0G2dOYk20UGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcw"
    "Mk4yN3b8IMEQwMTAwMoAwBIL4CgzmKeZGxmamqUmWFsYmFqbGluapxqnGaZYpJmYGSSkpiQwMADacImo="
)

URL = "/api/v1/calls/{}/agora-token/"


def vector_token(uid: int) -> str:
    return agora.rtc_token(
        app_id=APP_ID,
        app_certificate=APP_CERTIFICATE,
        channel=CHANNEL,
        uid=uid,
        expire=EXPIRE,
        privileges=[agora.PRIVILEGE_JOIN_CHANNEL],
        issue_ts=ISSUE_TS,
        salt=SALT,
    )


def decode(token: str) -> dict[str, Any]:
    """Unpack a 007 token (independently of calls.agora) to look at what it grants."""
    assert token.startswith("007")
    buffer = zlib.decompress(base64.b64decode(token[3:]))
    position = 0

    def take(fmt: str) -> Any:
        nonlocal position
        value = struct.unpack_from(fmt, buffer, position)[0]
        position += struct.calcsize(fmt)
        return value

    def string() -> bytes:
        nonlocal position
        length = take("<H")
        value = buffer[position : position + length]
        position += length
        return value

    signature = string()
    signed_from = position
    fields: dict[str, Any] = {
        "app_id": string().decode(),
        "issue_ts": take("<I"),
        "expire": take("<I"),
        "salt": take("<I"),
    }
    services = take("<H")
    assert services == 1
    fields["service"] = take("<H")
    fields["privileges"] = {take("<H"): take("<I") for _ in range(take("<H"))}
    fields["channel"] = string().decode()
    fields["uid"] = string().decode()
    assert position == len(buffer)
    fields["signed"] = buffer[signed_from:]
    fields["signature"] = signature
    return fields


def test_a_token_for_a_uid_matches_agoras_published_vector() -> None:
    assert vector_token(UID) == VECTOR_UID


def test_a_token_for_uid_0_matches_agoras_published_vector() -> None:
    assert vector_token(0) == VECTOR_UID_0


def test_a_publisher_token_grants_join_and_publishing_audio_video_and_data() -> None:
    token = agora.rtc_token(
        app_id=APP_ID,
        app_certificate=APP_CERTIFICATE,
        channel="atende-call-9",
        uid=31,
        expire=3600,
        issue_ts=1_700_000_000,
        salt=99,
    )

    fields = decode(token)
    assert {key: value for key, value in fields.items() if key not in ("signed", "signature")} == {
        "app_id": APP_ID,
        "issue_ts": 1_700_000_000,
        "expire": 3600,
        "salt": 99,
        "service": 1,
        "privileges": {1: 3600, 2: 3600, 3: 3600, 4: 3600},
        "channel": "atende-call-9",
        "uid": "31",
    }
    # Signed with the key derived from the certificate, the issue time and the salt.
    key = hmac.new(struct.pack("<I", 1_700_000_000), APP_CERTIFICATE.encode(), hashlib.sha256)
    key = hmac.new(struct.pack("<I", 99), key.digest(), hashlib.sha256)
    assert fields["signature"] == hmac.new(key.digest(), fields["signed"], hashlib.sha256).digest()


def test_two_tokens_differ_by_their_random_salt() -> None:
    first, second = (
        agora.rtc_token(
            app_id=APP_ID, app_certificate=APP_CERTIFICATE, channel="c", uid=1, expire=60
        )
        for _ in range(2)
    )

    assert first != second


@pytest.mark.parametrize(
    ("app_id", "certificate", "channel"),
    [
        ("not-an-app-id", APP_CERTIFICATE, "c"),
        (APP_ID, "short", "c"),
        (APP_ID, APP_CERTIFICATE, "x" * 64),
    ],
)
def test_malformed_inputs_are_refused(app_id: str, certificate: str, channel: str) -> None:
    with pytest.raises(ValueError):
        agora.rtc_token(
            app_id=app_id, app_certificate=certificate, channel=channel, uid=1, expire=60
        )


@pytest.fixture
def _agora(settings: Any) -> None:
    settings.AGORA_APP_ID = APP_ID
    settings.AGORA_APP_CERTIFICATE = APP_CERTIFICATE
    settings.AGORA_TOKEN_TTL_SECONDS = 3600


@pytest.mark.django_db
@pytest.mark.usefixtures("_agora")
@pytest.mark.parametrize("side", ["client", "professional"])
def test_each_participant_gets_a_token_for_the_calls_channel_as_their_user_id(side: str) -> None:
    call = make_call(CallStatus.ACCEPTED)
    user = call.client if side == "client" else call.professional

    response = client_for(user).get(URL.format(call.pk))

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"app_id", "channel", "uid", "token", "expires_at"}
    assert (body["app_id"], body["channel"], body["uid"]) == (
        APP_ID,
        f"atende-call-{call.pk}",
        user.pk,
    )
    fields = decode(body["token"])
    assert (fields["channel"], fields["uid"], fields["expire"]) == (
        f"atende-call-{call.pk}",
        str(user.pk),
        3600,
    )
    assert fields["privileges"] == {1: 3600, 2: 3600, 3: 3600, 4: 3600}
    issued = datetime.datetime.fromtimestamp(fields["issue_ts"], tz=datetime.UTC)
    assert datetime.datetime.fromisoformat(body["expires_at"]) - issued < datetime.timedelta(
        seconds=3601
    )


@pytest.mark.django_db
def test_without_agora_configured_the_token_is_unavailable(settings: Any) -> None:
    settings.AGORA_APP_ID = ""
    call = make_call(CallStatus.ACCEPTED)

    response = client_for(call.client).get(URL.format(call.pk))

    assert_error(response, 503, "calls.agora_unavailable")


@pytest.mark.django_db
@pytest.mark.usefixtures("_agora")
def test_an_anonymous_visitor_and_another_user_are_refused() -> None:
    call = make_call(CallStatus.ACTIVE)

    assert client_for(None).get(URL.format(call.pk)).status_code == 401
    assert_error(client_for(factories.verified_user()).get(URL.format(call.pk)), 404, "not_found")


@pytest.mark.django_db
@pytest.mark.usefixtures("_agora")
def test_a_participant_of_an_ended_call_gets_no_token() -> None:
    call = make_call(CallStatus.ENDED)

    response = client_for(call.professional).get(URL.format(call.pk))

    assert_error(response, 409, "calls.call_not_live", {"status": "ended"})
