"""The ICS adapter against hand-made, real-world-shaped exports (Google, Outlook, Apple)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest

from micromoments.adapters import ics
from micromoments.adapters.ics import (
    CalendarFileError,
    CalendarZone,
    IcsWarning,
    ParsedCalendar,
    expand,
    load_calendar,
    read_calendar,
    write_holds,
)
from micromoments.domain.calendar import CalendarEvent, EventKind
from micromoments.domain.holds import Hold, HoldKind, hold_uid, personal_hold_id

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ics"
SAMPLE = Path(ics.__file__).resolve().parents[1] / "local" / "samples" / "sample.ics"
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def by_uid(parsed: ParsedCalendar) -> dict[str, CalendarEvent]:
    events = {event.uid: event for event in parsed.events}
    assert len(events) == len(parsed.events), "occurrence uids must be distinct"
    return events


def series(parsed: ParsedCalendar, uid: str) -> list[CalendarEvent]:
    return [event for event in parsed.events if event.uid.split("/", 1)[0] == uid]


def wrap(*lines: str) -> str:
    """A minimal VCALENDAR around some VEVENT lines."""
    return "\r\n".join(
        ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", *lines, "END:VCALENDAR"]
    )


def vevent(uid: str, *lines: str) -> list[str]:
    return ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20260301T120000Z", *lines, "END:VEVENT"]


MARCH = {"start": datetime(2026, 3, 1, tzinfo=BERLIN), "end": datetime(2026, 4, 20, tzinfo=BERLIN)}


# -- Google Calendar export ------------------------------------------------------------

GOOGLE_STANDUP = "7kukuqrfedlm2f9t0vr42q2hg8@google.com"


@pytest.fixture(scope="module")
def google() -> ParsedCalendar:
    return load_calendar(FIXTURES / "google.ics", me="dana@example.com", **MARCH)


def test_google_export_reads_cleanly_with_its_timezone(google: ParsedCalendar) -> None:
    assert google.warnings == []
    assert google.timezone == "Europe/Berlin"


def test_google_weekly_standup_keeps_local_time_across_berlin_dst(google: ParsedCalendar) -> None:
    standups = series(google, GOOGLE_STANDUP)
    starts = [event.start for event in standups]
    assert starts == [
        utc(2026, 3, 2, 8, 0),  # 09:00 CET
        utc(2026, 3, 10, 13, 0),  # the 9 March instance, moved to Tuesday 14:00 CET
        # 16 March: EXDATE
        utc(2026, 3, 23, 8, 0),  # 09:00 CET, the last Monday before 29 March
        utc(2026, 3, 30, 7, 0),  # 09:00 CEST: same wall clock, one hour earlier in UTC
        utc(2026, 4, 6, 7, 0),
        utc(2026, 4, 13, 7, 0),
    ]
    assert all(event.end - event.start == timedelta(minutes=15) for event in standups)
    assert all(event.kind is EventKind.MEETING and event.counts for event in standups)


def test_google_occurrence_uids_name_the_original_start(google: ParsedCalendar) -> None:
    events = by_uid(google)
    moved = events[f"{GOOGLE_STANDUP}/2026-03-09T08:00:00+00:00"]
    assert moved.start == utc(2026, 3, 10, 13, 0)
    assert f"{GOOGLE_STANDUP}/2026-03-30T07:00:00+00:00" in events
    # A single event keeps its plain UID.
    assert "0b5r7t9v1x3z5a7c9e1g3i5k7m@google.com" in events


def test_google_utc_series_follows_x_wr_timezone(google: ParsedCalendar) -> None:
    """Google writes UTC but means the calendar's zone: 16:00 Berlin stays 16:00 after DST."""
    one_on_ones = series(google, "3q9l1v0c6p2e8a7j5mbn4k1r0s@google.com")
    assert [event.start for event in one_on_ones] == [
        utc(2026, 3, 26, 15, 0),
        utc(2026, 4, 2, 14, 0),
    ]
    assert {event.kind for event in one_on_ones} == {EventKind.MEETING}


def test_google_invitation_answers(google: ParsedCalendar) -> None:
    events = by_uid(google)
    declined = events["0b5r7t9v1x3z5a7c9e1g3i5k7m@google.com"]  # MAILTO:Dana@Example.com
    assert declined.declined and not declined.counts
    assert declined.kind is EventKind.MEETING
    tentative = events["5h2j4l6n8p0r2t4v6x8z0b2d4f@google.com"]
    assert not tentative.declined and tentative.counts and tentative.busy
    unanswered = events["9c1e3g5i7k9m1o3q5s7u9w1y3a@google.com"]
    assert not unanswered.declined and unanswered.kind is EventKind.MEETING  # the organizer


def test_google_all_day_transparent_cancelled_and_solo(google: ParsedCalendar) -> None:
    events = by_uid(google)
    offsite = events["2a4c6e8g0i2k4m6o8q0s2u4w6y@google.com"]
    assert (offsite.start, offsite.end) == (date(2026, 3, 6), date(2026, 3, 7))
    assert offsite.all_day and offsite.busy and offsite.kind is EventKind.ALL_DAY
    birthday = events["4b6d8f0h2j4l6n8p0r2t4v6x8z@google.com"]
    assert birthday.all_day and not birthday.busy
    lunch = events["6c8e0g2i4k6m8o0q2s4u6w8y0a@google.com"]
    assert not lunch.busy and lunch.kind is EventKind.SOLO
    # A focus block with a booked room is still solo: rooms are not participants.
    focus = events["8d0f2h4j6l8n0p2r4t6v8x0z2b@google.com"]
    assert focus.kind is EventKind.SOLO and focus.busy
    assert (focus.start, focus.end) == (utc(2026, 3, 3, 8, 0), utc(2026, 3, 3, 10, 0))
    cancelled = events["1e3g5i7k9m1o3q5s7u9w1y3a5c@google.com"]
    assert cancelled.cancelled and not cancelled.counts
    # Outside the window.
    assert "0f2h4j6l8n0p2r4t6v8x0z2b4d@google.com" not in events


