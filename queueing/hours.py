"""Business hours: when a support queue is open, and time counted only while it is open.

A queue's hours are a weekly schedule of wall-clock ranges in its time zone
(``[{"day": 0-6 (Monday=0), "start": "HH:MM", "end": "HH:MM"}, ...]``; a range whose start is
after its end crosses midnight, ``"24:00"`` ends at midnight), holidays (local dates, closed
all day) and the time zone. An empty schedule is open around the clock except on holidays.

*Open* means: the local wall-clock time at that instant falls in one of the ranges of its
local date, and that date is not a holiday. Read literally, this settles daylight-saving time
without special cases: on the night New York springs forward a 01:00-04:00 range lasts two
real hours (02:00-03:00 never happens), on the night it falls back four (01:00-02:00 happens
twice, open both times). A range crossing midnight into a holiday stops at midnight.

Counting (SLA due dates, business time elapsed) walks UTC instants: each UTC day is cut where
the zone's offset changes, and inside a piece of constant offset wall clock and UTC map one to
one, so the open ranges of the local dates it covers become exact UTC intervals. No database
here: the functions take the schedule's parts, the ``queue_*`` helpers a queue.
"""

from __future__ import annotations

import datetime
import functools
import re
import zoneinfo
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError

if TYPE_CHECKING:
    from queueing.models import SupportQueue

UTC = datetime.UTC
DAY = datetime.timedelta(days=1)
MINUTES_PER_DAY = 24 * 60
# Ten ranges a day is already more than any real schedule.
MAX_RANGES = 70
MAX_HOLIDAYS = 1000
# Counting gives up after this long with nothing open past the last holiday (a schedule with
# no usable range, which validation refuses, never opens).
NEVER_OPEN_AFTER = datetime.timedelta(days=15)

_TIME = re.compile(r"^\d\d:\d\d$")
_DATE = re.compile(r"^\d{4}-\d\d-\d\d$")


# --- validation (the config services call these before saving) ---------------------------


def _minutes(value: Any, *, end: bool = False) -> int | None:
    """``"HH:MM"`` as minutes after midnight, or None; ``"24:00"`` only as an end."""
    if not isinstance(value, str) or not _TIME.match(value):
        return None
    hours, minutes = int(value[:2]), int(value[3:])
    total = hours * 60 + minutes
    if minutes > 59 or total > (MINUTES_PER_DAY if end else MINUTES_PER_DAY - 1):
        return None
    return total


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _invalid(message: str, **extra: Any) -> ApplicationError:
    return ApplicationError(message, code="inbox.invalid_hours", extra=extra)


def validate_weekly_hours(value: Any) -> list[dict[str, Any]]:
    """The weekly ranges, normalized (sorted, duplicates dropped), or ``inbox.invalid_hours``.

    Each range is exactly ``{"day": 0-6, "start": "HH:MM", "end": "HH:MM"}`` with start and
    end different (start after end crosses midnight; a whole day is 00:00-24:00). Overlapping
    ranges are allowed: open time is their union. ``extra`` says ``{"field": "weekly_hours"}``
    and, for a bad range, its ``index``.
    """
    if not isinstance(value, list):
        raise _invalid(_("Business hours must be a list of ranges."), field="weekly_hours")
    if len(value) > MAX_RANGES:
        raise _invalid(
            _("Business hours can have at most %(count)d ranges.") % {"count": MAX_RANGES},
            field="weekly_hours",
        )
    ranges: set[tuple[int, int, int]] = set()
    for index, entry in enumerate(value):
        day = entry.get("day") if isinstance(entry, Mapping) else None
        start = _minutes(entry.get("start")) if isinstance(entry, Mapping) else None
        end = _minutes(entry.get("end"), end=True) if isinstance(entry, Mapping) else None
        if (
            not isinstance(entry, Mapping)
            or set(entry) != {"day", "start", "end"}
            or not isinstance(day, int)
            or isinstance(day, bool)
            or not 0 <= day <= 6
            or start is None
            or end is None
            or start == end
        ):
            raise _invalid(
                _(
                    "Each range needs a day from 0 (Monday) to 6 (Sunday) and a start and an "
                    "end like 09:00 and 18:00, different from each other."
                ),
                field="weekly_hours",
                index=index,
            )
        ranges.add((day, start, end))
    return [
        {"day": day, "start": _clock(start), "end": _clock(end)}
        for day, start, end in sorted(ranges)
    ]


