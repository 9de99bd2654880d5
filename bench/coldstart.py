"""Benchmark: cold starts of the Lambda handlers, against the libraries they need.

For each handler, in fresh processes with Lambda-like environment variables, median of
``--repeat`` (5) runs:

- ``init_ms``: the import of ``micromoments.handlers.<name>`` (module set-up included);
- ``first_ms``: the first invocation on a representative event against loopback servers
  (moto's server for DynamoDB, SQS and Secrets Manager; the local Calendar server);
- ``warm_ms``: a second invocation on the same event, in the same process;
- ``floor_ms``: in the same run, another fresh process that imports exactly the third-party
  modules present after the first invocation (every one, submodules included, in sorted
  order) and constructs the same third-party objects without network — one boto3 client per
  service the handler created, the Calendar service object (with its events, settings and
  freeBusy resources) and the service-account credentials — listed as ``floor_objects``.

Target (the issue): ``init_ms + first_ms - warm_ms <= floor_ms + 100``: the project's own
code adds at most 100 ms to the cost of the libraries it needs.

The events: dispatch ``{"kind": "dispatch"}`` over every person of the table (28 with the
default ``--repeat``), to an emptied queue; scan one SQS record for a person nobody has
scanned yet (a different person each run, so the first invocation is a real first scan:
full sync of 30 meetings, time zone, holds inserted through the service-account delegation
path with the key held in Secrets Manager; the warm invocation is the rescan); web
``GET /health``. Because a rescan does less than a first scan, the scan child also times a
third invocation, a first scan of another person in the warm process, and reports the
work-matched figure beside the issue's one. Every figure is also taken as CPU time of the
child (``cpu_time_of_the_child``), which other load on the machine disturbs less. An
uncounted run per handler first writes the bytecode caches. Two more children per handler
give the evidence under ``profile``: one with ``python -X importtime`` (what the project's
own modules import, and what runs while they do) and one with the first and the warm
invocation under cProfile (self time by package; the project's functions by cumulative
time). Modules that extension modules register under names nothing can import
(``_cython_3_3_1``, ``cython_runtime``, ``_openssl``) show up as ``floor_import_failures``.

    python bench/coldstart.py                     # a readable table
    python bench/coldstart.py --json              # one JSON object on stdout, progress on stderr
    python bench/coldstart.py --repeat 5 --handlers dispatch,scan,web

The Tracer runs with POWERTOOLS_TRACE_DISABLED=1: there is no X-Ray daemon here (deployed,
``Tracing: Active`` makes the Tracer import the X-Ray SDK). The memory size is only an
environment variable: the CPU is not throttled as Lambda's is, and it may be shared with
other work on this machine (the load average is recorded).
"""

from __future__ import annotations

import argparse
import inspect
import json
import logging
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

HANDLERS = ("dispatch", "scan", "web")
TARGET_MS = 100.0
REGION = "eu-west-1"
BERLIN = ZoneInfo("Europe/Berlin")
ROOT = Path(__file__).resolve().parent.parent
MEMORY_MB = {"dispatch": 256, "scan": 512, "web": 256}  # template.yaml
# A person's working day in the local Calendar: six one-hour meetings with someone else.
MEETINGS = ((9, 10), (10, 11), (11, 12), (13, 14), (14, 15), (15, 16))
DISPATCH_PEOPLE = 12
LEAVING_PEOPLE = 2


def _progress(message: str) -> None:
    print(f"bench coldstart: {message}", file=sys.stderr, flush=True)


# -- the children (run from their source in a fresh interpreter; stdlib only) --------------


