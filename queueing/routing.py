"""Routing: who gets a waiting conversation, and the only code that changes an assignee.

A conversation waits while it is open and unassigned (``waiting_since`` set). It leaves the
line by routing (``route_conversation``, by the queue's strategy), by an agent pulling the next
one (``pull_next``, any strategy), by an agent's free capacity being filled
(``assign_waiting_for_agent``) or by a person assigning it (``assign_to``).

Strategies (eligible = queue member, org agent or admin, online, connected, under capacity):

- round_robin: the member whose turn in this queue is oldest (``QueueMember.last_assigned_at``,
  never-assigned first), then the lowest user id;
- load_balance: fewest open conversations, then the longest idle (``SupportAgent.
  last_assigned_at``), then the lowest user id;
- skills_based: load_balance among the agents whose skills cover every label of the
  conversation (compared lower-case); load_balance among all eligible agents if nobody does;
- manual: never routed; agents pull.

Lock order, everywhere (agents.py too): SupportAgent rows in primary-key order, then the
Conversation row(s). Never a conversation first: a router holding an agent waits for the
conversation, so anyone holding a conversation and then waiting for an agent would deadlock
with it. ``conversation_lock`` gives other modules both locks in that order. ``open_count``
changes only under its agent's lock, so capacity is never exceeded.

Events (``inbox_events``) are published after commit; the assignee's notification and the
follow-up routing run after commit too.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.db.models import F, Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import ConflictError, NotFoundError
from queueing.agents import (
    AGENT_ROLES,
    agent_get_or_create,
    agent_not_found,
    agent_role,
    is_available,
    normalize_skills,
)
from queueing.models import (
    AgentAvailability,
    Conversation,
    ConversationEvent,
    ConversationEventKind,
    ConversationStatus,
    QueueMember,
    RoutingStrategy,
    SupportAgent,
    SupportQueue,
)

# How many eligible agents one routing attempt tries (each may be taken by a concurrent router).
CANDIDATES = 20
# Conversations one periodic pass handles; the next pass takes the rest.
BATCH = 500

WAITING = Q(status=ConversationStatus.OPEN, assignee__isnull=True, waiting_since__isnull=False)
# Pulling and filling take the most urgent first, then the more important queue, then the
# oldest; the id settles ties so two workers agree on the order.
LINE_ORDER = ("-priority", "-queue__priority", "waiting_since", "id")


def is_waiting(conversation: Conversation) -> bool:
    return (
        conversation.status == ConversationStatus.OPEN
        and conversation.assignee_id is None
        and conversation.waiting_since is not None
    )


def agent_at_capacity() -> ConflictError:
    return ConflictError(
        _("This agent already has as many conversations as they can take."),
        code="inbox.agent_at_capacity",
    )


# --- Who is eligible ---------------------------------------------------------------------------


def eligible_agents(queue: SupportQueue) -> QuerySet[SupportAgent]:
    """The queue's members who may receive a conversation now (no order)."""
    return SupportAgent.objects.filter(
        organization_id=queue.organization_id,
        availability=AgentAvailability.ONLINE,
        connected=True,
        open_count__lt=F("capacity"),
        user__support_queue_memberships__queue_id=queue.pk,
        user__memberships__organization_id=queue.organization_id,
        user__memberships__role__in=AGENT_ROLES,
    )


def _load_balanced(agents: QuerySet[SupportAgent]) -> QuerySet[SupportAgent]:
    return agents.order_by("open_count", F("last_assigned_at").asc(nulls_first=True), "user_id")


def candidates(conversation: Conversation, *, exclude_user_ids: Iterable[int] = ()) -> list[int]:
    """Agent row ids to try for ``conversation``, best first, by its queue's strategy.

    Read without locks: the caller locks each in turn and re-checks that it is still
    available (another router may have filled it meanwhile).
    """
    queue = conversation.queue
    agents = eligible_agents(queue).exclude(user_id__in=list(exclude_user_ids))
    strategy = queue.routing_strategy
    if strategy == RoutingStrategy.MANUAL:
        return []
    if strategy == RoutingStrategy.ROUND_ROBIN:
        turn = QueueMember.objects.filter(queue_id=queue.pk, user_id=OuterRef("user_id")).values(
            "last_assigned_at"
        )[:1]
        ordered = agents.annotate(turn=Subquery(turn)).order_by(
            F("turn").asc(nulls_first=True), "user_id"
        )
        return list(ordered.values_list("pk", flat=True)[:CANDIDATES])
    if strategy == RoutingStrategy.SKILLS_BASED:
        rows = list(_load_balanced(agents).values_list("pk", "skills"))
        needed = set(normalize_skills(conversation.labels or []))
        skilled = [pk for pk, skills in rows if needed <= set(normalize_skills(skills or []))]
        return (skilled or [pk for pk, _skills in rows])[:CANDIDATES]
    return list(_load_balanced(agents).values_list("pk", flat=True)[:CANDIDATES])