def validate_holidays(value: Any) -> list[str]:
    """The holidays as sorted unique ``"YYYY-MM-DD"`` dates, or ``inbox.invalid_hours``
    (``extra``: ``{"field": "holidays"}`` and the bad entry's ``index``)."""
    if not isinstance(value, list):
        raise _invalid(_("Holidays must be a list of dates."), field="holidays")
    if len(value) > MAX_HOLIDAYS:
        raise _invalid(
            _("There can be at most %(count)d holidays.") % {"count": MAX_HOLIDAYS},
            field="holidays",
        )
    dates: set[datetime.date] = set()
    for index, item in enumerate(value):
        parsed = _date(item)
        if parsed is None:
            raise _invalid(
                _("Each holiday must be a date like 2026-12-25."), field="holidays", index=index
            )
        dates.add(parsed)
    return [day.isoformat() for day in sorted(dates)]


@functools.cache
def _known_time_zones() -> frozenset[str]:
    # available_timezones() walks the tz database on disk: once per process is enough.
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(name: Any) -> str:
    """The IANA time zone name, or ``inbox.invalid_hours`` (``{"field": "time_zone"}``)."""
    if not isinstance(name, str) or name not in _known_time_zones():
        raise _invalid(_("Unknown time zone."), field="time_zone")
    return name


# --- the schedule -------------------------------------------------------------------------


def _date(value: Any) -> datetime.date | None:
    if not isinstance(value, str) or not _DATE.match(value):
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return None


@dataclass(frozen=True)
class _Range:
    day: int
    start: int
    end: int  # start > end crosses midnight


@dataclass(frozen=True)
class _Schedule:
    zone: zoneinfo.ZoneInfo
    ranges: tuple[_Range, ...]
    around_the_clock: bool
    holidays: frozenset[datetime.date]
    last_holiday: datetime.date | None


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        # Validated on save; a stale name falls back to the site's zone like the model default.
        return zoneinfo.ZoneInfo(str(settings.TIME_ZONE))


def _schedule(time_zone: str, weekly_hours: Any, holidays: Any) -> _Schedule:
    """The schedule to compute with. Malformed stored entries (validation refuses them; an old
    row might hold one) are skipped rather than failing every SLA computation."""
    ranges = []
    for entry in weekly_hours if isinstance(weekly_hours, list) else []:
        if not isinstance(entry, Mapping):
            continue
        day = entry.get("day")
        start, end = _minutes(entry.get("start")), _minutes(entry.get("end"), end=True)
        if (
            isinstance(day, int)
            and not isinstance(day, bool)
            and 0 <= day <= 6
            and start is not None
            and end is not None
            and start != end
        ):
            ranges.append(_Range(day, start, end))
    dates = frozenset(
        parsed
        for parsed in (_date(item) for item in (holidays if isinstance(holidays, list) else []))
        if parsed is not None
    )
    return _Schedule(
        zone=_zone(time_zone),
        ranges=tuple(ranges),
        around_the_clock=not weekly_hours,
        holidays=dates,
        last_holiday=max(dates) if dates else None,
    )