def _child_handler() -> None:
    """argv: handler name, event JSON, output path, and an event for a third invocation
    doing the same work as the first (``null``: none). Writes one JSON object to the path."""
    import sys
    import time

    name, event_text, out_path, other_text = sys.argv[1:5]
    startup = set(sys.modules)
    created: dict[str, int] = {}

    def count(key: str) -> None:
        created[key] = created.get(key, 0) + 1

    def patch_botocore(module: Any) -> None:
        original = module.Session.create_client

        def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
            count("boto3:" + str(kwargs.get("service_name", args[0] if args else "?")))
            return original(self, *args, **kwargs)

        module.Session.create_client = create_client

    def patch_discovery(module: Any) -> None:
        original = module.build

        def build(*args: Any, **kwargs: Any) -> Any:
            names = [*args[:2], kwargs.get("serviceName"), kwargs.get("version")]
            count("googleapiclient:" + " ".join(str(n) for n in names if n)[:40])
            return original(*args, **kwargs)

        module.build = build

    def patch_service_account(module: Any) -> None:
        original = module.Credentials.from_service_account_info.__func__

        def from_info(cls: Any, *args: Any, **kwargs: Any) -> Any:
            count("google-auth:service_account")
            return original(cls, *args, **kwargs)

        module.Credentials.from_service_account_info = classmethod(from_info)

    patches = {
        "botocore.session": patch_botocore,
        "googleapiclient.discovery": patch_discovery,
        "google.oauth2.service_account": patch_service_account,
    }

    class Watch:
        """Counts the third-party objects the floor must construct (patched after load)."""

        @staticmethod
        def find_spec(fullname: str, path: Any, target: Any = None) -> Any:
            patch = patches.get(fullname)
            if patch is None:
                return None
            for finder in sys.meta_path:
                find = getattr(finder, "find_spec", None)
                spec = find(fullname, path, target) if finder is not Watch and find else None
                if spec is not None and spec.loader is not None:
                    break
            else:
                return None
            exec_module = spec.loader.exec_module

            def run(module: Any) -> None:
                exec_module(module)
                patch(module)

            spec.loader.exec_module = run
            return spec

    sys.meta_path.insert(0, Watch)
    out: dict[str, Any] = {}

    def timed(key: str, call: Any) -> Any:
        """``call()``; its wall-clock and CPU (this process) milliseconds under ``key``."""
        wall, cpu = time.perf_counter(), time.process_time()
        result = call()
        out[f"{key}_ms"] = (time.perf_counter() - wall) * 1000
        out[f"{key}_cpu_ms"] = (time.process_time() - cpu) * 1000
        return result

    try:
        path = f"micromoments.handlers.{name}"
        module = timed("init", lambda: __import__(path, fromlist=["handler"]))
        import json

        event = json.loads(event_text)

        class Context:
            function_name = f"micromoments-{name}"
            function_version = "$LATEST"
            memory_limit_in_mb = 256
            invoked_function_arn = f"arn:aws:lambda:eu-west-1:123456789012:function:{name}"
            log_group_name = f"/aws/lambda/micromoments-{name}"
            log_stream_name = "bench"

            def __init__(self, request_id: str) -> None:
                self.aws_request_id = request_id

            def get_remaining_time_in_millis(self) -> int:
                return 30_000

        first = timed("first", lambda: module.handler(event, Context(f"1-{time.time_ns()}")))
        after_first = dict(sys.modules)
        out["created"] = dict(created)
        warm = timed("warm", lambda: module.handler(event, Context(f"2-{time.time_ns()}")))
        after_warm = dict(created)
        other = json.loads(other_text)
        if other is not None:
            timed("warm_like_first", lambda: module.handler(other, Context(f"3-{time.time_ns()}")))
        stdlib = sys.stdlib_module_names
        out["modules"] = sorted(
            m
            for m, loaded in after_first.items()
            if m not in startup
            and loaded is not None
            and m.partition(".")[0] not in stdlib
            and m.partition(".")[0] != "micromoments"
            and not m.startswith("__")
        )
        own = [m for m in after_first if m.partition(".")[0] == "micromoments"]
        out["own_modules"] = len(own)
        out["stdlib_modules"] = sum(
            1 for m in after_first if m not in startup and m.partition(".")[0] in stdlib
        )
        out["created_by_warm"] = {
            k: v - out["created"].get(k, 0)
            for k, v in after_warm.items()
            if v > out["created"].get(k, 0)
        }
        out["first_result"] = json.loads(json.dumps(first, default=str))
        out["warm_result"] = json.loads(json.dumps(warm, default=str))
    except BaseException as exc:  # reported to the parent, which fails loudly
        import traceback

        out["error"] = "".join(traceback.format_exception(exc))
    with open(out_path, "w", encoding="utf-8") as handle:
        import json

        handle.write(json.dumps(out))


def _child_floor() -> None:
    """argv: spec path (lines: ``module M``, ``client S``, ``calendar URL``, ``credentials
    PATH``), output path. Imports and constructs, timed; writes one JSON object."""
    import sys
    import time

    spec_path, out_path = sys.argv[1:3]
    with open(spec_path, encoding="utf-8") as handle:
        lines = [line.split(" ", 1) for line in handle.read().splitlines() if line]
    modules = [arg for kind, arg in lines if kind == "module"]
    objects = [(kind, arg) for kind, arg in lines if kind != "module"]
    key_text = ""
    for kind, arg in objects:
        if kind == "credentials":
            with open(arg, encoding="utf-8") as handle:
                key_text = handle.read()
    failed: list[str] = []
    began, began_cpu = time.perf_counter(), time.process_time()
    for name in modules:
        try:
            __import__(name)
        except Exception as exc:
            failed.append(f"{name}: {type(exc).__name__}: {exc}")
    imported = time.perf_counter()
    for kind, arg in objects:
        if kind == "client":
            sys.modules["boto3"].client(arg)
        elif kind == "calendar":
            httplib2 = sys.modules["httplib2"]
            service = sys.modules["googleapiclient.discovery"].build(
                "calendar",
                "v3",
                http=httplib2.Http(timeout=10),
                static_discovery=True,
                cache_discovery=False,
                client_options={"api_endpoint": arg},
            )
            service.events()
            service.settings()
            service.freebusy()
        elif kind == "credentials":
            info = sys.modules["json"].loads(key_text)
            sys.modules["google.oauth2.service_account"].Credentials.from_service_account_info(
                info,
                scopes=[  # adapters.google_calendar.SCOPES
                    "https://www.googleapis.com/auth/calendar.events.owned",
                    "https://www.googleapis.com/auth/calendar.events.freebusy",
                    "https://www.googleapis.com/auth/calendar.settings.readonly",
                ],
            )
    done, done_cpu = time.perf_counter(), time.process_time()
    out = {
        "floor_ms": (done - began) * 1000,
        "floor_cpu_ms": (done_cpu - began_cpu) * 1000,
        "import_ms": (imported - began) * 1000,
        "construct_ms": (done - imported) * 1000,
        "failed": failed,
    }
    with open(out_path, "w", encoding="utf-8") as handle:
        handle.write(sys.modules["json"].dumps(out))


