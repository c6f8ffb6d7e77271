"""Business hours: open or closed, the next opening, and time counted only while open.

Examples pin the rules down (holidays, ranges across midnight, daylight-saving nights in New
York, Brazil's zones without DST today and São Paulo's old midnight change); property tests
compare the counting with a minute-by-minute count of a plain wall-clock reading of the
schedule, written here independently of the code under test.
"""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.exceptions import ApplicationError
from queueing import hours
from queueing.models import SupportQueue
from queueing.tests.inbox_factories import T0

UTC = datetime.UTC
MINUTE = datetime.timedelta(minutes=1)
SAO_PAULO = "America/Sao_Paulo"
NEW_YORK = "America/New_York"
WEEKDAYS_9_TO_18 = [{"day": day, "start": "09:00", "end": "18:00"} for day in range(5)]


def utc(*args: int) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UTC)


def local(zone: str, *args: int, fold: int = 0) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=zoneinfo.ZoneInfo(zone), fold=fold)


def add(minutes: int, start: datetime.datetime, **schedule: Any) -> datetime.datetime:
    schedule.setdefault("time_zone", SAO_PAULO)
    schedule.setdefault("weekly_hours", WEEKDAYS_9_TO_18)
    schedule.setdefault("holidays", [])
    return hours.add_business_minutes(start=start, minutes=minutes, **schedule)


def between(start: datetime.datetime, end: datetime.datetime, **schedule: Any) -> int:
    schedule.setdefault("time_zone", SAO_PAULO)
    schedule.setdefault("weekly_hours", WEEKDAYS_9_TO_18)
    schedule.setdefault("holidays", [])
    return hours.business_seconds_between(start=start, end=end, **schedule)


def opening(at: datetime.datetime, **schedule: Any) -> datetime.datetime | None:
    schedule.setdefault("time_zone", SAO_PAULO)
    schedule.setdefault("weekly_hours", WEEKDAYS_9_TO_18)
    schedule.setdefault("holidays", [])
    return hours.next_opening(at=at, **schedule)


def open_at(at: datetime.datetime, **schedule: Any) -> bool:
    schedule.setdefault("time_zone", SAO_PAULO)
    schedule.setdefault("weekly_hours", WEEKDAYS_9_TO_18)
    schedule.setdefault("holidays", [])
    return hours.is_open(at=at, **schedule)


# --- validation -----------------------------------------------------------------------------


def test_valid_weekly_hours_come_back_sorted_without_duplicates() -> None:
    value = [
        {"day": 4, "start": "22:00", "end": "06:00"},
        {"day": 0, "start": "13:00", "end": "24:00"},
        {"day": 0, "start": "08:30", "end": "12:00"},
        {"day": 0, "start": "08:30", "end": "12:00"},
    ]

    assert hours.validate_weekly_hours(value) == [
        {"day": 0, "start": "08:30", "end": "12:00"},
        {"day": 0, "start": "13:00", "end": "24:00"},
        {"day": 4, "start": "22:00", "end": "06:00"},
    ]
    assert hours.validate_weekly_hours([]) == []


@pytest.mark.parametrize(
    "entry",
    [
        {"day": 7, "start": "09:00", "end": "18:00"},
        {"day": -1, "start": "09:00", "end": "18:00"},
        {"day": True, "start": "09:00", "end": "18:00"},
        {"day": "1", "start": "09:00", "end": "18:00"},
        {"day": 1, "start": "9:00", "end": "18:00"},
        {"day": 1, "start": "24:00", "end": "18:00"},
        {"day": 1, "start": "09:60", "end": "18:00"},
        {"day": 1, "start": "09:00", "end": "24:01"},
        {"day": 1, "start": "09:00", "end": "09:00"},
        {"day": 1, "start": "09:00"},
        {"day": 1, "start": "09:00", "end": "18:00", "note": "x"},
        ["day", 1],
    ],
)
def test_it_refuses_a_malformed_range_naming_its_index(entry: Any) -> None:
    value = [{"day": 0, "start": "09:00", "end": "18:00"}, entry]

    with pytest.raises(ApplicationError) as raised:
        hours.validate_weekly_hours(value)

    assert raised.value.code == "inbox.invalid_hours"
    assert raised.value.status_code == 400
    assert raised.value.extra == {"field": "weekly_hours", "index": 1}


