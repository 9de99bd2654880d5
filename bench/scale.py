"""Benchmark: the scan pipeline at scale, with DynamoDB capacity and AWS cost per person.

An organisation goes through dispatch -> scan queue -> N scan workers running side by side
(as Lambda runs up to MaximumConcurrency scan functions), against the local Calendar server
(50 ms per HTTP round trip, service-account delegation with its token endpoint) in its own
process. Two backends in one run, side by side:

- ``memory``: 10,000 people on the in-memory table and an in-memory queue (moto's Query
  scans its whole table, so 10,000 people on moto would measure moto);
- ``moto``: 300 people wholly on moto's server (in its own process): DynamoDB through
  `DynamoTable` and boto3, the scan queue on SQS. moto sorts its whole table on every
  Query; that process makes a base-table Query sort only its partition (`partition_queries`:
  the same answers), or ``--moto-url`` names a moto server to use as it is.

Both tables are wrapped in `capacity.CapacityTable` (bench/capacity.py), which prices every
read and write with DynamoDB's rules from the items' serialised sizes (moto's own
consumed-capacity figures are constants), so both are measured alike and their per-person
figures must agree within 10%.

Four hourly runs of the pipeline, each with fresh workers (an hour later every access token
has expired, so a scan fetches one): ``first`` (full sync, holds inserted), ``echo`` (the
sync delta brings our own inserts back), ``rescan`` (nothing changed: one list call, the
quick path: no lease, no Store write) and ``changed`` (every calendar got one new meeting invitation
since the last hour): the four runs poll everyone, as the hourly dispatch did before push.
Then two days of push (``DAYS``), each 24 hourly dispatches (the daily safety scan in each
person's morning, time-driven scans, nothing at night): ``quiet_day`` with no calendar
changed, ``push_day`` with a change on 20% of the calendars every hour of their working
day, each notified (its scan enqueued at once). A third, small run has one worker alone,
for the request rate of one scan function. The Calendar server enforces Google's per-user
quota (600 requests a minute) and answers 403 userRateLimitExceeded past it. Costs per
1,000 people per month are computed from the measured counts and the public on-demand
prices in `PRICES`; the arithmetic, the quotas and the sources are in docs/scaling.md.

Progress goes to stderr; ``--json`` prints one JSON object whose ``rows`` feed
docs/benchmarks.md (bench/run.py).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import multiprocessing
import os
import platform
import queue
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol, cast

from capacity import CapacityCounters, CapacityTable
from micromoments.adapters.google_calendar import PAGE_SIZE, GoogleCalendarGateway
from micromoments.adapters.memory import MemoryTable
from micromoments.adapters.table import Table, TableStore
from micromoments.config import Config
from micromoments.domain.calendar import zone
from micromoments.domain.people import Person
from micromoments.domain.scan_request import ScanRequest
from micromoments.domain.settings import OrgSettings
from micromoments.local.synthetic import generate_org
from micromoments.services.due_scans import send_due_scans, send_in_batches
from micromoments.services.scan import ScanReport, scan_people

ROOT = Path(__file__).resolve().parent.parent
START = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday in every zone of the org, for 2 h
BATCH = 10  # the scan event source's BatchSize, and dispatch's SendMessageBatch
PHASES = (("first", 0), ("echo", 30), ("rescan", 60), ("changed", 120))  # minutes after NOW
# Days of push after the four runs (Tuesday, Wednesday): the share of calendars changed, and
# notified, every hour of each person's working day.
DAYS = (("quiet_day", 0.0), ("push_day", 0.2))
AGREEMENT = 0.10  # moto's per-person figures within 10% of the memory run's
# Google Calendar API quotas (requests, each call inside a batch counting as one).
PROJECT_QUOTA_PER_MINUTE = 10_000
USER_QUOTA_PER_MINUTE = 600  # the local server enforces it: 403 userRateLimitExceeded

# Public on-demand prices, US East (N. Virginia), USD, looked up on PRICES_DATE (see
# docs/scaling.md for the sources). Free tiers are left out: they are per account.
REGION = "us-east-1"
PRICES_DATE = "2026-11-25"
PRICES = {
    "dynamodb_write_request_unit": 0.625 / 1e6,  # on-demand, Standard table class
    "dynamodb_read_request_unit": 0.125 / 1e6,
    "dynamodb_storage_gb_month": 0.25,
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_second_arm64": 0.0000133334,
    "sqs_request": 0.40 / 1e6,  # standard queue, per 64 KB chunk of a request
}
SCANS_PER_WORKDAY = 24  # the dispatch schedule is cron(0 * * * ? *): every hour
DISPATCHES_PER_MONTH = 24 * 30  # dispatch runs every hour of every day
WORKDAYS_PER_MONTH = 21  # Mon-Fri, ~21.7 a month, less a holiday or so


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the Calendar server, in its own process -------------------------------------------------


def _serve_calendar(conn: Connection, people: int, seed: int, latency_ms: float) -> None:
    """Child process: the Calendar server with the org's calendars; answers commands."""
    from micromoments.local.calendar_api import CalendarServer, event_id_for, google_events

    org = generate_org(people, seed=seed, start=START)
    server = CalendarServer(latency_ms=latency_ms, per_user_per_minute=USER_QUOTA_PER_MINUTE)
    server.start()
    pages = []
    for person in org.people:  # as `seed_synthetic`, counting the pages of a full sync
        events = google_events(person)
        server.add_calendar(person.email, timezone=person.person.timezone or "UTC")
        server.seed(person.email, events)
        listed = sum(1 for e in events if e.get("status", "confirmed") != "cancelled")
        pages.append(max(1, math.ceil(listed / PAGE_SIZE)))
    conn.send(
        {
            "base_url": server.base_url,
            "token_uri": server.token_uri,
            "key": server.service_account_key(),
            "pages": sum(pages) / len(pages),
        }
    )
    zones = {person.email: person.person.timezone or "UTC" for person in org.people}
    while True:
        command, argument = conn.recv()
        if command == "stop":
            server.stop()
            conn.send(None)
            return
        if command == "reset":
            server.counters.reset()
            conn.send(None)
        elif command == "counters":
            c = server.counters
            conn.send(
                {
                    "requests": c.requests,
                    "round_trips": c.round_trips,
                    "oauth_round_trips": c.oauth_round_trips,
                    "by_method": dict(c.by_method),
                    "by_status": {str(k): v for k, v in c.by_status.items()},
                }
            )
        elif command == "invite_some":  # (emails, tag, day): one new meeting on each
            emails, tag, day_text = argument
            for email in emails:
                zone_name = zones.get(email, "UTC")
                server.seed(
                    email,
                    [
                        {
                            "id": event_id_for(f"scale-{tag}-{email}"),
                            "summary": "Planning",
                            "start": {"dateTime": f"{day_text}T14:00:00", "timeZone": zone_name},
                            "end": {"dateTime": f"{day_text}T15:00:00", "timeZone": zone_name},
                            "organizer": {"email": email},
                        }
                    ],
                )
            conn.send(None)
        elif command == "invite":  # one new meeting on every calendar, at argument (minutes)
            for number, person in enumerate(org.people):
                zone_name = person.person.timezone or "UTC"
                colleague = org.people[(number + 1) % len(org.people)].email
                day = START + timedelta(days=1)  # the Tuesday
                start = f"{day.isoformat()}T{argument // 60:02d}:{argument % 60:02d}:00"
                end = f"{day.isoformat()}T{argument // 60 + 1:02d}:{argument % 60:02d}:00"
                server.seed(
                    person.email,
                    [
                        {
                            "id": event_id_for(f"scale-invite-{person.email}"),
                            "summary": "Planning",
                            "start": {"dateTime": start, "timeZone": zone_name},
                            "end": {"dateTime": end, "timeZone": zone_name},
                            "organizer": {"email": colleague},
                            "attendees": [
                                {"email": colleague, "responseStatus": "accepted"},
                                {"email": person.email, "responseStatus": "needsAction"},
                            ],
                        }
                    ],
                )
            conn.send(None)


