"""Support agents: their capacity, skills, chosen availability and socket presence.

An agent receives conversations only while available: ``availability`` online, a socket open
(``connected``) and ``open_count < capacity``. Availability is the agent's choice (REST);
``connected`` follows their sockets: a socket opening sets it at once, the last socket closing
only records ``disconnected_at`` (a page reload must not cost the agent their place), and
``agents_sweep`` clears it once the socket has stayed closed for INBOX_OFFLINE_AFTER_SECONDS.

Lock order (shared with ``routing``): the SupportAgent row, then Conversation rows.
Whatever makes an agent available again (going online, reconnecting, more capacity) fills
their free capacity from the waiting line after commit (``tasks.assign_waiting_for_agent``).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership
from accounts.roles import Role
from core.exceptions import ApplicationError, NotFoundError
from queueing.models import AgentAvailability, SupportAgent

# Roles that may be given conversations (routing targets).
AGENT_ROLES = (Role.ORG_ADMIN, Role.AGENT)
MAX_CAPACITY = 500
MAX_SKILLS = 30
MAX_SKILL_LENGTH = 50


def is_available(agent: SupportAgent) -> bool:
    """Whether routing may give ``agent`` one more conversation now."""
    return (
        agent.availability == AgentAvailability.ONLINE
        and agent.connected
        and agent.open_count < agent.capacity
    )


def normalize_skills(values: Iterable[Any]) -> list[str]:
    """Lower-case, trimmed, without blanks or repeats, in the given order."""
    seen: list[str] = []
    for value in values:
        skill = str(value).strip().lower()
        if skill and skill not in seen:
            seen.append(skill)
    return seen


def agent_role(*, organization_id: int, user_id: int) -> str | None:
    """The user's role in the organization if it lets them take conversations, else None."""
    role = (
        Membership.objects.filter(organization_id=organization_id, user_id=user_id)
        .values_list("role", flat=True)
        .first()
    )
    return role if role in AGENT_ROLES else None


def agent_not_found() -> NotFoundError:
    return NotFoundError(_("This agent was not found."), code="inbox.agent_not_found")


def _has_fresh_socket(user_id: int, *, now: datetime.datetime) -> bool:
    from chat.models import PresenceConnection

    since = now - datetime.timedelta(seconds=settings.PRESENCE_TIMEOUT_SECONDS)
    return PresenceConnection.objects.filter(user_id=user_id, last_seen_at__gte=since).exists()


def agent_get_or_create(*, organization_id: int, user_id: int) -> SupportAgent:
    """The user's agent row in the organization, created (offline, default capacity) if new.

    Only org agents and admins have one: anyone else gets 404 ``inbox.agent_not_found``. A new
    row starts ``connected`` when the user already has a live socket (their presence was
    reported before the row existed). Takes no lock; the unique (organization, user) constraint
    settles a race between two creators.
    """
    if agent_role(organization_id=organization_id, user_id=user_id) is None:
        raise agent_not_found()
    agent = SupportAgent.objects.filter(organization_id=organization_id, user_id=user_id).first()
    if agent is not None:
        return agent
    agent, _created = SupportAgent.objects.get_or_create(
        organization_id=organization_id,
        user_id=user_id,
        defaults={"connected": _has_fresh_socket(user_id, now=timezone.now())},
    )
    return agent


def _lock(agent_id: int) -> SupportAgent:
    return SupportAgent.objects.select_for_update().get(pk=agent_id)


def _fill_after_commit(agent: SupportAgent) -> None:
    from queueing import tasks

    tasks.assign_waiting_for_agent.delay_on_commit(agent.organization_id, agent.user_id)


def _supervisor_changed(organization_ids: Iterable[int]) -> None:
    from queueing import inbox_events

    for organization_id in sorted(set(organization_ids)):
        inbox_events.supervisor_changed(organization_id)


@transaction.atomic
def agent_availability_set(*, user: Any, organization_id: int, availability: str) -> SupportAgent:
    """Set the agent's own availability (online, busy, offline).

    Locks the agent row. Going online fills their free capacity from the waiting line after
    commit; every change updates the organization's supervisor view. Errors: 404
    ``inbox.agent_not_found`` (not an agent or admin of the organization), 400
    ``inbox.invalid_availability``.
    """
    if availability not in AgentAvailability.values:
        raise ApplicationError(
            _("Choose online, busy or offline."),
            code="inbox.invalid_availability",
            extra={"choices": list(AgentAvailability.values)},
        )
    agent = _lock(agent_get_or_create(organization_id=organization_id, user_id=user.pk).pk)
    if agent.availability == availability:
        return agent
    agent.availability = availability
    agent.save(update_fields=["availability", "updated_at"])
    if is_available(agent):
        _fill_after_commit(agent)
    _supervisor_changed([organization_id])
    return agent


def _validate_capacity(capacity: Any) -> int:
    if (
        isinstance(capacity, bool)
        or not isinstance(capacity, int)
        or not (0 <= capacity <= MAX_CAPACITY)
    ):
        raise ApplicationError(
            _("Capacity must be a whole number from 0 to %(max)d.") % {"max": MAX_CAPACITY},
            code="inbox.invalid_capacity",
            extra={"min": 0, "max": MAX_CAPACITY},
        )
    return capacity