def test_timed_events_are_utc_instants(google: ParsedCalendar) -> None:
    for event in google.events:
        if isinstance(event.start, datetime):
            assert event.start.tzinfo is UTC and isinstance(event.end, datetime)
            assert event.end.tzinfo is UTC
        else:
            assert type(event.start) is date and type(event.end) is date


def test_output_keeps_no_titles_descriptions_locations_or_addresses(
    google: ParsedCalendar,
) -> None:
    text = repr(google)
    for secret in (
        "example.com",
        "stand-up",
        "Pipeline",
        "Lisbon",
        "Canteen",
        "meet.google",
        "Lee",
    ):
        assert secret not in text


# -- Outlook / Exchange export ---------------------------------------------------------

OUTLOOK_PLANNING = (
    "040000008200E00074C5B7101A82E00800000000B0E4A5C2F1A7DC01000000000000000010000000"
    "4C1E5D0B2D8E14A4F9D4B6E4C2E3F1A2B"
)


@pytest.fixture(scope="module")
def outlook() -> list[CalendarEvent]:
    parsed = load_calendar(FIXTURES / "outlook.ics", me="Sam.Jones@example.com", **MARCH)
    assert parsed.warnings == []
    # No X-WR-TIMEZONE: the only VTIMEZONE's Windows name, mapped to IANA.
    assert parsed.timezone == "Europe/Berlin"
    return parsed.events


def _outlook_uid(tail: str, events: list[CalendarEvent]) -> CalendarEvent:
    (match,) = [event for event in events if event.uid.endswith(tail)]
    return match


def test_outlook_windows_zone_series_crosses_dst(outlook: list[CalendarEvent]) -> None:
    planning = [event for event in outlook if event.uid.startswith(OUTLOOK_PLANNING + "/")]
    starts = [event.start for event in planning]
    assert starts == [
        utc(2026, 3, 16, 8, 0),
        utc(2026, 3, 23, 8, 0),
        utc(2026, 3, 30, 7, 0),
        utc(2026, 4, 6, 7, 0),
        utc(2026, 4, 13, 7, 0),  # UNTIL=20260413T070000Z is inclusive
    ]
    assert planning[2].uid == f"{OUTLOOK_PLANNING}/2026-03-30T07:00:00+00:00"
    # BUSYSTATUS TENTATIVE and PARTSTAT NEEDS-ACTION still count.
    assert all(e.kind is EventKind.MEETING and e.busy and e.counts for e in planning)


def test_outlook_quoted_windows_zone_without_vtimezone(outlook: list[CalendarEvent]) -> None:
    call = _outlook_uid("AABBCCDDEEFF00112233445566778899", outlook)
    # 08:00 "Pacific Standard Time" on 18 March 2026 is PDT (DST began 8 March).
    assert (call.start, call.end) == (utc(2026, 3, 18, 15, 0), utc(2026, 3, 18, 16, 0))


def test_outlook_all_day_flag_turns_midnight_times_into_dates(
    outlook: list[CalendarEvent],
) -> None:
    workshop = _outlook_uid("99887766554433221100FFEEDDCCBBAA", outlook)
    assert (workshop.start, workshop.end) == (date(2026, 3, 19), date(2026, 3, 20))
    assert workshop.kind is EventKind.ALL_DAY and workshop.busy


def test_outlook_busy_status(outlook: list[CalendarEvent]) -> None:
    doctor = _outlook_uid("123456789ABCDEF0123456789ABCDEF0", outlook)
    assert doctor.kind is EventKind.OUT_OF_OFFICE and doctor.busy
    assert (doctor.start, doctor.end) == (utc(2026, 3, 24, 12, 0), utc(2026, 3, 24, 16, 0))
    holiday = _outlook_uid("0F1E2D3C4B5A69788796A5B4C3D2E1F0", outlook)
    assert holiday.kind is EventKind.OUT_OF_OFFICE and holiday.all_day
    assert (holiday.start, holiday.end) == (date(2026, 4, 1), date(2026, 4, 4))
    lunch = _outlook_uid("FEDCBA9876543210FEDCBA9876543210", outlook)
    assert not lunch.busy
    # FREE without any TRANSP line is free too.
    reading = _outlook_uid("00112233445566778899AABBCCDDEEFF", outlook)
    assert not reading.busy and reading.kind is EventKind.SOLO


# -- Apple Calendar export -------------------------------------------------------------

APPLE_REVIEW = "9F1B2C3D-4E5F-4A6B-8C7D-0E1F2A3B4C5D"
APPLE_DENTIST = "1C2D3E4F-5A6B-4C7D-8E9F-A0B1C2D3E4F5"
APPLE_GYM = "7A8B9C0D-1E2F-4A3B-9C4D-5E6F7A8B9C0D"


def test_apple_new_york_series_across_both_dst_changes() -> None:
    spring = load_calendar(
        FIXTURES / "apple.ics",
        me="kim@example.com",
        start=datetime(2026, 3, 1, tzinfo=NEW_YORK),
        end=datetime(2026, 3, 15, tzinfo=NEW_YORK),
    )
    autumn = load_calendar(
        FIXTURES / "apple.ics",
        me="kim@example.com",
        start=datetime(2026, 10, 26, tzinfo=NEW_YORK),
        end=datetime(2026, 11, 9, tzinfo=NEW_YORK),
    )
    assert spring.timezone == "America/New_York"
    # Fridays 10:00 New York: EST before 8 March, EDT after, EST again after 1 November.
    assert [e.start for e in series(spring, APPLE_REVIEW)] == [
        utc(2026, 3, 6, 15),
        utc(2026, 3, 13, 14),
    ]
    assert [e.start for e in series(autumn, APPLE_REVIEW)] == [
        utc(2026, 10, 30, 14),
        utc(2026, 11, 6, 15),
    ]


