"""bench/scan.py at a tiny size: its Graph rows sit beside the Google ones in one run, with
the shape bench/run.py writes into docs/benchmarks.md, and their targets hold.

The benchmark is loaded by its path (bench/ is scripts, not a package) and run in-process
with a few people and no added latency, so the full-size run (`make bench`) and this test
always measure the same thing.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytestmark = pytest.mark.integration

PEOPLE = 4
ROW_KEYS = {"what", "size", "result", "target", "met"}


def _bench() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "bench" / "scan.py"
    spec = importlib.util.spec_from_file_location("bench_scan", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    scan = _bench()
    args = ["--json", "--people", str(PEOPLE), "--graph-people", str(PEOPLE),
            "--moto-people", "0", "--sequential-people", "1", "--latency-ms", "0"]  # fmt: skip
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert scan.main(args) == 0
    found: dict[str, Any] = json.loads(printed.getvalue())
    return found


def test_graph_rows_have_the_report_shape_beside_the_google_rows(doc: dict[str, Any]) -> None:
    rows = doc["rows"]
    assert all(set(row) == ROW_KEYS for row in rows)
    graph = [row for row in rows if row["what"].startswith("Graph ")]
    google = [row for row in rows if not row["what"].startswith("Graph ")]
    assert len(graph) == 5 and google  # measured side by side, in the same run
    assert all(row["size"] == f"{PEOPLE} of the {PEOPLE}" for row in graph)
    rescan = graph[0]
    assert rescan["what"].startswith("Graph rescan requests") and rescan["target"] == "<= 1.0"
    assert all(row["met"] is not False for row in graph), graph


def test_graph_counts_a_first_scan_and_an_unchanged_rescan_per_person(
    doc: dict[str, Any],
) -> None:
    graph = doc["graph"]
    assert graph["people"] == PEOPLE
    first, rescan = graph["first"], graph["rescan"]
    assert first["failures"] == rescan["failures"] == 0
    assert first["holds_per_person"] > 0  # the first scan writes: its batches are counted
    assert first["by_method_per_person"]["POST events"] == first["holds_per_person"]
    assert first["by_method_per_person"]["GET mailboxSettings"] == 1.0
    # the gateway's counts are the server's: nothing sent goes uncounted, nothing twice
    for phase in (first, graph["echo"], rescan):
        assert phase["server_requests_per_person"] == phase["requests_per_person"]
        assert phase["server_round_trips_per_person"] == phase["round_trips_per_person"]
    assert first["round_trips_per_person"] < first["requests_per_person"]  # $batch
    assert rescan["requests_per_person"] == rescan["round_trips_per_person"] == 1.0
    assert rescan["by_method_per_person"] == {"GET calendarView/delta": 1.0}
    # one app-only token for the tenant, counted apart from requests and round trips
    assert first["oauth_round_trips_per_person"] == 1 / PEOPLE
    assert rescan["oauth_round_trips_per_person"] == 0.0
