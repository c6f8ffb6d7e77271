"""purge_expired_credentials: expired sessions and refresh tokens go, live ones stay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.tasks import purge_expired_credentials
from accounts.tests.factories import UserFactory
from config.celery import app as celery_app

pytestmark = pytest.mark.django_db


def make_session(expire_in: timedelta) -> str:
    store = SessionStore()
    store["marker"] = "x"
    store.create()
    Session.objects.filter(session_key=store.session_key).update(
        expire_date=timezone.now() + expire_in
    )
    return store.session_key


def make_refresh_token(
    user_id: int, jti: str, expire_in: timedelta, *, blacklisted: bool = False
) -> OutstandingToken:
    token = OutstandingToken.objects.create(
        user_id=user_id,
        jti=jti,
        token=f"token-{jti}",
        created_at=timezone.now() - timedelta(days=15),
        expires_at=timezone.now() + expire_in,
    )
    if blacklisted:
        BlacklistedToken.objects.create(token=token)
    return token


def test_it_purges_expired_sessions_and_refresh_tokens_and_keeps_live_ones() -> None:
    user = UserFactory()
    expired_sessions = [make_session(-timedelta(minutes=1)), make_session(-timedelta(days=30))]
    live_session = make_session(timedelta(days=1))
    make_refresh_token(user.pk, "expired-plain", -timedelta(seconds=1))
    make_refresh_token(user.pk, "expired-revoked", -timedelta(days=2), blacklisted=True)
    live = make_refresh_token(user.pk, "live-plain", timedelta(days=1))
    live_revoked = make_refresh_token(user.pk, "live-revoked", timedelta(days=1), blacklisted=True)

    result = purge_expired_credentials()

    assert result == {"sessions": 2, "refresh_tokens": 2}
    assert list(Session.objects.values_list("session_key", flat=True)) == [live_session]
    assert not Session.objects.filter(session_key__in=expired_sessions).exists()
    assert set(OutstandingToken.objects.values_list("pk", flat=True)) == {live.pk, live_revoked.pk}
    assert list(BlacklistedToken.objects.values_list("token_id", flat=True)) == [live_revoked.pk]


def test_a_second_run_finds_nothing_left() -> None:
    user = UserFactory()
    make_session(-timedelta(minutes=1))
    make_refresh_token(user.pk, "expired", -timedelta(seconds=1), blacklisted=True)
    purge_expired_credentials()

    assert purge_expired_credentials() == {"sessions": 0, "refresh_tokens": 0}
    assert (
        Session.objects.count(),
        OutstandingToken.objects.count(),
        BlacklistedToken.objects.count(),
    ) == (0, 0, 0)


def test_with_nothing_expired_it_deletes_nothing() -> None:
    user = UserFactory()
    make_session(timedelta(hours=1))
    make_refresh_token(user.pk, "live", timedelta(hours=1))

    assert purge_expired_credentials() == {"sessions": 0, "refresh_tokens": 0}
    assert (Session.objects.count(), OutstandingToken.objects.count()) == (1, 1)


def test_the_beat_schedule_names_the_registered_task() -> None:
    make_session(-timedelta(minutes=1))
    scheduled = settings.CELERY_BEAT_SCHEDULE["accounts.purge_expired_credentials"]["task"]

    celery_app.tasks[scheduled].delay()

    assert Session.objects.count() == 0