def test_apple_urn_uuid_addresses_are_matched_by_email_parameter() -> None:
    parsed = load_calendar(FIXTURES / "apple.ics", me="kim@example.com", **MARCH)
    review = series(parsed, APPLE_REVIEW)[0]
    assert review.kind is EventKind.MEETING  # Jordan attends; Kim is organizer and chair
    alone = read_calendar(
        wrap(
            *vevent(
                "apple-solo",
                "DTSTART:20260302T090000Z",
                "DTEND:20260302T100000Z",
                'ORGANIZER;CN="Kim Lee";EMAIL="kim@example.com":urn:uuid:2b8f',
                'ATTENDEE;CN="Kim Lee";EMAIL="KIM@example.com";PARTSTAT=DECLINED:urn:uuid:2b8f',
            )
        ),
        me="kim@example.com",
        **MARCH,
    )
    (event,) = alone.events
    assert event.kind is EventKind.SOLO and event.declined


def test_apple_floating_times_default_to_the_zone_its_events_use() -> None:
    """No X-WR-TIMEZONE: the person's local times are those of the zone the events are
    written in (America/New_York), not UTC."""
    parsed = load_calendar(FIXTURES / "apple.ics", me="kim@example.com", **MARCH)
    assert parsed.warnings == []
    assert parsed.timezone == "America/New_York"
    assert parsed.zone == CalendarZone("America/New_York", "TZID", "America/New_York")
    given = load_calendar(
        FIXTURES / "apple.ics", me="kim@example.com", floating_tz=NEW_YORK, **MARCH
    )
    assert parsed.events == given.events


def test_apple_floating_times_in_utc_when_asked() -> None:
    parsed = load_calendar(FIXTURES / "apple.ics", me="kim@example.com", floating_tz=UTC, **MARCH)
    assert parsed.warnings == []
    dentist = by_uid(parsed)[APPLE_DENTIST]
    assert (dentist.start, dentist.end) == (utc(2026, 3, 9, 12), utc(2026, 3, 9, 13))
    # A floating weekly series with a floating UNTIL.
    assert [e.start for e in series(parsed, APPLE_GYM)] == [
        utc(2026, 3, 3, 7),
        utc(2026, 3, 10, 7),
        utc(2026, 3, 17, 7),
    ]
    spring_break = by_uid(parsed)["F0E1D2C3-B4A5-4968-8776-655443322110"]
    assert (spring_break.start, spring_break.end) == (date(2026, 3, 10), date(2026, 3, 11))
    assert not spring_break.busy


def test_apple_floating_times_in_the_given_zone() -> None:
    parsed = load_calendar(
        FIXTURES / "apple.ics", me="kim@example.com", floating_tz=NEW_YORK, **MARCH
    )
    dentist = by_uid(parsed)[APPLE_DENTIST]
    assert dentist.start == utc(2026, 3, 9, 16)  # 12:00 EDT
    # 07:00 New York: EST on 3 March, EDT from 10 March.
    assert [e.start for e in series(parsed, APPLE_GYM)] == [
        utc(2026, 3, 3, 12),
        utc(2026, 3, 10, 11),
        utc(2026, 3, 17, 11),
    ]


def test_floating_times_use_x_wr_timezone_over_floating_tz() -> None:
    text = wrap(
        "X-WR-TIMEZONE:Europe/Berlin",
        *vevent("floating", "DTSTART:20260302T090000", "DTEND:20260302T100000"),
    )
    parsed = read_calendar(text, me="me@example.com", floating_tz=NEW_YORK, **MARCH)
    assert parsed.events[0].start == utc(2026, 3, 2, 8)


def test_windows_x_wr_timezone_is_mapped_to_iana() -> None:
    text = wrap(
        "X-WR-TIMEZONE:W. Europe Standard Time",
        *vevent("floating", "DTSTART:20260302T090000", "DTEND:20260302T100000"),
    )
    parsed = read_calendar(text, me="me@example.com", **MARCH)
    assert parsed.timezone == "Europe/Berlin"
    assert parsed.events[0].start == utc(2026, 3, 2, 8)
    assert parsed.warnings == []


def test_unknown_x_wr_timezone_is_a_warning() -> None:
    text = wrap(
        "X-WR-TIMEZONE:Narnia/Cair_Paravel",
        *vevent("floating", "DTSTART:20260302T090000", "DTEND:20260302T100000"),
    )
    parsed = read_calendar(text, me="me@example.com", **MARCH)
    assert parsed.timezone is None
    assert parsed.events[0].start == utc(2026, 3, 2, 9)
    assert parsed.warnings == [
        IcsWarning("", "unknown X-WR-TIMEZONE 'Narnia/Cair_Paravel' ignored")
    ]


def test_custom_vtimezone_is_read_from_the_file_itself() -> None:
    """Two files may reuse a made-up TZID with different rules; each file's own block wins."""
    block = [
        "BEGIN:VTIMEZONE",
        "TZID:Customized Time Zone",
        "BEGIN:STANDARD",
        "DTSTART:16010101T000000",
        "TZOFFSETFROM:{0}",
        "TZOFFSETTO:{0}",
        "END:STANDARD",
        "END:VTIMEZONE",
    ]
    event = vevent(
        "custom",
        "DTSTART;TZID=Customized Time Zone:20260302T090000",
        "DTEND;TZID=Customized Time Zone:20260302T100000",
    )
    india = read_calendar(wrap(*[line.format("+0530") for line in block], *event), me="m", **MARCH)
    nepal = read_calendar(wrap(*[line.format("+0545") for line in block], *event), me="m", **MARCH)
    assert india.events[0].start == utc(2026, 3, 2, 3, 30)
    assert nepal.events[0].start == utc(2026, 3, 2, 3, 15)