def _child_profile() -> None:
    """argv: handler name, event JSON, output path. The first and the warm invocation under
    cProfile, their own time grouped by where the code lives; the project's functions with
    the most cumulative time."""
    import sys

    name, event_text, out_path = sys.argv[1:4]
    module = __import__(f"micromoments.handlers.{name}", fromlist=["handler"])
    import cProfile
    import json
    import pstats
    import sysconfig

    stdlib_dir = sysconfig.get_paths()["stdlib"]
    waits = ("socket", "select", "poll", "ssl", "sleep")

    def place(filename: str, function: str) -> str:
        if filename == "~":
            return "socket I/O and sleeps" if any(w in function for w in waits) else "builtins"
        if "/site-packages/" in filename:
            parts = filename.split("/site-packages/", 1)[1].split("/")
            top = parts[0].removesuffix(".py")
            return f"{top}.{parts[1].removesuffix('.py')}" if top == "google" else top
        if "/micromoments/" in filename:
            return "micromoments (own code)"
        if filename.startswith("<frozen"):
            return "import machinery"
        return "stdlib" if filename.startswith(stdlib_dir) else "other"

    class Context:
        function_name = f"micromoments-{name}"
        function_version = "$LATEST"
        memory_limit_in_mb = 256
        invoked_function_arn = f"arn:aws:lambda:eu-west-1:123456789012:function:{name}"
        log_group_name = f"/aws/lambda/micromoments-{name}"
        log_stream_name = "bench"

        def __init__(self, request_id: str) -> None:
            self.aws_request_id = request_id

        def get_remaining_time_in_millis(self) -> int:
            return 30_000

    event = json.loads(event_text)
    out: dict[str, Any] = {}
    for label in ("first", "warm"):
        profile = cProfile.Profile()
        profile.enable()
        module.handler(event, Context(label))
        profile.disable()
        stats: dict[Any, Any] = pstats.Stats(profile).stats  # type: ignore[attr-defined]
        by_place: dict[str, float] = {}
        own: list[tuple[float, str]] = []
        builtins: list[tuple[float, str]] = []
        for (filename, line, function), (_, _, own_s, cumulative_s, _) in stats.items():
            where = place(filename, function)
            by_place[where] = by_place.get(where, 0.0) + own_s * 1000
            if filename == "~":
                builtins.append((own_s * 1000, function))
            if where.startswith("micromoments"):
                short = filename.split("/micromoments/", 1)[1]
                own.append((cumulative_s * 1000, f"{short}:{line} {function}"))
        own.sort(reverse=True)
        builtins.sort(reverse=True)
        out[label] = {
            "profiled_ms": round(sum(by_place.values()), 1),
            "self_time_by_place_ms": {
                k: round(v, 1) for k, v in sorted(by_place.items(), key=lambda kv: -kv[1])
            },
            "builtins_by_self_ms": [
                {"function": function, "self_ms": round(ms, 1)} for ms, function in builtins[:6]
            ],
            "own_functions_by_cumulative_ms": [
                {"function": where, "cumulative_ms": round(ms, 1)} for ms, where in own[:15]
            ],
        }
    with open(out_path, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(out))


def _source(function: Callable[[], None]) -> str:
    body = textwrap.dedent(inspect.getsource(function))
    return f"from __future__ import annotations\n\n{body}\n{function.__name__}()\n"


# -- the world the handlers run against -----------------------------------------------------


@dataclass
class World:
    moto_url: str
    table: str
    queue_url: str
    key_secret: str
    signing_secret: str
    calendar_url: str
    token_uri: str
    key_path: Path
    home: Path
    scan_people: list[str]
    store: Any
    calendar: Any
    sqs: Any
    used: int = 0

    def next_scan_person(self) -> str:
        email = self.scan_people[self.used]
        self.used += 1
        return email


