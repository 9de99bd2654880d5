"""The `micromoments` command: JSON shapes, determinism, round trips and clear errors."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest

from micromoments.cli import build_parser, main

ME = "alex@example.com"
NOW = "2026-11-23T07:00:00+01:00"
CALENDAR = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
X-WR-TIMEZONE:Europe/Berlin
{events}
END:VCALENDAR
"""
MEETING = """BEGIN:VEVENT
UID:{uid}
DTSTART;TZID=Europe/Berlin:{start}
DTEND;TZID=Europe/Berlin:{end}
ORGANIZER:mailto:boss@example.com
ATTENDEE;PARTSTAT=ACCEPTED:mailto:{me}
ATTENDEE;PARTSTAT=ACCEPTED:mailto:boss@example.com
SUMMARY:Secret project review
END:VEVENT"""


def _meetings(day: str, hours: list[tuple[str, str]]) -> str:
    return "\n".join(
        MEETING.format(uid=f"m{day}{i}@test", start=f"{day}T{s}00", end=f"{day}T{e}00", me=ME)
        for i, (s, e) in enumerate(hours)
    )


@pytest.fixture
def heavy_calendar(tmp_path: Path) -> Path:
    hours = ["0900", "1000", "1100", "1200", "1300", "1400", "1500", "1600"]
    runs = [(s, e) for s, e in pairwise(hours) if s != "1200"]
    monday = _meetings("20261123", runs)
    path = tmp_path / "cal.ics"
    path.write_text(CALENDAR.format(events=monday), encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        raise SystemExit(main(list(argv)))
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def test_analyze_json_shape(capsys: pytest.CaptureFixture[str], heavy_calendar: Path) -> None:
    code, out, err = run(
        capsys, "analyze", str(heavy_calendar), "--me", ME, "--start", "2026-11-23",
        "--days", "7", "--json", "--now", NOW,
    )  # fmt: skip
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc) == {"person", "timezone", "days"}
    assert doc["person"] == ME
    assert doc["timezone"] == "Europe/Berlin"
    assert len(doc["days"]) == 7
    monday = doc["days"][0]
    assert set(monday) == {
        "date", "available", "meeting_minutes", "after_hours_meeting_minutes",
        "longest_back_to_back_minutes", "back_to_back_meetings", "focus_minutes",
        "overloaded", "reasons",
    }  # fmt: skip
    assert monday == {
        "date": "2026-11-23", "available": True, "meeting_minutes": 360,
        "after_hours_meeting_minutes": 0, "longest_back_to_back_minutes": 180,
        "back_to_back_meetings": 3, "focus_minutes": 0, "overloaded": True,
        "reasons": ["meeting_hours", "back_to_back"],
    }  # fmt: skip
    assert "Secret" not in out


def test_person_is_an_alias_and_table_has_bars(
    capsys: pytest.CaptureFixture[str], heavy_calendar: Path
) -> None:
    code, out, _ = run(
        capsys, "analyze", str(heavy_calendar), "--person", ME, "--start", "2026-11-23",
        "--days", "2", "--now", NOW,
    )  # fmt: skip
    assert code == 0
    assert "█" * 12 in out  # six hours of meetings, one cell a half hour
    assert "OVERLOADED" in out