# -- bad events among good ones --------------------------------------------------------


@pytest.fixture(scope="module")
def bad() -> ParsedCalendar:
    return load_calendar(FIXTURES / "bad_events.ics", me="dana@example.com", **MARCH)


def test_bad_events_are_skipped_with_a_warning_naming_them(bad: ParsedCalendar) -> None:
    assert bad.warnings == [
        IcsWarning("no-start@example.com", "skipped: an event with no start (no DTSTART)"),
        IcsWarning(
            "backwards@example.com", "skipped: it ends before it starts (DTEND before DTSTART)"
        ),
        IcsWarning("unknown-zone@example.com", "skipped: unknown time zone 'Mars/Olympus_Mons'"),
        IcsWarning("garbled-start@example.com", "skipped: unreadable DTSTART"),
        IcsWarning(
            "series-with-bad-instance@example.com",
            "one occurrence (originally at 2026-03-05T09:00:00+00:00) skipped: "
            "unknown time zone 'Nowhere/Special'",
        ),
    ]
    for warning in bad.warnings:
        assert "\n" not in warning.message


def test_good_events_next_to_bad_ones_are_analysed(bad: ParsedCalendar) -> None:
    events = by_uid(bad)
    assert set(events) == {
        "good-meeting@example.com",
        "series-with-bad-instance@example.com/2026-03-04T09:00:00+00:00",
        # 5 March: the moved instance was unreadable, and its slot is not brought back.
        "series-with-bad-instance@example.com/2026-03-06T09:00:00+00:00",
        "with-duration@example.com",
        "one-day@example.com",
        "no-uid-10",
        "no-end@example.com",
    }
    assert events["good-meeting@example.com"].kind is EventKind.MEETING
    planning = events["with-duration@example.com"]
    assert planning.end - planning.start == timedelta(minutes=45)
    one_day = events["one-day@example.com"]
    assert (one_day.start, one_day.end) == (date(2026, 3, 9), date(2026, 3, 10))
    # A start and no end nor duration is a zero-length event (RFC 5545 3.6.1).
    no_end = events["no-end@example.com"]
    assert (no_end.start, no_end.end) == (utc(2026, 3, 3, 9), utc(2026, 3, 3, 9))


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["DTSTART;VALUE=DATE:20260302", "DTEND:20260302T100000Z"], "mix a date and a date-time"),
        (["DTSTART:20260302T090000Z", "DURATION:-PT1H"], "negative DURATION"),
        (["DTSTART:20260302T090000Z", "DTEND:20260302T091000Z", "RRULE:FREQ=MINUTELY"], "hourly"),
        (
            ["DTSTART:20260302T090000Z", "DTEND:20260302T100000Z", "RRULE:FREQ=WEEKLY;BYDAY=XX"],
            "RRULE",
        ),
        (
            [
                "DTSTART:20260302T090000Z",
                "DTEND:20260302T100000Z",
                "RRULE:FREQ=DAILY;COUNT=3",
                "EXDATE;TZID=Foo/Bar:20260303T090000",
            ],
            "unknown time zone 'Foo/Bar'",
        ),
    ],
)
def test_more_bad_events(lines: list[str], message: str) -> None:
    text = wrap(
        *vevent("bad", *lines),
        *vevent("good", "DTSTART:20260303T090000Z", "DTEND:20260303T100000Z"),
    )
    parsed = read_calendar(text, me="me@example.com", **MARCH)
    assert [event.uid for event in parsed.events] == ["good"]
    (warning,) = parsed.warnings
    assert warning.uid == "bad" and message in warning.message


def test_a_series_the_library_cannot_expand_is_skipped_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_of = ics.recurring_ical_events.of

    def fragile_of(calendar: icalendar.Calendar, *args: object, **kwargs: object) -> object:
        if any(str(c.get("UID")) == "fragile" for c in calendar.walk("VEVENT")):
            raise ValueError("boom\nwith a second line")
        return real_of(calendar, *args, **kwargs)

    monkeypatch.setattr(ics.recurring_ical_events, "of", fragile_of)
    text = wrap(
        *vevent("fragile", "DTSTART:20260302T090000Z", "DTEND:20260302T100000Z"),
        *vevent("sturdy", "DTSTART:20260303T090000Z", "DTEND:20260303T100000Z"),
    )
    parsed = read_calendar(text, me="me@example.com", **MARCH)
    assert [event.uid for event in parsed.events] == ["sturdy"]
    assert parsed.warnings == [
        IcsWarning("fragile", "skipped: cannot expand it (boom with a second line)")
    ]


# -- kinds from non-standard properties ------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "kind", "busy"),
    [
        ("X-GOOGLE-EVENT-TYPE:outOfOffice", EventKind.OUT_OF_OFFICE, True),
        ("X-MICROMOMENTS-EVENT-TYPE:outOfOffice", EventKind.OUT_OF_OFFICE, True),
        ("X-MICROMOMENTS-EVENT-TYPE:workingLocation", EventKind.WORKING_LOCATION, False),
        ("X-GOOGLE-EVENT-TYPE:focusTime", EventKind.SOLO, True),
        ("X-MICROSOFT-CDO-BUSYSTATUS:OOF", EventKind.OUT_OF_OFFICE, True),
        ("X-MICROSOFT-CDO-BUSYSTATUS:FREE", EventKind.SOLO, False),
    ],
)
def test_event_types(extra: str, kind: EventKind, busy: bool) -> None:
    text = wrap(
        *vevent(
            "typed", "DTSTART:20260302T080000Z", "DTEND:20260302T160000Z", "TRANSP:OPAQUE", extra
        )
    )
    (event,) = read_calendar(text, me="me@example.com", **MARCH).events
    assert (event.kind, event.busy) == (kind, busy)


