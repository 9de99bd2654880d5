"""Day metrics against a brute-force, minute-by-minute oracle written from DESIGN.md.

DESIGN.md "Calendar semantics" is the specification. The oracle below never calls the
implementation's interval code: for each local date D it walks every UTC minute of
W = [D 00:00, D+1 00:00) local (23, 23.5, 24.5 or 25 hours on DST days), decides for each
minute whether it is inside the working hours by its *local wall-clock time*, and counts
sets of minutes.

Decisions the oracle makes where DESIGN.md needs reading:

- A timed, opaque out-of-office event is "a timed, opaque event with no other participant",
  i.e. a solo block by DESIGN.md's own definition: busy time for focus, never meeting time.
  A timed out-of-office event of either transparency counts towards "an out-of-office event
  covers its working hours" (the sentence has no opacity condition).
- A day with no working hours (a weekend) is never made unavailable by a *timed*
  out-of-office event: "A weekend is an available non-working day".
- Our holds are busy for focus whatever their transparency ("Our own events (tagged) are
  busy for planning"); a social hold starts free but is still a hold.
- An event's interval clipped to W that is empty (zero length, or ending exactly at local
  midnight) is not a meeting of that day.
- Working-hours boundaries are generated outside 01:00-03:00 local, where the DST
  transitions of the generated zones happen, so that "09:00" means one instant and the
  wall-clock reading of working hours is unambiguous.
- An all-day out-of-office event covers the whole of each of its dates, so it covers a
  workday's working hours whatever its transparency (pinned by
  `test_all_day_transparent_out_of_office_makes_day_unavailable`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micromoments.domain.calendar import CalendarEvent, EventKind
from micromoments.domain.day_load import day_loads
from micromoments.domain.working_hours import WorkingHours
from tests.strategies import (
    DST_DATES,
    MOSTLY,
    RARE,
    ZONES,
    at_minute,
    midnight_minute,
    working_hours,
)

B2B_GAP_MINUTES = 5
FOCUS_MINUTES = 120
MEETING_MINUTES_MAX = 300
B2B_MINUTES_MAX = 120
B2B_MEETINGS_MAX = 3
AFTER_HOURS_MAX = 60

# ---------------------------------------------------------------------------------------
# Working hours: generated as items (first day, last day, start minute, end minute)
# ---------------------------------------------------------------------------------------

# Working-hours boundaries stay out of (01:00, 03:00) local: DST changes happen there.
BOUNDARY = st.one_of(
    st.sampled_from([0, 30, 60, 420, 480, 510, 540, 720, 780, 1020, 1050, 1080, 1320, 1440]),
    st.integers(180, 1440),
)

# ---------------------------------------------------------------------------------------
# Calendars
# ---------------------------------------------------------------------------------------


@st.composite
def first_day(draw: st.DrawFn, days: int = 9) -> date:
    """A first day; two times in three the days from it include a DST change."""
    if draw(st.integers(0, 2)):
        return draw(st.sampled_from(DST_DATES)) - timedelta(days=draw(st.integers(0, days - 1)))
    return draw(st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31)))


TIMED_KINDS = st.sampled_from(
    [
        EventKind.MEETING,
        EventKind.MEETING,
        EventKind.MEETING,
        EventKind.MEETING,
        EventKind.SOLO,
        EventKind.OUT_OF_OFFICE,
        EventKind.HOLD,
        EventKind.WORKING_LOCATION,
    ]
)
HOLD_KINDS = ("breather", "social", "coffee", "watercooler")
GAPS = st.one_of(st.sampled_from([-30, -1, 0, 1, 4, 5, 6, 7, 119, 120]), st.integers(-90, 120))
DURATIONS = st.one_of(
    st.sampled_from([15, 25, 30, 45, 55, 60, 90, 120]),
    st.integers(0, 300),
    st.integers(300, 2000),
)


@st.composite
def calendar_events(
    draw: st.DrawFn,
    tz: ZoneInfo,
    first: date,
    days: int,
    hours: dict[int, list[tuple[int, int]]] | None = None,
    max_events: int = 25,
) -> list[CalendarEvent]:
    """Events around local days ``first`` .. ``first + days - 1`` (and a day either side)."""

    def day_start(offset: int) -> int:
        return midnight_minute(first + timedelta(days=offset), tz)

    events: list[CalendarEvent] = []
    prev_end: int | None = None
    for i in range(draw(st.integers(0, max_events))):
        mode = draw(
            st.sampled_from(
                ["local", "local", "chain", "chain", "midnight", "all_day", "run", "away", "edge"]
            )
        )
        declined, cancelled = draw(RARE), draw(RARE)
        if mode == "run":  # a run of meetings: 0-7 minute gaps, some overlaps
            start = day_start(draw(st.integers(0, days - 1))) + draw(st.integers(360, 1200))
            for j in range(draw(st.integers(2, 5))):
                end = start + draw(st.sampled_from([20, 25, 30, 45, 50, 60]))
                events.append(
                    CalendarEvent(
                        uid=f"r{i}.{j}",
                        start=at_minute(start, tz),
                        end=at_minute(end, tz),
                        kind=EventKind.MEETING,
                    )
                )
                start = end + draw(st.sampled_from([-10, 0, 0, 5, 5, 6, 7]))
            prev_end = end
            continue
        if mode == "all_day":
            kind = draw(
                st.sampled_from(
                    [EventKind.ALL_DAY, EventKind.OUT_OF_OFFICE, EventKind.WORKING_LOCATION]
                )
            )
            busy = draw(st.booleans())
            start_day = first + timedelta(days=draw(st.integers(-2, days)))
            events.append(
                CalendarEvent(
                    uid=f"a{i}",
                    start=start_day,
                    end=start_day + timedelta(days=draw(st.integers(1, 3))),
                    kind=kind,
                    busy=busy,
                    declined=declined,
                    cancelled=cancelled,
                )
            )
            continue
        if mode == "away":  # out of office for most of a day, or several days
            start = day_start(draw(st.integers(-1, days - 1))) + draw(st.integers(0, 600))
            end = start + draw(st.integers(480, 3000))
            events.append(
                CalendarEvent(
                    uid=f"o{i}",
                    start=at_minute(start, draw(st.sampled_from([tz, UTC]))),
                    end=at_minute(end, tz),
                    kind=EventKind.OUT_OF_OFFICE,
                    busy=draw(MOSTLY),
                    declined=declined,
                    cancelled=cancelled,
                )
            )
            continue
        if mode == "edge" and hours:  # a block just 119-121 minutes from a working-hours edge
            offset = draw(st.integers(0, days - 1))
            ranges = hours[(first + timedelta(days=offset)).weekday()]
            if ranges:
                lo, hi = draw(st.sampled_from(ranges))
                gap = draw(st.sampled_from([119, 120, 121]))
                if draw(st.booleans()):
                    start = day_start(offset) + lo + gap
                    end = start + draw(DURATIONS)
                else:
                    end = day_start(offset) + hi - gap
                    start = end - draw(DURATIONS)
                kind = draw(st.sampled_from([EventKind.MEETING, EventKind.SOLO, EventKind.HOLD]))
                events.append(
                    CalendarEvent(
                        uid=f"g{i}",
                        start=at_minute(start, tz),
                        end=at_minute(end, tz),
                        kind=kind,
                        hold_id=f"mm{i:05d}" if kind is EventKind.HOLD else None,
                        hold_kind="breather" if kind is EventKind.HOLD else None,
                    )
                )
                prev_end = end
            continue
        if mode == "chain" and prev_end is not None:
            start = prev_end + draw(GAPS)
        elif mode == "midnight":
            start = day_start(draw(st.integers(0, days))) + draw(st.integers(-240, 30))
        else:
            start = day_start(draw(st.integers(-1, days))) + draw(
                st.one_of(st.integers(420, 1200), st.integers(0, 1439))
            )
        end = start + draw(DURATIONS)
        prev_end = end
        kind = draw(TIMED_KINDS)
        shown_in = UTC if draw(st.booleans()) else tz
        hold_kind = draw(st.sampled_from(HOLD_KINDS)) if kind is EventKind.HOLD else None
        events.append(
            CalendarEvent(
                uid=f"t{i}",
                start=at_minute(start, shown_in),
                end=at_minute(end, shown_in),
                kind=kind,
                busy=draw(MOSTLY),
                declined=declined,
                cancelled=cancelled,
                hold_id=f"mm{i:05d}" if hold_kind else None,
                hold_kind=hold_kind,
            )
        )
    return events


# ---------------------------------------------------------------------------------------
# The oracle
# ---------------------------------------------------------------------------------------


@dataclass
class OracleDay:
    json: dict[str, object]
    working: set[int]  # UTC epoch minutes inside the working hours of the day
    window: tuple[int, int]  # UTC epoch minutes [local midnight, next local midnight)
    longest_run: tuple[int, int] | None  # epoch minutes


def _minute(value: datetime) -> int:
    seconds = value.timestamp()
    assert seconds % 60 == 0
    return int(seconds) // 60


def oracle_day(
    day: date,
    tz: ZoneInfo,
    hours: dict[int, list[tuple[int, int]]],
    events: list[CalendarEvent],
) -> OracleDay:
    w0 = midnight_minute(day, tz)
    w1 = midnight_minute(day + timedelta(days=1), tz)
    ranges = hours[day.weekday()]
    working: set[int] = set()
    for u in range(w0, w1):
        local = at_minute(u, tz)
        assert local.date() == day
        wall = local.hour * 60 + local.minute
        if any(s <= wall < e for s, e in ranges):
            working.add(u)

    meetings: list[tuple[int, int]] = []
    other_busy: set[int] = set()
    out_of_office: set[int] = set()
    all_day_busy = False
    all_day_out_of_office = False
    for event in events:
        if event.cancelled or event.declined or event.kind is EventKind.WORKING_LOCATION:
            continue
        if not isinstance(event.start, datetime):
            assert isinstance(event.end, date)
            if event.start <= day < event.end:
                if event.busy:
                    all_day_busy = True
                if event.kind is EventKind.OUT_OF_OFFICE:
                    all_day_out_of_office = True
            continue
        assert isinstance(event.end, datetime)
        s = max(_minute(event.start), w0)
        e = min(_minute(event.end), w1)
        if s >= e:
            continue
        minutes = set(range(s, e))
        if event.kind is EventKind.MEETING:
            if event.busy:
                meetings.append((s, e))
        elif event.kind is EventKind.SOLO:
            if event.busy:
                other_busy |= minutes
        elif event.kind is EventKind.OUT_OF_OFFICE:
            out_of_office |= minutes
            if event.busy:
                other_busy |= minutes
        elif event.kind is EventKind.HOLD:
            other_busy |= minutes

    meeting_set: set[int] = set()
    for s, e in meetings:
        meeting_set.update(range(s, e))
    meeting_minutes = len(meeting_set & working)
    after_hours = len(meeting_set - working)

    # Back-to-back runs over every meeting of the day (clipped to W, not to WH).
    # Tie rule (an implementation decision, not DESIGN.md's): among runs of equal span the
    # one with more meetings wins; on a full tie, the earlier run.
    best_span, best_count, best_run = 0, 0, None
    runs: list[list[int]] = []  # [start, end, count]
    for s, e in sorted(meetings):
        if runs and s <= runs[-1][1] + B2B_GAP_MINUTES:
            runs[-1][1] = max(runs[-1][1], e)
            runs[-1][2] += 1
        else:
            runs.append([s, e, 1])
    for s, e, count in runs:
        if count >= 2 and (e - s, count) > (best_span, best_count):
            best_span, best_count, best_run = e - s, count, (s, e)

    busy = meeting_set | other_busy
    focus = 0
    gap = 0
    for u in range(w0, w1 + 1):
        if u < w1 and u in working and u not in busy:
            gap += 1
            continue
        if gap >= FOCUS_MINUTES:
            focus += gap
        gap = 0

    covered_by_ooo = bool(working) and (all_day_out_of_office or working <= out_of_office)
    available = not all_day_busy and not covered_by_ooo
    reasons = []
    if not available:
        focus = 0  # "on an unavailable day ... focus_minutes is 0"
    if available:
        if meeting_minutes >= MEETING_MINUTES_MAX:
            reasons.append("meeting_hours")
        if best_span >= B2B_MINUTES_MAX or best_count >= B2B_MEETINGS_MAX:
            reasons.append("back_to_back")
        if after_hours >= AFTER_HOURS_MAX:
            reasons.append("after_hours")
    return OracleDay(
        json={
            "date": day.isoformat(),
            "available": available,
            "meeting_minutes": meeting_minutes,
            "after_hours_meeting_minutes": after_hours,
            "longest_back_to_back_minutes": best_span,
            "back_to_back_meetings": best_count,
            "focus_minutes": focus,
            "overloaded": bool(reasons),
            "reasons": reasons,
        },
        working=working,
        window=(w0, w1),
        longest_run=best_run,
    )


def describe(events: list[CalendarEvent], tz: ZoneInfo) -> str:
    """The events as local times, for a readable failure message."""
    lines = []
    for ev in events:
        if isinstance(ev.start, datetime) and isinstance(ev.end, datetime):
            span = f"{ev.start.astimezone(tz):%a %m-%d %H:%M%z}-{ev.end.astimezone(tz):%H:%M%z}"
        else:
            span = f"{ev.start}..{ev.end} (all day)"
        lines.append(
            f"  {ev.uid}: {ev.kind.value} {span} busy={ev.busy}"
            f" declined={ev.declined} cancelled={ev.cancelled}"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# The property
# ---------------------------------------------------------------------------------------


@st.composite
def scenarios(draw: st.DrawFn):
    tz = ZoneInfo(draw(st.sampled_from(ZONES)))
    spec, hours = draw(working_hours(BOUNDARY))
    days = draw(st.integers(1, 9))
    first = draw(first_day(days))
    events = draw(calendar_events(tz, first, days, hours))
    return tz, spec, hours, first, days, events


@settings(max_examples=500, deadline=None)
@given(scenarios())
def test_day_loads_match_minute_by_minute_oracle(scenario) -> None:
    tz, spec, hours, first, days, events = scenario
    loads = day_loads(events, tz, WorkingHours.parse(spec), first, days)
    assert [load.date for load in loads] == [first + timedelta(days=i) for i in range(days)]
    for load in loads:
        expected = oracle_day(load.date, tz, hours, events).json
        assert load.to_json() == expected, f"{tz.key} {spec!r} {load.date}\n{describe(events, tz)}"


# ---------------------------------------------------------------------------------------
# Hand-worked examples
# ---------------------------------------------------------------------------------------

BERLIN = ZoneInfo("Europe/Berlin")
WORKDAY = date(2026, 6, 16)  # a Tuesday


def timed(
    uid: str,
    day: date,
    start: str,
    end: str,
    tz: ZoneInfo,
    kind: EventKind = EventKind.MEETING,
    **flags: object,
) -> CalendarEvent:
    sh, sm = (int(x) for x in start.split(":"))
    eh, em = (int(x) for x in end.split(":"))
    return CalendarEvent(
        uid=uid,
        start=datetime(day.year, day.month, day.day, sh, sm, tzinfo=tz),
        end=datetime(day.year, day.month, day.day, eh, em, tzinfo=tz),
        kind=kind,
        **flags,  # type: ignore[arg-type]
    )


def one_day(
    events: list[CalendarEvent], day: date, tz: ZoneInfo, spec: str = "Mon-Fri 09:00-17:00"
):
    (load,) = day_loads(events, tz, WorkingHours.parse(spec), day, 1)
    return load.to_json()


def test_back_to_back_five_minute_gap_joins_six_minute_gap_splits() -> None:
    day = date(2026, 6, 16)  # a Tuesday
    events = [
        timed("a", day, "09:00", "10:00", BERLIN),
        timed("b", day, "10:05", "11:00", BERLIN),  # 5-minute gap: joins
        timed("c", day, "11:06", "12:00", BERLIN),  # 6-minute gap: a new run
    ]
    assert one_day(events, day, BERLIN) == {
        "date": "2026-06-16",
        "available": True,
        "meeting_minutes": 60 + 55 + 54,
        "after_hours_meeting_minutes": 0,
        "longest_back_to_back_minutes": 120,  # 09:00-11:00
        "back_to_back_meetings": 2,
        "focus_minutes": 300,  # 12:00-17:00; the 5- and 6-minute gaps are too short
        "overloaded": True,
        "reasons": ["back_to_back"],
    }


def test_three_meetings_in_a_short_run_are_back_to_back() -> None:
    day = date(2026, 6, 16)
    events = [
        timed("a", day, "13:00", "13:20", BERLIN),
        timed("b", day, "13:25", "13:45", BERLIN),
        timed("c", day, "13:30", "13:40", BERLIN),  # overlaps: joins, run end stays 13:45
        timed("d", day, "13:50", "14:00", BERLIN),
    ]
    load = one_day(events, day, BERLIN)
    assert load["longest_back_to_back_minutes"] == 60
    assert load["back_to_back_meetings"] == 4
    assert load["meeting_minutes"] == 20 + 20 + 10
    assert load["reasons"] == ["back_to_back"]


def test_equal_span_runs_prefer_more_meetings() -> None:
    # Implementation decision (DESIGN.md is silent): of two runs with the same span, the
    # one with more meetings is "the longest run".
    day = date(2026, 6, 16)
    events = [
        timed("a", day, "09:00", "10:00", BERLIN),
        timed("b", day, "10:00", "11:00", BERLIN),
        timed("c", day, "13:00", "13:40", BERLIN),
        timed("d", day, "13:40", "14:20", BERLIN),
        timed("e", day, "14:20", "15:00", BERLIN),
    ]
    load = one_day(events, day, BERLIN)
    assert (load["longest_back_to_back_minutes"], load["back_to_back_meetings"]) == (120, 3)


def test_weekend_meeting_is_all_after_hours() -> None:
    day = date(2026, 6, 20)  # a Saturday
    events = [timed("a", day, "10:00", "11:30", BERLIN)]
    assert one_day(events, day, BERLIN) == {
        "date": "2026-06-20",
        "available": True,
        "meeting_minutes": 0,
        "after_hours_meeting_minutes": 90,
        "longest_back_to_back_minutes": 0,
        "back_to_back_meetings": 0,
        "focus_minutes": 0,
        "overloaded": True,
        "reasons": ["after_hours"],
    }


def test_berlin_spring_forward_day_is_23_hours() -> None:
    day = date(2026, 3, 29)  # Sunday; 02:00 CET jumps to 03:00 CEST
    events = [timed("a", day, "01:30", "03:30", BERLIN)]  # 00:30Z-01:30Z: 60 minutes
    every_day = "Mon-Sun 00:00-24:00"
    load = one_day(events, day, BERLIN, every_day)
    assert load["meeting_minutes"] == 60
    assert load["after_hours_meeting_minutes"] == 0
    # Free: 00:00-01:30 (90 minutes, too short) and 03:30-24:00 CEST (20.5 hours).
    assert load["focus_minutes"] == 20 * 60 + 30
    # With the default hours it is a weekend day: every meeting minute is after hours.
    weekend = one_day(events, day, BERLIN)
    assert weekend["after_hours_meeting_minutes"] == 60
    assert weekend["reasons"] == ["after_hours"]


def test_new_york_fall_back_day_is_25_hours() -> None:
    ny = ZoneInfo("America/New_York")
    day = date(2026, 11, 1)
    events = [
        CalendarEvent(
            "a",
            datetime(2026, 11, 1, 0, 0, tzinfo=ny),
            datetime(2026, 11, 2, 0, 0, tzinfo=ny),
            EventKind.MEETING,
        )
    ]
    load = one_day(events, day, ny, "Sun 00:00-24:00")
    assert load["meeting_minutes"] == 25 * 60


def test_lord_howe_half_hour_spring_forward() -> None:
    lh = ZoneInfo("Australia/Lord_Howe")
    day = date(2026, 10, 4)  # 02:00 +10:30 jumps to 02:30 +11
    events = [timed("a", day, "01:00", "04:00", lh)]
    load = one_day(events, day, lh, "Sun 00:00-24:00")
    assert load["meeting_minutes"] == 150
    assert load["focus_minutes"] == 20 * 60  # 04:00-24:00; 00:00-01:00 is too short


def test_meeting_across_midnight_is_split_between_days() -> None:
    day = date(2026, 6, 16)
    event = CalendarEvent(
        "a",
        datetime(2026, 6, 16, 23, 0, tzinfo=BERLIN),
        datetime(2026, 6, 17, 9, 30, tzinfo=BERLIN),
        EventKind.MEETING,
    )
    loads = day_loads([event], BERLIN, WorkingHours.parse("Mon-Fri 09:00-17:00"), day, 2)
    assert [(x.after_hours_meeting_minutes, x.meeting_minutes) for x in loads] == [
        (60, 0),
        (9 * 60, 30),
    ]


def test_unavailable_day_is_never_overloaded() -> None:
    day = date(2026, 6, 16)
    events = [
        CalendarEvent("x", day, day + timedelta(days=1), EventKind.ALL_DAY, busy=True),
        timed("a", day, "09:00", "16:00", BERLIN),
    ]
    load = one_day(events, day, BERLIN)
    assert load["meeting_minutes"] == 420
    assert load["available"] is False
    assert (load["overloaded"], load["reasons"]) == (False, [])


@pytest.mark.parametrize(
    "away",
    [
        # a free all-day out-of-office event: the whole working day is otherwise free
        CalendarEvent(
            "o", WORKDAY, WORKDAY + timedelta(days=1), EventKind.OUT_OF_OFFICE, busy=False
        ),
        # an all-day opaque event
        CalendarEvent("x", WORKDAY, WORKDAY + timedelta(days=1), EventKind.ALL_DAY, busy=True),
        # a free timed out-of-office event over the working hours
        timed("t", WORKDAY, "08:00", "18:00", BERLIN, EventKind.OUT_OF_OFFICE, busy=False),
    ],
    ids=["all-day-ooo", "all-day-busy", "timed-ooo"],
)
def test_unavailable_day_has_no_focus_time(away: CalendarEvent) -> None:
    # DESIGN.md "Day metrics": on an unavailable day the metrics are computed as usual, but
    # focus_minutes is 0 (an out-of-office day is not "8 h focus"), overloaded is false and
    # reasons are empty. Meetings still count.
    meetings = [timed(f"m{h}", WORKDAY, f"{h:02d}:00", f"{h + 1:02d}:00", BERLIN)
                for h in (9, 10, 11)]  # fmt: skip
    for events in ([away], [away, *meetings]):
        load = one_day(events, WORKDAY, BERLIN)
        assert load["available"] is False
        assert load["focus_minutes"] == 0
        assert (load["overloaded"], load["reasons"]) == (False, [])
    assert one_day([away, *meetings], WORKDAY, BERLIN)["back_to_back_meetings"] == 3
    # the same day without the absence: 12:00-17:00 is five hours of focus
    assert one_day(meetings, WORKDAY, BERLIN)["focus_minutes"] == 300


def test_out_of_office_covering_working_hours_makes_day_unavailable() -> None:
    day = date(2026, 6, 16)
    covering = timed("o", day, "08:00", "18:00", BERLIN, EventKind.OUT_OF_OFFICE)
    partial = timed("p", day, "08:00", "16:00", BERLIN, EventKind.OUT_OF_OFFICE)
    assert one_day([covering], day, BERLIN)["available"] is False
    assert one_day([partial], day, BERLIN)["available"] is True
    # A busy timed out-of-office event is busy time like a solo block: 16:00-17:00 is
    # the only free time, too short for focus.
    assert one_day([partial], day, BERLIN)["focus_minutes"] == 0


def test_all_day_transparent_out_of_office_makes_day_unavailable() -> None:
    # DESIGN.md: "An all-day opaque event, or an out-of-office event covering the day's
    # working hours, makes that day unavailable" - the out-of-office clause has no opacity
    # condition, and the implementation honours that for a *timed* transparent
    # out-of-office event. An all-day one covers the whole date, so it must do the same.
    day = date(2026, 6, 16)
    all_day = CalendarEvent("o", day, day + timedelta(days=1), EventKind.OUT_OF_OFFICE, busy=False)
    timed_free = timed("t", day, "00:00", "23:59", BERLIN, EventKind.OUT_OF_OFFICE, busy=False)
    assert one_day([timed_free], day, BERLIN)["available"] is False
    assert one_day([all_day], day, BERLIN)["available"] is False


def test_an_out_of_office_day_shows_no_focus_in_the_table_and_the_json(tmp_path) -> None:
    # Every consumer reads the domain's day load: `analyze`'s table and its --json.
    from micromoments.plan_text import render_loads
    from micromoments.services.calendar_file import analyse_calendar_file

    ics = tmp_path / "away.ics"
    ics.write_bytes(
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        b"X-WR-TIMEZONE:Europe/Berlin\r\n"
        b"BEGIN:VEVENT\r\nUID:away@test\r\nDTSTAMP:20260601T000000Z\r\n"
        b"DTSTART;VALUE=DATE:20260616\r\nDTEND;VALUE=DATE:20260617\r\n"
        b"SUMMARY:Holiday\r\nTRANSP:TRANSPARENT\r\nX-MICROSOFT-CDO-BUSYSTATUS:OOF\r\n"
        b"END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    plan = analyse_calendar_file(
        ics,
        me="ana@example.com",
        now=datetime(2026, 6, 15, 8, tzinfo=BERLIN),
        start=date(2026, 6, 15),
        days=2,
    ).plan
    monday, tuesday = plan.loads
    assert (monday.available, monday.focus_minutes) == (True, 480)
    assert (tuesday.available, tuesday.to_json()["focus_minutes"]) == (False, 0)
    table = render_loads(plan).splitlines()
    (row,) = [line for line in table if line.startswith("Tue 2026-06-16")]
    assert "8h" not in row and "unavailable" in row
    (row,) = [line for line in table if line.startswith("Mon 2026-06-15")]
    assert "8h" in row