def _lock_if_available(agent_id: int, *, wait: bool) -> SupportAgent | None:
    """Lock the agent row if it is (still) available; else None, holding no lock.

    Without ``wait``, an agent another transaction holds (a router giving them a conversation)
    is skipped, sending this one to the next candidate instead of queueing behind them; with
    it, the lock is waited for and availability re-checked on the row as committed.
    """
    return (
        SupportAgent.objects.select_for_update(skip_locked=not wait)
        .filter(
            pk=agent_id,
            availability=AgentAvailability.ONLINE,
            connected=True,
            open_count__lt=F("capacity"),
        )
        .first()
    )


# --- Locks for callers outside routing ---------------------------------------------------------


class _AssigneeMovedError(Exception):
    pass


def conversation_lock(
    *, conversation_id: int, user_ids: Iterable[int] = ()
) -> tuple[Conversation, dict[int, SupportAgent]]:
    """Lock, in the shared order, the agent rows of the conversation's assignee and of
    ``user_ids`` (primary-key order), then the conversation. Must run inside a transaction.

    The assignee is read before its row is locked; if it changed by the time the conversation
    is locked, the attempt's locks are rolled back (a savepoint) and it starts again. Returns
    the locked conversation and the locked agents by user id (users without an agent row of
    the organization are absent). Raises ``Conversation.DoesNotExist``.
    """
    wanted = set(user_ids)
    for _attempt in range(10):
        try:
            with transaction.atomic():
                organization_id, assignee_id = (
                    Conversation.objects.filter(pk=conversation_id)
                    .values_list("organization_id", "assignee_id")
                    .get()
                )
                ids = wanted | ({assignee_id} if assignee_id is not None else set())
                agents = {
                    agent.user_id: agent
                    for agent in SupportAgent.objects.select_for_update()
                    .filter(organization_id=organization_id, user_id__in=ids)
                    .order_by("pk")
                }
                conversation = (
                    Conversation.objects.select_for_update()
                    .select_related("queue")
                    .get(pk=conversation_id)
                )
                if conversation.assignee_id != assignee_id:
                    raise _AssigneeMovedError
                return conversation, agents
        except _AssigneeMovedError:
            continue
    raise ConflictError(
        _("The conversation is changing; try again."), code="inbox.conversation_busy"
    )


# --- Writing an assignment ---------------------------------------------------------------------


def _turn_wheel(*, queue_id: int, user_id: int, now: datetime.datetime) -> None:
    """Move the round-robin wheel: this member's turn becomes the newest of the queue.

    Strictly after every other turn even when clocks tie (two assignments in the same
    microsecond, a frozen test clock, servers whose clocks disagree), so the order holds.
    """
    latest = QueueMember.objects.filter(queue_id=queue_id).aggregate(
        latest=Max("last_assigned_at")
    )["latest"]
    turn = now if latest is None or now > latest else latest + datetime.timedelta(microseconds=1)
    QueueMember.objects.filter(queue_id=queue_id, user_id=user_id).update(
        last_assigned_at=turn, updated_at=now
    )


def _notify_assigned(conversation: Conversation, event: ConversationEvent) -> None:
    from chat.models import NotificationKind
    from chat.notifications import notification_create

    assert conversation.assignee_id is not None
    assignee = User.objects.only("language").get(pk=conversation.assignee_id)
    contact = conversation.contact
    with translation.override(assignee.language):
        notification_create(
            user_id=assignee.pk,
            kind=NotificationKind.SUPPORT_ASSIGNED,
            source=f"assigned:{conversation.pk}:{event.pk}",
            title=_("Conversation assigned to you"),
            body=_("%(name)s is waiting for an answer.")
            % {"name": contact.name or contact.email or _("A visitor")},
            url=f"/inbox/{conversation.pk}",
            data={"conversation_id": conversation.pk},
            actor_id=event.actor_id,
            room_id=conversation.room_id,
            organization_id=conversation.organization_id,
        )


