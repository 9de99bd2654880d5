"""Expanding the event mirror: recurrences, exceptions, DST, and parity with the ICS adapter."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from micromoments.adapters.ics import read_calendar
from micromoments.adapters.mirror_expansion import expand_mirror, occurrence_uid
from micromoments.domain.calendar import CalendarEvent, EventKind
from micromoments.domain.holds import HoldKind, hold_uid, personal_hold_id
from micromoments.domain.mirror import MirrorEvent

BERLIN = ZoneInfo("Europe/Berlin")
ME = "me@example.com"
# Monday 16 March to Monday 6 April 2026, Berlin time; DST starts on Sunday 29 March.
START = datetime(2026, 3, 16, tzinfo=BERLIN)
END = datetime(2026, 4, 6, tzinfo=BERLIN)


def berlin(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN)


def standup(*recurrence: str, **changes: object) -> MirrorEvent:
    """A weekly Monday 09:00-09:15 Berlin meeting, first on 16 March."""
    values: dict[str, object] = {
        "id": "standup",
        "start": berlin(16, 9).astimezone(UTC),  # Google sends an offset; the zone says where
        "end": berlin(16, 9, 15).astimezone(UTC),
        "kind": EventKind.MEETING,
        "start_zone": "Europe/Berlin",
        "recurrence": recurrence or ("RRULE:FREQ=WEEKLY;BYDAY=MO",),
    }
    values.update(changes)
    return MirrorEvent(**values)  # type: ignore[arg-type]


def local_starts(events: list[CalendarEvent]) -> list[datetime]:
    return [e.start.astimezone(BERLIN) for e in events if isinstance(e.start, datetime)]


def test_weekly_meeting_stays_at_nine_local_across_dst() -> None:
    events = expand_mirror([standup()], start=START, end=END)
    assert local_starts(events) == [berlin(16, 9), berlin(23, 9), berlin(30, 9)]
    utc_hours = [e.start.hour for e in events if isinstance(e.start, datetime)]
    assert utc_hours == [8, 8, 7]  # CET then CEST
    assert all(e.start.tzinfo == UTC for e in events if isinstance(e.start, datetime))
    assert [e.end - e.start for e in events] == [timedelta(minutes=15)] * 3  # type: ignore[operator]
    assert [e.uid for e in events] == [
        "standup/2026-03-16T08:00:00+00:00",
        "standup/2026-03-23T08:00:00+00:00",
        "standup/2026-03-30T07:00:00+00:00",
    ]
    assert all(e.kind is EventKind.MEETING and e.busy and e.counts for e in events)


def test_exdate_in_the_zone_or_in_utc_removes_the_occurrence() -> None:
    with_tzid = standup("RRULE:FREQ=WEEKLY;BYDAY=MO", "EXDATE;TZID=Europe/Berlin:20260323T090000")
    assert local_starts(expand_mirror([with_tzid], start=START, end=END)) == [
        berlin(16, 9),
        berlin(30, 9),
    ]
    in_utc = standup("RRULE:FREQ=WEEKLY;BYDAY=MO", "EXDATE:20260330T070000Z")
    assert local_starts(expand_mirror([in_utc], start=START, end=END)) == [
        berlin(16, 9),
        berlin(23, 9),
    ]


def test_until_count_and_rdate() -> None:
    until = standup("RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20260323T235959Z")
    assert local_starts(expand_mirror([until], start=START, end=END)) == [
        berlin(16, 9),
        berlin(23, 9),
    ]
    count = standup("RRULE:FREQ=DAILY;COUNT=2", "RDATE;TZID=Europe/Berlin:20260401T100000")
    assert local_starts(expand_mirror([count], start=START, end=END)) == [
        berlin(16, 9),
        berlin(17, 9),
        berlin(1, 10, month=4),
    ]


def test_moved_instance_carries_its_own_facts() -> None:
    moved = MirrorEvent(
        id="standup_20260323T080000Z",
        start=berlin(24, 14),
        end=berlin(24, 14, 30),
        kind=EventKind.MEETING,
        declined=True,
        start_zone="Europe/Berlin",
        recurring_event_id="standup",
        original_start=berlin(23, 9).astimezone(UTC),
    )
    events = expand_mirror([standup(), moved], start=START, end=END)
    assert local_starts(events) == [berlin(16, 9), berlin(24, 14), berlin(30, 9)]
    instance = events[1]
    assert instance.uid == "standup/2026-03-23T08:00:00+00:00"  # keyed by its original start
    assert instance.declined and not instance.counts
    assert not events[0].declined and not events[2].declined


def test_instance_moved_out_of_the_window_leaves_no_ghost() -> None:
    moved = MirrorEvent(
        id="standup_x",
        start=berlin(10, 9, month=4),
        end=berlin(10, 9, 15, month=4),
        kind=EventKind.MEETING,
        recurring_event_id="standup",
        original_start=berlin(23, 9),
    )
    events = expand_mirror([standup(), moved], start=START, end=END)
    assert local_starts(events) == [berlin(16, 9), berlin(30, 9)]


def test_cancelled_instance_removes_its_occurrence() -> None:
    # What incremental sync sends for a deleted occurrence: the original start stands in
    # for start and end (see google_calendar.normalise).
    original = berlin(30, 9).astimezone(UTC)
    cancelled = MirrorEvent(
        id="standup_20260330T070000Z",
        start=original,
        end=original,
        kind=EventKind.SOLO,
        cancelled=True,
        recurring_event_id="standup",
        original_start=original,
    )
    events = expand_mirror([standup(), cancelled], start=START, end=END)
    assert local_starts(events) == [berlin(16, 9), berlin(23, 9)]


def test_exception_without_its_master_is_a_standalone_occurrence() -> None:
    orphan = MirrorEvent(
        id="weekly_20260318T120000Z",
        start=datetime(2026, 3, 18, 13, tzinfo=UTC),
        end=datetime(2026, 3, 18, 14, tzinfo=UTC),
        kind=EventKind.SOLO,
        busy=False,
        recurring_event_id="weekly",
        original_start=datetime(2026, 3, 18, 12, tzinfo=UTC),
    )
    gone = MirrorEvent(
        id="weekly_20260319T120000Z",
        start=datetime(2026, 3, 19, 12, tzinfo=UTC),
        end=datetime(2026, 3, 19, 12, tzinfo=UTC),
        kind=EventKind.SOLO,
        cancelled=True,
        recurring_event_id="weekly",
        original_start=datetime(2026, 3, 19, 12, tzinfo=UTC),
    )
    events = expand_mirror([orphan, gone], start=START, end=END)
    assert events == [
        CalendarEvent(
            uid=occurrence_uid("weekly", datetime(2026, 3, 18, 12, tzinfo=UTC)),
            start=datetime(2026, 3, 18, 13, tzinfo=UTC),
            end=datetime(2026, 3, 18, 14, tzinfo=UTC),
            kind=EventKind.SOLO,
            busy=False,
        )
    ]


def test_all_day_single_keeps_its_dates() -> None:
    offsite = MirrorEvent(
        id="offsite", start=date(2026, 3, 19), end=date(2026, 3, 21), kind=EventKind.ALL_DAY
    )
    assert expand_mirror([offsite], start=START, end=END) == [
        CalendarEvent(
            uid="offsite", start=date(2026, 3, 19), end=date(2026, 3, 21), kind=EventKind.ALL_DAY
        )
    ]


def test_all_day_series_with_date_exdate_and_cancelled_instance() -> None:
    master = MirrorEvent(
        id="gym",
        start=date(2026, 3, 17),
        end=date(2026, 3, 18),
        kind=EventKind.ALL_DAY,
        busy=False,
        recurrence=("RRULE:FREQ=WEEKLY", "EXDATE;VALUE=DATE:20260324"),
    )
    cancelled = MirrorEvent(
        id="gym_20260331",
        start=date(2026, 3, 31),
        end=date(2026, 3, 31),
        kind=EventKind.ALL_DAY,
        cancelled=True,
        recurring_event_id="gym",
        original_start=date(2026, 3, 31),
    )
    events = expand_mirror([master, cancelled], start=START, end=END)
    assert [(e.uid, e.start, e.end, e.busy) for e in events] == [
        ("gym/2026-03-17", date(2026, 3, 17), date(2026, 3, 18), False)
    ]


def test_singles_keep_every_fact_and_only_overlapping_ones_are_returned() -> None:
    hold_id = personal_hold_id(ME, HoldKind.BREATHER, date(2026, 3, 17))
    hold = MirrorEvent(
        id=hold_id,
        start=datetime(2026, 3, 17, 12, tzinfo=UTC),
        end=datetime(2026, 3, 17, 12, 15, tzinfo=UTC),
        kind=EventKind.HOLD,
        hold_id=hold_id,
        hold_kind="breather",
        etag='"1"',
    )
    dismissed = MirrorEvent(
        id="dismissed",
        start=datetime(2026, 3, 18, 12, tzinfo=UTC),
        end=datetime(2026, 3, 18, 13, tzinfo=UTC),
        kind=EventKind.HOLD,
        cancelled=True,
        hold_id="dismissed",
        hold_kind="social",
    )
    across_start = MirrorEvent(
        id="night",
        start=START - timedelta(hours=1),
        end=START + timedelta(hours=1),
        kind=EventKind.SOLO,
    )
    before = MirrorEvent(
        id="before",
        start=START - timedelta(hours=2),
        end=START,
        kind=EventKind.SOLO,
    )
    after = MirrorEvent(id="after", start=END, end=END + timedelta(hours=1), kind=EventKind.SOLO)
    events = expand_mirror([after, hold, dismissed, across_start, before], start=START, end=END)
    assert [e.uid for e in events] == ["night", hold_id, "dismissed"]
    assert events[1].hold_id == hold_id and events[1].hold_kind == "breather"
    assert events[2].cancelled and not events[2].counts


def test_cancelled_master_gives_cancelled_occurrences() -> None:
    events = expand_mirror([standup(cancelled=True)], start=START, end=END)
    assert len(events) == 3 and not any(e.counts for e in events)


def test_unreadable_rule_keeps_the_first_occurrence_only() -> None:
    broken = standup("RRULE:FREQ=SOMETIMES;BYDAY=XX")
    events = expand_mirror([broken], start=START, end=END)
    assert [(e.uid, e.start) for e in events] == [("standup", berlin(16, 8).replace(tzinfo=UTC))]


def test_foreign_lines_in_recurrence_are_ignored() -> None:
    sneaky = standup("RRULE:FREQ=WEEKLY;BYDAY=MO", "SUMMARY:hello", "END:VEVENT")
    assert len(expand_mirror([sneaky], start=START, end=END)) == 3


def test_unknown_zone_expands_in_utc() -> None:
    odd = standup(start_zone="Mars/Olympus")
    starts = [e.start for e in expand_mirror([odd], start=START, end=END)]
    assert [s.hour for s in starts if isinstance(s, datetime)] == [8, 8, 8]


def test_window_must_be_aware_and_ordered() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        expand_mirror([], start=datetime(2026, 3, 16), end=END)
    with pytest.raises(ValueError, match="after start"):
        expand_mirror([], start=END, end=START)


# -- the same calendar as an .ics file -----------------------------------------------------

HOLD_ID = personal_hold_id(ME, HoldKind.SOCIAL, date(2026, 3, 20))

ICS = f"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:standup
DTSTART;TZID=Europe/Berlin:20260316T090000
DTEND;TZID=Europe/Berlin:20260316T091500
RRULE:FREQ=WEEKLY;BYDAY=MO,WE
EXDATE;TZID=Europe/Berlin:20260318T090000
EXDATE;TZID=Europe/Berlin:20260401T090000
ORGANIZER:mailto:lead@example.com
ATTENDEE;PARTSTAT=ACCEPTED:mailto:{ME}
END:VEVENT
BEGIN:VEVENT
UID:standup
RECURRENCE-ID;TZID=Europe/Berlin:20260325T090000
DTSTART;TZID=Europe/Berlin:20260325T113000
DTEND;TZID=Europe/Berlin:20260325T120000
ORGANIZER:mailto:lead@example.com
ATTENDEE;PARTSTAT=DECLINED:mailto:{ME}
END:VEVENT
BEGIN:VEVENT
UID:focus
DTSTART:20260317T130000Z
DTEND:20260317T150000Z
END:VEVENT
BEGIN:VEVENT
UID:lunch
DTSTART;TZID=Europe/Berlin:20260318T120000
DTEND;TZID=Europe/Berlin:20260318T130000
TRANSP:TRANSPARENT
END:VEVENT
BEGIN:VEVENT
UID:offsite
DTSTART;VALUE=DATE:20260319
DTEND;VALUE=DATE:20260320
END:VEVENT
BEGIN:VEVENT
UID:vacation
DTSTART;VALUE=DATE:20260402
DTEND;VALUE=DATE:20260404
X-MICROMOMENTS-EVENT-TYPE:OUTOFOFFICE
END:VEVENT
BEGIN:VEVENT
UID:{hold_uid(HOLD_ID, HoldKind.SOCIAL)}
DTSTART:20260320T140000Z
DTEND:20260320T143000Z
TRANSP:TRANSPARENT
END:VEVENT
BEGIN:VEVENT
UID:daily
DTSTART;TZID=Europe/Berlin:20260327T083000
DTEND;TZID=Europe/Berlin:20260327T090000
RRULE:FREQ=DAILY;COUNT=4
END:VEVENT
END:VCALENDAR
"""


