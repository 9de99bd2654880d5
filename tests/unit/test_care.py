"""The care outcomes (`micromoments.local.care`) on small hand-built calendars: each figure
moves when the property it measures breaks, and only then."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from micromoments.domain.calendar import CalendarEvent, EventKind
from micromoments.domain.holds import HoldKind
from micromoments.domain.people import Person, PersonStatus, Preferences
from micromoments.domain.settings import OrgSettings
from micromoments.local.care import (
    OUTSIDE_WORKING_HOURS,
    OVER_ANOTHER_HOLD,
    OVER_BUSY_TIME,
    OVER_CAP,
    QUIET_DAY,
    TARGETS,
    UNAVAILABLE_DAY,
    CareHold,
    CarePerson,
    CoffeeGroup,
    care_outcomes,
)
from tests.builders import at, meeting

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = date(2026, 6, 15)  # the window: this week and the next, from Monday 07:00
TUESDAY = MONDAY + timedelta(days=1)
NEXT_MONDAY = MONDAY + timedelta(weeks=1)
NOW = datetime(2026, 6, 15, 7, 0, tzinfo=BERLIN)
ORG = OrgSettings(timezone="Europe/Berlin")


def run(day: date, end: str = "12:00") -> list[CalendarEvent]:
    """Three back-to-back meetings from 09:00 to ``end``: an overloaded day."""
    stop = at(day, end)
    step = (stop - at(day, "09:00")) / 3
    starts = [at(day, "09:00") + step * i for i in range(3)]
    return [
        CalendarEvent(uid=f"run-{day}-{i}", start=s, end=s + step, kind=EventKind.MEETING)
        for i, s in enumerate(starts)
    ]


def hold(kind: HoldKind, day: date, start: str, minutes: int = 15) -> CareHold:
    begin = at(day, start)
    return CareHold(kind, begin, begin + timedelta(minutes=minutes))


def person(
    email: str = "ada@example.com",
    *,
    status: PersonStatus = PersonStatus.ACTIVE,
    **preferences: object,
) -> Person:
    prefs = Preferences(timezone="Europe/Berlin", **preferences)  # type: ignore[arg-type]
    return Person(email=email, status=status, preferences=prefs)


def one(
    events: Sequence[CalendarEvent], holds: Sequence[CareHold] = (), **prefs: object
) -> CarePerson:
    return CarePerson(person(**prefs), list(events), list(holds))  # type: ignore[arg-type]


def away(day: date, days: int = 1) -> CalendarEvent:
    return CalendarEvent(f"away-{day}", day, day + timedelta(days=days), EventKind.OUT_OF_OFFICE)


# -- breather coverage ------------------------------------------------------------------------


def test_a_run_with_a_free_gap_after_it_and_no_breather_lowers_coverage() -> None:
    missed = care_outcomes([one(run(TUESDAY))], ORG, now=NOW)
    assert (missed.breather_days_covered, missed.breather_days_eligible) == (0, 1)
    assert missed.breather_coverage == 0.0
    assert "breather_coverage" in missed.missed()

    covered = care_outcomes(
        [one(run(TUESDAY), [hold(HoldKind.BREATHER, TUESDAY, "12:00", 10)])], ORG, now=NOW
    )
    assert (covered.breather_days_covered, covered.breather_days_eligible) == (1, 1)
    assert covered.breather_coverage == 1.0


def test_a_breather_on_another_day_does_not_cover_the_run() -> None:
    wednesday = TUESDAY + timedelta(days=1)
    outcomes = care_outcomes(
        [one(run(TUESDAY), [hold(HoldKind.BREATHER, wednesday, "12:00")])], ORG, now=NOW
    )
    assert (outcomes.breather_days_covered, outcomes.breather_days_eligible) == (0, 1)


def test_a_run_with_no_free_gap_in_the_hour_after_it_is_not_counted() -> None:
    blocked = [*run(TUESDAY), meeting(TUESDAY, "12:00", "13:05", EventKind.SOLO)]
    outcomes = care_outcomes([one(blocked)], ORG, now=NOW)
    assert outcomes.breather_days_eligible == 0
    assert outcomes.breather_days_without_gap == 1
    assert outcomes.breather_coverage == 1.0  # nothing was owed


@pytest.mark.parametrize(
    ("block_until", "eligible"),
    [
        ("12:51", 0),  # 9 free minutes before the hour is over
        ("12:50", 1),  # exactly 10
        ("12:00", 1),
    ],
)
def test_the_gap_must_hold_ten_minutes_inside_the_hour_after_the_run(
    block_until: str, eligible: int
) -> None:
    events = [*run(TUESDAY)]
    if block_until != "12:00":
        events.append(meeting(TUESDAY, "12:00", block_until, EventKind.SOLO))
    events.append(meeting(TUESDAY, "13:00", "17:00", EventKind.SOLO))
    outcomes = care_outcomes([one(events)], ORG, now=NOW)
    assert outcomes.breather_days_eligible == eligible


def test_the_gap_must_be_inside_working_hours() -> None:
    late = run(TUESDAY, end="17:00")  # 09:00-17:00: the hour after it is after work
    outcomes = care_outcomes([one(late)], ORG, now=NOW)
    assert outcomes.breather_days_eligible == 0
    assert outcomes.breather_days_without_gap == 1


def test_days_that_are_not_overloaded_workdays_of_the_window_are_not_counted() -> None:
    light = [meeting(TUESDAY, "09:00", "09:30"), meeting(TUESDAY, "09:30", "10:00")]
    assert care_outcomes([one(light)], ORG, now=NOW).breather_days_eligible == 0
    # unavailable (out of office), a quiet day, a weekend day, after the window
    saturday = MONDAY + timedelta(days=5)
    after = MONDAY + timedelta(weeks=2)
    for events, prefs in (
        ([*run(TUESDAY), away(TUESDAY)], {}),
        (run(TUESDAY), {"quiet_days": frozenset({1})}),
        (run(saturday), {}),
        (run(after), {}),
    ):
        outcomes = care_outcomes([one(events, (), **prefs)], ORG, now=NOW)
        assert outcomes.breather_days_eligible == 0, (events[0].start, prefs)


def test_a_gap_already_past_is_not_owed() -> None:
    later = at(TUESDAY, "13:30")  # the run ended at 12:00: its hour is over
    outcomes = care_outcomes([one(run(TUESDAY))], ORG, now=later)
    assert outcomes.breather_days_eligible == 0
    # but a gap that is still ahead is owed
    ahead = care_outcomes([one(run(TUESDAY))], ORG, now=at(TUESDAY, "12:30"))
    assert ahead.breather_days_eligible == 1


def test_only_active_people_who_want_breathers_are_counted() -> None:
    people = [
        one(run(TUESDAY), moments=frozenset({HoldKind.SOCIAL})),
        CarePerson(person(status=PersonStatus.LEAVING), run(TUESDAY)),
    ]
    assert care_outcomes(people, ORG, now=NOW).breather_days_eligible == 0


# -- social moments every week ----------------------------------------------------------------


def test_a_week_without_a_social_kind_hold_misses_the_person() -> None:
    first_week_only = one([], [hold(HoldKind.SOCIAL, TUESDAY, "14:30", 30)])
    outcomes = care_outcomes([first_week_only], ORG, now=NOW)
    assert (outcomes.social_people_every_week, outcomes.social_people) == (0, 1)
    assert "social_weekly_share" in outcomes.missed()

    # a coffee chat (their own, or a copy of someone else's) counts as social
    both = one(
        [],
        [hold(HoldKind.SOCIAL, TUESDAY, "14:30", 30), hold(HoldKind.COFFEE, NEXT_MONDAY, "13:00")],
    )
    outcomes = care_outcomes([both], ORG, now=NOW)
    assert (outcomes.social_people_every_week, outcomes.social_people) == (1, 1)
    # a breather does not
    breather = one(
        run(NEXT_MONDAY),
        [
            hold(HoldKind.SOCIAL, TUESDAY, "14:30", 30),
            hold(HoldKind.BREATHER, NEXT_MONDAY, "12:00"),
        ],
    )
    assert care_outcomes([breather], ORG, now=NOW).social_people_every_week == 0


def test_a_week_the_person_is_away_for_is_not_held_against_them() -> None:
    on_holiday = one(
        [away(NEXT_MONDAY, 7)], [hold(HoldKind.SOCIAL, TUESDAY, "14:30", 30)]
    )  # out of office all next week
    outcomes = care_outcomes([on_holiday], ORG, now=NOW)
    assert (outcomes.social_people_every_week, outcomes.social_people) == (1, 1)
    # away the whole window: not counted at all
    gone = one([away(MONDAY, 14)])
    assert care_outcomes([gone], ORG, now=NOW).social_people == 0


def test_a_week_booked_solid_is_not_held_against_them() -> None:
    """A social hold needs 15 free minutes 10 minutes clear of meetings: a week with none
    left (meetings, solo blocks and the breathers that come first) owes nothing; 15 such
    minutes owe one."""
    next_week = [NEXT_MONDAY + timedelta(days=d) for d in range(5)]
    solid = [meeting(day, "09:00", "17:00", EventKind.SOLO) for day in next_week]
    first_week_social = hold(HoldKind.SOCIAL, TUESDAY, "14:30", 30)
    outcomes = care_outcomes([one(solid, [first_week_social])], ORG, now=NOW)
    assert (outcomes.social_people_every_week, outcomes.social_people) == (1, 1)

    gap = [meeting(day, "09:00", "17:00", EventKind.SOLO) for day in next_week[1:]]
    gap += [*run(NEXT_MONDAY), meeting(NEXT_MONDAY, "12:25", "17:00", EventKind.SOLO)]
    outcomes = care_outcomes([one(gap, [first_week_social])], ORG, now=NOW)
    assert (outcomes.social_people_every_week, outcomes.social_people) == (0, 1)
    # 15 free minutes right after the run are no room: a social hold there would join it
    tight = [*gap[:-1], meeting(NEXT_MONDAY, "12:15", "17:00", EventKind.SOLO)]
    outcomes = care_outcomes([one(tight, [first_week_social])], ORG, now=NOW)
    assert (outcomes.social_people_every_week, outcomes.social_people) == (1, 1)
    # the breather after the run took those 15 minutes: by rule it comes first
    breather = hold(HoldKind.BREATHER, NEXT_MONDAY, "12:00")
    outcomes = care_outcomes([one(gap, [first_week_social, breather])], ORG, now=NOW)
    assert (outcomes.social_people_every_week, outcomes.social_people) == (1, 1)


def test_people_who_want_no_social_kind_are_not_counted() -> None:
    outcomes = care_outcomes([one([], moments=frozenset({HoldKind.BREATHER}))], ORG, now=NOW)
    assert outcomes.social_people == 0
    assert outcomes.social_weekly_share == 1.0


# -- the coffee pool --------------------------------------------------------------------------


def test_the_coffee_pool_counts_people_in_live_groups() -> None:
    names = [f"p{i}@example.com" for i in range(6)]
    people = [CarePerson(person(name), []) for name in names]
    people.append(  # away all the paired week: not in the pool
        CarePerson(person("away@example.com"), [away(NEXT_MONDAY, 7)])
    )
    people.append(  # does not want coffee
        CarePerson(person("no@example.com", moments=frozenset({HoldKind.SOCIAL})), [])
    )
    groups = [
        CoffeeGroup((names[0], names[1])),
        CoffeeGroup((names[2], names[3], names[4])),
        CoffeeGroup((names[5], "away@example.com"), live=False),  # cancelled: declined
    ]
    outcomes = care_outcomes(people, ORG, now=NOW, coffee_groups=groups, coffee_week=NEXT_MONDAY)
    assert (outcomes.coffee_paired, outcomes.coffee_pool) == (5, 6)
    assert outcomes.coffee_paired_share == pytest.approx(5 / 6)
    assert "coffee_paired_share" in outcomes.missed()
    # no round: no pool
    assert care_outcomes(people, ORG, now=NOW).coffee_pool == 0


# -- misplaced holds --------------------------------------------------------------------------


def misplaced(
    holds: Sequence[CareHold], events: Sequence[CalendarEvent] = (), **prefs: object
) -> dict[str, int]:
    """The misplaced holds of one person: their count and how many for each reason."""
    outcomes = care_outcomes([one(events, holds, **prefs)], ORG, now=NOW)
    assert outcomes.holds_checked == len(holds)
    return {"count": outcomes.misplaced_holds, **outcomes.misplaced}


def test_well_placed_holds_are_not_misplaced() -> None:
    holds = [
        hold(HoldKind.BREATHER, TUESDAY, "12:00"),
        hold(HoldKind.SOCIAL, TUESDAY, "14:30", 30),
        hold(HoldKind.COFFEE, NEXT_MONDAY, "13:00", 20),
        hold(HoldKind.WATERCOOLER, NEXT_MONDAY + timedelta(days=1), "15:00"),
    ]
    assert misplaced(holds, run(TUESDAY)) == {"count": 0}


@pytest.mark.parametrize(
    ("holds", "events", "prefs", "reason"),
    [
        ([hold(HoldKind.SOCIAL, TUESDAY, "17:00", 30)], [], {}, OUTSIDE_WORKING_HOURS),
        ([hold(HoldKind.SOCIAL, TUESDAY, "08:50", 30)], [], {}, OUTSIDE_WORKING_HOURS),
        (
            [hold(HoldKind.SOCIAL, MONDAY + timedelta(days=5), "12:00")],
            [],
            {},
            OUTSIDE_WORKING_HOURS,
        ),
        ([hold(HoldKind.SOCIAL, TUESDAY, "12:00")], [away(TUESDAY)], {}, UNAVAILABLE_DAY),
        (
            [hold(HoldKind.SOCIAL, TUESDAY, "12:00")],
            [CalendarEvent("offsite", TUESDAY, TUESDAY + timedelta(days=1), EventKind.ALL_DAY)],
            {},
            UNAVAILABLE_DAY,
        ),
        ([hold(HoldKind.SOCIAL, TUESDAY, "12:00")], [], {"quiet_days": frozenset({1})}, QUIET_DAY),
        ([hold(HoldKind.BREATHER, TUESDAY, "11:50")], run(TUESDAY), {}, OVER_BUSY_TIME),
    ],
)
def test_a_hold_where_it_must_not_be_is_misplaced(
    holds: list[CareHold], events: list[CalendarEvent], prefs: dict[str, object], reason: str
) -> None:
    found = misplaced(holds, events, **prefs)
    assert found["count"] == 1
    assert found[reason] == 1


def test_overlapping_holds_are_misplaced_both() -> None:
    holds = [hold(HoldKind.BREATHER, TUESDAY, "12:00"), hold(HoldKind.SOCIAL, TUESDAY, "12:10", 30)]
    assert misplaced(holds, run(TUESDAY)) == {"count": 2, OVER_ANOTHER_HOLD: 2}


@pytest.mark.parametrize(
    "holds",
    [
        # two social-kind holds one day
        [hold(HoldKind.SOCIAL, TUESDAY, "10:00", 30), hold(HoldKind.COFFEE, TUESDAY, "14:00", 20)],
        # two breathers one day
        [hold(HoldKind.BREATHER, TUESDAY, "12:00"), hold(HoldKind.BREATHER, TUESDAY, "14:00")],
        # three social holds in a week (2 allowed)
        [hold(HoldKind.SOCIAL, MONDAY + timedelta(days=d), "14:30", 30) for d in range(3)],
        # two coffee chats in a week
        [hold(HoldKind.COFFEE, MONDAY + timedelta(days=d), "13:00", 20) for d in range(2)],
        # two watercoolers in a week
        [hold(HoldKind.WATERCOOLER, MONDAY + timedelta(days=d), "15:00") for d in range(2)],
        # six holds in a week (5 in all)
        [hold(HoldKind.BREATHER, MONDAY + timedelta(days=d), "12:00") for d in range(5)]
        + [hold(HoldKind.SOCIAL, TUESDAY, "15:00", 30)],
    ],
    ids=[
        "social-kind-a-day",
        "breather-a-day",
        "social-week",
        "coffee-week",
        "water-week",
        "total",
    ],
)
def test_a_hold_past_a_cap_is_misplaced(holds: list[CareHold]) -> None:
    assert misplaced(holds) == {"count": 1, OVER_CAP: 1}


def test_the_person_s_own_lower_cap_counts() -> None:
    holds = [hold(HoldKind.BREATHER, MONDAY + timedelta(days=d), "12:00") for d in range(3)]
    assert misplaced(holds)["count"] == 0
    assert misplaced(holds, holds_per_week=2) == {"count": 1, OVER_CAP: 1}


def test_a_hold_with_several_faults_counts_once() -> None:
    found = misplaced([hold(HoldKind.SOCIAL, TUESDAY, "18:00", 30)], [away(TUESDAY)])
    assert found == {"count": 1, OUTSIDE_WORKING_HOURS: 1, UNAVAILABLE_DAY: 1}


# -- runs lengthened by holds -----------------------------------------------------------------


def test_a_social_kind_hold_next_to_a_meeting_lengthens_its_run() -> None:
    """The coffee chat at 09:40-10:00 right before a 10:00-12:35 run is counted; one that
    keeps 10 minutes clear, and a breather right after its run, are not."""
    morning = [meeting(TUESDAY, "10:00", "11:00"), meeting(TUESDAY, "11:00", "12:35")]
    near = one(morning, [hold(HoldKind.COFFEE, TUESDAY, "09:40", 20)])
    outcomes = care_outcomes([near], ORG, now=NOW)
    assert (outcomes.runs_lengthened_by_holds, outcomes.clearance_holds_checked) == (1, 1)
    assert "runs_lengthened_by_holds" in outcomes.missed()
    for kind, start in [
        (HoldKind.SOCIAL, "12:40"),  # 5 minutes after the run: it would join it
        (HoldKind.WATERCOOLER, "12:30"),  # over the run's last meeting
        (HoldKind.SOCIAL, "09:36"),  # ends 1 minute short of the clearance
    ]:
        late = care_outcomes([one(morning, [hold(kind, TUESDAY, start, 15)])], ORG, now=NOW)
        assert late.runs_lengthened_by_holds == 1, (kind, start)
    clear = one(
        morning,
        [
            hold(HoldKind.COFFEE, TUESDAY, "09:30", 20),  # ends exactly 10 minutes before
            hold(HoldKind.BREATHER, TUESDAY, "12:35", 15),  # right after its run, by design
            hold(HoldKind.SOCIAL, NEXT_MONDAY, "09:40", 20),  # another day, no meeting
        ],
    )
    outcomes = care_outcomes([clear], ORG, now=NOW)
    assert (outcomes.runs_lengthened_by_holds, outcomes.clearance_holds_checked) == (0, 2)
    assert "runs_lengthened_by_holds" not in outcomes.missed()


# -- social time of their own -----------------------------------------------------------------


def test_a_coffee_chat_alone_is_not_social_time_of_one_s_own() -> None:
    """Someone who wants social time, with a free afternoon next week and only a coffee
    chat there, misses; a social hold of their own that week counts."""
    this_week = hold(HoldKind.SOCIAL, TUESDAY, "14:30", 30)
    only_coffee = one([], [this_week, hold(HoldKind.COFFEE, NEXT_MONDAY, "13:00")])
    outcomes = care_outcomes([only_coffee], ORG, now=NOW)
    assert (outcomes.personal_social_people, outcomes.personal_social_owed) == (0, 1)
    assert outcomes.social_weekly_share == 1.0  # social every week, but not their own
    assert "personal_social_share" in outcomes.missed()
    own = one(
        [],
        [
            this_week,
            hold(HoldKind.COFFEE, NEXT_MONDAY, "13:00"),
            hold(HoldKind.SOCIAL, NEXT_MONDAY + timedelta(days=2), "14:30", 30),
        ],
    )
    outcomes = care_outcomes([own], ORG, now=NOW)
    assert (outcomes.personal_social_people, outcomes.personal_social_owed) == (1, 1)
    assert outcomes.personal_social_share == 1.0


def test_a_week_without_room_for_a_social_hold_of_one_s_own_owes_none() -> None:
    this_week = hold(HoldKind.SOCIAL, TUESDAY, "14:30", 30)
    # next week's cap is full: four breathers and a coffee chat
    next_week = [NEXT_MONDAY + timedelta(days=d) for d in range(5)]
    runs = [m for day in next_week for m in run(day)]
    full = [hold(HoldKind.BREATHER, day, "12:00", 10) for day in next_week[:4]]
    full.append(hold(HoldKind.COFFEE, next_week[4], "14:00"))
    outcomes = care_outcomes([one(runs, [this_week, *full])], ORG, now=NOW)
    assert (outcomes.personal_social_people, outcomes.personal_social_owed) == (1, 1)
    # the only free time is on the coffee chat's day: one social-kind hold a day
    busy = [meeting(day, "09:00", "17:00", EventKind.SOLO) for day in next_week[:4]]
    coffee = hold(HoldKind.COFFEE, next_week[4], "14:00")
    outcomes = care_outcomes([one(busy, [this_week, coffee])], ORG, now=NOW)
    assert (outcomes.personal_social_people, outcomes.personal_social_owed) == (1, 1)
    # nobody who does not want social holds, and nobody with no room at all, is counted
    wants_coffee = one([], moments=frozenset({HoldKind.COFFEE}))
    gone = one([away(MONDAY, 14)])
    outcomes = care_outcomes([wants_coffee, gone], ORG, now=NOW)
    assert outcomes.personal_social_owed == 0 and outcomes.personal_social_share == 1.0


def test_the_summary_shape() -> None:
    outcomes = care_outcomes([one(run(TUESDAY))], ORG, now=NOW)
    doc = outcomes.to_json()
    assert {
        "breather_coverage",
        "social_weekly_share",
        "coffee_paired_share",
        "misplaced_holds",
        "runs_lengthened_by_holds",
        "personal_social_share",
    } <= set(doc)
    assert doc["targets"] == TARGETS
    assert doc["breather_days_eligible"] == 1
    assert set(outcomes.missed()) == {
        "breather_coverage",
        "social_weekly_share",
        "personal_social_share",
    }