def _assign_locked(
    conversation: Conversation,
    agent: SupportAgent,
    *,
    actor_id: int | None,
    kind: str,
    data: dict[str, Any],
    now: datetime.datetime,
    previous: SupportAgent | None = None,
) -> ConversationEvent:
    """Give the locked conversation to the locked agent; the caller checked capacity.

    ``previous`` is the locked row of the assignee it is taken from, if any. Publishes
    nothing: the caller emits the events once for everything it changed.
    """
    queue = conversation.queue
    conversation.assignee_id = agent.user_id
    conversation.assigned_at = now
    conversation.waiting_since = None
    conversation.requeue_due_at = (
        now + datetime.timedelta(seconds=queue.requeue_after_seconds)
        if queue.requeue_after_seconds > 0 and conversation.status == ConversationStatus.OPEN
        else None
    )
    conversation.save(
        update_fields=["assignee", "assigned_at", "waiting_since", "requeue_due_at", "updated_at"]
    )
    if previous is not None:
        _release(previous)
    agent.open_count += 1
    agent.last_assigned_at = now
    agent.save(update_fields=["open_count", "last_assigned_at", "updated_at"])
    _turn_wheel(queue_id=queue.pk, user_id=agent.user_id, now=now)
    event = ConversationEvent.objects.create(
        conversation=conversation,
        organization_id=conversation.organization_id,
        kind=kind,
        actor_id=actor_id,
        data={"to_user": agent.user_id, **data},
        created_at=now,
    )
    # Taking a conversation yourself (pull, take) needs no notification.
    if actor_id != agent.user_id:
        _notify_assigned(conversation, event)
    return event


def _release(agent: SupportAgent) -> None:
    """One conversation fewer for the locked agent (never below zero)."""
    agent.open_count = max(0, agent.open_count - 1)
    agent.save(update_fields=["open_count", "updated_at"])


def _emit(
    *, organization_id: int, conversation_ids: Sequence[int], queue_ids: Iterable[int]
) -> None:
    from queueing import inbox_events

    if conversation_ids:
        inbox_events.conversation_changed(list(conversation_ids))
    for queue_id in sorted(set(queue_ids)):
        inbox_events.queue_positions_changed(queue_id)
    inbox_events.supervisor_changed(organization_id)


def _fill_after_commit(*, organization_id: int, user_id: int) -> None:
    from queueing import tasks

    tasks.assign_waiting_for_agent.delay_on_commit(organization_id, user_id)


# --- Services ----------------------------------------------------------------------------------


def route_conversation(
    *,
    conversation_id: int,
    exclude_user_ids: Sequence[int] = (),
    now: datetime.datetime | None = None,
) -> int | None:
    """Assign a waiting conversation by its queue's strategy; the assignee's user id, or None.

    None when the conversation is not waiting (assigned meanwhile, resolved, gone), its queue
    is manual, or no eligible agent (other than ``exclude_user_ids``) can take it. For each
    candidate in turn: lock the agent row if still available (skipping those another router
    holds; a second round waits for them), then lock the conversation and re-check it still
    waits in the same queue. Each attempt is its own transaction (a savepoint inside a
    caller's), so a refused candidate keeps no lock. Emits conversation, queue-position and
    supervisor events and notifies the assignee (SUPPORT_ASSIGNED), after commit.
    """
    conversation = Conversation.objects.select_related("queue").filter(pk=conversation_id).first()
    if conversation is None or not is_waiting(conversation):
        return None
    ordered = candidates(conversation, exclude_user_ids=exclude_user_ids)
    # First without waiting for agents other routers hold; then, if all were held or full,
    # once more waiting for each (holding no other lock meanwhile: no deadlock).
    for agent_id, wait in [*((pk, False) for pk in ordered), *((pk, True) for pk in ordered)]:
        with transaction.atomic():
            agent = _lock_if_available(agent_id, wait=wait)
            if agent is None:
                continue
            locked = (
                Conversation.objects.select_for_update(of=("self",))
                .select_related("queue", "contact")
                .get(pk=conversation_id)
            )
            if not is_waiting(locked) or locked.queue_id != conversation.queue_id:
                return None
            _assign_locked(
                locked,
                agent,
                actor_id=None,
                kind=ConversationEventKind.ASSIGNED,
                data={"via": "routing", "strategy": locked.queue.routing_strategy},
                now=now or timezone.now(),
            )
            _emit(
                organization_id=locked.organization_id,
                conversation_ids=[locked.pk],
                queue_ids=[locked.queue_id],
            )
            return agent.user_id
    return None


