"""Presence: who is online, away or offline, their status text, and do-not-disturb.

A user's state comes from the ``PresenceConnection`` rows of their sockets (every tab, every
device), which the socket keeps up to date with heartbeats:

- **online**: some fresh connection (a heartbeat within ``PRESENCE_TIMEOUT_SECONDS``) whose
  latest heartbeat said ``active`` and came less than ``IDLE_SECONDS`` ago. The browser sends
  ``active: false`` once nobody has touched the page for ``IDLE_SECONDS``.
- **away**: connected (a fresh connection), but no tab active.
- **offline**: no fresh connection.

``chat.presence.changed`` goes to ``chat.presence.<organization id>`` for every organization
of the user, only when what others see changes (state, status text or emoji, do-not-disturb).
"What others were last told" is kept per user in the cache: losing it (a restart, an
eviction) costs one repeated event, never a missed one. Changes that happen by the clock alone
(a connection going stale, a do-not-disturb schedule starting, a status expiring) are found
by ``sweep_presence``, which runs every 30 seconds.

Every write for one user runs under a lock on that user's ``UserChatSettings`` row, so two
tabs' heartbeats (or a heartbeat and the sweep) never interleave their reads and writes.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any, TypedDict

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Membership
from chat import online_time
from chat.models import PresenceConnection, RoomMember, UserChatSettings
from chat.online_time import time_zone_of
from realtime.publish import publish_on_commit

ONLINE = "online"
AWAY = "away"
OFFLINE = "offline"
STATES = (ONLINE, AWAY, OFFLINE)

# Nobody touched the page for this long: the tab reports itself idle (and the person is away).
IDLE_SECONDS = 5 * 60

# What a do-not-disturb schedule may hold (the API refuses more).
DND_SCHEDULE_MAX_ENTRIES = 14

# How long "what others were last told" is remembered; after that one repeated event.
_TOLD_SECONDS = 24 * 60 * 60

EVENT_PRESENCE_CHANGED = "chat.presence.changed"


class PresencePayload(TypedDict):
    user_id: int
    state: str
    status_text: str
    status_emoji: str
    dnd: bool


def presence_group(organization_id: int) -> str:
    return f"chat.presence.{organization_id}"


def zone(name: str | None) -> datetime.tzinfo:
    """The user's time zone (the default one if the stored name is unknown)."""
    return time_zone_of(name)


def _timeout() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.PRESENCE_TIMEOUT_SECONDS)


# --- do not disturb and status (pure) -----------------------------------------------------------


def minutes_of(value: Any, *, end: bool = False) -> int | None:
    """``"HH:MM"`` as minutes after midnight, or None if it is not one.

    ``"24:00"`` is accepted as an end only (the end of the day).
    """
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        return None
    hours, minutes = value[:2], value[3:]
    if not (hours.isdigit() and minutes.isdigit()):
        return None
    total = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or total > (24 * 60 if end else 24 * 60 - 1):
        return None
    return total


def schedule_covers(schedule: Any, local: datetime.datetime) -> bool:
    """Whether a weekly schedule covers this local wall-clock moment.

    Each entry is ``{"day": 0-6 (Monday=0), "start": "HH:MM", "end": "HH:MM"}``: from
    ``start`` (included) to ``end`` (excluded) on that day. An entry whose start is after its
    end crosses midnight: Friday 22:00-07:00 covers Friday night and Saturday morning.
    Malformed entries (the API refuses them; old rows might hold one) cover nothing.
    """
    if not isinstance(schedule, list):
        return False
    weekday = local.weekday()
    now = local.hour * 60 + local.minute
    for entry in schedule:
        if not isinstance(entry, Mapping):
            continue
        day, start, end = (
            entry.get("day"),
            minutes_of(entry.get("start")),
            minutes_of(entry.get("end"), end=True),
        )
        if not isinstance(day, int) or isinstance(day, bool) or start is None or end is None:
            continue
        if start < end:
            if day == weekday and start <= now < end:
                return True
        elif start > end and (
            (day == weekday and now >= start) or ((day + 1) % 7 == weekday and now < end)
        ):
            return True
    return False


