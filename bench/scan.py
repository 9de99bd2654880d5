"""Benchmark: the scan service against the local Calendar server, as the scan handler runs it.

Synthetic people are scanned in SQS-sized batches of 10 through `scan_people` with the real
google-api-python-client gateway on the service-account delegation path (the local server
issues the tokens), 50 ms of latency per HTTP round trip. Three runs side by side:

- ``first``: the first scan of everyone (full sync, time zone, holds inserted in batches);
- ``rescan``: a scan of the same, unchanged calendars (after the scan that absorbs the echo
  of our own inserts): one incremental list per person;
- ``sequential``: a first scan with Google batching and in-batch overlap switched off, on a
  subset (it is slow by design), for the people-per-second ratio.

Beside them, in the same run, Microsoft Graph: the first ``--graph-people`` of the same
synthetic people on the local Graph server (loopback, no added latency: it counts, it does
not time), scanned the same way through the real `GraphCalendarGateway` (app-only token,
``calendarView/delta``, ``$batch``): a first scan, the echo scan, then an unchanged
rescan. Graph's requests count each request inside a ``$batch``; token requests are
counted apart from requests and round trips, on both sides.

The Store is the in-memory table (moto's Query scans its whole table, so at 1,000 people
it would measure moto); a smaller run on moto's DynamoDB server is reported beside it.
Requests count each call inside a Google batch, as Google's quota does.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import platform
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from micromoments.adapters.google_calendar import PAGE_SIZE, GoogleCalendarGateway
from micromoments.adapters.graph_calendar import (
    BATCH_REQUESTS,
    GraphCalendarGateway,
)
from micromoments.adapters.memory import MemoryTable
from micromoments.adapters.table import TableStore
from micromoments.config import Config
from micromoments.domain.people import PersonStatus
from micromoments.domain.settings import CalendarProvider, OrgSettings
from micromoments.local.calendar_api import CalendarServer
from micromoments.local.graph_api import GraphServer
from micromoments.local.synthetic import SyntheticOrg, SyntheticPerson, generate_org
from micromoments.ports import CalendarGateway
from micromoments.services.scan import ScanReport, scan_people

START = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
BATCH = 10


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def gateway(server: CalendarServer, store: TableStore, *, batching: bool) -> GoogleCalendarGateway:
    return GoogleCalendarGateway(
        Config(calendar_api_url=server.base_url, google_token_uri=server.token_uri),
        status_of=lambda e: p.status if (p := store.get_person(e)) else None,
        ours=lambda e: {h.id for h in store.holds(e)},
        key_info=server.service_account_key(),
        batching=batching,
        timeout_s=30,
    )


class ServerCounters(Protocol):
    requests: int
    round_trips: int

    def reset(self) -> None: ...


class CountingServer(Protocol):
    """A local calendar server (Calendar v3 or Graph): what it received."""

    @property
    def counters(self) -> ServerCounters: ...


def run(
    label: str,
    emails: Sequence[str],
    store: TableStore,
    calendar: CalendarGateway,
    server: CountingServer,
    now: datetime,
    overlap: int,
) -> dict[str, Any]:
    server.counters.reset()
    before = (calendar.counters.requests, calendar.counters.round_trips,
              calendar.counters.oauth_round_trips)  # fmt: skip
    methods = dict(calendar.counters.by_method)
    reports: list[ScanReport] = []
    failures = 0
    started = time.perf_counter()
    for i in range(0, len(emails), BATCH):
        outcome = scan_people(emails[i : i + BATCH], store=store, calendar=calendar, now=now,
                              owner=uuid.uuid4().hex, overlap=overlap)  # fmt: skip
        for result in outcome.values():
            if isinstance(result, ScanReport):
                reports.append(result)
            else:
                failures += 1
        if (i // BATCH) % 10 == 0:
            log(f"  {label}: {min(i + BATCH, len(emails))}/{len(emails)} people")
    seconds = time.perf_counter() - started
    people = len(emails)
    holds = sum(r.holds["placed"] for r in reports)
    return {
        "people": people,
        "seconds": round(seconds, 3),
        "failures": failures,
        "requests_per_person": (calendar.counters.requests - before[0]) / people,
        "round_trips_per_person": (calendar.counters.round_trips - before[1]) / people,
        "oauth_round_trips_per_person": (calendar.counters.oauth_round_trips - before[2]) / people,
        "server_requests_per_person": server.counters.requests / people,
        "server_round_trips_per_person": server.counters.round_trips / people,
        "people_per_second": round(people / seconds, 2),
        "holds_per_person": holds / people,
        "by_method_per_person": {
            name: (count - methods.get(name, 0)) / people
            for name, count in sorted(calendar.counters.by_method.items())
            if count > methods.get(name, 0)
        },
    }


def scenario(
    store: TableStore, org: SyntheticOrg, sequential_people: int, latency_ms: float
) -> dict[str, Any]:
    with CalendarServer(latency_ms=latency_ms) as server:
        store.create_settings(OrgSettings(timezone="Europe/Berlin",
                                          allowed_domains=(org.domain,)))  # fmt: skip
        for person in org.people:
            server.add_calendar(person.email, timezone=person.person.zone_name("UTC"))
            server.seed_synthetic(person)
            store.create_person(person.person)
        emails = [p.email for p in org.people]
        fast = gateway(server, store, batching=True)
        first = run("first", emails, store, fast, server, NOW, overlap=BATCH)
        run("echo", emails, store, fast, server, NOW + timedelta(minutes=30), overlap=BATCH)
        rescan = run("rescan", emails, store, fast, server, NOW + timedelta(hours=1),
                     overlap=BATCH)  # fmt: skip
        pages = sum(
            max(1, math.ceil(len(server.events(e, include_cancelled=False)) / PAGE_SIZE))
            for e in emails
        ) / len(emails)
    # The switched-off run: a fresh server and Store, the same people, no batching, no overlap.
    subset = org.people[:sequential_people]
    slow_store = TableStore(MemoryTable())
    with CalendarServer(latency_ms=latency_ms) as server:
        slow_store.create_settings(OrgSettings(timezone="Europe/Berlin",
                                               allowed_domains=(org.domain,)))  # fmt: skip
        for person in subset:
            server.add_calendar(person.email, timezone=person.person.zone_name("UTC"))
            server.seed_synthetic(person)
            slow_store.create_person(person.person)
        slow = gateway(server, slow_store, batching=False)
        sequential = run("sequential", [p.email for p in subset], slow_store, slow, server, NOW,
                         overlap=1)  # fmt: skip
    return {"first": first, "rescan": rescan, "sequential": sequential, "pages_per_person": pages}


def graph_gateway(server: GraphServer, store: TableStore) -> GraphCalendarGateway:
    """The gateway `wiring.graph_gateway` builds, on the local server's app registration
    (the client secret given, not read from Secrets Manager)."""

    def status_of(email: str) -> PersonStatus | None:
        person = store.get_person(email)
        return person.status if person else None

    def read_status_of(email: str) -> PersonStatus | None:
        person, _ = store.scan_head(email)
        return person.status if person else None

    transport = server.transport()
    return GraphCalendarGateway(
        transport,
        status_of=status_of,
        read_status_of=read_status_of,
        ours=lambda e: {h.id for h in store.holds(e)},
        mirrored_holds=lambda e: [m for m in store.mirror(e) if m.hold_id],
    )


def graph_scenario(people: Sequence[SyntheticPerson], domain: str) -> dict[str, Any]:
    """The people on the local Graph server, scanned as the Google run scans them: first,
    echo (our own creates come back in the delta), unchanged rescan."""
    store = TableStore(MemoryTable())
    store.create_settings(OrgSettings(timezone="Europe/Berlin", allowed_domains=(domain,),
                                      calendar_provider=CalendarProvider.MICROSOFT))  # fmt: skip
    with GraphServer() as server:
        for person in people:
            server.seed_synthetic(person)
            store.create_person(person.person)
        emails = [p.email for p in people]
        seeded = sum(len(server.events(e)) for e in emails) / len(emails)
        calendar = graph_gateway(server, store)
        first = run("graph first", emails, store, calendar, server, NOW, overlap=BATCH)
        echo = run("graph echo", emails, store, calendar, server, NOW + timedelta(minutes=30),
                   overlap=BATCH)  # fmt: skip
        rescan = run("graph rescan", emails, store, calendar, server, NOW + timedelta(hours=1),
                     overlap=BATCH)  # fmt: skip
        page_size = server.page_size
    return {"people": len(emails), "first": first, "echo": echo, "rescan": rescan,
            "events_per_person": seeded, "delta_page_size": page_size}  # fmt: skip


def graph_rows(graph: dict[str, Any], size: str) -> list[dict[str, Any]]:
    """The report's Graph lines: a first scan and an unchanged rescan, per person. The
    first scan's bounds are Google's with Graph's pieces: its delta pages (as sent), one
    create per hold in ``$batch`` rounds of 20, one ``mailboxSettings`` read."""
    first, rescan = graph["first"], graph["rescan"]
    pages = first["by_method_per_person"].get("GET calendarView/delta", 0.0)
    holds = first["holds_per_person"]
    request_bound = pages + holds + 1
    trip_bound = pages + math.ceil(holds / BATCH_REQUESTS) + 1
    return [
        {"what": "Graph rescan requests / person (unchanged calendars)", "size": size,
         "result": round(rescan["requests_per_person"], 3), "target": "<= 1.0",
         "met": rescan["requests_per_person"] <= 1.0},
        {"what": "Graph rescan round trips / person", "size": size,
         "result": round(rescan["round_trips_per_person"], 3), "target": "", "met": None},
        {"what": "Graph first scan requests / person (each request of a $batch counts)",
         "size": size, "result": round(first["requests_per_person"], 3),
         "target": f"<= delta pages + holds + 1 = {request_bound:.2f}",
         "met": first["requests_per_person"] <= request_bound + 1e-9},
        {"what": "Graph first scan round trips / person", "size": size,
         "result": round(first["round_trips_per_person"], 3),
         "target": f"<= delta pages + ceil(holds/{BATCH_REQUESTS}) + 1 = {trip_bound:.2f}",
         "met": first["round_trips_per_person"] <= trip_bound + 1e-9},
        {"what": "Graph token round trips / person, first / rescan (apart from the above; "
                 "one app-only token for the tenant)", "size": size,
         "result": f"{first['oauth_round_trips_per_person']:.3f} / "
                   f"{rescan['oauth_round_trips_per_person']:.3f}", "target": "", "met": None},
    ]  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--moto-people", type=int, default=100)
    parser.add_argument("--sequential-people", type=int, default=50)
    parser.add_argument("--graph-people", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    log(f"bench/scan: {args.people} people, memory Store, {args.latency_ms} ms latency")
    org = generate_org(args.people, seed=args.seed, start=START)
    memory = scenario(TableStore(MemoryTable()), org, args.sequential_people, args.latency_ms)
    graph: dict[str, Any] | None = None
    if args.graph_people:
        graph_people = org.people[: args.graph_people]
        log(f"bench/scan: the first {len(graph_people)} of them on the local Graph server")
        graph = graph_scenario(graph_people, org.domain)
    moto: dict[str, Any] | None = None
    if args.moto_people:
        log(f"bench/scan: {args.moto_people} people on moto's DynamoDB server")
        moto = _moto_scenario(args)

    first, rescan, sequential = memory["first"], memory["rescan"], memory["sequential"]
    speedup = first["people_per_second"] / sequential["people_per_second"]
    holds = first["holds_per_person"]
    pages = memory["pages_per_person"]
    request_bound = pages + holds + 1
    trip_bound = pages + math.ceil(holds / 50) + 1
    doc: dict[str, Any] = {
        "people": args.people,
        "latency_ms": args.latency_ms,
        "store": "memory",
        "first": first,
        "rescan": rescan,
        "sequential": sequential,
        "speedup": round(speedup, 2),
        "pages_per_person": pages,
        "moto": moto,
        "graph": graph,
        "machine": {"platform": platform.platform(), "python": platform.python_version()},
        "date": datetime.now(UTC).date().isoformat(),
    }
    doc["rows"] = [
        {"what": "rescan Google requests / person", "size": args.people,
         "result": round(rescan["requests_per_person"], 3), "target": "<= 1.0",
         "met": rescan["requests_per_person"] <= 1.0},
        {"what": "first scan requests / person", "size": args.people,
         "result": round(first["requests_per_person"], 3),
         "target": f"<= pages + holds + 1 = {request_bound:.2f}",
         "met": first["requests_per_person"] <= request_bound + 1e-9},
        {"what": "first scan round trips / person", "size": args.people,
         "result": round(first["round_trips_per_person"], 3),
         "target": f"<= pages + ceil(holds/50) + 1 = {trip_bound:.2f}",
         "met": first["round_trips_per_person"] <= trip_bound + 1e-9},
        {"what": "OAuth round trips / person (first)", "size": args.people,
         "result": round(first["oauth_round_trips_per_person"], 3), "target": "", "met": None},
        {"what": "people / s, batching + overlap vs off", "size": args.people,
         "result": f"{first['people_per_second']} vs {sequential['people_per_second']} "
                   f"({speedup:.1f}x)", "target": ">= 10x", "met": speedup >= 10},
    ]  # fmt: skip
    if graph is not None:
        doc["rows"] += graph_rows(graph, f"{graph['people']} of the {args.people}")
    if moto is not None:
        doc["rows"].append(
            {"what": "moto server: first / rescan requests per person", "size": moto["people"],
             "result": f"{moto['first']['requests_per_person']:.2f} / "
                       f"{moto['rescan']['requests_per_person']:.2f}",
             "target": "same per-person figures as the memory Store", "met": None}
        )  # fmt: skip
    if args.json:
        print(json.dumps(doc))
    else:
        print(json.dumps(doc, indent=2))
    return 0


def _moto_scenario(args: argparse.Namespace) -> dict[str, Any]:
    import os

    import boto3
    from moto.server import ThreadedMotoServer

    from micromoments.adapters.dynamo import DynamoTable, create_table

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        client = boto3.client("dynamodb", endpoint_url=f"http://{host}:{port}")
        create_table(client, "bench-scan")
        store = TableStore(DynamoTable(client, "bench-scan"))
        org = generate_org(args.moto_people, seed=args.seed, start=START)
        result = scenario(store, org, min(args.sequential_people, 10), args.latency_ms)
        return {"people": args.moto_people, "store": "moto server", **result}
    finally:
        server.stop()


if __name__ == "__main__":
    raise SystemExit(main())
