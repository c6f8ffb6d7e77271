"""End-to-end encrypted in-call messages: only ciphertext, only the two participants."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from rest_framework import serializers

from accounts.tests.helpers import assert_error, client_for, committed, rows
from calls.messages import call_message_send
from calls.models import CallMessage, CallStatus
from calls.tests import factories
from calls.tests.media_helpers import make_call
from realtime.publish import RELAY_TYPE

pytestmark = pytest.mark.django_db

URL = "/api/v1/calls/{}/messages/"
CIPHERTEXT = base64.b64encode(bytes(range(40))).decode()
IV = base64.b64encode(b"\x01" * 12).decode()


def body(**fields: Any) -> dict[str, Any]:
    return {"ciphertext": CIPHERTEXT, "iv": IV, "client_id": "m-1", **fields}


def message_json(message: CallMessage, *, event: bool = False) -> dict[str, Any]:
    """The message as the API shows it (local time), or as the event carries it (UTC)."""
    created_at = (
        json.loads(json.dumps(message.created_at, cls=DjangoJSONEncoder))
        if event
        else serializers.DateTimeField().to_representation(message.created_at)
    )
    return {
        "id": message.pk,
        "call_id": message.call_id,
        "sender_id": message.sender_id,
        "ciphertext": message.ciphertext,
        "iv": message.iv,
        "client_id": message.client_id,
        "created_at": created_at,
    }


@pytest.mark.parametrize("status", [CallStatus.ACCEPTED, CallStatus.ACTIVE])
def test_a_participant_posts_ciphertext_stored_exactly_and_both_are_told(
    status: str, published: list[tuple[str, dict[str, Any]]]
) -> None:
    call = make_call(status)

    with committed():
        response = client_for(call.client).post(URL.format(call.pk), body(), format="json")

    assert response.status_code == 201
    stored = CallMessage.objects.get()
    assert (stored.call_id, stored.sender_id, stored.ciphertext, stored.iv, stored.client_id) == (
        call.pk,
        call.client.pk,
        CIPHERTEXT,
        IV,
        "m-1",
    )
    assert response.json() == message_json(stored)
    event = {
        "type": RELAY_TYPE,
        "event": "calls.message.created",
        "data": message_json(stored, event=True),
    }
    assert published == [(f"user.{call.client.pk}", event), (f"user.{call.professional.pk}", event)]


def test_a_retry_with_the_same_client_id_returns_the_stored_message(
    published: list[tuple[str, dict[str, Any]]],
) -> None:
    call = make_call(CallStatus.ACTIVE)
    first, created = call_message_send(
        call_id=call.pk, user=call.professional, ciphertext=CIPHERTEXT, iv=IV, client_id="m-1"
    )
    assert created is True

    with committed():
        response = client_for(call.professional).post(URL.format(call.pk), body(), format="json")

    assert response.status_code == 200
    assert response.json() == message_json(first)
    assert CallMessage.objects.count() == 1
    assert published == []


def test_the_same_client_id_with_other_content_is_refused() -> None:
    call = make_call(CallStatus.ACTIVE)
    call_message_send(
        call_id=call.pk, user=call.client, ciphertext=CIPHERTEXT, iv=IV, client_id="m-1"
    )
    before = rows(CallMessage)
    other = base64.b64encode(b"\x02" * 32).decode()

    response = client_for(call.client).post(
        URL.format(call.pk), body(ciphertext=other), format="json"
    )

    assert_error(response, 409, "calls.client_id_reused")
    assert rows(CallMessage) == before


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"ciphertext": "not base64!"}, "ciphertext"),
        ({"ciphertext": "QUJD"}, "ciphertext"),  # 3 bytes: shorter than the AES-GCM tag
        ({"iv": base64.b64encode(b"\x01" * 16).decode()}, "iv"),
        ({"iv": "AAAA AAAA AAAA AAAA"}, "iv"),
        ({"client_id": "has spaces"}, "client_id"),
    ],
)
def test_malformed_content_is_refused_and_nothing_is_stored(
    fields: dict[str, Any], field: str, published: list[tuple[str, dict[str, Any]]]
) -> None:
    call = make_call(CallStatus.ACTIVE)

    with committed():
        response = client_for(call.client).post(URL.format(call.pk), body(**fields), format="json")

    assert_error(response, 422, "calls.invalid_message", {"field": field})
    assert CallMessage.objects.count() == 0
    assert published == []


def test_ciphertext_over_16000_characters_is_refused() -> None:
    call = make_call(CallStatus.ACTIVE)
    too_long = base64.b64encode(b"\x00" * 12003).decode()
    assert len(too_long) == 16004

    response = client_for(call.client).post(
        URL.format(call.pk), body(ciphertext=too_long), format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert CallMessage.objects.count() == 0


@pytest.mark.parametrize("status", [CallStatus.RINGING, CallStatus.ENDED, CallStatus.CANCELLED])
def test_a_call_not_connected_takes_no_messages(
    status: str, published: list[tuple[str, dict[str, Any]]]
) -> None:
    call = make_call(status)

    with committed():
        response = client_for(call.client).post(URL.format(call.pk), body(), format="json")

    assert_error(response, 409, "calls.call_not_live", {"status": status})
    assert CallMessage.objects.count() == 0
    assert published == []


def test_an_outsider_can_neither_post_nor_read(published: list[tuple[str, dict[str, Any]]]) -> None:
    call = make_call(CallStatus.ACTIVE)
    call_message_send(
        call_id=call.pk, user=call.client, ciphertext=CIPHERTEXT, iv=IV, client_id="m-1"
    )
    before = rows(CallMessage)
    outsider = factories.verified_user()

    with committed():
        posted = client_for(outsider).post(URL.format(call.pk), body(client_id="x"), format="json")
    read = client_for(outsider).get(URL.format(call.pk))

    assert_error(posted, 404, "not_found")
    assert_error(read, 404, "not_found")
    assert rows(CallMessage) == before
    assert published == []


def test_anonymous_visitors_are_refused() -> None:
    call = make_call(CallStatus.ACTIVE)

    assert client_for(None).get(URL.format(call.pk)).status_code == 401
    assert client_for(None).post(URL.format(call.pk), body(), format="json").status_code == 401
    assert CallMessage.objects.count() == 0


def test_both_participants_read_the_messages_in_order_and_after_an_id() -> None:
    call = make_call(CallStatus.ACTIVE)
    sent = [
        call_message_send(
            call_id=call.pk,
            user=call.client if number % 2 else call.professional,
            ciphertext=CIPHERTEXT,
            iv=IV,
            client_id=f"m-{number}",
        )[0]
        for number in range(3)
    ]
    other_call = make_call(CallStatus.ACTIVE)
    call_message_send(
        call_id=other_call.pk, user=other_call.client, ciphertext=CIPHERTEXT, iv=IV, client_id="o"
    )

    everything = client_for(call.client).get(URL.format(call.pk))
    later = client_for(call.professional).get(URL.format(call.pk), {"after": sent[0].pk})

    assert everything.status_code == 200
    assert everything.json() == [message_json(message) for message in sent]
    assert later.json() == [message_json(message) for message in sent[1:]]


def test_an_ended_calls_messages_stay_readable_by_its_participants() -> None:
    call = make_call(CallStatus.ACTIVE)
    message, _ = call_message_send(
        call_id=call.pk, user=call.client, ciphertext=CIPHERTEXT, iv=IV, client_id="m-1"
    )
    call.status = CallStatus.ENDED
    call.save(update_fields=["status"])

    response = client_for(call.professional).get(URL.format(call.pk))

    assert response.json() == [message_json(message)]


def test_a_bad_after_is_a_validation_error() -> None:
    call = make_call(CallStatus.ACTIVE)

    response = client_for(call.client).get(URL.format(call.pk), {"after": "x"})

    assert response.status_code == 400
