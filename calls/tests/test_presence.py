"""Professionals' status from their switch and their sockets; a dropped socket in a call."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from accounts.tests.helpers import committed
from calls import presence, services, signals
from calls.models import CallStatus, ProfessionalProfile, ProfessionalStatus
from calls.tests.factories import client, connect, live_call, professional, profile_of
from chat.models import PresenceConnection

pytestmark = pytest.mark.django_db

STATUS = "calls.professional.status"


@pytest.fixture
def sent_signals() -> Iterator[list[tuple[str, int]]]:
    seen: list[tuple[str, int]] = []

    def freed(sender: Any, professional_id: int, **kwargs: Any) -> None:
        seen.append(("professional_freed", professional_id))

    def offline(sender: Any, professional_id: int, **kwargs: Any) -> None:
        seen.append(("professional_went_offline", professional_id))

    signals.professional_freed.connect(freed, weak=False)
    signals.professional_went_offline.connect(offline, weak=False)
    yield seen
    signals.professional_freed.disconnect(freed)
    signals.professional_went_offline.disconnect(offline)


def statuses(published: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, Any]]:
    return [(group, message["data"]) for group, message in published if message["event"] == STATUS]


def status_event(pro_id: int, status: str, accepting: bool = True) -> list[tuple[str, Any]]:
    data = {"professional_id": pro_id, "status": status, "accepting_calls": accepting}
    return [("calls.catalog.all", data), (f"user.{pro_id}", data)]


def test_switching_on_while_connected_makes_a_professional_online(
    published: list[tuple[str, dict[str, Any]]], sent_signals: list[tuple[str, int]]
) -> None:
    pro = professional(online=False)
    connect(pro)

    with committed():
        profile = services.professional_accepting_set(user=pro, accepting=True)

    assert (profile.accepting_calls, profile.status) == (True, ProfessionalStatus.ONLINE)
    assert statuses(published) == status_event(pro.pk, "online")
    assert sent_signals == [("professional_freed", pro.pk)]


def test_switching_on_without_a_socket_stays_offline(
    published: list[tuple[str, dict[str, Any]]],
) -> None:
    pro = professional(online=False)

    with committed():
        profile = services.professional_accepting_set(user=pro, accepting=True)

    assert (profile.accepting_calls, profile.status) == (True, ProfessionalStatus.OFFLINE)
    assert statuses(published) == []


def test_switching_off_makes_a_professional_offline(
    published: list[tuple[str, dict[str, Any]]], sent_signals: list[tuple[str, int]]
) -> None:
    pro = professional()

    with committed():
        profile = services.professional_accepting_set(user=pro, accepting=False)

    assert (profile.accepting_calls, profile.status) == (False, ProfessionalStatus.OFFLINE)
    assert statuses(published) == status_event(pro.pk, "offline", accepting=False)
    assert sent_signals == [("professional_went_offline", pro.pk)]


def test_the_switch_is_for_professionals_only() -> None:
    with pytest.raises(services.NotProfessionalError):
        services.professional_accepting_set(user=client(), accepting=True)
    assert ProfessionalProfile.objects.count() == 0


def test_a_socket_opening_brings_a_switched_on_professional_back(
    published: list[tuple[str, dict[str, Any]]],
) -> None:
    pro = professional()
    ProfessionalProfile.objects.filter(user=pro).update(
        status=ProfessionalStatus.OFFLINE, presence_lost_at=timezone.now()
    )
    pro.presence_connections.all().delete()

    with committed():
        # Calls' listener runs before chat records the socket: no row exists yet.
        presence.on_connect(pro.pk, "test.new")

    profile = profile_of(pro)
    assert (profile.status, profile.presence_lost_at) == (ProfessionalStatus.ONLINE, None)
    assert statuses(published) == status_event(pro.pk, "online")


def test_a_socket_closing_while_another_is_open_changes_nothing(
    published: list[tuple[str, dict[str, Any]]],
) -> None:
    pro = professional()
    closing = connect(pro)
    before = profile_of(pro)

    with committed():
        presence.on_disconnect(pro.pk, closing)

    assert profile_of(pro).presence_lost_at is None
    assert profile_of(pro).status == before.status == ProfessionalStatus.ONLINE
    assert published == []


def test_the_last_socket_closing_starts_the_countdown_to_offline(
    published: list[tuple[str, dict[str, Any]]],
    sent_signals: list[tuple[str, int]],
    settings: Any,
) -> None:
    settings.CALLS_OFFLINE_AFTER_SECONDS = 60
    pro = professional()
    (channel,) = pro.presence_connections.values_list("channel_name", flat=True)

    presence.on_disconnect(pro.pk, channel)
    # chat's listener forgets the socket after ours ran.
    PresenceConnection.objects.filter(channel_name=channel).delete()

    lost = profile_of(pro).presence_lost_at
    assert lost is not None
    assert profile_of(pro).status == ProfessionalStatus.ONLINE
    assert services.professionals_sweep(now=lost + datetime.timedelta(seconds=59)) == 0
    assert profile_of(pro).status == ProfessionalStatus.ONLINE
    with committed():
        assert services.professionals_sweep(now=lost + datetime.timedelta(seconds=60)) == 1

    assert profile_of(pro).status == ProfessionalStatus.OFFLINE
    assert statuses(published) == status_event(pro.pk, "offline")
    assert sent_signals == [("professional_went_offline", pro.pk)]


def test_reconnecting_within_the_countdown_keeps_a_professional_online(settings: Any) -> None:
    settings.CALLS_OFFLINE_AFTER_SECONDS = 60
    pro = professional()
    (channel,) = pro.presence_connections.values_list("channel_name", flat=True)
    presence.on_disconnect(pro.pk, channel)
    PresenceConnection.objects.filter(channel_name=channel).delete()

    presence.on_connect(pro.pk, "test.again")
    connect(pro, "test.again")

    assert profile_of(pro).presence_lost_at is None
    assert services.professionals_sweep(now=timezone.now() + datetime.timedelta(seconds=61)) == 0
    assert profile_of(pro).status == ProfessionalStatus.ONLINE


def test_sockets_that_stopped_beating_make_a_professional_offline(settings: Any) -> None:
    settings.PRESENCE_TIMEOUT_SECONDS = 90
    pro = professional()

    assert services.professionals_sweep(now=timezone.now() + datetime.timedelta(seconds=80)) == 0
    assert services.professionals_sweep(now=timezone.now() + datetime.timedelta(seconds=91)) == 1

    assert profile_of(pro).status == ProfessionalStatus.OFFLINE


def test_a_client_socket_means_nothing_to_professionals(
    published: list[tuple[str, dict[str, Any]]],
) -> None:
    payer = client()

    with committed():
        presence.on_connect(payer.pk, "test.client")
        presence.on_disconnect(payer.pk, "test.client")

    assert ProfessionalProfile.objects.count() == 0
    assert published == []


@pytest.mark.parametrize("side", ["client", "professional"])
def test_the_last_socket_closing_during_a_call_drops_that_side(side: str, settings: Any) -> None:
    settings.CALLS_DISCONNECT_GRACE_SECONDS = 30
    call = live_call(CallStatus.ACTIVE)
    user = call.client if side == "client" else call.professional
    channel = connect(user)
    PresenceConnection.objects.filter(user=user).exclude(channel_name=channel).delete()

    presence.on_disconnect(user.pk, channel)

    call.refresh_from_db()
    assert call.status == CallStatus.ACTIVE
    assert (call.client_connected, call.professional_connected) == (
        side != "client",
        side == "client",
    )
    assert call.disconnect_deadline is not None
    assert call.segment_started_at is None