def test_organizer_alone_is_not_a_meeting_but_another_organizer_is() -> None:
    text = wrap(
        *vevent(
            "mine",
            "DTSTART:20260302T080000Z",
            "DTEND:20260302T090000Z",
            "ORGANIZER:mailto:ME@Example.com",
            "ATTENDEE;PARTSTAT=ACCEPTED:mailto:me@example.com",
        ),
        *vevent(
            "theirs",
            "DTSTART:20260302T100000Z",
            "DTEND:20260302T110000Z",
            "ORGANIZER:mailto:boss@example.com",
        ),
    )
    events = by_uid(read_calendar(text, me="mailto:me@example.com", **MARCH))
    assert events["mine"].kind is EventKind.SOLO
    assert events["theirs"].kind is EventKind.MEETING


# -- the window ------------------------------------------------------------------------


def test_window_is_half_open_and_overlap_based() -> None:
    text = wrap(
        *vevent("ends-at-start", "DTSTART:20260301T220000Z", "DTEND:20260301T230000Z"),
        *vevent("straddles-start", "DTSTART:20260301T223000Z", "DTEND:20260302T000000Z"),
        *vevent("starts-at-end", "DTSTART:20260302T230000Z", "DTEND:20260303T000000Z"),
        *vevent("straddles-end", "DTSTART:20260302T223000Z", "DTEND:20260303T000000Z"),
    )
    parsed = read_calendar(
        text,
        me="m",
        start=datetime(2026, 3, 2, tzinfo=BERLIN),  # 2026-03-01 23:00 UTC
        end=datetime(2026, 3, 3, tzinfo=BERLIN),  # 2026-03-02 23:00 UTC
    )
    assert [event.uid for event in parsed.events] == ["straddles-start", "straddles-end"]


def test_window_must_be_aware_and_ordered() -> None:
    text = wrap()
    with pytest.raises(ValueError, match="timezone-aware"):
        read_calendar(text, me="m", start=datetime(2026, 3, 1), end=MARCH["end"])
    with pytest.raises(ValueError, match="after start"):
        read_calendar(text, me="m", start=MARCH["end"], end=MARCH["start"])


# -- whole-file errors -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"  \r\n\r\n", "the file is empty"),
        (bytes(range(256)) * 4, "not UTF-8"),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"
            b"\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00"
            b"\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82",
            "not UTF-8",
        ),
        (b"hello\x00world", "binary data"),
        (b"Subject: minutes\r\n\r\nSee you on Monday.\r\n", "no BEGIN:VCALENDAR"),
        (
            b"BEGIN:VEVENT\r\nUID:x\r\nDTSTART:20260302T090000Z\r\nEND:VEVENT\r\n",
            "no BEGIN:VCALENDAR",
        ),
        (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\n", "malformed"),
        (b"BEGIN:VCALENDAR\r\nthis is not a content line\r\nEND:VCALENDAR\r\n", "malformed"),
        (b"BEGIN:VCALENDAR\r\nCALSCALE:JULIAN\r\nEND:VCALENDAR\r\n", "Gregorian"),
    ],
)
def test_unreadable_data_is_a_calendar_file_error(data: bytes, message: str) -> None:
    with pytest.raises(CalendarFileError, match=message) as caught:
        read_calendar(data, me="m", **MARCH)
    assert "\n" not in str(caught.value)


def test_load_calendar_names_the_path(tmp_path: Path) -> None:
    png = tmp_path / "holiday.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
    with pytest.raises(CalendarFileError, match=r"holiday\.png: not an iCalendar file"):
        load_calendar(png, me="m", **MARCH)
    missing = tmp_path / "missing.ics"
    with pytest.raises(CalendarFileError, match=r"missing\.ics: cannot read the file"):
        load_calendar(missing, me="m", **MARCH)
    with pytest.raises(CalendarFileError, match="cannot read the file"):
        load_calendar(tmp_path, me="m", **MARCH)


def test_an_empty_calendar_and_other_encodings_are_fine(tmp_path: Path) -> None:
    assert read_calendar(wrap(), me="m", **MARCH) == ParsedCalendar([], [], None)
    text = wrap(*vevent("bom", "DTSTART:20260302T090000Z", "DTEND:20260302T100000Z"))
    for encoded in (b"\xef\xbb\xbf" + text.encode(), text.encode("utf-16")):
        path = tmp_path / "export.ics"
        path.write_bytes(encoded)
        assert [e.uid for e in load_calendar(path, me="m", **MARCH).events] == ["bom"]


def test_concatenated_calendars_are_read_together() -> None:
    one = wrap(*vevent("a", "DTSTART:20260302T090000Z", "DTEND:20260302T100000Z"))
    two = wrap(*vevent("b", "DTSTART:20260303T090000Z", "DTEND:20260303T100000Z"))
    parsed = read_calendar(one + "\r\n" + two, me="m", **MARCH)
    assert [event.uid for event in parsed.events] == ["a", "b"]


# -- expand(): what the Google adapter calls -------------------------------------------


