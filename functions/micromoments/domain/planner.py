"""The hold planner for personal holds: breathers and social time (DESIGN.md "Holds").

Rules, in order of precedence:
- the planning window runs from now to the end of the last planning week (org setting
  ``planning_weeks``: 2 = this ISO week and the next); nothing is placed in the past;
- holds go only on available workdays that are not the person's quiet days, inside working
  hours, never over busy time (meetings, solo blocks, out-of-office) or another hold;
- caps per person and ISO week: ``holds_per_week`` in all (the lower of the org's and the
  person's), ``social_per_week`` social holds; at most one social-kind hold a day; at most
  one breather a day, after the day's longest back-to-back run, on overloaded days only;
  social time keeps `clearance.CLEARANCE_MINUTES` from meetings (never lengthens a run);
  room for the coffee chat and watercooler the person wants stays reserved in every week
  that has not begun while its pairing is still to come (``unmet``: once the round of the
  week gave the person no moment of a kind, its room is given back to their own social
  time at the next scan), but breathers come before the second
  of them: against a breather a week keeps room for one shared moment only (the pairing
  gives a drop-in only to people whose week still has room after their coffee chat);
  breathers leave room for one social-kind hold in a week that has none, when the person
  wants social time;
- a kind the person dismissed on a date is not placed on that date again;
- ids come from (person, kind, date, generation), never from the slot.

Breathers are planned first (they answer a need), then social time on the days that need
it most: overloaded days first, then by meeting minutes, then by date; a week where the
preferred length fits nowhere still gets a social moment of ``SOCIAL_MIN_MINUTES`` (15).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from micromoments.domain.calendar import CalendarEvent, EventKind, zone
from micromoments.domain.clearance import near
from micromoments.domain.day_load import DayLoad, DaySchedule, OverloadRules, measure, schedule_days
from micromoments.domain.free_slots import fit
from micromoments.domain.holds import (
    SHARED_KINDS,
    SOCIAL_KINDS,
    Hold,
    HoldKind,
    personal_hold_id,
)
from micromoments.domain.intervals import Interval, intersect, subtract, total, union
from micromoments.domain.people import PART_OF_DAY_MINUTES, PartOfDay, Person
from micromoments.domain.settings import OrgSettings
from micromoments.domain.working_hours import local_instant

BREATHER_SEARCH_SECONDS = 60 * 60
BREATHER_MIN_MINUTES = 10
SOCIAL_MIN_MINUTES = 15

# Where in a part of the day a social slot is anchored (local minute).
_ANCHOR_MINUTE = {
    PartOfDay.ANY: 14 * 60 + 30,
    PartOfDay.MORNING: 10 * 60 + 30,
    PartOfDay.MIDDAY: 12 * 60 + 30,
    PartOfDay.AFTERNOON: 15 * 60,
}

IsoWeek = tuple[int, int]


def iso_week(day: date) -> IsoWeek:
    year, week, _ = day.isocalendar()
    return (year, week)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def org_today(settings: OrgSettings, now: datetime) -> date:
    """The date at ``now`` in the org's zone, where the weekly pairing's weeks begin."""
    return now.astimezone(zone(settings.timezone)).date()


@dataclass(frozen=True, slots=True)
class ExistingHold:
    """A hold already on the calendar (or in the Store), as the planner needs to see it."""

    id: str
    kind: HoldKind
    day: date
    cancelled: bool = False


@dataclass(frozen=True, slots=True)
class CalendarPlan:
    """Day loads of the window and the new holds the planner would place."""

    person: str
    timezone: str
    loads: list[DayLoad]
    holds: list[Hold]
    existing: list[ExistingHold] = field(default_factory=list)


def existing_holds(events: Sequence[CalendarEvent], tz: tzinfo) -> list[ExistingHold]:
    """Our holds found among a person's events; a cancelled one was dismissed by them."""
    found: list[ExistingHold] = []
    for event in events:
        if event.kind is not EventKind.HOLD or event.hold_id is None or event.hold_kind is None:
            continue
        start = event.start
        day = start.astimezone(tz).date() if isinstance(start, datetime) else start
        found.append(ExistingHold(event.hold_id, HoldKind(event.hold_kind), day, event.cancelled))
    return found