# The timings each run records: wall clock, and CPU time of the child process.
TIMINGS = ("init", "first", "warm", "warm_like_first", "floor", "floor_import", "floor_construct")


@dataclass
class Runs:
    samples: list[dict[str, float]] = field(default_factory=list)
    modules: list[str] = field(default_factory=list)
    created: dict[str, int] = field(default_factory=dict)
    created_by_warm: dict[str, int] = field(default_factory=dict)
    floor_failed: list[str] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)

    def series(self, key: str) -> list[float]:
        return [sample[key] for sample in self.samples if key in sample]


def _aws_env() -> None:
    """Fake credentials and region for the parent; no profile or config from the machine."""
    nowhere = str(Path(tempfile.gettempdir()) / "coldstart-no-aws-config")
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_CONFIG_FILE": nowhere,
            "AWS_SHARED_CREDENTIALS_FILE": nowhere,
        }
    )


def _workdays_ahead(count: int) -> list[date]:
    today = datetime.now(BERLIN).date()
    days: list[date] = []
    day = today
    while len(days) < count:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days.append(day)
    return days


def _meetings(email: str, days: Sequence[date]) -> list[dict[str, Any]]:
    events = []
    for day in days:
        for start_hour, end_hour in MEETINGS:
            start = datetime(day.year, day.month, day.day, start_hour, tzinfo=BERLIN)
            end = datetime(day.year, day.month, day.day, end_hour, tzinfo=BERLIN)
            events.append(
                {
                    "id": f"m{day:%Y%m%d}h{start_hour:02d}",
                    "status": "confirmed",
                    "summary": "Planning",
                    "start": {"dateTime": start.isoformat(), "timeZone": "Europe/Berlin"},
                    "end": {"dateTime": end.isoformat(), "timeZone": "Europe/Berlin"},
                    "organizer": {"email": "lead@example.com"},
                    "attendees": [
                        {"email": email, "self": True, "responseStatus": "accepted"},
                        {"email": "lead@example.com", "responseStatus": "accepted"},
                    ],
                }
            )
    return events


def _build_world(scan_people: int, workdir: Path, stack: list[Callable[[], None]]) -> World:
    import boto3
    from moto.server import ThreadedMotoServer

    from micromoments.adapters.dynamo import create_table, dynamo_store
    from micromoments.domain.people import Person, PersonStatus, Preferences
    from micromoments.domain.settings import OrgSettings
    from micromoments.local.calendar_api import CalendarServer

    _aws_env()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    stack.append(moto.stop)
    host, port = moto.get_host_and_port()
    moto_url = f"http://{host}:{port}"
    server = CalendarServer(require_auth=True).start()
    stack.append(server.stop)
    _progress(f"moto server at {moto_url}, Calendar server at {server.base_url}")

    suffix = uuid.uuid4().hex[:8]
    dynamodb = boto3.client("dynamodb", endpoint_url=moto_url)
    table = f"coldstart-{suffix}"
    create_table(dynamodb, table)
    store = dynamo_store(table, client=dynamodb)
    store.create_settings(OrgSettings(timezone="Europe/Berlin", allowed_domains=("example.com",)))
    sqs = boto3.client("sqs", endpoint_url=moto_url)
    queue_url = sqs.create_queue(QueueName=f"scan-{suffix}")["QueueUrl"]
    key = server.service_account_key()
    key_path = workdir / "service-account.json"
    key_path.write_text(json.dumps(key), encoding="utf-8")
    secretsmanager = boto3.client("secretsmanager", endpoint_url=moto_url)
    key_secret, signing_secret = f"google-key-{suffix}", f"signing-key-{suffix}"
    secretsmanager.create_secret(Name=key_secret, SecretString=json.dumps(key))
    secretsmanager.create_secret(Name=signing_secret, SecretString=secrets.token_hex(32))

    every_day = Preferences.from_item({"working_hours": "Mon-Sun 09:00-17:00"})
    for i in range(DISPATCH_PEOPLE):
        store.create_person(Person(email=f"p{i:02d}@example.com", preferences=every_day))
    for i in range(LEAVING_PEOPLE):
        store.create_person(Person(email=f"gone{i}@example.com", status=PersonStatus.LEAVING))
    days = _workdays_ahead(5)
    emails = [f"scan{i:02d}@example.com" for i in range(scan_people)]
    for email in emails:
        store.create_person(Person(email=email))
        server.add_calendar(email, timezone="Europe/Berlin")
        server.seed(email, _meetings(email, days))
    home = workdir / "home"
    home.mkdir()
    return World(
        moto_url=moto_url,
        table=table,
        queue_url=queue_url,
        key_secret=key_secret,
        signing_secret=signing_secret,
        calendar_url=server.base_url,
        token_uri=server.token_uri,
        key_path=key_path,
        home=home,
        scan_people=emails,
        store=store,
        calendar=server,
        sqs=sqs,
    )


