"""Benchmark: today's single bundle against the per-function bundles (functions/Makefile).

Sizes, for Lambda (python3.12 on arm64, as template.yaml says): today's bundle is what
`sam build` made of ``CodeUri: functions/`` with the default Python builder (the whole
directory plus every pinned requirement, no bytecode); the new ones are the Makefile's
``build-<LogicalId>`` targets. Unzipped bytes and the zip's bytes (deflate, as `sam
package` zips), per function.

Cold start, on this machine (both bundles built again for its platform and Python): a fresh
``python -S -B`` process with only the bundle on sys.path (no site-packages; ``-B`` as
Lambda's read-only /var/task, where nothing can be cached) imports the handler module and
makes its first invocation against loopback servers (moto's server, the local Calendar
server; bench/coldstart.py's world). Each repetition runs today's and the new bundle back to
back, in alternating order; the median of ``--repeat`` (5) is reported, after one uncounted
run of each.

    python bench/bundles.py            # a readable table
    python bench/bundles.py --json     # one JSON object on stdout, progress on stderr

The bytecode for Lambda is compiled by Python 3.12: LAMBDA_PYTHON names it when
``python3.12`` is not on PATH.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import coldstart

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = ROOT / "functions"
MB = 1_000_000


@dataclass(frozen=True)
class Function:
    logical_id: str
    module: str
    attribute: str
    env_kind: str  # which of coldstart's environments it starts from
    target_mb: int


FUNCTIONS = (
    Function("DispatchFunction", "micromoments.handlers.dispatch", "handler", "dispatch", 25),
    Function("ScanFunction", "micromoments.handlers.scan", "handler", "scan", 40),
    Function("PairFunction", "micromoments.handlers.pair", "handler", "scan", 40),
    Function(
        "DigestDispatchFunction", "micromoments.handlers.digest", "dispatch_handler", "web", 25
    ),
    Function("DigestSendFunction", "micromoments.handlers.digest", "send_handler", "web", 25),
    Function("WebFunction", "micromoments.handlers.web", "handler", "web", 25),
)


def _progress(message: str) -> None:
    print(f"bench bundles: {message}", file=sys.stderr, flush=True)


# -- building ---------------------------------------------------------------------------------


def _lambda_python() -> str:
    """LAMBDA_PYTHON, else a python3.12 that runs (on PATH, or one pyenv installed)."""
    if os.environ.get("LAMBDA_PYTHON"):
        return os.environ["LAMBDA_PYTHON"]
    candidates = [shutil.which("python3.12") or ""]
    candidates += sorted(map(str, Path.home().glob(".pyenv/versions/3.12*/bin/python3.12")))
    for python in filter(None, candidates):
        if subprocess.run([python, "-c", ""], capture_output=True, check=False).returncode == 0:
            return python
    raise SystemExit("bench bundles: Lambda's bytecode needs Python 3.12: set LAMBDA_PYTHON")


def _make(function: Function, out: Path, flags: str, env: dict[str, str]) -> None:
    command = ["make", "-s", "-C", str(FUNCTIONS_DIR), f"build-{function.logical_id}"]
    command += [f"ARTIFACTS_DIR={out}", f"PYTHON={sys.executable}", f"BUNDLE_FLAGS={flags}"]
    subprocess.run(command, check=True, env=env)


def _whole(out: Path, flags: Sequence[str], env: dict[str, str]) -> None:
    command = [sys.executable, str(FUNCTIONS_DIR / "bundle.py"), "--whole", str(out), *flags]
    subprocess.run(command, check=True, env=env)


def _sizes(path: Path, scratch: Path) -> dict[str, int]:
    files = sorted(p for p in path.rglob("*") if p.is_file())
    archive = scratch / f"{path.name}.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        for file in files:
            zipped.write(file, file.relative_to(path))
    sizes = {
        "unzipped_bytes": sum(f.stat().st_size for f in files),
        "zipped_bytes": archive.stat().st_size,
        "files": len(files),
    }
    archive.unlink()
    return sizes


def _contents(path: Path) -> dict[str, Any]:
    documents = path / "googleapiclient" / "discovery_cache" / "documents"
    return {
        "has_micromoments_local": (path / "micromoments" / "local").exists(),
        "discovery_documents": sorted(p.name for p in documents.glob("*.json"))
        if documents.is_dir()
        else [],
        "has_yaml": (path / "yaml").exists(),
    }


# -- cold starts ------------------------------------------------------------------------------


def _child() -> None:
    """argv: bundle, module, attribute, event JSON, output path. Stdlib only until the
    handler's import; the bundle is the only third-party code on sys.path."""
    import json
    import sys
    import time

    bundle, module_name, attribute, event_text, out_path = sys.argv[1:6]
    sys.path.insert(0, bundle)
    out: dict[str, Any] = {}
    try:
        started = time.perf_counter()
        module = __import__(module_name, fromlist=[attribute])
        imported = time.perf_counter()

        class Context:
            function_name = "micromoments-bench"
            function_version = "$LATEST"
            memory_limit_in_mb = 256
            invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:bench"
            log_group_name = "/aws/lambda/micromoments-bench"
            log_stream_name = "bench"
            aws_request_id = f"bench-{time.time_ns()}"

            def get_remaining_time_in_millis(self) -> int:
                return 30_000

        result = getattr(module, attribute)(json.loads(event_text), Context())
        done = time.perf_counter()
        out["init_ms"] = (imported - started) * 1000
        out["first_ms"] = (done - imported) * 1000
        out["result"] = repr(result)[:300]
        out["modules_loaded"] = len(sys.modules)
    except BaseException as exc:
        import traceback

        out["error"] = "".join(traceback.format_exception(exc))[-3000:]
    with open(out_path, "w", encoding="utf-8") as handle:
        json.dump(out, handle)


