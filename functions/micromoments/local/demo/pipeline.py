"""The runs: dispatch (or the weekly pairing) fills the scan queue, which is drained in
batches of 10 into the scan handler, SQS-shaped; what each run did, as the stand-ins saw it."""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from micromoments.clock import Clock, wall_clock
from micromoments.local.demo.calendars import org_calendars
from micromoments.local.demo.store_writes import StoreWrites
from micromoments.local.demo.summary import plural
from micromoments.local.queue_drain import Delivery, LocalQueue, drain
from micromoments.local.runtime import LocalRuntime

if TYPE_CHECKING:
    from micromoments.adapters.table import TableStore

PAIR_RUN = "pair"
RUNS = ("first", PAIR_RUN, "echo", "rescan")

Progress = Callable[[str], None]


def stderr_progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class RunReport:
    """What one pass of the pipeline did, as the stand-ins saw it."""

    name: str
    dispatched: int = 0
    queued_by_demo: int = 0
    messages: int = 0
    failed_messages: int = 0
    dead_lettered: int = 0
    people_scanned: int = 0
    calendar_writes: int = 0
    store_writes: dict[str, int] = field(default_factory=dict)
    google_requests: int = 0
    oauth_round_trips: int = 0
    seconds: float = 0.0

    @property
    def store_writes_beyond_leases(self) -> int:
        return sum(count for kind, count in self.store_writes.items() if kind != "LEASE")

    @property
    def writes(self) -> int:
        """Calendar writes plus Store writes other than leases."""
        return self.calendar_writes + self.store_writes_beyond_leases

    def to_json(self) -> dict[str, Any]:
        return {
            "run": self.name,
            "dispatched": self.dispatched,
            "queued_by_demo": self.queued_by_demo,
            "messages": self.messages,
            "failed_messages": self.failed_messages,
            "dead_lettered": self.dead_lettered,
            "people_scanned": self.people_scanned,
            "calendar_writes": self.calendar_writes,
            "store_writes": dict(sorted(self.store_writes.items())),
            "store_writes_beyond_leases": self.store_writes_beyond_leases,
            "google_requests": self.google_requests,
            "oauth_round_trips": self.oauth_round_trips,
            "seconds": round(self.seconds, 2),
        }


