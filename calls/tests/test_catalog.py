"""The catalog: filters, orderings, pages at a constant query count, a professional's page."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import AccountType
from accounts.tests.helpers import assert_error, client_for
from calls.models import AvailabilitySlot, CallRating, CallStatus, ProfessionalProfile
from calls.tests.catalog_helpers import call_row, pro, specialty
from calls.tests.factories import verified_user
from queueing.models import EntryStatus, MarketplaceQueueEntry

pytestmark = pytest.mark.django_db

URL = "/api/v1/calls/professionals/"


def _ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [card["id"] for card in response.json()["results"]]


def test_it_lists_only_listed_profiles_of_active_professionals() -> None:
    # Given a listed professional, a hidden one, an inactive one and a former professional
    shown = pro(name="Shown")
    pro(name="Hidden", listed=False)
    pro(name="Inactive", is_active=False)
    turned_client = pro(name="Client now")
    turned_client.account_type = AccountType.CLIENT
    turned_client.save(update_fields=["account_type"])
    viewer = verified_user()

    # When a signed-in client browses the catalog
    response = client_for(viewer).get(URL)

    # Then only the listed, active professional shows
    assert _ids(response) == [shown.pk]


def test_a_card_has_the_contract_shape() -> None:
    psychologist = pro(
        name="Helena Souza",
        headline="Clinical psychologist",
        price=7,
        specialties=("psicologia", "carreira"),
        languages=("pt-BR", "en"),
        online=True,
        rating=(2, 9),
        calls_completed=3,
    )
    specialty("psicologia", "Psicologia")

    response = client_for(verified_user()).get(URL)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert body["results"] == [
        {
            "id": psychologist.pk,
            "display_name": "Helena Souza",
            "headline": "Clinical psychologist",
            "photo_url": None,
            "specialties": [
                {"slug": "carreira", "name": "Carreira"},
                {"slug": "psicologia", "name": "Psicologia"},
            ],
            "languages": ["en", "pt-BR"],
            "price_per_minute": 7,
            "status": "online",
            "accepting_calls": True,
            "rating_average": "4.50",
            "rating_count": 2,
            "calls_completed": 3,
        }
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"search": "helena"}, ["helena"]),
        ({"search": "LAWYER"}, ["rafael"]),
        ({"search": "nutri"}, ["marina"]),
        ({"specialty": "direito"}, ["rafael"]),
        ({"language": "es"}, ["marina"]),
        ({"language": "pt"}, ["helena", "rafael"]),
        ({"language": "pt-br"}, ["helena", "rafael"]),
        ({"min_price": "4"}, ["rafael", "marina"]),
        ({"max_price": "4"}, ["helena", "rafael"]),
        ({"min_price": "3", "max_price": "4"}, ["rafael"]),
        ({"online": "true"}, ["helena"]),
        ({"online": "false"}, ["helena", "rafael", "marina"]),
        ({"min_rating": "4.5"}, ["helena"]),
        ({"min_rating": "4"}, ["helena", "rafael"]),
    ],
)
def test_each_filter_narrows_the_catalog(params: dict[str, str], expected: list[str]) -> None:
    specialty("nutricao", "Nutrição")
    people = {
        "helena": pro(
            name="Helena Souza",
            price=2,
            languages=("pt-BR",),
            specialties=("psicologia",),
            online=True,
            rating=(2, 10),
        ),
        "rafael": pro(
            name="Rafael Lima",
            headline="Labour lawyer",
            price=4,
            languages=("pt-BR", "en"),
            specialties=("direito",),
            rating=(3, 12),
        ),
        "marina": pro(
            name="Marina Costa",
            price=6,
            languages=("es",),
            specialties=("nutricao",),
            rating=(1, 3),
        ),
    }
    # A professional who switched off stays out of "online now" even with an online status.
    switched_off = ProfessionalProfile.objects.get(user=people["marina"])
    switched_off.status = "online"
    switched_off.save(update_fields=["status"])

    response = client_for(verified_user()).get(URL, params)

    assert _ids(response) == [people[name].pk for name in expected]


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        (None, ["best", "middle", "cheap"]),
        ("rating", ["best", "middle", "cheap"]),
        ("price", ["cheap", "best", "middle"]),
        ("-price", ["middle", "best", "cheap"]),
        ("popularity", ["cheap", "middle", "best"]),
    ],
)
def test_orderings(ordering: str | None, expected: list[str]) -> None:
    people = {
        "cheap": pro(price=1, rating=(1, 3), calls_completed=30),
        "best": pro(price=5, rating=(4, 20), calls_completed=1),
        "middle": pro(price=9, rating=(2, 8), calls_completed=10),
    }
    params: dict[str, str] = {"ordering": ordering} if ordering else {}

    response = client_for(verified_user()).get(URL, params)

    assert _ids(response) == [people[name].pk for name in expected]


def test_equal_ratings_rank_more_reviews_first_then_oldest() -> None:
    few = pro(rating=(1, 5))
    many = pro(rating=(3, 15))
    also_few = pro(rating=(1, 5))

    response = client_for(verified_user()).get(URL)

    assert _ids(response) == [many.pk, few.pk, also_few.pk]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"ordering": "name"}, "ordering"),
        ({"min_price": "-1"}, "min_price"),
        ({"max_price": "abc"}, "max_price"),
        ({"min_rating": "6"}, "min_rating"),
        ({"min_rating": "NaN"}, "min_rating"),
        ({"online": "maybe"}, "online"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(params: dict[str, str], field: str) -> None:
    response = client_for(verified_user()).get(URL, params)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert list(body["extra"]["fields"]) == [field]


@pytest.mark.parametrize("count", [1, 20])
def test_a_page_costs_the_same_queries_whatever_its_size(
    count: int, django_assert_num_queries: Any
) -> None:
    for index in range(count):
        pro(
            price=index + 1,
            specialties=("psicologia", "carreira"),
            languages=("pt-BR", "en"),
            online=True,
        )
    viewer = verified_user()
    api = client_for(viewer)

    # count, page, specialties prefetch, languages prefetch
    with django_assert_num_queries(4):
        response = api.get(URL, {"search": "helena", "specialty": "psicologia", "language": "pt"})

    assert len(_ids(response)) == count


def test_the_catalog_is_paginated() -> None:
    people = [pro(price=price) for price in (1, 2, 3)]

    response = client_for(verified_user()).get(
        URL, {"ordering": "price", "page_size": "2", "page": "2"}
    )

    assert _ids(response) == [people[2].pk]
    assert response.json()["count"] == 3


# --- A professional's page ---------------------------------------------------------------------


def test_a_professional_page_has_availability_queue_and_latest_reviews(settings: Any) -> None:
    settings.CALLS_MINIMUM_FEE = 10
    settings.QUEUE_FEE = 5
    helena = pro(name="Helena Souza", price=3, time_zone="Europe/Lisbon", rating=(6, 25))
    profile = ProfessionalProfile.objects.get(user=helena)
    profile.bio = "Ten years of practice."
    profile.save(update_fields=["bio"])
    AvailabilitySlot.objects.create(profile=profile, weekday=2, start_minute=540, end_minute=720)
    AvailabilitySlot.objects.create(profile=profile, weekday=0, start_minute=840, end_minute=1440)
    reviewers = [verified_user(display_name=f"Ana{index} Maria Silva") for index in range(6)]
    base = datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.UTC)
    ratings = []
    for index, reviewer in enumerate(reviewers):
        call = call_row(client=reviewer, professional=helena, connected_seconds=60)
        rating = CallRating.objects.create(
            call=call,
            client=reviewer,
            professional=helena,
            stars=index % 5 + 1,
            comment=f"c{index}",
        )
        CallRating.objects.filter(pk=rating.pk).update(
            created_at=base + datetime.timedelta(hours=index)
        )
        ratings.append(rating)
    MarketplaceQueueEntry.objects.create(
        professional=helena, client=reviewers[0], fee=5, status=EntryStatus.WAITING
    )
    MarketplaceQueueEntry.objects.create(
        professional=helena, client=reviewers[1], fee=5, status=EntryStatus.OFFERED
    )
    MarketplaceQueueEntry.objects.create(
        professional=helena, client=reviewers[2], fee=5, status=EntryStatus.LEFT
    )

    response = client_for(reviewers[0]).get(f"{URL}{helena.pk}/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["bio"] == "Ten years of practice."
    assert body["availability"] == [
        {"weekday": 0, "start": "14:00", "end": "24:00"},
        {"weekday": 2, "start": "09:00", "end": "12:00"},
    ]
    assert body["time_zone"] == "Europe/Lisbon"
    assert body["queue_length"] == 2
    assert body["minimum_fee"] == 10
    assert body["queue_fee"] == 5
    assert [review["id"] for review in body["reviews"]] == [r.pk for r in ratings[:0:-1]]
    assert body["reviews"][0]["client_name"] == "Ana5"
    assert body["reviews"][0]["stars"] == 1
    assert body["reviews"][0]["comment"] == "c5"
    assert body["rating_average"] == "4.17"


def test_reviews_are_paginated_newest_first_with_first_names_only(
    django_assert_num_queries: Any,
) -> None:
    helena = pro()
    reviewers = [verified_user(display_name=name) for name in ("Bia Souza", "", "Caio")]
    made = []
    for reviewer in reviewers:
        call = call_row(client=reviewer, professional=helena, connected_seconds=60)
        made.append(
            CallRating.objects.create(call=call, client=reviewer, professional=helena, stars=4)
        )
    api = client_for(reviewers[0])

    # the professional exists, count, page (client joined)
    with django_assert_num_queries(3):
        response = api.get(f"{URL}{helena.pk}/reviews/", {"page_size": 2})

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [(r["id"], r["client_name"]) for r in body["results"]] == [
        (made[2].pk, "Caio"),
        (made[1].pk, "Cliente"),
    ]


@pytest.mark.parametrize("suffix", ["", "reviews/"])
def test_a_hidden_or_unknown_professional_is_404(suffix: str) -> None:
    hidden = pro(listed=False)
    client_user = verified_user()
    api = client_for(client_user)

    for target in (hidden.pk, client_user.pk, 999999):
        assert_error(api.get(f"{URL}{target}/{suffix}"), 404, "not_found")


def test_specialties_are_listed_by_name() -> None:
    specialty("psicologia", "Psicologia")
    specialty("direito", "Direito")

    response = client_for(verified_user()).get("/api/v1/calls/specialties/")

    assert response.status_code == 200
    assert response.json() == [
        {"slug": "direito", "name": "Direito"},
        {"slug": "psicologia", "name": "Psicologia"},
    ]


@pytest.mark.parametrize(
    "url",
    [
        URL,
        f"{URL}1/",
        f"{URL}1/reviews/",
        "/api/v1/calls/specialties/",
        "/api/v1/calls/me/profile/",
        "/api/v1/calls/me/dashboard/",
        "/api/v1/calls/history/",
        "/api/v1/calls/1/receipt/",
    ],
)
def test_anonymous_callers_are_refused(url: str) -> None:
    assert_error(client_for(None).get(url), 401, "not_authenticated")


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("put", "/api/v1/calls/me/profile/"),
        ("post", "/api/v1/calls/me/profile/photo/"),
        ("post", "/api/v1/calls/1/rating/"),
    ],
)
def test_anonymous_writes_are_refused(method: str, url: str) -> None:
    assert_error(getattr(client_for(None), method)(url, {}), 401, "not_authenticated")


def test_the_catalog_keeps_its_query_count_on_the_professional_page(
    django_assert_max_num_queries: Any,
) -> None:
    helena = pro(specialties=("psicologia",), languages=("pt-BR",))
    api = client_for(verified_user())
    with CaptureQueriesContext(connection) as one:
        api.get(f"{URL}{helena.pk}/")
    for _index in range(5):
        reviewer = verified_user()
        call = call_row(client=reviewer, professional=helena, connected_seconds=60)
        CallRating.objects.create(call=call, client=reviewer, professional=helena, stars=5)
    with django_assert_max_num_queries(len(one)):
        response = api.get(f"{URL}{helena.pk}/")
    assert len(response.json()["reviews"]) == 5


def test_status_values_of_the_card_follow_the_profile() -> None:
    busy = pro(online=True)
    ProfessionalProfile.objects.filter(user=busy).update(status="busy")

    response = client_for(verified_user()).get(URL)

    assert response.json()["results"][0]["status"] == "busy"
    assert CallStatus.ENDED == "ended"
