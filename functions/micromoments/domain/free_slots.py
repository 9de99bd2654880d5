"""Free-slot finding for one person or many at once, by a sweep line over epoch seconds.

Each person brings their own working hours (in their own time zone) and busy time; a
common slot is one where everybody is inside working hours and nobody is busy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from micromoments.domain.intervals import Interval, clip, subtract, union
from micromoments.domain.working_hours import WorkingHours

SLOT_ALIGNMENT_SECONDS = 5 * 60


@dataclass(frozen=True, slots=True)
class Availability:
    """One person's working intervals and busy intervals, as epoch seconds."""

    working: Sequence[Interval]
    busy: Sequence[Interval]


def working_intervals(hours: WorkingHours, tz: tzinfo, within: Interval) -> list[Interval]:
    """The working hours that fall inside ``within``, for a person in zone ``tz``."""
    first = datetime.fromtimestamp(within[0], tz).date() - timedelta(days=1)
    last = datetime.fromtimestamp(within[1], tz).date() + timedelta(days=1)
    out: list[Interval] = []
    day = first
    while day <= last:
        out.extend(hours.intervals(day, tz))
        day += timedelta(days=1)
    return clip(union(out), within[0], within[1])


def free_slots(person: Availability, *, within: Interval, minimum: int = 1) -> list[Interval]:
    """A person's free intervals inside working hours of at least ``minimum`` seconds."""
    free = subtract(clip(union(person.working), *within), union(person.busy))
    return [(s, e) for s, e in free if e - s >= minimum]


def common_free_slots(
    people: Sequence[Availability], *, within: Interval, minimum: int = 1
) -> list[Interval]:
    """Intervals of at least ``minimum`` seconds where every person is working and free.

    One sweep over all boundaries: a counter of people in working hours and one of busy
    people; a point is free for all when the first equals ``len(people)`` and the second
    is zero. O(B log B) for B boundaries.
    """
    if not people:
        return []
    lo, hi = within
    deltas: list[tuple[int, int, int]] = []  # (time, working delta, busy delta)
    for person in people:
        for s, e in clip(union(person.working), lo, hi):
            deltas.append((s, 1, 0))
            deltas.append((e, -1, 0))
        for s, e in clip(union(person.busy), lo, hi):
            deltas.append((s, 0, 1))
            deltas.append((e, 0, -1))
    deltas.sort()
    everyone = len(people)
    working = busy = 0
    out: list[Interval] = []
    open_at: int | None = None
    i = 0
    while i < len(deltas):
        moment = deltas[i][0]
        while i < len(deltas) and deltas[i][0] == moment:
            working += deltas[i][1]
            busy += deltas[i][2]
            i += 1
        free = working == everyone and busy == 0
        if free and open_at is None:
            open_at = moment
        elif not free and open_at is not None:
            if moment - open_at >= minimum:
                out.append((open_at, moment))
            open_at = None
    return out


def align_up(instant: int, step: int = SLOT_ALIGNMENT_SECONDS) -> int:
    return -(-instant // step) * step


def align_down(instant: int, step: int = SLOT_ALIGNMENT_SECONDS) -> int:
    return instant // step * step


def fit(
    free: Sequence[Interval], length: int, *, earliest: int, anchor: int | None = None
) -> Interval | None:
    """A slot of ``length`` seconds on the 5-minute grid inside one free interval.

    Starts no earlier than ``earliest``. With an ``anchor``, the start closest to it wins
    (ties go to the earlier start); otherwise the earliest start wins.
    """
    best: Interval | None = None
    best_distance = 0
    for s, e in free:
        first = align_up(max(s, earliest))
        last = align_down(e - length)
        if first > last:
            continue
        if anchor is None:
            return (first, first + length)
        start = min(max(align_up(anchor), first), last)
        distance = abs(start - anchor)
        if best is None or distance < best_distance:
            best, best_distance = (start, start + length), distance
    return best