@dataclass(slots=True)
class _Budget:
    """What each ISO week and each date still allows.

    ``reserve`` is the room kept free for the shared kinds the person wants (coffee,
    watercooler), which the weekly pairing places after the personal holds of that week
    are planned: personal holds take at most ``total_cap`` minus the larger of the reserve
    and the shared holds the week already has. Only weeks after ``current`` keep it: the
    round of a week is planned before the week begins (the pairing runs for the org's
    coming week), so room kept in a week that has begun, for the person or in the org's
    zone, could never be used. ``given_back``: per
    week, the part of the reserve whose round is made and gave the person nothing (it
    never will), returned to personal holds.

    Breathers answer a need, so against them the reserve is one shared moment, not two:
    in a week full of back-to-back runs a breather comes before a second social moment
    (the pairing then leaves the drop-in to people whose week has room after their coffee
    chat, `services.pair`).

    ``keep_social``: the person wants social time, so breathers leave room for one
    social-kind hold in a week that has none yet; breathers come first, but never take the
    last hold of a week from the person's only social moment.
    """

    total_cap: int
    social_cap: int
    reserve: int = 0
    current: IsoWeek = (0, 0)
    keep_social: bool = False
    given_back: Mapping[IsoWeek, int] = field(default_factory=dict)
    totals: Counter[IsoWeek] = field(default_factory=Counter)
    shared: Counter[IsoWeek] = field(default_factory=Counter)
    socials: Counter[IsoWeek] = field(default_factory=Counter)
    social_kinds: Counter[IsoWeek] = field(default_factory=Counter)
    social_days: set[date] = field(default_factory=set)
    breather_days: set[date] = field(default_factory=set)
    dismissed: set[tuple[HoldKind, date]] = field(default_factory=set)

    def take(self, kind: HoldKind, day: date) -> None:
        week = iso_week(day)
        self.totals[week] += 1
        if kind in SHARED_KINDS:
            self.shared[week] += 1
        if kind is HoldKind.SOCIAL:
            self.socials[week] += 1
        if kind in SOCIAL_KINDS:
            self.social_days.add(day)
            self.social_kinds[week] += 1
        if kind is HoldKind.BREATHER:
            self.breather_days.add(day)

    def kept_free(self, kind: HoldKind, week: IsoWeek) -> int:
        """Holds of ``week`` that a new personal hold of ``kind`` must leave to others."""
        reserve = max(self.reserve - self.given_back.get(week, 0), 0) if week > self.current else 0
        if kind is HoldKind.BREATHER:
            reserve = min(reserve, 1)
        kept = max(reserve, self.shared[week])
        if kind is HoldKind.BREATHER and self.keep_social and not self.social_kinds[week]:
            kept = max(kept, 1)
        return kept

    def allows(self, kind: HoldKind, day: date) -> bool:
        week = iso_week(day)
        if (kind, day) in self.dismissed or self.totals[week] >= self.total_cap:
            return False
        if kind not in SHARED_KINDS:
            room = self.total_cap - self.kept_free(kind, week)
            if self.totals[week] - self.shared[week] >= room:
                return False
        if kind is HoldKind.BREATHER:
            return day not in self.breather_days
        if kind in SOCIAL_KINDS and day in self.social_days:
            return False
        return not (kind is HoldKind.SOCIAL and self.socials[week] >= self.social_cap)


def plan_calendar(
    person: Person,
    events: Sequence[CalendarEvent],
    settings: OrgSettings,
    *,
    now: datetime,
    first: date | None = None,
    days: int | None = None,
    stored: Sequence[ExistingHold] = (),
    generations: Mapping[tuple[HoldKind, date], int] | None = None,
    unmet: Mapping[IsoWeek, frozenset[HoldKind]] | None = None,
) -> CalendarPlan:
    """Day loads for the window and the personal holds to place in it.

    ``first`` and ``days`` default to today (in the person's zone) through the end of the
    planning window. ``stored`` adds holds the Store knows of that the events do not show.
    """
    tz = person.zone(settings)
    zone_name = tz.key
    hours = person.hours(settings.working_hours)
    today = now.astimezone(tz).date()
    planning_end = week_start(today) + timedelta(weeks=settings.planning_weeks)
    first = first or today
    if days is None:
        days = max((planning_end - first).days, 1)
    schedule = schedule_days(events, tz, hours, first, days)
    rules = OverloadRules.from_settings(settings)
    loads = [measure(day, rules) for day in schedule]
    existing = existing_holds(events, tz) + list(stored)
    holds = plan_holds(
        person,
        schedule,
        loads,
        settings,
        tz=tz,
        now=now,
        existing=existing,
        generations=generations or {},
        unmet=unmet or {},
    )
    return CalendarPlan(person.email, zone_name, loads, holds, existing)