def _waiting_for_agent(*, organization_id: int, user_id: int) -> QuerySet[Conversation]:
    return Conversation.objects.filter(
        WAITING,
        organization_id=organization_id,
        queue__memberships__user_id=user_id,
    )


@transaction.atomic
def assign_waiting_for_agent(
    *, organization_id: int, user_id: int, now: datetime.datetime | None = None
) -> list[int]:
    """Fill the agent's free capacity from the waiting conversations of their routed queues.

    Nothing when the agent is not available (not online, not connected, full) or no longer an
    org agent or admin. Locks the agent row, then takes the first waiting conversations
    (priority, queue priority, oldest) of their non-manual queues with SKIP LOCKED, so a
    router or puller holding one is not waited for. Returns the conversation ids assigned;
    events and notifications after commit.
    """
    agent = (
        SupportAgent.objects.select_for_update()
        .filter(organization_id=organization_id, user_id=user_id)
        .first()
    )
    if agent is None or not is_available(agent):
        return []
    if agent_role(organization_id=organization_id, user_id=user_id) is None:
        return []
    free = agent.capacity - agent.open_count
    waiting = list(
        _waiting_for_agent(organization_id=organization_id, user_id=user_id)
        .exclude(queue__routing_strategy=RoutingStrategy.MANUAL)
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("queue", "contact")
        .order_by(*LINE_ORDER)[:free]
    )
    if not waiting:
        return []
    now = now or timezone.now()
    for conversation in waiting:
        _assign_locked(
            conversation,
            agent,
            actor_id=None,
            kind=ConversationEventKind.ASSIGNED,
            data={"via": "routing", "strategy": conversation.queue.routing_strategy},
            now=now,
        )
    ids = [conversation.pk for conversation in waiting]
    _emit(
        organization_id=organization_id,
        conversation_ids=ids,
        queue_ids=[conversation.queue_id for conversation in waiting],
    )
    return ids


def route_waiting(*, queue_id: int) -> list[int]:
    """Route the queue's waiting conversations in line order (an agent came online, the
    hours changed...); the ids assigned. Stops when nobody eligible is left. Manual queues
    are never routed. Each conversation is routed in its own transaction (see
    ``route_conversation``)."""
    queue = SupportQueue.objects.filter(pk=queue_id).first()
    if queue is None or queue.routing_strategy == RoutingStrategy.MANUAL:
        return []
    waiting = list(
        Conversation.objects.filter(WAITING, queue_id=queue_id)
        .order_by("-priority", "waiting_since", "id")
        .values_list("pk", flat=True)[:BATCH]
    )
    assigned: list[int] = []
    for conversation_id in waiting:
        if route_conversation(conversation_id=conversation_id) is not None:
            assigned.append(conversation_id)
        elif not eligible_agents(queue).exists():
            break
    return assigned