def test_it_refuses_weekly_hours_that_are_not_a_list_or_too_long() -> None:
    for value in ({"day": 0}, "09:00-18:00", None):
        with pytest.raises(ApplicationError) as raised:
            hours.validate_weekly_hours(value)
        assert (raised.value.code, raised.value.extra) == (
            "inbox.invalid_hours",
            {"field": "weekly_hours"},
        )
    too_many = [{"day": n % 7, "start": "09:00", "end": "18:00"} for n in range(71)]
    with pytest.raises(ApplicationError) as raised:
        hours.validate_weekly_hours(too_many)
    assert raised.value.extra == {"field": "weekly_hours"}


def test_holidays_come_back_sorted_and_unique_and_bad_ones_are_refused() -> None:
    assert hours.validate_holidays(["2026-12-25", "2026-01-01", "2026-12-25"]) == [
        "2026-01-01",
        "2026-12-25",
    ]
    for bad in ("2026-02-30", "20260101", "2026-1-01", 20260101, None):
        with pytest.raises(ApplicationError) as raised:
            hours.validate_holidays(["2026-01-01", bad])
        assert (raised.value.code, raised.value.extra) == (
            "inbox.invalid_hours",
            {"field": "holidays", "index": 1},
        )
    with pytest.raises(ApplicationError) as raised:
        hours.validate_holidays("2026-01-01")
    assert raised.value.extra == {"field": "holidays"}


def test_time_zones_must_be_known_iana_names() -> None:
    assert hours.validate_time_zone("America/Manaus") == "America/Manaus"
    assert hours.validate_time_zone("UTC") == "UTC"
    for bad in ("America/Atlantis", "", "-03:00", None):
        with pytest.raises(ApplicationError) as raised:
            hours.validate_time_zone(bad)
        assert (raised.value.code, raised.value.extra) == (
            "inbox.invalid_hours",
            {"field": "time_zone"},
        )


# --- open or closed ---------------------------------------------------------------------------


def test_it_is_open_inside_the_hours_of_its_own_time_zone() -> None:
    # T0 is Monday 10:00 in São Paulo, 09:00 in Manaus, 09:00 in New York (EDT since Mar 8).
    assert open_at(T0)
    assert open_at(local(SAO_PAULO, 2026, 3, 9, 9, 0))
    assert open_at(local(SAO_PAULO, 2026, 3, 9, 17, 59, 59))
    assert not open_at(local(SAO_PAULO, 2026, 3, 9, 8, 59, 59))
    assert not open_at(local(SAO_PAULO, 2026, 3, 9, 18, 0))
    assert not open_at(local(SAO_PAULO, 2026, 3, 7, 12, 0))  # Saturday
    assert open_at(T0, time_zone=NEW_YORK)
    assert not open_at(T0 - MINUTE, time_zone=NEW_YORK)
    assert open_at(T0, time_zone="America/Manaus")
    assert not open_at(T0 - MINUTE, time_zone="America/Manaus")


def test_a_holiday_is_closed_all_day() -> None:
    assert not open_at(T0, holidays=["2026-03-09"])
    assert open_at(T0, holidays=["2026-03-10"])


def test_empty_hours_are_open_around_the_clock_except_on_holidays() -> None:
    saturday_night = local(SAO_PAULO, 2026, 3, 7, 23, 30)
    assert open_at(saturday_night, weekly_hours=[])
    assert not open_at(saturday_night, weekly_hours=[], holidays=["2026-03-07"])
    assert between(T0, T0 + datetime.timedelta(days=10), weekly_hours=[]) == 10 * 86400
    assert (
        between(
            local(SAO_PAULO, 2026, 12, 24, 12, 0),
            local(SAO_PAULO, 2026, 12, 26, 12, 0),
            weekly_hours=[],
            holidays=["2026-12-25"],
        )
        == 24 * 3600
    )