def plan_holds(
    person: Person,
    schedule: Sequence[DaySchedule],
    loads: Sequence[DayLoad],
    settings: OrgSettings,
    *,
    tz: tzinfo,
    now: datetime,
    existing: Sequence[ExistingHold] = (),
    generations: Mapping[tuple[HoldKind, date], int],
    unmet: Mapping[IsoWeek, frozenset[HoldKind]] | None = None,
) -> list[Hold]:
    """The new personal holds for the scheduled days (see the module docstring).

    ``unmet``: per ISO week whose pairing round is made, the shared kinds it gave the
    person no moment of (`pairing.unmet`); the room kept for them is given back.
    """
    prefs = person.preferences
    total_cap = settings.holds_per_week
    if prefs.holds_per_week is not None:
        total_cap = min(total_cap, prefs.holds_per_week)
    kept_for = {
        HoldKind.COFFEE: settings.coffee_per_week if prefs.wants(HoldKind.COFFEE) else 0,
        HoldKind.WATERCOOLER: (
            settings.watercooler_per_week if prefs.wants(HoldKind.WATERCOOLER) else 0
        ),
    }
    reserve = sum(kept_for.values())
    given_back = {
        week: sum(kept_for.get(kind, 0) for kind in kinds) for week, kinds in (unmet or {}).items()
    }
    budget = _Budget(
        total_cap=total_cap,
        social_cap=settings.social_per_week,
        reserve=reserve,
        # the pairing plans the org's coming week: one the org has begun is paired already
        current=max(iso_week(now.astimezone(tz).date()), iso_week(org_today(settings, now))),
        keep_social=prefs.wants(HoldKind.SOCIAL) and settings.social_per_week > 0,
        given_back=given_back,
    )
    seen: set[str] = set()
    for hold in existing:
        if hold.cancelled:
            budget.dismissed.add((hold.kind, hold.day))
        elif hold.id not in seen:
            seen.add(hold.id)
            budget.take(hold.kind, hold.day)

    now_ts = int(now.timestamp())
    today = now.astimezone(tz).date()
    candidates = [
        (day, load)
        for day, load in zip(schedule, loads, strict=True)
        if day.date >= today
        and load.available
        and day.working
        and day.date.weekday() not in prefs.quiet_days
        and day.working[-1][1] > now_ts
    ]
    placed: dict[date, list[Interval]] = {}
    holds: list[Hold] = []

    def place(kind: HoldKind, day: DaySchedule, slot: Interval, busy: bool) -> None:
        generation = generations.get((kind, day.date), 0)
        holds.append(
            Hold(
                id=personal_hold_id(person.email, kind, day.date, generation),
                kind=kind,
                start=datetime.fromtimestamp(slot[0], tz),
                end=datetime.fromtimestamp(slot[1], tz),
                busy=busy,
                day=day.date,
                generation=generation,
            )
        )
        placed.setdefault(day.date, []).append(slot)
        budget.take(kind, day.date)

    def free_time(day: DaySchedule) -> list[Interval]:
        return subtract(day.working, union(day.busy() + placed.get(day.date, [])))

    if prefs.wants(HoldKind.BREATHER):
        for day, load in candidates:
            if not load.overloaded or load.longest_run is None:
                continue
            if not budget.allows(HoldKind.BREATHER, day.date):
                continue
            run_end = load.longest_run[1]
            earliest = max(run_end, now_ts)
            window = [(earliest, run_end + BREATHER_SEARCH_SECONDS)]
            free = intersect(free_time(day), window) if window[0][0] < window[0][1] else []
            for minutes in dict.fromkeys((prefs.breather_minutes, BREATHER_MIN_MINUTES)):
                slot = fit(free, minutes * 60, earliest=earliest)
                if slot is not None:
                    place(HoldKind.BREATHER, day, slot, busy=True)
                    break

    if prefs.wants(HoldKind.SOCIAL) and settings.social_per_week > 0:
        part_lo, part_hi = PART_OF_DAY_MINUTES[prefs.part_of_day]
        anchor_minute = _ANCHOR_MINUTE[prefs.part_of_day]
        ranked = sorted(
            candidates, key=lambda c: (not c[1].overloaded, -c[1].meeting_minutes, c[0].date)
        )

        def place_social(day: DaySchedule, minutes: int) -> None:
            free = free_time(day)
            clear = subtract(free, near(day.meetings))  # never lengthens a run
            part = [(local_instant(day.date, part_lo, tz), local_instant(day.date, part_hi, tz))]
            anchor = local_instant(day.date, anchor_minute, tz)
            length = minutes * 60
            slot = fit(intersect(clear, part), length, earliest=now_ts, anchor=anchor)
            if slot is None:
                slot = fit(clear, length, earliest=now_ts, anchor=anchor)
            if slot is not None:
                remaining = total(subtract(free, [slot])) // 60
                place(HoldKind.SOCIAL, day, slot, busy=remaining < settings.flex_free_minutes)

        for day, _load in ranked:
            if budget.allows(HoldKind.SOCIAL, day.date):
                place_social(day, prefs.social_minutes)
        if prefs.social_minutes > SOCIAL_MIN_MINUTES:
            # A packed week still gets a short social moment (DESIGN.md: 15-30 minutes).
            for day, _load in ranked:
                week = iso_week(day.date)
                if not budget.social_kinds[week] and budget.allows(HoldKind.SOCIAL, day.date):
                    place_social(day, SOCIAL_MIN_MINUTES)

    holds.sort(key=lambda hold: (hold.start, hold.kind.value))
    return holds
