"""API clients sign in with JWT: obtain, use, rotate, revoke, expire, throttle."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.settings import api_settings
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from accounts.tests.helpers import assert_error

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
REFRESH_URL = "/api/v1/auth/token/refresh/"
REVOKE_URL = "/api/v1/auth/token/revoke/"
ME_URL = "/api/v1/me/"


def obtain(client: APIClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post(TOKEN_URL, {"email": email, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_it_exchanges_email_and_password_for_an_access_and_a_refresh_token(
    api_client: APIClient,
) -> None:
    user = UserFactory(email="ana@example.com")

    response = api_client.post(
        TOKEN_URL, {"email": "ana@example.com", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh"}
    assert str(AccessToken(body["access"])["user_id"]) == str(user.pk)
    assert str(RefreshToken(body["refresh"])["user_id"]) == str(user.pk)
    assert OutstandingToken.objects.filter(user=user).count() == 1
    user.refresh_from_db()
    assert user.last_login is not None


def test_it_refuses_a_wrong_password(api_client: APIClient) -> None:
    user = UserFactory(email="ana@example.com")

    response = api_client.post(
        TOKEN_URL, {"email": "ana@example.com", "password": "not-the-password"}, format="json"
    )

    assert_error(response, 401, "no_active_account")
    assert OutstandingToken.objects.count() == 0
    user.refresh_from_db()
    assert user.last_login is None


def test_it_refuses_an_inactive_user_with_the_right_password(api_client: APIClient) -> None:
    UserFactory(email="ana@example.com", is_active=False)

    response = api_client.post(
        TOKEN_URL, {"email": "ana@example.com", "password": PASSWORD}, format="json"
    )

    assert_error(response, 401, "no_active_account")
    assert OutstandingToken.objects.count() == 0


def test_the_access_token_authenticates_api_requests(api_client: APIClient) -> None:
    user = UserFactory(email="ana@example.com")
    tokens = obtain(api_client, "ana@example.com")

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    response = api_client.get(ME_URL)

    assert response.status_code == 200
    assert response.json()["id"] == user.pk
    assert response.json()["email"] == "ana@example.com"


def test_refreshing_rotates_the_refresh_token_and_refuses_the_old_one(
    api_client: APIClient,
) -> None:
    UserFactory(email="ana@example.com")
    tokens = obtain(api_client, "ana@example.com")

    response = api_client.post(REFRESH_URL, {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == 200
    rotated = response.json()
    assert set(rotated) == {"access", "refresh"}
    assert rotated["refresh"] != tokens["refresh"]
    assert OutstandingToken.objects.count() == 2
    assert BlacklistedToken.objects.count() == 1

    again = api_client.post(REFRESH_URL, {"refresh": tokens["refresh"]}, format="json")

    assert_error(again, 401, "token_not_valid")
    assert OutstandingToken.objects.count() == 2
    assert BlacklistedToken.objects.count() == 1

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {rotated['access']}")
    assert api_client.get(ME_URL).status_code == 200


def test_a_revoked_refresh_token_can_no_longer_be_refreshed(api_client: APIClient) -> None:
    UserFactory(email="ana@example.com")
    tokens = obtain(api_client, "ana@example.com")

    response = api_client.post(REVOKE_URL, {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == 200
    assert response.json() == {}
    assert BlacklistedToken.objects.count() == 1

    refreshed = api_client.post(REFRESH_URL, {"refresh": tokens["refresh"]}, format="json")

    assert_error(refreshed, 401, "token_not_valid")
    assert OutstandingToken.objects.count() == 1


def test_it_refuses_a_garbage_bearer_token(api_client: APIClient) -> None:
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")

    response = api_client.get(ME_URL)

    assert_error(response, 401, "token_not_valid")


def test_it_refuses_an_expired_access_token(api_client: APIClient) -> None:
    user = UserFactory()
    token = AccessToken.for_user(user)
    token.set_exp(from_time=timezone.now() - timedelta(hours=1))
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    response = api_client.get(ME_URL)

    assert_error(response, 401, "token_not_valid")


def test_it_refuses_a_refresh_token_used_as_an_access_token(api_client: APIClient) -> None:
    user = UserFactory()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user)}")

    response = api_client.get(ME_URL)

    assert_error(response, 401, "token_not_valid")


def test_an_access_token_of_a_deactivated_user_is_refused(api_client: APIClient) -> None:
    user = UserFactory()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    User.objects.filter(pk=user.pk).update(is_active=False)

    response = api_client.get(ME_URL)

    assert_error(response, 401, "user_inactive")


@pytest.fixture
def auth_rate_of_two(monkeypatch: pytest.MonkeyPatch) -> None:
    # ScopedRateThrottle copies the rates when its module is imported, so overriding the
    # setting would not reach it. A frozen clock makes the announced wait exact.
    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "auth": "2/min"}
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(ScopedRateThrottle, "timer", lambda self: 1_800_000_000.0)


@pytest.mark.usefixtures("auth_rate_of_two")
def test_the_token_endpoint_is_throttled_with_the_auth_rate(api_client: APIClient) -> None:
    UserFactory(email="ana@example.com")
    wrong = {"email": "ana@example.com", "password": "guess"}

    first = api_client.post(TOKEN_URL, wrong, format="json")
    second = api_client.post(TOKEN_URL, wrong, format="json")
    third = api_client.post(
        TOKEN_URL, {"email": "ana@example.com", "password": PASSWORD}, format="json"
    )

    assert first.status_code == 401
    assert second.status_code == 401
    assert_error(third, 429, "throttled", {"wait": 60})
    assert OutstandingToken.objects.count() == 0


@pytest.mark.usefixtures("auth_rate_of_two")
def test_the_token_endpoints_share_one_auth_budget(api_client: APIClient) -> None:
    UserFactory(email="ana@example.com")
    tokens = obtain(api_client, "ana@example.com")
    api_client.post(TOKEN_URL, {"email": "ana@example.com", "password": "guess"}, format="json")

    refreshed = api_client.post(REFRESH_URL, {"refresh": tokens["refresh"]}, format="json")
    revoked = api_client.post(REVOKE_URL, {"refresh": tokens["refresh"]}, format="json")

    assert_error(refreshed, 429, "throttled", {"wait": 60})
    assert_error(revoked, 429, "throttled", {"wait": 60})
    assert OutstandingToken.objects.count() == 1
    assert BlacklistedToken.objects.count() == 0
