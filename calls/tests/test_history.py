"""Call history: figures straight from the ledger, on either side, at a constant query count."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from accounts.tests.helpers import assert_error, client_for
from calls.models import CallRating, CallStatus
from calls.tests.catalog_helpers import call_row, charge, pro
from calls.tests.factories import fund, verified_user

pytestmark = pytest.mark.django_db

URL = "/api/v1/calls/history/"


def test_the_client_sees_what_each_call_cost_from_the_ledger() -> None:
    # Given a call charged 10 then 5 (two units), and an older missed call
    helena = pro(name="Helena Souza")
    payer = verified_user(display_name="Igor Cliente")
    fund(payer, 100)
    base = datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.UTC)
    missed = call_row(
        client=payer, professional=helena, status=CallStatus.MISSED, requested_at=base
    )
    ended = call_row(
        client=payer,
        professional=helena,
        connected_seconds=95,
        requested_at=base + datetime.timedelta(hours=1),
        ended_at=base + datetime.timedelta(hours=1, minutes=2),
    )
    charge(ended, 10)
    charge(ended, 5)
    CallRating.objects.create(
        call=ended, client=payer, professional=helena, stars=4, comment="Good"
    )

    # When the client reads their history
    response = client_for(payer).get(URL, {"as": "client"})

    # Then the charged total is what left the wallet (both shares), newest first
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 2
    first, second = body["results"]
    assert first == {
        "id": ended.pk,
        "other": {"id": helena.pk, "display_name": "Helena Souza", "avatar_url": None},
        "status": "ended",
        "end_reason": "client_hung_up",
        "requested_at": "2026-03-01T10:00:00-03:00",
        "connected_at": first["connected_at"],
        "ended_at": "2026-03-01T10:02:00-03:00",
        "duration_seconds": 95,
        "charged": 15,
        "earned": None,
        "rating": {"stars": 4, "comment": "Good"},
        "receipt_url": f"/api/v1/calls/{ended.pk}/receipt/",
        "dispute_reference": f"call:{ended.pk}",
    }
    assert (second["id"], second["charged"], second["receipt_url"]) == (missed.pk, 0, None)
    assert (second["dispute_reference"], second["rating"]) == (None, None)


def test_the_professional_sees_their_share() -> None:
    helena = pro()
    payers = [verified_user(display_name=name) for name in ("Ana", "Bia")]
    for payer in payers:
        fund(payer, 100)
    first = call_row(client=payers[0], professional=helena, connected_seconds=60)
    second = call_row(client=payers[1], professional=helena, connected_seconds=120)
    charge(first, 10)  # 8 + 2 after the rounding remainder: professional 8
    charge(second, 20)  # 17
    charge(second, 7)  # 5 (85% of 7 = 5.95, floored)
    other_pro = pro()
    unrelated = call_row(client=payers[0], professional=other_pro, connected_seconds=60)
    charge(unrelated, 50)

    response = client_for(helena).get(URL, {"as": "professional"})

    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["id"], r["other"]["display_name"], r["earned"], r["charged"]) for r in results] == [
        (second.pk, "Bia", 22, None),
        (first.pk, "Ana", 8, None),
    ]
    assert [r["dispute_reference"] for r in results] == [None, None]


def test_a_client_sees_only_their_own_calls() -> None:
    helena = pro()
    mine = verified_user()
    theirs = verified_user()
    call_row(client=theirs, professional=helena)

    response = client_for(mine).get(URL)

    assert response.json()["count"] == 0


def test_a_non_professional_cannot_read_the_professional_side() -> None:
    assert_error(
        client_for(verified_user()).get(URL, {"as": "professional"}),
        403,
        "calls.not_professional",
    )


def test_an_unknown_side_is_400() -> None:
    response = client_for(verified_user()).get(URL, {"as": "admin"})

    assert response.status_code == 400
    assert list(response.json()["extra"]["fields"]) == ["as"]


@pytest.mark.parametrize("count", [1, 20])
def test_a_history_page_costs_the_same_queries(count: int, django_assert_num_queries: Any) -> None:
    payer = verified_user()
    fund(payer, 10_000)
    for _index in range(count):
        call = call_row(client=payer, professional=pro(), connected_seconds=60)
        charge(call, 10)
        CallRating.objects.create(call=call, client=payer, professional=call.professional, stars=5)
    api = client_for(payer)

    # count, page (people and rating joined), one grouped sum over the ledger
    with django_assert_num_queries(3):
        response = api.get(URL)

    assert [row["charged"] for row in response.json()["results"]] == [10] * count


def test_an_active_call_counts_its_running_segment() -> None:
    from django.utils import timezone

    from calls.history import duration_seconds

    helena = pro()
    call = call_row(
        client=verified_user(), professional=helena, status=CallStatus.ACTIVE, connected_seconds=30
    )
    now = timezone.now()
    call.segment_started_at = now - datetime.timedelta(seconds=45)

    assert duration_seconds(call, now=now) == 75


# --- Receipts ------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["outsider", "unknown"])
def test_a_receipt_is_404_to_anyone_outside_the_call(who: str) -> None:
    helena = pro()
    call = call_row(client=verified_user(), professional=helena, connected_seconds=60)
    call_id = call.pk if who == "outsider" else 999999

    response = client_for(verified_user()).get(f"/api/v1/calls/{call_id}/receipt/")

    assert_error(response, 404, "not_found")


@pytest.mark.parametrize("side", ["client", "professional"])
def test_participants_get_the_billing_receipt(side: str, monkeypatch: Any) -> None:
    receipts = pytest.importorskip("calls.receipts")
    seen: list[tuple[int, int]] = []

    def fake_receipt(*, call: Any, viewer: Any) -> dict[str, Any]:
        seen.append((call.pk, viewer.pk))
        return {"call_id": call.pk}

    monkeypatch.setattr(receipts, "call_receipt", fake_receipt)
    helena = pro()
    payer = verified_user()
    call = call_row(client=payer, professional=helena, connected_seconds=60)
    viewer = payer if side == "client" else helena

    response = client_for(viewer).get(f"/api/v1/calls/{call.pk}/receipt/")

    assert response.status_code == 200
    assert response.json() == {"call_id": call.pk}
    assert seen == [(call.pk, viewer.pk)]