def _lambda_env(world: World, handler: str) -> dict[str, str]:
    """What Lambda sets, template.yaml's variables, and the loopback endpoints."""
    nowhere = str(world.home / "no-aws-config")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(world.home),
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": str(ROOT / "functions"),
        "_HANDLER": f"micromoments.handlers.{handler}.handler",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "AWS_LAMBDA_FUNCTION_NAME": f"micromoments-{handler}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(MEMORY_MB[handler]),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/micromoments-{handler}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]coldstart",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_CONFIG_FILE": nowhere,
        "AWS_SHARED_CREDENTIALS_FILE": nowhere,
        "AWS_ENDPOINT_URL": world.moto_url,
        "POWERTOOLS_SERVICE_NAME": "micromoments",
        "POWERTOOLS_METRICS_NAMESPACE": "micromoments",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "LOG_LEVEL": "INFO",
        "POWERTOOLS_TRACE_DISABLED": "1",  # no X-Ray daemon here
        "MICROMOMENTS_TABLE_NAME": world.table,
    }
    if handler == "dispatch":
        env["MICROMOMENTS_SCAN_QUEUE_URL"] = world.queue_url
    elif handler == "scan":
        env["MICROMOMENTS_CALENDAR_API_URL"] = world.calendar_url
        env["MICROMOMENTS_GOOGLE_TOKEN_URI"] = world.token_uri
        env["MICROMOMENTS_GOOGLE_KEY_SECRET"] = world.key_secret
        env["MICROMOMENTS_SIGNING_KEY_SECRET"] = world.signing_secret
    elif handler == "web":
        env["MICROMOMENTS_SCAN_QUEUE_URL"] = world.queue_url
        env["MICROMOMENTS_SIGNING_KEY_SECRET"] = world.signing_secret
        env["MICROMOMENTS_PUBLIC_BASE_URL"] = "http://127.0.0.1:8080"
        env["MICROMOMENTS_SENDER_ADDRESS"] = "micromoments@example.com"
    return env


def _event(world: World, handler: str) -> tuple[dict[str, Any], str | None]:
    """The representative event, and the person it scans (scan only)."""
    if handler == "dispatch":
        return {"kind": "dispatch"}, None
    if handler == "scan":
        email = world.next_scan_person()
        record = {
            "messageId": uuid.uuid4().hex,
            "receiptHandle": "rh",
            "body": json.dumps({"person": email, "reason": "hourly"}),
            "attributes": {"ApproximateReceiveCount": "1"},
            "messageAttributes": {},
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:scan",
            "awsRegion": REGION,
        }
        return {"Records": [record]}, email
    return {
        "version": "2.0",
        "routeKey": "GET /health",
        "rawPath": "/health",
        "rawQueryString": "",
        "headers": {"host": "127.0.0.1"},
        "requestContext": {
            "http": {"method": "GET", "path": "/health", "sourceIp": "127.0.0.1"},
            "stage": "$default",
            "requestId": "coldstart",
        },
        "isBase64Encoded": False,
    }, None


def _drain(world: World) -> None:
    """Delete every message of the scan queue (PurgeQueue allows one call a minute)."""
    while True:
        got = world.sqs.receive_message(QueueUrl=world.queue_url, MaxNumberOfMessages=10)
        messages = got.get("Messages", [])
        if not messages:
            return
        world.sqs.delete_message_batch(
            QueueUrl=world.queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
            ],
        )


