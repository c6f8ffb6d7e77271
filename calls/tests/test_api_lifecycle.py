"""The lifecycle API: who may place, answer, end and read calls, and what they get back."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.serializers.json import DjangoJSONEncoder

from accounts.tests.helpers import assert_error, client_for, committed, rows
from calls.api.serializers import CallOutput
from calls.events import call_payload
from calls.models import Call, CallStatus
from calls.tests.factories import client, live_call, professional
from wallet.models import Hold, IdempotencyRecord

pytestmark = pytest.mark.django_db


def as_json(call: Call) -> dict[str, Any]:
    """The call as the API renders it: the events' payload through ``CallOutput``."""
    call.refresh_from_db()
    data = CallOutput(call_payload(call)).data
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))  # type: ignore[no-any-return]


def test_placing_a_call(published: list[tuple[str, dict[str, Any]]]) -> None:
    payer, pro = client(), professional()

    with committed():
        response = client_for(payer).post(
            "/api/v1/calls/", {"professional_id": pro.pk}, format="json"
        )

    assert response.status_code == 201, response.content
    call = Call.objects.get()
    assert response.json() == as_json(call)
    assert (call.client_id, call.professional_id, call.status) == (payer.pk, pro.pk, "ringing")
    assert [group for group, message in published if message["event"] == "calls.call.updated"] == [
        f"user.{payer.pk}",
        f"user.{pro.pk}",
    ]


def test_placing_a_call_with_an_idempotency_key_answers_a_retry_with_the_first_call() -> None:
    payer, pro = client(), professional()
    api = client_for(payer)

    first = api.post(
        "/api/v1/calls/", {"professional_id": pro.pk}, format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    again = api.post(
        "/api/v1/calls/", {"professional_id": pro.pk}, format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Call.objects.count() == 1


def test_a_refused_call_is_the_error_shape_and_leaves_no_key() -> None:
    payer, pro = client(), professional(online=False)

    response = client_for(payer).post(
        "/api/v1/calls/", {"professional_id": pro.pk}, format="json", HTTP_IDEMPOTENCY_KEY="k2"
    )

    assert_error(response, 409, "calls.professional_offline")
    assert Call.objects.count() == 0
    assert IdempotencyRecord.objects.count() == 0


def test_placing_a_call_refuses_unknown_fields() -> None:
    response = client_for(client()).post(
        "/api/v1/calls/", {"professional_id": 1, "price": 0}, format="json"
    )

    assert response.status_code == 400
    assert Call.objects.count() == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v1/calls/"),
        ("get", "/api/v1/calls/current/"),
        ("get", "/api/v1/calls/{id}/"),
        ("post", "/api/v1/calls/{id}/accept/"),
        ("post", "/api/v1/calls/{id}/reject/"),
        ("post", "/api/v1/calls/{id}/cancel/"),
        ("post", "/api/v1/calls/{id}/hangup/"),
        ("post", "/api/v1/calls/{id}/media/"),
        ("post", "/api/v1/calls/me/accepting/"),
    ],
)
def test_anonymous_is_refused(method: str, path: str) -> None:
    call = live_call()
    before = rows(Call)

    response = getattr(client_for(None), method)(
        path.format(id=call.pk), {"connected": True, "accepting": True}, format="json"
    )

    assert response.status_code in (401, 403)
    assert response.json()["code"] in ("not_authenticated", "authentication_failed")
    assert rows(Call) == before


@pytest.mark.parametrize(
    ("method", "action", "body"),
    [
        ("get", "", {}),
        ("post", "accept/", {}),
        ("post", "reject/", {}),
        ("post", "cancel/", {}),
        ("post", "hangup/", {}),
        ("post", "media/", {"connected": True}),
    ],
)
def test_someone_elses_call_is_not_found(method: str, action: str, body: dict[str, Any]) -> None:
    call = live_call()
    outsider = client()
    before = rows(Call), rows(Hold)

    response = getattr(client_for(outsider), method)(
        f"/api/v1/calls/{call.pk}/{action}", body, format="json"
    )

    assert_error(response, 404, "not_found")
    assert (rows(Call), rows(Hold)) == before


@pytest.mark.parametrize(
    ("side", "action"),
    [("client", "accept/"), ("client", "reject/"), ("professional", "cancel/")],
)
def test_the_wrong_side_is_refused(side: str, action: str) -> None:
    call = live_call()
    user = call.client if side == "client" else call.professional
    before = rows(Call), rows(Hold)

    response = client_for(user).post(f"/api/v1/calls/{call.pk}/{action}")

    assert_error(response, 409, "calls.invalid_transition", {"status": "ringing"})
    assert (rows(Call), rows(Hold)) == before


def test_a_call_from_accept_to_hang_up() -> None:
    call = live_call()
    payer, pro = call.client, call.professional

    accepted = client_for(pro).post(f"/api/v1/calls/{call.pk}/accept/")
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "accepted"
    for user in (payer, pro):
        media = client_for(user).post(
            f"/api/v1/calls/{call.pk}/media/", {"connected": True}, format="json"
        )
        assert media.status_code == 200
    assert media.json()["status"] == "active"
    assert media.json() == as_json(call)
    current = client_for(payer).get("/api/v1/calls/current/")
    assert current.json() == {"call": as_json(call)}

    ended = client_for(payer).post(f"/api/v1/calls/{call.pk}/hangup/")

    assert ended.status_code == 200
    assert (ended.json()["status"], ended.json()["end_reason"]) == ("ended", "client_hung_up")
    assert client_for(pro).get("/api/v1/calls/current/").json() == {"call": None}
    detail = client_for(pro).get(f"/api/v1/calls/{call.pk}/")
    assert detail.json() == as_json(call)


def test_a_finished_call_refuses_more_commands() -> None:
    call = live_call(CallStatus.REJECTED)

    response = client_for(call.client).post(f"/api/v1/calls/{call.pk}/cancel/")

    assert_error(response, 409, "calls.invalid_transition", {"status": "rejected"})


def test_the_media_report_needs_a_boolean() -> None:
    call = live_call(CallStatus.ACCEPTED)

    response = client_for(call.client).post(
        f"/api/v1/calls/{call.pk}/media/", {"connected": "maybe"}, format="json"
    )

    assert response.status_code == 400
    call.refresh_from_db()
    assert call.client_connected is False


def test_the_accepting_switch() -> None:
    pro = professional(online=False)
    from calls.tests.factories import connect

    connect(pro)

    response = client_for(pro).post(
        "/api/v1/calls/me/accepting/", {"accepting": True}, format="json"
    )

    assert response.status_code == 200
    assert response.json() == {"status": "online", "accepting_calls": True}


def test_the_accepting_switch_is_for_professionals_only() -> None:
    response = client_for(client()).post(
        "/api/v1/calls/me/accepting/", {"accepting": True}, format="json"
    )

    assert_error(response, 403, "calls.not_professional")
