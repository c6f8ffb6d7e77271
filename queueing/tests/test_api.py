"""The queue API: what each endpoint answers, and who may not use it."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.tests.helpers import assert_error
from calls.models import CallStatus
from calls.tests.factories import client
from queueing import services
from queueing.models import EntryStatus, MarketplaceQueueEntry
from queueing.tests.helpers import (
    busy_professional,
    client_for,
    end_call,
    join,
    reload,
    snapshot,
)
from wallet.models import Hold

pytestmark = pytest.mark.django_db


def test_join_answers_201_with_the_entry() -> None:
    # Given a busy professional and a funded client
    pro, _call = busy_professional()
    person = client()

    # When the client joins through the API
    response = client_for(person).post(f"/api/v1/queue/professionals/{pro.pk}/join/")

    # Then the answer is the waiting entry, first in line
    assert response.status_code == 201, response.content
    body = response.json()
    entry = MarketplaceQueueEntry.objects.get(client=person)
    assert (body["id"], body["status"], body["position"], body["fee"], body["call_id"]) == (
        entry.pk,
        "waiting",
        1,
        5,
        None,
    )
    assert body["professional"] == {
        "id": pro.pk,
        "display_name": pro.get_full_name(),
        "avatar_url": None,
    }


def test_join_with_the_same_idempotency_key_joins_once() -> None:
    # Given a client who joined with an Idempotency-Key
    pro, _call = busy_professional()
    person = client()
    api = client_for(person)
    first = api.post(f"/api/v1/queue/professionals/{pro.pk}/join/", HTTP_IDEMPOTENCY_KEY="k-1")

    # When the request is retried with the same key
    again = api.post(f"/api/v1/queue/professionals/{pro.pk}/join/", HTTP_IDEMPOTENCY_KEY="k-1")

    # Then it gets the first answer; one entry, one hold
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert MarketplaceQueueEntry.objects.filter(client=person).count() == 1
    assert Hold.objects.filter(debit_account__user=person).count() == 1


def test_join_errors_have_the_error_shape() -> None:
    # Given a client with too few tokens for the fee
    pro, _call = busy_professional()
    person = client(balance=2)
    before = snapshot()

    # When they try to join
    response = client_for(person).post(f"/api/v1/queue/professionals/{pro.pk}/join/")

    # Then 409 wallet.insufficient_funds, nothing written
    assert_error(
        response, 409, "wallet.insufficient_funds", {"account": "client_wallet", "shortfall": 3}
    )
    assert snapshot() == before


def test_mine_lists_the_open_entries_with_their_positions() -> None:
    # Given a client second in one queue, and an entry they left in another
    pro, _call = busy_professional()
    other, _other_call = busy_professional()
    person = client()
    join(pro, seconds=0)
    mine = join(pro, seconds=1, who=person)
    left = join(other, seconds=2, who=person)
    services.queue_leave(client=person, entry_id=left.pk)

    # When they read their entries (as after a reconnect)
    response = client_for(person).get("/api/v1/queue/mine/")

    # Then only the open one is there, second in line
    assert response.status_code == 200
    assert [(row["id"], row["position"]) for row in response.json()] == [(mine.pk, 2)]


def test_leave_and_decline_answer_with_the_closed_entry() -> None:
    # Given one client offered the turn and another waiting
    pro, call = busy_professional()
    first = join(pro, seconds=0)
    second = join(pro, seconds=1)
    end_call(call)
    services.queue_offer_next(professional_id=pro.pk)

    # When the first declines and the second leaves
    declined = client_for(first.client).post(f"/api/v1/queue/entries/{first.pk}/decline/")
    left = client_for(second.client).post(f"/api/v1/queue/entries/{second.pk}/leave/")

    # Then both answer 200 with the entry closed and no position
    assert (declined.status_code, left.status_code) == (200, 200)
    assert (declined.json()["status"], declined.json()["position"]) == ("left", None)
    assert (left.json()["status"], left.json()["estimated_wait_seconds"]) == ("left", None)


def test_accept_answers_with_the_entry_and_the_call() -> None:
    # Given a client offered the turn
    pro, call = busy_professional()
    entry = join(pro)
    end_call(call)
    services.queue_offer_next(professional_id=pro.pk)

    # When they take it
    response = client_for(entry.client).post(f"/api/v1/queue/entries/{entry.pk}/accept/")

    # Then the entry is accepted and points at the call, which is already accepted
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["entry"]["status"], body["entry"]["call_id"]) == ("accepted", body["call"]["id"])
    assert (body["call"]["status"], body["call"]["queue_entry_id"]) == (
        CallStatus.ACCEPTED,
        entry.pk,
    )
    assert reload(entry).status == EntryStatus.ACCEPTED


def test_the_professional_sees_their_queue() -> None:
    # Given two clients in a professional's line
    pro, _call = busy_professional()
    entries = [join(pro, seconds=n) for n in range(2)]

    # When the professional reads their queue
    response = client_for(pro).get("/api/v1/queue/professional/")

    # Then the length and the line, first first
    assert response.status_code == 200
    body = response.json()
    assert body["length"] == 2
    assert [(row["id"], row["client"]["id"], row["status"]) for row in body["entries"]] == [
        (entry.pk, entry.client_id, "waiting") for entry in entries
    ]


# --- Who may not use it -------------------------------------------------------------------------

ACTORS = ("anonymous", "other_client", "owner", "professional")


def _world() -> dict[str, Any]:
    pro, call = busy_professional()
    entry = join(pro)
    other = client()
    end_call(call)
    services.queue_offer_next(professional_id=pro.pk)
    return {
        "people": {
            "anonymous": None,
            "other_client": other,
            "owner": entry.client,
            "professional": pro,
        },
        "pro": pro.pk,
        "entry": entry.pk,
    }


# method, url, expected status per actor (anonymous, another client, the entry's client, the pro)
MATRIX: list[tuple[str, str, tuple[int, int, int, int]]] = [
    ("post", "/api/v1/queue/professionals/{pro}/join/", (401, 201, 409, 422)),
    ("get", "/api/v1/queue/mine/", (401, 200, 200, 200)),
    ("post", "/api/v1/queue/entries/{entry}/leave/", (401, 404, 200, 404)),
    ("post", "/api/v1/queue/entries/{entry}/decline/", (401, 404, 200, 404)),
    ("post", "/api/v1/queue/entries/{entry}/accept/", (401, 404, 200, 404)),
    ("get", "/api/v1/queue/professional/", (401, 403, 403, 200)),
]


@pytest.mark.parametrize(("method", "url", "expected"), MATRIX)
@pytest.mark.parametrize("actor", ACTORS)
def test_permission_matrix(
    method: str, url: str, expected: tuple[int, int, int, int], actor: str
) -> None:
    # Given a professional whose only client in line was offered the turn
    world = _world()

    # When the actor calls the endpoint
    response = getattr(client_for(world["people"][actor]), method)(
        url.format(pro=world["pro"], entry=world["entry"])
    )

    # Then the answer is the matrix's
    assert response.status_code == expected[ACTORS.index(actor)], response.content