def _run_child(
    code: str, args: Sequence[str], env: dict[str, str], out: Path, *, flags: Sequence[str] = ()
) -> tuple[dict[str, Any], str, str]:
    """Run a fresh interpreter; (its JSON result, its stdout, its stderr)."""
    out.unlink(missing_ok=True)
    done = subprocess.run(
        [sys.executable, *flags, "-c", code, *args],
        env=env,
        cwd=str(ROOT),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if done.returncode != 0 or not out.exists():
        raise RuntimeError(f"child failed ({done.returncode}):\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    if "error" in result:
        raise RuntimeError(f"child raised:\n{result['error']}")
    return result, done.stdout, done.stderr


def _metrics(stdout: str) -> list[dict[str, Any]]:
    """The EMF metric blobs powertools printed, one per flush (invocation)."""
    blobs = []
    for line in stdout.splitlines():
        if '"_aws"' not in line:
            continue
        try:
            blob = json.loads(line)
        except ValueError:
            continue
        names = [
            metric["Name"]
            for directive in blob["_aws"].get("CloudWatchMetrics", [])
            for metric in directive.get("Metrics", [])
        ]
        blobs.append({name: blob.get(name) for name in names})
    return blobs


def _floor_spec(world: World, handler: str, child: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(spec lines for the floor child, floor_objects as listed in the report)."""
    lines = [f"module {name}" for name in child["modules"]]
    objects: list[str] = []
    created: dict[str, int] = child["created"]
    for key in sorted(created):
        kind, _, name = key.partition(":")
        if kind == "boto3":
            lines.append(f"client {name}")
            objects.append(f"boto3.client({name!r})")
        elif kind == "googleapiclient":
            lines.append(f"calendar {world.calendar_url}")
            objects.append(
                "googleapiclient.discovery.build('calendar', 'v3', static_discovery=True, "
                "http=httplib2.Http()) + its events(), settings(), freebusy() resources"
            )
        elif kind == "google-auth":
            lines.append(f"credentials {world.key_path}")
            objects.append("google.oauth2.service_account.Credentials.from_service_account_info")
    return lines, objects


def _measure(
    world: World, handler: str, repeat: int, workdir: Path
) -> tuple[Runs, list[str], dict[str, Any]]:
    runs = Runs()
    env = _lambda_env(world, handler)
    handler_code, floor_code = _source(_child_handler), _source(_child_floor)
    out = workdir / f"{handler}.json"
    floor_objects: list[str] = []
    # An uncounted run first: it writes the bytecode caches a fresh checkout lacks.
    event, _ = _event(world, handler)
    _run_child(handler_code, [handler, json.dumps(event), str(out), "null"], env, out)
    for rep in range(repeat):
        event, email = _event(world, handler)
        # scan: a third invocation, a first scan of another person (the work of the first)
        other = _event(world, handler)[0] if handler == "scan" else None
        calls_before = world.calendar.counters.requests
        args = [handler, json.dumps(event), str(out), json.dumps(other)]
        child, stdout, _ = _run_child(handler_code, args, env, out)
        _drain(world)  # every dispatch sends to an empty queue
        evidence: dict[str, Any] = {
            "first_result": child["first_result"],
            "warm_result": child["warm_result"],
            "metrics": _metrics(stdout),
        }
        if email is not None:
            holds = world.store.holds(email)
            evidence["person"] = email
            evidence["holds_in_store"] = len(holds)
            evidence["calendar_server_requests"] = world.calendar.counters.requests - calls_before
            if not holds:
                raise RuntimeError(f"the first scan of {email} placed no holds: {evidence}")
        spec_lines, floor_objects = _floor_spec(world, handler, child)
        spec = workdir / f"{handler}-floor.txt"
        spec.write_text("\n".join(spec_lines) + "\n", encoding="utf-8")
        floor, _, _ = _run_child(floor_code, [str(spec), str(out)], env, out)
        sample = {k: v for k, v in child.items() if k.endswith("_ms")}
        sample.update(floor_ms=floor["floor_ms"], floor_cpu_ms=floor["floor_cpu_ms"])
        sample.update(floor_import_ms=floor["import_ms"], floor_construct_ms=floor["construct_ms"])
        overhead = child["init_ms"] + child["first_ms"] - child["warm_ms"] - floor["floor_ms"]
        runs.samples.append(sample)
        runs.modules = child["modules"]
        runs.created = child["created"]
        runs.created_by_warm = child["created_by_warm"]
        runs.floor_failed = floor["failed"]
        evidence.update(own_modules=child["own_modules"], stdlib_modules=child["stdlib_modules"])
        runs.evidence.append(evidence)
        _progress(
            f"{handler} {rep + 1}/{repeat}: init {child['init_ms']:.0f} ms, first "
            f"{child['first_ms']:.0f} ms, warm {child['warm_ms']:.0f} ms, floor "
            f"{floor['floor_ms']:.0f} ms -> own {overhead:.0f} ms"
        )
    profile = _importtime_profile(world, handler, env, handler_code, out)
    event, _ = _event(world, handler)
    args = [handler, json.dumps(event), str(out)]
    calls, _, _ = _run_child(_source(_child_profile), args, env, out)
    profile["calls_under_cprofile"] = calls
    return runs, floor_objects, profile


# -- python -X importtime: what the project's own modules cost and pull in -----------------


def _importtime_profile(
    world: World, handler: str, env: dict[str, str], code: str, out: Path
) -> dict[str, Any]:
    event, _ = _event(world, handler)
    args = [handler, json.dumps(event), str(out), "null"]
    _, _, stderr = _run_child(code, args, env, out, flags=("-X", "importtime"))
    rows: list[tuple[int, int, int, str]] = []  # (depth, self us, cumulative us, name)
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        parts = line[len("import time:") :].split("|")
        if len(parts) != 3:
            continue
        name = parts[2].rstrip()
        depth = (len(name) - len(name.lstrip(" "))) // 2
        rows.append((depth, int(parts[0]), int(parts[1]), name.strip()))
    # importtime prints a module after everything it imported: a line's importer is the
    # next line printed one level up.
    importer: list[str | None] = [None] * len(rows)
    pending: dict[int, list[int]] = {}
    for index, (depth, _, _, name) in enumerate(rows):
        for child_index in pending.pop(depth + 1, []):
            importer[child_index] = name
        pending.setdefault(depth, []).append(index)

    def own(name: str | None) -> bool:
        return name is not None and name.partition(".")[0] == "micromoments"

    def third(name: str) -> bool:
        top = name.partition(".")[0]
        return top not in sys.stdlib_module_names and top != "micromoments"

    own_rows = [r for r in rows if own(r[3])]
    # sibling imports do not nest, so their cumulative times add up per package and importer
    pulled: dict[tuple[str, str], int] = {}
    for i, (_, _, cumulative, name) in enumerate(rows):
        by = importer[i]
        if by is not None and own(by) and third(name):
            key = (name.partition(".")[0], by)
            pulled[key] = pulled.get(key, 0) + cumulative
    ranked = sorted(pulled.items(), key=lambda item: -item[1])[:12]
    top_own = sorted(own_rows, key=lambda r: -r[1])[:10]
    return {
        "own_modules": len(own_rows),
        "own_self_ms": round(sum(r[1] for r in own_rows) / 1000, 1),
        "all_imports_ms": round(sum(r[1] for r in rows) / 1000, 1),
        "top_own_by_self_ms": [{"module": r[3], "self_ms": round(r[1] / 1000, 1)} for r in top_own],
        "third_party_imported_while_own_modules_run": [
            {"package": package, "imported_by": by, "cumulative_ms": round(us / 1000, 1)}
            for (package, by), us in ranked
        ],
    }


# -- report ---------------------------------------------------------------------------------


def _median(values: Sequence[float]) -> float:
    return round(statistics.median(values), 1)


def _summary(runs: Runs, floor_objects: list[str], profile: dict[str, Any]) -> dict[str, Any]:
    def median(key: str) -> float:
        return _median(runs.series(key))

    def own(warm: str, cpu: str = "") -> float:
        return round(
            median(f"init{cpu}_ms")
            + median(f"first{cpu}_ms")
            - median(f"{warm}{cpu}_ms")
            - median(f"floor{cpu}_ms"),
            1,
        )

    overhead = own("warm")
    per_run = [s["init_ms"] + s["first_ms"] - s["warm_ms"] - s["floor_ms"] for s in runs.samples]
    like: dict[str, Any] = {}
    if runs.series("warm_like_first_ms"):
        like_overhead = own("warm_like_first")
        like = {
            "warm_like_first_ms": median("warm_like_first_ms"),
            "own_overhead_like_for_like_ms": like_overhead,
            "met_like_for_like": like_overhead <= TARGET_MS,
        }
    cpu = {f"{key}_ms": median(f"{key}_cpu_ms") for key in ("init", "first", "warm", "floor")}
    cpu["own_overhead_ms"] = own("warm", "_cpu")
    if like:
        cpu["warm_like_first_ms"] = median("warm_like_first_cpu_ms")
        cpu["own_overhead_like_for_like_ms"] = own("warm_like_first", "_cpu")
    return {
        "init_ms": median("init_ms"),
        "first_ms": median("first_ms"),
        "warm_ms": median("warm_ms"),
        "floor_ms": median("floor_ms"),
        "floor_objects": floor_objects,
        "own_overhead_ms": overhead,
        "met": overhead <= TARGET_MS,
        "median_of_per_run_overhead_ms": _median(per_run),
        "floor_import_ms": median("floor_import_ms"),
        "floor_construct_ms": median("floor_construct_ms"),
        **like,
        "cpu_time_of_the_child": cpu,
        "runs": {
            f"{key}_ms": [round(v, 1) for v in runs.series(f"{key}_ms")]
            for key in TIMINGS
            if runs.series(f"{key}_ms")
        },
        "third_party_top_level": sorted({name.partition(".")[0] for name in runs.modules}),
        "third_party_modules": len(runs.modules),
        "objects_created_by_init_and_first_call": runs.created,
        "objects_created_by_warm_call": runs.created_by_warm,
        "floor_import_failures": runs.floor_failed,
        "evidence_first_run": runs.evidence[0] if runs.evidence else None,
        "profile": profile,
    }


def _rows(handlers: dict[str, dict[str, Any]], repeat: int) -> list[dict[str, Any]]:
    rows = []
    for name, doc in handlers.items():
        rows.append(
            {
                "what": f"{name}: cold overhead of own code = init + first - warm - floor",
                "size": f"median of {repeat} fresh processes",
                "result": f"{doc['own_overhead_ms']:.0f} ms (init {doc['init_ms']:.0f} + first "
                f"{doc['first_ms']:.0f} - warm {doc['warm_ms']:.0f} - floor "
                f"{doc['floor_ms']:.0f})",
                "target": f"<= {TARGET_MS:g} ms",
                "met": doc["met"],
            }
        )
        if "warm_like_first_ms" in doc:
            rows.append(
                {
                    "what": f"{name}: the same, warm = a first scan of another person "
                    "in the warm process (work-matched)",
                    "size": f"median of {repeat} fresh processes",
                    "result": f"{doc['own_overhead_like_for_like_ms']:.0f} ms (init "
                    f"{doc['init_ms']:.0f} + first {doc['first_ms']:.0f} - warm first scan "
                    f"{doc['warm_like_first_ms']:.0f} - floor {doc['floor_ms']:.0f})",
                    "target": f"<= {TARGET_MS:g} ms",
                    "met": doc["met_like_for_like"],
                }
            )
    return rows


def _print_table(doc: dict[str, Any]) -> None:
    print(f"cold starts, {doc['date']}, {doc['machine']['platform']}, median of {doc['repeat']}")
    header = (
        f"{'handler':<9}{'init':>8}{'first':>8}{'warm':>8}{'floor':>8}{'own':>8}"
        f"{'own cpu':>9}  target (ms)"
    )
    print(header)
    print("-" * len(header))
    for name, h in doc["handlers"].items():
        verdict = "met" if h["met"] else "MISSED"
        print(
            f"{name:<9}{h['init_ms']:>8.0f}{h['first_ms']:>8.0f}{h['warm_ms']:>8.0f}"
            f"{h['floor_ms']:>8.0f}{h['own_overhead_ms']:>8.0f}"
            f"{h['cpu_time_of_the_child']['own_overhead_ms']:>9.0f}  <= {TARGET_MS:g}: {verdict}"
        )
        if "warm_like_first_ms" in h:
            print(
                f"{'':<9}work-matched (warm = a first scan of another person, "
                f"{h['warm_like_first_ms']:.0f} ms): own {h['own_overhead_like_for_like_ms']:.0f}"
            )
    for name, h in doc["handlers"].items():
        print(f"{name} floor objects: {', '.join(h['floor_objects']) or 'none'}")
        top = ", ".join(
            f"{r['package']} ({r['imported_by']}) {r['cumulative_ms']} ms"
            for r in h["profile"]["third_party_imported_while_own_modules_run"][:5]
        )
        print(f"{name} third-party imports made while own modules run (importtime): {top}")


def _handlers(text: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = set(names) - set(HANDLERS)
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"handlers are some of {','.join(HANDLERS)}")
    return names


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument("--repeat", type=int, default=5, help="fresh processes per handler")
    parser.add_argument(
        "--handlers", type=_handlers, default=HANDLERS, help="comma-separated (dispatch,scan,web)"
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    load_before = os.getloadavg()
    stack: list[Callable[[], None]] = []
    handlers: dict[str, dict[str, Any]] = {}
    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="coldstart-") as tmp:
            workdir = Path(tmp)
            world = _build_world(2 * args.repeat + 4, workdir, stack)
            for name in args.handlers:
                _progress(f"{name}: {args.repeat} fresh processes, each with its floor")
                runs, floor_objects, profile = _measure(world, name, args.repeat, workdir)
                handlers[name] = _summary(runs, floor_objects, profile)
    finally:
        for stop in reversed(stack):
            stop()
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    doc: dict[str, Any] = {
        "benchmark": "coldstart",
        "what": "handler cold start (import + first call - warm call) vs the libraries' floor",
        "repeat": args.repeat,
        "target": f"init_ms + first_ms - warm_ms <= floor_ms + {TARGET_MS:g}",
        "handlers": handlers,
        "notes": [
            "POWERTOOLS_TRACE_DISABLED=1: no X-Ray daemon here; deployed (Tracing: Active) "
            "the Tracer also imports the X-Ray SDK",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE is only a variable: the CPU is not throttled",
            "loopback servers: moto's ThreadedMotoServer (DynamoDB, SQS, Secrets Manager) and "
            "the local Calendar server, both in the benchmark's own process",
        ],
        "machine": {
            "platform": platform.platform(),
            "machine": platform.machine(),
            "cpu_count": cpus,
            "python": platform.python_version(),
            "load_average_before": [round(v, 2) for v in load_before],
            "load_average_after": [round(v, 2) for v in os.getloadavg()],
        },
        "seconds": round(time.perf_counter() - started, 1),
        "date": datetime.now(UTC).date().isoformat(),
        "rows": _rows(handlers, args.repeat),
    }
    if args.json:
        print(json.dumps(doc))
    else:
        _print_table(doc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
