"""The digest's numbers against a hand-built week, the trend, the suggestion rules, and when
a digest is due across time zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from micromoments.domain.calendar import EventKind
from micromoments.domain.day_load import DayLoad
from micromoments.domain.digest import (
    DayBar,
    Moments,
    Outcome,
    Outlook,
    WeekNumbers,
    build_digest,
    due_week,
    iso_label,
    monday_of,
    suggestion,
    week_numbers,
)
from micromoments.domain.holds import Hold, HoldKind, HoldStatus
from micromoments.domain.mirror import MirrorEvent

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = date(2026, 11, 23)  # 2026-W48
FRIDAY_EVENING = datetime(2026, 11, 27, 16, 0, tzinfo=BERLIN)


def load(day: date, meetings: int = 0, *, run: int = 0, focus: int = 0, after: int = 0,
         overloaded: bool = False, available: bool = True) -> DayLoad:  # fmt: skip
    return DayLoad(
        date=day,
        available=available,
        meeting_minutes=meetings,
        after_hours_meeting_minutes=after,
        longest_back_to_back_minutes=run,
        back_to_back_meetings=3 if run else 0,
        focus_minutes=focus,
        overloaded=overloaded,
        reasons=("meeting_hours",) if overloaded else (),
    )


def hold(kind: HoldKind, day: date, status: HoldStatus, hour: int = 14) -> Hold:
    start = datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN)
    return Hold(f"mm{kind.value}{day:%d}{status.value}", kind, start,
                start + timedelta(minutes=15), True, day, status=status)  # fmt: skip


# A hand-built week: Mon 6 h (a 3-hour run, overloaded), Tue 2 h, Wed 4 h with 90 minutes
# after hours, Thu 1 h and 3 h of focus, Fri nothing and 6 h of focus; the week before: 8 h.
THIS_WEEK = [
    load(MONDAY, 360, run=180, overloaded=True),
    load(MONDAY + timedelta(days=1), 120, focus=120),
    load(MONDAY + timedelta(days=2), 240, after=90, run=120),
    load(MONDAY + timedelta(days=3), 60, focus=180),
    load(MONDAY + timedelta(days=4), 0, focus=360),
    load(MONDAY + timedelta(days=5)),
    load(MONDAY + timedelta(days=6)),
]
LAST_WEEK = [load(MONDAY - timedelta(days=7 - d), 120 if d < 4 else 0) for d in range(7)]
NEXT_WEEK = [load(MONDAY + timedelta(days=7 + d), m) for d, m in enumerate([60, 420, 90, 0, 30])]


def test_the_numbers_of_a_hand_built_week() -> None:
    numbers = week_numbers(THIS_WEEK + LAST_WEEK + NEXT_WEEK, MONDAY)
    assert numbers.meeting_minutes == 360 + 120 + 240 + 60 == 780
    assert numbers.meeting_hours == 13.0
    assert numbers.longest_run_minutes == 180
    assert numbers.focus_minutes == 660 and numbers.focus_hours == 11.0
    assert numbers.after_hours_minutes == 90
    assert numbers.overloaded_days == 1
    assert [bar.date for bar in numbers.days] == [MONDAY + timedelta(days=d) for d in range(7)]
    assert [bar.meeting_minutes for bar in numbers.days] == [360, 120, 240, 60, 0, 0, 0]


def test_trend_outlook_and_moments() -> None:
    holds = [
        hold(HoldKind.BREATHER, MONDAY, HoldStatus.KEPT),
        hold(HoldKind.BREATHER, MONDAY + timedelta(days=2), HoldStatus.DISMISSED),
        hold(HoldKind.SOCIAL, MONDAY + timedelta(days=1), HoldStatus.KEPT),
        hold(HoldKind.SOCIAL, MONDAY + timedelta(days=4), HoldStatus.PLACED, hour=17),
        hold(HoldKind.BREATHER, MONDAY + timedelta(days=8), HoldStatus.PLACED),  # next week
        hold(HoldKind.SOCIAL, MONDAY + timedelta(days=9), HoldStatus.REMOVED),  # gone
    ]
    chat_start = datetime(2026, 11, 25, 13, tzinfo=BERLIN)
    shared = [
        MirrorEvent(
            "mmchat",
            chat_start,
            chat_start + timedelta(minutes=20),
            EventKind.HOLD,
            hold_id="mmchat",
            hold_kind="coffee",
        ),
        MirrorEvent(
            "mmdrop",
            chat_start + timedelta(days=2),
            chat_start + timedelta(days=2, minutes=15),
            EventKind.HOLD,
            hold_id="mmdrop",
            hold_kind="watercooler",
            declined=True,
        ),
    ]
    digest = build_digest(
        person="ana@example.com",
        timezone="Europe/Berlin",
        label="2026-W48",
        loads=THIS_WEEK + LAST_WEEK + NEXT_WEEK,
        holds=holds,
        shared=shared,
        now=FRIDAY_EVENING,
    )
    assert digest.last_week.meeting_minutes == 480
    assert digest.trend_minutes == 780 - 480
    moments = digest.moments
    assert (moments.breathers_placed, moments.breathers_kept, moments.breathers_dismissed) == (
        2, 1, 1,
    )  # fmt: skip
    assert (moments.social_placed, moments.social_kept) == (2, 1)
    assert moments.coffee is Outcome.HAPPENED
    assert moments.watercooler is Outcome.DECLINED
    assert digest.outlook.heaviest_day == MONDAY + timedelta(days=8)
    assert digest.outlook.heaviest_minutes == 420 and digest.outlook.holds_planned == 1
    assert not digest.quiet
    # the 3-hour run is the most pressing thing in this week
    assert digest.suggestion.rule == "long_run"


def _week(**changes: int) -> WeekNumbers:
    values = {"meeting_minutes": 600, "longest_run_minutes": 90, "focus_minutes": 600,
              "after_hours_minutes": 0, "overloaded_days": 0}  # fmt: skip
    values.update(changes)
    bar = DayBar(MONDAY, values["meeting_minutes"], False, True)
    return WeekNumbers(days=(bar,), **values)


NOTHING = Moments(0, 0, 0, 0, 0, Outcome.NONE, Outcome.NONE)
CALM = Outlook(None, 0, 0)


@pytest.mark.parametrize(
    ("this", "last", "moments", "outlook", "rule"),
    [
        (_week(after_hours_minutes=150, longest_run_minutes=200), _week(), NOTHING, CALM,
         "after_hours"),
        (_week(longest_run_minutes=180), _week(), NOTHING, CALM, "long_run"),
        (_week(), _week(), Moments(3, 1, 2, 0, 0, Outcome.NONE, Outcome.NONE), CALM,
         "breathers_dismissed"),
        (_week(), _week(), NOTHING, Outlook(date(2026, 12, 1), 330, 2), "heavy_day_ahead"),
        (_week(focus_minutes=200), _week(), NOTHING, CALM, "little_focus"),
        (_week(), _week(), Moments(0, 0, 0, 0, 0, Outcome.HAPPENED, Outcome.NONE), CALM,
         "coffee_happened"),
        (_week(meeting_minutes=900), _week(meeting_minutes=600), NOTHING, CALM, "more_meetings"),
        (_week(), _week(), NOTHING, CALM, "steady"),
    ],
)  # fmt: skip
def test_the_suggestion_follows_the_first_rule_the_numbers_meet(
    this: WeekNumbers, last: WeekNumbers, moments: Moments, outlook: Outlook, rule: str
) -> None:
    chosen = suggestion(this, last, moments, outlook)
    assert chosen.rule == rule
    assert chosen == suggestion(this, last, moments, outlook)  # the same week, the same words


def test_heavy_day_ahead_names_the_day() -> None:
    chosen = suggestion(_week(), _week(), NOTHING, Outlook(date(2026, 12, 1), 330, 2))
    assert "Tuesday" in chosen.text and "5 h 30 min" in chosen.text


def test_a_week_with_nothing_is_quiet() -> None:
    empty = build_digest(person="a@example.com", timezone="UTC", label="2026-W48", loads=[],
                         holds=[], shared=[], now=FRIDAY_EVENING)  # fmt: skip
    assert empty.quiet and empty.trend_minutes is None


def test_due_at_the_local_send_time_even_when_utc_says_saturday() -> None:
    honolulu = ZoneInfo("Pacific/Honolulu")  # UTC-10: Friday 15:00 there is Saturday 01:00 UTC
    send_day, send_minute = 4, 15 * 60
    at = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
    assert at.astimezone(honolulu).strftime("%a %H:%M") == "Fri 15:00"
    assert due_week(at - timedelta(minutes=1), honolulu, send_day, send_minute) is None
    assert due_week(at, honolulu, send_day, send_minute) == "2026-W48"  # their week, not W48+
    assert due_week(at + timedelta(days=2), honolulu, send_day, send_minute) == "2026-W48"
    # Berlin reached its Friday 15:00 a day earlier; UTC alone would have said Saturday's week
    assert due_week(at, BERLIN, send_day, send_minute) == "2026-W48"
    monday_utc = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)  # Sunday evening in Honolulu
    assert due_week(monday_utc, honolulu, send_day, send_minute) == "2026-W48"
    assert due_week(monday_utc, BERLIN, send_day, send_minute) is None  # a new week there


def test_iso_labels_round_trip() -> None:
    for day in (date(2026, 1, 1), date(2026, 12, 31), date(2027, 1, 3), MONDAY):
        label = iso_label(day)
        assert monday_of(label) <= day < monday_of(label) + timedelta(days=7)
