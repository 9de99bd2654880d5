"""Care outcomes: what the product exists for, measured on what a run of it left behind.

Pure computation (no I/O): the demo hands in each person as the Store holds them, their
calendar as it was seeded (`CalendarEvent`s, without our holds), the live holds on their
calendar and the week's coffee groups, and gets six figures with the counts behind them.
Day metrics follow DESIGN.md "Calendar semantics" through `schedule_days` and `measure`,
so "overloaded", "back-to-back run", "available" and "working hours" mean exactly what
they mean to the planner.

The window of a person is the planner's: from their local date at ``now`` (the moment the
first scan ran) to the end of the last planning week (``planning_weeks`` ISO weeks from
this week's Monday). A *workday* of the window is a date whose working hours are not empty
and not over at ``now``, that is available (no all-day busy event, no out-of-office over
its working hours) and not one of the person's quiet days. *Live* holds are those placed,
moved, adopted or kept; a shared hold (coffee, watercooler) is on the calendar of every
member who has not declined it and counts for each of them.

- ``breather_coverage`` = covered / eligible, over active people who want breathers and the
  overloaded workdays of their window with a back-to-back run (the day's longest run, at
  least two meetings). Such a day is *eligible* when a free gap of at least
  ``BREATHER_MIN_MINUTES`` (10) inside working hours (free of meetings and solo blocks; our
  own holds do not count as busy, so a hold sitting in the gap is a miss, not an excuse)
  lies within the ``BREATHER_SEARCH_SECONDS`` (60 minutes) after the run's end and not before
  ``now``; it is *covered* when the person has a live breather that date. Days with a run
  but no such gap are counted apart (``breather_days_without_gap``). Target: at least 0.9.
- ``social_weekly_share`` = people / opted-in, over active people who want at least one
  social kind (social, coffee, watercooler): those with at least one live social-kind hold
  in each ISO week of the window that had room for one, i.e. a workday with
  ``SOCIAL_MIN_MINUTES`` (15, the shortest social hold) free inside working hours from
  ``now`` on, besides meetings, solo blocks and the person's breathers (breathers come
  first by rule). A week they are away for, or booked solid, is not held against them;
  someone with no such week is not counted. Target: at least 0.95.
- ``coffee_paired_share`` = paired / pool, where the pool is the active people who want
  coffee chats and have at least one workday in the paired week (someone away all week
  cannot meet anyone), and paired means a member of a coffee group of that week's round
  with a slot whose event is live. Target: at least 0.95.
- ``misplaced_holds`` = live holds (each member's copy of a shared one counted) that are
  outside the person's working hours, on a day unavailable to them (all-day busy,
  out-of-office over the working hours, a quiet day), over a meeting or solo block, over
  another hold of theirs, or beyond a cap: per ISO week ``holds_per_week`` in all (the
  lower of the org's and the person's), ``social_per_week`` social,
  ``coffee_per_week`` coffee, ``watercooler_per_week`` watercooler; per day one
  social-kind hold and one breather. For a cap the holds past it (in time order) are the
  misplaced ones; a hold with several faults counts once. Target: 0.
- ``runs_lengthened_by_holds`` = live holds other than breathers (each member's copy of a
  shared one counted) that overlap one of the person's meetings or sit less than
  `clearance.CLEARANCE_MINUTES` (10) before or after one (`clearance.too_close`): such a
  hold could lengthen a back-to-back run (a run takes in what starts within 5 minutes of
  its end). Breathers sit right after their run by design. Target: 0.
- ``personal_social_share`` = people / owed, over active people who want `social` holds
  (and an org whose ``social_per_week`` is not 0) with at least one *week with room* for
  one of their own: an ISO week of the window that has a live `social` hold of theirs, or
  whose live holds are fewer than their ``holds_per_week`` and which has a workday without
  a live social-kind hold with a ``SOCIAL_MIN_MINUTES`` slot on the 5-minute grid from
  ``now`` on, inside working hours, clear of meetings by the clearance, besides solo
  blocks and every hold of theirs; they count when every such week has a live `social`
  hold: a coffee chat or a drop-in alone does not. Target: at least 0.9.

Since social-kind holds keep the clearance, ``social_weekly_share``'s room is also a
``SOCIAL_MIN_MINUTES`` stretch clear of meetings by it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from micromoments.domain.calendar import CalendarEvent
from micromoments.domain.clearance import near, too_close
from micromoments.domain.day_load import DaySchedule, OverloadRules, measure, schedule_days
from micromoments.domain.free_slots import fit
from micromoments.domain.holds import SOCIAL_KINDS, HoldKind
from micromoments.domain.intervals import Interval, intersect, subtract, union
from micromoments.domain.people import Person, PersonStatus
from micromoments.domain.planner import (
    BREATHER_MIN_MINUTES,
    BREATHER_SEARCH_SECONDS,
    SOCIAL_MIN_MINUTES,
    iso_week,
    week_start,
)
from micromoments.domain.settings import OrgSettings

TARGETS = {
    "breather_coverage": 0.9,
    "social_weekly_share": 0.95,
    "coffee_paired_share": 0.95,
    "misplaced_holds": 0,
    "runs_lengthened_by_holds": 0,
    "personal_social_share": 0.9,
}

OUTSIDE_WORKING_HOURS = "outside_working_hours"
UNAVAILABLE_DAY = "unavailable_day"
QUIET_DAY = "quiet_day"
OVER_BUSY_TIME = "over_busy_time"
OVER_ANOTHER_HOLD = "over_another_hold"
OVER_CAP = "over_cap"


@dataclass(frozen=True, slots=True)
class CareHold:
    """A live hold on one person's calendar: theirs, one they organise or one they are
    invited to."""

    kind: HoldKind
    start: datetime
    end: datetime


@dataclass(frozen=True)
class CarePerson:
    """One person as the outcomes need them: the Store's profile, their calendar without
    our holds, and the live holds on it."""

    person: Person
    events: Sequence[CalendarEvent]
    holds: Sequence[CareHold] = ()


@dataclass(frozen=True, slots=True)
class CoffeeGroup:
    """A coffee group of the round with a slot: its members' addresses, and whether its
    event is live (placed, moved, adopted or kept)."""

    members: tuple[str, ...]
    live: bool = True


@dataclass
class CareOutcomes:
    breather_days_covered: int = 0
    breather_days_eligible: int = 0
    breather_days_without_gap: int = 0
    social_people_every_week: int = 0
    social_people: int = 0
    coffee_paired: int = 0
    coffee_pool: int = 0
    holds_checked: int = 0
    misplaced: Counter[str] = field(default_factory=Counter)  # reason -> holds
    misplaced_holds: int = 0
    clearance_holds_checked: int = 0  # live holds other than breathers
    runs_lengthened_by_holds: int = 0
    personal_social_people: int = 0
    personal_social_owed: int = 0

    @property
    def personal_social_share(self) -> float:
        return _share(self.personal_social_people, self.personal_social_owed)

    @property
    def breather_coverage(self) -> float:
        return _share(self.breather_days_covered, self.breather_days_eligible)

    @property
    def social_weekly_share(self) -> float:
        return _share(self.social_people_every_week, self.social_people)

    @property
    def coffee_paired_share(self) -> float:
        return _share(self.coffee_paired, self.coffee_pool)

    def missed(self) -> list[str]:
        """The figures that miss their target."""
        shares = {
            "breather_coverage": self.breather_coverage,
            "social_weekly_share": self.social_weekly_share,
            "coffee_paired_share": self.coffee_paired_share,
            "personal_social_share": self.personal_social_share,
        }
        missed = [name for name, value in shares.items() if value < TARGETS[name]]
        if self.misplaced_holds > TARGETS["misplaced_holds"]:
            missed.append("misplaced_holds")
        if self.runs_lengthened_by_holds > TARGETS["runs_lengthened_by_holds"]:
            missed.append("runs_lengthened_by_holds")
        return missed

    def to_json(self) -> dict[str, Any]:
        return {
            "breather_coverage": round(self.breather_coverage, 3),
            "social_weekly_share": round(self.social_weekly_share, 3),
            "coffee_paired_share": round(self.coffee_paired_share, 3),
            "misplaced_holds": self.misplaced_holds,
            "breather_days_covered": self.breather_days_covered,
            "breather_days_eligible": self.breather_days_eligible,
            "breather_days_without_gap": self.breather_days_without_gap,
            "social_people_every_week": self.social_people_every_week,
            "social_people": self.social_people,
            "coffee_paired": self.coffee_paired,
            "coffee_pool": self.coffee_pool,
            "holds_checked": self.holds_checked,
            "misplaced_by_reason": dict(sorted(self.misplaced.items())),
            "runs_lengthened_by_holds": self.runs_lengthened_by_holds,
            "clearance_holds_checked": self.clearance_holds_checked,
            "personal_social_share": round(self.personal_social_share, 3),
            "personal_social_people": self.personal_social_people,
            "personal_social_owed": self.personal_social_owed,
            "targets": dict(TARGETS),
        }


def _share(part: int, whole: int) -> float:
    """``part / whole``; 1.0 for an empty whole (nothing was owed)."""
    return part / whole if whole else 1.0


@dataclass(frozen=True)
class _Days:
    """A person's days from the Monday of ``now``'s week through the end of the window."""

    tz: tzinfo
    today: date
    end: date  # exclusive: the planning window ends here
    schedule: dict[date, DaySchedule]
    quiet: frozenset[int]
    now_ts: int

    def workday(self, day: date) -> bool:
        found = self.schedule.get(day)
        return (
            found is not None
            and self.today <= day < self.end
            and bool(found.working)
            and found.available
            and day.weekday() not in self.quiet
            and found.working[-1][1] > self.now_ts
        )

    def window(self) -> list[date]:
        return [self.today + timedelta(days=i) for i in range((self.end - self.today).days)]


def _days(
    care: CarePerson, settings: OrgSettings, now: datetime, extra: Iterable[date] = ()
) -> _Days:
    person = care.person
    tz = person.zone(settings)
    today = now.astimezone(tz).date()
    end = week_start(today) + timedelta(weeks=settings.planning_weeks)
    first = min([week_start(today), *extra])
    last = max([end - timedelta(days=1), *extra])
    schedule = schedule_days(
        care.events, tz, person.hours(settings.working_hours), first, (last - first).days + 1
    )
    return _Days(
        tz=tz,
        today=today,
        end=end,
        schedule={day.date: day for day in schedule},
        quiet=person.preferences.quiet_days,
        now_ts=int(now.timestamp()),
    )


def _local_day(instant: datetime, tz: tzinfo) -> date:
    return instant.astimezone(tz).date()


def _slot(hold: CareHold) -> Interval:
    return (int(hold.start.timestamp()), int(hold.end.timestamp()))


def care_outcomes(
    people: Sequence[CarePerson],
    settings: OrgSettings,
    *,
    now: datetime,
    coffee_groups: Sequence[CoffeeGroup] = (),
    coffee_week: date | None = None,
) -> CareOutcomes:
    """The figures of the module docstring. ``coffee_week`` is the Monday of the
    paired week (None: no round, so the coffee pool is empty)."""
    outcomes = CareOutcomes()
    rules = OverloadRules.from_settings(settings)
    paired = {m.lower() for g in coffee_groups if g.live and len(g.members) >= 2 for m in g.members}
    for care in people:
        person = care.person
        prefs = person.preferences
        tz = person.zone(settings)
        hold_days = [_local_day(h.start, tz) for h in care.holds]
        coffee_days = [coffee_week + timedelta(days=i) for i in range(7)] if coffee_week else []
        days = _days(care, settings, now, [*hold_days, *coffee_days])
        active = person.status is PersonStatus.ACTIVE

        if active and prefs.wants(HoldKind.BREATHER):
            _breathers(care, days, rules, outcomes)
        if active and any(prefs.wants(kind) for kind in SOCIAL_KINDS):
            _social_weeks(care, days, outcomes)
        if active and prefs.wants(HoldKind.COFFEE) and coffee_week is not None:
            away = not any(days.workday(day) for day in coffee_days)
            if not away:
                outcomes.coffee_pool += 1
                outcomes.coffee_paired += person.email.lower() in paired
        if active and prefs.wants(HoldKind.SOCIAL) and settings.social_per_week > 0:
            _personal_social(care, days, settings, outcomes)
        _misplaced(care, days, settings, outcomes)
        _lengthened(care, days, outcomes)
    return outcomes


def _breathers(care: CarePerson, days: _Days, rules: OverloadRules, out: CareOutcomes) -> None:
    breather_days = {
        _local_day(h.start, days.tz) for h in care.holds if h.kind is HoldKind.BREATHER
    }
    minimum = BREATHER_MIN_MINUTES * 60
    for day in days.window():
        if not days.workday(day):
            continue
        schedule = days.schedule[day]
        load = measure(schedule, rules)
        if not load.overloaded or load.longest_run is None:
            continue
        run_end = load.longest_run[1]
        window = [(max(run_end, days.now_ts), run_end + BREATHER_SEARCH_SECONDS)]
        if window[0][0] >= window[0][1]:
            out.breather_days_without_gap += 1
            continue
        busy = union(schedule.meetings + schedule.solo)
        free = intersect(subtract(schedule.working, busy), window)
        if not any(end - start >= minimum for start, end in free):
            out.breather_days_without_gap += 1
            continue
        out.breather_days_eligible += 1
        out.breather_days_covered += day in breather_days


def _social_weeks(care: CarePerson, days: _Days, out: CareOutcomes) -> None:
    breathers = [_slot(h) for h in care.holds if h.kind is HoldKind.BREATHER]
    owed = {iso_week(day) for day in days.window() if _room_for_social(days, day, breathers)}
    if not owed:
        return  # away, or booked solid, the whole window: nothing was owed
    social_weeks = {
        iso_week(_local_day(h.start, days.tz)) for h in care.holds if h.kind in SOCIAL_KINDS
    }
    out.social_people += 1
    out.social_people_every_week += owed <= social_weeks


def _room_for_social(days: _Days, day: date, taken: Sequence[Interval]) -> bool:
    """A workday with a ``SOCIAL_MIN_MINUTES`` slot on the 5-minute grid inside working
    hours, from ``now`` on, clear of meetings by the clearance, besides solo blocks and
    ``taken`` (breathers, which come first by rule, or every hold)."""
    if not days.workday(day):
        return False
    schedule = days.schedule[day]
    busy = union(near(schedule.meetings) + schedule.solo + list(taken))
    free = subtract(schedule.working, busy)
    return fit(free, SOCIAL_MIN_MINUTES * 60, earliest=days.now_ts) is not None


def _personal_social(
    care: CarePerson, days: _Days, settings: OrgSettings, out: CareOutcomes
) -> None:
    cap = settings.holds_per_week
    if care.person.preferences.holds_per_week is not None:
        cap = min(cap, care.person.preferences.holds_per_week)
    by_week: dict[tuple[int, int], list[CareHold]] = {}
    for hold in care.holds:
        by_week.setdefault(iso_week(_local_day(hold.start, days.tz)), []).append(hold)
    taken = [_slot(h) for h in care.holds]
    social_days = {_local_day(h.start, days.tz) for h in care.holds if h.kind in SOCIAL_KINDS}
    owed = missed = False
    for week in dict.fromkeys(iso_week(day) for day in days.window()):
        holds = by_week.get(week, [])
        if any(h.kind is HoldKind.SOCIAL for h in holds):
            owed = True
            continue
        room = len(holds) < cap and any(
            iso_week(day) == week and day not in social_days and _room_for_social(days, day, taken)
            for day in days.window()
        )
        owed, missed = owed or room, missed or room
    out.personal_social_owed += owed
    out.personal_social_people += owed and not missed


def _lengthened(care: CarePerson, days: _Days, out: CareOutcomes) -> None:
    for hold in care.holds:
        if hold.kind is HoldKind.BREATHER:
            continue
        out.clearance_holds_checked += 1
        schedule = days.schedule.get(_local_day(hold.start, days.tz))
        if schedule is not None and too_close(_slot(hold), schedule.meetings):
            out.runs_lengthened_by_holds += 1


def _misplaced(care: CarePerson, days: _Days, settings: OrgSettings, out: CareOutcomes) -> None:
    person = care.person
    prefs = person.preferences
    total_cap = settings.holds_per_week
    if prefs.holds_per_week is not None:
        total_cap = min(total_cap, prefs.holds_per_week)
    kind_caps = {
        HoldKind.SOCIAL: settings.social_per_week,
        HoldKind.COFFEE: settings.coffee_per_week,
        HoldKind.WATERCOOLER: settings.watercooler_per_week,
    }
    per_week: Counter[tuple[int, int]] = Counter()
    per_week_kind: Counter[tuple[tuple[int, int], HoldKind]] = Counter()
    social_per_day: Counter[date] = Counter()
    breathers_per_day: Counter[date] = Counter()
    ordered = sorted(care.holds, key=lambda h: (h.start, h.end, h.kind.value))
    for index, hold in enumerate(ordered):
        out.holds_checked += 1
        reasons: set[str] = set()
        day = _local_day(hold.start, days.tz)
        slot = _slot(hold)
        schedule = days.schedule.get(day)
        if schedule is None or subtract([slot], schedule.working):
            reasons.add(OUTSIDE_WORKING_HOURS)
        if schedule is not None and not schedule.available:
            reasons.add(UNAVAILABLE_DAY)
        if day.weekday() in prefs.quiet_days:
            reasons.add(QUIET_DAY)
        if schedule is not None and intersect([slot], union(schedule.meetings + schedule.solo)):
            reasons.add(OVER_BUSY_TIME)
        if any(
            _slot(other)[0] < slot[1] and slot[0] < _slot(other)[1]
            for other in ordered[:index] + ordered[index + 1 :]
        ):
            reasons.add(OVER_ANOTHER_HOLD)
        week = iso_week(day)
        per_week[week] += 1
        over = per_week[week] > total_cap
        if hold.kind in kind_caps:
            per_week_kind[(week, hold.kind)] += 1
            over = over or per_week_kind[(week, hold.kind)] > kind_caps[hold.kind]
        if hold.kind in SOCIAL_KINDS:
            social_per_day[day] += 1
            over = over or social_per_day[day] > 1
        if hold.kind is HoldKind.BREATHER:
            breathers_per_day[day] += 1
            over = over or breathers_per_day[day] > 1
        if over:
            reasons.add(OVER_CAP)
        for reason in reasons:
            out.misplaced[reason] += 1
        out.misplaced_holds += bool(reasons)
