"""Reconcile: from the calendar as it is and the holds we placed, to the writes that make
it right (DESIGN.md "Holds"). Pure: the scan service does the I/O around it.

For each hold the Store records as on the calendar (`holds.ON_CALENDAR`: placed, moved,
adopted):
- gone from the calendar or cancelled there -> ``dismissed`` by the person (our own deletes
  are explained by the journal, which the scan resolves first); that kind is not placed
  again on that date;
- its time or content changed (times or etag differ from our last write) -> ``adopted``:
  ours still, but never changed again. After a patch that went out more than once, the
  next scan takes one new etag with times and busy/free as written for a late copy of
  that patch landing, not for an edit (docs/decisions.md "A late copy of our own patch");
- its time has passed intact -> ``kept``;
- a new meeting or solo block lands on it (or, for social time, comes closer than the
  clearance, `clearance.too_close`), its day became unavailable or quiet, or the
  person no longer wants that kind -> it moves to another free slot that day (same id, a
  patch) or is removed.
Then the planner fills what the caps still allow; a social hold's busy/free follows flex.
A person who is ``leaving`` gets every future hold removed and nothing new.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from micromoments.domain.calendar import CalendarEvent, EventKind, zone
from micromoments.domain.clearance import keeps_clear, too_close
from micromoments.domain.day_load import (
    DayLoad,
    DaySchedule,
    OverloadRules,
    measure,
    schedule_days,
)
from micromoments.domain.holds import ON_CALENDAR, SHARED_KINDS, Hold, HoldKind, HoldStatus
from micromoments.domain.intervals import subtract, total, union
from micromoments.domain.journal import WriteOp
from micromoments.domain.mirror import MirrorEvent
from micromoments.domain.people import Person
from micromoments.domain.planner import ExistingHold, existing_holds, plan_holds, week_start
from micromoments.domain.settings import OrgSettings


@dataclass(frozen=True, slots=True)
class Write:
    """A Calendar write and the hold record to store once it succeeded (with the guest
    list of a shared event when ``attendees_changed``)."""

    op: WriteOp
    hold: Hold
    attendees_changed: bool = False


@dataclass(frozen=True, slots=True)
class Reconciliation:
    loads: list[DayLoad]
    writes: list[Write] = field(default_factory=list)
    records: list[Hold] = field(default_factory=list)  # status changes without a write


def analysis_window(now: datetime, tz_name: str, planning_weeks: int) -> tuple[date, int]:
    """First day and day count of the loads a scan keeps: the previous ISO week through
    the end of the planning window."""
    today = now.astimezone(zone(tz_name)).date()
    first = week_start(today) - timedelta(weeks=1)
    return first, 7 * (planning_weeks + 1)


def reconcile(
    person: Person,
    settings: OrgSettings,
    *,
    now: datetime,
    events: Sequence[CalendarEvent],
    remote_holds: Mapping[str, MirrorEvent],
    stored: Sequence[Hold],
    leaving: bool = False,
    unmet: Mapping[tuple[int, int], frozenset[HoldKind]] | None = None,
) -> Reconciliation:
    """The writes and status changes that bring the calendar in line with the rules.

    ``events`` are the person's expanded occurrences over the analysis window (our holds
    among them as ``HOLD`` events); ``remote_holds`` our events as the calendar shows them
    (by hold id, cancelled ones included); ``stored`` the Store's hold records; ``unmet``
    the shared kinds each paired week gave the person nothing of (`planner.plan_holds`).
    """
    tz = person.zone(settings)
    zone_name = tz.key
    hours = person.hours(settings.working_hours)
    first, days = analysis_window(now, zone_name, settings.planning_weeks)
    horizon = datetime.combine(first, datetime.min.time(), tzinfo=tz)

    records: list[Hold] = []
    current: list[Hold] = []
    shared = [h for h in stored if h.kind in SHARED_KINDS]  # their organiser's: `shared.py`
    stored = [h for h in stored if h.kind not in SHARED_KINDS]
    for known in stored:
        if known.status not in ON_CALENDAR or known.end <= horizon:
            continue
        remote = remote_holds.get(known.id)
        if remote is None or remote.cancelled:
            records.append(dataclasses.replace(known, status=HoldStatus.DISMISSED))
            continue
        if known.status is not HoldStatus.ADOPTED and _edited(known, remote):
            adopted = dataclasses.replace(
                known,
                status=HoldStatus.ADOPTED,
                start=_instant(remote.start, known.start),
                end=_instant(remote.end, known.end),
                etag=remote.etag,
                late_copy_possible=False,
            )
            records.append(adopted)
            current.append(adopted)
            continue
        hold = known
        if known.late_copy_possible:  # settled: from now on any etag change is the person's
            hold = dataclasses.replace(known, etag=remote.etag, late_copy_possible=False)
            if hold.end > now:
                records.append(hold)
        if hold.end <= now:
            if hold.status is not HoldStatus.ADOPTED:
                records.append(dataclasses.replace(hold, status=HoldStatus.KEPT))
            continue
        current.append(hold)

    rules = OverloadRules.from_settings(settings)
    # The day loads as the calendar stands, our holds included (they are busy for focus).
    loads = [measure(day, rules) for day in schedule_days(events, tz, hours, first, days)]
    if leaving:
        removals = [
            Write(WriteOp.DELETE, dataclasses.replace(h, status=HoldStatus.REMOVED))
            for h in current
            if h.end > now
        ]
        return Reconciliation(loads, removals, records)

    # Which live holds no longer fit where they are?
    own_ids = {h.id for h in current}
    others = [e for e in events if not (e.kind is EventKind.HOLD and e.hold_id in own_ids)]
    schedule = schedule_days(others, tz, hours, first, days)
    by_day = {day.date: (day, load) for day, load in zip(schedule, loads, strict=True)}
    prefs = person.preferences
    displaced: dict[str, Hold] = {}
    for hold in current:
        if hold.status is HoldStatus.ADOPTED or hold.end <= now:
            continue
        slot = (int(hold.start.timestamp()), int(hold.end.timestamp()))
        entry = by_day.get(hold.day)
        if entry is None:
            continue
        day, load = entry
        busy = union(day.meetings + day.solo)
        fits = (
            load.available
            and prefs.wants(hold.kind)
            and hold.day.weekday() not in prefs.quiet_days
            and not subtract([slot], day.working)  # inside working hours
            and not any(s < slot[1] and slot[0] < e for s, e in busy)
            and not (keeps_clear(hold.kind) and too_close(slot, day.meetings))
        )
        if not fits:
            displaced[hold.id] = hold

    staying = [h for h in current if h.id not in displaced]
    staying_ids = {h.id for h in staying}
    # The planner sees the calendar with the displaced holds lifted off it.
    planning_events = [
        e for e in events if not (e.kind is EventKind.HOLD and e.hold_id in displaced)
    ]
    plan_schedule = schedule_days(planning_events, tz, hours, first, days)
    existing = [ExistingHold(h.id, h.kind, h.day) for h in staying]
    # our events on the calendar that the Store does not know of still count; a cancelled
    # one counts as dismissed only through the records above (the journal explains ours)
    existing += [h for h in existing_holds(planning_events, tz) if not h.cancelled]
    existing += [
        ExistingHold(h.id, h.kind, h.day, cancelled=True)
        for h in list(stored) + records
        if h.status is HoldStatus.DISMISSED
    ]
    # planned shared holds are not on the calendar yet, but take their room already
    existing += [
        ExistingHold(h.id, h.kind, h.day) for h in shared if h.status is HoldStatus.PLANNED
    ]
    generations = _generations(stored)
    planned = plan_holds(
        person,
        plan_schedule,
        loads,
        settings,
        tz=tz,
        now=now,
        existing=existing,
        generations=generations,
        unmet=unmet,
    )
    writes: list[Write] = []
    for hold in planned:
        if hold.id in staying_ids:
            continue
        if hold.id in displaced:
            old = displaced.pop(hold.id)
            moved = dataclasses.replace(hold, status=HoldStatus.MOVED, etag=old.etag)
            writes.append(Write(WriteOp.PATCH, moved))
        else:
            placed = dataclasses.replace(hold, status=HoldStatus.PLACED)
            writes.append(Write(WriteOp.INSERT, placed))
    for hold in displaced.values():
        writes.append(Write(WriteOp.DELETE, dataclasses.replace(hold, status=HoldStatus.REMOVED)))

    writes += _flex(staying, plan_schedule, planned, settings, now)
    return Reconciliation(loads, writes, records)


def _flex(
    staying: Sequence[Hold],
    schedule: Sequence[DaySchedule],
    planned: Sequence[Hold],
    settings: OrgSettings,
    now: datetime,
) -> list[Write]:
    """Social holds turn busy when the day's remaining free time falls under the org's
    threshold, and free again when it rises above it."""
    days = {d.date: d for d in schedule}
    placed_by_day: dict[date, list[tuple[int, int]]] = {}
    for hold in planned:
        slot = (int(hold.start.timestamp()), int(hold.end.timestamp()))
        placed_by_day.setdefault(hold.day, []).append(slot)
    writes = []
    for hold in staying:
        if hold.kind is not HoldKind.SOCIAL or hold.status is HoldStatus.ADOPTED:
            continue
        if hold.start <= now or hold.day not in days:
            continue
        day = days[hold.day]
        taken = union(day.busy() + placed_by_day.get(hold.day, []))
        free = total(subtract(day.working, taken)) // 60
        busy = free < settings.flex_free_minutes
        if busy != hold.busy:
            writes.append(Write(WriteOp.PATCH, dataclasses.replace(hold, busy=busy)))
    return writes


def _edited(hold: Hold, remote: MirrorEvent) -> bool:
    if remote.start != hold.start or remote.end != hold.end:
        return True
    if hold.late_copy_possible:
        return remote.busy != hold.busy
    return hold.etag is not None and remote.etag is not None and remote.etag != hold.etag


def _instant(value: datetime | date, fallback: datetime) -> datetime:
    return value if isinstance(value, datetime) else fallback


def _generations(stored: Sequence[Hold]) -> dict[tuple[HoldKind, date], int]:
    """A hold we removed keeps its id burnt at Google (kept as cancelled, 409 on reuse):
    a new hold of that kind and date takes the next generation."""
    generations: dict[tuple[HoldKind, date], int] = {}
    for hold in stored:
        if hold.status is HoldStatus.REMOVED:
            key = (hold.kind, hold.day)
            generations[key] = max(generations.get(key, 0), hold.generation + 1)
    return generations
