"""Day loads: the per-day metrics of DESIGN.md "Calendar semantics", exactly as written.

For each local date D of the person, W = [D 00:00, D+1 00:00) local and WH = the working
hours of D. Every interval is first clipped to W. Arithmetic is on epoch seconds; minutes
are reported whole, rounded down.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from micromoments.domain.calendar import CalendarEvent, EventKind
from micromoments.domain.intervals import Interval, covers, intersect, subtract, total, union
from micromoments.domain.settings import OrgSettings
from micromoments.domain.working_hours import WorkingHours, local_instant

BACK_TO_BACK_GAP_SECONDS = 5 * 60
FOCUS_GAP_SECONDS = 120 * 60

MEETING_HOURS = "meeting_hours"
BACK_TO_BACK = "back_to_back"
AFTER_HOURS = "after_hours"


@dataclass(frozen=True, slots=True)
class OverloadRules:
    """Thresholds at or above which a day is overloaded (org settings, DESIGN.md defaults)."""

    meeting_minutes_max: int = 300
    back_to_back_minutes_max: int = 120
    back_to_back_meetings_max: int = 3
    after_hours_minutes_max: int = 60

    @classmethod
    def from_settings(cls, settings: OrgSettings) -> OverloadRules:
        return cls(
            meeting_minutes_max=settings.meeting_minutes_max,
            back_to_back_minutes_max=settings.back_to_back_minutes_max,
            back_to_back_meetings_max=settings.back_to_back_meetings_max,
            after_hours_minutes_max=settings.after_hours_minutes_max,
        )


@dataclass(frozen=True, slots=True)
class DayLoad:
    """The metrics of one local date."""

    date: date
    available: bool
    meeting_minutes: int
    after_hours_meeting_minutes: int
    longest_back_to_back_minutes: int
    back_to_back_meetings: int
    focus_minutes: int
    overloaded: bool
    reasons: tuple[str, ...]
    # The longest back-to-back run as epoch seconds, for placing a breather after it.
    longest_run: Interval | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "available": self.available,
            "meeting_minutes": self.meeting_minutes,
            "after_hours_meeting_minutes": self.after_hours_meeting_minutes,
            "longest_back_to_back_minutes": self.longest_back_to_back_minutes,
            "back_to_back_meetings": self.back_to_back_meetings,
            "focus_minutes": self.focus_minutes,
            "overloaded": self.overloaded,
            "reasons": list(self.reasons),
        }


@dataclass(slots=True)
class DaySchedule:
    """One local date of one person, with every counted interval clipped to the day."""

    date: date
    window: Interval
    working: list[Interval]
    meetings: list[Interval] = field(default_factory=list)
    solo: list[Interval] = field(default_factory=list)  # solo blocks and busy out-of-office
    holds: list[Interval] = field(default_factory=list)
    out_of_office: list[Interval] = field(default_factory=list)
    all_day_busy: bool = False

    @property
    def available(self) -> bool:
        if self.all_day_busy:
            return False
        return not (self.working and covers(union(self.out_of_office), self.working))

    def busy(self) -> list[Interval]:
        """Busy time for planning and focus: meetings, solo blocks and our holds."""
        return union(self.meetings + self.solo + self.holds)


def _epoch(value: datetime) -> int:
    return int(value.timestamp())


def schedule_days(
    events: Iterable[CalendarEvent],
    tz: tzinfo,
    hours: WorkingHours,
    first: date,
    days: int,
) -> list[DaySchedule]:
    """Sort a person's counted events into local days ``first`` .. ``first + days - 1``."""
    dates = [first + timedelta(days=i) for i in range(days)]
    bounds = [local_instant(d, 0, tz) for d in dates]
    bounds.append(local_instant(first + timedelta(days=days), 0, tz))
    schedule = [
        DaySchedule(d, (bounds[i], bounds[i + 1]), union(hours.intervals(d, tz)))
        for i, d in enumerate(dates)
    ]
    last_index = days - 1
    for event in events:
        if event.cancelled or event.declined:
            continue
        kind = event.kind
        if kind is EventKind.WORKING_LOCATION:
            continue
        start, end = event.start, event.end
        if not isinstance(start, datetime) or not isinstance(end, datetime):
            if kind is EventKind.OUT_OF_OFFICE or (event.busy and kind is not EventKind.HOLD):
                _block_all_day(schedule, first, start, end, busy=event.busy)
            continue
        s, e = _epoch(start), _epoch(end)
        if e <= s:
            continue
        lo = bisect_right(bounds, s) - 1
        hi = bisect_left(bounds, e) - 1
        if lo < 0:
            lo = 0
        if hi > last_index:
            hi = last_index
        for i in range(lo, hi + 1):
            day = schedule[i]
            w0, w1 = day.window
            piece = (s if s > w0 else w0, e if e < w1 else w1)
            if piece[0] >= piece[1]:
                continue
            if kind is EventKind.HOLD:
                day.holds.append(piece)
            elif kind is EventKind.OUT_OF_OFFICE:
                day.out_of_office.append(piece)
                if event.busy:
                    day.solo.append(piece)
            elif not event.busy:
                continue
            elif kind is EventKind.MEETING:
                day.meetings.append(piece)
            elif kind is EventKind.SOLO:
                day.solo.append(piece)
    return schedule


