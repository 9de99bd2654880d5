"""Compare two demo summaries apart from timings: the check that a refactoring left the demo
as it was.

    python bench/demo_compare.py run --out BEFORE   # with the old tree's interpreter
    python bench/demo_compare.py run --out AFTER    # with the new tree's
    python bench/demo_compare.py compare BEFORE/summary.json AFTER/summary.json

``compare`` removes the timing fields (``seconds`` anywhere in the document) from both, then
prints every remaining path whose value differs; the exit status is 0 when none does and 1
otherwise.

``run`` runs the demo (`micromoments.local.demo.run_demo`, as ``micromoments demo`` does)
made repeatable: the signing key the local runtime creates is a fixed one instead of a
random one, and the interpreter's string hashing is seeded (PYTHONHASHSEED=0). With a
random key, the pseudonyms the weekly pairing orders people by change from run to run, and
so do the pairs and every figure of the pairing run (two plain ``micromoments demo`` runs of
the same code differ there). Run both demos within the same hour of the same day: the runs
read the clock (the week shown, whose local day is a workday, whose digest is due).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

TIMINGS = frozenset({"seconds"})


def without_timings(value: Any) -> Any:
    """The document with every timing field removed, at any depth."""
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k not in TIMINGS}
    if isinstance(value, list):
        return [without_timings(item) for item in value]
    return value


def differences(before: Any, after: Any, path: str = "$") -> Iterator[str]:
    """Each path where the two documents differ, with both values."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            if key not in after:
                yield f"{path}.{key}: only before ({before[key]!r})"
            elif key not in before:
                yield f"{path}.{key}: only after ({after[key]!r})"
            else:
                yield from differences(before[key], after[key], f"{path}.{key}")
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (one, other) in enumerate(zip(before, after, strict=True)):
            yield from differences(one, other, f"{path}[{index}]")
    elif before != after:
        yield f"{path}: {before!r} != {after!r}"


def run(out: Path, people: int) -> int:
    """The demo with a fixed signing key and seeded string hashing; its exit status."""
    if os.environ.get("PYTHONHASHSEED") != "0":  # hashing is seeded at start: start again
        environ = {**os.environ, "PYTHONHASHSEED": "0"}
        os.execve(sys.executable, [sys.executable, *sys.argv], environ)
    from types import SimpleNamespace

    from micromoments.adapters import secrets as secret_store
    from micromoments.local.demo import run_demo

    fixed = SimpleNamespace(token_hex=lambda size: "5a" * size)  # the key's length, not random
    secret_store.secrets = fixed  # type: ignore[attr-defined,assignment]
    summary = run_demo(people=people, out=out)
    return 0 if summary["people_scanned"] == summary["people"] else 1


def compare(before_path: Path, after_path: Path) -> int:
    before, after = (
        without_timings(json.loads(path.read_text(encoding="utf-8")))
        for path in (before_path, after_path)
    )
    found = list(differences(before, after))
    for line in found:
        print(line)
    print(
        f"{len(found)} difference(s) apart from timings"
        if found
        else "identical apart from timings"
    )
    return 1 if found else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    running = commands.add_parser("run", help="run the demo with a fixed key")
    running.add_argument("--out", type=Path, required=True, help="the output directory")
    running.add_argument("--people", type=int, default=36, help="people in the org (36)")
    comparing = commands.add_parser("compare", help="compare two summary.json files")
    comparing.add_argument("before", type=Path, help="the summary.json before the change")
    comparing.add_argument("after", type=Path, help="the summary.json after the change")
    args = parser.parse_args(argv)
    if args.command == "run":
        return run(args.out, args.people)
    return compare(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