class CalendarProcess:
    """The Calendar server with ``people`` synthetic calendars, in a child process (so its
    CPU is not taken from the workers under one interpreter lock)."""

    def __init__(self, people: int, seed: int, latency_ms: float) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_serve_calendar, args=(child, people, seed, latency_ms), daemon=True
        )
        self._process.start()
        info = self._conn.recv()
        self.base_url: str = info["base_url"]
        self.token_uri: str = info["token_uri"]
        self.key: dict[str, str] = info["key"]
        self.pages_per_person: float = info["pages"]

    def ask(self, command: str, argument: Any = None) -> Any:
        self._conn.send((command, argument))
        return self._conn.recv()

    def stop(self) -> None:
        if self._process.is_alive():
            self.ask("stop")
        self._process.join(timeout=10)


# -- moto's server, in its own process --------------------------------------------------


def partition_queries() -> None:
    """Make moto's Query of a base table read only the queried partition.

    moto answers every Query by sorting the whole table (``Table.all_items``) and then
    filtering it by partition key: O(n log n) in the table's size, a quarter of a second a
    Query at 300 people here. With this patch a base-table Query sorts only its partition:
    the same items in the same order, so answers do not change (a Query on an index, and
    everything else, is moto's own code). It applies in this benchmark's own moto process.
    """
    from moto.dynamodb.models.table import Table

    hint = threading.local()
    all_items, query = Table.all_items, Table.query

    def partition_items(self: Table) -> list[Any]:
        key = getattr(hint, "key", None)
        if key is None or not self.range_key_attr:
            return all_items(self)
        partition = self.items.get(key) or {}
        return sorted(partition.values(), key=lambda item: (item.hash_key, item.range_key))

    def partition_query(self: Table, *args: Any, **kwargs: Any) -> Any:
        index = args[7] if len(args) > 7 else kwargs.get("index_name")
        hint.key = None if index else (args[0] if args else kwargs.get("hash_key"))
        try:
            return query(self, *args, **kwargs)
        finally:
            hint.key = None

    Table.all_items = partition_items  # type: ignore[method-assign]
    Table.query = partition_query  # type: ignore[method-assign]


def _serve_moto(conn: Connection) -> None:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto logs every request
    partition_queries()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    conn.send(f"http://{host}:{port}")
    conn.recv()
    server.stop()


class MotoProcess:
    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve_moto, args=(child,), daemon=True)
        self._process.start()
        self.url: str = self._conn.recv()

    def stop(self) -> None:
        self._conn.send("stop")
        self._process.join(timeout=10)


# -- queues --------------------------------------------------------------------------------


class Source(Protocol):
    """The scan queue from both ends: dispatch sends, workers receive and delete."""

    @property
    def requests(self) -> int:
        """SQS API requests made (or, in memory, stood for) so far."""
        ...

    def send(self, requests: list[ScanRequest], *, delay_seconds: int = 0) -> None: ...
    def receive(self) -> tuple[list[ScanRequest], Any] | None: ...
    def delete(self, receipt: Any) -> None: ...


