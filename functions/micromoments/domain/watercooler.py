"""Team watercooler: once a week per team, a short drop-in at the slot most members can make.

The slot search is a sweep line over epoch seconds. Every member's working hours bound it
(the drop-in lies inside the overlap of all of them); each member's busy time and excluded
days (`coffee_slots.SlotView`) only take that member out of the count, they never rule a slot
out. People appear only as pseudonyms.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from micromoments.domain.coffee_slots import SlotView
from micromoments.domain.free_slots import Availability, align_down, align_up, common_free_slots
from micromoments.domain.intervals import Interval, union

DROP_IN_MINUTES = 15
MIN_FREE = 2  # a drop-in fewer than two members can make is not placed


@dataclass(frozen=True, slots=True)
class DropIn:
    """The week's drop-in of one team: its slot (UTC) and the members free at it.

    ``free``: sorted pseudonyms of the members with no busy time and no excluded day on the
    slot; at least two. Whoever is not in it may still be invited.
    """

    start: datetime  # UTC
    end: datetime
    free: tuple[str, ...]

    @property
    def slot(self) -> Interval:
        """The slot as epoch seconds, half-open."""
        return (int(self.start.timestamp()), int(self.end.timestamp()))


def working_overlap(views: Mapping[str, SlotView], within: Interval) -> list[Interval]:
    """Where every member is inside working hours, cut to ``within`` (sorted, disjoint).

    Empty without members, or when one member's hours never meet another's.
    """
    people = [Availability(working=v.working, busy=()) for v in views.values()]
    return common_free_slots(people, within=within)


def _blocked_starts(view: SlotView, length: int) -> list[Interval]:
    """The starts ``t`` whose slot ``[t, t + length)`` meets the member's busy time or an
    excluded day, as sorted, disjoint half-open ranges of integer seconds.

    A slot meets ``[s, e)`` when ``s - length < t < e``, so each taken interval blocks the
    starts ``[s - length + 1, e)``; merging per member keeps one member from counting twice.
    """
    taken = union([*view.busy, *view.excluded])
    return union((s - length + 1, e) for s, e in taken)


def _is_free(blocked: list[Interval], start: int) -> bool:
    k = bisect_right(blocked, start, key=lambda r: r[0]) - 1
    return k < 0 or blocked[k][1] <= start


def drop_in_slot(
    views: Mapping[str, SlotView],
    *,
    within: Interval,
    minutes: int = DROP_IN_MINUTES,
    earliest: int | None = None,
) -> DropIn | None:
    """The slot of ``minutes`` free for the most members, or None when fewer than two are.

    Candidates: starts on the 5-minute grid, at or after ``earliest`` (default: the start of
    ``within``), whose whole slot lies inside the working hours of every member
    (`working_overlap`). A member is free at a candidate when the slot meets none of their
    busy time (which holds every live hold) and none of their excluded days (a day with a
    social-kind hold already, so a second one, this drop-in, does not count them). Among
    the candidates with the most free members the earliest start wins.

    One sweep over the candidate ranges and each member's blocked starts (`_blocked_starts`):
    O(B log B) for B busy and excluded intervals, whatever the grid's size.
    """
    if minutes <= 0:
        raise ValueError("a drop-in lasts at least a minute")
    if len(views) < MIN_FREE:
        return None
    length = minutes * 60
    lo = within[0] if earliest is None else max(within[0], earliest)
    # (time, candidate-range delta, blocked-member delta); candidate ranges are disjoint
    events: list[tuple[int, int, int]] = []
    for s, e in working_overlap(views, (lo, within[1])):
        first, last = align_up(s), align_down(e - length)
        if first <= last:
            events.append((first, 1, 0))
            events.append((last + 1, -1, 0))
    if not events:
        return None
    blocked = {m: _blocked_starts(v, length) for m, v in views.items()}
    for ranges in blocked.values():
        for s, e in ranges:
            events.append((s, 0, 1))
            events.append((e, 0, -1))
    events.sort()
    team = len(views)
    inside = busy = 0
    best: int | None = None
    best_free = MIN_FREE - 1
    i = 0
    while i < len(events) and best_free < team:
        moment = events[i][0]
        while i < len(events) and events[i][0] == moment:
            inside += events[i][1]
            busy += events[i][2]
            i += 1
        # counts hold on [moment, next event); an open candidate range always ends later
        if inside and team - busy > best_free:
            start = align_up(moment)
            if start < events[i][0]:
                best, best_free = start, team - busy
    if best is None:
        return None
    free = tuple(sorted(m for m, ranges in blocked.items() if _is_free(ranges, best)))
    return DropIn(
        start=datetime.fromtimestamp(best, UTC),
        end=datetime.fromtimestamp(best + length, UTC),
        free=free,
    )