def test_a_range_crossing_midnight_covers_the_next_morning_but_not_into_a_holiday() -> None:
    night = [{"day": 4, "start": "22:00", "end": "06:00"}]  # Friday night

    assert open_at(local(SAO_PAULO, 2026, 3, 13, 23, 0), weekly_hours=night)
    assert open_at(local(SAO_PAULO, 2026, 3, 14, 5, 59), weekly_hours=night)
    assert not open_at(local(SAO_PAULO, 2026, 3, 14, 6, 0), weekly_hours=night)
    assert not open_at(local(SAO_PAULO, 2026, 3, 13, 21, 59), weekly_hours=night)
    # Saturday a holiday: Friday's range stops at midnight.
    assert not open_at(
        local(SAO_PAULO, 2026, 3, 14, 1, 0), weekly_hours=night, holidays=["2026-03-14"]
    )
    assert (
        between(
            local(SAO_PAULO, 2026, 3, 13, 0, 0),
            local(SAO_PAULO, 2026, 3, 15, 0, 0),
            weekly_hours=night,
            holidays=["2026-03-14"],
        )
        == 2 * 3600
    )


# --- counting ---------------------------------------------------------------------------------


def test_business_minutes_skip_the_night_and_the_weekend() -> None:
    friday_five_pm = local(SAO_PAULO, 2026, 3, 6, 17, 0)

    assert add(60, friday_five_pm) == local(SAO_PAULO, 2026, 3, 6, 18, 0)
    assert add(61, friday_five_pm) == local(SAO_PAULO, 2026, 3, 9, 9, 1)
    assert add(120, friday_five_pm) == T0
    assert add(9 * 60 * 5 + 60, friday_five_pm) == local(SAO_PAULO, 2026, 3, 13, 9, 0) + (
        datetime.timedelta(hours=9)
    )
    assert between(friday_five_pm, T0) == 2 * 3600


def test_business_minutes_skip_holidays() -> None:
    friday_five_pm = local(SAO_PAULO, 2026, 3, 6, 17, 0)

    due = add(120, friday_five_pm, holidays=["2026-03-09"])

    assert due == local(SAO_PAULO, 2026, 3, 10, 10, 0)
    assert between(friday_five_pm, due, holidays=["2026-03-09"]) == 7200


def test_counting_starts_at_the_next_opening_outside_hours() -> None:
    sunday = local(SAO_PAULO, 2026, 3, 8, 15, 0)

    assert add(30, sunday) == local(SAO_PAULO, 2026, 3, 9, 9, 30)
    assert opening(sunday) == local(SAO_PAULO, 2026, 3, 9, 9, 0)
    assert opening(T0) == T0
    assert between(sunday, local(SAO_PAULO, 2026, 3, 9, 9, 0)) == 0


def test_zero_minutes_is_the_start_and_bad_arguments_are_refused() -> None:
    sunday = local(SAO_PAULO, 2026, 3, 8, 15, 0)

    assert add(0, sunday) == sunday
    assert between(T0, T0) == 0
    assert between(T0 + MINUTE, T0) == 0
    with pytest.raises(ValueError):
        add(-1, T0)
    with pytest.raises(ValueError):
        add(10, datetime.datetime(2026, 3, 9, 10, 0))  # naive
    with pytest.raises(ValueError):
        open_at(datetime.datetime(2026, 3, 9, 10, 0))


def test_a_schedule_that_never_opens_has_no_opening_and_no_due_date() -> None:
    # Only malformed rows stored (validation refuses them): nothing is ever open.
    never = [{"day": 9, "start": "09:00", "end": "18:00"}]

    assert not open_at(T0, weekly_hours=never)
    assert opening(T0, weekly_hours=never) is None
    assert between(T0, T0 + datetime.timedelta(days=30), weekly_hours=never) == 0
    with pytest.raises(ValueError):
        add(1, T0, weekly_hours=never)