def _validate_skills(skills: Any) -> list[str]:
    if not isinstance(skills, list | tuple) or not all(isinstance(s, str) for s in skills):
        raise ApplicationError(
            _("Skills must be a list of words."),
            code="inbox.invalid_skills",
            extra={"max_skills": MAX_SKILLS, "max_length": MAX_SKILL_LENGTH},
        )
    cleaned = normalize_skills(skills)
    if len(cleaned) > MAX_SKILLS or any(len(s) > MAX_SKILL_LENGTH for s in cleaned):
        raise ApplicationError(
            _("Give at most %(count)d skills of up to %(length)d characters each.")
            % {"count": MAX_SKILLS, "length": MAX_SKILL_LENGTH},
            code="inbox.invalid_skills",
            extra={"max_skills": MAX_SKILLS, "max_length": MAX_SKILL_LENGTH},
        )
    return cleaned


@transaction.atomic
def agent_update(
    *,
    actor: Any,
    organization_id: int,
    user_id: int,
    capacity: int | None = None,
    skills: Sequence[str] | None = None,
) -> SupportAgent:
    """An org admin sets an agent's capacity (0-500) and skills (stored lower-case).

    Locks the agent row. Raising the capacity of an available agent fills the new room from
    the waiting line after commit; lowering it below ``open_count`` takes nothing away (they
    just receive nothing more until they are under it). Updates the supervisor view. Errors:
    403 ``inbox.permission_denied`` (actor not an org admin), 404 ``inbox.agent_not_found``,
    400 ``inbox.invalid_capacity`` / ``inbox.invalid_skills``.
    """
    from queueing.inbox_access import is_org_admin, permission_denied

    if not is_org_admin(actor, organization_id):
        raise permission_denied()
    new_capacity = _validate_capacity(capacity) if capacity is not None else None
    new_skills = _validate_skills(skills) if skills is not None else None
    agent = _lock(agent_get_or_create(organization_id=organization_id, user_id=user_id).pk)
    changed: list[str] = []
    raised = False
    if new_capacity is not None and new_capacity != agent.capacity:
        raised = new_capacity > agent.capacity
        agent.capacity = new_capacity
        changed.append("capacity")
    if new_skills is not None and new_skills != agent.skills:
        agent.skills = new_skills
        changed.append("skills")
    if not changed:
        return agent
    agent.save(update_fields=[*changed, "updated_at"])
    if raised and is_available(agent):
        _fill_after_commit(agent)
    _supervisor_changed([organization_id])
    return agent


@transaction.atomic
def agent_presence_connected(*, user_id: int) -> list[int]:
    """A socket of ``user_id`` opened: every agent row of theirs is connected again.

    Agents who were not connected and are available now get their free capacity filled after
    commit. Returns the organizations whose agent row changed (their supervisor views are
    updated). Takes the agent rows' locks, in primary-key order.
    """
    agents = list(
        SupportAgent.objects.select_for_update()
        .filter(user_id=user_id)
        .exclude(connected=True, disconnected_at__isnull=True)
        .order_by("pk")
    )
    if not agents:
        return []
    for agent in agents:
        was_connected = agent.connected
        agent.connected = True
        agent.disconnected_at = None
        agent.save(update_fields=["connected", "disconnected_at", "updated_at"])
        if not was_connected and is_available(agent):
            _fill_after_commit(agent)
    changed = [agent.organization_id for agent in agents]
    _supervisor_changed(changed)
    return changed


def agent_presence_lost(*, user_id: int, now: datetime.datetime | None = None) -> int:
    """The last socket of ``user_id`` closed: start the countdown (``disconnected_at``).

    The agent stays connected (and keeps receiving conversations) until ``agents_sweep`` runs
    past INBOX_OFFLINE_AFTER_SECONDS; reconnecting before that clears the countdown. An
    earlier countdown is kept. Returns how many rows started one. No lock: a single UPDATE.
    """
    now = now or timezone.now()
    return SupportAgent.objects.filter(
        user_id=user_id, connected=True, disconnected_at__isnull=True
    ).update(disconnected_at=now, updated_at=now)


def agents_sweep(*, now: datetime.datetime | None = None) -> int:
    """Disconnect the agents whose sockets stayed closed past INBOX_OFFLINE_AFTER_SECONDS.

    Also starts the countdown for connected agents with no live socket and no countdown (a
    server that died without closing its sockets: their heartbeats stopped); an agent with a
    live socket is never disconnected. Periodic, safe to
    run twice at once (conditional UPDATEs). Returns how many agents were disconnected;
    updates the supervisor view of their organizations.
    """
    from chat.models import PresenceConnection

    now = now or timezone.now()
    fresh_since = now - datetime.timedelta(seconds=settings.PRESENCE_TIMEOUT_SECONDS)
    live_users = PresenceConnection.objects.filter(last_seen_at__gte=fresh_since).values("user_id")
    # Rows touched within the presence timeout are left alone: a socket that just opened may
    # not have its PresenceConnection row yet (chat records it after our listener runs).
    SupportAgent.objects.filter(
        connected=True, disconnected_at__isnull=True, updated_at__lt=fresh_since
    ).exclude(user_id__in=live_users).update(disconnected_at=now, updated_at=now)

    cutoff = now - datetime.timedelta(seconds=settings.INBOX_OFFLINE_AFTER_SECONDS)
    with transaction.atomic():
        gone = list(
            SupportAgent.objects.select_for_update(skip_locked=True)
            .filter(connected=True, disconnected_at__lte=cutoff)
            .exclude(user_id__in=live_users)
            .order_by("pk")
        )
        for agent in gone:
            agent.connected = False
            agent.save(update_fields=["connected", "updated_at"])
        _supervisor_changed(agent.organization_id for agent in gone)
    return len(gone)
