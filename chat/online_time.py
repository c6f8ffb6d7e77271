"""Online time: presence sessions and daily totals built from socket heartbeats.

This is what the productivity panel reads (``GET organizations/<org>/online-time/``). The
rules, each in a small function below:

- **Tabs merged.** A user has at most one open ``PresenceSession``; the heartbeats of all
  their tabs and devices feed it, so two open tabs never count twice.
- **Intervals.** Each heartbeat credits the interval since the session's previous heartbeat
  (from any tab), ``(previous, this]``, as online time. A heartbeat at or before the previous
  one (another tab beating in the same instant) credits nothing.
- **Active.** The interval is also active time when this heartbeat says ``active``, or when
  another tab of the user reported active within the last ``PRESENCE_HEARTBEAT_SECONDS``
  (``merged_active``): the person is working in the other tab, and this tab's idle report
  must not turn that into idle time.
- **Silence closes.** A gap longer than ``PRESENCE_TIMEOUT_SECONDS`` closes the session at
  its last heartbeat (``ended_at = last_seen_at``); the gap counts as nothing, and the
  heartbeat that ends it opens a new session. The sweep closes silent sessions the same way.
  No interval ever credits more than ``PRESENCE_TIMEOUT_SECONDS``.
- **Days.** ``OnlineDay`` totals are per calendar day in the user's own time zone; an interval
  crossing local midnight is split between the two days. Each day keeps the first and last
  moment the user was seen on it.
- **Whole seconds.** An interval counts ``floor(end) - floor(start)`` seconds of Unix time, so
  the intervals of a session add up to exactly its length, with no rounding drift.

Locking: ``record_heartbeat`` locks the user's open session row and then the day rows (in day
order) before reading and adding to them, so two tabs' heartbeats arriving together never
lose time. ``chat.presence`` also holds the user's settings lock around it.
"""

from __future__ import annotations

import datetime
import math
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from accounts.models import DEFAULT_TIME_ZONE, Membership
from accounts.roles import Capability, role_can
from chat.models import OnlineDay, PresenceSession
from core.exceptions import NotFoundError

# The longest stretch the online-time API answers for in one request.
MAX_RANGE_DAYS = 93
DEFAULT_RANGE_DAYS = 7


def _timeout() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.PRESENCE_TIMEOUT_SECONDS)


# --- arithmetic (pure) ---------------------------------------------------------------------------


def whole_seconds(start: datetime.datetime, end: datetime.datetime) -> int:
    return math.floor(end.timestamp()) - math.floor(start.timestamp())


@dataclass(frozen=True)
class Interval:
    start: datetime.datetime
    end: datetime.datetime

    @property
    def seconds(self) -> int:
        return whole_seconds(self.start, self.end)


@dataclass(frozen=True)
class DayPart:
    """The piece of an interval that falls on one local calendar day."""

    day: datetime.date
    start: datetime.datetime
    end: datetime.datetime

    @property
    def seconds(self) -> int:
        return whole_seconds(self.start, self.end)


def merged_active(
    *,
    this_active: bool,
    other_tabs_last_active: Iterable[datetime.datetime | None],
    at: datetime.datetime,
) -> bool:
    """The merge rule: an interval is active if this heartbeat says so, or if another tab of
    the same user reported active within the last PRESENCE_HEARTBEAT_SECONDS."""
    window = datetime.timedelta(seconds=settings.PRESENCE_HEARTBEAT_SECONDS)
    return this_active or any(
        moment is not None and moment >= at - window for moment in other_tabs_last_active
    )


def session_expired(*, last_seen_at: datetime.datetime, at: datetime.datetime) -> bool:
    """A silence longer than the timeout ends the session at its last heartbeat."""
    return at - last_seen_at > _timeout()


def credited_interval(*, last_seen_at: datetime.datetime, at: datetime.datetime) -> Interval | None:
    """What a heartbeat at ``at`` adds to a session last seen at ``last_seen_at``.

    Nothing for a heartbeat at or before the last one, or after a silence that ended the
    session; never more than the timeout.
    """
    if at <= last_seen_at or session_expired(last_seen_at=last_seen_at, at=at):
        return None
    return Interval(start=max(last_seen_at, at - _timeout()), end=at)


def split_by_day(interval: Interval, zone: datetime.tzinfo) -> list[DayPart]:
    """The interval cut at each local midnight it crosses (usually none, at most one)."""
    parts: list[DayPart] = []
    start = interval.start
    while True:
        day = start.astimezone(zone).date()
        next_midnight = datetime.datetime.combine(
            day + datetime.timedelta(days=1), datetime.time(0), tzinfo=zone
        )
        end = min(interval.end, next_midnight)
        parts.append(DayPart(day=day, start=start, end=end))
        if end >= interval.end:
            return parts
        start = end


def local_day(moment: datetime.datetime, zone: datetime.tzinfo) -> datetime.date:
    return moment.astimezone(zone).date()


# --- services ----------------------------------------------------------------------------------