def _day_segments(schedule: _Schedule, day: datetime.date) -> list[tuple[int, int]]:
    """The open ranges of one local date, as merged ``[start, end)`` minutes of that date."""
    if day in schedule.holidays:
        return []
    if schedule.around_the_clock:
        return [(0, MINUTES_PER_DAY)]
    weekday = day.weekday()
    yesterday = (weekday - 1) % 7
    segments = []
    for item in schedule.ranges:
        if item.start < item.end:
            if item.day == weekday:
                segments.append((item.start, item.end))
            continue
        # Crossing midnight: the evening part on its day, the morning part on the next.
        if item.day == weekday:
            segments.append((item.start, MINUTES_PER_DAY))
        if item.day == yesterday and item.end > 0:
            segments.append((0, item.end))
    segments.sort()
    merged: list[tuple[int, int]] = []
    for start, end in segments:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _offset(zone: zoneinfo.ZoneInfo, instant: datetime.datetime) -> datetime.timedelta:
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


@functools.lru_cache(maxsize=8192)
def _utc_day_pieces(
    zone: zoneinfo.ZoneInfo, day: datetime.date
) -> tuple[tuple[datetime.datetime, datetime.datetime, datetime.timedelta], ...]:
    """One UTC day cut where the zone's UTC offset changes: ``(start, end, offset)`` pieces.

    The tz database's transitions fall on whole seconds, so a binary search down to a second
    finds each one exactly. (No real zone changes its offset twice in a day and back, which is
    the one case comparing the day's ends would miss.)
    """
    second = datetime.timedelta(seconds=1)
    start = datetime.datetime.combine(day, datetime.time(), tzinfo=UTC)
    end = start + DAY
    pieces = []
    while start < end:
        offset = _offset(zone, start)
        if _offset(zone, end - second) == offset:
            pieces.append((start, end, offset))
            break
        low, high = start, end - second  # offset(low) == offset, offset(high) != offset
        while high - low > second:
            middle = low + (high - low) // 2
            middle = middle.replace(microsecond=0)
            if _offset(zone, middle) == offset:
                low = middle
            else:
                high = middle
        pieces.append((start, high, offset))
        start = high
    return tuple(pieces)


def _utc(instant: datetime.datetime) -> datetime.datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("business hours need aware datetimes")
    return instant.astimezone(UTC)


def _open_intervals(
    schedule: _Schedule, start: datetime.datetime
) -> Iterator[tuple[datetime.datetime, datetime.datetime]]:
    """The open time from ``start`` on: sorted, disjoint UTC ``[start, end)`` intervals
    (merged within a UTC day; one may end where the next begins).

    Endless for a schedule that opens; it stops once nothing has been open for
    ``NEVER_OPEN_AFTER`` past both ``start`` and the last holiday.
    """
    if not schedule.ranges and not schedule.around_the_clock:
        return
    start = _utc(start)
    day = start.date()
    pending: tuple[datetime.datetime, datetime.datetime] | None = None
    last_open = start
    while True:
        for piece_start, piece_end, offset in _utc_day_pieces(schedule.zone, day):
            low = max(piece_start, start)
            if low >= piece_end:
                continue
            # Wall-clock (naive) bounds of this piece: constant offset, so a plain shift.
            wall_low = low.replace(tzinfo=None) + offset
            wall_high = piece_end.replace(tzinfo=None) + offset
            local_day = wall_low.date()
            while (midnight := datetime.datetime.combine(local_day, datetime.time())) < wall_high:
                for first, last in _day_segments(schedule, local_day):
                    open_from = max(midnight + datetime.timedelta(minutes=first), wall_low)
                    open_until = min(midnight + datetime.timedelta(minutes=last), wall_high)
                    if open_from >= open_until:
                        continue
                    interval = (
                        (open_from - offset).replace(tzinfo=UTC),
                        (open_until - offset).replace(tzinfo=UTC),
                    )
                    last_open = interval[1]
                    if pending is not None and pending[1] == interval[0]:
                        pending = (pending[0], interval[1])
                        continue
                    if pending is not None:
                        yield pending
                    pending = interval
                local_day += DAY
        # Hand the day's last interval out (one open across midnight comes as two adjacent
        # intervals): waiting for its end would never end for a schedule open around the clock.
        if pending is not None:
            yield pending
            pending = None
        day += DAY
        day_start = datetime.datetime.combine(day, datetime.time(), tzinfo=UTC)
        past_holidays = schedule.last_holiday is None or day > schedule.last_holiday + DAY
        if past_holidays and day_start - last_open > NEVER_OPEN_AFTER:
            return


