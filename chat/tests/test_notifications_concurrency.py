"""Notifications under real concurrent workers, with real row locks (PostgreSQL only).

Two workers running the same fan-out, or the same digest sweep, at the same moment: each
person is still notified once and emailed once. Every thread opens its own connection and
closes it when it is done.
"""

from __future__ import annotations

import datetime
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from accounts.models import User
from chat import notifications
from chat.models import Notification
from chat.tests.factories import MessageFactory
from chat.tests.helpers import channel, direct, events_named, member, team

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
    pytest.mark.django_db(transaction=True),
]

WORKERS = 4


def run_together(work: Callable[[], Any], workers: int = WORKERS) -> list[Any]:
    """Start ``workers`` threads at one barrier, each on its own connection; their results."""
    barrier = threading.Barrier(workers)
    outcomes: list[Any] = []

    def run() -> None:
        try:
            barrier.wait()
            outcomes.append(work())
        except Exception as exc:  # recorded for the test to assert on
            outcomes.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, daemon=True) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_concurrent_fan_outs_of_one_message_notify_each_person_once(
    published: list[tuple[str, dict[str, Any]]],
) -> None:
    organization = team().organization
    author = member(organization)
    others = [member(organization) for _ in range(20)]
    room = channel(organization, owner=author, members=others)
    message = MessageFactory(room=room, author=author, body="@channel", mentions_all=True)

    outcomes = run_together(lambda: len(notifications.notify_for_message(message_id=message.pk)))

    assert sum(outcomes) == len(others)
    assert Notification.objects.count() == len(others)
    pushed = Counter(group for group, _ in events_named(published, "chat.notification.created"))
    assert pushed == Counter({f"user.{user.pk}": 1 for user in others})


def test_concurrent_digest_sweeps_email_each_person_once(settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    world = team()
    people: list[User] = [member(world.organization) for _ in range(12)]
    old = timezone.now() - datetime.timedelta(seconds=settings.NOTIFICATION_EMAIL_DELAY_SECONDS + 5)
    for person in people:
        room = direct(world.organization, world.agent, person)
        for index in range(2):
            message = MessageFactory(room=room, author=world.agent, body=f"oi {index}")
            Notification.objects.create(
                user=person,
                kind="direct_message",
                source=f"message:{message.pk}",
                title="Bruno",
                url=f"/chat/{room.pk}?message={message.pk}",
                room=room,
            )
    Notification.objects.update(created_at=old)

    outcomes = run_together(lambda: notifications.notification_digests_send(now=timezone.now()))

    assert sum(outcomes) == len(people)
    recipients = Counter(email.to[0] for email in mail.outbox)
    assert recipients == Counter({person.email: 1 for person in people})
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0
