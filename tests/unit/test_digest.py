"""The digest's numbers against a hand-built week, the trend, the suggestion rules, and when
a digest is due across time zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import pytest

from micromoments.domain.calendar import CalendarEvent, EventKind
from micromoments.domain.day_load import day_loads
from micromoments.domain.digest import (
    DayBar,
    Digest,
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
from micromoments.domain.holds import HoldKind, HoldStatus
from micromoments.domain.mirror import MirrorEvent
from micromoments.domain.working_hours import WorkingHours
from tests import builders

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = date(2026, 11, 23)  # 2026-W48
FRIDAY_EVENING = datetime(2026, 11, 27, 16, 0, tzinfo=BERLIN)


load = builders.day_load


hold = partial(builders.hold, hour=14, busy=True)


# A hand-built week: Mon 6 h (a 3-hour run, overloaded), Tue 2 h, Wed 4 h in working hours
# and 90 minutes after, Thu 1 h and 3 h of focus, Fri nothing and 6 h of focus; the week
# before: 8 h.
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
    # a day's meeting time is every meeting minute of it, in working hours or not
    assert numbers.meeting_minutes == 360 + 120 + (240 + 90) + 60 == 870
    assert numbers.meeting_hours == 14.5
    assert numbers.longest_run_minutes == 180
    assert numbers.focus_minutes == 660 and numbers.focus_hours == 11.0
    assert numbers.after_hours_minutes == 90
    assert numbers.overloaded_days == 1
    assert [bar.date for bar in numbers.days] == [MONDAY + timedelta(days=d) for d in range(7)]
    assert [bar.meeting_minutes for bar in numbers.days] == [360, 120, 330, 60, 0, 0, 0]
    assert sum(bar.meeting_minutes for bar in numbers.days) == numbers.meeting_minutes


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
    assert digest.trend_minutes == 870 - 480
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


# -- what is on the person's calendar -------------------------------------------------------


def _copy(event_id: str, kind: str, start: datetime, **flags: bool) -> MirrorEvent:
    """A shared event as a calendar shows it (the organiser's, or a guest's copy)."""
    return MirrorEvent(event_id, start, start + timedelta(minutes=20), EventKind.HOLD,
                       hold_id=event_id, hold_kind=kind, **flags)  # fmt: skip


def _digest(**changes: object) -> Digest:
    values: dict[str, object] = {
        "person": "ana@example.com", "timezone": "Europe/Berlin", "label": "2026-W48",
        "loads": THIS_WEEK + LAST_WEEK + NEXT_WEEK, "holds": [], "shared": [],
        "now": FRIDAY_EVENING,
    }  # fmt: skip
    values.update(changes)
    return build_digest(**values)  # type: ignore[arg-type]


def test_a_guests_shared_moments_count_as_planned_and_as_done() -> None:
    # Ana is a guest: the organisers hold the records, her calendar holds the copies.
    wednesday = datetime(2026, 11, 25, 13, tzinfo=BERLIN)
    next_tuesday = datetime(2026, 12, 1, 11, tzinfo=BERLIN)
    mirror = [
        _copy("mmdrop", "watercooler", wednesday),  # this week, over by Friday
        _copy("mmchat", "coffee", next_tuesday),  # next week
        _copy("mmnope", "coffee", next_tuesday + timedelta(days=1), declined=True),
        _copy("mmgone", "watercooler", next_tuesday + timedelta(days=2), cancelled=True),
    ]
    own = [hold(HoldKind.BREATHER, MONDAY + timedelta(days=8), HoldStatus.PLACED)]
    digest = _digest(holds=own, shared=mirror)
    assert digest.moments.watercooler is Outcome.HAPPENED
    assert digest.moments.coffee is Outcome.NONE  # next week's is not this week's
    # her breather and the chat she was invited to; not the declined or cancelled ones
    assert digest.outlook.holds_planned == 2


def test_an_organisers_shared_moment_counts_once() -> None:
    # Ana organises: her hold record and her calendar's event are the same moment.
    chat = hold(HoldKind.COFFEE, MONDAY + timedelta(days=8), HoldStatus.PLACED)
    planned = hold(HoldKind.WATERCOOLER, MONDAY + timedelta(days=9), HoldStatus.PLANNED)
    gone = hold(HoldKind.COFFEE, MONDAY + timedelta(days=10), HoldStatus.REMOVED)
    mirror = [_copy(chat.id, "coffee", chat.start), _copy(gone.id, "coffee", gone.start)]
    digest = _digest(holds=[chat, planned, gone], shared=mirror)
    # the chat once, the drop-in not placed yet; the removed one not (its record says so)
    assert digest.outlook.holds_planned == 2


def test_the_busiest_day_counts_meeting_time_as_the_bars_do() -> None:
    # Next Monday: 4 h in working hours and 2 h after them; next Tuesday: 5 h, all inside.
    following = MONDAY + timedelta(days=7)
    ahead = [load(following, 240, after=120), load(following + timedelta(days=1), 300)]
    # This Saturday: a 3-hour meeting, all of it outside working hours (a weekend).
    saturday = load(MONDAY + timedelta(days=5), 0, after=180)
    digest = _digest(loads=[*THIS_WEEK[:5], saturday, *ahead])
    bars = {bar.date: bar.meeting_minutes for bar in digest.this_week.days}
    assert bars[MONDAY + timedelta(days=5)] == 180  # not an empty bar
    assert digest.this_week.meeting_minutes == sum(bars.values())
    assert (digest.outlook.heaviest_day, digest.outlook.heaviest_minutes) == (following, 360)


def test_a_week_before_the_first_scan_has_no_numbers() -> None:
    # Ana's first scan was this Wednesday: last week's loads (read from her calendar, all
    # zero here) were never observed by micromoments, so there is no "0 h" trend.
    zeros = [load(MONDAY - timedelta(days=7 - d)) for d in range(7)]
    wednesday = datetime(2026, 11, 25, 10, tzinfo=BERLIN)
    first = _digest(loads=THIS_WEEK + zeros, observed_since=wednesday)
    assert first.first_week and first.last_week.empty and first.trend_minutes is None
    assert first.this_week.meeting_minutes == 870  # this week was observed
    # scanned since before last week ended: the trend is real, whatever the numbers
    earlier = _digest(loads=THIS_WEEK + zeros, observed_since=wednesday - timedelta(days=7))
    assert not earlier.first_week and earlier.trend_minutes == 870
    # not recorded (people scanned before it was): every stored week counts
    assert _digest(loads=THIS_WEEK + zeros).trend_minutes == 870


def test_little_focus_allows_for_days_away() -> None:
    # Four days out of office have no focus time: two hours on the one day in is not little.
    days = [DayBar(MONDAY + timedelta(days=d), 0, False, available=d == 4) for d in range(5)]
    away = WeekNumbers(60, 0, 120, 0, 0, tuple(days))
    assert suggestion(away, _week(), NOTHING, CALM).rule == "steady"
    present = WeekNumbers(60, 0, 120, 0, 0, tuple(DayBar(b.date, 0, False, True) for b in days))
    assert suggestion(present, _week(), NOTHING, CALM).rule == "little_focus"


def test_an_out_of_office_day_adds_no_focus_to_the_week() -> None:
    holiday = CalendarEvent("away", MONDAY, MONDAY + timedelta(days=4), EventKind.OUT_OF_OFFICE,
                            busy=False)  # fmt: skip
    loads = day_loads([holiday], BERLIN, WorkingHours.parse("Mon-Fri 09:00-17:00"), MONDAY, 7)
    digest = _digest(loads=loads)
    assert digest.this_week.focus_minutes == 8 * 60  # Friday only


def test_a_chat_only_planned_never_happened() -> None:
    # the organiser's record of a chat that never reached a calendar (its time passed first)
    never = hold(HoldKind.COFFEE, MONDAY + timedelta(days=1), HoldStatus.PLANNED)
    assert _digest(holds=[never]).moments.coffee is Outcome.DECLINED
    placed = hold(HoldKind.COFFEE, MONDAY + timedelta(days=1), HoldStatus.KEPT)
    assert _digest(holds=[placed]).moments.coffee is Outcome.HAPPENED