def dnd_active(
    chat_settings: UserChatSettings | None, *, now: datetime.datetime, time_zone: str | None
) -> bool:
    """Whether do-not-disturb is on at ``now``: switched on until a later moment, or by the
    weekly schedule read in the user's own time zone (so 22:00 is the user's 22:00)."""
    if chat_settings is None:
        return False
    if chat_settings.dnd_until is not None and chat_settings.dnd_until > now:
        return True
    if not chat_settings.dnd_schedule:
        return False
    return schedule_covers(chat_settings.dnd_schedule, now.astimezone(zone(time_zone)))


def status_of(chat_settings: UserChatSettings | None, *, now: datetime.datetime) -> tuple[str, str]:
    """(text, emoji) of the custom status; an expired status is no status."""
    if chat_settings is None:
        return "", ""
    expires_at = chat_settings.status_expires_at
    if expires_at is not None and expires_at <= now:
        return "", ""
    return chat_settings.status_text, chat_settings.status_emoji


def connection_is_active(
    last_seen_at: datetime.datetime,
    last_active_at: datetime.datetime | None,
    *,
    now: datetime.datetime,
) -> bool:
    """A tab is active when its latest heartbeat said so (an active heartbeat sets both
    stamps to the same moment) and that was less than IDLE_SECONDS ago."""
    return (
        last_active_at is not None
        and last_active_at >= last_seen_at
        and now - last_active_at < datetime.timedelta(seconds=IDLE_SECONDS)
    )


def state_from_connections(
    connections: Iterable[tuple[datetime.datetime, datetime.datetime | None]],
    *,
    now: datetime.datetime,
) -> str:
    """online / away / offline from ``(last_seen_at, last_active_at)`` of a user's sockets."""
    fresh = [row for row in connections if row[0] >= now - _timeout()]
    if not fresh:
        return OFFLINE
    if any(connection_is_active(seen, active, now=now) for seen, active in fresh):
        return ONLINE
    return AWAY


# --- selectors ---------------------------------------------------------------------------------


def settings_for(user: Any) -> UserChatSettings:
    """The user's chat settings, created with the defaults on first use."""
    chat_settings, _ = UserChatSettings.objects.get_or_create(user_id=user.pk)
    return chat_settings


def _fresh_connections(user_ids: Iterable[int], *, now: datetime.datetime) -> Any:
    return PresenceConnection.objects.filter(
        user_id__in=list(user_ids), last_seen_at__gte=now - _timeout()
    )


def states_for_users(
    user_ids: Iterable[int], *, now: datetime.datetime | None = None
) -> dict[int, str]:
    """``{user_id: "online" | "away" | "offline"}`` for every id given, in one query."""
    now = now or timezone.now()
    ids = list(user_ids)
    rows: dict[int, list[tuple[datetime.datetime, datetime.datetime | None]]] = {
        user_id: [] for user_id in ids
    }
    for user_id, seen, active in _fresh_connections(ids, now=now).values_list(
        "user_id", "last_seen_at", "last_active_at"
    ):
        rows[user_id].append((seen, active))
    return {user_id: state_from_connections(rows[user_id], now=now) for user_id in ids}


def user_is_viewing_room(
    *, user_id: int, room_id: int, now: datetime.datetime | None = None
) -> bool:
    """Whether a visible tab of the user, still sending heartbeats, shows this room."""
    now = now or timezone.now()
    return (
        _fresh_connections([user_id], now=now)
        .filter(visible=True, viewing_room_id=room_id)
        .exists()
    )


def presence_for_users(
    user_ids: Iterable[int], *, now: datetime.datetime | None = None
) -> dict[int, PresencePayload]:
    """What others see of each user (state, status, do-not-disturb), in two queries."""
    now = now or timezone.now()
    ids = list(user_ids)
    states = states_for_users(ids, now=now)
    chat_settings = {
        row.user_id: row
        for row in UserChatSettings.objects.filter(user_id__in=ids).annotate(
            user_time_zone=F("user__time_zone")
        )
    }
    return {
        user_id: _payload(user_id, states[user_id], chat_settings.get(user_id), now=now)
        for user_id in ids
    }


def presence_list_for_organization(
    *, organization_id: int, now: datetime.datetime | None = None
) -> list[PresencePayload]:
    """Presence of every member of the organization, by user id, in three queries."""
    member_ids = (
        Membership.objects.filter(organization_id=organization_id)
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )
    payloads = presence_for_users(list(member_ids), now=now)
    return [payloads[user_id] for user_id in sorted(payloads)]