def test_a_long_run_of_holidays_is_crossed() -> None:
    december = [f"2026-12-{day:02d}" for day in range(1, 32)]

    assert opening(local(SAO_PAULO, 2026, 11, 30, 18, 0), holidays=december) == local(
        SAO_PAULO, 2027, 1, 1, 9, 0
    )


def test_new_yorks_spring_forward_night_is_an_hour_shorter() -> None:
    # 2026-03-08: 02:00 EST jumps to 03:00 EDT. A Sunday range 01:00-04:00 lasts two hours.
    night = [{"day": 6, "start": "01:00", "end": "04:00"}]
    schedule = {"time_zone": NEW_YORK, "weekly_hours": night}

    assert between(utc(2026, 3, 8), utc(2026, 3, 9), **schedule) == 2 * 3600
    assert add(60, local(NEW_YORK, 2026, 3, 8, 0, 0), **schedule) == local(
        NEW_YORK, 2026, 3, 8, 3, 0
    )
    assert add(60, local(NEW_YORK, 2026, 3, 8, 0, 0), **schedule) == utc(2026, 3, 8, 7, 0)
    # A week later the same range is three hours again.
    assert between(utc(2026, 3, 15), utc(2026, 3, 16), **schedule) == 3 * 3600


def test_new_yorks_fall_back_night_counts_the_repeated_hour_twice() -> None:
    # 2026-11-01: 02:00 EDT goes back to 01:00 EST; 01:00-02:00 happens twice.
    night = [{"day": 6, "start": "01:00", "end": "04:00"}]
    schedule = {"time_zone": NEW_YORK, "weekly_hours": night}

    assert between(utc(2026, 11, 1), utc(2026, 11, 2), **schedule) == 4 * 3600
    assert open_at(local(NEW_YORK, 2026, 11, 1, 1, 30, fold=0), **schedule)
    assert open_at(local(NEW_YORK, 2026, 11, 1, 1, 30, fold=1), **schedule)
    # Ninety minutes from midnight: the first 01:00-02:00 (EDT), then half of the second.
    # (Compared in UTC: Python never calls a repeated wall time equal to another zone's time.)
    due = add(90, local(NEW_YORK, 2026, 11, 1, 0, 0), **schedule)
    assert due == utc(2026, 11, 1, 6, 30)
    assert due.astimezone(zoneinfo.ZoneInfo(NEW_YORK)).replace(tzinfo=None) == (
        datetime.datetime(2026, 11, 1, 1, 30)
    )


def test_a_nine_to_six_day_is_nine_hours_on_both_sides_of_new_yorks_change() -> None:
    schedule = {"time_zone": NEW_YORK, "weekly_hours": WEEKDAYS_9_TO_18}
    friday = local(NEW_YORK, 2026, 3, 6, 17, 0)  # EST
    monday = local(NEW_YORK, 2026, 3, 9, 9, 0)  # EDT

    assert add(60, friday, **schedule) == local(NEW_YORK, 2026, 3, 6, 18, 0)
    assert add(61, friday, **schedule) == monday + MINUTE
    assert monday == utc(2026, 3, 9, 13, 0)
    assert between(friday, monday + datetime.timedelta(hours=9), **schedule) == 10 * 3600


def test_brazils_zones_keep_one_offset_all_year() -> None:
    # Brazil has had no daylight-saving time since 2019: 09:00 is the same UTC time in
    # January and July in each zone.
    for zone, offset in (
        ("America/Sao_Paulo", 3),
        ("America/Recife", 3),
        ("America/Manaus", 4),
        ("America/Rio_Branco", 5),
        ("America/Noronha", 2),
    ):
        for month, monday in ((1, 5), (7, 6)):
            nine = utc(2026, month, monday, 9 + offset, 0)
            assert open_at(nine, time_zone=zone)
            assert not open_at(nine - MINUTE, time_zone=zone)
            assert add(9 * 60, nine - MINUTE * 30, time_zone=zone) == utc(
                2026, month, monday, 18 + offset
            )


