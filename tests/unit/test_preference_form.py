"""The preferences form's working hours (per day, the same every day, the organisation's),
its time zone, and the sentences that confirm a saved change."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from micromoments.domain.calendar import zone
from micromoments.domain.holds import Hold, HoldKind, HoldStatus, personal_hold_id
from micromoments.domain.hours_form import hours_values, read_hours
from micromoments.domain.people import Preferences
from micromoments.domain.preference_changes import confirmations
from micromoments.domain.preference_form import read_form
from micromoments.domain.working_hours import DEFAULT_WORKING_HOURS, WorkingHours

WEEK = ("Mon", "Tue", "Wed", "Thu", "Fri")
BASE: dict[str, list[str]] = {
    "moments": ["breather", "social"],
    "breather_minutes": ["15"],
    "social_minutes": ["30"],
    "coffee_minutes": ["20"],
    "part_of_day": ["any"],
    "weekly_email": ["on"],
}


def submit(fields: dict[str, Any], current: Preferences | None = None) -> Any:
    form = {**BASE, **{k: v if isinstance(v, list) else [v] for k, v in fields.items()}}
    return read_form(form, current or Preferences())


def per_day(hours: dict[str, tuple[str, str]]) -> dict[str, Any]:
    fields: dict[str, Any] = {"hours_mode": "days"}
    for day, (start, end) in hours.items():
        fields[f"start_{day}"], fields[f"end_{day}"] = start, end
    return fields


def test_hours_per_day_are_stored_per_day() -> None:
    hours = {d: ("09:00", "17:30") for d in WEEK[:4]} | {"Fri": ("09:00", "13:00")}
    result = submit(per_day(hours))
    assert result.errors == {}
    assert str(result.preferences.working_hours) == "Mon-Thu 09:00-17:30, Fri 09:00-13:00"


def test_the_same_every_day_on_the_chosen_days() -> None:
    result = submit({"hours_mode": "same", "same_start": "08:30", "same_end": "16:00",
                     "same_days": ["Mon", "Tue", "Thu", "Sun"]})  # fmt: skip
    assert result.errors == {}
    assert (
        str(result.preferences.working_hours)
        == "Mon-Tue 08:30-16:00, Thu 08:30-16:00, Sun 08:30-16:00"
    )


def test_the_organisations_hours_and_an_evening_until_midnight() -> None:
    current = Preferences(working_hours=WorkingHours.parse("Mon 10:00-18:00"))
    assert submit({"hours_mode": "org"}, current).preferences.working_hours is None
    late = submit(per_day({"Sat": ("18:00", "00:00")})).preferences.working_hours
    assert str(late) == "Sat 18:00-24:00"


def test_a_stored_break_stays_while_its_day_is_sent_back_unchanged() -> None:
    current = WorkingHours.parse("Mon 09:00-12:00, Mon 13:00-17:00, Tue-Fri 09:00-17:00")
    shown = hours_values(current, DEFAULT_WORKING_HOURS)
    assert (shown["hours_mode"], shown["start_Mon"], shown["end_Mon"]) == ("days", "09:00", "17:00")
    assert shown["hours_breaks"] == ["Monday"]
    same, errors = read_hours(shown, current)
    assert errors == {} and same == current
    earlier, _ = read_hours({**shown, "start_Mon": "08:00"}, current)
    assert str(earlier) == "Mon 08:00-17:00, Tue-Fri 09:00-17:00"


@pytest.mark.parametrize(
    "spec",
    ["Mon-Fri 09:00-17:00", "Mon-Thu 09:00-17:30, Fri 09:00-13:00", "Sun-Thu 07:00-15:00",
     "Sat 18:00-24:00", "Mon 06:00-10:00, Wed 14:00-22:00"],
)  # fmt: skip
def test_what_the_form_shows_reads_back_as_the_same_hours(spec: str) -> None:
    hours = WorkingHours.parse(spec)
    values = hours_values(hours, DEFAULT_WORKING_HOURS)
    read, errors = read_hours(values, None)
    assert errors == {} and read == hours
    assert hours_values(None, DEFAULT_WORKING_HOURS)["hours_mode"] == "org"


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        (per_day({"Tue": ("09:00", "")}), "start_Tue", "Give Tuesday a start and an end"),
        (per_day({"Wed": ("17:00", "09:00")}), "start_Wed", "Wednesday ends before it starts"),
        (per_day({"Mon": ("25:00", "26:00")}), "start_Mon", "Write times like 09:00"),
        (per_day({"Mon": ("٠٩:٠٠", "17:00")}), "start_Mon", "Write times like 09:00"),
        (per_day({"Mon": ("9-5", "")}), "start_Mon", "Give Monday a start and an end"),
        (per_day({}), "hours_mode", "at least one day"),
        ({"hours_mode": "same", "same_start": "09:00", "same_end": "17:00"}, "same_days",
         "at least one working day"),
        ({"hours_mode": "same", "same_start": "9", "same_end": "17:00", "same_days": ["Mon"]},
         "same_start", "Write times like 09:00"),
        ({"hours_mode": "same", "same_start": "09:00", "same_end": "17:00",
          "same_days": ["Funday"]}, "same_days", "days of the week"),
        ({"hours_mode": "nights"}, "hours_mode", "Choose your organisation's hours"),
        ({"timezone": "Mars/Olympus"}, "timezone", "'Mars/Olympus' is not a time zone we know"),
        ({"timezone": "localtime"}, "timezone", "not a time zone we know"),
    ],
)  # fmt: skip
def test_invalid_hours_or_zone_are_a_clear_error_and_change_nothing(
    fields: dict[str, Any], field: str, words: str
) -> None:
    current = Preferences(working_hours=WorkingHours.parse("Mon-Fri 10:00-16:00"))
    result = submit(fields, current)
    assert result.preferences is None
    assert words in result.errors[field], result.errors


def test_a_zone_from_the_list_is_taken() -> None:
    assert submit({"timezone": "Asia/Kolkata"}).preferences.timezone == "Asia/Kolkata"
    assert submit({"timezone": ""}).preferences.timezone is None  # the calendar's


# -- confirmations ---------------------------------------------------------------------

BERLIN = zone("Europe/Berlin")
NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # Monday 7 Dec 2026, 09:00 in Berlin
WEDNESDAY = date(2026, 12, 9)


def hold(day: date, hour: int, kind: HoldKind = HoldKind.BREATHER, **kw: Any) -> Hold:
    start = datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN)
    ident = personal_hold_id("ana@example.com", kind, day, hour)
    status = kw.get("status", HoldStatus.PLACED)
    return Hold(ident, kind, start, start + timedelta(minutes=15), True, day, status=status)


HOLDS = [
    hold(WEDNESDAY, 11),
    hold(WEDNESDAY, 15, HoldKind.SOCIAL),
    hold(WEDNESDAY, 16, status=HoldStatus.ADOPTED),  # the person moved it: never touched
    hold(WEDNESDAY, 12, HoldKind.COFFEE),  # shared: its organiser's pairing decides
    hold(WEDNESDAY + timedelta(days=1), 16),
    hold(WEDNESDAY - timedelta(days=7), 11),  # past
]


def confirm(before: Preferences, after: Preferences) -> list[str]:
    hours = (
        before.working_hours or DEFAULT_WORKING_HOURS,
        after.working_hours or DEFAULT_WORKING_HOURS,
    )
    return confirmations(before, after, hours=hours, zones=(BERLIN, BERLIN), holds=HOLDS, now=NOW)


def test_a_new_quiet_day_names_the_holds_it_removes() -> None:
    said = confirm(Preferences(), Preferences(quiet_days=frozenset({2})))
    assert said == ["Wednesday is now quiet: 2 holds on Wed 9 Dec will be removed within the hour."]
    said = confirm(Preferences(), Preferences(quiet_days=frozenset({5})))
    assert said == ["Saturday is now quiet: no holds will be placed on Saturdays."]
    said = confirm(Preferences(quiet_days=frozenset({5}), moments=frozenset({HoldKind.COFFEE})),
                   Preferences(moments=frozenset({HoldKind.COFFEE, HoldKind.SOCIAL})))  # fmt: skip
    assert said == [
        "Social time is on: placed where your days have room, starting within the hour.",
        "Saturday is no longer quiet: holds may be placed there again, starting within the hour.",
    ]


def test_shorter_hours_name_the_holds_outside_them_and_a_kind_turned_off_its_own() -> None:
    after = Preferences(working_hours=WorkingHours.parse("Mon-Fri 09:00-15:00"),
                        moments=frozenset({HoldKind.SOCIAL}))  # fmt: skip
    said = confirm(Preferences(moments=frozenset({HoldKind.BREATHER, HoldKind.SOCIAL})), after)
    assert said == [
        "Breathers are off: 2 holds on Wed 9 Dec and Thu 10 Dec will be removed within the hour.",
        "Your working hours are now Mon-Fri 09:00-15:00: 1 hold on Wed 9 Dec will be moved "
        "inside them or removed within the hour.",
    ]


def test_a_new_zone_says_which_holds_fall_outside_the_hours_there() -> None:
    hours = (DEFAULT_WORKING_HOURS, DEFAULT_WORKING_HOURS)
    zones = (BERLIN, zone("America/New_York"))
    after = Preferences(timezone="America/New_York")
    said = confirmations(Preferences(), after, hours=hours, zones=zones, holds=HOLDS, now=NOW)
    assert said[0] == "Your time zone is now America/New_York."
    assert said[1].startswith("Your working hours (Mon-Fri 09:00-17:00) now apply in "
                              "America/New_York: 1 hold on Wed 9 Dec will be moved")  # fmt: skip


def test_an_unchanged_form_confirms_nothing() -> None:
    assert confirm(Preferences(), Preferences()) == []
    own = Preferences(working_hours=DEFAULT_WORKING_HOURS)  # the org's hours, made one's own
    assert confirm(Preferences(), own) == [
        "Your working hours stay Mon-Fri 09:00-17:00, your own now."
    ]
