"""Coffee slots: each member's free time as the slot search sees it (`SlotView`), and the
common slot of a group (`common_slot`, `slot_finder`)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta, tzinfo

from micromoments.domain.clearance import near
from micromoments.domain.free_slots import Availability, common_free_slots, fit, working_intervals
from micromoments.domain.holds import SOCIAL_KINDS, STANDING, Hold, HoldKind, HoldStatus
from micromoments.domain.intervals import Interval, clip, intersect, union
from micromoments.domain.working_hours import WorkingHours, local_instant

Slot = Interval  # epoch seconds, half-open
SlotFinder = Callable[[tuple[str, ...]], Slot | None]


@dataclass(frozen=True, slots=True)
class SlotView:
    """One member's week as the coffee slot search sees it (epoch seconds, sorted lists).

    ``working``: working hours in the member's own zone (`free_slots.working_intervals`);
    ``busy``: busy events, every hold, and the clearance around meetings (`clearance.near`:
    a coffee chat or a drop-in never lengthens a back-to-back run); ``excluded``: whole
    local days a coffee chat may not land on (unavailable, or with a social-kind hold
    already); ``overloaded``: whole local days flagged overloaded, preferred; ``minutes``:
    the member's coffee length.
    """

    working: tuple[Interval, ...]
    busy: tuple[Interval, ...] = ()
    excluded: tuple[Interval, ...] = ()
    overloaded: tuple[Interval, ...] = ()
    minutes: int = 20


def _local_days(days: Iterable[date], tz: tzinfo) -> list[Interval]:
    return union(
        (local_instant(d, 0, tz), local_instant(d + timedelta(days=1), 0, tz)) for d in days
    )


def slot_view(
    *,
    hours: WorkingHours,
    tz: tzinfo,
    within: Interval,
    busy: Iterable[Interval] = (),
    meetings: Iterable[Interval] = (),
    holds: Iterable[Hold] = (),
    unavailable_days: Iterable[date] = (),
    overloaded_days: Iterable[date] = (),
    minutes: int = 20,
) -> SlotView:
    """A member's `SlotView` from their hours and zone, busy time, meetings, holds and day
    flags. ``meetings`` are busy widened by the clearance (`clearance.near`); ``busy`` is
    taken as it is (solo blocks).

    Every live hold (planned, placed, kept, moved, adopted) counts as busy, free holds too;
    a day with a live social-kind hold, or a dismissed coffee chat, is excluded whole.
    """
    every = list(holds)
    live = [h for h in every if h.status in STANDING]
    taken = [(int(h.start.timestamp()), int(h.end.timestamp())) for h in live]
    social = {h.day for h in live if h.kind in SOCIAL_KINDS}
    social |= {
        h.day for h in every if h.kind is HoldKind.COFFEE and h.status is HoldStatus.DISMISSED
    }
    return SlotView(
        working=tuple(working_intervals(hours, tz, within)),
        busy=tuple(clip(union([*busy, *near(meetings), *taken]), *within)),
        excluded=tuple(_local_days({*unavailable_days, *social}, tz)),
        overloaded=tuple(_local_days(overloaded_days, tz)),
        minutes=minutes,
    )


def common_slot(
    views: Sequence[SlotView],
    *,
    within: Interval,
    earliest: int | None = None,
    spread: int | None = None,
) -> Slot | None:
    """A slot free for every member, inside everyone's working hours, on nobody's excluded
    day, on the 5-minute grid, as long as the shortest coffee any member chose; a day where
    a member is overloaded wins over any other ("load-aware").

    Without ``spread``: the earliest such slot. With it (a number drawn from the group, see
    `slot_finder`): one of the days that have such a slot, picked by ``spread``, and on it
    the slot nearest the middle of the members' common working hours, so a week's chats
    fan out over its days instead of piling up on Monday morning.
    """
    if not views:
        return None
    length = min(v.minutes for v in views) * 60
    lo = within[0] if earliest is None else max(within[0], earliest)
    people = [Availability(working=v.working, busy=[*v.busy, *v.excluded]) for v in views]
    free = common_free_slots(people, within=(lo, within[1]), minimum=length)
    loaded = union(d for v in views for d in v.overloaded)
    if spread is None:
        return fit(intersect(free, loaded), length, earliest=lo) or fit(free, length, earliest=lo)
    hours = [Availability(working=v.working, busy=()) for v in views]
    days = common_free_slots(hours, within=(lo, within[1]), minimum=length)
    for preferred in (intersect(free, loaded), free):
        choices: list[Slot] = []
        for day in days:
            slot = fit(intersect(preferred, [day]), length, earliest=lo, anchor=sum(day) // 2)
            if slot is not None:
                choices.append(slot)
        if choices:
            return choices[spread % len(choices)]
    return None


def slot_finder(
    views: Mapping[str, SlotView],
    *,
    within: Interval,
    earliest: int | None = None,
    spread: bool = True,
) -> SlotFinder:
    """A ``slot_finder`` for `form_groups` over members' views keyed by pseudonym; with
    ``spread``, each group's day is drawn from its members (`common_slot`)."""

    def find(members: tuple[str, ...]) -> Slot | None:
        if any(m not in views for m in members):
            return None
        draw = None
        if spread:
            digest = hashlib.sha256("|".join(members).encode()).digest()
            draw = int.from_bytes(digest[:4], "big")
        return common_slot(
            [views[m] for m in members], within=within, earliest=earliest, spread=draw
        )

    return find
