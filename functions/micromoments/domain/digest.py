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
after (docs/decisions.md "Weekly digest").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum

from micromoments.domain.calendar import zone
from micromoments.domain.day_load import DayLoad
from micromoments.domain.holds import SHARED_KINDS, UPCOMING, Hold, HoldKind, HoldStatus
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


@dataclass(frozen=True, slots=True)
class CalendarMoment:
    """A shared moment (coffee chat, drop-in) on the person's calendar. ``live``: not
    cancelled, not declined by them, not called off; ``planned``: only its organiser's
    record knows it, it is not on a calendar yet."""

    id: str
    kind: HoldKind
    start: datetime
    end: datetime
    live: bool
    planned: bool = False


def calendar_moments(holds: Iterable[Hold], mirror: Iterable[MirrorEvent]) -> list[CalendarMoment]:
    """The shared moments on the person's calendar, organised by them or by someone else.

    A guest has no hold record of a coffee chat they were invited to (only its organiser
    does), but their mirror keeps the copy on their calendar, recognised by its shared tags:
    the mirror is what the person's calendar shows. An organiser's hold record adds what the
    mirror has not seen yet (a chat planned but not placed, an insert whose echo the next
    sync brings), and where both know a moment it is live only when both say so.
    """
    found: dict[str, CalendarMoment] = {}
    for event in mirror:
        kind = next((k for k in SHARED_KINDS if k.value == event.hold_kind), None)
        if kind is None:
            continue
        if not isinstance(event.start, datetime) or not isinstance(event.end, datetime):
            continue
        live = not (event.cancelled or event.declined)
        found[event.id] = CalendarMoment(event.id, kind, event.start, event.end, live)
    for hold in holds:
        if hold.kind not in SHARED_KINDS:
            continue
        live = hold.status in UPCOMING or hold.status is HoldStatus.KEPT
        seen = found.get(hold.id)
        if seen is None:
            planned = hold.status is HoldStatus.PLANNED
            found[hold.id] = CalendarMoment(
                hold.id, hold.kind, hold.start, hold.end, live, planned=planned
            )
        elif seen.live and not live:
            found[hold.id] = dataclasses.replace(seen, live=False)
    return sorted(found.values(), key=lambda m: (m.start, m.id))


def week_moments(
    holds: Iterable[Hold],
    shared: Iterable[CalendarMoment],
    monday: date,
    now: datetime,
    tz: tzinfo,
) -> Moments:
    """Counts from the person's own hold records; coffee and watercooler from the shared
    moments on their calendar (`calendar_moments`: they may be the organiser or a guest)."""
    week = [h for h in holds if monday <= h.day < monday + timedelta(days=7)]
    moments = list(shared)

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
        coffee=_outcome(moments, HoldKind.COFFEE, start, now),
        watercooler=_outcome(moments, HoldKind.WATERCOOLER, start, now),
    )


def _outcome(
    moments: Iterable[CalendarMoment], kind: HoldKind, start: datetime, now: datetime
) -> Outcome:
    end = start + timedelta(days=7)
    found = [m for m in moments if m.kind is kind and start <= m.start < end]
    if not found:
        return Outcome.NONE
    if any(m.live and not m.planned and m.end <= now for m in found):
        return Outcome.HAPPENED
    if any(m.live and m.end > now for m in found):
        return Outcome.AHEAD
    return Outcome.DECLINED  # declined, called off, or never placed


@dataclass(frozen=True, slots=True)
class Outlook:
    """Next week: its heaviest day by meeting time (`meeting_time`, as the bars count it),
    and the moments already planned on the person's calendar."""

    heaviest_day: date | None
    heaviest_minutes: int
    holds_planned: int


def next_week_outlook(
    loads: Iterable[DayLoad],
    holds: Iterable[Hold],
    shared: Iterable[CalendarMoment],
    monday: date,
    tz: tzinfo,
) -> Outlook:
    """``holds_planned``: the person's own live holds of next week, and the live shared
    moments on their calendar that week, theirs to organise or not, each once."""
    following = monday + timedelta(days=7)
    days = [d for d in loads if following <= d.date < following + timedelta(days=7)]
    heaviest = max(days, key=lambda d: (meeting_time(d), -d.date.toordinal()), default=None)

    def next_week(day: date) -> bool:
        return following <= day < following + timedelta(days=7)

    personal = {
        h.id
        for h in holds
        if h.kind not in SHARED_KINDS and h.status in UPCOMING and next_week(h.day)
    }
    together = {m.id for m in shared if m.live and next_week(m.start.astimezone(tz).date())}
    planned = len(personal | together)
    if heaviest is None or meeting_time(heaviest) == 0:
        return Outlook(None, 0, planned)
    return Outlook(heaviest.date, meeting_time(heaviest), planned)


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
) -> Digest:
    """``shared``: the person's mirror (or its shared events); ``observed_since``: their
    first scan, when known (`SyncState.observed_since`)."""
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
    )
