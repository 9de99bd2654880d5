"""The picture model: a person's week before and after the runs, as kinds and local times
on the days of one week (never a title)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from micromoments.domain.calendar import EventKind
from micromoments.domain.holds import ON_CALENDAR, Hold, HoldKind

if TYPE_CHECKING:
    from micromoments.adapters.table import TableStore
    from micromoments.domain.day_load import DayLoad
    from micromoments.domain.settings import OrgSettings
    from micromoments.local.synthetic import SyntheticPerson

HOLD_KINDS = tuple(kind.value for kind in HoldKind)


@dataclass(frozen=True, slots=True)
class Block:
    """Something on the picture: a kind, a day of the shown week (0 = Monday) and local
    wall-clock minutes from midnight. Never a title."""

    kind: str
    day: int
    start: int
    end: int


@dataclass
class Picture:
    email: str
    team: str | None
    timezone: str
    monday: date
    working: list[tuple[int, int] | None]
    loads: dict[date, DayLoad]
    all_day: dict[int, list[str]]
    calendar: list[Block]
    holds: list[Block]
    # What the report needs to say why a day got no breather: the person's choices and
    # caps as the planner read them, their local date when the results were collected,
    # and each overloaded day's longest back-to-back run in local minutes.
    wants: frozenset[str] = frozenset(HOLD_KINDS)
    quiet_days: frozenset[int] = frozenset()
    holds_cap: int = 0
    today: date | None = None
    runs: dict[int, tuple[int, int]] = field(default_factory=dict)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _blocks(kind: str, start: datetime, end: datetime, tz: tzinfo, monday: date) -> Iterable[Block]:
    """The parts of [start, end) on each local day of the week starting ``monday``."""
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    day = local_start.date()
    while day <= local_end.date():
        index = (day - monday).days
        if 0 <= index < 7:
            first = local_start.hour * 60 + local_start.minute if day == local_start.date() else 0
            last = local_end.hour * 60 + local_end.minute if day == local_end.date() else 1440
            if last > first:
                yield Block(kind, index, first, last)
        day += timedelta(days=1)


def picture_of(
    synthetic: SyntheticPerson,
    store: TableStore,
    settings: OrgSettings,
    monday: date,
    shared: Sequence[tuple[str, datetime, datetime]] = (),
) -> Picture:
    from micromoments.local.synthetic import normalised_events

    person = store.get_person(synthetic.email) or synthetic.person
    tz = person.zone(settings)
    zone_name = tz.key
    hours = person.hours(settings.working_hours)
    working: list[tuple[int, int] | None] = []
    for index in range(7):
        ranges = hours.days[index]
        working.append((ranges[0][0], ranges[-1][1]) if ranges else None)
    calendar: list[Block] = []
    all_day: dict[int, list[str]] = {}
    for event in normalised_events(synthetic):
        if event.declined or event.cancelled or not event.busy:
            continue
        if event.kind in (EventKind.WORKING_LOCATION, EventKind.HOLD):
            continue
        start, end = event.start, event.end
        if isinstance(start, datetime) and isinstance(end, datetime):
            kind = {EventKind.MEETING: "meeting", EventKind.OUT_OF_OFFICE: "out_of_office"}.get(
                event.kind, "solo"
            )
            calendar.extend(_blocks(kind, start, end, tz, monday))
            continue
        label = "out of office" if event.kind is EventKind.OUT_OF_OFFICE else "all day"
        day = start.date() if isinstance(start, datetime) else start
        last = end.date() if isinstance(end, datetime) else end
        while day < last:
            index = (day - monday).days
            if 0 <= index < 7 and label not in all_day.setdefault(index, []):
                all_day[index].append(label)
            day += timedelta(days=1)
    holds: list[Block] = []
    for hold in live_holds(store, synthetic.email):
        holds.extend(_blocks(hold.kind.value, hold.start, hold.end, tz, monday))
    for kind, start, end in shared:  # invited to: on their calendar, recorded on the organiser
        holds.extend(_blocks(kind, start, end, tz, monday))
    loads = {
        load.date: load
        for load in store.day_loads(synthetic.email, monday, monday + timedelta(days=6))
    }
    runs: dict[int, tuple[int, int]] = {}
    for load in loads.values():
        if load.longest_run is not None:
            start = datetime.fromtimestamp(load.longest_run[0], tz)
            end = datetime.fromtimestamp(load.longest_run[1], tz)
            run = next(iter(_blocks("run", start, end, tz, monday)), None)
            if run is not None:
                runs[run.day] = (run.start, run.end)
    prefs = person.preferences
    cap = settings.holds_per_week
    if prefs.holds_per_week is not None:
        cap = min(cap, prefs.holds_per_week)
    return Picture(
        email=synthetic.email,
        team=person.team,
        timezone=zone_name,
        monday=monday,
        working=working,
        loads=loads,
        all_day=all_day,
        calendar=calendar,
        holds=holds,
        wants=frozenset(kind for kind in HOLD_KINDS if prefs.wants(HoldKind(kind))),
        quiet_days=frozenset(prefs.quiet_days),
        holds_cap=cap,
        today=datetime.now(tz).date(),
        runs=runs,
    )


def live_holds(store: TableStore, email: str) -> list[Hold]:
    return [hold for hold in store.holds(email) if hold.status in ON_CALENDAR]