def mirror_of_the_ics() -> list[MirrorEvent]:
    """The events of `ICS` as the Google adapter stores them."""
    return [
        MirrorEvent(
            id="standup",
            start=berlin(16, 9).astimezone(UTC),
            end=berlin(16, 9, 15).astimezone(UTC),
            kind=EventKind.MEETING,
            start_zone="Europe/Berlin",
            recurrence=(
                "RRULE:FREQ=WEEKLY;BYDAY=MO,WE",
                "EXDATE;TZID=Europe/Berlin:20260318T090000",
            ),
        ),
        MirrorEvent(
            id="standup_20260325T080000Z",
            start=berlin(25, 11, 30),
            end=berlin(25, 12),
            kind=EventKind.MEETING,
            declined=True,
            start_zone="Europe/Berlin",
            recurring_event_id="standup",
            original_start=berlin(25, 9),
        ),
        MirrorEvent(  # deleted in Google: a cancelled instance; an EXDATE in the file
            id="standup_20260401T070000Z",
            start=berlin(1, 9, month=4),
            end=berlin(1, 9, month=4),
            kind=EventKind.SOLO,
            cancelled=True,
            recurring_event_id="standup",
            original_start=berlin(1, 9, month=4).astimezone(UTC),
        ),
        MirrorEvent(
            id="focus",
            start=datetime(2026, 3, 17, 13, tzinfo=UTC),
            end=datetime(2026, 3, 17, 15, tzinfo=UTC),
            kind=EventKind.SOLO,
        ),
        MirrorEvent(
            id="lunch",
            start=berlin(18, 12),
            end=berlin(18, 13),
            kind=EventKind.SOLO,
            busy=False,
            start_zone="Europe/Berlin",
        ),
        MirrorEvent(
            id="offsite", start=date(2026, 3, 19), end=date(2026, 3, 20), kind=EventKind.ALL_DAY
        ),
        MirrorEvent(
            id="vacation",
            start=date(2026, 4, 2),
            end=date(2026, 4, 4),
            kind=EventKind.OUT_OF_OFFICE,
        ),
        MirrorEvent(
            id=HOLD_ID,
            start=datetime(2026, 3, 20, 14, tzinfo=UTC),
            end=datetime(2026, 3, 20, 14, 30, tzinfo=UTC),
            kind=EventKind.HOLD,
            busy=False,
            hold_id=HOLD_ID,
            hold_kind="social",
        ),
        MirrorEvent(
            id="daily",
            start=berlin(27, 8, 30),
            end=berlin(27, 9),
            kind=EventKind.SOLO,
            start_zone="Europe/Berlin",
            recurrence=("RRULE:FREQ=DAILY;COUNT=4",),
        ),
    ]


def comparable(event: CalendarEvent) -> tuple[object, ...]:
    uid = event.hold_id or event.uid  # a hold's .ics UID carries its kind
    return (
        uid,
        event.start,
        event.end,
        event.kind,
        event.busy,
        event.declined,
        event.counts,
        event.hold_kind,
    )


def test_mirror_and_ics_give_the_same_occurrences() -> None:
    from_ics = read_calendar(ICS, me=ME, start=START, end=END)
    assert from_ics.warnings == []
    from_mirror = expand_mirror(mirror_of_the_ics(), start=START, end=END)
    assert [comparable(e) for e in from_mirror] == [comparable(e) for e in from_ics.events]
    # The daily series crosses the DST change at 08:30 local every day.
    daily = [e for e in from_mirror if e.uid.startswith("daily/")]
    assert local_starts(daily) == [berlin(d, 8, 30) for d in (27, 28, 29, 30)]
    assert len(from_mirror) == 13
