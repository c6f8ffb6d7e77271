"""publish_on_commit: only committed state is announced, and a dead layer breaks nothing."""

from __future__ import annotations

import asyncio
import logging
import threading
from contextlib import suppress
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction

from realtime.publish import publish_on_commit

GROUP = "tests.thing.1"


async def _listen(group: str) -> str:
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    return channel


async def _receive(channel: str, timeout: float = 0.3) -> dict[str, Any] | None:
    try:
        return await asyncio.wait_for(get_channel_layer().receive(channel), timeout)
    except TimeoutError:
        return None


# Real commits (transaction=True), and the test listens on the same event loop the publishing
# code hops back to, as a consumer would.
@pytest.mark.django_db(transaction=True)
async def test_it_sends_after_the_transaction_commits() -> None:
    channel = await _listen(GROUP)
    moment = datetime(2026, 1, 2, tzinfo=UTC)

    def write() -> None:
        with transaction.atomic():
            publish_on_commit(GROUP, "tests.thing.changed", {"id": 1, "at": moment})

    await database_sync_to_async(write)()

    assert await _receive(channel) == {
        "type": "realtime.event",
        "event": "tests.thing.changed",
        "data": {"id": 1, "at": "2026-01-02T00:00:00Z"},
        # The socket frame, encoded once here rather than once per socket in the server.
        "text": '{"type": "tests.thing.changed", "data": {"id": 1, "at": "2026-01-02T00:00:00Z"}}',
    }
    assert await _receive(channel, 0.1) is None


@pytest.mark.django_db(transaction=True)
async def test_it_sends_nothing_when_the_transaction_rolls_back() -> None:
    channel = await _listen(GROUP)

    def failing_write() -> None:
        with suppress(RuntimeError), transaction.atomic():
            publish_on_commit(GROUP, "tests.thing.changed", {"id": 1})
            raise RuntimeError("the write failed")

    await database_sync_to_async(failing_write)()

    assert await _receive(channel) is None


@pytest.mark.django_db
def test_a_payload_that_is_not_json_fails_at_the_call_site(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(TypeError, match="not JSON serializable"),
    ):
        publish_on_commit(GROUP, "tests.thing.changed", {"value": {1, 2}})

    assert callbacks == []


@pytest.mark.django_db(transaction=True)
async def test_decimals_are_sent_as_json_text() -> None:
    channel = await _listen(GROUP)

    await database_sync_to_async(publish_on_commit)(
        GROUP, "tests.thing.priced", {"price": Decimal("1.50")}
    )

    message = await _receive(channel)
    assert message is not None and message["data"] == {"price": "1.50"}


@pytest.mark.django_db
def test_a_committed_request_survives_a_dead_channel_layer(
    settings: Any, django_capture_on_commit_callbacks: Any, caplog: Any
) -> None:
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }

    with (
        caplog.at_level(logging.ERROR, logger="realtime.publish"),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        publish_on_commit(GROUP, "tests.thing.changed", {"id": 1})

    assert len(callbacks) == 1
    assert [(r.getMessage(), r.group, r.event) for r in caplog.records] == [
        ("realtime publish failed", GROUP, "tests.thing.changed")
    ]


@pytest.mark.skipif(
    isinstance(get_channel_layer(), InMemoryChannelLayer),
    reason="the in-memory layer sends on the server's own loop",
)
def test_a_broker_layer_sends_through_one_loop_per_process() -> None:
    from asgiref.sync import async_to_sync

    from realtime import publish

    layer = get_channel_layer()

    async def listen_while_publishing() -> list[int]:
        # One loop listens, as a server process would; the sends come from a plain thread,
        # as from a request's worker thread or a Celery task.
        channel = await layer.new_channel()
        await layer.group_add(GROUP, channel)

        def send_three() -> None:
            for n in range(3):
                publish._send(
                    GROUP, {"type": "realtime.event", "event": "tests.n", "data": {"n": n}}
                )

        await asyncio.to_thread(send_three)
        received = [(await layer.receive(channel))["data"]["n"] for _ in range(3)]
        await layer.group_discard(GROUP, channel)
        return received

    received = async_to_sync(listen_while_publishing)()
    publishers = [t for t in threading.enumerate() if t.name == "realtime-publish"]
    assert received == [0, 1, 2]
    assert len(publishers) == 1
    assert publish._publishing_loop() is publish._loop