def _payload(
    user_id: int, state: str, chat_settings: UserChatSettings | None, *, now: datetime.datetime
) -> PresencePayload:
    text, emoji = status_of(chat_settings, now=now)
    time_zone = getattr(chat_settings, "user_time_zone", None)
    return {
        "user_id": user_id,
        "state": state,
        "status_text": text,
        "status_emoji": emoji,
        "dnd": dnd_active(chat_settings, now=now, time_zone=time_zone),
    }


# --- services ----------------------------------------------------------------------------------


def _lock_settings(user_id: int) -> UserChatSettings:
    """Lock (creating it if needed) the user's settings row: the per-user presence mutex.

    Only that row is locked (``of``), not the user row joined for the time zone.
    """
    locked = UserChatSettings.objects.select_for_update(of=("self",)).annotate(
        user_time_zone=F("user__time_zone")
    )
    chat_settings = locked.filter(user_id=user_id).first()
    if chat_settings is None:
        UserChatSettings.objects.get_or_create(user_id=user_id)
        chat_settings = locked.get(user_id=user_id)
    return chat_settings


def _told_key(user_id: int) -> str:
    return f"chat.presence.told.{user_id}"


def _tell_if_changed(user_id: int, *, now: datetime.datetime) -> bool:
    """Publish the user's presence to their organizations if it differs from the last told.

    Call with the user's settings row locked. Returns whether an event was queued.
    """
    payload = presence_for_users([user_id], now=now)[user_id]
    key = _told_key(user_id)
    if cache.get(key) == payload:
        return False
    organization_ids = Membership.objects.filter(user_id=user_id).values_list(
        "organization_id", flat=True
    )
    for organization_id in organization_ids:
        publish_on_commit(presence_group(organization_id), EVENT_PRESENCE_CHANGED, dict(payload))
    # Remembered only once the change is committed (a rollback told nobody anything).
    transaction.on_commit(lambda: cache.set(key, payload, _TOLD_SECONDS))
    return True


def _is_room_member(user_id: int, room_id: int) -> bool:
    # chat.selectors.room_is_member's rule (a seat in the room, still in its organization),
    # asked by id: the heartbeat has no user object.
    return RoomMember.objects.filter(
        room_id=room_id, user_id=user_id, room__organization__memberships__user_id=user_id
    ).exists()


def connection_open(
    *, user_id: int, channel_name: str, now: datetime.datetime | None = None
) -> None:
    """Record a socket that just opened. Publishes nothing: the browser sends its first
    heartbeat at once, and that heartbeat (active or not) decides the state others see, so a
    page load is one event, not two. The sweep publishes for a client that never beats."""
    now = now or timezone.now()
    PresenceConnection.objects.update_or_create(
        channel_name=channel_name,
        defaults={"user_id": user_id, "last_seen_at": now},
        create_defaults={"user_id": user_id, "connected_at": now, "last_seen_at": now},
    )


def heartbeat(
    *,
    user_id: int,
    channel_name: str,
    active: bool,
    visible: bool,
    room_id: int | None,
    now: datetime.datetime | None = None,
) -> PresenceConnection:
    """Record what one socket reports: the person is active or idle, the tab is visible or
    not, and which room it shows (kept only if the user is a member of that room).

    Feeds the user's online time (``chat.online_time``) and publishes
    ``chat.presence.changed`` if the user's state changed. Locks the user's settings row, then
    (in online_time) the open session and day rows. Creates the connection row if it is
    missing (it was swept while the socket lived on).
    """
    now = now or timezone.now()
    with transaction.atomic():
        chat_settings = _lock_settings(user_id)
        connection = PresenceConnection.objects.filter(
            channel_name=channel_name, user_id=user_id
        ).first()
        if connection is None:
            connection = PresenceConnection(
                channel_name=channel_name, user_id=user_id, connected_at=now, last_seen_at=now
            )
        if room_id != connection.viewing_room_id:
            member = room_id is not None and _is_room_member(user_id, room_id)
            connection.viewing_room_id = room_id if member else None
        connection.visible = visible
        connection.last_seen_at = max(now, connection.last_seen_at)
        if active:
            connection.last_active_at = connection.last_seen_at
        connection.save()

        others = (
            PresenceConnection.objects.filter(user_id=user_id, last_seen_at__gte=now - _timeout())
            .exclude(pk=connection.pk)
            .values_list("last_active_at", flat=True)
        )
        online_time.record_heartbeat(
            user_id=user_id,
            at=now,
            active=online_time.merged_active(
                this_active=active, other_tabs_last_active=list(others), at=now
            ),
            time_zone=getattr(chat_settings, "user_time_zone", None),
        )
        _tell_if_changed(user_id, now=now)
    return connection


