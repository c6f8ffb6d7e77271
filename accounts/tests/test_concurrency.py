"""Races between requests, with real threads and real row locks (PostgreSQL only).

SQLite locks the whole database for a writer, so the interleavings below cannot happen there.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction

from accounts import services, verification
from accounts.models import Membership, VerificationChannel, VerificationCode
from accounts.roles import Role
from accounts.tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from core.exceptions import ApplicationError

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
    pytest.mark.django_db(transaction=True),
]


def in_thread(work: Callable[[], Any], outcomes: list[str]) -> threading.Thread:
    def run() -> None:
        try:
            work()
            outcomes.append("done")
        except Exception as exc:  # recorded for the test to assert on
            outcomes.append(getattr(exc, "code", type(exc).__name__))
        finally:
            connection.close()

    return threading.Thread(target=run, daemon=True)


def wait_until_blocked_on_a_lock(thread: threading.Thread) -> bool:
    """True once another backend waits for a row lock; False if the thread finished instead."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and thread.is_alive():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0] > 0:
                return True
        time.sleep(0.005)
    return False


def hold_open_after(
    work: Callable[[], Any], ready: threading.Event, release: threading.Event
) -> Callable[[], None]:
    """Run ``work`` in a transaction that stays open (with its locks) until ``release``."""

    def run() -> None:
        with transaction.atomic():
            work()
            ready.set()
            release.wait(timeout=10)

    return run


def test_two_admins_demoting_each_other_at_once_leave_one_admin() -> None:
    organization = OrganizationFactory()
    first = MembershipFactory(organization=organization, role=Role.ORG_ADMIN)
    second = MembershipFactory(organization=organization, role=Role.ORG_ADMIN)
    ready, release = threading.Event(), threading.Event()
    first_outcome: list[str] = []
    second_outcome: list[str] = []
    first_thread = in_thread(
        hold_open_after(
            lambda: services.membership_change_role(membership=first, role=Role.AGENT),
            ready,
            release,
        ),
        first_outcome,
    )
    second_thread = in_thread(
        lambda: services.membership_change_role(membership=second, role=Role.AGENT), second_outcome
    )

    first_thread.start()
    assert ready.wait(timeout=10)
    second_thread.start()
    blocked = wait_until_blocked_on_a_lock(second_thread)
    release.set()
    first_thread.join(timeout=10)
    second_thread.join(timeout=10)

    assert blocked, "the second demotion did not wait for the first one's locks"
    assert (first_outcome, second_outcome) == (["done"], ["accounts.last_org_admin"])
    assert list(
        Membership.objects.filter(organization=organization, role=Role.ORG_ADMIN).values_list(
            "pk", flat=True
        )
    ) == [second.pk]


def test_adding_the_same_person_twice_at_once_refuses_the_second_with_a_conflict() -> None:
    organization = OrganizationFactory()
    user = UserFactory()
    ready, release = threading.Event(), threading.Event()
    first_outcome: list[str] = []
    second_outcome: list[str] = []
    first_thread = in_thread(
        hold_open_after(
            lambda: services.membership_create(
                organization=organization, user=user, role=Role.AGENT
            ),
            ready,
            release,
        ),
        first_outcome,
    )
    second_thread = in_thread(
        lambda: services.membership_create(organization=organization, user=user, role=Role.VIEWER),
        second_outcome,
    )

    first_thread.start()
    assert ready.wait(timeout=10)
    second_thread.start()
    wait_until_blocked_on_a_lock(second_thread)
    release.set()
    first_thread.join(timeout=10)
    second_thread.join(timeout=10)

    assert first_outcome == ["done"]
    assert list(Membership.objects.values_list("role", flat=True)) == [Role.AGENT]
    assert second_outcome == ["accounts.already_member"]


def test_two_code_requests_at_once_send_one_code() -> None:
    user = UserFactory(phone="+5511987654321")
    ready, release = threading.Event(), threading.Event()
    first_outcome: list[str] = []
    second_outcome: list[str] = []
    first_thread = in_thread(
        hold_open_after(
            lambda: verification.verification_start(user=user, channel=VerificationChannel.PHONE),
            ready,
            release,
        ),
        first_outcome,
    )
    second_thread = in_thread(
        lambda: verification.verification_start(user=user, channel=VerificationChannel.PHONE),
        second_outcome,
    )

    first_thread.start()
    assert ready.wait(timeout=10)
    second_thread.start()
    blocked = wait_until_blocked_on_a_lock(second_thread)
    release.set()
    first_thread.join(timeout=10)
    second_thread.join(timeout=10)

    assert blocked, "the second request did not wait for the first one's lock on the user"
    assert (first_outcome, second_outcome) == (["done"], ["accounts.code_cooldown"])
    assert VerificationCode.objects.count() == 1


def test_two_wrong_codes_at_once_both_count() -> None:
    user = UserFactory(email="ana@example.com")
    verification.verification_start(user=user, channel=VerificationChannel.EMAIL)
    ready, release = threading.Event(), threading.Event()
    first_outcome: list[str] = []
    second_outcome: list[str] = []

    def confirm_wrong_and_keep_the_lock() -> None:
        # The wrong attempt is written in its own (inner) transaction and survives the error.
        try:
            verification.verification_confirm(
                user=user, channel=VerificationChannel.EMAIL, plain_code="not-it"
            )
        except ApplicationError as exc:
            first_outcome.append(exc.code)

    first_thread = in_thread(
        hold_open_after(confirm_wrong_and_keep_the_lock, ready, release), first_outcome
    )
    second_thread = in_thread(
        lambda: verification.verification_confirm(
            user=user, channel=VerificationChannel.EMAIL, plain_code="not-it"
        ),
        second_outcome,
    )

    first_thread.start()
    assert ready.wait(timeout=10)
    second_thread.start()
    blocked = wait_until_blocked_on_a_lock(second_thread)
    release.set()
    first_thread.join(timeout=10)
    second_thread.join(timeout=10)

    assert blocked, "the second attempt did not wait for the first one's lock on the code"
    assert (first_outcome, second_outcome) == (
        ["accounts.code_invalid", "done"],
        ["accounts.code_invalid"],
    )
    assert VerificationCode.objects.get().attempts == 2