def test_sao_paulos_old_midnight_change_skips_the_missing_hour() -> None:
    # 2018-11-04: São Paulo's clocks went from 00:00 to 01:00 (its last DST start).
    sunday = [{"day": 6, "start": "00:00", "end": "10:00"}]
    schedule = {"weekly_hours": sunday}

    assert between(utc(2018, 11, 4), utc(2018, 11, 5), **schedule) == 9 * 3600
    assert opening(utc(2018, 11, 3, 12), **schedule) == utc(2018, 11, 4, 3, 0)
    assert utc(2018, 11, 4, 3, 0).astimezone(zoneinfo.ZoneInfo(SAO_PAULO)).hour == 1


def test_the_queue_helpers_read_the_queues_schedule() -> None:
    queue = SupportQueue(time_zone=NEW_YORK, weekly_hours=WEEKDAYS_9_TO_18, holidays=["2026-03-10"])

    assert hours.queue_is_open(queue, T0)
    assert not hours.queue_is_open(queue, T0 - MINUTE)
    assert hours.queue_next_opening(queue, T0 - MINUTE) == T0
    assert hours.queue_add_business_minutes(queue, T0, 9 * 60 + 1) == utc(2026, 3, 11, 13, 1)
    assert hours.queue_business_seconds_between(queue, T0, utc(2026, 3, 11, 13, 1)) == 32460


# --- properties -------------------------------------------------------------------------------

ZONES = [
    "America/New_York",
    "America/Sao_Paulo",
    "America/Manaus",
    "America/Recife",
    "America/Noronha",
    "America/Rio_Branco",
    "Europe/London",
    "Australia/Lord_Howe",  # a half-hour DST change
    "Asia/Kolkata",
    "UTC",
]
# Days around daylight-saving changes (and plain ones): instants are drawn near these.
DAYS = [
    datetime.date(2026, 3, 8),  # New York springs forward
    datetime.date(2026, 11, 1),  # New York falls back
    datetime.date(2018, 11, 4),  # São Paulo's midnight change
    datetime.date(2019, 2, 17),  # São Paulo's last fall back (midnight)
    datetime.date(2026, 3, 29),  # London
    datetime.date(2026, 4, 5),  # Lord Howe falls back half an hour
    datetime.date(2026, 10, 4),  # Lord Howe springs forward half an hour
    datetime.date(2026, 6, 15),
]


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def ranges(draw: st.DrawFn) -> dict[str, Any]:
    start = draw(st.integers(0, 24 * 4 - 1)) * 15
    end = draw(st.integers(1, 24 * 4).filter(lambda quarter: quarter * 15 != start)) * 15
    return {"day": draw(st.integers(0, 6)), "start": _clock(start), "end": _clock(end)}


@st.composite
def schedules(draw: st.DrawFn) -> dict[str, Any]:
    day = draw(st.sampled_from(DAYS))
    holidays = draw(
        st.lists(st.integers(-3, 4).map(lambda shift: day + datetime.timedelta(shift)), max_size=2)
    )
    return {
        "time_zone": draw(st.sampled_from(ZONES)),
        "weekly_hours": draw(st.lists(ranges(), max_size=5)),
        "holidays": [item.isoformat() for item in holidays],
    }


@st.composite
def moments(draw: st.DrawFn) -> datetime.datetime:
    """A whole minute (UTC) within three days of one of DAYS."""
    day = draw(st.sampled_from(DAYS))
    midnight = datetime.datetime.combine(day, datetime.time(), tzinfo=UTC)
    return midnight + MINUTE * draw(st.integers(-3 * 1440, 3 * 1440))


def wall_clock_open(schedule: dict[str, Any], instant: datetime.datetime) -> bool:
    """The rule as people read it: the local clock shows a time inside a range of that day."""
    wall = instant.astimezone(zoneinfo.ZoneInfo(schedule["time_zone"]))
    if wall.date().isoformat() in schedule["holidays"]:
        return False
    if not schedule["weekly_hours"]:
        return True
    now = wall.hour * 60 + wall.minute
    for entry in schedule["weekly_hours"]:
        start_hours, start_minutes = map(int, entry["start"].split(":"))
        end_hours, end_minutes = map(int, entry["end"].split(":"))
        start, end = start_hours * 60 + start_minutes, end_hours * 60 + end_minutes
        today, yesterday = entry["day"] == wall.weekday(), (entry["day"] + 1) % 7 == wall.weekday()
        if start < end and today and start <= now < end:
            return True
        if start > end and ((today and now >= start) or (yesterday and now < end)):
            return True
    return False


