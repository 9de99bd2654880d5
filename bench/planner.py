"""Benchmark: from normalised events to day loads and holds, single process.

For each size (default 1,000, 5,000 and 10,000 people) a synthetic organisation is
generated with two weeks of calendars (8-12 events a workday on average) and normalised
into `CalendarEvent` lists; only then is the clock started, around the loop that calls
`plan_calendar` for every person, exactly as ``micromoments plan`` would. The checksum is
a SHA-256 over the sorted lines ``person|hold id|kind|start|end`` of every hold planned,
so two runs (or two versions of the planner) can be compared for identical output.

    python bench/planner.py                 # a readable table
    python bench/planner.py --json          # one JSON object on stdout, progress on stderr
    python bench/planner.py --sizes 200,500 --seed 7

Target (the issue): 10,000 people under 20 s on a 2-core machine, and the time per person
at 10,000 at most 1.2x the time per person at 1,000.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from micromoments.domain.calendar import CalendarEvent
from micromoments.domain.planner import plan_calendar
from micromoments.local.synthetic import SyntheticOrg, generate_org, normalised_events

TARGET_SECONDS_10000 = 20.0
TARGET_RATIO = 1.2
DAYS = 14
# A fixed Monday keeps runs comparable; US daylight saving time starts inside this window,
# so the planner also meets 23-hour days and zones whose offset changes mid-window.
DEFAULT_START = date(2025, 3, 3)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    start = _monday(args.start)
    runs: list[dict[str, Any]] = []
    for size in args.sizes:
        runs.append(_run(size, seed=args.seed, start=start))
    per_person = {run["people"]: run["seconds"] / run["people"] for run in runs}
    ratio = per_person[10_000] / per_person[1_000] if {1_000, 10_000} <= per_person.keys() else None
    workdays = sum(run["workdays"] for run in runs)
    doc: dict[str, Any] = {
        "benchmark": "planner",
        "what": "normalised events -> day loads and holds (plan_calendar), single process",
        "runs": [{k: v for k, v in run.items() if k != "workdays"} for run in runs],
        "target_seconds_10000": TARGET_SECONDS_10000,
        "per_person_ratio_10000_vs_1000": None if ratio is None else round(ratio, 3),
        "target_per_person_ratio": TARGET_RATIO,
        "events": {
            "source": "micromoments.local.synthetic.generate_org",
            "seed": args.seed,
            "first": start.isoformat(),
            "days": DAYS,
            "total": sum(run["events"] for run in runs),
            "per_workday": round(sum(run["workday_events"] for run in runs) / workdays, 2)
            if workdays
            else None,
        },
        "machine": _machine(),
        "date": datetime.now(UTC).date().isoformat(),
        "rows": _rows(runs, ratio),
    }
    if args.json:
        print(json.dumps(doc))
    else:
        _print_table(doc)
    return 0


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=(1_000, 5_000, 10_000),
        help="comma-separated numbers of people (default 1000,5000,10000)",
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the synthetic org")
    parser.add_argument(
        "--start",
        type=date.fromisoformat,
        default=DEFAULT_START,
        help="a date in the first week (its Monday is used; default 2025-03-03)",
    )
    return parser.parse_args(argv)


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers like 1000,5000: {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("sizes must be positive")
    return sizes


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _progress(message: str) -> None:
    print(f"bench planner: {message}", file=sys.stderr, flush=True)


def _run(size: int, *, seed: int, start: date) -> dict[str, Any]:
    _progress(f"{size} people: generating {DAYS} days from {start} ...")
    began = time.perf_counter()
    org = generate_org(size, seed=seed, start=start, days=DAYS)
    generated = time.perf_counter() - began
    began = time.perf_counter()
    inputs = [(p.person, normalised_events(p)) for p in org.people]
    normalised = time.perf_counter() - began
    events = sum(len(e) for _, e in inputs)
    workdays, workday_events = _workday_counts(org, inputs, start)
    _progress(
        f"{size} people: {events} events generated in {generated:.1f} s, "
        f"normalised in {normalised:.1f} s; planning ..."
    )
    settings = org.settings
    now = datetime.combine(start, datetime.min.time(), UTC)
    # The generated org is long-lived input, not garbage the planner made: collect once and
    # freeze it, so the cyclic collector does not re-walk ~1M input objects during the timed
    # loop (that cost scales with the input size, not with the planner's work).
    gc.collect()
    gc.freeze()
    try:
        began = time.perf_counter()
        plans = [
            plan_calendar(person, person_events, settings, now=now, first=start, days=DAYS)
            for person, person_events in inputs
        ]
        seconds = time.perf_counter() - began
    finally:
        gc.unfreeze()
    lines = sorted(
        f"{plan.person}|{hold.id}|{hold.kind}|{hold.start.isoformat()}|{hold.end.isoformat()}"
        for plan in plans
        for hold in plan.holds
    )
    checksum = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    holds = len(lines)
    overloaded = sum(load.overloaded for plan in plans for load in plan.loads)
    _progress(f"{size} people: planned in {seconds:.2f} s, {holds} holds")
    del plans, inputs, org
    gc.collect()
    return {
        "people": size,
        "seconds": round(seconds, 3),
        "ms_per_person": round(seconds / size * 1000, 3),
        "checksum": checksum,
        "holds": holds,
        "overloaded_days": overloaded,
        "events": events,
        "workday_events": workday_events,
        "workdays": workdays,
        "generate_seconds": round(generated, 2),
        "normalise_seconds": round(normalised, 2),
    }


def _workday_counts(
    org: SyntheticOrg, inputs: list[tuple[Any, list[CalendarEvent]]], start: date
) -> tuple[int, int]:
    """(person-workdays, events starting on a local workday) of the window."""
    workdays = events = 0
    dates = [start + timedelta(days=i) for i in range(DAYS)]
    for person, person_events in inputs:
        hours = person.hours(org.settings.working_hours)
        workdays += sum(hours.is_workday(d) for d in dates)
        for event in person_events:
            begin = event.start
            day = begin.date() if isinstance(begin, datetime) else begin
            events += hours.is_workday(day)
    return workdays, events


def _rows(runs: list[dict[str, Any]], ratio: float | None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for run in runs:
        target = f"< {TARGET_SECONDS_10000:g} s" if run["people"] == 10_000 else ""
        rows.append(
            {
                "what": "plan_calendar (day loads + holds), 14 days",
                "size": f"{run['people']} people, {run['events']} events",
                "result": f"{run['seconds']:.2f} s ({run['ms_per_person']:.2f} ms/person)",
                "target": target,
                "met": run["seconds"] < TARGET_SECONDS_10000 if target else None,
            }
        )
    if ratio is not None:
        rows.append(
            {
                "what": "time per person at 10,000 vs at 1,000",
                "size": "10000 / 1000",
                "result": f"{ratio:.2f}x",
                "target": f"<= {TARGET_RATIO:g}x",
                "met": ratio <= TARGET_RATIO,
            }
        )
    return rows


def _machine() -> dict[str, Any]:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": cpus,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
    }


def _print_table(doc: dict[str, Any]) -> None:
    print(f"planner benchmark, {doc['date']}, {doc['machine']['platform']}")
    print(
        f"events: seed {doc['events']['seed']}, {doc['events']['days']} days from "
        f"{doc['events']['first']}, {doc['events']['per_workday']} a workday on average"
    )
    header = f"{'people':>8} {'events':>9} {'seconds':>9} {'ms/person':>10} {'holds':>7}  checksum"
    print(header)
    print("-" * len(header))
    for run in doc["runs"]:
        print(
            f"{run['people']:>8} {run['events']:>9} {run['seconds']:>9.2f} "
            f"{run['ms_per_person']:>10.3f} {run['holds']:>7}  {run['checksum'][:16]}"
        )
    ratio = doc["per_person_ratio_10000_vs_1000"]
    if ratio is not None:
        print(f"time per person, 10,000 vs 1,000: {ratio:.2f}x (target <= {TARGET_RATIO:g}x)")
    for run in doc["runs"]:
        if run["people"] == 10_000:
            verdict = "met" if run["seconds"] < TARGET_SECONDS_10000 else "MISSED"
            print(f"10,000 people: {run['seconds']:.2f} s, target < 20 s: {verdict}")


if __name__ == "__main__":
    raise SystemExit(main())
