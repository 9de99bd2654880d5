"""Working hours and their grammar.

DESIGN.md: working hours are written like ``Mon-Fri 09:00-17:00`` or
``Mon-Thu 09:00-17:30, Fri 09:00-13:00``. An item is a day or a day range (which may wrap,
``Sun-Thu``) and a time range; items are separated by commas; a day may have several
non-overlapping ranges (``Mon-Fri 09:00-12:00, Mon-Fri 13:00-17:00``). ``24:00`` ends a
day. `WorkingHours.parse` and `str()` round-trip: printing is canonical.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from itertools import pairwise

from micromoments.domain.errors import InvalidWorkingHours
from micromoments.domain.intervals import Interval

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_INDEX = {name.lower(): i for i, name in enumerate(DAY_NAMES)}
_ITEM = re.compile(
    r"^(?P<first>[A-Za-z]{3})(?:\s*-\s*(?P<last>[A-Za-z]{3}))?\s+"
    r"(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})$",
    re.ASCII,  # \d is 0-9 only: "٠٩:٠٠" is not a time here
)
_MINUTES_PER_DAY = 24 * 60

# A day's ranges as (start minute, end minute) pairs from local midnight.
DayRanges = tuple[tuple[int, int], ...]


def _minute_of(text: str, item: str, *, allow_24: bool) -> int:
    hours, minutes = (int(part) for part in text.split(":"))
    if minutes > 59 or hours > 24 or (hours == 24 and (minutes or not allow_24)):
        raise InvalidWorkingHours(f"bad time {text!r} in working hours item {item!r}")
    return hours * 60 + minutes


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """Working time ranges for each weekday (index 0 is Monday)."""

    days: tuple[DayRanges, DayRanges, DayRanges, DayRanges, DayRanges, DayRanges, DayRanges]

    @classmethod
    def parse(cls, spec: str) -> WorkingHours:
        if not isinstance(spec, str) or not spec.strip():
            raise InvalidWorkingHours(
                "working hours are empty; expected e.g. 'Mon-Fri 09:00-17:00'"
            )
        per_day: list[list[tuple[int, int]]] = [[] for _ in DAY_NAMES]
        for raw in spec.split(","):
            item = raw.strip()
            match = _ITEM.match(item)
            if not match:
                raise InvalidWorkingHours(
                    f"cannot read working hours item {item!r}; expected e.g. 'Mon-Fri 09:00-17:00'"
                )
            first = _DAY_INDEX.get(match["first"].lower())
            last = _DAY_INDEX.get((match["last"] or match["first"]).lower())
            if first is None or last is None:
                raise InvalidWorkingHours(f"unknown day name in working hours item {item!r}")
            start = _minute_of(match["start"], item, allow_24=False)
            end = _minute_of(match["end"], item, allow_24=True)
            if end <= start:
                raise InvalidWorkingHours(f"working hours item {item!r} ends before it starts")
            day = first
            while True:
                per_day[day].append((start, end))
                if day == last:
                    break
                day = (day + 1) % 7
        for index, ranges in enumerate(per_day):
            ranges.sort()
            for (_, prev_end), (next_start, _) in pairwise(ranges):
                if next_start < prev_end:
                    raise InvalidWorkingHours(f"working hours overlap on {DAY_NAMES[index]}")
        d = tuple(tuple(r) for r in per_day)
        return cls((d[0], d[1], d[2], d[3], d[4], d[5], d[6]))

    def __str__(self) -> str:
        items: list[tuple[int, int, tuple[int, int]]] = []  # (first day, last day, range)
        for day, ranges in enumerate(self.days):
            for rng in ranges:
                # extend an item of the previous day with the same range
                for pos, (first, last, other) in enumerate(items):
                    if other == rng and last == day - 1:
                        items[pos] = (first, day, other)
                        break
                else:
                    items.append((day, day, rng))
        items.sort(key=lambda item: (item[0], item[2]))
        parts = []
        for first, last, (start, end) in items:
            days = DAY_NAMES[first] if first == last else f"{DAY_NAMES[first]}-{DAY_NAMES[last]}"
            parts.append(f"{days} {_clock(start)}-{_clock(end)}")
        return ", ".join(parts)

    def is_workday(self, day: date) -> bool:
        return bool(self.days[day.weekday()])

    def local_ranges(self, day: date) -> DayRanges:
        return self.days[day.weekday()]

    def intervals(self, day: date, tz: tzinfo) -> list[Interval]:
        """The working hours of that local date as epoch-second intervals."""
        out: list[Interval] = []
        for start, end in self.days[day.weekday()]:
            out.append((local_instant(day, start, tz), local_instant(day, end, tz)))
        return out


def local_instant(day: date, minute: int, tz: tzinfo) -> int:
    """Epoch seconds of ``minute`` minutes after local midnight of ``day`` (wall clock).

    A wall time that a DST change skips resolves as PEP 495 says (fold=0).
    """
    if minute >= _MINUTES_PER_DAY:
        day = day + timedelta(days=minute // _MINUTES_PER_DAY)
        minute %= _MINUTES_PER_DAY
    local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz)
    return int(local.timestamp())


DEFAULT_WORKING_HOURS = WorkingHours.parse("Mon-Fri 09:00-17:00")
