"""Clients rate ended calls once; the professional's average follows exactly."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from accounts.tests.helpers import assert_error, client_for, rows
from calls.models import CallRating, CallStatus, ProfessionalProfile
from calls.ratings import rating_average
from calls.tests.catalog_helpers import call_row, pro
from calls.tests.factories import verified_user

pytestmark = pytest.mark.django_db


def _url(call_id: int) -> str:
    return f"/api/v1/calls/{call_id}/rating/"


def _profile_figures(user: Any) -> tuple[int, int, Decimal]:
    profile = ProfessionalProfile.objects.get(user=user)
    return profile.rating_count, profile.rating_sum, profile.rating_average


def test_the_client_rates_an_ended_call_and_the_average_follows() -> None:
    helena = pro()
    averages = []
    for stars in (5, 4, 4):
        payer = verified_user()
        call = call_row(client=payer, professional=helena, connected_seconds=90)

        response = client_for(payer).post(
            _url(call.pk), {"stars": stars, "comment": " Great "}, format="json"
        )

        assert response.status_code == 201, response.content
        rating = CallRating.objects.get(call=call)
        assert response.json() == {
            "id": rating.pk,
            "call_id": call.pk,
            "stars": stars,
            "comment": "Great",
            "created_at": response.json()["created_at"],
        }
        assert (rating.client_id, rating.professional_id) == (payer.pk, helena.pk)
        averages.append(_profile_figures(helena))

    assert averages == [
        (1, 5, Decimal("5.00")),
        (2, 9, Decimal("4.50")),
        (3, 13, Decimal("4.33")),
    ]


@pytest.mark.parametrize(
    ("total", "count", "expected"),
    [(0, 0, "0.00"), (13, 3, "4.33"), (14, 3, "4.67"), (33, 8, "4.13"), (1, 1, "1.00")],
)
def test_the_average_has_two_decimals_rounding_halves_up(
    total: int, count: int, expected: str
) -> None:
    assert rating_average(rating_sum=total, rating_count=count) == Decimal(expected)


def test_a_second_rating_is_refused_and_changes_nothing() -> None:
    helena = pro()
    payer = verified_user()
    call = call_row(client=payer, professional=helena, connected_seconds=90)
    api = client_for(payer)
    api.post(_url(call.pk), {"stars": 5}, format="json")
    before = (rows(CallRating), _profile_figures(helena))

    response = api.post(_url(call.pk), {"stars": 1}, format="json")

    assert_error(response, 409, "calls.already_rated")
    assert (rows(CallRating), _profile_figures(helena)) == before


@pytest.mark.parametrize(
    "status",
    [
        CallStatus.RINGING,
        CallStatus.ACCEPTED,
        CallStatus.ACTIVE,
        CallStatus.REJECTED,
        CallStatus.MISSED,
        CallStatus.CANCELLED,
        CallStatus.FAILED,
    ],
)
def test_only_an_ended_call_can_be_rated(status: str) -> None:
    helena = pro()
    payer = verified_user()
    call = call_row(client=payer, professional=helena, status=status)

    response = client_for(payer).post(_url(call.pk), {"stars": 5}, format="json")

    assert_error(response, 409, "calls.not_rateable", {"status": status})
    assert CallRating.objects.count() == 0
    assert _profile_figures(helena) == (0, 0, Decimal("0.00"))


@pytest.mark.parametrize("who", ["professional", "outsider"])
def test_only_the_client_may_rate_others_get_404(who: str) -> None:
    helena = pro()
    payer = verified_user()
    call = call_row(client=payer, professional=helena, connected_seconds=60)
    actor = helena if who == "professional" else verified_user()

    response = client_for(actor).post(_url(call.pk), {"stars": 5}, format="json")

    assert_error(response, 404, "not_found")
    assert CallRating.objects.count() == 0


def test_an_unknown_call_is_404() -> None:
    response = client_for(verified_user()).post(_url(999999), {"stars": 5}, format="json")

    assert_error(response, 404, "not_found")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"stars": 0}, "stars"),
        ({"stars": 6}, "stars"),
        ({}, "stars"),
        ({"stars": 3, "comment": "x" * 1001}, "comment"),
        ({"stars": 3, "mood": "ok"}, "mood"),
    ],
)
def test_invalid_ratings_are_refused(payload: dict[str, Any], field: str) -> None:
    helena = pro()
    payer = verified_user()
    call = call_row(client=payer, professional=helena, connected_seconds=60)

    response = client_for(payer).post(_url(call.pk), payload, format="json")

    assert response.status_code == 400
    assert list(response.json()["extra"]["fields"]) == [field]
    assert CallRating.objects.count() == 0


def test_the_service_refuses_bad_stars_itself() -> None:
    from django.core.exceptions import ValidationError

    from calls.ratings import call_rate

    helena = pro()
    payer = verified_user()
    call = call_row(client=payer, professional=helena, connected_seconds=60)

    with pytest.raises(ValidationError):
        call_rate(call_id=call.pk, user=payer, stars=True, comment="")

    assert CallRating.objects.count() == 0
