"""The test clock of ``make test-clocks`` (tests/clock): it really moves the wall clock of the
test process and of every Python process it starts, and it picks the instants it promises."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

CLOCK = Path(__file__).parents[1] / "clock"

CHILD = """
import json, subprocess, sys
from datetime import UTC, datetime
now = "from datetime import UTC, datetime; print(datetime.now(UTC).isoformat())"
grandchild = subprocess.run(
    [sys.executable, "-c", now], capture_output=True, text=True, check=True
).stdout.strip()
print(json.dumps({"child": datetime.now(UTC).isoformat(), "grandchild": grandchild}))
"""


def _moments() -> ModuleType:
    spec = importlib.util.spec_from_file_location("clock_moments", CLOCK / "moments.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_clock_moves_a_process_and_every_python_process_it_starts() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEST_CLOCK")}
    env |= {"PYTHONPATH": str(CLOCK), "TEST_CLOCK": "2031-12-31T23:30:00Z"}
    done = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    target = datetime(2031, 12, 31, 23, 30, tzinfo=UTC)
    for who in ("child", "grandchild"):
        moment = datetime.fromisoformat(seen[who])
        assert target <= moment < target + timedelta(seconds=30), (who, moment)


def test_a_clock_without_a_zone_is_refused() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEST_CLOCK")}
    env |= {"PYTHONPATH": str(CLOCK), "TEST_CLOCK": "2031-12-31T23:30:00"}
    done = subprocess.run(
        [sys.executable, "-c", "pass"], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode != 0
    assert "give a zone" in done.stderr


def test_the_instants_are_the_next_weekend_dst_night_and_year_end() -> None:
    moments = _moments().moments
    sunday_evening = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)
    assert moments(sunday_evening) == [
        datetime(2026, 12, 12, 12, 0, tzinfo=UTC),  # Saturday
        datetime(2026, 12, 13, 22, 30, tzinfo=UTC),  # Sunday night
        datetime(2027, 3, 28, 1, 30, tzinfo=UTC),  # Berlin's clocks went forward at 01:00
        datetime(2026, 12, 31, 23, 30, tzinfo=UTC),  # Berlin already in 2027
    ]
    summer = datetime(2027, 6, 1, tzinfo=UTC)
    saturday, sunday, dst, year_end = moments(summer)
    assert (saturday.weekday(), sunday.weekday()) == (5, 6)
    assert dst == datetime(2027, 10, 31, 1, 30, tzinfo=UTC)  # back at 01:00 UTC
    assert year_end == datetime(2027, 12, 31, 23, 30, tzinfo=UTC)
    # on the day itself, the next one: never the past
    assert moments(datetime(2027, 12, 31, 23, 45, tzinfo=UTC))[3].year == 2028
    assert moments(datetime(2026, 12, 12, 13, 0, tzinfo=UTC))[0].day == 19
