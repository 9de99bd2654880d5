"""Run every benchmark in bench/ with --json and write docs/benchmarks.md from the results.

Each benchmark prints one JSON object; its "rows" list holds the lines of the report:
{"what", "size", "result", "target", "met"}. Everything else it prints is kept verbatim in
docs/benchmarks/<name>.json so the numbers behind the table can be checked.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
DOCS = ROOT / "docs"
# Modules beside the benchmarks that are not benchmarks: this runner, the capacity accounting
# bench/scale.py measures with, and the demo comparison of a refactoring.
NOT_BENCHMARKS = frozenset({"run", "capacity", "demo_compare"})


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    # `--only NAME[,NAME]` re-runs those benchmarks and reuses the others' stored results.
    only = set(args[args.index("--only") + 1].split(",")) if "--only" in args else None
    scripts = sorted(p for p in BENCH.glob("*.py") if p.stem not in NOT_BENCHMARKS)
    results: list[tuple[str, dict[str, Any]]] = []
    raw_dir = DOCS / "benchmarks"
    raw_dir.mkdir(parents=True, exist_ok=True)
    for script in scripts:
        stored = raw_dir / f"{script.stem}.json"
        if only is not None and script.stem not in only and stored.exists():
            print(f"bench: reusing {stored.name}", file=sys.stderr)
            results.append((script.stem, json.loads(stored.read_text())))
            continue
        print(f"bench: running {script.name} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, str(script), "--json"],
            check=False,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        if done.returncode != 0:
            print(f"bench: {script.name} failed with exit code {done.returncode}", file=sys.stderr)
            return 1
        doc = json.loads(done.stdout)
        (raw_dir / f"{script.stem}.json").write_text(json.dumps(doc, indent=2) + "\n")
        print(f"bench: {script.name} took {time.perf_counter() - started:.1f} s", file=sys.stderr)
        results.append((script.stem, doc))

    machine = f"{platform.machine()}, {_cpus()} cores, Python {platform.python_version()}"
    today = datetime.now(UTC).date().isoformat()
    command = f".venv/bin/python bench/run.py {' '.join(args)}" if args else "make bench"
    lines = [
        "# Benchmark results",
        "",
        f"Written by `{command}` on {today} ({machine}); each row's date is the day its"
        " benchmark ran (`--only` re-runs one and keeps the others' results). Raw output:"
        " `docs/benchmarks/*.json`.",
        "",
        "| benchmark | what | size | result | target | met | machine | date |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, doc in results:
        for row in doc.get("rows", []):
            met = {True: "yes", False: "**no**"}.get(row.get("met"), "")
            lines.append(
                f"| {name} | {row['what']} | {row['size']} | {row['result']} | "
                f"{row.get('target', '')} | {met} | {machine} | {doc.get('date', today)} |"
            )
    (DOCS / "benchmarks.md").write_text("\n".join(lines) + "\n")
    print(f"bench: wrote {DOCS / 'benchmarks.md'}", file=sys.stderr)
    return 0


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    raise SystemExit(main())
