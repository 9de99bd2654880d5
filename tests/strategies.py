"""Hypothesis strategies and their helpers shared by the property tests.

Import as ``from tests.strategies import ...`` (see `tests/builders.py`). What the
planner's and the metrics' properties both generate lives here: working hours (as
``Item``s, rendered to the settings' text and, independently, to ranges per weekday), the
zones and DST dates that make days 23 to 25 hours long, and the epoch-minute helpers.
Each test file keeps what is its own (its boundaries, durations, kinds of event).
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe")
# Every DST change of 2026 in those zones (all of them Sundays).
DST_DATES = (
    date(2026, 3, 8),  # New York, 23 h
    date(2026, 3, 29),  # Berlin, 23 h
    date(2026, 4, 5),  # Lord Howe, 24.5 h
    date(2026, 10, 4),  # Lord Howe, 23.5 h
    date(2026, 10, 25),  # Berlin, 25 h
    date(2026, 11, 1),  # New York, 25 h
)
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

RARE = st.sampled_from([False, False, False, False, False, True])
MOSTLY = st.sampled_from([True, True, True, False])

# -- working hours: generated as items (first day, last day, start minute, end minute) ---

Item = tuple[int, int, int, int]
Hours = dict[int, list[tuple[int, int]]]
PRESETS: tuple[tuple[Item, ...], ...] = (
    ((0, 4, 540, 1020),),  # Mon-Fri 09:00-17:00
    ((0, 3, 540, 1050), (4, 4, 540, 780)),  # Mon-Thu 09:00-17:30, Fri 09:00-13:00
    ((0, 4, 420, 660), (0, 4, 900, 1140)),  # split shift
    ((0, 4, 540, 720), (0, 4, 720, 1020)),  # two touching ranges
    ((6, 3, 480, 960),),  # Sun-Thu (wraps)
    ((0, 4, 540, 1020), (5, 6, 600, 840)),  # weekdays and a weekend
    ((0, 6, 0, 1440),),  # all day, every day
    ((2, 2, 1320, 1440), (3, 3, 0, 360), (6, 6, 0, 90)),  # night shift, 24:00, 00:00
)


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def render_hours(items: tuple[Item, ...] | list[Item]) -> str:
    """Items as the settings write working hours ("Mon-Fri 09:00-17:00, ...")."""
    parts = []
    for first, last, start, end in items:
        days = DAY_NAMES[first] if first == last else f"{DAY_NAMES[first]}-{DAY_NAMES[last]}"
        parts.append(f"{days} {_clock(start)}-{_clock(end)}")
    return ", ".join(parts)


def ranges_by_weekday(items: tuple[Item, ...] | list[Item]) -> Hours:
    """Items as minute ranges per weekday (0 = Monday); a range of days may wrap."""
    out: Hours = {d: [] for d in range(7)}
    for first, last, start, end in items:
        day = first
        while True:
            out[day].append((start, end))
            if day == last:
                break
            day = (day + 1) % 7
    return out


@st.composite
def working_hours(draw: st.DrawFn, boundary: st.SearchStrategy[int]) -> tuple[str, Hours]:
    """A working-hours spec string and, independently, its ranges per weekday: a preset, or
    up to three ranges with ends drawn from ``boundary`` that never overlap on a day."""
    if draw(st.booleans()):
        items: list[Item] = list(draw(st.sampled_from(PRESETS)))
    else:
        items = []
        per_day: Hours = {d: [] for d in range(7)}
        for _ in range(draw(st.integers(1, 3))):
            first = draw(st.integers(0, 6))
            last = draw(st.integers(0, 6))
            a, b = draw(boundary), draw(boundary)
            start, end = min(a, b), max(a, b)
            if start == end:
                continue
            candidate = (first, last, start, end)
            days = ranges_by_weekday([candidate])
            if any(
                s < e2 and s2 < e for d, rs in days.items() for s, e in rs for s2, e2 in per_day[d]
            ):
                continue  # overlapping ranges on a day are invalid working hours
            items.append(candidate)
            for d, rs in days.items():
                per_day[d].extend(rs)
        if not items:
            items = [(0, 4, 540, 1020)]
    return render_hours(items), ranges_by_weekday(items)


# -- time as epoch minutes ----------------------------------------------------------------


def midnight_minute(day: date, tz: ZoneInfo) -> int:
    """UTC epoch minute of local midnight starting ``day``."""
    return int(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()) // 60


def at_minute(minute: int, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(minute * 60, tz)