def test_expand_a_calendar_built_in_code() -> None:
    calendar = icalendar.Calendar()
    master = icalendar.Event()
    master.add("UID", "gcal123")
    master.add("DTSTART", datetime(2026, 3, 23, 9, 0, tzinfo=BERLIN))
    master.add("DTEND", datetime(2026, 3, 23, 9, 30, tzinfo=BERLIN))
    master.add("RRULE", {"FREQ": "DAILY", "COUNT": 10})
    master.add("EXDATE", datetime(2026, 3, 25, 9, 0, tzinfo=BERLIN))
    master.add("ORGANIZER", "mailto:boss@example.com")
    moved = icalendar.Event()
    moved.add("UID", "gcal123")
    moved.add("RECURRENCE-ID", datetime(2026, 3, 24, 9, 0, tzinfo=BERLIN))
    moved.add("DTSTART", datetime(2026, 3, 24, 15, 0, tzinfo=BERLIN))
    moved.add("DTEND", datetime(2026, 3, 24, 15, 30, tzinfo=BERLIN))
    moved.add("STATUS", "CANCELLED")
    calendar.add_component(master)
    calendar.add_component(moved)
    before = calendar.to_ical()

    events, warnings = expand(
        calendar,
        me="me@example.com",
        start=datetime(2026, 3, 23, tzinfo=BERLIN),
        end=datetime(2026, 3, 31, tzinfo=BERLIN),
    )
    assert warnings == []
    assert [(e.start, e.cancelled) for e in events] == [
        (utc(2026, 3, 23, 8), False),
        (utc(2026, 3, 24, 14), True),
        # 25 March: EXDATE
        (utc(2026, 3, 26, 8), False),
        (utc(2026, 3, 27, 8), False),
        (utc(2026, 3, 28, 8), False),
        (utc(2026, 3, 29, 7), False),  # CEST from 29 March
        (utc(2026, 3, 30, 7), False),
    ]
    assert calendar.to_ical() == before, "expand must not change the calendar it is given"


# -- holds -----------------------------------------------------------------------------


def _holds() -> list[Hold]:
    person = "alex@example.com"
    day = date(2026, 3, 24)
    return [
        Hold(
            id=personal_hold_id(person, HoldKind.SOCIAL, date(2026, 3, 25)),
            kind=HoldKind.SOCIAL,
            start=datetime(2026, 3, 25, 15, 0, tzinfo=BERLIN),
            end=datetime(2026, 3, 25, 15, 30, tzinfo=BERLIN),
            busy=False,
            day=date(2026, 3, 25),
        ),
        Hold(
            id=personal_hold_id(person, HoldKind.BREATHER, day),
            kind=HoldKind.BREATHER,
            start=datetime(2026, 3, 24, 12, 30, tzinfo=BERLIN),
            end=datetime(2026, 3, 24, 12, 45, tzinfo=BERLIN),
            busy=True,
            day=day,
        ),
        Hold(
            id="mmc0ffee0000000000000000000000000",
            kind=HoldKind.COFFEE,
            start=datetime(2026, 3, 30, 10, 0, tzinfo=BERLIN),
            end=datetime(2026, 3, 30, 10, 30, tzinfo=BERLIN),
            busy=True,
            day=date(2026, 3, 30),
        ),
        Hold(
            id="mm0a7ec001000000000000000000000000",
            kind=HoldKind.WATERCOOLER,
            start=datetime(2026, 3, 31, 16, 0, tzinfo=BERLIN),
            end=datetime(2026, 3, 31, 16, 15, tzinfo=BERLIN),
            busy=False,
            day=date(2026, 3, 31),
        ),
    ]


def test_written_holds_read_back_as_holds() -> None:
    holds = _holds()
    data = write_holds(holds, person="alex@example.com")
    parsed = read_calendar(data, me="alex@example.com", **MARCH)
    assert parsed.warnings == []
    got = {(e.hold_id, e.hold_kind, e.start, e.end, e.busy) for e in parsed.events}
    assert got == {(h.id, h.kind.value, h.start, h.end, h.busy) for h in holds}
    assert {e.kind for e in parsed.events} == {EventKind.HOLD}
    assert {e.uid for e in parsed.events} == {hold_uid(h.id, h.kind) for h in holds}


def test_written_holds_file_shape_and_determinism() -> None:
    holds = _holds()
    data = write_holds(holds, person="alex@example.com")
    assert data == write_holds(list(reversed(holds)), person="alex@example.com")
    calendar = icalendar.Calendar.from_ical(data)
    assert str(calendar["PRODID"]) == "-//micromoments//EN"
    assert str(calendar["VERSION"]) == "2.0"
    events = calendar.walk("VEVENT")
    assert [str(e["SUMMARY"]) for e in events] == [
        "Breather",
        "Social time",
        "Coffee chat",
        "Watercooler",
    ]
    for event in events:
        assert event["DTSTART"].dt.tzinfo is not None and event[
            "DTSTART"
        ].dt.utcoffset() == timedelta(0)
        assert event["DTSTAMP"].dt == event["DTSTART"].dt
        assert "micromoments" in str(event["DESCRIPTION"])
        assert str(event["X-MICROMOMENTS-KIND"]) in {k.value for k in HoldKind}
        assert str(event["X-MICROMOMENTS-HOLD-ID"]) in str(event["UID"])
    assert [str(e["TRANSP"]) for e in events] == ["OPAQUE", "TRANSPARENT", "OPAQUE", "TRANSPARENT"]
    assert b"alex@example.com" not in data
    assert b"DTSTART:20260324T113000Z" in data


def test_a_cancelled_hold_stays_a_hold_marked_cancelled() -> None:
    data = write_holds(_holds()[:1], person="alex@example.com")
    data = data.replace(b"TRANSP:TRANSPARENT", b"TRANSP:TRANSPARENT\r\nSTATUS:CANCELLED")
    (event,) = read_calendar(data, me="alex@example.com", **MARCH).events
    assert event.kind is EventKind.HOLD and event.cancelled and event.hold_kind == "social"


def test_a_hold_is_recognised_by_its_tags_when_a_tool_rewrote_the_uid() -> None:
    hold = _holds()[1]
    text = wrap(
        *vevent(
            "imported-1234@outlook.example",
            "DTSTART:20260324T113000Z",
            "DTEND:20260324T114500Z",
            f"X-MICROMOMENTS-HOLD-ID:{hold.id}",
            "X-MICROMOMENTS-KIND:breather",
        )
    )
    (event,) = read_calendar(text, me="alex@example.com", **MARCH).events
    assert (event.kind, event.hold_id, event.hold_kind) == (EventKind.HOLD, hold.id, "breather")


