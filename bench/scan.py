"""Benchmark: the scan service against the local Calendar server, as the scan handler runs it.

Synthetic people are scanned in SQS-sized batches of 10 through `scan_people` with the real
google-api-python-client gateway on the service-account delegation path (the local server
issues the tokens), 50 ms of latency per HTTP round trip. Three runs side by side:

- ``first``: the first scan of everyone (full sync, time zone, holds inserted in batches);
- ``rescan``: a scan of the same, unchanged calendars (after the scan that absorbs the echo
  of our own inserts): one incremental list per person;
- ``sequential``: a first scan with Google batching and in-batch overlap switched off, on a
  subset (it is slow by design), for the people-per-second ratio.

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
from typing import Any

from micromoments.adapters.google_calendar import PAGE_SIZE, GoogleCalendarGateway
from micromoments.adapters.memory import MemoryTable
from micromoments.adapters.table import TableStore
from micromoments.config import Config
from micromoments.domain.settings import OrgSettings
from micromoments.local.calendar_api import CalendarServer
from micromoments.local.synthetic import generate_org
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


def run(
    label: str,
    emails: Sequence[str],
    store: TableStore,
    calendar: GoogleCalendarGateway,
    server: CalendarServer,
    now: datetime,
    overlap: int,
) -> dict[str, Any]:
    server.counters.reset()
    before = (calendar.counters.requests, calendar.counters.round_trips,
              calendar.counters.oauth_round_trips)  # fmt: skip
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
    }


def scenario(
    store: TableStore, people: int, sequential_people: int, latency_ms: float, seed: int
) -> dict[str, Any]:
    org = generate_org(people, seed=seed, start=START)
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--moto-people", type=int, default=100)
    parser.add_argument("--sequential-people", type=int, default=50)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    log(f"bench/scan: {args.people} people, memory Store, {args.latency_ms} ms latency")
    memory = scenario(TableStore(MemoryTable()), args.people, args.sequential_people,
                      args.latency_ms, args.seed)  # fmt: skip
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
        result = scenario(store, args.moto_people, min(args.sequential_people, 10),
                          args.latency_ms, args.seed)  # fmt: skip
        return {"people": args.moto_people, "store": "moto server", **result}
    finally:
        server.stop()


if __name__ == "__main__":
    raise SystemExit(main())