def _env(world: coldstart.World, function: Function, bundle: Path) -> dict[str, str]:
    env = coldstart._lambda_env(world, function.env_kind)
    env["LAMBDA_TASK_ROOT"] = str(bundle)
    env["_HANDLER"] = f"{function.module}.{function.attribute}"
    env["MICROMOMENTS_SCAN_QUEUE_URL"] = world.queue_url
    env["MICROMOMENTS_DIGEST_QUEUE_URL"] = world.queue_url
    return env


def _event(world: coldstart.World, function: Function) -> dict[str, Any]:
    if function.logical_id in ("DispatchFunction", "ScanFunction", "WebFunction"):
        return coldstart._event(world, function.env_kind)[0]
    if function.logical_id == "DigestSendFunction":
        record = {
            "messageId": uuid.uuid4().hex,
            "receiptHandle": "rh",
            "body": json.dumps({"person": "p00@example.com", "week": "2026-W02"}),
            "attributes": {"ApproximateReceiveCount": "1"},
            "messageAttributes": {},
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": f"arn:aws:sqs:{coldstart.REGION}:123456789012:digest",
            "awsRegion": coldstart.REGION,
        }
        return {"Records": [record]}
    return {}  # pair, digest dispatch: the schedule's time is now


def _run(world: coldstart.World, function: Function, bundle: Path, out: Path) -> dict[str, Any]:
    out.unlink(missing_ok=True)
    event = json.dumps(_event(world, function))
    code = coldstart._source(_child)
    args = [str(bundle), function.module, function.attribute, event, str(out)]
    done = subprocess.run(
        [sys.executable, "-S", "-B", "-c", code, *args],
        env=_env(world, function, bundle),
        cwd=str(bundle),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    coldstart._drain(world)
    if not out.exists():
        raise RuntimeError(f"{function.logical_id} child failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    if "error" in result:
        raise RuntimeError(f"{function.logical_id} from {bundle.name}:\n{result['error']}")
    return result


def _cold_starts(
    bundles: dict[str, dict[str, Path]], repeat: int, workdir: Path
) -> dict[str, dict[str, Any]]:
    stack: list[Callable[[], None]] = []
    try:
        world = coldstart._build_world(4 * repeat + 4, workdir, stack)
        # pair asks freeBusy of everyone active: give the dispatch people calendars too
        for i in range(coldstart.DISPATCH_PEOPLE):
            world.calendar.add_calendar(f"p{i:02d}@example.com", timezone="Europe/Berlin")
        report: dict[str, dict[str, Any]] = {}
        for function in FUNCTIONS:
            runs: dict[str, list[dict[str, Any]]] = {"today": [], "bundle": []}
            out = workdir / "child.json"
            for variant in runs:  # uncounted: warms the page cache
                _run(world, function, bundles[variant][function.logical_id], out)
            for rep in range(repeat):
                order = ("today", "bundle") if rep % 2 == 0 else ("bundle", "today")
                for variant in order:
                    bundle = bundles[variant][function.logical_id]
                    runs[variant].append(_run(world, function, bundle, out))
            entry: dict[str, Any] = {}
            for variant, samples in runs.items():
                init = [s["init_ms"] for s in samples]
                first = [s["first_ms"] for s in samples]
                total = [s["init_ms"] + s["first_ms"] for s in samples]
                entry[variant] = {
                    "init_ms": round(statistics.median(init), 1),
                    "first_ms": round(statistics.median(first), 1),
                    "cold_ms": round(statistics.median(total), 1),
                    "runs_cold_ms": [round(t, 1) for t in total],
                    "first_result": samples[0]["result"],
                    "modules_loaded": samples[0]["modules_loaded"],
                }
            report[function.logical_id] = entry
            _progress(
                f"{function.logical_id}: today {entry['today']['cold_ms']:.0f} ms, "
                f"per-function {entry['bundle']['cold_ms']:.0f} ms"
            )
        return report
    finally:
        for stop in reversed(stack):
            stop()


# -- the report -------------------------------------------------------------------------------


def _rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    today = doc["today"]
    for function in FUNCTIONS:
        new = doc["functions"][function.logical_id]
        before = f"{today['unzipped_bytes'] / MB:.1f} MB ({today['zipped_bytes'] / MB:.1f})"
        after = f"{new['unzipped_bytes'] / MB:.1f} MB ({new['zipped_bytes'] / MB:.1f})"
        rows.append(
            {
                "what": f"{function.logical_id} bundle, unzipped (zipped), python3.12 arm64",
                "size": "today's bundle -> per-function",
                "result": f"{before} -> {after}",
                "target": f"<= {function.target_mb} MB unzipped",
                "met": new["unzipped_bytes"] <= function.target_mb * MB,
            }
        )
    for function in FUNCTIONS:
        cold = doc["cold_start"][function.logical_id]
        rows.append(
            {
                "what": f"{function.logical_id} cold start (import + first invocation), "
                "today's bundle vs per-function, side by side",
                "size": f"median of {doc['repeat']} fresh processes each",
                "result": f"{cold['today']['cold_ms']:.0f} ms -> {cold['bundle']['cold_ms']:.0f} ms"
                f" (init {cold['today']['init_ms']:.0f} -> {cold['bundle']['init_ms']:.0f})",
                "target": "",
                "met": None,
            }
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    lambda_python = _lambda_python()
    env = {**os.environ, "LAMBDA_PYTHON": lambda_python}
    with tempfile.TemporaryDirectory(prefix="bench-bundles-") as tmp:
        work = Path(tmp)
        _progress("building today's bundle and the per-function bundles for Lambda (arm64)")
        _whole(work / "lambda-today", [], env)
        functions: dict[str, Any] = {}
        for function in FUNCTIONS:
            out = work / "lambda" / function.logical_id
            _make(function, out, "", env)
            functions[function.logical_id] = {**_sizes(out, work), **_contents(out)}
        today = {**_sizes(work / "lambda-today", work), **_contents(work / "lambda-today")}
        shutil.rmtree(work / "lambda")
        shutil.rmtree(work / "lambda-today")
        _progress("building both again for this machine, for the cold starts")
        _whole(work / "host-today", ["--host"], env)
        bundles: dict[str, dict[str, Path]] = {"today": {}, "bundle": {}}
        for function in FUNCTIONS:
            out = work / "host" / function.logical_id
            _make(function, out, "--host", env)
            bundles["bundle"][function.logical_id] = out
            bundles["today"][function.logical_id] = work / "host-today"
        cold = _cold_starts(bundles, args.repeat, work)
    doc: dict[str, Any] = {
        "benchmark": "bundles",
        "what": "per-function bundles vs today's single bundle: sizes and cold starts",
        "repeat": args.repeat,
        "today": today,
        "functions": functions,
        "cold_start": cold,
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "lambda_python": lambda_python,
        "seconds": round(time.perf_counter() - started, 1),
        "date": datetime.now(UTC).date().isoformat(),
    }
    doc["rows"] = _rows(doc)
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        for row in doc["rows"]:
            print(f"{row['what']}: {row['result']}  {row['target']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