@transaction.atomic
def pull_next(
    *, user: Any, organization_id: int, now: datetime.datetime | None = None
) -> Conversation:
    """The agent takes the next waiting conversation of any of their queues (manual included).

    Line order: conversation priority, queue priority, oldest, id. Allowed while busy or
    offline; only capacity counts. Locks the agent row (created if the agent has none yet),
    then the first waiting conversation with SKIP LOCKED: agents pulling at the same moment
    each get a different one. Emits events after commit (no notification: they took it).
    Errors: 403 ``inbox.permission_denied`` (not an org agent or admin), 409
    ``inbox.agent_at_capacity``, 404 ``inbox.nothing_waiting``.
    """
    from queueing.inbox_access import permission_denied

    if agent_role(organization_id=organization_id, user_id=user.pk) is None:
        raise permission_denied()
    row = agent_get_or_create(organization_id=organization_id, user_id=user.pk)
    agent = SupportAgent.objects.select_for_update().get(pk=row.pk)
    if agent.open_count >= agent.capacity:
        raise agent_at_capacity()
    conversation = (
        _waiting_for_agent(organization_id=organization_id, user_id=user.pk)
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("queue", "contact")
        .order_by(*LINE_ORDER)
        .first()
    )
    if conversation is None:
        raise NotFoundError(_("Nobody is waiting in your queues."), code="inbox.nothing_waiting")
    _assign_locked(
        conversation,
        agent,
        actor_id=user.pk,
        kind=ConversationEventKind.ASSIGNED,
        data={"via": "pull"},
        now=now or timezone.now(),
    )
    _emit(
        organization_id=organization_id,
        conversation_ids=[conversation.pk],
        queue_ids=[conversation.queue_id],
    )
    return conversation


@transaction.atomic
def assign_to(
    *,
    conversation: Conversation,
    user_id: int,
    actor_id: int | None,
    kind: str = ConversationEventKind.ASSIGNED,
    data: dict[str, Any] | None = None,
    now: datetime.datetime | None = None,
) -> Conversation:
    """Give the conversation to ``user_id`` (a person assigning, taking or transferring).

    Works on a waiting conversation and on one assigned to someone else (a reassignment or a
    transfer: the previous assignee's count drops and their free capacity is filled after
    commit); already theirs: returned unchanged. The caller checked permissions and holds no
    conversation lock: this locks both agents' rows (primary-key order), then the
    conversation. Records a ConversationEvent ``kind`` with ``{"to_user", "from_user"?,
    **data}``, notifies the assignee unless they are the actor, emits events after commit.
    Errors: 404 ``inbox.agent_not_found`` (not an org agent or admin), 409
    ``inbox.conversation_resolved``, 409 ``inbox.agent_at_capacity`` (refused, nothing
    changes, also for transfers).
    """
    organization_id = conversation.organization_id
    if agent_role(organization_id=organization_id, user_id=user_id) is None:
        raise agent_not_found()
    agent_get_or_create(organization_id=organization_id, user_id=user_id)
    locked, agents = conversation_lock(conversation_id=conversation.pk, user_ids=[user_id])
    if locked.status == ConversationStatus.RESOLVED:
        raise ConflictError(
            _("This conversation is resolved; reopen it first."),
            code="inbox.conversation_resolved",
        )
    if locked.assignee_id == user_id:
        return locked
    agent = agents[user_id]
    if agent.open_count >= agent.capacity:
        raise agent_at_capacity()
    previous_id = locked.assignee_id
    previous = agents.get(previous_id) if previous_id is not None else None
    extra = {"via": "manual", **(data or {})}
    if previous_id is not None:
        extra["from_user"] = previous_id
    _assign_locked(
        locked,
        agent,
        actor_id=actor_id,
        kind=kind,
        data=extra,
        now=now or timezone.now(),
        previous=previous,
    )
    _emit(
        organization_id=organization_id, conversation_ids=[locked.pk], queue_ids=[locked.queue_id]
    )
    if previous is not None:
        _fill_after_commit(organization_id=organization_id, user_id=previous.user_id)
    return locked


def _unassign_locked(
    conversation: Conversation,
    agent: SupportAgent | None,
    *,
    actor_id: int | None,
    kind: str,
    data: dict[str, Any],
    requeue: bool,
    now: datetime.datetime,
) -> None:
    previous_id = conversation.assignee_id
    assert previous_id is not None
    if agent is not None and conversation.status != ConversationStatus.RESOLVED:
        _release(agent)
    conversation.assignee_id = None
    conversation.assigned_at = None
    conversation.requeue_due_at = None
    conversation.waiting_since = now if conversation.status == ConversationStatus.OPEN else None
    conversation.save(
        update_fields=["assignee", "assigned_at", "requeue_due_at", "waiting_since", "updated_at"]
    )
    ConversationEvent.objects.create(
        conversation=conversation,
        organization_id=conversation.organization_id,
        kind=kind,
        actor_id=actor_id,
        data={"from_user": previous_id, **data},
        created_at=now,
    )
    _emit(
        organization_id=conversation.organization_id,
        conversation_ids=[conversation.pk],
        queue_ids=[conversation.queue_id],
    )
    requeued = kind == ConversationEventKind.REQUEUED
    if requeue and conversation.waiting_since is not None:
        # Routed before the freed agent is filled, so the conversation goes to whoever's turn
        # it is; one that went unanswered never goes back to the agent who let it wait.
        conversation_id = conversation.pk
        exclude = (previous_id,) if requeued else ()
        transaction.on_commit(
            lambda: route_conversation(conversation_id=conversation_id, exclude_user_ids=exclude),
            robust=True,
        )
    if agent is not None and not requeued:
        _fill_after_commit(organization_id=conversation.organization_id, user_id=previous_id)


