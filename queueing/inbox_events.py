"""The support inbox's real-time events, sent after the transaction commits.

Groups:

- ``queueing.inbox.<org_id>``: the organization's staff (list updates);
- ``queueing.conversation.<id>``: staff following one conversation (messages, notes, typing);
- ``queueing.supervisor.<org_id>``: org admins (queue loads and agents);
- ``widget.contact.<contact_id>``: the contact's widget sockets. Only contact-facing shapes go
  there (``widget_conversation_data``, ``support_message_data(for_contact=True)``): a note is
  never sent to it.

Each function is called from inside the service's transaction; the payload is built once the
transaction has committed (so it shows the committed state, whatever the service changed after
the call) and then sent. Delivery is at most once: clients resync through REST.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.cache import cache
from django.db import transaction

from realtime.publish import publish_many_on_commit, publish_on_commit


def inbox_group(organization_id: int) -> str:
    return f"queueing.inbox.{organization_id}"


def conversation_group(conversation_id: int) -> str:
    return f"queueing.conversation.{conversation_id}"


def supervisor_group(organization_id: int) -> str:
    return f"queueing.supervisor.{organization_id}"


def contact_group(contact_id: int) -> str:
    return f"widget.contact.{contact_id}"


def _after_commit(build: Any) -> None:
    # Outside a transaction on_commit runs at once; the publish calls inside then send at once.
    transaction.on_commit(build)


def conversation_created(conversation_id: int) -> None:
    """``inbox.conversation.created`` (ConversationData) to the organization's inbox."""

    def send() -> None:
        from queueing.inbox_selectors import conversation_data_by_id

        data = conversation_data_by_id(conversation_id)
        if data is None:
            return
        publish_on_commit(
            inbox_group(data["organization_id"]), "inbox.conversation.created", dict(data)
        )

    _after_commit(send)


def _send_changed(conversation_ids: Sequence[int]) -> None:
    from queueing.inbox_selectors import (
        conversation_data,
        widget_conversation_data,
        with_conversation_relations,
    )
    from queueing.models import Conversation

    conversations = with_conversation_relations(
        Conversation.objects.filter(pk__in=sorted(set(conversation_ids)))
    ).order_by("pk")
    for conversation in conversations:
        data = dict(conversation_data(conversation))
        publish_on_commit(
            inbox_group(conversation.organization_id), "inbox.conversation.updated", data
        )
        publish_on_commit(conversation_group(conversation.pk), "inbox.conversation.updated", data)
        publish_on_commit(
            contact_group(conversation.contact_id),
            "widget.conversation.updated",
            dict(widget_conversation_data(conversation)),
        )


def conversation_changed(conversation_ids: Sequence[int]) -> None:
    """``inbox.conversation.updated`` to the inbox and the conversation's group, and
    ``widget.conversation.updated`` (WidgetConversationData) to the contact's widget."""
    ids = list(conversation_ids)
    if ids:
        _after_commit(lambda: _send_changed(ids))


def message_created(message_id: int) -> None:
    """``inbox.message.created`` {conversation_id, message} to the conversation's group (notes
    included), an ``inbox.conversation.updated`` to the inbox (the preview moved), and, unless
    the message is a note, ``widget.message.created`` with the contact's shape to the widget."""

    def send() -> None:
        from chat.models import Message, MessageKind
        from chat.support import support_message_data
        from queueing.inbox_selectors import conversation_data, with_conversation_relations
        from queueing.models import Conversation

        message = (
            Message.objects.select_related("author")
            .prefetch_related("attachments")
            .filter(pk=message_id)
            .first()
        )
        if message is None:
            return
        conversation = with_conversation_relations(
            Conversation.objects.filter(room_id=message.room_id)
        ).first()
        if conversation is None:
            return
        publish_on_commit(
            conversation_group(conversation.pk),
            "inbox.message.created",
            {
                "conversation_id": conversation.pk,
                "message": dict(
                    support_message_data(
                        message, for_contact=False, conversation_id=conversation.pk
                    )
                ),
            },
        )
        publish_on_commit(
            inbox_group(conversation.organization_id),
            "inbox.conversation.updated",
            dict(conversation_data(conversation)),
        )
        if message.kind == MessageKind.NOTE:
            return
        publish_on_commit(
            contact_group(conversation.contact_id),
            "widget.message.created",
            {
                "conversation_id": conversation.pk,
                "message": dict(
                    support_message_data(message, for_contact=True, conversation_id=conversation.pk)
                ),
            },
        )

    _after_commit(send)


# A queue's positions go out at most once per this many seconds (with a worker): every
# assignment moves everyone behind, and 10,000 waiting would mean 10,000 frames each time.
POSITIONS_COALESCE_SECONDS = 1.0


def queue_positions_changed(queue_id: int) -> None:
    """The line of ``queue_id`` moved: tell every contact waiting in it their new place.

    With a Celery worker the update is coalesced: the first change in a second schedules
    ``queueing.publish_queue_positions`` a second later, and changes until then ride on it
    (the task reads the line when it runs, so it carries all of them). In-process (eager
    tasks) the positions go out at once after commit.
    """

    def schedule() -> None:
        from queueing import tasks

        task = tasks.publish_queue_positions
        if task.app.conf.task_always_eager:
            queue_positions_publish(queue_id)
            return
        if cache.add(f"queueing:positions:{queue_id}", 1, timeout=POSITIONS_COALESCE_SECONDS):
            task.apply_async((queue_id,), countdown=POSITIONS_COALESCE_SECONDS)

    _after_commit(schedule)


def queue_positions_publish(queue_id: int) -> int:
    """``widget.queue.position`` {conversation_id, position, estimated_wait_seconds} to every
    contact waiting in the queue, sent all at once; returns how many were told."""
    from queueing.inbox_selectors import average_wait_seconds, estimate, queue_line
    from queueing.models import SupportQueue

    queue = SupportQueue.objects.filter(pk=queue_id).first()
    if queue is None:
        return 0
    line = queue_line(queue_id)
    if not line:
        return 0
    average = average_wait_seconds(queue)
    events: list[tuple[str, str, dict[str, Any]]] = [
        (
            contact_group(conversation.contact_id),
            "widget.queue.position",
            {
                "conversation_id": conversation.pk,
                "position": position,
                "estimated_wait_seconds": estimate(average, position),
            },
        )
        for position, conversation in enumerate(line, start=1)
    ]
    publish_many_on_commit(events)
    return len(events)


def supervisor_changed(organization_id: int) -> None:
    """``inbox.supervisor.updated`` with the supervisor snapshot to the org admins."""

    def send() -> None:
        from queueing.inbox_selectors import supervisor_snapshot

        publish_on_commit(
            supervisor_group(organization_id),
            "inbox.supervisor.updated",
            {"organization_id": organization_id, **supervisor_snapshot(organization_id)},
        )

    _after_commit(send)


def csat_requested(conversation_id: int, contact_id: int) -> None:
    """``widget.csat.requested`` {conversation_id} to the contact of a resolved conversation."""
    publish_on_commit(
        contact_group(contact_id), "widget.csat.requested", {"conversation_id": conversation_id}
    )