def scheduled_time(moment: datetime) -> str:
    """A Scheduler ``scheduled_time``: ISO 8601 in UTC with a Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Pipeline:
    def __init__(
        self,
        runtime: LocalRuntime,
        store: TableStore,
        writes: StoreWrites,
        progress: Progress,
        clock: Clock = wall_clock,
    ) -> None:
        import boto3

        self.runtime = runtime
        self.clock = clock
        self.store = store
        self.writes = writes
        self.progress = progress
        self.calendars = org_calendars(runtime)
        sqs = boto3.client("sqs")
        self.scan_queue = LocalQueue(sqs, runtime.scan_queue_url)
        self.dead_letters = LocalQueue(sqs, runtime.scan_dlq_url)

    def _begin(self) -> tuple[int, int, int, int, float]:
        """The stand-ins' counters before a run (and the Store writes reset)."""
        tally = self.calendars.tally()
        marks = (tally.writes, tally.requests, tally.oauth_round_trips, self.dead_letters.depth())
        self.writes.reset()
        return (*marks, time.perf_counter())

    def _finish(
        self, report: RunReport, marks: tuple[int, int, int, int, float], scanned: set[str]
    ) -> RunReport:
        tally = self.calendars.tally()
        log_before, requests_before, oauth_before, dead_before, started = marks
        report.people_scanned = len(scanned)
        report.dead_lettered = self.dead_letters.depth() - dead_before
        report.calendar_writes = tally.writes - log_before
        report.store_writes = dict(self.writes.by_type)
        report.google_requests = tally.requests - requests_before
        report.oauth_round_trips = tally.oauth_round_trips - oauth_before
        report.seconds = time.perf_counter() - started
        self.progress(
            f"  done in {report.seconds:.1f} s: {report.people_scanned} people scanned, "
            f"{report.calendar_writes} Calendar writes, "
            f"{report.store_writes_beyond_leases} Store writes beyond leases, "
            f"{report.google_requests} {self.calendars.requests_name}"
        )
        return report

    def run(
        self, name: str, number: int, people: int, *, title: str = "", everyone: bool = True
    ) -> RunReport:
        """One pass: dispatch at the clock's hour, then the scans it queued, and with
        ``everyone`` the people it did not (queued by the demo). ``title`` names it in the
        progress lines (else ``run N/4 (name)``)."""
        from micromoments import wiring
        from micromoments.domain.scan_request import ScanReason, ScanRequest
        from micromoments.handlers import dispatch
        from micromoments.services.due_scans import scan_request_for
        from micromoments.services.org import org_settings

        report = RunReport(name)
        marks = self._begin()

        now = self.clock()
        hour = now.replace(minute=0, second=0, microsecond=0)
        event = {"kind": "dispatch", "scheduled_time": scheduled_time(hour)}
        sent = self.runtime.invoke(dispatch.handler, event, function="micromoments-dispatch")
        report.dispatched = int(sent.get("enqueued", 0))
        settings = org_settings(self.store)
        off = [
            email
            for email in (self.store.scannable_people() if everyone else ())
            if scan_request_for(self.store, email, settings, hour) is None  # as dispatch did
        ]
        if off:
            reason = ScanReason.OPT_IN if number == 1 else ScanReason.HOURLY
            wiring.scan_queue().send([ScanRequest(email, reason) for email in off])
            report.queued_by_demo = len(off)
        note = (
            f" (+{len(off)} whose local day is not a workday, queued by the demo so that "
            "every run scans everyone)"
            if off
            else ""
        )
        title = title or f"run {number}/{len(RUNS)} ({name})"
        self.progress(f"{title}: dispatch queued {report.dispatched}{note}")
        expected = people if everyone else report.dispatched
        return self._finish(report, marks, self._drain(report, name, expected))

    def pair(
        self, number: int, scheduled: datetime | None = None, *, title: str = ""
    ) -> tuple[RunReport, dict[str, Any]]:
        """The weekly pairing as its schedule invokes it (scheduled time: ``scheduled``, else
        the clock's now), then the organisers' scans it queued; the run and the handler's
        answer."""
        from micromoments.handlers import pair

        report = RunReport(PAIR_RUN)
        marks = self._begin()
        when = scheduled or self.clock()
        event = {"kind": "pair", "scheduled_time": scheduled_time(when)}
        answer = dict(self.runtime.invoke(pair.handler, event, function="micromoments-pair"))
        report.dispatched = int(answer.get("organisers_queued", 0)) + int(
            answer.get("given_back_queued", 0)
        )
        title = title or f"run {number}/{len(RUNS)} ({PAIR_RUN})"
        self.progress(
            f"{title}: the weekly pairing of "
            f"{answer.get('iso_week')}: {plural(int(answer.get('pairs', 0)), 'pair')}, "
            f"{plural(int(answer.get('trios', 0)), 'group')} of three, "
            f"{plural(int(answer.get('watercoolers', 0)), 'watercooler')}; "
            f"{plural(report.dispatched, 'organiser')} queued"
        )
        return self._finish(report, marks, self._drain(report, PAIR_RUN, report.dispatched)), answer

    def _drain(self, report: RunReport, name: str, people: int) -> set[str]:
        """Scan queue -> scan handler until the queue is empty; the people scanned."""
        from micromoments.domain.scan_request import MalformedMessage, ScanRequest
        from micromoments.handlers import scan

        done: set[str] = set()

        def scan_at_clock(event: dict[str, Any], context: Any) -> Any:
            deps = dataclasses.replace(scan.ScanDeps.real(), now=self.clock)
            return scan.handler(event, context, deps=deps)

        def handler(event: dict[str, Any]) -> Any:
            return self.runtime.invoke(scan_at_clock, event, function="micromoments-scan")

        def after(delivery: Delivery) -> None:
            for message in delivery.succeeded:
                with suppress(MalformedMessage):
                    done.add(ScanRequest.from_body(message["Body"]).person)
            report.messages += len(delivery.messages)
            report.failed_messages += len(delivery.failed)
            scanned = len(done)
            failures = f", {report.failed_messages} failed" if report.failed_messages else ""
            self.progress(f"  [{name}] scanned {scanned}/{people}{failures}")

        drain(self.scan_queue, handler, expected=people, on_batch=after)
        return done
