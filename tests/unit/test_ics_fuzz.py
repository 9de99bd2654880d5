"""Broken and odd .ics files, driven by hypothesis, through `read_calendar`, `load_calendar`
and `micromoments analyze`.

Whatever the file holds (random bytes, a good export cut short or with bytes flipped, bad
dates, bad or runaway RRULEs, unknown TZIDs, duplicated or nested components): a file
that is not a calendar raises `CalendarFileError` (the CLI: one line on stderr, exit
code 1); an event that cannot be analysed is skipped with an `IcsWarning` naming it; the
rest is analysed. Nothing else escapes, and nothing takes long: every read must finish
within `TIME_LIMIT_S`, or the example fails.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from types import FrameType

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from micromoments.adapters.ics import (
    CalendarFileError,
    IcsWarning,
    ParsedCalendar,
    load_calendar,
    read_calendar,
)
from micromoments.cli import main
from micromoments.domain.calendar import CalendarEvent

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ics"
EXPORTS = sorted(FIXTURES.glob("*.ics"))
ME = "me@example.com"
WINDOW = {"start": datetime(2026, 11, 16, tzinfo=UTC), "end": datetime(2026, 12, 14, tzinfo=UTC)}
TIME_LIMIT_S = 20
FUZZ = settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])


class TookTooLong(BaseException):
    """A BaseException: the adapter's own ``except Exception`` must not swallow it."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Fail (instead of hanging the suite) when the body runs longer than ``seconds``."""

    def expired(signum: int, frame: FrameType | None) -> None:
        raise TookTooLong(f"still reading after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except TookTooLong as exc:
        raise AssertionError(str(exc)) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def read(data: str | bytes) -> ParsedCalendar | CalendarFileError:
    """The contract: a parsed calendar or a one-line `CalendarFileError`, in good time."""
    with time_limit(TIME_LIMIT_S):
        try:
            parsed = read_calendar(data, me=ME, **WINDOW)
        except CalendarFileError as exc:
            assert "\n" not in str(exc)
            return exc
    check(parsed)
    return parsed


def check(parsed: ParsedCalendar) -> None:
    for event in parsed.events:
        assert isinstance(event, CalendarEvent)
        if isinstance(event.start, datetime):
            assert event.start.utcoffset() is not None and event.end.utcoffset() is not None
            assert event.start < WINDOW["end"] and event.end >= WINDOW["start"]
            assert event.end >= event.start
        else:
            assert isinstance(event.start, date) and isinstance(event.end, date)
    for warning in parsed.warnings:
        assert isinstance(warning, IcsWarning)
        assert "\n" not in warning.message


# -- strategies --------------------------------------------------------------------------------

UIDS = st.sampled_from(
    ["a@test", "b@test", "c@test", "", "mm0123456789abcdefghijklmnopq.breather@micromoments"]
)
STAMP = st.one_of(
    st.datetimes(min_value=datetime(2026, 11, 1), max_value=datetime(2027, 1, 31)).map(
        lambda d: d.strftime("%Y%m%dT%H%M%S")
    ),
    st.datetimes().map(lambda d: f"{d.year:04d}{d.month:02d}{d.day:02d}T{d:%H%M%S}"),
    st.dates(min_value=date(2026, 11, 1), max_value=date(2027, 1, 31)).map(
        lambda d: d.strftime("%Y%m%d")
    ),
    st.sampled_from(["20261131T090000", "20261123T250000", "2026-11-23T09:00:00", "",
                     "00010101T000000", "99991231T235959", "20261123", "20261123T090000ZZ",
                     "garbage", "20261123T090000/PT1H", "PT1H"]),
)  # fmt: skip
ZONE = st.sampled_from(["", "Z"])
PARAMS = st.sampled_from(["", ";TZID=Europe/Berlin", ";TZID=W. Europe Standard Time",
                          ';TZID="Europe/Berlin"', ";TZID=Mars/Olympus", ";TZID=",
                          ";VALUE=DATE", ";VALUE=PERIOD", ";TZID=Custom", ";TZID=Asia/Tokyo",
                          ";TZID=/freeassociation.sourceforge.net/Europe/Berlin",
                          ";VALUE=DATE-TIME;TZID=America/New_York"])  # fmt: skip
DURATION = st.sampled_from(["PT1H", "PT30M", "P1D", "-PT1H", "P99999999D", "PT0S", "P1000000W",
                            "garbage", "20261123", "20261123T090000Z", ""])  # fmt: skip


def _when(name: str) -> st.SearchStrategy[str]:
    return st.builds(lambda p, v, z: f"{name}{p}:{v}{z}", PARAMS, STAMP, ZONE)


def _listed(values: st.SearchStrategy[object], most: int = 4) -> st.SearchStrategy[str]:
    return st.lists(values, min_size=1, max_size=most).map(lambda xs: ",".join(map(str, xs)))


RULE_PARTS = st.fixed_dictionaries(
    {},
    optional={
        "FREQ": st.sampled_from(["SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY",
                                 "YEARLY", "FORTNIGHTLY", ""]),
        "INTERVAL": st.one_of(st.integers(-2, 1000), st.just(99_999_999_999)),
        "COUNT": st.one_of(st.integers(-1, 50), st.just(10**12)),
        "UNTIL": st.builds(lambda v, z: f"{v}{z}", STAMP, ZONE),
        "BYDAY": _listed(st.sampled_from(["MO", "TU", "WE", "TH", "FR", "SA", "SU", "1MO",
                                          "-1FR", "53MO", "XX"])),
        "BYMONTHDAY": _listed(st.integers(-40, 40)),
        "BYMONTH": _listed(st.integers(0, 14)),
        "BYHOUR": _listed(st.integers(0, 25), 24),
        "BYMINUTE": _listed(st.integers(0, 61), 60),
        "BYSECOND": _listed(st.integers(0, 61), 60),
        "BYSETPOS": _listed(st.integers(-400, 400)),
        "BYWEEKNO": _listed(st.integers(-60, 60)),
        "BYYEARDAY": _listed(st.integers(-400, 400)),
        "WKST": st.sampled_from(["MO", "SU", "XX"]),
    },
)  # fmt: skip
RRULE = RULE_PARTS.map(lambda parts: "RRULE:" + ";".join(f"{k}={v}" for k, v in parts.items()))
ATTENDEE = st.builds(
    lambda status, who: f"ATTENDEE;PARTSTAT={status}:mailto:{who}",
    st.sampled_from(["ACCEPTED", "DECLINED", "TENTATIVE", "NEEDS-ACTION", "", "BOGUS"]),
    st.sampled_from([ME, "ME@EXAMPLE.COM", "other@example.com", "", "urn:uuid:1234"]),
)
LINE = st.one_of(
    _when("DTSTART"), _when("DTSTART"), _when("DTEND"), _when("DTEND"),
    DURATION.map(lambda d: f"DURATION:{d}"),
    RRULE, RRULE,
    _when("EXDATE"), _when("RDATE"), _when("RECURRENCE-ID"),
    st.sampled_from(["STATUS:CANCELLED", "STATUS:CONFIRMED", "STATUS:TENTATIVE",
                     "TRANSP:TRANSPARENT", "TRANSP:OPAQUE", "X-MICROSOFT-CDO-BUSYSTATUS:OOF",
                     "X-MICROSOFT-CDO-BUSYSTATUS:FREE", "X-MICROSOFT-CDO-ALLDAYEVENT:TRUE",
                     "X-GOOGLE-EVENT-TYPE:OUTOFOFFICE", "X-MICROMOMENTS-HOLD-ID:mm0123456789",
                     "X-MICROMOMENTS-KIND:breather", "ORGANIZER:mailto:boss@example.com",
                     "ORGANIZER:", "SUMMARY:Planning", "END:VEVENT\r\nBEGIN:VEVENT",
                     "BEGIN:VALARM\r\nTRIGGER:-PT15M\r\nEND:VALARM", "this is not a content line",
                     'X-ODD;PARAM="unclosed:value', "UID:other@test"]),
    ATTENDEE,
)  # fmt: skip


NESTED = "\r\n".join(["BEGIN:VEVENT", "UID:inner@test", "DTSTART:20261124T090000Z",
                      "DTEND:20261124T100000Z", "END:VEVENT"])  # fmt: skip


@st.composite
def vevents(draw: st.DrawFn) -> str:
    uid = draw(UIDS)
    lines = draw(st.lists(LINE, max_size=9))
    if draw(st.booleans()):  # most events have a start and an end
        lines = [draw(_when("DTSTART")), draw(_when("DTEND")), *lines]
    nested = draw(st.sampled_from(["", NESTED]))
    body = [f"UID:{uid}" if uid else "", *lines, nested]
    return "\r\n".join(["BEGIN:VEVENT", *[line for line in body if line], "END:VEVENT"])


VTIMEZONE = st.sampled_from([
    "",
    "BEGIN:VTIMEZONE\r\nTZID:Custom\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\n"
    "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n"
    "END:STANDARD\r\nEND:VTIMEZONE",
    "BEGIN:VTIMEZONE\r\nTZID:Custom\r\nEND:VTIMEZONE",
    "BEGIN:VTIMEZONE\r\nTZID:Custom\r\nBEGIN:STANDARD\r\nTZOFFSETTO:+9999\r\nEND:STANDARD\r\n"
    "END:VTIMEZONE",
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:DAYLIGHT\r\nDTSTART:garbage\r\nEND:DAYLIGHT\r\n"
    "END:VTIMEZONE",
])  # fmt: skip
HEADER = st.sampled_from(["", "X-WR-TIMEZONE:Europe/Berlin", "X-WR-TIMEZONE:Mars/Olympus",
                          "X-WR-TIMEZONE:W. Europe Standard Time", "CALSCALE:GREGORIAN",
                          "CALSCALE:JULIAN", "METHOD:PUBLISH"])  # fmt: skip


@st.composite
def calendars(draw: st.DrawFn) -> str:
    parts = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//fuzz//EN", draw(HEADER), draw(VTIMEZONE)]
    parts += draw(st.lists(vevents(), max_size=5))
    parts.append("END:VCALENDAR")
    text = "\r\n".join(p for p in parts if p) + "\r\n"
    how = draw(st.sampled_from(["as is", "as is", "LF", "cut", "folded"]))
    if how == "LF":
        text = text.replace("\r\n", "\n")
    elif how == "cut":
        text = text[: draw(st.integers(0, len(text)))]
    elif how == "folded":
        text = "".join(
            line[:30] + "\r\n " + line[30:] + "\r\n" if len(line) > 30 else line + "\r\n"
            for line in text.split("\r\n")
        )
    return text


@st.composite
def damaged_exports(draw: st.DrawFn) -> bytes:
    """A real-world export with bytes flipped, cut short, or spliced."""
    data = bytearray(draw(st.sampled_from(EXPORTS)).read_bytes())
    for _ in range(draw(st.integers(0, 8))):
        at = draw(st.integers(0, len(data) - 1))
        data[at] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    if draw(st.booleans()):
        at = draw(st.integers(0, len(data)))
        data[at:at] = draw(st.binary(max_size=40))
    return bytes(data)


# -- the adapter -------------------------------------------------------------------------------

BAD_EVENTS = {
    "two DTSTARTs": ["DTSTART:20261123T090000Z", "DTSTART:20261123T100000Z",
                     "DTEND:20261123T110000Z"],
    "two DTENDs": ["DTSTART:20261123T090000Z", "DTEND:20261123T100000Z",
                   "DTEND:20261123T110000Z"],
    "two DURATIONs": ["DTSTART:20261123T090000Z", "DURATION:PT1H", "DURATION:PT2H"],
    "two RECURRENCE-IDs": ["DTSTART:20261123T090000Z", "DTEND:20261123T100000Z",
                           "RECURRENCE-ID:20261123T090000Z", "RECURRENCE-ID:20261124T090000Z"],
    "a DURATION that is a date": ["DTSTART:20261123T090000Z", "DURATION:20261123"],
    "a RECURRENCE-ID that is a period": ["RECURRENCE-ID:20261123T090000/PT1H"],
    "a moved instance of year 1, east of UTC": ["DTSTART:20261123T090000Z",
                                                "RECURRENCE-ID;TZID=Asia/Tokyo:00010101T000000"],
    "a DTSTART that is a period": ["DTSTART;VALUE=PERIOD:20261123T090000Z/PT1H",
                                   "DTEND:20261123T100000Z"],
    "INTERVAL=0 (the same instant forever)": ["DTSTART:20261123T090000Z",
                                              "DTEND:20261123T100000Z",
                                              "RRULE:FREQ=DAILY;INTERVAL=0"],
    "hourly, at every minute and second": [
        "DTSTART:20261123T090000Z", "DTEND:20261123T090001Z",
        "RRULE:FREQ=HOURLY;BYMINUTE=" + ",".join(map(str, range(60)))
        + ";BYSECOND=" + ",".join(map(str, range(60)))],
}  # fmt: skip


def _calendar(*events: list[str]) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN"]
    for uid, props in enumerate(events):
        lines += ["BEGIN:VEVENT", f"UID:e{uid}@test", *props, "END:VEVENT"]
    return "\r\n".join([*lines, "END:VCALENDAR"]) + "\r\n"


GOOD = ["DTSTART:20261124T090000Z", "DTEND:20261124T100000Z",
        "ORGANIZER:mailto:boss@example.com", f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{ME}"]  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_EVENTS))
def test_a_bad_event_is_a_warning_and_its_neighbours_are_read(case: str) -> None:
    """Each of these escaped as AttributeError or TypeError, or never finished, before."""
    parsed = read(_calendar(BAD_EVENTS[case], GOOD))
    assert isinstance(parsed, ParsedCalendar), parsed
    assert [e.uid for e in parsed.events] == ["e1@test"]
    assert [w.uid for w in parsed.warnings] == ["e0@test"], parsed.warnings


@FUZZ
@given(text=calendars())
@example(text=_calendar(BAD_EVENTS["two DTSTARTs"]))
@example(text=_calendar(BAD_EVENTS["INTERVAL=0 (the same instant forever)"]))
def test_any_calendar_text_is_read_or_refused_in_one_line(text: str) -> None:
    read(text)


@FUZZ
@given(data=st.one_of(st.binary(max_size=400), damaged_exports()))
def test_any_bytes_are_read_or_refused_in_one_line(data: bytes) -> None:
    result = read(data)
    if isinstance(result, ParsedCalendar):
        assert data.strip(), "an empty file is refused"


@settings(max_examples=20, deadline=None)
@given(data=damaged_exports())
def test_load_calendar_names_the_file_in_its_one_line(tmp_path_factory: pytest.TempPathFactory,
                                                      data: bytes) -> None:  # fmt: skip
    path = tmp_path_factory.mktemp("ics") / "export.ics"
    path.write_bytes(data)
    with time_limit(TIME_LIMIT_S):
        try:
            check(load_calendar(path, me=ME, **WINDOW))
        except CalendarFileError as exc:
            assert str(exc).startswith(f"{path}: ") and "\n" not in str(exc)


# -- the command line --------------------------------------------------------------------------


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                  HealthCheck.too_slow])  # fmt: skip
@given(data=st.one_of(calendars().map(str.encode), damaged_exports(), st.binary(max_size=200)))
@example(data=_calendar(BAD_EVENTS["two DTENDs"], GOOD).encode())
def test_analyze_gives_a_table_or_one_line_and_exit_code_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: bytes
) -> None:
    path = tmp_path / "calendar.ics"
    path.write_bytes(data)
    argv = ["analyze", str(path), "--me", ME, "--now", "2026-11-23T07:00:00+01:00",
            "--start", "2026-11-23", "--days", "14", "--json"]  # fmt: skip
    with time_limit(TIME_LIMIT_S):
        code = main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    lines = err.splitlines()
    if code == 0:
        assert len(json.loads(out)["days"]) == 14
        notes = [line for line in lines if line.startswith("micromoments: note: time zone ")]
        assert len(notes) <= 1, err  # how the zone was chosen, when the file does not say
        warnings = [line for line in lines if line not in notes]
        assert all(line.startswith("micromoments: warning: ") for line in warnings), err
    else:
        assert code == 1, (code, err)
        assert len(lines) == 1 and lines[0].startswith("micromoments: error: "), err
        assert out == ""