def _block_all_day(
    schedule: list[DaySchedule], first: date, start: date, end: date, *, busy: bool
) -> None:
    """An all-day event over its dates: busy makes them unavailable; a free out-of-office
    event covers each date's working hours, which makes a workday unavailable."""
    offset = (start - first).days
    span = max((end - start).days, 1)
    for i in range(max(offset, 0), min(offset + span, len(schedule))):
        if busy:
            schedule[i].all_day_busy = True
        else:
            schedule[i].out_of_office.append(schedule[i].window)


def measure(day: DaySchedule, rules: OverloadRules) -> DayLoad:
    """The metrics of one scheduled day."""
    meetings = day.meetings
    merged = union(meetings)
    in_hours = total(intersect(merged, day.working))
    meeting_minutes = in_hours // 60
    after_hours = (total(merged) - in_hours) // 60

    best: tuple[int, int] = (0, 0)  # (span seconds, meetings)
    best_run: Interval | None = None
    if len(meetings) >= 2:
        ordered = sorted(meetings)
        run_start, run_end = ordered[0]
        count = 1
        for start, end in ordered[1:]:
            if start <= run_end + BACK_TO_BACK_GAP_SECONDS:
                count += 1
                if end > run_end:
                    run_end = end
                continue
            if count >= 2 and (run_end - run_start, count) > best:
                best, best_run = (run_end - run_start, count), (run_start, run_end)
            run_start, run_end, count = start, end, 1
        if count >= 2 and (run_end - run_start, count) > best:
            best, best_run = (run_end - run_start, count), (run_start, run_end)
    longest_minutes = best[0] // 60
    run_meetings = best[1]

    available = day.available
    focus = 0  # nobody is focusing on a day off (DESIGN.md "Day metrics")
    reasons: list[str] = []
    if available:
        free = subtract(day.working, day.busy())
        focus = sum(end - start for start, end in free if end - start >= FOCUS_GAP_SECONDS) // 60
        if meeting_minutes >= rules.meeting_minutes_max:
            reasons.append(MEETING_HOURS)
        if (
            longest_minutes >= rules.back_to_back_minutes_max
            or run_meetings >= rules.back_to_back_meetings_max
        ):
            reasons.append(BACK_TO_BACK)
        if after_hours >= rules.after_hours_minutes_max:
            reasons.append(AFTER_HOURS)
    return DayLoad(
        date=day.date,
        available=available,
        meeting_minutes=meeting_minutes,
        after_hours_meeting_minutes=after_hours,
        longest_back_to_back_minutes=longest_minutes,
        back_to_back_meetings=run_meetings,
        focus_minutes=focus,
        overloaded=bool(reasons),
        reasons=tuple(reasons),
        longest_run=best_run,
    )


def day_loads(
    events: Iterable[CalendarEvent],
    tz: tzinfo,
    hours: WorkingHours,
    first: date,
    days: int,
    rules: OverloadRules | None = None,
) -> list[DayLoad]:
    """The day loads of ``days`` local dates from ``first``."""
    rules = rules or OverloadRules()
    return [measure(day, rules) for day in schedule_days(events, tz, hours, first, days)]


def overloaded_days(loads: Sequence[DayLoad]) -> list[DayLoad]:
    return [load for load in loads if load.overloaded]