def test_plan_is_deterministic_and_round_trips(
    capsys: pytest.CaptureFixture[str], heavy_calendar: Path, tmp_path: Path
) -> None:
    out_file = tmp_path / "holds.ics"
    args = ("plan", str(heavy_calendar), "--me", ME, "--now", NOW, "--json")
    code, first, err = run(capsys, *args, "--out", str(out_file))
    assert code == 0, err
    _, second, _ = run(capsys, *args)
    assert first == second
    holds = json.loads(first)["holds"]
    assert holds, "an overloaded Monday gets at least a breather"
    for hold in holds:
        assert set(hold) == {"id", "kind", "start", "end"}
        assert re.fullmatch(r"[0-9a-v]{5,1024}", hold["id"])
        assert re.search(r"[+-]\d\d:\d\d$", hold["start"])
    breather = [h for h in holds if h["kind"] == "breather"]
    assert breather[0]["start"] == "2026-11-23T12:00:00+01:00"

    # Import the holds, re-export, plan again: the holds are recognised, none is new.
    text = heavy_calendar.read_text(encoding="utf-8").replace("END:VCALENDAR\n", "")
    exported = out_file.read_text(encoding="utf-8")
    vevents = exported[exported.index("BEGIN:VEVENT") : exported.rindex("END:VEVENT") + 10]
    reexport = tmp_path / "reexport.ics"
    reexport.write_text(text + vevents + "\nEND:VCALENDAR\n", encoding="utf-8")
    code, again, err = run(capsys, "plan", str(reexport), "--me", ME, "--now", NOW, "--json")
    assert code == 0, err
    assert json.loads(again)["holds"] == []
    # and analyze does not count them as meetings
    code, loads, _ = run(
        capsys, "analyze", str(reexport), "--me", ME, "--start", "2026-11-23", "--days", "1",
        "--json", "--now", NOW,
    )  # fmt: skip
    assert json.loads(loads)["days"][0]["meeting_minutes"] == 360


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--tz", "Mars/Olympus"], "unknown time zone"),
        (["--start", "2026-13-01"], "not a date"),
        (["--days", "0"], "must be at least 1"),
        (["--working-hours", "Mon-Fri 17:00-09:00"], "ends before it starts"),
        (["--now", "yesterday"], "not an ISO-8601"),
    ],
)
def test_bad_options_are_one_line_errors(
    capsys: pytest.CaptureFixture[str], heavy_calendar: Path, argv: list[str], fragment: str
) -> None:
    code, out, err = run(capsys, "analyze", str(heavy_calendar), "--me", ME, *argv)
    assert code == 2
    assert out == ""
    assert fragment in err
    assert err.count("\n") == 1 or "usage" in err


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "cal.ics"),
        (b"", ""),
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", ""),
        (b"hello, this is not a calendar", ""),
    ],
)
def test_bad_files_are_one_line_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes | None, fragment: str
) -> None:
    path = tmp_path / "cal.ics"
    if content is not None:
        path.write_bytes(content)
    code, out, err = run(capsys, "analyze", str(path), "--me", ME, "--json")
    assert code == 1
    assert out == ""
    assert err.startswith("micromoments: error: ")
    assert err.count("\n") == 1
    assert fragment in err
    assert "Traceback" not in err


def test_bad_email_is_an_error(capsys: pytest.CaptureFixture[str], heavy_calendar: Path) -> None:
    code, _, err = run(capsys, "analyze", str(heavy_calendar), "--me", "nobody")
    assert code == 1
    assert "not an email address" in err