def time_zone_of(name: str | None) -> datetime.tzinfo:
    """The user's time zone; an unknown name (it is validated on save) falls back to the default."""
    try:
        return zoneinfo.ZoneInfo(name or DEFAULT_TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(DEFAULT_TIME_ZONE)


def _open_session_locked(user_id: int) -> PresenceSession | None:
    return (
        PresenceSession.objects.select_for_update()
        .filter(user_id=user_id, ended_at__isnull=True)
        .first()
    )


def record_heartbeat(
    *,
    user_id: int,
    at: datetime.datetime,
    active: bool,
    time_zone: str | None,
    final: bool = False,
) -> PresenceSession | None:
    """Add what a heartbeat at ``at`` means to the user's open session and day totals.

    ``active`` is already merged across tabs (``merged_active``). A heartbeat after a silence
    longer than the timeout closes the old session at its last heartbeat and opens a new one,
    unless ``final`` (a socket closing), which only ever adds to an open session. Locks the
    open session row, then the day rows in day order. Returns the open session, if any.
    """
    user_zone = time_zone_of(time_zone)
    with transaction.atomic():
        session = _open_session_locked(user_id)
        if session is not None and session_expired(last_seen_at=session.last_seen_at, at=at):
            session.ended_at = session.last_seen_at
            session.save(update_fields=["ended_at"])
            session = None
        if session is None:
            if final:
                return None
            session = _session_open(user_id=user_id, at=at, active=active)
            if session.started_at == at:
                _add_to_days(
                    user_id, [DayPart(day=local_day(at, user_zone), start=at, end=at)], active=False
                )
                return session
        interval = credited_interval(last_seen_at=session.last_seen_at, at=at)
        if interval is None:
            # Another tab beat in the same instant (or its heartbeat arrived late): no time to
            # add, but an active report is still remembered.
            if active and (session.last_active_at is None or session.last_active_at < at):
                session.last_active_at = at
                session.save(update_fields=["last_active_at"])
            return session
        parts = split_by_day(interval, user_zone)
        seconds = sum(part.seconds for part in parts)
        session.online_seconds += seconds
        session.last_seen_at = at
        if active:
            session.active_seconds += seconds
            session.last_active_at = at
        session.save(
            update_fields=["online_seconds", "active_seconds", "last_seen_at", "last_active_at"]
        )
        _add_to_days(user_id, parts, active=active)
        return session


def _session_open(*, user_id: int, at: datetime.datetime, active: bool) -> PresenceSession:
    """A new open session, or the one another process opened a moment ago (locked)."""
    try:
        with transaction.atomic():
            return PresenceSession.objects.create(
                user_id=user_id,
                started_at=at,
                last_seen_at=at,
                last_active_at=at if active else None,
            )
    except IntegrityError:
        # The partial unique constraint allows one open session per user: someone else's
        # insert won, and their session is the one to add to.
        session = _open_session_locked(user_id)
        assert session is not None
        return session


def _add_to_days(user_id: int, parts: Sequence[DayPart], *, active: bool) -> None:
    days = sorted({part.day for part in parts})
    rows = {
        row.day: row
        for row in OnlineDay.objects.select_for_update()
        .filter(user_id=user_id, day__in=days)
        .order_by("day")
    }
    for part in parts:
        seconds = part.seconds
        row = rows.get(part.day)
        if row is None:
            try:
                with transaction.atomic():
                    OnlineDay.objects.create(
                        user_id=user_id,
                        day=part.day,
                        online_seconds=seconds,
                        active_seconds=seconds if active else 0,
                        first_seen_at=part.start,
                        last_seen_at=part.end,
                    )
                continue
            except IntegrityError:
                row = OnlineDay.objects.select_for_update().get(user_id=user_id, day=part.day)
        row.online_seconds += seconds
        if active:
            row.active_seconds += seconds
        row.first_seen_at = min(row.first_seen_at, part.start)
        row.last_seen_at = max(row.last_seen_at, part.end)
        row.save(
            update_fields=["online_seconds", "active_seconds", "first_seen_at", "last_seen_at"]
        )


def sessions_close_idle(*, now: datetime.datetime | None = None) -> int:
    """Close every open session silent for longer than the timeout, at its last heartbeat.

    A heartbeat holding a session's lock is waited for; if it closed the session itself the
    row no longer matches (PostgreSQL re-checks the condition on the locked row).
    """
    now = now or timezone.now()
    return PresenceSession.objects.filter(
        ended_at__isnull=True, last_seen_at__lt=now - _timeout()
    ).update(ended_at=F("last_seen_at"))


# --- selectors ---------------------------------------------------------------------------------


def default_range(
    *, time_zone: str | None, now: datetime.datetime | None = None
) -> tuple[datetime.date, datetime.date]:
    """The last DEFAULT_RANGE_DAYS days, today included, in the given time zone."""
    today = local_day(now or timezone.now(), time_zone_of(time_zone))
    return today - datetime.timedelta(days=DEFAULT_RANGE_DAYS - 1), today


def online_days_for_organization(
    *,
    membership: Membership,
    day_from: datetime.date,
    day_to: datetime.date,
    user_id: int | None = None,
) -> QuerySet[OnlineDay]:
    """Daily online time of the organization's members that ``membership`` may see.

    Org admins see every member of their organization (one of them with ``user_id``); everyone
    else sees only themselves, and asking for anybody else is not found, as is anybody who is
    not a member of this organization. Another organization's people never appear.
    """
    organization_id = membership.organization_id
    if not role_can(membership.role, Capability.VIEW_TEAM_ONLINE_TIME):
        if user_id is not None and user_id != membership.user_id:
            raise NotFoundError()
        user_id = membership.user_id
    elif (
        user_id is not None
        and not Membership.objects.filter(organization_id=organization_id, user_id=user_id).exists()
    ):
        raise NotFoundError()
    days = OnlineDay.objects.filter(
        day__gte=day_from,
        day__lte=day_to,
        user__memberships__organization_id=organization_id,
    )
    if user_id is not None:
        days = days.filter(user_id=user_id)
    return days.select_related("user").order_by("user__display_name", "user_id", "day")
