"""The numbers of one person's week for the digest: a bar per day and the week's totals.

A day's meeting time is the same number everywhere the digest shows it (the bars, the
week's total, the trend, next week's busiest day): every meeting minute of that day, inside
working hours or outside them (`meeting_time`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from micromoments.domain.day_load import DayLoad


def meeting_time(load: DayLoad) -> int:
    """A day's meeting time as the digest shows it: every meeting minute of the day, inside
    working hours and outside them (on a weekend they are all outside)."""
    return load.meeting_minutes + load.after_hours_meeting_minutes


@dataclass(frozen=True, slots=True)
class DayBar:
    """One weekday of the bar chart. ``meeting_minutes`` is the day's `meeting_time`, of
    which ``after_hours_minutes`` fell outside working hours; ``reasons`` say why an
    overloaded day is (`day_load` reason names)."""

    date: date
    meeting_minutes: int
    overloaded: bool
    available: bool
    after_hours_minutes: int = 0
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class WeekNumbers:
    """A week's totals. ``meeting_minutes`` is the sum of its days' `meeting_time`;
    ``after_hours_minutes`` the part of it outside working hours. No days: the week was
    never observed (nothing stored, or before the person's first scan)."""

    meeting_minutes: int
    longest_run_minutes: int
    focus_minutes: int
    after_hours_minutes: int
    overloaded_days: int
    days: tuple[DayBar, ...]

    @property
    def meeting_hours(self) -> float:
        return round(self.meeting_minutes / 60, 1)

    @property
    def focus_hours(self) -> float:
        return round(self.focus_minutes / 60, 1)

    @property
    def empty(self) -> bool:
        return not self.days


def week_numbers(loads: Iterable[DayLoad], monday: date) -> WeekNumbers:
    """The week's totals from its day loads (days without a load count as nothing). The
    totals are sums over the bars, so the two cannot disagree."""
    loaded = sorted(
        (load for load in loads if monday <= load.date < monday + timedelta(days=7)),
        key=lambda load: load.date,
    )
    days = tuple(
        DayBar(
            d.date,
            meeting_time(d),
            d.overloaded,
            d.available,
            after_hours_minutes=d.after_hours_meeting_minutes,
            reasons=d.reasons,
        )
        for d in loaded
    )
    return WeekNumbers(
        meeting_minutes=sum(bar.meeting_minutes for bar in days),
        longest_run_minutes=max((d.longest_back_to_back_minutes for d in loaded), default=0),
        focus_minutes=sum(d.focus_minutes for d in loaded),
        after_hours_minutes=sum(bar.after_hours_minutes for bar in days),
        overloaded_days=sum(1 for bar in days if bar.overloaded),
        days=days,
    )


def unobserved(monday: date) -> WeekNumbers:
    """A week we never saw: no days, no totals (never "0 h")."""
    return week_numbers((), monday)


def observed(monday: date, tz: tzinfo, observed_since: datetime | None) -> bool:
    """Whether the week of ``monday`` was observed: the person's calendar was being scanned
    before it ended. ``observed_since`` is their first scan (`SyncState.observed_since`);
    None (a person scanned before it was recorded) counts every stored week."""
    if observed_since is None:
        return True
    end = datetime.combine(monday + timedelta(days=7), datetime.min.time(), tzinfo=tz)
    return observed_since < end
