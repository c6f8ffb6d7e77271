"""Active sessions: a person sees their signed-in browsers and ends the others."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
BASE = "/_allauth/browser/v1"


def sign_in(email: str, user_agent: str) -> Client:
    client = Client(HTTP_USER_AGENT=user_agent)
    response = client.post(
        f"{BASE}/auth/login",
        json.dumps({"email": email, "password": PASSWORD}),
        content_type="application/json",
    )
    assert response.status_code == 200
    return client


def test_a_person_lists_their_sessions_and_ends_another_one() -> None:
    UserFactory(email="ana@example.com")
    laptop = sign_in("ana@example.com", "Laptop browser")
    phone = sign_in("ana@example.com", "Phone browser")

    listed = laptop.get(f"{BASE}/auth/sessions").json()["data"]
    phone_session = next(item for item in listed if item["user_agent"] == "Phone browser")
    ended = laptop.delete(
        f"{BASE}/auth/sessions",
        json.dumps({"sessions": [phone_session["id"]]}),
        content_type="application/json",
    )

    assert sorted(item["user_agent"] for item in listed) == ["Laptop browser", "Phone browser"]
    assert [item["is_current"] for item in listed if item["user_agent"] == "Laptop browser"] == [
        True
    ]
    assert ended.status_code == 200
    assert phone.get("/api/v1/me/").status_code == 401
    assert laptop.get("/api/v1/me/").status_code == 200


def test_nobody_sees_another_persons_sessions() -> None:
    UserFactory(email="ana@example.com")
    UserFactory(email="bia@example.com")
    sign_in("ana@example.com", "Ana's browser")
    bia = sign_in("bia@example.com", "Bia's browser")

    listed = bia.get(f"{BASE}/auth/sessions").json()["data"]

    assert [item["user_agent"] for item in listed] == ["Bia's browser"]