def open_minutes(schedule: dict[str, Any], start: datetime.datetime, count: int) -> list[bool]:
    return [wall_clock_open(schedule, start + MINUTE * n) for n in range(count)]


@settings(max_examples=300, deadline=None)
@given(schedule=schedules(), at=moments(), seconds=st.integers(0, 59))
def test_is_open_matches_the_wall_clock(
    schedule: dict[str, Any], at: datetime.datetime, seconds: int
) -> None:
    instant = at + datetime.timedelta(seconds=seconds)
    assert hours.is_open(at=instant, **schedule) == wall_clock_open(schedule, at)


@settings(max_examples=80, deadline=None)
@given(schedule=schedules(), start=moments(), length=st.integers(0, 2 * 1440))
def test_business_seconds_are_the_open_minutes_counted_one_by_one(
    schedule: dict[str, Any], start: datetime.datetime, length: int
) -> None:
    counted = sum(open_minutes(schedule, start, length))

    assert hours.business_seconds_between(start=start, end=start + MINUTE * length, **schedule) == (
        counted * 60
    )


@settings(max_examples=150, deadline=None)
@given(
    schedule=schedules(),
    start=moments(),
    seconds=st.integers(0, 59),
    minutes=st.integers(0, 3000),
)
def test_adding_business_minutes_round_trips_and_ends_in_open_time(
    schedule: dict[str, Any], start: datetime.datetime, seconds: int, minutes: int
) -> None:
    start += datetime.timedelta(seconds=seconds)
    if not schedule["weekly_hours"] and not schedule["holidays"]:
        # Around the clock: business minutes are plain minutes.
        assert hours.add_business_minutes(start=start, minutes=minutes, **schedule) == (
            start + MINUTE * minutes
        )

    due = hours.add_business_minutes(start=start, minutes=minutes, **schedule)

    assert due >= start + MINUTE * minutes
    assert hours.business_seconds_between(start=start, end=due, **schedule) == minutes * 60
    if minutes:
        # Inside open time, or exactly where an open range ends; never a moment too late.
        second = datetime.timedelta(seconds=1)
        assert hours.is_open(at=due - second, **schedule)
        assert hours.business_seconds_between(start=start, end=due - second, **schedule) == (
            minutes * 60 - 1
        )
        assert hours.add_business_minutes(start=start, minutes=minutes + 1, **schedule) > due


@settings(max_examples=150, deadline=None)
@given(schedule=schedules(), at=moments())
def test_the_next_opening_is_the_first_open_minute(
    schedule: dict[str, Any], at: datetime.datetime
) -> None:
    found = hours.next_opening(at=at, **schedule)

    assert found is not None  # every drawn schedule opens at least weekly
    assert found >= at
    assert wall_clock_open(schedule, found)
    assert hours.business_seconds_between(start=at, end=found, **schedule) == 0
    gap = (found - at) // MINUTE
    assert not any(open_minutes(schedule, at, min(gap, 3 * 1440)))


@settings(max_examples=60, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    start=moments(),
    minutes=st.lists(st.integers(0, 2000), min_size=2, max_size=2),
)
def test_adding_in_two_steps_is_adding_once(
    zone: str, start: datetime.datetime, minutes: list[int]
) -> None:
    schedule = {"time_zone": zone, "weekly_hours": WEEKDAYS_9_TO_18, "holidays": []}
    first, second = minutes

    halfway = hours.add_business_minutes(start=start, minutes=first, **schedule)
    assert hours.add_business_minutes(start=halfway, minutes=second, **schedule) == (
        hours.add_business_minutes(start=start, minutes=first + second, **schedule)
    )
