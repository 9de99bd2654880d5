"""The demo's simulated week (`local.demo.week`), its handover to ``serve``
(`local.demo.handover`) and the outbox it clears: no servers, no wall clock."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from micromoments.local.demo.handover import (
    Handover,
    read_handover,
    serve_command,
    write_handover,
)
from micromoments.local.demo.lock import DemoFailed
from micromoments.local.demo.runner import clear_outbox
from micromoments.local.demo.week import DemoClock, SimulatedWeek, simulated_monday

BERLIN = "Europe/Berlin"


@pytest.mark.parametrize(
    ("now", "monday"),
    [
        ("2026-12-05T04:00:00+00:00", date(2026, 11, 30)),  # Saturday 05:00 Berlin: due
        ("2026-12-05T03:59:00+00:00", date(2026, 11, 23)),  # a minute before: the week before
        ("2026-12-06T22:30:00+00:00", date(2026, 11, 30)),  # Sunday night
        ("2026-12-06T23:30:00+00:00", date(2026, 11, 30)),  # Monday 00:30 Berlin
        ("2026-12-09T12:00:00+00:00", date(2026, 11, 30)),  # Wednesday
        ("2026-03-28T05:00:00+00:00", date(2026, 3, 23)),  # the Saturday before DST
    ],
)
def test_the_simulated_week_is_the_last_whose_digests_are_due(now: str, monday: date) -> None:
    moment = datetime.fromisoformat(now)
    found = simulated_monday(moment, BERLIN)
    assert found == monday
    week = SimulatedWeek(found, BERLIN)
    assert week.digests <= moment  # no link is issued in the future
    assert week.pairing < week.first_scan < week.mornings[0] < week.next_pairing < week.digests


def test_the_week_s_moments_are_in_the_org_s_zone() -> None:
    week = SimulatedWeek(date(2026, 11, 30), BERLIN)
    assert week.first_scan == datetime(2026, 11, 30, 9, tzinfo=UTC)  # Monday 10:00 CET
    assert week.pairing == datetime(2026, 11, 29, 19, tzinfo=UTC)  # the Sunday before
    assert week.digests == datetime(2026, 12, 5, 4, tzinfo=UTC)  # Saturday 05:00
    assert [m.day for m in week.mornings] == [1, 2, 3, 4]


def test_the_demo_clock_is_what_it_was_set_to() -> None:
    clock = DemoClock(datetime(2026, 11, 30, 9, tzinfo=UTC))
    assert clock() == datetime(2026, 11, 30, 9, tzinfo=UTC)
    clock.set(datetime.fromisoformat("2026-12-01T07:00:00+01:00"))
    assert clock() == datetime(2026, 12, 1, 6, tzinfo=UTC) and clock().tzinfo is UTC


def test_the_handover_round_trips_readable_by_its_owner_only(tmp_path: Path) -> None:
    handover = Handover(people=20, seed=7, first_day=date(2026, 11, 30), signing_key="ab" * 32)
    path = write_handover(tmp_path, handover)
    assert path == tmp_path / "serve.json"
    assert path.stat().st_mode & 0o777 == 0o600
    assert read_handover(tmp_path) == handover


def test_no_handover_is_none_and_a_broken_one_a_clear_error(tmp_path: Path) -> None:
    assert read_handover(tmp_path) is None
    (tmp_path / "serve.json").write_text('{"people": 3}', encoding="utf-8")
    with pytest.raises(DemoFailed, match=r"serve\.json .*run the demo again \(make demo\)"):
        read_handover(tmp_path)


@pytest.mark.parametrize(
    ("program", "out", "command"),
    [
        (".venv-demo/bin/micromoments", "demo-out", ".venv-demo/bin/micromoments serve"),
        (".venv/bin/micromoments", "demo-out", ".venv/bin/micromoments serve"),
        ("/usr/bin/pytest", "demo-out", "micromoments serve"),
        (
            "micromoments",
            "my out",
            "micromoments serve --outbox 'my out/outbox'",
        ),
    ],
)
def test_the_printed_serve_command_runs_as_printed(program: str, out: str, command: str) -> None:
    assert serve_command(Path(out), program) == command


def test_a_demo_clears_the_previous_run_s_outbox_only(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    for name in ("a.eml", "a.html", "a.txt", "keep.json"):
        (outbox / name).write_text("x", encoding="utf-8")
    said: list[str] = []
    clear_outbox(outbox, said.append)
    assert sorted(p.name for p in outbox.iterdir()) == ["keep.json"]
    assert said == [f"cleared the previous run's outbox: 3 files in {outbox}"]
    clear_outbox(tmp_path / "missing", said.append)  # nothing to clear: nothing said
    assert len(said) == 1
