"""The weekly digest: the numbers of one person's own week, what micromoments did in it,
the outlook for the next, and one kind suggestion chosen from the numbers (never at
random). Pure: the digest service gathers day loads, holds and shared events from the
Store, the email templates render what this module computes.

The week is the ISO week in the person's time zone. A day's meeting time is the same
number everywhere the digest shows it (the bars, the week's total, the trend, next week's
busiest day): every meeting minute of that day, inside working hours or outside them
(`meeting_time`). Shared moments (coffee chats, drop-ins) count as the person's calendar
shows them, whether they organise them or are a guest (`calendar_moments`).

A digest record per person and week
makes sending exactly-once-ish: claimed (a conditional create) before sending, marked sent
after (docs/decisions.md "Weekly digest"); it lives in `digest_record`, which the Store
loads without the rest of this module.

The week's numbers live in `week_numbers`, its moments and next week's outlook in
`week_moments`; their public names are importable from here too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from micromoments.domain.calendar import zone
from micromoments.domain.day_load import DayLoad
from micromoments.domain.digest_record import DigestRecord, DigestState
from micromoments.domain.holds import Hold
from micromoments.domain.mirror import MirrorEvent
from micromoments.domain.week_moments import (
    CalendarMoment,
    Moments,
    Outcome,
    Outlook,
    PlannedMoment,
    calendar_moments,
    next_week_outlook,
    week_moments,
)
from micromoments.domain.week_numbers import (
    DayBar,
    WeekNumbers,
    meeting_time,
    observed,
    unobserved,
    week_numbers,
)

__all__ = [
    "LITTLE_FOCUS_MINUTES",
    "CalendarMoment",
    "DayBar",
    "Digest",
    "DigestRecord",
    "DigestState",
    "Moments",
    "Outcome",
    "Outlook",
    "PlannedMoment",
    "Suggestion",
    "WeekNumbers",
    "build_digest",
    "calendar_moments",
    "due_week",
    "iso_label",
    "meeting_time",
    "monday_of",
    "next_week_outlook",
    "observed",
    "suggestion",
    "unobserved",
    "week_moments",
    "week_numbers",
]


def iso_label(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def monday_of(label: str) -> date:
    year, _, week = label.partition("-W")
    return date.fromisocalendar(int(year), int(week), 1)


# -- when a digest is due ----------------------------------------------------------------------


def due_week(now: datetime, tz: tzinfo, weekday: int, minute: int) -> str | None:
    """The ISO week whose digest is due at ``now`` for someone in ``tz``: the local week,
    once its send time (``weekday``, ``minute`` after local midnight) has been reached;
    None before that. A person whose Friday 15:00 is Saturday in UTC gets it on their
    Friday, because the week and the time are theirs."""
    local = now.astimezone(tz)
    monday = local.date() - timedelta(days=local.weekday())
    send_day = monday + timedelta(days=weekday)
    reached = (local.date(), local.hour * 60 + local.minute) >= (send_day, minute)
    return iso_label(monday) if reached else None


# -- the suggestion --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Suggestion:
    rule: str  # which rule chose it (tests and metrics)
    text: str


def suggestion(
    this: WeekNumbers, last: WeekNumbers, moments: Moments, outlook: Outlook
) -> Suggestion:
    """One concrete, kind suggestion: the first rule that the numbers meet, in this order
    (most pressing first). Deterministic: the same week always gets the same words."""
    weekday = outlook.heaviest_day.strftime("%A") if outlook.heaviest_day else ""
    if this.after_hours_minutes >= 120:
        return Suggestion(
            "after_hours",
            f"{_hours(this.after_hours_minutes)} of meetings fell outside your working hours "
            "this week. Is there one you could move into the day, or decline?",
        )
    if this.longest_run_minutes >= 180:
        return Suggestion(
            "long_run",
            f"Your longest run of back-to-back meetings lasted {_hours(this.longest_run_minutes)}."
            " Ending a meeting five minutes early gives everyone in the next one a breath.",
        )
    if moments.breathers_dismissed >= 2 and moments.breathers_dismissed >= moments.breathers_kept:
        return Suggestion(
            "breathers_dismissed",
            "You deleted most of your breathers this week. If 15 minutes is too long, a "
            "10-minute breather may fit better: you can change it in your preferences.",
        )
    if outlook.heaviest_day is not None and outlook.heaviest_minutes >= 300:
        return Suggestion(
            "heavy_day_ahead",
            f"Next {weekday} already holds {_hours(outlook.heaviest_minutes)} of meetings. "
            "Guard a short walk or lunch away from the screen that day.",
        )
    if this.focus_minutes < _little_focus(this) and not this.empty:
        return Suggestion(
            "little_focus",
            "You had little uninterrupted time this week. Blocking one two-hour slot next "
            "week can make the rest of the week feel lighter.",
        )
    if moments.coffee is Outcome.HAPPENED:
        return Suggestion(
            "coffee_happened",
            "You had a coffee chat this week. A short thank-you message to your partner "
            "keeps the connection going.",
        )
    if this.meeting_minutes > last.meeting_minutes + 120 and not last.empty:
        return Suggestion(
            "more_meetings",
            f"You spent {_hours(this.meeting_minutes - last.meeting_minutes)} more in meetings "
            "than last week. Which one could become an email?",
        )
    return Suggestion(
        "steady",
        "A steady week. Consider sharing your social time with a colleague you have not "
        "talked to in a while.",
    )


LITTLE_FOCUS_MINUTES = 240  # in a week of five working days


def _little_focus(week: WeekNumbers) -> int:
    """Focus under this is little: 4 h a week, less for each day away (an unavailable day
    has no focus time, DESIGN.md "Day metrics"; a week off is not a week without focus)."""
    away = min(5, sum(1 for d in week.days if not d.available))
    return LITTLE_FOCUS_MINUTES * (5 - away) // 5


def _hours(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{hours} h {rest} min"
    return f"{hours} h" if hours else f"{rest} min"


# -- the digest ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Digest:
    """Everything one weekly email says. ``quiet``: nothing to report (no meeting and no
    hold at all this week) — such a week gets no email (docs/decisions.md).
    ``first_week``: the person's first scan fell in this week, so last week was never
    observed and has no numbers."""

    person: str
    iso_week: str
    timezone: str
    this_week: WeekNumbers
    last_week: WeekNumbers
    moments: Moments
    outlook: Outlook
    suggestion: Suggestion
    first_week: bool = False
    coffee_with: tuple[str, ...] = ()  # the coffee partners' first names (never stored)

    @property
    def quiet(self) -> bool:
        m = self.moments
        did = m.breathers_placed + m.social_placed
        shared = m.coffee is not Outcome.NONE or m.watercooler is not Outcome.NONE
        return self.this_week.meeting_minutes == 0 and not did and not shared

    @property
    def trend_minutes(self) -> int | None:
        """This week's meeting time minus last week's; None without last week's numbers
        (nothing stored, or a week before the person's first scan: never "0 h")."""
        if self.last_week.empty:
            return None
        return self.this_week.meeting_minutes - self.last_week.meeting_minutes


def build_digest(
    *,
    person: str,
    timezone: str,
    label: str,
    loads: Sequence[DayLoad],
    holds: Sequence[Hold],
    shared: Sequence[MirrorEvent],
    now: datetime,
    observed_since: datetime | None = None,
    coffee_with: Sequence[str] = (),
) -> Digest:
    """``shared``: the person's mirror (or its shared events); ``observed_since``: their
    first scan, when known (`SyncState.observed_since`); ``coffee_with``: the first names
    of the week's coffee partners (shown only when the chat happened)."""
    monday = monday_of(label)
    tz = zone(timezone)
    before = monday - timedelta(days=7)
    this = (
        week_numbers(loads, monday) if observed(monday, tz, observed_since) else unobserved(monday)
    )
    last = (
        week_numbers(loads, before) if observed(before, tz, observed_since) else unobserved(before)
    )
    moments_on_calendar = calendar_moments(holds, shared)
    moments = week_moments(holds, moments_on_calendar, monday, now, tz)
    outlook = next_week_outlook(loads, holds, moments_on_calendar, monday, tz)
    start = datetime.combine(monday, datetime.min.time(), tzinfo=tz)
    first_week = observed_since is not None and start <= observed_since < start + timedelta(days=7)
    return Digest(
        person=person,
        iso_week=label,
        timezone=timezone,
        this_week=this,
        last_week=last,
        moments=moments,
        outlook=outlook,
        suggestion=suggestion(this, last, moments, outlook),
        first_week=first_week,
        coffee_with=tuple(coffee_with) if moments.coffee is Outcome.HAPPENED else (),
    )
