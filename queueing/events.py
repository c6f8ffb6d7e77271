"""Real-time payloads of the marketplace queue, sent to ``user.<id>`` groups after commit.

- ``queueing.entry.updated`` (``QueueEntryPayload``) to an entry's client whenever the entry
  changes, and to every other client still in line whose position changed because of it;
- ``queueing.queue.changed`` (``{"professional_id", "length"}``) to the professional.

Sockets only hurry things along: a client that reconnects reads its entries from REST
(``GET queue/mine/``), so positions and offers survive a reconnect.
"""

from __future__ import annotations

from typing import TypedDict

from queueing import selectors
from queueing.models import MarketplaceQueueEntry
from realtime.publish import publish_on_commit
from realtime.registry import user_group

EVENT_ENTRY_UPDATED = "queueing.entry.updated"
EVENT_QUEUE_CHANGED = "queueing.queue.changed"


class QueueChangedPayload(TypedDict):
    professional_id: int
    length: int


def entry_updated(entry: MarketplaceQueueEntry) -> None:
    """Tell the entry's client its entry's state (status, position, wait, offer, call)."""
    payload = selectors.entry_payload(entry)
    publish_on_commit(user_group(entry.client_id), EVENT_ENTRY_UPDATED, dict(payload))


def line_changed(
    *, professional_id: int, before: dict[int, int], skip: frozenset[int] = frozenset()
) -> None:
    """After a change to the line: tell every client whose position moved, and the professional.

    ``before`` is ``selectors.positions`` read under the professional's lock before the change;
    entries in ``skip`` were already told (the entry the change was about).
    """
    line = selectors.line(professional_id=professional_id)
    for client_id, payload in line:
        if payload["id"] in skip or before.get(payload["id"]) == payload["position"]:
            continue
        publish_on_commit(user_group(client_id), EVENT_ENTRY_UPDATED, dict(payload))
    queue_changed(professional_id=professional_id, length=len(line))


def queue_changed(*, professional_id: int, length: int) -> None:
    payload: QueueChangedPayload = {"professional_id": professional_id, "length": length}
    publish_on_commit(user_group(professional_id), EVENT_QUEUE_CHANGED, dict(payload))