class MemoryQueue:
    """An in-memory scan queue counting the SQS requests it stands for: one
    SendMessageBatch per 10 messages, one ReceiveMessage and one DeleteMessageBatch per
    batch the event source hands to a worker."""

    def __init__(self) -> None:
        self._batches: queue.SimpleQueue[list[ScanRequest]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._requests = 0

    @property
    def requests(self) -> int:
        return self._requests

    def _count(self) -> None:
        with self._lock:
            self._requests += 1

    def send(self, requests: list[ScanRequest], *, delay_seconds: int = 0) -> None:
        for start in range(0, len(requests), BATCH):
            self._count()
            self._batches.put(list(requests[start : start + BATCH]))

    def receive(self) -> tuple[list[ScanRequest], Any] | None:
        try:
            batch = self._batches.get_nowait()
        except queue.Empty:
            return None
        self._count()
        return batch, None

    def delete(self, receipt: Any) -> None:
        self._count()


class _Counting:
    """A boto3 client whose API calls are counted."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute) or name.startswith(("get_paginator", "meta")):
            return attribute

        def counted(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.calls += 1
            return attribute(*args, **kwargs)

        return counted


class SqsSource:
    """The scan queue on (moto's) SQS: `SqsScanQueue` sends; workers receive up to 10
    messages and delete them in one batch, as the Lambda event source does."""

    def __init__(self, client: Any, url: str) -> None:
        from micromoments.adapters.sqs import SqsScanQueue

        self._client = _Counting(client)
        self._url = url
        self._receiving = threading.Lock()  # moto's SQS is not safe for concurrent receives
        self._sender = SqsScanQueue(url, client=cast(Any, self._client))

    @property
    def requests(self) -> int:
        return self._client.calls

    def send(self, requests: list[ScanRequest], *, delay_seconds: int = 0) -> None:
        self._sender.send(requests)

    def receive(self) -> tuple[list[ScanRequest], Any] | None:
        with self._receiving:
            answer = self._client.receive_message(
                QueueUrl=self._url, MaxNumberOfMessages=BATCH, WaitTimeSeconds=0
            )
        messages = answer.get("Messages") or []
        if not messages:
            return None
        batch = [ScanRequest.from_body(m["Body"]) for m in messages]
        return batch, [m["ReceiptHandle"] for m in messages]

    def delete(self, receipt: Any) -> None:
        entries = [{"Id": str(n), "ReceiptHandle": r} for n, r in enumerate(receipt)]
        self._client.delete_message_batch(QueueUrl=self._url, Entries=entries)


# -- one run of the pipeline ----------------------------------------------------------------


@dataclass
class Phase:
    """What one hourly run of dispatch -> queue -> workers did."""

    people: int = 0
    enqueued: int = 0
    failures: int = 0
    seconds: float = 0.0
    dispatch_seconds: float = 0.0
    batch_seconds: list[float] = field(default_factory=list)
    batch_requests: list[int] = field(default_factory=list)
    requests: int = 0
    round_trips: int = 0
    oauth_round_trips: int = 0
    by_method: dict[str, int] = field(default_factory=dict)
    server: dict[str, Any] = field(default_factory=dict)
    sqs_requests: int = 0
    holds: dict[str, int] = field(default_factory=dict)
    scan: CapacityCounters = field(default_factory=CapacityCounters)
    dispatch: CapacityCounters = field(default_factory=CapacityCounters)

    def to_json(self) -> dict[str, Any]:
        n = max(self.enqueued, 1)
        batches = sorted(self.batch_seconds)
        return {
            "people": self.people,
            "enqueued": self.enqueued,
            "failures": self.failures,
            "seconds": round(self.seconds, 3),
            "people_per_second": round(self.enqueued / self.seconds, 2) if self.seconds else 0,
            "dispatch_seconds": round(self.dispatch_seconds, 3),
            "batches": len(batches),
            "batch_seconds": {
                "mean": round(statistics.fmean(batches), 3) if batches else 0,
                "median": round(statistics.median(batches), 3) if batches else 0,
                "p10": round(batches[len(batches) // 10], 3) if batches else 0,
                "p90": round(batches[len(batches) * 9 // 10], 3) if batches else 0,
            },
            "requests_per_batch": round(statistics.fmean(self.batch_requests), 2)
            if self.batch_requests
            else 0,
            "worker_requests_per_second": _worker_rates(self.batch_requests, self.batch_seconds),
            "requests_per_person": round(self.requests / n, 4),
            "round_trips_per_person": round(self.round_trips / n, 4),
            "oauth_round_trips_per_person": round(self.oauth_round_trips / n, 4),
            "http_round_trips_per_person": round(
                (self.round_trips + self.oauth_round_trips) / n, 4
            ),
            "by_method_per_person": {k: round(v / n, 4) for k, v in sorted(self.by_method.items())},
            "server": self.server,
            "sqs_requests_per_person": round(self.sqs_requests / n, 4),
            "holds_per_person": {k: round(v / n, 4) for k, v in sorted(self.holds.items()) if v},
            "scan_capacity_per_person": self.scan.to_json(per=n),
            "dispatch_capacity_per_person": self.dispatch.to_json(per=n),
        }


def _worker_rates(requests: Sequence[int], seconds: Sequence[float]) -> dict[str, float]:
    """Google requests per second of one worker, batch by batch (mean, p90, max)."""
    rates = sorted(r / s for r, s in zip(requests, seconds, strict=True) if s > 0)
    if not rates:
        return {"mean": 0, "p90": 0, "max": 0}
    return {
        "mean": round(sum(requests) / sum(seconds), 1),
        "p90": round(rates[len(rates) * 9 // 10], 1),
        "max": round(rates[-1], 1),
    }


def poll_everyone(store: TableStore, source: Source) -> int:
    """The dispatch before push: every active person, every hour of a workday (it read
    each profile, as this does)."""
    _, enqueued, _ = send_in_batches(
        store.scannable_people(),
        lambda email: ScanRequest(email) if store.get_person(email) is not None else None,
        source.send,
    )
    return enqueued


def _gateway(calendar: CalendarProcess, store: TableStore) -> GoogleCalendarGateway:
    """What `wiring.calendar_gateway` builds in a scan function, against the local server."""
    return GoogleCalendarGateway(
        Config(calendar_api_url=calendar.base_url, google_token_uri=calendar.token_uri),
        status_of=lambda e: p.status if (p := store.get_person(e)) else None,
        read_status_of=lambda e: p.status if (p := store.scan_head(e)[0]) else None,
        ours=lambda e: {h.id for h in store.holds(e)},
        key_info=calendar.key,
        timeout_s=30,
    )


def run_phase(
    label: str,
    *,
    now: datetime,
    people: int,
    workers: int,
    table: CapacityTable,
    dispatch_table: CapacityTable,
    source: Source,
    calendar: CalendarProcess,
    poll: bool = True,
    pushed: Sequence[str] = (),
    quiet: bool = False,
) -> Phase:
    """One hour: ``poll`` sends everyone (the hourly polling before push, which the four
    runs measure), else the dispatch sends what time requires; ``pushed`` are the people
    whose change was notified (the notify function enqueues their scans)."""
    store, dispatch_store = TableStore(table), TableStore(dispatch_table)
    calendar.ask("reset")
    scan_before, dispatch_before = table.snapshot(), dispatch_table.snapshot()
    sqs_before = source.requests
    # Fresh workers: a scan an hour later finds every token expired and fetches one.
    gateways = [_gateway(calendar, store) for _ in range(workers)]
    phase = Phase(people=people)
    lock = threading.Lock()
    dispatched = threading.Event()
    errors: list[BaseException] = []

    def dispatcher() -> None:
        started = time.perf_counter()
        try:
            if poll:
                phase.enqueued = poll_everyone(dispatch_store, source)
            else:
                phase.enqueued = send_due_scans(dispatch_store, source, now=now).enqueued
            for first in range(0, len(pushed), BATCH):
                source.send([ScanRequest(e) for e in pushed[first : first + BATCH]])
            phase.enqueued += len(pushed)
        except BaseException as exc:
            errors.append(exc)
        finally:
            phase.dispatch_seconds = time.perf_counter() - started
            dispatched.set()

    def worker(gateway: GoogleCalendarGateway) -> None:
        while True:
            received = source.receive()
            if received is None:
                if dispatched.is_set():
                    received = source.receive()  # the last batches may have just arrived
                    if received is None:
                        return
                else:
                    time.sleep(0.005)
                    continue
            batch, receipt = received
            emails = list(dict.fromkeys(request.person for request in batch))
            before = gateway.counters.requests
            started = time.perf_counter()
            outcomes = scan_people(
                emails,
                store=store,
                calendar=gateway,
                now=now,
                owner=uuid.uuid4().hex,
                overlap=BATCH,
            )
            seconds = time.perf_counter() - started
            source.delete(receipt)
            with lock:
                phase.batch_seconds.append(seconds)
                phase.batch_requests.append(gateway.counters.requests - before)
                for outcome in outcomes.values():
                    if not isinstance(outcome, ScanReport) or outcome.outcome != "scanned":
                        phase.failures += 1
                        continue
                    for kind, count in outcome.holds.items():
                        phase.holds[kind] = phase.holds.get(kind, 0) + count
                done = len(phase.batch_seconds)
            if done % 100 == 0:
                log(f"  {label}: {done * BATCH} people scanned")

    started = time.perf_counter()
    threads = [threading.Thread(target=dispatcher, name="dispatch")]
    threads += [
        threading.Thread(target=worker, args=(g,), name=f"worker-{n}")
        for n, g in enumerate(gateways)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    phase.seconds = time.perf_counter() - started
    if errors:
        raise errors[0]
    for gateway in gateways:
        phase.requests += gateway.counters.requests
        phase.round_trips += gateway.counters.round_trips
        phase.oauth_round_trips += gateway.counters.oauth_round_trips
        for method, count in gateway.counters.by_method.items():
            phase.by_method[method] = phase.by_method.get(method, 0) + count
    phase.server = calendar.ask("counters")
    phase.sqs_requests = source.requests - sqs_before
    phase.scan = table.snapshot().since(scan_before)
    phase.dispatch = dispatch_table.snapshot().since(dispatch_before)
    if quiet:
        return phase
    log(
        f"  {label}: {phase.enqueued} people in {phase.seconds:.1f} s "
        f"({phase.enqueued / phase.seconds:.1f}/s), "
        f"{phase.requests / max(phase.enqueued, 1):.2f} requests, "
        f"{phase.scan.read_units / max(phase.enqueued, 1):.2f} RRU, "
        f"{phase.scan.write_units / max(phase.enqueued, 1):.2f} WRU a person"
    )
    return phase


def _working(person: Person, settings: OrgSettings, now: datetime) -> bool:
    local = now.astimezone(zone(person.zone_name(settings.timezone)))
    ranges = person.hours(settings.working_hours).local_ranges(local.date())
    return any(start <= local.hour * 60 < end for start, end in ranges)


def run_day(
    label: str,
    *,
    day: date,
    share: float,
    org_people: Sequence[Person],
    settings: OrgSettings,
    people: int,
    **run: Any,
) -> dict[str, Any]:
    """A day of push: the 24 hourly dispatches (safety scans in each morning, time-driven
    scans, nothing at night) and, every hour of each person's working day, a change on
    ``share`` of the calendars (a different share each hour), each notified: its scan is
    enqueued at once. Totals per person for the day."""
    every = round(1 / share) if share else 0
    totals: dict[str, float] = dict.fromkeys(
        ("requests", "scans", "batches", "batch_seconds", "dispatch_seconds", "sqs_requests",
         "scan_read_units", "scan_write_units", "dispatch_read_units", "dispatch_write_units",
         "changes"), 0.0)  # fmt: skip
    idle_dispatch = math.inf  # the cheapest hourly dispatch a person: a day nobody works
    for hour in range(24):
        now = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=hour)
        pushed: list[str] = []
        if every:
            pushed = [
                person.email
                for number, person in enumerate(org_people)
                if number % every == hour % every and _working(person, settings, now)
            ]
            if pushed:
                tomorrow = (day + timedelta(days=1)).isoformat()
                run["calendar"].ask("invite_some", (pushed, f"{label}-{hour}", tomorrow))
        phase = run_phase(
            f"{label} {hour:02d}h", now=now, people=people, poll=False, pushed=pushed,
            quiet=True, **run,
        )  # fmt: skip
        totals["requests"] += phase.requests
        totals["scans"] += phase.enqueued
        totals["batches"] += len(phase.batch_seconds)
        totals["batch_seconds"] += sum(phase.batch_seconds)
        totals["dispatch_seconds"] += phase.dispatch_seconds
        totals["sqs_requests"] += phase.sqs_requests
        totals["scan_read_units"] += phase.scan.read_units
        totals["scan_write_units"] += phase.scan.write_units
        totals["dispatch_read_units"] += phase.dispatch.read_units
        totals["dispatch_write_units"] += phase.dispatch.write_units
        totals["changes"] += len(pushed)
        idle_dispatch = min(idle_dispatch, phase.dispatch.read_units / people)
    out = {f"{k}_per_person": round(v / people, 4) for k, v in totals.items()}
    out["share_changed_each_hour"] = share
    out["idle_dispatch_read_units_per_person"] = round(idle_dispatch, 4)
    log(
        f"  {label}: {out['scans_per_person']:.2f} scans, {out['requests_per_person']:.2f} "
        f"requests, {out['scan_read_units_per_person'] + out['dispatch_read_units_per_person']:.2f}"
        f" RRU, {out['scan_write_units_per_person']:.2f} WRU a person a day"
    )
    return out


def run_backend(
    label: str,
    *,
    inner: Table,
    source: Source,
    people: int,
    workers: int,
    latency_ms: float,
    seed: int,
) -> dict[str, Any]:
    """The four hourly runs for one org on one backend."""
    log(f"bench/scale [{label}]: {people} people, {workers} workers, {latency_ms} ms latency")
    started = time.perf_counter()
    calendar = CalendarProcess(people, seed, latency_ms)
    try:
        org = generate_org(people, seed=seed, start=START)
        table, dispatch_table = CapacityTable(inner), CapacityTable(inner)
        store = TableStore(table)
        store.create_settings(OrgSettings(timezone="Europe/Berlin", allowed_domains=(org.domain,)))
        for person in org.people:
            store.create_person(person.person)
        onboarding = table.snapshot()
        table.reset()
        log(f"  set up in {time.perf_counter() - started:.1f} s")
        phases: dict[str, Phase] = {}
        for name, minutes in PHASES:
            if name == "changed":
                calendar.ask("invite", 14 * 60)  # a meeting tomorrow at 14:00 local
            phases[name] = run_phase(
                f"{label} {name}",
                now=NOW + timedelta(minutes=minutes),
                people=people,
                workers=workers,
                table=table,
                dispatch_table=dispatch_table,
                source=source,
                calendar=calendar,
            )
        settings = store.get_settings() or OrgSettings()
        days: dict[str, dict[str, Any]] = {}
        for number, (name, share) in enumerate(DAYS):
            days[name] = run_day(
                f"{label} {name}",
                day=START + timedelta(days=1 + number),
                share=share,
                org_people=[p.person for p in org.people],
                settings=settings,
                people=people,
                workers=workers,
                table=table,
                dispatch_table=dispatch_table,
                source=source,
                calendar=calendar,
            )
        pages = calendar.pages_per_person
    finally:
        calendar.stop()
    return {
        "store": label,
        "people": people,
        "workers": workers,
        "latency_ms": latency_ms,
        "pages_per_person": pages,
        "items_per_person": round(table.item_count / people, 2),
        "stored_bytes_per_person": round(table.stored_bytes() / people, 1),
        "opt_in_capacity_per_person": onboarding.to_json(per=people),
        "phases": {name: phase.to_json() for name, phase in phases.items()},
        "days": days,
        "seconds": round(time.perf_counter() - started, 1),
    }


def memory_backend(args: argparse.Namespace) -> dict[str, Any]:
    return run_backend(
        "memory",
        inner=MemoryTable(),
        source=MemoryQueue(),
        people=args.people,
        workers=args.workers,
        latency_ms=args.latency_ms,
        seed=args.seed,
    )


def moto_backend(args: argparse.Namespace) -> dict[str, Any]:
    import boto3

    from micromoments.adapters.dynamo import DynamoTable, create_table

    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "eu-west-1"),
    ):
        os.environ.setdefault(name, value)
    moto = None if args.moto_url else MotoProcess()
    url = args.moto_url or (moto.url if moto else "")
    try:
        from botocore.config import Config as BotoConfig

        pool = BotoConfig(max_pool_connections=max(10, args.workers * BATCH + 5))
        dynamodb = boto3.client("dynamodb", endpoint_url=url, config=pool)
        name = f"bench-scale-{uuid.uuid4().hex[:8]}"
        create_table(dynamodb, name)
        sqs = boto3.client("sqs", endpoint_url=url, config=pool)
        queue_url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "1800"})[
            "QueueUrl"
        ]
        try:
            return run_backend(
                "moto",
                inner=DynamoTable(dynamodb, name),
                source=SqsSource(sqs, queue_url),
                people=args.moto_people,
                workers=args.workers,
                latency_ms=args.latency_ms,
                seed=args.seed,
            )
        finally:
            dynamodb.delete_table(TableName=name)
            sqs.delete_queue(QueueUrl=queue_url)
    finally:
        if moto is not None:
            moto.stop()


# -- comparison, cost, report -------------------------------------------------------------------


def _figures(run: dict[str, Any]) -> dict[str, float]:
    """The per-person figures the two backends must agree on, phase by phase."""
    out: dict[str, float] = {}
    for name, phase in run["phases"].items():
        out[f"{name}.google_requests"] = phase["requests_per_person"]
        out[f"{name}.api_round_trips"] = phase["round_trips_per_person"]
        out[f"{name}.oauth_round_trips"] = phase["oauth_round_trips_per_person"]
        out[f"{name}.scan_read_units"] = phase["scan_capacity_per_person"]["read_units"]
        out[f"{name}.scan_write_units"] = phase["scan_capacity_per_person"]["write_units"]
        out[f"{name}.dispatch_read_units"] = phase["dispatch_capacity_per_person"]["read_units"]
    return out


def compare(memory: dict[str, Any], moto: dict[str, Any]) -> dict[str, Any]:
    ours, theirs = _figures(memory), _figures(moto)
    rows = {}
    for key, value in ours.items():
        other = theirs[key]
        if value == 0:
            difference = 0.0 if other == 0 else math.inf
        else:
            difference = abs(other - value) / abs(value)
        rows[key] = {"memory": value, "moto": other, "difference": round(difference, 4)}
    worst = max(rows, key=lambda k: rows[k]["difference"])
    return {"figures": rows, "worst": worst, "max_difference": rows[worst]["difference"]}


class _CfnLoader:
    """Reads template.yaml with CloudFormation's short tags taken as plain values."""

    @staticmethod
    def load(path: Path) -> dict[str, Any]:
        import yaml

        class Loader(yaml.SafeLoader):
            pass

        def tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
            if isinstance(node, yaml.ScalarNode):
                return loader.construct_scalar(node)
            if isinstance(node, yaml.SequenceNode):
                return loader.construct_sequence(node, deep=True)
            assert isinstance(node, yaml.MappingNode)
            return loader.construct_mapping(node, deep=True)

        Loader.add_multi_constructor("!", tagged)
        return dict(yaml.load(path.read_text(encoding="utf-8"), Loader=Loader))


def lambda_settings(template: Path = ROOT / "template.yaml") -> dict[str, Any]:
    """Memory and architecture of the scan and dispatch functions, from template.yaml."""
    doc = _CfnLoader.load(template)
    defaults = doc.get("Globals", {}).get("Function", {})
    functions = {
        name: resource.get("Properties", {})
        for name, resource in doc["Resources"].items()
        if resource.get("Type") == "AWS::Serverless::Function"
    }

    def setting(function: str, key: str) -> Any:
        return functions.get(function, {}).get(key, defaults.get(key))

    return {
        "scan_memory_mb": int(setting("ScanFunction", "MemorySize")),
        "dispatch_memory_mb": int(setting("DispatchFunction", "MemorySize")),
        "architectures": list(setting("ScanFunction", "Architectures") or ["x86_64"]),
    }


def monthly_cost(run: dict[str, Any], basis: str, lambdas: dict[str, Any]) -> dict[str, Any]:
    """AWS cost per 1,000 people per month if every scan cost what a ``basis`` scan did."""
    people = 1000
    phase = run["phases"][basis]
    scans = people * SCANS_PER_WORKDAY * WORKDAYS_PER_MONTH
    scan = phase["scan_capacity_per_person"]
    dispatch_units = phase["dispatch_capacity_per_person"]["read_units"]
    dispatch_reads = people * DISPATCHES_PER_MONTH * dispatch_units
    rru = scans * scan["read_units"] + dispatch_reads
    wru = scans * scan["write_units"]
    storage_gb = people * run["stored_bytes_per_person"] / 1e9
    invocations = scans / BATCH
    scan_gb_s = invocations * phase["batch_seconds"]["mean"] * lambdas["scan_memory_mb"] / 1024
    dispatch_s = phase["dispatch_seconds"] * people / run["people"]  # one dispatch's share
    dispatch_gb_s = DISPATCHES_PER_MONTH * dispatch_s * lambdas["dispatch_memory_mb"] / 1024
    sqs = scans * phase["sqs_requests_per_person"]
    return _priced(basis, scans, rru, wru, storage_gb, invocations, scan_gb_s + dispatch_gb_s, sqs)


def day_cost(run: dict[str, Any], name: str, lambdas: dict[str, Any]) -> dict[str, Any]:
    """AWS cost per 1,000 people per month if every workday were like the measured day
    ``name`` (push), and every other day had only its 24 dispatches, nobody working."""
    people = 1000
    day = run["days"][name]
    off_days = 30 - WORKDAYS_PER_MONTH
    rru = people * (
        WORKDAYS_PER_MONTH
        * (day["scan_read_units_per_person"] + day["dispatch_read_units_per_person"])
        + off_days * 24 * day["idle_dispatch_read_units_per_person"]
    )
    wru = (
        people
        * WORKDAYS_PER_MONTH
        * (day["scan_write_units_per_person"] + day["dispatch_write_units_per_person"])
    )
    storage_gb = people * run["stored_bytes_per_person"] / 1e9
    invocations = people * WORKDAYS_PER_MONTH * day["batches_per_person"]
    scan_gb_s = (
        people * WORKDAYS_PER_MONTH * day["batch_seconds_per_person"]
        * lambdas["scan_memory_mb"] / 1024
    )  # fmt: skip
    dispatch_s = day["dispatch_seconds_per_person"] * people / 24  # one dispatch's share
    dispatch_gb_s = DISPATCHES_PER_MONTH * dispatch_s * lambdas["dispatch_memory_mb"] / 1024
    sqs = people * WORKDAYS_PER_MONTH * day["sqs_requests_per_person"]
    scans = round(people * WORKDAYS_PER_MONTH * day["scans_per_person"])
    return _priced(name, scans, rru, wru, storage_gb, invocations, scan_gb_s + dispatch_gb_s, sqs)


def _priced(
    basis: str,
    scans: float,
    rru: float,
    wru: float,
    storage_gb: float,
    invocations: float,
    gb_seconds: float,
    sqs: float,
) -> dict[str, Any]:
    """A month's usage for 1,000 people at `PRICES`: the figures and the dollars."""
    parts = {
        "dynamodb_read_request_units": rru * PRICES["dynamodb_read_request_unit"],
        "dynamodb_write_request_units": wru * PRICES["dynamodb_write_request_unit"],
        "dynamodb_storage": storage_gb * PRICES["dynamodb_storage_gb_month"],
        "lambda_requests": invocations * PRICES["lambda_request"],
        "lambda_duration": gb_seconds * PRICES["lambda_gb_second_arm64"],
        "sqs_requests": sqs * PRICES["sqs_request"],
    }
    return {
        "basis": basis,
        "scans": scans,
        "read_request_units": round(rru),
        "write_request_units": round(wru),
        "storage_gb": round(storage_gb, 4),
        "lambda_invocations": round(invocations),
        "lambda_gb_seconds": round(gb_seconds, 1),
        "sqs_requests": round(sqs),
        "usd": {k: round(v, 4) for k, v in parts.items()},
        "total_usd": round(sum(parts.values()), 2),
    }


def quota(memory: dict[str, Any], solo: dict[str, Any] | None) -> dict[str, Any]:
    """Google request rates measured against the quotas, and the MaximumConcurrency that
    keeps each kind of hourly run under the project quota at the measured per-worker rate."""
    runs = {"memory": memory, **({"solo": solo} if solo else {})}
    out: dict[str, Any] = {
        "project_per_minute": PROJECT_QUOTA_PER_MINUTE,
        "user_per_minute": USER_QUOTA_PER_MINUTE,
    }
    for label, run in runs.items():
        rates = {}
        for name, phase in run["phases"].items():
            total = phase["requests_per_person"] * phase["enqueued"]
            per_minute = total / phase["seconds"] * 60 if phase["seconds"] else 0.0
            worker = per_minute / 60 / run["workers"]
            fits = math.floor(PROJECT_QUOTA_PER_MINUTE / 60 / worker) if worker else None
            rates[name] = {
                "requests_per_minute": round(per_minute),
                "per_worker_requests_per_second": round(worker, 1),
                "max_concurrency_under_quota": fits,
                "user_rate_limited_answers": phase["server"].get("by_status", {}).get("403", 0),
            }
        out[label] = {"workers": run["workers"], "phases": rates}
    return out


def build_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    memory = doc["memory"]
    size = memory["people"]
    phases = memory["phases"]
    first, rescan, changed = phases["first"], phases["rescan"], phases["changed"]
    pages = memory["pages_per_person"]
    holds = first["holds_per_person"].get("placed", 0.0)
    request_bound = pages + holds + 1
    trip_bound = pages + math.ceil(holds / 50) + 1
    workers = memory["workers"]
    oauth = max(p["oauth_round_trips_per_person"] for p in phases.values())
    units = " / ".join(
        f"{p['scan_capacity_per_person']['read_units']:.2f}/"
        f"{p['scan_capacity_per_person']['write_units']:.2f}"
        for p in phases.values()
    )
    # An unchanged rescan writes its lease (put + delete) and records holds whose time
    # passed since the last hour as kept; nothing else.
    rescan_units = rescan["scan_capacity_per_person"]
    lease = rescan_units["by_kind"].get("LEASE", {}).get("write_units", 0.0)
    kept = rescan["holds_per_person"].get("kept", 0.0)
    others = {
        kind: tally["write_units"]
        for kind, tally in rescan_units["by_kind"].items()
        if kind != "LEASE" and tally["write_units"]
    }
    # With the quick path most take no lease at all; a person whose hold's time came since
    # scans fully (lease 2, its kept hold, its sync state's quiet time twice).
    only_lease = rescan_units["write_units"] <= 2 + kept + 1e-9 and set(others) <= {
        "HOLD",
        "SYNC",
        "LOAD",
    }
    runs = [doc["memory"], *(doc[k] for k in ("moto", "solo") if doc.get(k))]
    rate_limited = sum(
        p["server"].get("by_status", {}).get("403", 0)
        for run in runs
        for p in run["phases"].values()
    )
    rates = doc["quota"]["memory"]["phases"]
    steady, onboarding = (
        rates["rescan"]["requests_per_minute"],
        rates["first"]["requests_per_minute"],
    )
    rows: list[dict[str, Any]] = [
        {"what": "first scan Google requests / person", "size": size,
         "result": round(first["requests_per_person"], 3),
         "target": f"<= pages + holds + 1 = {request_bound:.2f}",
         "met": first["requests_per_person"] <= request_bound + 1e-9},
        {"what": "first scan API round trips / person", "size": size,
         "result": round(first["round_trips_per_person"], 3),
         "target": f"<= pages + ceil(holds/50) + 1 = {trip_bound:.2f}",
         "met": first["round_trips_per_person"] <= trip_bound + 1e-9},
        {"what": "unchanged rescan Google requests / person", "size": size,
         "result": round(rescan["requests_per_person"], 3), "target": "<= 1.0",
         "met": rescan["requests_per_person"] <= 1.0 + 1e-9},
        {"what": "rescan after one new invitation: Google requests / person", "size": size,
         "result": round(changed["requests_per_person"], 3), "target": "", "met": None},
        {"what": "OAuth round trips / person / scan (tokens expire within the hour)",
         "size": size, "result": round(oauth, 3), "target": "<= 1.0",
         "met": oauth <= 1.0 + 1e-9},
        {"what": "DynamoDB RRU/WRU per person: first / echo / rescan / changed", "size": size,
         "result": units, "target": "", "met": None},
        {"what": "unchanged rescan WRU / person", "size": size,
         "result": f"{rescan_units['write_units']:.3f} (lease {lease:.2f} + holds kept "
                   f"{others.get('HOLD', 0.0):.3f})",
         "target": "quick path 0; a full scan: lease 2 + its kept holds and quiet time",
         "met": only_lease},
        {"what": f"wall time, {workers} workers side by side: first / rescan", "size": size,
         "result": f"{first['seconds']:.0f} s ({first['people_per_second']}/s) / "
                   f"{rescan['seconds']:.0f} s ({rescan['people_per_second']}/s)",
         "target": "", "met": None},
        {"what": f"Google requests / minute, {workers} workers: unchanged rescan / first scan",
         "size": size, "result": f"{steady:,} / {onboarding:,}",
         "target": f"rescan <= {PROJECT_QUOTA_PER_MINUTE:,} (project quota)",
         "met": steady <= PROJECT_QUOTA_PER_MINUTE},
        {"what": f"per-user quota ({USER_QUOTA_PER_MINUTE}/min, enforced by the local "
                 "server): 403 userRateLimitExceeded answers", "size": size,
         "result": rate_limited, "target": "0", "met": rate_limited == 0},
    ]  # fmt: skip
    solo = doc["quota"].get("solo")
    if solo is not None:
        alone = solo["phases"]
        rows.append(
            {"what": "one worker alone: Google requests / s (first / rescan); MaximumConcurrency "
                     "under 10,000/min at that rate",
             "size": doc["solo"]["people"],
             "result": f"{alone['first']['per_worker_requests_per_second']} / "
                       f"{alone['rescan']['per_worker_requests_per_second']} req/s; "
                       f"{alone['first']['max_concurrency_under_quota']} / "
                       f"{alone['rescan']['max_concurrency_under_quota']}",
             "target": "", "met": None}
        )  # fmt: skip
    moto = doc.get("moto")
    if moto is not None:
        agreement = doc["agreement"]
        worst = agreement["figures"][agreement["worst"]]
        rows.append(
            {"what": "moto server vs memory: per-person requests, round trips, OAuth, "
                     "RRU, WRU (4 runs), largest difference",
             "size": f"{moto['people']} vs {size}",
             "result": f"{agreement['max_difference']:.1%} ({agreement['worst']}: "
                       f"{worst['moto']} vs {worst['memory']})",
             "target": f"<= {AGREEMENT:.0%}",
             "met": agreement["max_difference"] <= AGREEMENT}
        )  # fmt: skip
    polling = SCANS_PER_WORKDAY * rescan["requests_per_person"]
    days = memory["days"]
    quiet_day, push_day = days["quiet_day"], days["push_day"]
    rows += [
        {"what": "push: Google requests / person / workday: unchanged / 20% changed each "
                 "working hour (hourly polling of unchanged calendars)", "size": size,
         "result": f"{quiet_day['requests_per_person']:.2f} / "
                   f"{push_day['requests_per_person']:.2f} ({polling:.0f})",
         "target": f"< {polling:.0f} (hourly polling)",
         "met": push_day["requests_per_person"] < polling},
        {"what": "push: scans / person / workday; RRU / WRU per person per workday "
                 "(scan + dispatch): unchanged / 20% changed each working hour",
         "size": size,
         "result": "; ".join(
             f"{d['scans_per_person']:.2f} scans, "
             f"{d['scan_read_units_per_person'] + d['dispatch_read_units_per_person']:.2f}"
             f" / {d['scan_write_units_per_person'] + d['dispatch_write_units_per_person']:.2f}"
             for d in (quiet_day, push_day)),
         "target": "", "met": None},
    ]  # fmt: skip
    quiet_cost, push_cost = doc["cost"]["quiet_day"], doc["cost"]["push_day"]
    rows.append(
        {"what": f"AWS cost / 1,000 people / month with push ({REGION} on-demand, "
                 f"{PRICES_DATE})",
         "size": f"measured day x {WORKDAYS_PER_MONTH} workdays",
         "result": f"${quiet_cost['total_usd']:.2f} (unchanged calendars) / "
                   f"${push_cost['total_usd']:.2f} (20% changed every working hour)",
         "target": "<= $0.50 / <= $1.00",
         "met": quiet_cost["total_usd"] <= 0.50 and push_cost["total_usd"] <= 1.00}
    )  # fmt: skip
    high, low = doc["cost"]["changed"], doc["cost"]["rescan"]
    rows.append(
        {"what": f"AWS cost / 1,000 people / month ({REGION} on-demand, {PRICES_DATE})",
         "size": f"{SCANS_PER_WORKDAY} scans x {WORKDAYS_PER_MONTH} workdays",
         "result": f"${high['total_usd']:.2f} (a new invitation every hour) / "
                   f"${low['total_usd']:.2f} (unchanged calendars)",
         "target": "", "met": None}
    )  # fmt: skip
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--moto-people", type=int, default=300, help="0 skips the moto run")
    parser.add_argument("--moto-url", default="", help="a moto server to use")
    parser.add_argument("--workers", type=int, default=5, help="scan workers side by side")
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--solo-people", type=int, default=100, help="people for one worker alone (0: none)"
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    memory = memory_backend(args)
    moto = moto_backend(args) if args.moto_people else None
    solo = None
    if args.solo_people:  # one worker alone: the request rate of one scan function
        solo = run_backend(
            "solo",
            inner=MemoryTable(),
            source=MemoryQueue(),
            people=args.solo_people,
            workers=1,
            latency_ms=args.latency_ms,
            seed=args.seed + 1,
        )
    lambdas = lambda_settings()
    doc: dict[str, Any] = {
        "people": args.people,
        "moto_people": args.moto_people,
        "workers": args.workers,
        "latency_ms": args.latency_ms,
        "memory": memory,
        "moto": moto,
        "solo": solo,
        "agreement": compare(memory, moto) if moto else None,
        "assumptions": {
            "region": REGION,
            "prices_date": PRICES_DATE,
            "prices_usd": PRICES,
            "scans_per_workday": SCANS_PER_WORKDAY,
            "workdays_per_month": WORKDAYS_PER_MONTH,
            "dispatches_per_month": DISPATCHES_PER_MONTH,
            "lambda": lambdas,
            "cost_bases": {
                "changed": "every scan of the month costs what a scan after one new "
                "meeting invitation did",
                "rescan": "every scan costs what a scan of an unchanged calendar did",
                "quiet_day": "push: every workday like the measured day of 24 dispatches "
                "with no calendar changed; other days 24 dispatches with nobody working",
                "push_day": "push: as quiet_day, with a change (notified) on 20% of the "
                "calendars every hour of each person's working day",
            },
            "not_counted": "free tiers; CloudWatch Logs and X-Ray; SES digests and the web "
            "site; empty SQS receives by the event source's pollers; Secrets Manager; "
            "the one-time opt-in and first scan (see cost.onboarding)",
        },
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        },
        "date": datetime.now(UTC).date().isoformat(),
    }
    doc["cost"] = {
        "changed": monthly_cost(memory, "changed", lambdas),
        "rescan": monthly_cost(memory, "rescan", lambdas),
        "onboarding": _onboarding(memory, lambdas),
    }
    doc["cost"].update({name: day_cost(memory, name, lambdas) for name, _ in DAYS})
    doc["quota"] = quota(memory, solo)
    doc["rows"] = build_rows(doc)
    doc["seconds"] = round(time.perf_counter() - started, 1)
    log(f"bench/scale: done in {doc['seconds']} s")
    print(json.dumps(doc) if args.json else json.dumps(doc, indent=2))
    return 0


def _onboarding(run: dict[str, Any], lambdas: dict[str, Any]) -> dict[str, Any]:
    """One-time cost per 1,000 people: opt-in writes and the first scan."""
    people = 1000
    first = run["phases"]["first"]
    opt_in = run["opt_in_capacity_per_person"]
    scan = first["scan_capacity_per_person"]
    rru = people * (scan["read_units"] + opt_in["read_units"])
    wru = people * (scan["write_units"] + opt_in["write_units"])
    gb_s = people / BATCH * first["batch_seconds"]["mean"] * lambdas["scan_memory_mb"] / 1024
    usd = (
        rru * PRICES["dynamodb_read_request_unit"]
        + wru * PRICES["dynamodb_write_request_unit"]
        + gb_s * PRICES["lambda_gb_second_arm64"]
        + people / BATCH * PRICES["lambda_request"]
        + people * first["sqs_requests_per_person"] * PRICES["sqs_request"]
    )
    return {
        "read_request_units": round(rru),
        "write_request_units": round(wru),
        "lambda_gb_seconds": round(gb_s, 1),
        "total_usd": round(usd, 4),
    }


if __name__ == "__main__":
    raise SystemExit(main())
