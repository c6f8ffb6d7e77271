"""ICE servers for a call: STUN as configured, TURN with coturn REST API credentials."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
from typing import Any

import pytest
from django.utils import timezone

from accounts.tests.helpers import assert_error, client_for
from calls.ice import ice_servers_for, turn_credentials
from calls.models import CallStatus
from calls.tests import factories
from calls.tests.media_helpers import make_call

pytestmark = pytest.mark.django_db

URL = "/api/v1/calls/{}/ice-servers/"
NOW = datetime.datetime(2026, 5, 4, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _turn(settings: Any) -> None:
    settings.CALLS_STUN_URLS = ["stun:stun.atende.test:3478"]
    settings.CALLS_TURN_URLS = [
        "turn:turn.atende.test:3478?transport=udp",
        "turns:turn.atende.test:5349",
    ]
    settings.CALLS_TURN_SECRET = "north-wind"
    settings.CALLS_TURN_TTL_SECONDS = 600


def expected_password(secret: str, username: str) -> str:
    return base64.b64encode(
        hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    ).decode()


def test_turn_credentials_are_the_expiry_and_user_signed_with_the_secret() -> None:
    username, password = turn_credentials(secret="north-wind", user_id=7, expires_at=1_777_896_600)

    assert username == "1777896600:7"
    assert password == expected_password("north-wind", "1777896600:7")


def test_the_servers_carry_stun_and_turn_with_credentials_valid_for_the_ttl() -> None:
    user = factories.verified_user()

    servers, expires_at = ice_servers_for(user=user, now=NOW)

    expiry = int(NOW.timestamp()) + 600
    assert expires_at == NOW + datetime.timedelta(seconds=600)
    assert servers == [
        {"urls": ["stun:stun.atende.test:3478"]},
        {
            "urls": ["turn:turn.atende.test:3478?transport=udp", "turns:turn.atende.test:5349"],
            "username": f"{expiry}:{user.pk}",
            "credential": expected_password("north-wind", f"{expiry}:{user.pk}"),
        },
    ]


def test_without_a_secret_turn_is_left_out(settings: Any) -> None:
    settings.CALLS_TURN_SECRET = ""

    servers, _ = ice_servers_for(user=factories.verified_user(), now=NOW)

    assert servers == [{"urls": ["stun:stun.atende.test:3478"]}]


def test_nothing_configured_gives_no_servers(settings: Any) -> None:
    settings.CALLS_STUN_URLS = []
    settings.CALLS_TURN_URLS = []

    servers, _ = ice_servers_for(user=factories.verified_user(), now=NOW)

    assert servers == []


@pytest.mark.parametrize("status", [CallStatus.RINGING, CallStatus.ACCEPTED, CallStatus.ACTIVE])
@pytest.mark.parametrize("side", ["client", "professional"])
def test_each_participant_of_a_live_call_gets_their_own_credentials(status: str, side: str) -> None:
    call = make_call(status)
    user = call.client if side == "client" else call.professional
    before = timezone.now()

    response = client_for(user).get(URL.format(call.pk))

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"media_path", "ice_servers", "expires_at"}
    assert body["media_path"] == "webrtc"
    stun, turn = body["ice_servers"]
    assert stun == {"urls": ["stun:stun.atende.test:3478"]}
    expiry, user_id = turn["username"].split(":")
    assert user_id == str(user.pk)
    assert int(before.timestamp()) + 600 <= int(expiry) <= int(timezone.now().timestamp()) + 600
    assert turn["credential"] == expected_password("north-wind", turn["username"])
    assert datetime.datetime.fromisoformat(body["expires_at"]).timestamp() == pytest.approx(
        int(expiry), abs=1
    )


def test_an_anonymous_visitor_is_refused() -> None:
    call = make_call(CallStatus.ACTIVE)

    response = client_for(None).get(URL.format(call.pk))

    assert response.status_code == 401


def test_another_user_gets_not_found_as_for_a_call_that_does_not_exist() -> None:
    call = make_call(CallStatus.ACTIVE)
    outsider = factories.verified_user()

    assert_error(client_for(outsider).get(URL.format(call.pk)), 404, "not_found")
    assert_error(client_for(outsider).get(URL.format(call.pk + 1000)), 404, "not_found")


@pytest.mark.parametrize(
    "status", [CallStatus.REQUESTED, CallStatus.ENDED, CallStatus.CANCELLED, CallStatus.MISSED]
)
def test_a_participant_of_a_call_without_media_is_refused(status: str) -> None:
    call = make_call(status)

    response = client_for(call.client).get(URL.format(call.pk))

    assert_error(response, 409, "calls.call_not_live", {"status": status})
