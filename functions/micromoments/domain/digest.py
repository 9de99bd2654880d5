"""The weekly digest: the numbers of one person's own week, what micromoments did in it,
the outlook for the next, and one kind suggestion chosen from the numbers (never at
random). Pure: the digest service gathers day loads, holds and shared events from the
Store, the email templates render what this module computes.

The week is the ISO week in the person's time zone. A digest record per person and week
makes sending exactly-once-ish: claimed (a conditional create) before sending, marked sent
after (docs/decisions.md "Weekly digest").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum

from micromoments.domain.calendar import zone
from micromoments.domain.day_load import DayLoad
from micromoments.domain.holds import Hold, HoldKind, HoldStatus
from micromoments.domain.mirror import MirrorEvent


class DigestState(StrEnum):
    CLAIMED = "claimed"
    SENT = "sent"


@dataclass(frozen=True, slots=True)
class DigestRecord:
    person: str
    iso_week: str  # "2026-W48"
    state: DigestState
    at: datetime


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


# -- the numbers ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DayBar:
    """One weekday of the bar chart."""

    date: date
    meeting_minutes: int
    overloaded: bool
    available: bool


@dataclass(frozen=True, slots=True)
class WeekNumbers:
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
    """The week's totals from its day loads (days without a load count as nothing)."""
    days = sorted(
        (load for load in loads if monday <= load.date < monday + timedelta(days=7)),
        key=lambda load: load.date,
    )
    return WeekNumbers(
        meeting_minutes=sum(d.meeting_minutes for d in days),
        longest_run_minutes=max((d.longest_back_to_back_minutes for d in days), default=0),
        focus_minutes=sum(d.focus_minutes for d in days),
        after_hours_minutes=sum(d.after_hours_meeting_minutes for d in days),
        overloaded_days=sum(1 for d in days if d.overloaded),
        days=tuple(DayBar(d.date, d.meeting_minutes, d.overloaded, d.available) for d in days),
    )


class Outcome(StrEnum):
    """What became of a shared moment of the week."""

    NONE = "none"  # there was none
    AHEAD = "ahead"  # still to come
    HAPPENED = "happened"  # its time passed, nobody cancelled or declined it
    DECLINED = "declined"  # the person declined it, or it was called off


@dataclass(frozen=True, slots=True)
class Moments:
    """What micromoments did in the week."""

    breathers_placed: int
    breathers_kept: int
    breathers_dismissed: int
    social_placed: int
    social_kept: int
    coffee: Outcome
    watercooler: Outcome


_PLACED = frozenset(
    {HoldStatus.PLACED, HoldStatus.MOVED, HoldStatus.ADOPTED, HoldStatus.KEPT, HoldStatus.DISMISSED}
)


def week_moments(
    holds: Iterable[Hold],
    shared: Iterable[MirrorEvent],
    monday: date,
    now: datetime,
    tz: tzinfo,
) -> Moments:
    """Counts from the person's own hold records; coffee and watercooler from the shared
    events on their calendar (they may be the organiser or a guest)."""
    week = [h for h in holds if monday <= h.day < monday + timedelta(days=7)]

    def count(kind: HoldKind, statuses: Iterable[HoldStatus]) -> int:
        wanted = set(statuses)
        return sum(1 for h in week if h.kind is kind and h.status in wanted)

    start = datetime.combine(monday, datetime.min.time(), tzinfo=tz)
    return Moments(
        breathers_placed=count(HoldKind.BREATHER, _PLACED),
        breathers_kept=count(HoldKind.BREATHER, [HoldStatus.KEPT, HoldStatus.ADOPTED]),
        breathers_dismissed=count(HoldKind.BREATHER, [HoldStatus.DISMISSED]),
        social_placed=count(HoldKind.SOCIAL, _PLACED),
        social_kept=count(HoldKind.SOCIAL, [HoldStatus.KEPT, HoldStatus.ADOPTED]),
        coffee=_outcome(shared, HoldKind.COFFEE, start, now),
        watercooler=_outcome(shared, HoldKind.WATERCOOLER, start, now),
    )


def _outcome(
    events: Iterable[MirrorEvent], kind: HoldKind, start: datetime, now: datetime
) -> Outcome:
    end = start + timedelta(days=7)
    found = [
        e
        for e in events
        if e.hold_kind == kind.value and isinstance(e.start, datetime) and start <= e.start < end
    ]
    if not found:
        return Outcome.NONE
    if any(not (e.cancelled or e.declined) and isinstance(e.end, datetime) and e.end <= now
           for e in found):  # fmt: skip
        return Outcome.HAPPENED
    if any(not (e.cancelled or e.declined) for e in found):
        return Outcome.AHEAD
    return Outcome.DECLINED


@dataclass(frozen=True, slots=True)
class Outlook:
    """Next week: its heaviest day by meeting time, and the holds already planned."""

    heaviest_day: date | None
    heaviest_minutes: int
    holds_planned: int


def next_week_outlook(loads: Iterable[DayLoad], holds: Iterable[Hold], monday: date) -> Outlook:
    following = monday + timedelta(days=7)
    days = [d for d in loads if following <= d.date < following + timedelta(days=7)]
    heaviest = max(days, key=lambda d: (d.meeting_minutes, -d.date.toordinal()), default=None)
    live = {HoldStatus.PLANNED, HoldStatus.PLACED, HoldStatus.MOVED, HoldStatus.ADOPTED}
    planned = sum(
        1 for h in holds if following <= h.day < following + timedelta(days=7) and h.status in live
    )
    if heaviest is None or heaviest.meeting_minutes == 0:
        return Outlook(None, 0, planned)
    return Outlook(heaviest.date, heaviest.meeting_minutes, planned)


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
    if this.focus_minutes < 240 and not this.empty:
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


def _hours(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{hours} h {rest} min"
    return f"{hours} h" if hours else f"{rest} min"


# -- the digest ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Digest:
    """Everything one weekly email says. ``quiet``: nothing to report (no meeting and no
    hold at all this week) — such a week gets no email (docs/decisions.md)."""

    person: str
    iso_week: str
    timezone: str
    this_week: WeekNumbers
    last_week: WeekNumbers
    moments: Moments
    outlook: Outlook
    suggestion: Suggestion

    @property
    def quiet(self) -> bool:
        m = self.moments
        did = m.breathers_placed + m.social_placed
        shared = m.coffee is not Outcome.NONE or m.watercooler is not Outcome.NONE
        return self.this_week.meeting_minutes == 0 and not did and not shared

    @property
    def trend_minutes(self) -> int | None:
        """This week's meeting time minus last week's; None without last week's numbers."""
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
) -> Digest:
    monday = monday_of(label)
    this = week_numbers(loads, monday)
    last = week_numbers(loads, monday - timedelta(days=7))
    moments = week_moments(holds, shared, monday, now, zone(timezone))
    outlook = next_week_outlook(loads, holds, monday)
    return Digest(
        person=person,
        iso_week=label,
        timezone=timezone,
        this_week=this,
        last_week=last,
        moments=moments,
        outlook=outlook,
        suggestion=suggestion(this, last, moments, outlook),
    )