# --- public API ---------------------------------------------------------------------------


def is_open(*, time_zone: str, weekly_hours: Any, holidays: Any, at: datetime.datetime) -> bool:
    """Whether the schedule is open at ``at`` (an aware datetime)."""
    schedule = _schedule(time_zone, weekly_hours, holidays)
    local = _utc(at).astimezone(schedule.zone)
    minute = local.hour * 60 + local.minute
    return any(first <= minute < last for first, last in _day_segments(schedule, local.date()))


def next_opening(
    *, time_zone: str, weekly_hours: Any, holidays: Any, at: datetime.datetime
) -> datetime.datetime | None:
    """The first instant from ``at`` on when it is open (``at`` itself when open now), in
    UTC; None when the schedule never opens."""
    schedule = _schedule(time_zone, weekly_hours, holidays)
    for open_from, _open_until in _open_intervals(schedule, at):
        return open_from
    return None


def add_business_minutes(
    *,
    time_zone: str,
    weekly_hours: Any,
    holidays: Any,
    start: datetime.datetime,
    minutes: int,
) -> datetime.datetime:
    """The instant (UTC) when ``minutes`` of open time have passed since ``start``.

    Zero minutes is ``start`` itself. Otherwise the answer is inside open time or at the very
    end of an open range (60 minutes from 17:00 with closing at 18:00 is 18:00, not the next
    morning), so ``business_seconds_between(start, answer) == minutes * 60``. Raises
    ValueError for negative minutes or a schedule that never opens.
    """
    if minutes < 0:
        raise ValueError("minutes must not be negative")
    if minutes == 0:
        return _utc(start)
    remaining = datetime.timedelta(minutes=minutes)
    schedule = _schedule(time_zone, weekly_hours, holidays)
    for open_from, open_until in _open_intervals(schedule, start):
        if open_until - open_from >= remaining:
            return open_from + remaining
        remaining -= open_until - open_from
    raise ValueError("the schedule never opens")


def business_seconds_between(
    *,
    time_zone: str,
    weekly_hours: Any,
    holidays: Any,
    start: datetime.datetime,
    end: datetime.datetime,
) -> int:
    """Whole seconds of open time in ``[start, end)``; 0 when ``end`` is not after ``start``."""
    end = _utc(end)
    if end <= _utc(start):
        return 0
    total = datetime.timedelta()
    schedule = _schedule(time_zone, weekly_hours, holidays)
    for open_from, open_until in _open_intervals(schedule, start):
        if open_from >= end:
            break
        total += min(open_until, end) - open_from
    return total // datetime.timedelta(seconds=1)


def queue_is_open(queue: SupportQueue, at: datetime.datetime) -> bool:
    return is_open(
        time_zone=queue.time_zone,
        weekly_hours=queue.weekly_hours,
        holidays=queue.holidays,
        at=at,
    )


def queue_next_opening(queue: SupportQueue, at: datetime.datetime) -> datetime.datetime | None:
    return next_opening(
        time_zone=queue.time_zone,
        weekly_hours=queue.weekly_hours,
        holidays=queue.holidays,
        at=at,
    )


def queue_add_business_minutes(
    queue: SupportQueue, start: datetime.datetime, minutes: int
) -> datetime.datetime:
    return add_business_minutes(
        time_zone=queue.time_zone,
        weekly_hours=queue.weekly_hours,
        holidays=queue.holidays,
        start=start,
        minutes=minutes,
    )


def queue_business_seconds_between(
    queue: SupportQueue, start: datetime.datetime, end: datetime.datetime
) -> int:
    return business_seconds_between(
        time_zone=queue.time_zone,
        weekly_hours=queue.weekly_hours,
        holidays=queue.holidays,
        start=start,
        end=end,
    )
