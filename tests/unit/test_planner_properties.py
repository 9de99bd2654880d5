"""The hold planner against the rules of DESIGN.md "Holds", over random calendars.

Every check is written from DESIGN.md, with a small minute-by-minute oracle for working
hours, busy time, availability and the day's longest back-to-back run (the same reading of
"Calendar semantics" as tests/unit/test_metrics_properties.py; the generators both use are in
tests/strategies.py).

Decisions the checks make where DESIGN.md needs reading:

- Busy time for placement is: counted (not cancelled, not declined) opaque meetings, opaque
  solo blocks, opaque timed out-of-office events (a timed opaque event with no other
  participant is a solo block) and every counted hold of ours whatever its transparency
  ("never over busy time or another hold").
- The caps count the holds of the ISO week that already exist (non-cancelled HOLD events,
  one per id) plus the new ones; when the existing ones already reach a cap, nothing new may
  be placed that week.
- Personal holds leave room for the coffee chat and watercooler the person wants (the org's
  weekly caps of those kinds; docs/decisions.md "Room for shared moments") in every week
  that has not begun: a week's pairing round is planned before the week begins, so a
  week that has begun (for the person, or in the org's zone where the pairing plans its
  coming week) keeps no room for it.
  Against a breather, that room is one shared moment, not two: a breather comes before a
  second social moment in a week full of runs.
- Breathers leave room for one social-kind hold in a week that has none, when the person
  wants social time (and the org allows some): breathers come first, but never take a
  week's only social moment.
- "After the day's longest run": the breather starts at or after the end of that run. When
  two runs tie on span the one with more meetings is the longest (an implementation
  decision; DESIGN.md is silent), on a full tie the earlier one.
- Social time keeps 10 minutes from the meetings of its local day (before and after), so
  it never lengthens a back-to-back run; runs never cross local midnight (DESIGN.md
  "Calendar semantics"), so neither does the clearance. Breathers keep none.
- Once the round of a week that has not begun is made (``unmet``), the room kept for a
  shared kind it gave the person nothing of is given back.
- A breather is the preferred length, or 10 minutes when that does not fit (DESIGN.md:
  "10-15 min"). Social time is the preferred length, or 15 minutes ("15-30 min") in a week
  where the preferred length fits nowhere and no other social-kind hold is.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from micromoments.domain.calendar import CalendarEvent, EventKind
from micromoments.domain.holds import HoldKind, personal_hold_id
from micromoments.domain.people import PartOfDay, Person, Preferences
from micromoments.domain.planner import CalendarPlan, plan_calendar
from micromoments.domain.settings import OrgSettings
from tests.builders import meeting
from tests.strategies import (
    DST_DATES,
    MOSTLY,
    RARE,
    ZONES,
    Hours,
    at_minute,
    midnight_minute,
    working_hours,
)

EMAIL = "ada@example.com"
ID_PATTERN = re.compile(r"^[0-9a-v]{5,1024}$")
SOCIAL_KINDS = {"social", "coffee", "watercooler"}
ALL_KINDS = ("breather", "social", "coffee", "watercooler")

# ---------------------------------------------------------------------------------------
# Working hours (boundaries kept out of 01:00-03:00 local, where DST changes happen)
# ---------------------------------------------------------------------------------------

BOUNDARY = st.one_of(
    st.sampled_from([0, 30, 60, 420, 480, 540, 720, 780, 1020, 1080, 1320, 1440]),
    st.integers(180, 1440),
)

# ---------------------------------------------------------------------------------------
# Calendars, preferences, settings
# ---------------------------------------------------------------------------------------


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


TIMED_KINDS = st.sampled_from(
    [EventKind.MEETING] * 5 + [EventKind.SOLO, EventKind.OUT_OF_OFFICE, EventKind.WORKING_LOCATION]
)
DURATIONS = st.one_of(
    st.sampled_from([15, 25, 30, 45, 55, 60, 90, 120]),
    st.integers(0, 300),
    st.integers(300, 1500),
)


@st.composite
def calendar_events(draw: st.DrawFn, tz: ZoneInfo, first: date, days: int) -> list[CalendarEvent]:
    """Meetings, blocks, all-day events and existing holds (some dismissed) around the window."""

    def day_start(offset: int) -> int:
        return midnight_minute(first + timedelta(days=offset), tz)

    events: list[CalendarEvent] = []
    prev_end: int | None = None
    for i in range(draw(st.integers(0, 30))):
        mode = draw(
            st.sampled_from(
                ["local", "local", "chain", "run", "run", "run", "all_day", "hold", "away"]
            )
        )
        declined, cancelled = draw(RARE), draw(RARE)
        if mode == "all_day":
            kind = draw(
                st.sampled_from(
                    [EventKind.ALL_DAY, EventKind.OUT_OF_OFFICE, EventKind.WORKING_LOCATION]
                )
            )
            start_day = first + timedelta(days=draw(st.integers(0, days - 1)))
            events.append(
                CalendarEvent(
                    uid=f"a{i}",
                    start=start_day,
                    end=start_day + timedelta(days=draw(st.integers(1, 2))),
                    kind=kind,
                    busy=draw(st.booleans()),
                    declined=declined,
                    cancelled=cancelled,
                )
            )
            continue
        if mode == "run":
            start = day_start(draw(st.integers(0, days - 1))) + draw(st.integers(420, 1080))
            end = start
            for j in range(draw(st.integers(2, 6))):
                end = start + draw(st.sampled_from([20, 25, 30, 45, 50, 60]))
                events.append(
                    CalendarEvent(
                        uid=f"r{i}.{j}",
                        start=at_minute(start, tz),
                        end=at_minute(end, tz),
                        kind=EventKind.MEETING,
                    )
                )
                start = end + draw(st.sampled_from([-10, 0, 0, 5, 5, 6, 30]))
            prev_end = end
            continue
        if mode == "hold":  # one of our holds, sometimes dismissed (cancelled) by the person
            offset = draw(st.integers(0, days - 1))
            day = first + timedelta(days=offset)
            # near where the planner anchors social time, or anywhere in the day
            where = draw(st.sampled_from(["anchor", "after", "any"]))
            if where == "anchor":
                start = day_start(offset) + draw(st.sampled_from([630, 750, 870, 900]))
                start += draw(st.integers(-20, 20))
            elif where == "after" and prev_end is not None:  # where a breather would go
                start = prev_end + draw(st.integers(0, 15))
                day = at_minute(start, tz).date()
            else:
                start = day_start(offset) + draw(st.integers(420, 1140))
            end = start + draw(st.sampled_from([10, 15, 20, 30]))
            kind_name = draw(
                st.sampled_from(["breather", "social", "social", "coffee", "watercooler"])
            )
            events.append(
                CalendarEvent(
                    uid=f"h{i}",
                    start=at_minute(start, tz),
                    end=at_minute(end, tz),
                    kind=EventKind.HOLD,
                    busy=draw(st.booleans()),
                    cancelled=draw(st.booleans()),
                    hold_id=personal_hold_id(EMAIL, HoldKind(kind_name), day, 100 + i),
                    hold_kind=kind_name,
                )
            )
            continue
        if mode == "away":
            start = day_start(draw(st.integers(0, days - 1))) + draw(st.integers(0, 600))
            end = start + draw(st.integers(300, 2000))
        elif mode == "chain" and prev_end is not None:
            start = prev_end + draw(st.sampled_from([-15, 0, 5, 6, 10, 30, 120]))
            end = start + draw(DURATIONS)
        else:
            start = day_start(draw(st.integers(0, days - 1))) + draw(
                st.one_of(st.integers(420, 1140), st.integers(0, 1439))
            )
            end = start + draw(DURATIONS)
        prev_end = end
        events.append(
            CalendarEvent(
                uid=f"t{i}",
                start=at_minute(start, draw(st.sampled_from([tz, UTC]))),
                end=at_minute(end, tz),
                kind=EventKind.OUT_OF_OFFICE if mode == "away" else draw(TIMED_KINDS),
                busy=draw(MOSTLY),
                declined=declined,
                cancelled=cancelled,
            )
        )
    return events


@st.composite
def scenarios(draw: st.DrawFn):
    zone_name = draw(st.sampled_from(ZONES))
    tz = ZoneInfo(zone_name)
    spec, hours = draw(working_hours(BOUNDARY))
    if draw(st.integers(0, 2)):
        anchor = draw(st.sampled_from(DST_DATES)) - timedelta(days=draw(st.integers(0, 9)))
    else:
        anchor = draw(st.dates(min_value=date(2026, 1, 5), max_value=date(2026, 12, 20)))
    now_minute = midnight_minute(anchor, tz) + draw(
        st.one_of(st.integers(0, 1439), st.integers(480, 1080))
    )
    now = datetime.fromtimestamp(now_minute * 60 + draw(st.integers(0, 59)), tz)
    if draw(st.booleans()):
        now = now.astimezone(UTC)
    org = OrgSettings(
        holds_per_week=draw(st.sampled_from([5, 5, 5, 5, 0, 1, 2, 3, 7])),
        social_per_week=draw(st.sampled_from([2, 2, 2, 1, 0, 3])),
        planning_weeks=draw(st.sampled_from([2, 2, 1])),
    )
    prefs = Preferences(
        moments=draw(
            st.one_of(
                st.just(frozenset(HoldKind)),
                st.just(frozenset({HoldKind.BREATHER, HoldKind.SOCIAL})),
                st.frozensets(st.sampled_from(list(HoldKind))),
            )
        ),
        breather_minutes=draw(st.integers(10, 15)),
        social_minutes=draw(st.integers(15, 30)),
        holds_per_week=draw(st.sampled_from([None, None, None, None, 0, 1, 2, 3, 5, 7])),
        part_of_day=draw(st.sampled_from(list(PartOfDay))),
        quiet_days=frozenset(draw(st.sets(st.integers(0, 6), max_size=2))),
        timezone=zone_name,
        working_hours=spec,
    )
    person = Person(email=EMAIL, preferences=prefs)
    today = now.astimezone(tz).date()
    first = week_start(today)  # the whole current ISO week: earlier holds count too
    days = (first + timedelta(weeks=org.planning_weeks) - first).days
    events = draw(calendar_events(tz, first, days))
    return tz, hours, person, org, now, events


# ---------------------------------------------------------------------------------------
# The oracle for one local date
# ---------------------------------------------------------------------------------------


def _minute(value: datetime) -> int:
    seconds = value.timestamp()
    assert seconds % 60 == 0
    return int(seconds) // 60


def counted_timed(events: list[CalendarEvent]) -> list[CalendarEvent]:
    return [
        e
        for e in events
        if isinstance(e.start, datetime)
        and not e.cancelled
        and not e.declined
        and e.kind is not EventKind.WORKING_LOCATION
    ]


def busy_minutes(events: list[CalendarEvent]) -> set[int]:
    """Every busy UTC minute: meetings, solo blocks, out-of-office if opaque; holds always."""
    out: set[int] = set()
    for e in counted_timed(events):
        if e.kind is EventKind.HOLD or e.busy:
            assert isinstance(e.end, datetime)
            out.update(range(_minute(e.start), _minute(e.end)))  # type: ignore[arg-type]
    return out


def meeting_minutes(events: list[CalendarEvent], day: date, tz: ZoneInfo) -> set[int]:
    """Every UTC minute of an opaque meeting on local ``day`` (runs never cross midnight)."""
    w0, w1 = midnight_minute(day, tz), midnight_minute(day + timedelta(days=1), tz)
    out: set[int] = set()
    for e in counted_timed(events):
        if e.kind is EventKind.MEETING and e.busy:
            out.update(range(max(_minute(e.start), w0), min(_minute(e.end), w1)))  # type: ignore[arg-type]
    return out


def working_minutes(day: date, tz: ZoneInfo, hours: Hours) -> tuple[set[int], int, int]:
    w0, w1 = midnight_minute(day, tz), midnight_minute(day + timedelta(days=1), tz)
    ranges = hours[day.weekday()]
    working = set()
    for u in range(w0, w1):
        local = at_minute(u, tz)
        wall = local.hour * 60 + local.minute
        if any(s <= wall < e for s, e in ranges):
            working.add(u)
    return working, w0, w1


def oracle_day(day: date, tz: ZoneInfo, hours: Hours, events: list[CalendarEvent]):
    """(working minutes, available, overloaded, longest run end as epoch minute or None)."""
    working, w0, w1 = working_minutes(day, tz, hours)
    all_day_busy = all_day_ooo = False
    for e in events:
        if e.cancelled or e.declined or e.kind is EventKind.WORKING_LOCATION:
            continue
        if not isinstance(e.start, datetime) and e.start <= day < e.end:  # type: ignore[operator]
            all_day_busy = all_day_busy or e.busy
            all_day_ooo = all_day_ooo or e.kind is EventKind.OUT_OF_OFFICE
    meetings, ooo = [], set()
    for e in counted_timed(events):
        s, t = max(_minute(e.start), w0), min(_minute(e.end), w1)  # type: ignore[arg-type]
        if s >= t:
            continue
        if e.kind is EventKind.MEETING and e.busy:
            meetings.append((s, t))
        elif e.kind is EventKind.OUT_OF_OFFICE:
            ooo.update(range(s, t))
    available = not all_day_busy and not (working and (all_day_ooo or working <= ooo))
    meeting_set: set[int] = set()
    for s, t in meetings:
        meeting_set.update(range(s, t))
    runs: list[list[int]] = []
    for s, t in sorted(meetings):
        if runs and s <= runs[-1][1] + 5:
            runs[-1][1] = max(runs[-1][1], t)
            runs[-1][2] += 1
        else:
            runs.append([s, t, 1])
    best = (0, 0)
    run_end = None
    for s, t, count in runs:
        if count >= 2 and (t - s, count) > best:
            best, run_end = (t - s, count), t
    overloaded = available and (
        len(meeting_set & working) >= 300
        or best[0] >= 120
        or best[1] >= 3
        or len(meeting_set - working) >= 60
    )
    return working, available, overloaded, run_end


def existing_live_holds(events: list[CalendarEvent], tz: ZoneInfo) -> dict[str, tuple[str, date]]:
    out: dict[str, tuple[str, date]] = {}
    for e in events:
        if e.kind is EventKind.HOLD and e.hold_id and e.hold_kind and not e.cancelled:
            out[e.hold_id] = (e.hold_kind, e.start.astimezone(tz).date())  # type: ignore[union-attr]
    return out


def dismissed(events: list[CalendarEvent], tz: ZoneInfo) -> set[tuple[str, date]]:
    return {
        (e.hold_kind, e.start.astimezone(tz).date())  # type: ignore[union-attr]
        for e in events
        if e.kind is EventKind.HOLD and e.hold_kind and e.cancelled
    }


def as_events(plan: CalendarPlan) -> list[CalendarEvent]:
    return [
        CalendarEvent(
            uid=h.id,
            start=h.start,
            end=h.end,
            kind=EventKind.HOLD,
            busy=h.busy,
            hold_id=h.id,
            hold_kind=h.kind.value,
        )
        for h in plan.holds
    ]


def iso_week(day: date) -> tuple[int, int]:
    year, week, _ = day.isocalendar()
    return year, week


# ---------------------------------------------------------------------------------------
# The property
# ---------------------------------------------------------------------------------------


def check_plan(tz, hours, person, org, now, events, plan: CalendarPlan) -> None:
    prefs = person.preferences
    today = now.astimezone(tz).date()
    planning_end = week_start(today) + timedelta(weeks=org.planning_weeks)
    busy = busy_minutes(events)
    live = existing_live_holds(events, tz)
    gone = dismissed(events, tz)
    total_cap = min(
        org.holds_per_week, prefs.holds_per_week if prefs.holds_per_week is not None else 99
    )
    taken: set[int] = set()
    oracle_cache: dict[date, tuple] = {}
    for hold in plan.holds:
        where = f"{hold.kind.value} {hold.start.astimezone(tz)}-{hold.end.astimezone(tz)}"
        kind = hold.kind.value
        # ids: base32hex, from the identity
        assert ID_PATTERN.match(hold.id), hold.id
        # kinds: personal and wanted
        assert kind in {"breather", "social"}, where
        assert hold.kind in prefs.moments, where
        # time: in the window, never in the past
        s, e = _minute(hold.start), _minute(hold.end)
        assert hold.start >= now, f"{where} starts before now {now}"
        assert hold.day == hold.start.astimezone(tz).date(), where
        assert today <= hold.day < planning_end, where
        # never over busy time, our existing holds or another new hold
        minutes = set(range(s, e))
        assert not minutes & busy, f"{where} overlaps busy time"
        assert not minutes & taken, f"{where} overlaps another new hold"
        taken |= minutes
        # inside working hours of an available workday that is not a quiet day
        if hold.day not in oracle_cache:
            oracle_cache[hold.day] = oracle_day(hold.day, tz, hours, events)
        working, available, overloaded, run_end = oracle_cache[hold.day]
        assert minutes <= working, f"{where} outside working hours"
        assert available, f"{where} on an unavailable day"
        assert hold.day.weekday() not in prefs.quiet_days, f"{where} on a quiet day"
        # not on a date where the person dismissed that kind
        assert (kind, hold.day) not in gone, f"{where} was dismissed on that date"
        # lengths and kind rules
        if kind == "breather":
            assert e - s in {prefs.breather_minutes, 10}, where
            assert hold.busy, where
            assert overloaded, f"{where} on a day that is not overloaded"
            assert run_end is not None, where
            assert s >= run_end, f"{where} before the end of the longest run"
        else:
            assert e - s in {prefs.social_minutes, 15}, where
            # never lengthens a back-to-back run: 10 minutes clear of the day's meetings
            near = meeting_minutes(events, hold.day, tz)
            assert not set(range(s - 10, e + 10)) & near, f"{where} within 10 min of a meeting"

    # ids: one per (kind, day), distinct
    keys = [(h.kind, h.day) for h in plan.holds]
    assert len(set(keys)) == len(keys)
    assert len({h.id for h in plan.holds}) == len(plan.holds)

    # caps per ISO week and per day, counting holds that already exist
    new_total = Counter(iso_week(h.day) for h in plan.holds)
    new_social = Counter(iso_week(h.day) for h in plan.holds if h.kind.value == "social")
    old_total = Counter(iso_week(day) for _, day in live.values())
    old_social = Counter(iso_week(day) for kind, day in live.values() if kind == "social")
    for week, count in new_total.items():
        assert old_total[week] + count <= total_cap, (week, old_total[week], count, total_cap)
    for week, count in new_social.items():
        assert old_social[week] + count <= org.social_per_week, (week, old_social[week], count)
    # room for the shared kinds the person wants stays free (docs/decisions.md)
    reserve = (org.coffee_per_week if "coffee" in prefs.moments else 0) + (
        org.watercooler_per_week if "watercooler" in prefs.moments else 0
    )
    old_shared = Counter(
        iso_week(day) for kind, day in live.values() if kind in {"coffee", "watercooler"}
    )
    # a week the org has begun is paired already, wherever the person is
    current = max(iso_week(today), iso_week(now.astimezone(ZoneInfo(org.timezone)).date()))
    for week in new_social:
        # social time (planned after the breathers) leaves the whole reserve free
        personal = old_total[week] - old_shared[week] + new_total[week]
        kept = max(reserve if week > current else 0, old_shared[week])
        assert personal <= total_cap - kept, (week, personal, reserve)
    # breathers leave room for one social-kind hold in a week without one
    keep_social = "social" in prefs.moments and org.social_per_week > 0
    new_breathers = Counter(iso_week(h.day) for h in plan.holds if h.kind.value == "breather")
    old_social_kinds = Counter(iso_week(day) for kind, day in live.values() if kind in SOCIAL_KINDS)
    for week, count in new_breathers.items():
        kept = max(min(reserve, 1) if week > current else 0, old_shared[week])
        if keep_social and not old_social_kinds[week]:
            kept = max(kept, 1)
        # the breathers placed and every personal hold before them
        personal = old_total[week] - old_shared[week] + count
        assert personal <= total_cap - kept, (week, personal, "room for a social moment")
    # a short (15-minute) social hold only in a week with no other social-kind hold
    for hold in plan.holds:
        if hold.kind.value == "social" and hold.end - hold.start < timedelta(
            minutes=prefs.social_minutes
        ):
            week = iso_week(hold.day)
            others = [kind for kind, day in live.values() if iso_week(day) == week]
            others += [h.kind.value for h in plan.holds if iso_week(h.day) == week and h != hold]
            assert not SOCIAL_KINDS & set(others), f"short social time in {week} beside {others}"
    for hold in plan.holds:
        same_day = [k for k, d in live.values() if d == hold.day]
        if hold.kind.value == "breather":
            assert "breather" not in same_day, f"second breather on {hold.day}"
        else:
            assert not SOCIAL_KINDS & set(same_day), f"second social-kind hold on {hold.day}"


@settings(max_examples=250, deadline=None)
@given(scenarios(), st.randoms(use_true_random=False))
def test_planner_follows_the_hold_rules(scenario, rnd) -> None:
    tz, hours, person, org, now, events = scenario
    plan = plan_calendar(person, events, org, now=now)
    check_plan(tz, hours, person, org, now, events, plan)

    # deterministic
    again = plan_calendar(person, list(events), org, now=now)
    assert again.holds == plan.holds
    assert [x.to_json() for x in again.loads] == [x.to_json() for x in plan.loads]

    # idempotent: with the first plan's holds on the calendar nothing new is placed
    replan = plan_calendar(person, events + as_events(plan), org, now=now)
    assert replan.holds == [], replan.holds

    # ids do not depend on the slot: perturb the calendar, same (kind, day) -> same id
    timed = [i for i, e in enumerate(events) if e.kind is not EventKind.HOLD]
    if timed:
        drop = rnd.choice(timed)
        other = plan_calendar(person, events[:drop] + events[drop + 1 :], org, now=now)
        ids = {(h.kind, h.day): h.id for h in plan.holds}
        for h in other.holds:
            if (h.kind, h.day) in ids:
                assert ids[(h.kind, h.day)] == h.id


# ---------------------------------------------------------------------------------------
# Targeted examples
# ---------------------------------------------------------------------------------------

BERLIN = ZoneInfo("Europe/Berlin")
TUESDAY = date(2026, 6, 16)


def berlin_person(**prefs: object) -> Person:
    return Person(email=EMAIL, preferences=Preferences(timezone="Europe/Berlin", **prefs))  # type: ignore[arg-type]


MONDAY_MORNING = datetime(2026, 6, 15, 7, 0, tzinfo=BERLIN)
RUN = [
    meeting(TUESDAY, "09:00", "10:00"),
    meeting(TUESDAY, "10:00", "11:00"),
    meeting(TUESDAY, "11:00", "12:00"),
]


def by_key(plan: CalendarPlan) -> dict[tuple[str, date], tuple[str, datetime]]:
    return {(h.kind.value, h.day): (h.id, h.start) for h in plan.holds}


def test_hold_ids_do_not_depend_on_the_slot() -> None:
    person = berlin_person()
    org = OrgSettings()
    before = plan_calendar(
        person, [*RUN, meeting(TUESDAY, "16:00", "16:45")], org, now=MONDAY_MORNING
    )
    moved = [
        *RUN,
        meeting(TUESDAY, "14:00", "15:30"),  # the unrelated meeting moved onto the social slot
        # and a block where the breather was
        meeting(TUESDAY, "12:00", "12:20", kind=EventKind.SOLO),
    ]
    after = plan_calendar(person, moved, org, now=MONDAY_MORNING)
    a, b = by_key(before), by_key(after)
    assert ("breather", TUESDAY) in a
    assert ("social", TUESDAY) in a
    for key in [("breather", TUESDAY), ("social", TUESDAY)]:
        assert a[key][0] == b[key][0], key  # same id
        assert a[key][1] != b[key][1], key  # different slot
    assert a[("breather", TUESDAY)][1] == datetime(2026, 6, 16, 12, 0, tzinfo=BERLIN)
    assert b[("breather", TUESDAY)][1] == datetime(2026, 6, 16, 12, 20, tzinfo=BERLIN)


def test_dismissed_kind_is_not_placed_again_on_that_date() -> None:
    person = berlin_person()
    org = OrgSettings()
    first = plan_calendar(person, RUN, org, now=MONDAY_MORNING)
    placed = {(h.kind.value, h.day): h for h in first.holds}
    social = placed[("social", TUESDAY)]
    dismissed = CalendarEvent(
        uid=social.id,
        start=social.start,
        end=social.end,
        kind=EventKind.HOLD,
        busy=social.busy,
        cancelled=True,
        hold_id=social.id,
        hold_kind="social",
    )
    second = plan_calendar(person, [*RUN, dismissed], org, now=MONDAY_MORNING)
    kinds_on_tuesday = {h.kind.value for h in second.holds if h.day == TUESDAY}
    assert "social" not in kinds_on_tuesday
    assert "breather" in kinds_on_tuesday


def test_breather_follows_the_longest_run_on_an_overloaded_day_only() -> None:
    person = berlin_person(moments=["breather"], breather_minutes=12)
    org = OrgSettings()
    # not overloaded
    short = [meeting(TUESDAY, "09:00", "09:30"), meeting(TUESDAY, "09:30", "10:00")]
    plan = plan_calendar(person, short, org, now=MONDAY_MORNING)
    assert plan.holds == []
    plan = plan_calendar(
        person,
        [*RUN, meeting(TUESDAY, "12:00", "12:05", kind=EventKind.SOLO)],
        org,
        now=MONDAY_MORNING,
    )
    (breather,) = plan.holds
    assert breather.kind is HoldKind.BREATHER
    assert breather.start == datetime(2026, 6, 16, 12, 5, tzinfo=BERLIN)
    assert breather.end - breather.start == timedelta(minutes=12)


def test_existing_holds_earlier_in_the_week_count_towards_the_cap() -> None:
    person = berlin_person(moments=["social"], holds_per_week=2)
    org = OrgSettings()
    monday = date(2026, 6, 15)
    earlier = [
        CalendarEvent(
            uid=f"x{i}",
            start=datetime(2026, 6, 15, 9 + i, 0, tzinfo=BERLIN),
            end=datetime(2026, 6, 15, 9 + i, 20, tzinfo=BERLIN),
            kind=EventKind.HOLD,
            hold_id=personal_hold_id(EMAIL, HoldKind(kind), monday, 5),
            hold_kind=kind,
        )
        for i, kind in enumerate(["breather", "coffee"])
    ]
    now = datetime(2026, 6, 15, 12, 0, tzinfo=BERLIN)
    plan = plan_calendar(person, earlier, org, now=now)
    this_week = [h for h in plan.holds if iso_week(h.day) == iso_week(monday)]
    assert this_week == []
    assert plan.holds  # next week is still open


def test_personal_holds_leave_room_for_the_shared_moments_wanted() -> None:
    org = OrgSettings()  # 5 holds a week, 2 social, 1 coffee, 1 watercooler
    monday = MONDAY_MORNING.date()
    next_monday = monday + timedelta(weeks=1)
    runs = [  # a run of three meetings every workday: five breathers and two socials wanted
        meeting(first + timedelta(days=d), start, end)
        for first in (monday, next_monday)
        for d in range(5)
        for start, end in (("09:00", "10:00"), ("10:00", "11:00"), ("11:00", "12:00"))
    ]
    personal_only = berlin_person(moments=["breather", "social"])
    everything = berlin_person()
    # planned on the Sunday before: both weeks are still to be paired
    sunday = MONDAY_MORNING - timedelta(days=1)
    full = Counter(
        h.kind.value
        for h in plan_calendar(personal_only, runs, org, now=sunday).holds
        if iso_week(h.day) == iso_week(monday)
    )
    kept = Counter(
        h.kind.value
        for h in plan_calendar(everything, runs, org, now=sunday).holds
        if iso_week(h.day) == iso_week(monday)
    )
    assert full == {"breather": 4, "social": 1}
    # breathers come before the second shared moment; social time after both
    assert kept == {"breather": 5 - 1}
    light = [meeting(monday, "09:00", "10:00")]
    few = Counter(h.kind.value for h in plan_calendar(everything, light, org, now=sunday).holds)
    assert few == {"social": 2}  # social time leaves room for the coffee chat and the drop-in


def test_a_week_that_has_begun_keeps_no_room_for_a_round_already_planned() -> None:
    """The pairing plans the coming week; once a week has begun, its round is done and
    the room kept for it would never be used."""
    org = OrgSettings()
    monday = MONDAY_MORNING.date()
    next_monday = monday + timedelta(weeks=1)
    runs = [
        meeting(first + timedelta(days=d), start, end)
        for first in (monday, next_monday)
        for d in range(5)
        for start, end in (("09:00", "10:00"), ("10:00", "11:00"), ("11:00", "12:00"))
    ]
    plan = plan_calendar(berlin_person(), runs, org, now=MONDAY_MORNING)
    kinds = {
        week: Counter(h.kind.value for h in plan.holds if iso_week(h.day) == week)
        for week in (iso_week(monday), iso_week(next_monday))
    }
    # this week: four breathers and the week's social moment fill the cap of five
    assert kinds[iso_week(monday)] == {"breather": 4, "social": 1}
    # next week: room for its coffee chat stays free
    assert kinds[iso_week(next_monday)] == {"breather": 4}


def test_breathers_leave_room_for_the_week_s_social_moment() -> None:
    org = OrgSettings()
    monday = MONDAY_MORNING.date()
    runs = [
        meeting(monday + timedelta(days=d), start, end)
        for d in range(5)
        for start, end in (("09:00", "10:00"), ("10:00", "11:00"), ("11:00", "12:00"))
    ]
    week = iso_week(monday)
    social = berlin_person(moments=["breather", "social"])
    plan = plan_calendar(social, runs, org, now=MONDAY_MORNING)
    assert Counter(h.kind.value for h in plan.holds if iso_week(h.day) == week) == {
        "breather": 4,
        "social": 1,
    }
    # without social time wanted, breathers may take the whole week
    breathers_only = berlin_person(moments=["breather"])
    plan = plan_calendar(breathers_only, runs, org, now=MONDAY_MORNING)
    assert Counter(h.kind.value for h in plan.holds if iso_week(h.day) == week) == {"breather": 5}


def test_a_packed_week_still_gets_a_short_social_moment() -> None:
    """Only 20 free minutes in the whole window: a 15-minute social hold, not none."""
    person = berlin_person(moments=["social"], social_minutes=30)
    org = OrgSettings(planning_weeks=1)
    monday = MONDAY_MORNING.date()
    packed = [
        meeting(
            monday + timedelta(days=d),
            "09:00",
            "12:00" if d == 2 else "17:00",
            kind=EventKind.SOLO,
        )
        for d in range(5)
    ]
    packed.append(meeting(monday + timedelta(days=2), "12:20", "17:00", kind=EventKind.SOLO))
    (social,) = plan_calendar(person, packed, org, now=MONDAY_MORNING).holds
    assert social.kind is HoldKind.SOCIAL
    assert social.day == monday + timedelta(days=2)
    assert social.end - social.start == timedelta(minutes=15)
    # with room for the preferred length somewhere, no short one
    roomy = [m for m in packed if m.start.date() != monday + timedelta(days=4)]
    holds = plan_calendar(person, roomy, org, now=MONDAY_MORNING).holds
    assert [h.end - h.start for h in holds] == [timedelta(minutes=30)] * len(holds)
    assert holds


def test_breather_falls_back_to_ten_minutes() -> None:
    person = berlin_person(moments=["breather"], breather_minutes=15)
    squeezed = [*RUN, meeting(TUESDAY, "12:12", "13:30", kind=EventKind.SOLO)]  # 12 free minutes
    (breather,) = plan_calendar(person, squeezed, OrgSettings(), now=MONDAY_MORNING).holds
    assert breather.start == datetime(2026, 6, 16, 12, 0, tzinfo=BERLIN)
    assert breather.end == datetime(2026, 6, 16, 12, 10, tzinfo=BERLIN)


def test_no_holds_on_weekends_quiet_days_or_unavailable_days() -> None:
    friday, saturday = date(2026, 6, 19), date(2026, 6, 20)
    busy_days = [
        *RUN,
        *(
            meeting(d, m.start.strftime("%H:%M"), m.end.strftime("%H:%M"))
            for m in RUN
            for d in (friday, saturday)
        ),
    ]
    person = berlin_person(quiet_days=["Tue"])
    away = CalendarEvent("ooo", friday, friday + timedelta(days=1), EventKind.OUT_OF_OFFICE)
    plan = plan_calendar(person, [*busy_days, away], OrgSettings(), now=MONDAY_MORNING)
    days = {h.day for h in plan.holds}
    assert not days & {TUESDAY, friday, saturday, date(2026, 6, 21)}
    assert days  # other weekdays still get social time


def test_social_time_never_lengthens_a_back_to_back_run() -> None:
    """The morning is free only until a 10:00-12:35 run: social time there keeps 10 minutes
    clear of it, instead of ending at 10:00 and making the run longer."""
    person = berlin_person(moments=["social"], social_minutes=20)
    day = [
        meeting(TUESDAY, "10:00", "11:00"),
        meeting(TUESDAY, "11:00", "12:35"),
        meeting(TUESDAY, "12:35", "17:00", kind=EventKind.SOLO),
    ]
    plan = plan_calendar(person, day, OrgSettings(planning_weeks=1), now=MONDAY_MORNING)
    (social,) = [h for h in plan.holds if h.day == TUESDAY]
    assert social.end <= datetime(2026, 6, 16, 9, 50, tzinfo=BERLIN), social
    # a gap between two meetings that leaves no 10 minutes on both sides is no room
    gap = [
        meeting(TUESDAY, "09:00", "10:00"),
        meeting(TUESDAY, "10:30", "12:00"),
        meeting(TUESDAY, "12:00", "17:00", kind=EventKind.SOLO),
    ]
    plan = plan_calendar(person, gap, OrgSettings(planning_weeks=1), now=MONDAY_MORNING)
    assert [h for h in plan.holds if h.day == TUESDAY] == []


def test_a_breather_still_sits_right_after_its_run() -> None:
    person = berlin_person(moments=["breather"])
    plan = plan_calendar(
        person, [*RUN, meeting(TUESDAY, "12:15", "13:00")], OrgSettings(), now=MONDAY_MORNING
    )
    (breather,) = plan.holds
    assert breather.start == datetime(2026, 6, 16, 12, 0, tzinfo=BERLIN)


def test_room_kept_for_a_round_that_gave_nothing_goes_back_to_social_time() -> None:
    """Next week's round is made and gave the person neither a coffee chat nor a drop-in:
    the room kept for them goes to a social hold of their own."""
    org = OrgSettings()
    monday = MONDAY_MORNING.date()
    next_monday = monday + timedelta(weeks=1)
    runs = [
        meeting(first + timedelta(days=d), start, end)
        for first in (monday, next_monday)
        for d in range(5)
        for start, end in (("09:00", "10:00"), ("10:00", "11:00"), ("11:00", "12:00"))
    ]
    week = iso_week(next_monday)
    shared = frozenset({HoldKind.COFFEE, HoldKind.WATERCOOLER})

    def next_week(unmet: dict) -> Counter[str]:
        plan = plan_calendar(berlin_person(), runs, org, now=MONDAY_MORNING, unmet=unmet)
        return Counter(h.kind.value for h in plan.holds if iso_week(h.day) == week)

    assert next_week({}) == {"breather": 4}  # the round is still to come: room kept
    assert next_week({week: shared}) == {"breather": 4, "social": 1}
    # a coffee chat came (on the calendar once its organiser's scan placed it): the
    # drop-in's room alone is given back, and the chat is the week's social moment
    assert next_week({week: frozenset({HoldKind.WATERCOOLER})}) == {"breather": 4}


def test_a_week_the_org_has_begun_keeps_no_room_even_where_it_is_still_sunday() -> None:
    """Sunday evening in New York is Monday in Berlin, the org's zone: the pairing planned
    that week on Thursday, so the person's coming week keeps no room for its round."""
    org = OrgSettings(timezone="Europe/Berlin", planning_weeks=1)
    new_york = ZoneInfo("America/New_York")
    person = Person(
        email=EMAIL, preferences=Preferences(timezone="America/New_York", social_minutes=15)
    )
    monday = date(2026, 6, 15)
    runs = [
        meeting(monday + timedelta(days=d), start, end, tz=new_york)
        for d in range(5)
        for start, end in (("09:00", "10:00"), ("10:00", "11:00"), ("11:00", "12:00"))
    ]
    sunday_evening = datetime(2026, 6, 14, 19, 0, tzinfo=new_york)  # 01:00 Monday in Berlin
    plan = plan_calendar(person, runs, org, now=sunday_evening, first=monday, days=7)
    assert Counter(h.kind.value for h in plan.holds) == {"breather": 4, "social": 1}