def test_one_bad_event_is_a_warning(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = (
        "BEGIN:VEVENT\nUID:broken-1@test\nDTSTART;TZID=Europe/Berlin:20261124T100000\n"
        "DTEND;TZID=Europe/Berlin:20261124T090000\nEND:VEVENT"
    )
    good = _meetings("20261124", [("0900", "1000")])
    path = tmp_path / "cal.ics"
    path.write_text(CALENDAR.format(events=good + "\n" + bad), encoding="utf-8")
    code, out, err = run(
        capsys, "analyze", str(path), "--me", ME, "--start", "2026-11-24", "--days", "1",
        "--json", "--now", NOW,
    )  # fmt: skip
    assert code == 0
    assert "broken-1@test" in err
    assert json.loads(out)["days"][0]["meeting_minutes"] == 60


def test_demo_runs_as_a_console_script() -> None:
    done = subprocess.run(
        [Path(sys.executable).with_name("micromoments"), "demo", "--sample-calendar", "--json"],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["person"] == "alex@example.com"
    assert any(day["overloaded"] for day in doc["days"])
    assert doc["holds"]


def _console_script() -> Path:
    return Path(sys.executable).with_name("micromoments")


def test_a_closed_pipe_ends_quietly(heavy_calendar: Path) -> None:
    """``micromoments analyze ... --json | head -c1``: the reader is gone before the
    output is written. No traceback, and the exit code of a command SIGPIPE ended."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody reads: every write fails with EPIPE
    try:
        done = subprocess.run(
            [_console_script(), "analyze", str(heavy_calendar), "--me", ME, "--json",
             "--start", "2026-11-23", "--days", "60", "--now", NOW],
            stdout=write_end, stderr=subprocess.PIPE, text=True, check=False, timeout=120,
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert done.stderr == ""
    assert done.returncode == 141


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
def test_a_full_disk_is_one_line_and_exit_1(heavy_calendar: Path) -> None:
    with open("/dev/full", "wb") as full:
        done = subprocess.run(
            [_console_script(), "analyze", str(heavy_calendar), "--me", ME, "--json",
             "--now", NOW],
            stdout=full, stderr=subprocess.PIPE, text=True, check=False, timeout=120,
        )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr == "micromoments: error: cannot write the output: No space left on device\n"


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser, str | None]]:
    """Every (sub)command's parser, with the one-line help its parent lists it with."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            listed = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                yield (*path, name), sub, listed.get(name)
                yield from _commands(sub, (*path, name))


def _plain(text: str) -> bool:
    """Prose a terminal shows as is: no reStructuredText or Markdown markup."""
    return not re.search(r"`|\*\*|:\w+:`|^\s*[-=~]{3,}\s*$", text, re.MULTILINE)


def test_help_reads_well() -> None:
    parser = build_parser()
    assert parser.description and _plain(parser.description), parser.description
    commands = list(_commands(parser))
    assert {path[0] for path, _, _ in commands} >= {"analyze", "plan", "serve", "people"}
    for path, sub, listed in commands:
        name = " ".join(path)
        assert listed and "\n" not in listed and _plain(listed), f"{name}: no one-line help"
        assert sub.description and _plain(sub.description), f"{name}: no description"
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
                continue
            label = "/".join(action.option_strings) or action.dest
            text = action.help
            assert text and text != argparse.SUPPRESS, f"{name} {label}: no help text"
            assert _plain(text) and not text.lower().startswith("default"), (
                f"{name} {label}: {text!r} does not say what it is"
            )


OUTLOOK = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:Microsoft Exchange Server 2007
METHOD:PUBLISH
BEGIN:VEVENT
UID:o1@test
DTSTART;TZID="(GMT+10:00) Canberra, Melbourne, Sydney":20261124T080000
DTEND;TZID="(GMT+10:00) Canberra, Melbourne, Sydney":20261124T100000
ORGANIZER:mailto:boss@example.com
ATTENDEE:mailto:alex@example.com
END:VEVENT
BEGIN:VEVENT
UID:o2@test
DTSTART;TZID="(GMT+10:00) Canberra, Melbourne, Sydney":20261124T140000
ORGANIZER:mailto:boss@example.com
ATTENDEE:mailto:alex@example.com
END:VEVENT
END:VCALENDAR
"""


def test_analyze_takes_the_zone_its_events_use_and_says_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An Exchange export with display-name zones and no X-WR-TIMEZONE: the person's days
    are Sydney days, not UTC ones, and stderr says where the zone came from."""
    path = tmp_path / "outlook.ics"
    path.write_text(OUTLOOK, encoding="utf-8")
    code, out, err = run(
        capsys, "analyze", str(path), "--me", ME, "--start", "2026-11-24", "--days", "1",
        "--json", "--now", NOW,
    )  # fmt: skip
    assert code == 0, err
    doc = json.loads(out)
    assert doc["timezone"] == "Australia/Sydney"
    # 08:00-10:00 Sydney: one hour before working hours, one inside; the event with no end
    # is there (zero length) and adds nothing.
    day = doc["days"][0]
    assert (day["meeting_minutes"], day["after_hours_meeting_minutes"]) == (60, 60)
    assert err == (
        "micromoments: note: time zone Australia/Sydney: the zone its events are written in "
        "('(GMT+10:00) Canberra, Melbourne, Sydney'); the file names no calendar-wide zone "
        "we know (--tz chooses another)\n"
    )


def test_analyze_says_when_the_file_names_no_zone(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "utc.ics"
    path.write_text(
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//EN\nBEGIN:VEVENT\nUID:u@test\n"
        "DTSTART:20261124T090000Z\nDTEND:20261124T100000Z\nEND:VEVENT\nEND:VCALENDAR\n",
        encoding="utf-8",
    )
    code, out, err = run(
        capsys, "analyze", str(path), "--me", ME, "--start", "2026-11-24", "--days", "1",
        "--json", "--now", NOW,
    )  # fmt: skip
    assert code == 0
    assert json.loads(out)["timezone"] == "UTC"
    assert err == "micromoments: note: time zone UTC: the file names none (--tz chooses one)\n"
    _, _, chosen = run(
        capsys, "analyze", str(path), "--me", ME, "--tz", "Europe/Berlin", "--json", "--now", NOW
    )
    assert chosen == ""  # --tz said: nothing to note
