"""What micromoments did in one person's week (`Moments`), and the outlook for the next
(`Outlook`), for the digest. Shared moments (coffee chats, drop-ins) count as the person's
calendar shows them, whether they organise them or are a guest (`calendar_moments`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum

from micromoments.domain.day_load import DayLoad
from micromoments.domain.holds import SHARED_KINDS, UPCOMING, Hold, HoldKind, HoldStatus
from micromoments.domain.mirror import MirrorEvent
from micromoments.domain.week_numbers import meeting_time


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
class PlannedMoment:
    """One moment of next week on the person's calendar: its kind and times (any zone;
    the email shows them in the reader's)."""

    kind: HoldKind
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Outlook:
    """Next week: its heaviest day by meeting time (`meeting_time`, as the bars count it),
    and the moments already planned on the person's calendar (``moments``: each of them,
    by start; ``holds_planned`` counts them)."""

    heaviest_day: date | None
    heaviest_minutes: int
    holds_planned: int
    moments: tuple[PlannedMoment, ...] = ()


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
        h.id: PlannedMoment(h.kind, h.start, h.end)
        for h in holds
        if h.kind not in SHARED_KINDS and h.status in UPCOMING and next_week(h.day)
    }
    together = {
        m.id: PlannedMoment(m.kind, m.start, m.end)
        for m in shared
        if m.live and next_week(m.start.astimezone(tz).date())
    }
    found = {**together, **personal}
    planned = len(found)
    moments = tuple(sorted(found.values(), key=lambda m: (m.start, m.end, m.kind.value)))
    if heaviest is None or meeting_time(heaviest) == 0:
        return Outlook(None, 0, planned, moments)
    return Outlook(heaviest.date, meeting_time(heaviest), planned, moments)