def connection_close(
    *, user_id: int, channel_name: str, now: datetime.datetime | None = None
) -> None:
    """Forget a socket that closed; publish offline (or away) if it was the one that counted.

    The time since its last heartbeat counts as online time (the socket was open until now),
    but the online-time session stays open: a page reload continues it, and the sweep closes
    it after the timeout if nothing comes back.
    """
    now = now or timezone.now()
    with transaction.atomic():
        chat_settings = _lock_settings(user_id)
        connection = PresenceConnection.objects.filter(
            channel_name=channel_name, user_id=user_id
        ).first()
        if connection is None:
            return
        others = (
            PresenceConnection.objects.filter(user_id=user_id, last_seen_at__gte=now - _timeout())
            .exclude(pk=connection.pk)
            .values_list("last_active_at", flat=True)
        )
        this_active = (
            connection.last_active_at is not None
            and connection.last_active_at >= connection.last_seen_at
        )
        online_time.record_heartbeat(
            user_id=user_id,
            at=now,
            active=online_time.merged_active(
                this_active=this_active,
                other_tabs_last_active=list(others),
                at=now,
            ),
            time_zone=getattr(chat_settings, "user_time_zone", None),
            final=True,
        )
        connection.delete()
        _tell_if_changed(user_id, now=now)


def chat_settings_update(
    *, user: Any, data: Mapping[str, Any], now: datetime.datetime | None = None
) -> UserChatSettings:
    """Change the user's status, do-not-disturb or notification preferences.

    ``data`` holds validated fields of UserChatSettings (the API validates them). Locks the
    settings row; publishes ``chat.presence.changed`` when the status or do-not-disturb others
    see changed.
    """
    now = now or timezone.now()
    fields = (
        "status_text",
        "status_emoji",
        "status_expires_at",
        "dnd_until",
        "dnd_schedule",
        "sound_enabled",
        "desktop_enabled",
        "email_enabled",
    )
    with transaction.atomic():
        chat_settings = _lock_settings(user.pk)
        changed = [name for name in fields if name in data]
        for name in changed:
            setattr(chat_settings, name, data[name])
        if changed:
            chat_settings.save(update_fields=[*changed, "updated_at"])
            _tell_if_changed(user.pk, now=now)
    return chat_settings


def sweep_presence(*, now: datetime.datetime | None = None) -> int:
    """Every 30 seconds: forget connections whose heartbeats stopped (a crashed server or a
    lost network), close online-time sessions silent past the timeout, and publish every
    change the clock alone made (offline, a do-not-disturb schedule starting or ending, a
    status expiring). Returns how many users' presence was published.

    Changes are found without locks, then each is re-checked under the user's lock, so a
    heartbeat that arrived meanwhile wins over the sweep's older view.
    """
    now = now or timezone.now()
    cutoff = now - _timeout()
    stale = PresenceConnection.objects.filter(last_seen_at__lt=cutoff)
    candidates = set(stale.values_list("user_id", flat=True))
    # Conditional on the stamp: a heartbeat that refreshed a row after the read above keeps it.
    stale.delete()
    online_time.sessions_close_idle(now=now)
    candidates |= set(PresenceConnection.objects.values_list("user_id", flat=True).distinct())
    if not candidates:
        return 0
    payloads = presence_for_users(candidates, now=now)
    told = cache.get_many([_told_key(user_id) for user_id in candidates])
    published = 0
    for user_id in sorted(candidates):
        if told.get(_told_key(user_id)) == payloads[user_id]:
            continue
        with transaction.atomic():
            _lock_settings(user_id)
            published += _tell_if_changed(user_id, now=now)
    return published