def test_write_holds_rejects_naive_times() -> None:
    hold = _holds()[0]
    naive = Hold(
        id=hold.id,
        kind=hold.kind,
        start=hold.start.replace(tzinfo=None),
        end=hold.end.replace(tzinfo=None),
        busy=hold.busy,
        day=hold.day,
    )
    with pytest.raises(ValueError, match="naive"):
        write_holds([naive], person="alex@example.com")


# -- the bundled sample ----------------------------------------------------------------


def test_bundled_sample_tells_an_overloaded_fortnight() -> None:
    parsed = load_calendar(
        SAMPLE,
        me="alex@example.com",
        start=datetime(2026, 11, 23, tzinfo=BERLIN),
        end=datetime(2026, 12, 7, tzinfo=BERLIN),
    )
    assert parsed.warnings == []
    assert parsed.timezone == "Europe/Berlin"
    events = parsed.events
    counting = [e for e in events if e.counts]
    assert sum(e.declined for e in events) == 2
    assert sum(e.cancelled for e in events) == 1
    assert any(e.kind is EventKind.OUT_OF_OFFICE and e.all_day for e in counting)
    assert any(e.kind is EventKind.SOLO and e.busy for e in counting)  # focus blocks
    assert any(e.kind is EventKind.SOLO and not e.busy for e in counting)  # lunch
    meetings = [e for e in counting if e.kind is EventKind.MEETING]
    # The daily stand-up: 9 of 10 workdays (Friday 4 December is out of office).
    standups = {e.uid.split("/")[0] for e in meetings if e.end - e.start == timedelta(minutes=15)}
    assert len(standups) == 1
    assert sum(1 for e in meetings if e.uid.split("/")[0] in standups) == 9
    # After-hours calls with the US: 18:00 Berlin or later.
    late = [
        e
        for e in meetings
        if isinstance(e.start, datetime) and e.start.astimezone(BERLIN).hour >= 18
    ]
    assert len(late) >= 3
    # Every workday of the first week but Friday has at least four meetings.
    per_day: dict[date, int] = {}
    for e in meetings:
        assert isinstance(e.start, datetime)
        local_day = e.start.astimezone(BERLIN).date()
        per_day[local_day] = per_day.get(local_day, 0) + 1
    assert per_day[date(2026, 11, 25)] >= 7
    assert per_day[date(2026, 12, 1)] >= 6


# -- the calendar's zone, Outlook display names, parts the analysis does not use -----------

SYDNEY_DISPLAY = "(GMT+10:00) Canberra, Melbourne, Sydney"


def test_zone_comes_from_the_events_when_the_file_names_none() -> None:
    data = wrap(
        *vevent("a@test", "DTSTART;TZID=Europe/Berlin:20260303T090000",
                "DTEND;TZID=Europe/Berlin:20260303T100000"),
        *vevent("b@test", "DTSTART;TZID=Europe/Berlin:20260304T090000",
                "DTEND;TZID=Europe/Berlin:20260304T100000"),
        *vevent("c@test", "DTSTART;TZID=America/New_York:20260305T090000",
                "DTEND;TZID=America/New_York:20260305T100000"),
        *vevent("d@test", "DTSTART:20260306T090000Z", "DTEND:20260306T100000Z"),
    )  # fmt: skip
    parsed = read_calendar(data, me="dana@example.com", **MARCH)
    assert parsed.timezone == "Europe/Berlin"  # the zone most of its times are written in
    assert parsed.zone == CalendarZone("Europe/Berlin", "TZID", "Europe/Berlin")


def test_a_calendar_wide_zone_wins_over_the_events() -> None:
    data = wrap(
        "X-WR-TIMEZONE:Asia/Tokyo",
        *vevent("a@test", "DTSTART;TZID=Europe/Berlin:20260303T090000",
                "DTEND;TZID=Europe/Berlin:20260303T100000"),
    )  # fmt: skip
    parsed = read_calendar(data, me="dana@example.com", **MARCH)
    assert parsed.zone == CalendarZone("Asia/Tokyo", "X-WR-TIMEZONE", "Asia/Tokyo")


def test_an_unknown_calendar_wide_zone_falls_back_to_the_events() -> None:
    data = wrap(
        "X-WR-TIMEZONE:Mars/Olympus",
        *vevent("a@test", "DTSTART;TZID=Europe/Berlin:20260303T090000",
                "DTEND;TZID=Europe/Berlin:20260303T100000"),
    )  # fmt: skip
    parsed = read_calendar(data, me="dana@example.com", **MARCH)
    assert parsed.zone == CalendarZone("Europe/Berlin", "TZID", "Europe/Berlin")
    assert parsed.warnings == [IcsWarning("", "unknown X-WR-TIMEZONE 'Mars/Olympus' ignored")]


def test_no_zone_anywhere_is_none() -> None:
    data = wrap(*vevent("a@test", "DTSTART:20260303T090000Z", "DTEND:20260303T100000Z"))
    parsed = read_calendar(data, me="dana@example.com", **MARCH)
    assert (parsed.timezone, parsed.zone) == (None, None)


