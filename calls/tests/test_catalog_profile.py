"""The professional's own page (profile, photo) and dashboard."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.models import AccountType
from accounts.tests.helpers import assert_error, client_for, rows
from calls.catalog import professional_dashboard, professional_profile_update
from calls.models import (
    AvailabilitySlot,
    CallStatus,
    ProfessionalLanguage,
    ProfessionalProfile,
)
from calls.tests.catalog_helpers import call_row, charge, pro, specialty
from calls.tests.factories import fund, verified_user

pytestmark = pytest.mark.django_db

PROFILE_URL = "/api/v1/calls/me/profile/"
PHOTO_URL = "/api/v1/calls/me/profile/photo/"
DASHBOARD_URL = "/api/v1/calls/me/dashboard/"


def _professional_without_profile() -> Any:
    return verified_user(account_type=AccountType.PROFESSIONAL, display_name="Nova Pro")


def _profile_rows() -> dict[str, Any]:
    return {
        "profiles": rows(ProfessionalProfile),
        "languages": rows(ProfessionalLanguage),
        "slots": rows(AvailabilitySlot),
        "specialties": list(
            ProfessionalProfile.specialties.through.objects.order_by("pk").values()
        ),
    }


def test_the_first_save_creates_the_profile() -> None:
    specialty("psicologia", "Psicologia")
    specialty("carreira", "Carreira")
    user = _professional_without_profile()
    api = client_for(user)
    assert api.get(PROFILE_URL).json()["exists"] is False

    response = api.put(
        PROFILE_URL,
        {
            "headline": "  Psicóloga  ",
            "bio": "Adults and teens.",
            "price_per_minute": 3,
            "specialties": ["psicologia", "carreira"],
            "languages": ["pt-br", "EN", "en"],
            "availability": [
                {"weekday": 1, "start": "14:00", "end": "18:00"},
                {"weekday": 1, "start": "09:00", "end": "12:00"},
                {"weekday": 4, "start": "20:00", "end": "24:00"},
            ],
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["exists"] is True
    assert body["headline"] == "Psicóloga"
    assert body["price_per_minute"] == 3
    assert body["specialties"] == [
        {"slug": "carreira", "name": "Carreira"},
        {"slug": "psicologia", "name": "Psicologia"},
    ]
    assert body["languages"] == ["en", "pt-BR"]
    assert body["availability"] == [
        {"weekday": 1, "start": "09:00", "end": "12:00"},
        {"weekday": 1, "start": "14:00", "end": "18:00"},
        {"weekday": 4, "start": "20:00", "end": "24:00"},
    ]
    assert body["accepting_calls"] is False
    assert body["status"] == "offline"
    profile = ProfessionalProfile.objects.get(user=user)
    assert (profile.bio, profile.is_listed) == ("Adults and teens.", True)


def test_a_later_save_replaces_lists_and_keeps_fields_left_out() -> None:
    specialty("direito")
    user = pro(price=4, headline="Old", specialties=("psicologia",), languages=("pt-BR",))
    profile = ProfessionalProfile.objects.get(user=user)
    AvailabilitySlot.objects.create(profile=profile, weekday=0, start_minute=60, end_minute=120)

    updated = professional_profile_update(
        user=user,
        data={"specialties": ["direito"], "languages": ["es"], "availability": []},
    )

    assert updated.pk == profile.pk
    profile.refresh_from_db()
    assert (profile.headline, profile.price_per_minute) == ("Old", 4)
    assert [s.slug for s in profile.specialties.all()] == ["direito"]
    assert list(profile.languages.values_list("code", flat=True)) == ["es"]
    assert AvailabilitySlot.objects.filter(profile=profile).count() == 0


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({"price_per_minute": 0}, ["price_per_minute"]),
        ({"price_per_minute": 1001}, ["price_per_minute"]),
        ({"specialties": ["psicologia", "astrologia"]}, ["specialties"]),
        ({"languages": ["pt-BR", "xx-YY"]}, ["languages"]),
        ({"availability": [{"weekday": 0, "start": "10:00", "end": "09:00"}]}, ["availability"]),
        ({"availability": [{"weekday": 0, "start": "10:00", "end": "25:00"}]}, ["availability"]),
        (
            {
                "availability": [
                    {"weekday": 2, "start": "09:00", "end": "12:00"},
                    {"weekday": 2, "start": "11:30", "end": "13:00"},
                ]
            },
            ["availability"],
        ),
        ({"availability": [{"weekday": 7, "start": "09:00", "end": "12:00"}]}, ["availability"]),
        (
            {"price_per_minute": -3, "languages": ["zz"]},
            ["languages", "price_per_minute"],
        ),
        ({"nickname": "Lena"}, ["nickname"]),
    ],
)
def test_invalid_fields_are_named_and_nothing_is_written(
    data: dict[str, Any], fields: list[str]
) -> None:
    specialty("psicologia")
    user = pro(price=4, headline="Before", specialties=("psicologia",), languages=("pt-BR",))
    before = _profile_rows()

    response = client_for(user).put(PROFILE_URL, {"headline": "After", **data}, format="json")

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "validation_error"
    assert sorted(body["extra"]["fields"]) == fields
    assert _profile_rows() == before


def test_the_service_validates_every_field_itself() -> None:
    from django.core.exceptions import ValidationError

    user = pro(price=4, headline="Before")
    before = _profile_rows()

    with pytest.raises(ValidationError) as refused:
        professional_profile_update(
            user=user,
            data={"headline": "x" * 121, "price_per_minute": True, "bio": 5, "languages": "pt"},
        )

    assert sorted(refused.value.message_dict) == [
        "bio",
        "headline",
        "languages",
        "price_per_minute",
    ]
    assert _profile_rows() == before


def test_the_first_save_needs_a_price() -> None:
    user = _professional_without_profile()

    response = client_for(user).put(PROFILE_URL, {"headline": "Hi"}, format="json")

    assert response.status_code == 400
    assert list(response.json()["extra"]["fields"]) == ["price_per_minute"]
    assert ProfessionalProfile.objects.count() == 0


@pytest.mark.parametrize(
    ("method", "url"),
    [("get", PROFILE_URL), ("put", PROFILE_URL), ("post", PHOTO_URL), ("get", DASHBOARD_URL)],
)
def test_me_endpoints_refuse_non_professionals(method: str, url: str) -> None:
    client_user = verified_user()

    response = getattr(client_for(client_user), method)(url, {"price_per_minute": 3})

    assert_error(response, 403, "calls.not_professional")
    assert ProfessionalProfile.objects.count() == 0


def _image_bytes(image_format: str = "PNG", size: tuple[int, int] = (1200, 600)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA" if image_format == "PNG" else "RGB", size, (10, 200, 30)).save(
        out, format=image_format
    )
    return out.getvalue()


def test_a_photo_is_reencoded_as_a_small_jpeg(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    user = pro()
    upload = SimpleUploadedFile("me.png", _image_bytes("PNG"), content_type="image/png")

    response = client_for(user).post(PHOTO_URL, {"photo": upload}, format="multipart")

    assert response.status_code == 200, response.content
    profile = ProfessionalProfile.objects.get(user=user)
    assert response.json()["photo_url"] == profile.photo.url
    with Image.open(profile.photo.path) as stored:
        assert (stored.format, stored.size) == ("JPEG", (800, 400))


def test_replacing_a_photo_deletes_the_old_file(settings: Any, tmp_path: Any) -> None:
    from django.test import TestCase

    settings.MEDIA_ROOT = str(tmp_path)
    user = pro()
    api = client_for(user)
    with TestCase.captureOnCommitCallbacks(execute=True):
        api.post(PHOTO_URL, {"photo": SimpleUploadedFile("a.jpg", _image_bytes("JPEG"))})
    first = ProfessionalProfile.objects.get(user=user).photo.path
    with TestCase.captureOnCommitCallbacks(execute=True):
        api.post(PHOTO_URL, {"photo": SimpleUploadedFile("b.jpg", _image_bytes("JPEG"))})

    second = ProfessionalProfile.objects.get(user=user).photo.path
    assert second != first
    import os

    assert (os.path.exists(first), os.path.exists(second)) == (False, True)


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b"GIF89a" + b"\x00" * 100, 422, "calls.photo_invalid"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, 422, "calls.photo_invalid"),
        (b"MZ" + b"\x00" * 100, 422, "calls.photo_invalid"),
    ],
)
def test_a_file_that_is_not_a_photo_is_refused(
    content: bytes, status: int, code: str, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    user = pro()
    before = _profile_rows()

    response = client_for(user).post(
        PHOTO_URL, {"photo": SimpleUploadedFile("x.png", content)}, format="multipart"
    )

    assert response.status_code == status
    assert response.json()["code"] == code
    assert _profile_rows() == before
    assert list(tmp_path.iterdir()) == []


def test_a_gif_is_refused(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    user = pro()
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, format="GIF")

    response = client_for(user).post(
        PHOTO_URL, {"photo": SimpleUploadedFile("x.gif", out.getvalue())}, format="multipart"
    )

    assert_error(response, 422, "calls.photo_invalid")


def test_a_photo_too_large_is_refused(settings: Any, tmp_path: Any, monkeypatch: Any) -> None:
    from calls import catalog

    settings.MEDIA_ROOT = str(tmp_path)
    monkeypatch.setattr(catalog, "MAX_PHOTO_BYTES", 1000)
    user = pro()

    response = client_for(user).post(
        PHOTO_URL, {"photo": SimpleUploadedFile("a.jpg", _image_bytes("JPEG"))}
    )

    assert_error(response, 413, "calls.photo_too_large", {"max_bytes": 1000})
    assert not ProfessionalProfile.objects.get(user=user).photo


def test_a_photo_needs_a_profile_first(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    user = _professional_without_profile()

    response = client_for(user).post(
        PHOTO_URL, {"photo": SimpleUploadedFile("a.jpg", _image_bytes("JPEG"))}
    )

    assert_error(response, 409, "calls.profile_required")


# --- Dashboard ---------------------------------------------------------------------------------


def test_the_dashboard_counts_today_in_the_professionals_time_zone() -> None:
    # Given a professional in São Paulo (UTC-3): it is 01:30 on 10 March there
    helena = pro(time_zone="America/Sao_Paulo", online=True, rating=(2, 9))
    payer = verified_user()
    fund(payer, 200)
    now = datetime.datetime(2026, 3, 10, 4, 30, tzinfo=datetime.UTC)
    midnight = datetime.datetime(2026, 3, 10, 3, 0, tzinfo=datetime.UTC)
    # a call that ended yesterday evening local time (before midnight), and two today
    call_row(
        client=payer,
        professional=helena,
        connected_seconds=600,
        ended_at=midnight - datetime.timedelta(minutes=1),
        requested_at=midnight - datetime.timedelta(minutes=20),
    )
    for seconds in (120, 300):
        call_row(
            client=payer,
            professional=helena,
            connected_seconds=seconds,
            ended_at=midnight + datetime.timedelta(minutes=30),
            requested_at=midnight,
        )
    # a cancelled one does not count
    call_row(client=payer, professional=helena, status=CallStatus.CANCELLED, ended_at=now)
    live = call_row(client=payer, professional=helena, status=CallStatus.ACTIVE)
    charge(live, 20)  # 17 to the professional, today (the transfer is written now)

    board = professional_dashboard(user=helena, now=datetime.datetime.now(tz=datetime.UTC))
    at_fixed = professional_dashboard(user=helena, now=now)

    assert (at_fixed.calls_today, at_fixed.seconds_today) == (2, 420)
    assert board.earned_today == 17
    assert (board.status, board.accepting_calls, board.queue_length) == ("online", True, 0)
    assert (str(board.rating_average), board.rating_count) == ("4.50", 2)


def test_the_dashboard_api_shape() -> None:
    helena = pro(rating=(1, 4))

    response = client_for(helena).get(DASHBOARD_URL)

    assert response.status_code == 200
    assert response.json() == {
        "status": "offline",
        "accepting_calls": False,
        "queue_length": 0,
        "today": {"calls": 0, "seconds": 0, "earned": 0},
        "rating_average": "4.00",
        "rating_count": 1,
    }