@transaction.atomic
def unassign(
    *,
    conversation: Conversation,
    actor_id: int | None,
    kind: str = ConversationEventKind.UNASSIGNED,
    data: dict[str, Any] | None = None,
    requeue: bool = True,
    now: datetime.datetime | None = None,
) -> Conversation:
    """Take the conversation from its assignee; back in line (``waiting_since`` now) if open.

    Locks the assignee's agent row, then the conversation (``conversation_lock``). The
    assignee's count drops (not for a resolved conversation: resolving released it). After
    commit, with ``requeue``, the conversation is routed again (never back to the same agent
    when ``kind`` is REQUEUED), then the freed agent's capacity is filled (not after a
    re-queue: they let a contact wait). Records a ConversationEvent ``kind`` with
    ``{"from_user", **data}``; emits events after commit. An unassigned conversation is
    returned unchanged.
    """
    locked, agents = conversation_lock(conversation_id=conversation.pk)
    if locked.assignee_id is None:
        return locked
    _unassign_locked(
        locked,
        agents.get(locked.assignee_id),
        actor_id=actor_id,
        kind=kind,
        data=data or {},
        requeue=requeue,
        now=now or timezone.now(),
    )
    return locked


def release_on_resolve(*, conversation: Conversation) -> None:
    """The assignee has one open conversation fewer (the conversation is being resolved or
    merged away). Called inside the caller's transaction, which should hold the locks from
    ``conversation_lock`` (agent, then conversation); locks the agent row (again). Clears
    ``requeue_due_at`` on the given object (the caller saves it). After commit the agent's
    free capacity is filled and the supervisor view updated."""
    conversation.requeue_due_at = None
    if conversation.assignee_id is None:
        return
    agent = (
        SupportAgent.objects.select_for_update()
        .filter(organization_id=conversation.organization_id, user_id=conversation.assignee_id)
        .first()
    )
    if agent is None:
        return
    _release(agent)
    from queueing import inbox_events

    inbox_events.supervisor_changed(conversation.organization_id)
    if is_available(agent):
        _fill_after_commit(organization_id=agent.organization_id, user_id=agent.user_id)


def requeue_unanswered(*, now: datetime.datetime | None = None) -> int:
    """Put back in line the open conversations whose assignee did not answer in time
    (``requeue_due_at`` passed); each is routed again to someone else after commit.

    Periodic, in batches of BATCH, one transaction per conversation (``conversation_lock``:
    agent, then conversation; re-checked under the lock, so two workers re-queue each once).
    Records ConversationEvent REQUEUED ``{"from_user", "after_seconds"}``. Returns how many.
    """
    now = now or timezone.now()
    due = list(
        Conversation.objects.filter(
            requeue_due_at__lte=now,
            assignee__isnull=False,
            status=ConversationStatus.OPEN,
        )
        .order_by("requeue_due_at", "id")
        .values_list("pk", flat=True)[:BATCH]
    )
    requeued = 0
    for conversation_id in due:
        with transaction.atomic():
            try:
                locked, agents = conversation_lock(conversation_id=conversation_id)
            except Conversation.DoesNotExist:
                continue
            if (
                locked.assignee_id is None
                or locked.status != ConversationStatus.OPEN
                or locked.requeue_due_at is None
                or locked.requeue_due_at > now
            ):
                continue
            _unassign_locked(
                locked,
                agents.get(locked.assignee_id),
                actor_id=None,
                kind=ConversationEventKind.REQUEUED,
                data={"after_seconds": locked.queue.requeue_after_seconds},
                requeue=True,
                now=now,
            )
            requeued += 1
    return requeued