@pytest.mark.parametrize(
    ("written", "iana"),
    [
        (SYDNEY_DISPLAY, "Australia/Sydney"),  # Exchange 2007, no VTIMEZONE
        ("(UTC+10:00) Canberra, Melbourne, Sydney", "Australia/Sydney"),
        ("(UTC-05:00) Eastern Time (US & Canada)", "America/New_York"),
        ("(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna", "Europe/Berlin"),
        ("(UTC) Dublin, Edinburgh, Lisbon, London", "Europe/London"),
        ("(UTC+05:30) Chennai, Kolkata, Mumbai, New Delhi", "Asia/Calcutta"),
        # Reworded since: a city of the name, with the offset written.
        ("(GMT) Greenwich Mean Time : Dublin, Edinburgh, Lisbon, London", "Europe/Dublin"),
        ("(GMT+03:00) Moscow, St. Petersburg, Volgograd", "Europe/Moscow"),
    ],
)
def test_outlook_display_name_zones_are_read_as_iana_zones(written: str, iana: str) -> None:
    data = wrap(
        *vevent("o@test", f'DTSTART;TZID="{written}":20260303T090000',
                f'DTEND;TZID="{written}":20260303T100000'),
    )  # fmt: skip
    parsed = read_calendar(data, me="dana@example.com", **MARCH)
    assert parsed.warnings == []
    assert parsed.zone == CalendarZone(iana, "TZID", written)
    [event] = parsed.events
    assert event.start == datetime(2026, 3, 3, 9, tzinfo=ZoneInfo(iana))


def test_sydney_display_name_follows_sydney_daylight_time() -> None:
    data = wrap(
        *vevent("o@test", f'DTSTART;TZID="{SYDNEY_DISPLAY}":20261124T090000',
                f'DTEND;TZID="{SYDNEY_DISPLAY}":20261124T100000'),
    )  # fmt: skip
    parsed = read_calendar(
        data, me="dana@example.com", start=utc(2026, 11, 20), end=utc(2026, 11, 30)
    )
    [event] = parsed.events
    assert (event.start, event.end) == (utc(2026, 11, 23, 22), utc(2026, 11, 23, 23))  # AEDT


@pytest.mark.parametrize("written", ["(GMT+09:00) Sydney", "(GMT+10:00) Somewhere Else"])
def test_a_display_name_we_cannot_tell_is_an_unknown_zone(written: str) -> None:
    data = wrap(
        *vevent("o@test", f'DTSTART;TZID="{written}":20260303T090000',
                f'DTEND;TZID="{written}":20260303T100000'),
    )  # fmt: skip
    parsed = read_calendar(data, me="dana@example.com", **MARCH)
    assert parsed.events == []
    assert parsed.warnings == [IcsWarning("o@test", f"skipped: unknown time zone {written!r}")]


def test_the_display_name_table_names_every_windows_zone_cldr_maps() -> None:
    from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

    from micromoments.adapters.ics_zones import iana
    from micromoments.adapters.windows_zone_names import WINDOWS_DISPLAY_NAMES

    assert {windows for _, windows in WINDOWS_DISPLAY_NAMES.values()} == set(WINDOWS_TO_OLSON)
    for text, (offset, windows) in WINDOWS_DISPLAY_NAMES.items():
        assert iana(f"(UTC{offset}) {text}") is not None, (text, windows)


MEETING_LINES = (
    "DTSTART;TZID=Europe/Berlin:20260303T090000",
    "DTEND;TZID=Europe/Berlin:20260303T100000",
    "ORGANIZER:mailto:boss@example.com",
)


@pytest.mark.parametrize(
    ("lines", "warning"),
    [
        (
            ["X-WR-TIMEZONE:Europe/Berlin",
             *vevent("m@test", *MEETING_LINES, "BEGIN:VALARM", "ACTION:DISPLAY",
                     "DESCRIPTION:Reminder", "TRIGGER:-PT15Mbogus", "END:VALARM")],
            IcsWarning("m@test", "its VALARM has a malformed TRIGGER: ignored"),
        ),
        (
            ["BEGIN:VTIMEZONE", "TZID:Europe/Berlin", "BEGIN:STANDARD", "DTSTART:bogus",
             "TZOFFSETFROM:+0200", "TZOFFSETTO:nonsense", "END:STANDARD", "END:VTIMEZONE",
             *vevent("m@test", *MEETING_LINES)],
            IcsWarning(
                "", "the VTIMEZONE 'Europe/Berlin' has a malformed DTSTART, TZOFFSETTO: "
                "the zone of that name is used",
            ),
        ),
        (
            ["X-WR-TIMEZONE:Europe/Berlin", "BEGIN:VFREEBUSY", "UID:fb@test",
             "DTSTART:garbage", "FREEBUSY:not-a-period", "END:VFREEBUSY",
             *vevent("m@test", *MEETING_LINES)],
            IcsWarning(
                "", "a VFREEBUSY has a malformed DTSTART, FREEBUSY: ignored "
                "(the analysis does not use it)",
            ),
        ),
    ],
    ids=["alarm", "vtimezone-known-by-name", "vfreebusy"],
)  # fmt: skip
def test_a_fault_in_a_part_the_analysis_does_not_use_is_a_warning(
    lines: list[str], warning: IcsWarning
) -> None:
    parsed = read_calendar(wrap(*lines), me="dana@example.com", **MARCH)
    assert parsed.warnings == [warning]
    [meeting] = parsed.events
    assert (meeting.start, meeting.end) == (utc(2026, 3, 3, 8), utc(2026, 3, 3, 9))
    assert meeting.kind is EventKind.MEETING


def test_a_broken_vtimezone_of_an_unknown_name_is_not_guessed() -> None:
    data = wrap(
        "BEGIN:VTIMEZONE", "TZID:Customized Time Zone", "BEGIN:STANDARD",
        "DTSTART:16010101T000000", "TZOFFSETFROM:+0100", "TZOFFSETTO:nonsense",
        "END:STANDARD", "END:VTIMEZONE",
        *vevent("m@test", "DTSTART;TZID=Customized Time Zone:20260303T090000",
                "DTEND;TZID=Customized Time Zone:20260303T100000"),
    )  # fmt: skip
    parsed = read_calendar(data, me="dana@example.com", **MARCH)
    assert parsed.events == []
    assert IcsWarning("m@test", "skipped: unknown time zone 'Customized Time Zone'") in (
        parsed.warnings
    )
