"""``micromoments demo``: the serverless pipeline end to end, on the local stand-ins.

It starts `LocalRuntime` (moto's server and the Calendar API server on free loopback
ports), seeds a synthetic organisation (calendars on the Calendar server, people and org
settings in the Store), then runs the pipeline as the cloud runs it: the dispatch handler
(what the hourly schedule invokes) fills the scan queue, and the queue is drained in
batches of 10 into the scan handler, SQS-shaped, deleting a message unless the handler
reports it in ``batchItemFailures``. Everything goes through the real boto3 and
google-api-python-client over HTTP, Google's on the service-account delegation path.

The pipeline runs four times in one process. The first run syncs and places holds. The
second is the weekly pairing as its schedule invokes it: the pair handler plans the coming
ISO week's coffee chats and team watercooler drop-ins and queues their organisers, whose
scans (the queue drained as above) insert the shared events; the Calendar server copies
them to the attendees' calendars. Our own inserts then come back through the next
incremental sync, which stores them in the mirror (docs/decisions.md, "What unchanged
means for a rescan"): the third run absorbs that echo. The fourth run is the unchanged
rescan the summary's ``second_run_writes`` measures: Calendar writes (the server's write
log) plus Store writes other than leases (counted on the Store's DynamoDB client).
Off-days: dispatch sends only people whose local day is a workday; the demo queues the
others itself, so every scan run scans everyone on any day.

It writes ``index.html`` (per person, one week before and after, as a calendar picture:
kinds and times only, never titles; and the week's coffee chats and drop-ins, by the
demo's synthetic addresses) and ``summary.json`` into the output directory, which a lock
file keeps to one demo at a time. Both carry the care outcomes of the runs (breathers
after back-to-back runs, social moments every week, the coffee pool paired, misplaced
holds; `micromoments.local.care` defines them), measured from the first run's start.
"""

from __future__ import annotations

import html
import json
import os
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from micromoments.domain.calendar import EventKind, zone
from micromoments.domain.errors import DomainError
from micromoments.domain.holds import Hold, HoldKind, HoldStatus
from micromoments.local.runtime import LocalRuntime, require_local_extra, sqs_record

if TYPE_CHECKING:
    from botocore.model import OperationModel
    from mypy_boto3_dynamodb import DynamoDBClient

    from micromoments.adapters.table import TableStore
    from micromoments.domain.day_load import DayLoad
    from micromoments.domain.settings import OrgSettings
    from micromoments.local.calendar_api import CalendarServer
    from micromoments.local.care import CareOutcomes
    from micromoments.local.synthetic import SyntheticOrg, SyntheticPerson

DEFAULT_PEOPLE = 36
DEFAULT_OUT = Path("demo-out")
SEED = 7
DAYS = 14
LOCK_NAME = ".lock"
PAIR_RUN = "pair"
RUNS = ("first", PAIR_RUN, "echo", "rescan")
SHARED_KINDS = (HoldKind.COFFEE.value, HoldKind.WATERCOOLER.value)
LIVE = frozenset({HoldStatus.PLACED, HoldStatus.MOVED, HoldStatus.ADOPTED})
CARE_LIVE = LIVE | {HoldStatus.KEPT}  # for the care outcomes, a hold whose time passed counts
CARE_LIVE_STATUSES = frozenset(status.value for status in CARE_LIVE)
HOLD_KINDS = tuple(kind.value for kind in HoldKind)
SQS_BATCH = 10
# The picture: rows 07:00 to 20:00, i.e. [07:00, 21:00).
FIRST_MINUTE, LAST_MINUTE = 7 * 60, 21 * 60

Progress = Callable[[str], None]


class DemoBusy(DomainError):
    """Another demo holds the output directory's lock."""


class DemoFailed(DomainError):
    """The demo could not complete (one clear line)."""


def stderr_progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- one demo at a time ---------------------------------------------------------------------


class DemoLock:
    """An exclusive lock on ``DIR/.lock`` holding the owner's pid. The kernel releases it
    when the process ends, so a killed demo leaves no stale lock behind."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        import fcntl

        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise DemoFailed(f"cannot use {self.directory}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise DemoBusy(
                f"another demo is running (pid {holder}) and writing to {self.directory}: "
                "wait for it to finish, or give this one another --out"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        import fcntl

        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def __enter__(self) -> DemoLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


# -- counting Store writes ------------------------------------------------------------------

_WRITE_OPERATIONS = frozenset(
    {"PutItem", "DeleteItem", "UpdateItem", "BatchWriteItem", "TransactWriteItems"}
)


def _sort_key(key: Any) -> str:
    value = key.get("sk", {}) if isinstance(key, dict) else {}
    return str(value.get("S", "")) if isinstance(value, dict) else ""


def _partition_key(key: Any) -> str:
    value = key.get("pk", {}) if isinstance(key, dict) else {}
    return str(value.get("S", "")) if isinstance(value, dict) else ""


class StoreWrites:
    """Every DynamoDB write sent through one client, counted by item type (the sort key up
    to its first ``#``: LEASE, EVENT, LOAD, HOLD, JOURNAL, SYNC, …). A released lease
    (its delete) names a person whose scan ran."""

    def __init__(self, client: DynamoDBClient) -> None:
        self._events = client.meta.events
        self._lock = threading.Lock()
        self._id = f"micromoments-demo-{uuid.uuid4().hex}"
        self.by_type: Counter[str] = Counter()
        self.leases_released: set[str] = set()
        self._events.register("before-parameter-build.dynamodb", self._observe, unique_id=self._id)

    def close(self) -> None:
        self._events.unregister("before-parameter-build.dynamodb", unique_id=self._id)

    def reset(self) -> None:
        with self._lock:
            self.by_type.clear()
            self.leases_released.clear()

    def _observe(self, params: dict[str, Any], model: OperationModel, **_: Any) -> None:
        operation = model.name
        if operation not in _WRITE_OPERATIONS:
            return
        keys: list[tuple[str, Any]] = []  # (put | delete | update, key or item)
        if operation == "PutItem":
            keys.append(("put", params.get("Item")))
        elif operation == "DeleteItem":
            keys.append(("delete", params.get("Key")))
        elif operation == "UpdateItem":
            keys.append(("update", params.get("Key")))
        elif operation == "BatchWriteItem":
            for requests in params.get("RequestItems", {}).values():
                for request in requests:
                    if "PutRequest" in request:
                        keys.append(("put", request["PutRequest"].get("Item")))
                    elif "DeleteRequest" in request:
                        keys.append(("delete", request["DeleteRequest"].get("Key")))
        else:
            for request in params.get("TransactItems", []):
                for name, body in request.items():
                    if name == "Put":
                        keys.append(("put", body.get("Item")))
                    elif name in ("Delete", "Update"):
                        keys.append((name.lower(), body.get("Key")))
        with self._lock:
            for kind, key in keys:
                sort_key = _sort_key(key)
                self.by_type[sort_key.split("#", 1)[0] or "?"] += 1
                if kind == "delete" and sort_key == "LEASE":
                    self.leases_released.add(_partition_key(key).removeprefix("PERSON#"))


# -- the runs -------------------------------------------------------------------------------


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


def _scheduled(moment: datetime) -> str:
    """A Scheduler ``scheduled_time``: ISO 8601 in UTC with a Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class _Pipeline:
    def __init__(
        self, runtime: LocalRuntime, store: TableStore, writes: StoreWrites, progress: Progress
    ) -> None:
        import boto3

        self.runtime = runtime
        self.store = store
        self.writes = writes
        self.progress = progress
        self.sqs = boto3.client("sqs")
        self.queue_arn = self._arn(runtime.scan_queue_url)

    def _arn(self, url: str) -> str:
        attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return attributes["Attributes"]["QueueArn"]

    def _depth(self, url: str) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes.get("ApproximateNumberOfMessages", "0"))

    def _begin(self) -> tuple[int, int, int, int, float]:
        """The stand-ins' counters before a run (and the Store writes reset)."""
        server = self.runtime.calendar
        marks = (
            len(server.write_log),
            server.counters.requests,
            server.counters.oauth_round_trips,
            self._depth(self.runtime.scan_dlq_url),
        )
        self.writes.reset()
        return (*marks, time.perf_counter())

    def _finish(
        self, report: RunReport, marks: tuple[int, int, int, int, float], scanned: set[str]
    ) -> RunReport:
        server = self.runtime.calendar
        log_before, requests_before, oauth_before, dead_before, started = marks
        report.people_scanned = len(scanned & self.writes.leases_released)
        report.dead_lettered = self._depth(self.runtime.scan_dlq_url) - dead_before
        report.calendar_writes = len(server.write_log) - log_before
        report.store_writes = dict(self.writes.by_type)
        report.google_requests = server.counters.requests - requests_before
        report.oauth_round_trips = server.counters.oauth_round_trips - oauth_before
        report.seconds = time.perf_counter() - started
        self.progress(
            f"  done in {report.seconds:.1f} s: {report.people_scanned} people scanned, "
            f"{report.calendar_writes} Calendar writes, "
            f"{report.store_writes_beyond_leases} Store writes beyond leases, "
            f"{report.google_requests} Google requests"
        )
        return report

    def run(self, name: str, number: int, people: int) -> RunReport:
        from micromoments import wiring
        from micromoments.domain.scan_request import ScanReason, ScanRequest
        from micromoments.domain.settings import OrgSettings
        from micromoments.handlers import dispatch
        from micromoments.services.dispatch import scan_request_for

        report = RunReport(name)
        marks = self._begin()

        now = datetime.now(UTC)
        hour = now.replace(minute=0, second=0, microsecond=0)
        event = {"kind": "dispatch", "scheduled_time": _scheduled(hour)}
        sent = self.runtime.invoke(dispatch.handler, event, function="micromoments-dispatch")
        report.dispatched = int(sent.get("enqueued", 0))
        settings = self.store.get_settings() or OrgSettings()
        off = [
            email
            for email in self.store.scannable_people()
            if scan_request_for(self.store, email, settings, now) is None
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
        self.progress(
            f"run {number}/{len(RUNS)} ({name}): dispatch queued {report.dispatched}{note}"
        )
        return self._finish(report, marks, self._drain(report, name, people))

    def pair(self, number: int) -> tuple[RunReport, dict[str, Any]]:
        """The weekly pairing as its schedule invokes it (scheduled time: now), then the
        organisers' scans it queued; the run and the handler's answer."""
        from micromoments.handlers import pair

        report = RunReport(PAIR_RUN)
        marks = self._begin()
        event = {"kind": "pair", "scheduled_time": _scheduled(datetime.now(UTC))}
        answer = dict(self.runtime.invoke(pair.handler, event, function="micromoments-pair"))
        report.dispatched = int(answer.get("organisers_queued", 0))
        self.progress(
            f"run {number}/{len(RUNS)} ({PAIR_RUN}): the weekly pairing of "
            f"{answer.get('iso_week')}: {_count(int(answer.get('pairs', 0)), 'pair')}, "
            f"{_count(int(answer.get('trios', 0)), 'group')} of three, "
            f"{_count(int(answer.get('watercoolers', 0)), 'watercooler')}; "
            f"{_count(report.dispatched, 'organiser')} queued"
        )
        return self._finish(report, marks, self._drain(report, PAIR_RUN, report.dispatched)), answer

    def _drain(self, report: RunReport, name: str, people: int) -> set[str]:
        """Scan queue -> scan handler until the queue is empty; the people scanned."""
        from micromoments.domain.scan_request import MalformedMessage, ScanRequest
        from micromoments.handlers import scan

        url = self.runtime.scan_queue_url
        done: set[str] = set()
        budget = 10 + 6 * (people // SQS_BATCH + 1)  # redrive ends a poisoned message first
        for _ in range(budget):
            got = self.sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=SQS_BATCH,
                WaitTimeSeconds=0,
                AttributeNames=["All"],
            ).get("Messages", [])
            if not got:
                break
            messages = list(got)
            event = {"Records": [sqs_record(m, self.queue_arn) for m in messages]}
            response = self.runtime.invoke(scan.handler, event, function="micromoments-scan")
            failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
            succeeded = [m for m in messages if m["MessageId"] not in failed]
            if succeeded:
                self.sqs.delete_message_batch(
                    QueueUrl=url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(succeeded)
                    ],
                )
            for message in messages:
                if message["MessageId"] in failed:  # back to the queue at once, as a retry
                    self.sqs.change_message_visibility(
                        QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                    )
            for message in succeeded:
                with suppress(MalformedMessage):
                    done.add(ScanRequest.from_body(message["Body"]).person)
            report.messages += len(messages)
            report.failed_messages += len(failed)
            scanned = len(done & self.writes.leases_released)
            failures = f", {report.failed_messages} failed" if report.failed_messages else ""
            self.progress(f"  [{name}] scanned {scanned}/{people}{failures}")
        return done


# -- the weekly digests --------------------------------------------------------------------


def send_digests(
    runtime: LocalRuntime,
    store: TableStore,
    emails: Sequence[str],
    outbox: Path,
    progress: Progress,
) -> dict[str, Any]:
    """The weekly digest, after the runs: the digest dispatch handler queues whoever's send
    time has come, the demo queues the others for their current week (so everyone's digest
    goes out on any day), and the digest queue is drained into the send handler. Mail goes
    through SES (moto's) and into ``outbox`` as .eml and .html. What became of it, from
    SES's own count and the digest records."""
    import boto3

    from micromoments import wiring
    from micromoments.adapters.mail import OutboxMailer
    from micromoments.domain.digest import DigestState
    from micromoments.handlers import digest as digest_handlers
    from micromoments.local.serve import DEFAULT_PORT
    from micromoments.services.digest import DigestRequest, current_week, due_people

    started = time.perf_counter()
    runtime.use_environment(
        {
            "MICROMOMENTS_OUTBOX_DIR": str(outbox.resolve()),
            "MICROMOMENTS_PUBLIC_BASE_URL": f"http://127.0.0.1:{DEFAULT_PORT}",
            "MICROMOMENTS_SENDER_ADDRESS": runtime.sender,
        }
    )
    ses, sqs = boto3.client("ses"), boto3.client("sqs")
    ses_before = int(ses.get_send_quota()["SentLast24Hours"])
    outbox_before = len(OutboxMailer(outbox).messages())

    now = datetime.now(UTC)
    hour = now.replace(minute=0, second=0, microsecond=0)
    weeks = dict(due_people(store, hour))  # what the dispatch handler is about to queue
    event = {"kind": "digest", "scheduled_time": _scheduled(hour)}
    answer = runtime.invoke(digest_handlers.dispatch_handler, event, function="micromoments-digest")
    dispatched = int(answer.get("enqueued", 0))
    others = [DigestRequest(e, current_week(store, e, now)) for e in emails if e not in weeks]
    if others:
        wiring.digest_queue().send(others)
    weeks.update((request.person, request.iso_week) for request in others)
    settings = store.get_settings()
    send_time = settings.digest_send if settings else "Fri 15:00"
    note = (
        f" (+{len(others)} queued by the demo: their send time, {send_time} local, has not "
        "come yet this week)"
        if others
        else ""
    )
    progress(f"weekly digests: dispatch queued {dispatched}{note}")

    url = runtime.digest_queue_url
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    messages = failed_messages = 0
    for _ in range(10 + 6 * (len(weeks) // SQS_BATCH + 1)):
        got = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=SQS_BATCH, WaitTimeSeconds=0
        ).get("Messages", [])
        if not got:
            break
        batch = {"Records": [sqs_record(m, arn) for m in got]}
        response = runtime.invoke(
            digest_handlers.send_handler, batch, function="micromoments-digest-send"
        )
        failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
        done = [m for m in got if m["MessageId"] not in failed]
        if done:
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
                ],
            )
        for message in got:
            if message["MessageId"] in failed:  # back to the queue at once, as a retry
                sqs.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
        messages += len(got)
        failed_messages += len(failed)

    records = {email: store.get_digest(email, week) for email, week in weeks.items()}
    marked = sum(1 for r in records.values() if r is not None and r.state is DigestState.SENT)
    unsent = sum(1 for r in records.values() if r is None)
    left = int(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
            "Attributes"
        ].get("ApproximateNumberOfMessages", "0")
    )
    sent = int(ses.get_send_quota()["SentLast24Hours"]) - ses_before
    report = {
        "sent": sent,
        "quiet": marked - sent,
        "skipped": unsent - left,
        "failed": left,
        "dispatched": dispatched,
        "queued_by_demo": len(others),
        "in_outbox": len(OutboxMailer(outbox).messages()) - outbox_before,
        "failed_messages": failed_messages,
    }
    progress(
        f"  done in {time.perf_counter() - started:.1f} s: {report['sent']} sent through SES "
        f"and written to {outbox}, {report['quiet']} quiet weeks (no email), "
        f"{report['skipped']} skipped, {report['failed']} failed"
    )
    return report


# -- what the runs left behind --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Block:
    """Something on the picture: a kind, a day of the shown week (0 = Monday) and local
    wall-clock minutes from midnight. Never a title."""

    kind: str
    day: int
    start: int
    end: int


@dataclass
class Picture:
    email: str
    team: str | None
    timezone: str
    monday: date
    working: list[tuple[int, int] | None]
    loads: dict[date, DayLoad]
    all_day: dict[int, list[str]]
    calendar: list[Block]
    holds: list[Block]


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _blocks(kind: str, start: datetime, end: datetime, tz: tzinfo, monday: date) -> Iterable[Block]:
    """The parts of [start, end) on each local day of the week starting ``monday``."""
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    day = local_start.date()
    while day <= local_end.date():
        index = (day - monday).days
        if 0 <= index < 7:
            first = local_start.hour * 60 + local_start.minute if day == local_start.date() else 0
            last = local_end.hour * 60 + local_end.minute if day == local_end.date() else 1440
            if last > first:
                yield Block(kind, index, first, last)
        day += timedelta(days=1)


def _picture(
    synthetic: SyntheticPerson,
    store: TableStore,
    settings: OrgSettings,
    monday: date,
    shared: Sequence[tuple[str, datetime, datetime]] = (),
) -> Picture:
    from micromoments.local.synthetic import normalised_events

    person = store.get_person(synthetic.email) or synthetic.person
    zone_name = person.zone_name(settings.timezone)
    tz = zone(zone_name)
    hours = person.hours(settings.working_hours)
    working: list[tuple[int, int] | None] = []
    for index in range(7):
        ranges = hours.days[index]
        working.append((ranges[0][0], ranges[-1][1]) if ranges else None)
    calendar: list[Block] = []
    all_day: dict[int, list[str]] = {}
    for event in normalised_events(synthetic):
        if event.declined or event.cancelled or not event.busy:
            continue
        if event.kind in (EventKind.WORKING_LOCATION, EventKind.HOLD):
            continue
        start, end = event.start, event.end
        if isinstance(start, datetime) and isinstance(end, datetime):
            kind = {EventKind.MEETING: "meeting", EventKind.OUT_OF_OFFICE: "out_of_office"}.get(
                event.kind, "solo"
            )
            calendar.extend(_blocks(kind, start, end, tz, monday))
            continue
        label = "out of office" if event.kind is EventKind.OUT_OF_OFFICE else "all day"
        day = start.date() if isinstance(start, datetime) else start
        last = end.date() if isinstance(end, datetime) else end
        while day < last:
            index = (day - monday).days
            if 0 <= index < 7 and label not in all_day.setdefault(index, []):
                all_day[index].append(label)
            day += timedelta(days=1)
    holds: list[Block] = []
    for hold in live_holds(store, synthetic.email):
        holds.extend(_blocks(hold.kind.value, hold.start, hold.end, tz, monday))
    for kind, start, end in shared:  # invited to: on their calendar, recorded on the organiser
        holds.extend(_blocks(kind, start, end, tz, monday))
    loads = {
        load.date: load
        for load in store.day_loads(synthetic.email, monday, monday + timedelta(days=6))
    }
    return Picture(
        email=synthetic.email,
        team=person.team,
        timezone=zone_name,
        monday=monday,
        working=working,
        loads=loads,
        all_day=all_day,
        calendar=calendar,
        holds=holds,
    )


def live_holds(store: TableStore, email: str) -> list[Hold]:
    return [hold for hold in store.holds(email) if hold.status in LIVE]


def _organised_here(resource: dict[str, Any], email: str) -> bool:
    from micromoments.domain.calendar import same_address

    organiser = resource.get("organizer")
    address = organiser.get("email") if isinstance(organiser, dict) else None
    return not isinstance(address, str) or same_address(address, email)


def _holds_on_calendar(server: CalendarServer, email: str) -> int:
    """Our events on this calendar that it organises (a shared event's copies on its
    attendees' calendars are not holds of theirs)."""
    count = 0
    for event in server.events(email, include_cancelled=False):
        tags = event.get("extendedProperties", {})
        if _organised_here(event, email) and any(
            isinstance(group, dict) and group.get("micromoments") == "1" for group in tags.values()
        ):
            count += 1
    return count


def _shared_kind(resource: dict[str, Any]) -> str | None:
    """``coffee`` or ``watercooler`` for a live shared event of ours (by its shared tags,
    believed only on an event whose id they name), else None."""
    if resource.get("status") == "cancelled":
        return None
    properties = resource.get("extendedProperties")
    shared = properties.get("shared") if isinstance(properties, dict) else None
    if not isinstance(shared, dict) or shared.get("micromoments") != "1":
        return None
    if shared.get("mm_hold_id") != resource.get("id"):
        return None
    kind = shared.get("mm_kind")
    return kind if kind in SHARED_KINDS else None


def _event_times(resource: dict[str, Any]) -> tuple[datetime, datetime] | None:
    try:
        start = datetime.fromisoformat(resource["start"]["dateTime"])
        end = datetime.fromisoformat(resource["end"]["dateTime"])
    except (KeyError, TypeError, ValueError):
        return None
    return start, end


def _attendee_addresses(resource: dict[str, Any], organiser: str) -> list[str]:
    from micromoments.domain.calendar import same_address

    return [
        str(a["email"]).strip().lower()
        for a in resource.get("attendees") or ()
        if isinstance(a, dict) and a.get("email") and not same_address(str(a["email"]), organiser)
    ]


# -- the week's coffee chats and drop-ins ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Chat:
    """One coffee group or team drop-in of the round, as the page lists it: the demo's
    synthetic addresses (organiser first), the slot in the organiser's zone, the status of
    the organiser's hold and what the Calendar server holds. Never a title."""

    kind: str
    members: tuple[str, ...]
    zone: str
    start: datetime | None
    end: datetime | None
    status: str
    on_calendar: bool  # the organiser's event is there, live
    copies: int  # attendees whose calendars hold a live copy
    team: str | None = None
    team_size: int = 0  # watercooler: the team's people


@dataclass
class Connection:
    """The pairing round as the Store and the Calendar server hold it after the runs."""

    iso_week: str
    monday: date | None
    chats: list[Chat] = field(default_factory=list)
    unpaired: dict[str, int] = field(default_factory=dict)
    coffee_people: int = 0
    events: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SHARED_KINDS, 0))
    copies: int = 0
    copies_missing: int = 0
    handler: dict[str, Any] = field(default_factory=dict)

    def groups(self, kind: str) -> list[Chat]:
        return [chat for chat in self.chats if chat.kind == kind]

    def to_json(self) -> dict[str, Any]:
        coffee = self.groups(HoldKind.COFFEE.value)
        sizes = Counter(len(chat.members) for chat in coffee)
        on_calendars = sum(len(chat.members) for chat in coffee if chat.on_calendar)
        statuses = Counter(chat.status for chat in self.chats)
        return {
            "iso_week": self.iso_week,
            "coffee_people": self.coffee_people,
            "pairs": sizes[2],
            "trios": sizes[3],
            "unpaired": dict(sorted(self.unpaired.items())),
            "watercoolers": len(self.groups(HoldKind.WATERCOOLER.value)),
            "coffee_events_on_calendars": self.events[HoldKind.COFFEE.value],
            "watercooler_events_on_calendars": self.events[HoldKind.WATERCOOLER.value],
            "attendee_copies": self.copies,
            "attendee_copies_missing": self.copies_missing,
            "statuses": dict(sorted(statuses.items())),
            "paired_share": round(on_calendars / self.coffee_people, 2)
            if self.coffee_people
            else 0.0,
            "reported_by_handler": {
                key: self.handler[key]
                for key in ("pairs", "trios", "watercoolers", "planned", "organisers_queued")
                if key in self.handler
            },
        }


def _connection(
    org: SyntheticOrg, runtime: LocalRuntime, store: TableStore, answer: dict[str, Any]
) -> Connection:
    """The round the pair handler saved, read back from the Store, with each group's hold
    and its events on the Calendar server; and the shared events on every calendar."""
    from micromoments import wiring
    from micromoments.domain.access import pseudonym_key
    from micromoments.domain.people import pseudonym
    from micromoments.services.pair import shared_hold

    settings = store.get_settings() or org.settings
    label = str(answer.get("iso_week") or "")
    connection = Connection(label, None, handler=answer)
    server = runtime.calendar
    calendars = {
        p.email.lower(): {str(r["id"]): r for r in server.events(p.email)} for p in org.people
    }

    # Every shared event organised on a calendar, and its copies on the attendees'.
    for email, events in calendars.items():
        for resource in events.values():
            kind = _shared_kind(resource)
            if kind is None or not _organised_here(resource, email):
                continue
            connection.events[kind] += 1
            for attendee in _attendee_addresses(resource, email):
                copy = calendars.get(attendee, {}).get(str(resource["id"]))
                if copy is not None and _shared_kind(copy) == kind:
                    connection.copies += 1
                else:
                    connection.copies_missing += 1

    pairing_round = store.get_round(label) if label else None
    key = wiring.master_key()
    if pairing_round is None or key is None:
        return connection
    with suppress(ValueError):
        year, week = label.split("-W")
        connection.monday = date.fromisocalendar(int(year), int(week), 1)
    people = {p.email: store.get_person(p.email) or p.person for p in org.people}
    alias_key = pseudonym_key(key)
    by_pseudonym = {pseudonym(alias_key, email): person for email, person in people.items()}
    team_sizes = Counter(person.team for person in people.values() if person.team)
    for group in pairing_round.groups:
        members = tuple(
            by_pseudonym[m].email if m in by_pseudonym else "(left)" for m in group.members
        )
        if group.kind is HoldKind.COFFEE:
            connection.coffee_people += len(group.members)
            if group.start is None:
                reason = group.reason or "unknown"
                connection.unpaired[reason] = connection.unpaired.get(reason, 0) + len(members)
                continue
        organiser = by_pseudonym.get(group.members[0])
        hold = shared_hold(group, label, by_pseudonym, settings)
        zone_name = organiser.zone_name(settings.timezone) if organiser else settings.timezone
        tz = zone(zone_name)
        start, end = group.start, group.end
        status, on_calendar, copies = "not planned", False, 0
        if organiser is not None and hold is not None:
            stored = {h.id: h for h in store.holds(organiser.email)}.get(hold.id)
            status = stored.status.value if stored else "not recorded"
            if stored is not None:  # where it stands now (a moved chat has moved)
                start, end = stored.start, stored.end
            event = calendars.get(organiser.email.lower(), {}).get(hold.id)
            on_calendar = event is not None and _shared_kind(event) is not None
            copies = sum(  # the guests, by address (the hold names them by pseudonym)
                1
                for guest in members[1:]
                if (copy := calendars.get(guest.lower(), {}).get(hold.id)) is not None
                and _shared_kind(copy) is not None
            )
        connection.chats.append(
            Chat(
                kind=group.kind.value,
                members=members,
                zone=zone_name,
                start=start.astimezone(tz) if start else None,
                end=end.astimezone(tz) if end else None,
                status=status,
                on_calendar=on_calendar,
                copies=copies,
                team=group.team,
                team_size=team_sizes[group.team] if group.team else 0,
            )
        )
    connection.chats.sort(
        key=lambda c: (c.kind != "coffee", c.start or datetime.max.replace(tzinfo=UTC), c.members)
    )
    return connection


def care_figures(
    org: SyntheticOrg,
    runtime: LocalRuntime,
    store: TableStore,
    connection: Connection,
    now: datetime,
) -> CareOutcomes:
    """The care outcomes (`micromoments.local.care`) of what the runs left: each person
    as the Store has them, their seeded calendar, the live holds on it (their own and the
    shared ones they organise, from the Store; the shared ones they are invited to, from
    their calendar) and the round's coffee groups."""
    from micromoments.local.care import CareHold, CarePerson, CoffeeGroup, care_outcomes
    from micromoments.local.synthetic import normalised_events

    settings = store.get_settings() or org.settings
    people: list[CarePerson] = []
    for synthetic in org.people:
        holds = [
            CareHold(hold.kind, hold.start, hold.end)
            for hold in store.holds(synthetic.email)
            if hold.status in CARE_LIVE
        ]
        holds += [
            CareHold(HoldKind(kind), start, end)
            for kind, start, end in _shared_copies(runtime.calendar, synthetic.email)
        ]
        person = store.get_person(synthetic.email) or synthetic.person
        people.append(CarePerson(person, normalised_events(synthetic), holds))
    groups = [
        CoffeeGroup(
            tuple(m for m in chat.members if "@" in m),
            live=chat.on_calendar and chat.status in CARE_LIVE_STATUSES,
        )
        for chat in connection.groups(HoldKind.COFFEE.value)
        if chat.start is not None
    ]
    return care_outcomes(
        people, settings, now=now, coffee_groups=groups, coffee_week=connection.monday
    )


def _shared_copies(server: CalendarServer, email: str) -> list[tuple[str, datetime, datetime]]:
    """The shared events on this calendar that someone else organises (live, not declined):
    kind, start and end."""
    from micromoments.local.calendar_api.state import declined_by

    copies: list[tuple[str, datetime, datetime]] = []
    for resource in server.events(email, include_cancelled=False):
        kind = _shared_kind(resource)
        times = _event_times(resource)
        if kind is None or times is None or _organised_here(resource, email):
            continue
        if not declined_by(resource, email):
            copies.append((kind, *times))
    return copies


# -- the demo -------------------------------------------------------------------------------


def run_demo(
    *,
    people: int = DEFAULT_PEOPLE,
    out: Path = DEFAULT_OUT,
    seed: int = SEED,
    moto_port: int = 0,
    calendar_port: int = 0,
    progress: Progress = stderr_progress,
    google_credentials: str = "keyless",
) -> dict[str, Any]:
    """Run the demo and write ``out/index.html`` and ``out/summary.json``; the summary."""
    require_local_extra()
    if people < 1:
        raise DemoFailed("--people must be at least 1")
    with DemoLock(out):
        started = time.perf_counter()
        summary, pictures, connection = _run(
            people, seed, moto_port, calendar_port, progress, out / "outbox", google_credentials
        )
        summary["seconds"] = round(time.perf_counter() - started, 1)
        _write_outputs(out, summary, pictures, connection)
        summary["seconds"] = round(time.perf_counter() - started, 1)
        _write_json(out / "summary.json", summary)
    return summary


def _run(
    people: int,
    seed: int,
    moto_port: int,
    calendar_port: int,
    progress: Progress,
    outbox: Path,
    google_credentials: str = "keyless",
) -> tuple[dict[str, Any], list[Picture], Connection]:
    from micromoments import wiring
    from micromoments.adapters.dynamo import DynamoTable
    from micromoments.local.synthetic import generate_org

    first_day = _monday(datetime.now(UTC).date())
    org = generate_org(people, seed=seed, start=first_day, days=DAYS)
    # The calendars start on the Monday of the org's week, so the coming week (the one the
    # pairing plans) is always their second.
    org_monday = _monday(datetime.now(zone(org.settings.timezone)).date())
    if org_monday != first_day:
        first_day = org_monday
        org = generate_org(people, seed=seed, start=first_day, days=DAYS)
    zones = sorted({p.person.timezone or org.settings.timezone for p in org.people})
    progress("starting the stand-ins: moto's server and the Calendar API server …")
    with LocalRuntime(
        moto_port=moto_port, calendar_port=calendar_port, google_credentials=google_credentials
    ) as runtime:
        server = runtime.calendar
        how = "a generated key" if google_credentials == "key" else "keyless: federation, signJwt"
        progress(
            f"  moto {runtime.moto_url} (DynamoDB, SQS, SES, Scheduler, Secrets Manager); "
            f"Calendar API {server.root_url} (delegation with {how})"
        )
        events = sum(len(p.events) for p in org.people)
        progress(
            f"seeding {_count(len(org.people), 'person', 'people')} in "
            f"{_count(len(org.teams), 'team')} and {_count(len(zones), 'time zone')}: "
            f"{events} events over {DAYS} days from {first_day.isoformat()}"
        )
        server.seed_org(org)
        store = wiring.store()
        store.create_settings(org.settings)
        for synthetic in org.people:
            store.create_person(synthetic.person)
        table = store.table
        if not isinstance(table, DynamoTable):  # pragma: no cover - wiring builds DynamoDB
            raise DemoFailed("the Store is not on DynamoDB")
        writes = StoreWrites(table.client)
        try:
            pipeline = _Pipeline(runtime, store, writes, progress)
            runs: list[RunReport] = []
            answer: dict[str, Any] = {}
            first_scan = datetime.now(UTC)  # when run 1 began: the care outcomes' "now"
            for number, name in enumerate(RUNS, 1):
                if name == PAIR_RUN:
                    report, answer = pipeline.pair(number)
                    runs.append(report)
                else:
                    runs.append(pipeline.run(name, number, len(org.people)))
        finally:
            writes.close()
        # After the unchanged rescan was measured: the digests write their records apart.
        emails = [synthetic.email for synthetic in org.people]
        digests = send_digests(runtime, store, emails, outbox, progress)
        progress("collecting the results …")
        connection = _connection(org, runtime, store, answer)
        summary, pictures = _results(org, runtime, store, runs, zones, first_day, connection)
        summary["care"] = care_figures(org, runtime, store, connection, first_scan).to_json()
        summary["digests"] = digests
    return summary, pictures, connection


def _results(
    org: SyntheticOrg,
    runtime: LocalRuntime,
    store: TableStore,
    runs: Sequence[RunReport],
    zones: Sequence[str],
    first_day: date,
    connection: Connection,
) -> tuple[dict[str, Any], list[Picture]]:
    settings = store.get_settings() or org.settings
    now = datetime.now(UTC)
    holds: Counter[str] = Counter(dict.fromkeys(HOLD_KINDS, 0))
    per_week: Counter[date] = Counter()
    overloaded = 0
    on_calendar = 0
    for synthetic in org.people:
        person = store.get_person(synthetic.email) or synthetic.person
        tz = zone(person.zone_name(settings.timezone))
        today = now.astimezone(tz).date()
        overloaded += sum(
            1
            for load in store.day_loads(synthetic.email, today, today + timedelta(weeks=3))
            if load.overloaded
        )
        for hold in live_holds(store, synthetic.email):
            holds[hold.kind.value] += 1
            per_week[_monday(hold.day)] += 1
        on_calendar += _holds_on_calendar(runtime.calendar, synthetic.email)
    this_week = _monday(now.date())
    next_week = this_week + timedelta(weeks=1)
    shown = next_week if per_week[next_week] > per_week[this_week] else this_week
    paired = connection.monday
    if (
        paired is not None
        and any(chat.start for chat in connection.chats)
        and first_day <= paired < first_day + timedelta(days=DAYS)
    ):
        shown = paired  # the week of the coffee chats and drop-ins
    pictures = [
        _picture(p, store, settings, shown, _shared_copies(runtime.calendar, p.email))
        for p in org.people
    ]

    first, echo, rescan = runs[0], runs[-2], runs[-1]
    scanned = first.people_scanned
    summary: dict[str, Any] = {
        "people": len(org.people),
        "teams": len(org.teams),
        "time_zones": list(zones),
        "calendar_days": {"first": first_day.isoformat(), "days": DAYS},
        "people_scanned": scanned,
        "overloaded_days": overloaded,
        "holds": dict(holds),
        "holds_on_calendar": on_calendar,
        "google_requests_per_person": {
            run.name: round(run.google_requests / run.people_scanned, 2)
            if run.people_scanned
            else 0.0
            for run in runs
        },
        "second_run_writes": rescan.writes,
        "second_run": {
            "run": rescan.name,
            "calendar_writes": rescan.calendar_writes,
            "store_writes_beyond_leases": rescan.store_writes_beyond_leases,
            "echo_absorbed": {
                "calendar_writes": echo.calendar_writes,
                "store_writes_beyond_leases": echo.store_writes_beyond_leases,
            },
        },
        "failed_messages": sum(run.failed_messages for run in runs),
        "dead_lettered": sum(run.dead_lettered for run in runs),
        "runs": [run.to_json() for run in runs],
        "connection": connection.to_json(),
        "week_shown": shown.isoformat(),
        "seconds": 0.0,
    }
    return summary, pictures


# -- output ---------------------------------------------------------------------------------


def _write_json(path: Path, document: dict[str, Any]) -> None:
    try:
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise DemoFailed(f"cannot write {path}: {exc.strerror or exc}") from None


def _write_outputs(
    out: Path, summary: dict[str, Any], pictures: Sequence[Picture], connection: Connection
) -> None:
    path = out / "index.html"
    try:
        path.write_text(render_html(summary, pictures, connection), encoding="utf-8")
    except OSError as exc:
        raise DemoFailed(f"cannot write {path}: {exc.strerror or exc}") from None
    _write_json(out / "summary.json", summary)


def _count(number: int, one: str, many: str | None = None) -> str:
    return f"{number} {one if number == 1 else many or one + 's'}"


def render_summary(summary: dict[str, Any], out: Path) -> str:
    """The summary for the terminal."""
    runs = summary["runs"]
    lines = [
        f"micromoments demo: {_count(summary['people'], 'person', 'people')}, "
        f"{_count(summary['teams'], 'team')}, {_count(len(summary['time_zones']), 'time zone')} "
        f"({', '.join(summary['time_zones'])})",
        "",
        "  run                      " + "".join(f"{run['run']:>9}" for run in runs),
    ]
    rows = (
        ("people scanned", "people_scanned"),
        ("Calendar writes", "calendar_writes"),
        ("Store writes beyond leases", "store_writes_beyond_leases"),
        ("Google requests", "google_requests"),
        ("seconds", "seconds"),
    )
    for label, key in rows:
        lines.append(f"  {label:<25}" + "".join(f"{run[key]:>9}" for run in runs))
    holds = ", ".join(f"{kind} {count}" for kind, count in summary["holds"].items() if count)
    per_person = summary["google_requests_per_person"]
    second = summary["second_run"]
    echo = second["echo_absorbed"]
    lines += [
        "",
        f"people scanned     {summary['people_scanned']} of {summary['people']}",
        f"overloaded days    {summary['overloaded_days']} (from today to the end of the "
        "planning window)",
        f"holds by kind      {holds or 'none'} ({summary['holds_on_calendar']} on the calendars)",
        "Google requests    "
        + ", ".join(f"{per_person[run['run']]} per person ({run['run']})" for run in runs),
        f"second run writes  {summary['second_run_writes']}: the unchanged rescan made "
        f"{second['calendar_writes']} Calendar writes and "
        f"{second['store_writes_beyond_leases']} Store writes beyond leases",
        f"                   (the echo run before it stored our own new events (holds, "
        f"coffee chats, drop-ins and their copies) coming back through sync: "
        f"{echo['store_writes_beyond_leases']} Store writes, "
        f"{echo['calendar_writes']} Calendar writes)",
    ]
    lines += _connection_lines(summary["connection"])
    lines += _care_lines(summary["care"])
    digests = summary["digests"]
    lines.append(
        f"weekly digests     {digests['sent']} sent through SES (moto) and written to "
        f"{out / 'outbox'} (.eml, .html), {digests['quiet']} quiet weeks without an email, "
        f"{digests['skipped']} skipped, {digests['failed']} failed"
    )
    if summary["failed_messages"] or summary["dead_lettered"]:
        lines.append(
            f"failures           {summary['failed_messages']} failed messages, "
            f"{summary['dead_lettered']} dead-lettered"
        )
    from micromoments.local.serve import DEFAULT_PORT

    lines += [
        "",
        f"wrote {out / 'index.html'} (week of {summary['week_shown']}) and "
        f"{out / 'summary.json'} in {summary['seconds']} s",
        f"the sign-in form: run `micromoments serve` (make serve), then open "
        f"http://127.0.0.1:{DEFAULT_PORT}/",
    ]
    return "\n".join(lines)


def _care_rows(care: dict[str, Any]) -> list[tuple[str, str, str, str, bool]]:
    """Each care outcome: its name, value, the counts behind it, the target, and whether
    it is met."""
    targets = care["targets"]
    misplaced = care["misplaced_by_reason"]
    why = f": {_reasons(misplaced)}" if misplaced else ""
    return [
        (
            "breather coverage",
            str(care["breather_coverage"]),
            f"{care['breather_days_covered']} of {care['breather_days_eligible']} overloaded "
            "workdays with a back-to-back run and a free 10 minutes in the hour after it got "
            f"a breather ({care['breather_days_without_gap']} more had no such gap)",
            f"at least {targets['breather_coverage']}",
            care["breather_coverage"] >= targets["breather_coverage"],
        ),
        (
            "social every week",
            str(care["social_weekly_share"]),
            f"{care['social_people_every_week']} of {care['social_people']} people who want "
            "social moments have one in every week of the planning window that had room",
            f"at least {targets['social_weekly_share']}",
            care["social_weekly_share"] >= targets["social_weekly_share"],
        ),
        (
            "coffee paired",
            str(care["coffee_paired_share"]),
            f"{care['coffee_paired']} of {care['coffee_pool']} people in the coffee pool are "
            "in a live pair or group",
            f"at least {targets['coffee_paired_share']}",
            care["coffee_paired_share"] >= targets["coffee_paired_share"],
        ),
        (
            "misplaced holds",
            str(care["misplaced_holds"]),
            f"{care['misplaced_holds']} of {care['holds_checked']} live holds (each member's "
            "copy of a shared one) are outside working hours, on unavailable days, over busy "
            f"time or past a cap{why}",
            f"{targets['misplaced_holds']}",
            care["misplaced_holds"] <= targets["misplaced_holds"],
        ),
    ]


def _care_lines(care: dict[str, Any]) -> list[str]:
    lines = []
    for index, (name, value, counts, target, met) in enumerate(_care_rows(care)):
        label = "care outcomes" if index == 0 else ""
        verdict = "" if met else " — MISSED"
        lines.append(f"{label:<19}{name} {value} (target {target}{verdict}): {counts}")
    return lines


def _reasons(unpaired: dict[str, int]) -> str:
    return "; ".join(f"{reason.replace('_', ' ')}: {count}" for reason, count in unpaired.items())


def _connection_lines(connection: dict[str, Any]) -> list[str]:
    if not connection["iso_week"]:
        return ["coffee chats       the pairing did not run"]
    unpaired = sum(connection["unpaired"].values())
    detail = f" ({_reasons(connection['unpaired'])})" if unpaired else ""
    return [
        f"coffee chats       {connection['iso_week']}: {_count(connection['pairs'], 'pair')}, "
        f"{_count(connection['trios'], 'group')} of three, {unpaired} of "
        f"{connection['coffee_people']} people unpaired{detail}; "
        f"paired share {connection['paired_share']}",
        f"watercoolers       {_count(connection['watercoolers'], 'team drop-in')}; on the "
        f"calendars {connection['coffee_events_on_calendars']} coffee and "
        f"{connection['watercooler_events_on_calendars']} watercooler events, "
        f"{connection['attendee_copies']} attendee copies "
        f"({connection['attendee_copies_missing']} missing)",
    ]


# -- the picture ----------------------------------------------------------------------------

_COLOURS = {
    "meeting": "#4a7bd0",
    "solo": "#9aa5b1",
    "out_of_office": "#c9c3b5",
    "breather": "#2a9d63",
    "social": "#f08c00",
    "coffee": "#8e44ad",
    "watercooler": "#159bb0",
}
_LABELS = {
    "meeting": "meeting",
    "solo": "solo block",
    "out_of_office": "out of office",
    "breather": "breather",
    "social": "social time",
    "coffee": "coffee chat",
    "watercooler": "watercooler",
}
_REASONS = {
    "meeting_hours": "meetings",
    "back_to_back": "back-to-back",
    "after_hours": "after hours",
}
_CSS = """
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:0}
.muted{color:#666}.figures{border-collapse:collapse;margin:12px 0}
.figures td,.figures th{border:1px solid #ddd;padding:3px 10px;text-align:right}
.figures th:first-child,.figures td:first-child{text-align:left}
.legend{display:flex;flex-wrap:wrap;gap:14px;margin:12px 0 20px}
.legend span{display:inline-flex;align-items:center;gap:6px}
.sw{display:inline-block;width:14px;height:14px;border-radius:3px}
.person{border-top:1px solid #ddd;padding:16px 0}
.pair{display:flex;gap:20px;flex-wrap:wrap;margin-top:8px}
.side{flex:1 1 460px;min-width:420px}.side h3{font-size:13px;margin:0 0 4px;color:#444}
.week{display:grid;grid-template-columns:38px repeat(7,1fr);font-size:11px}
.head{min-height:40px;text-align:center;padding:2px;border-bottom:1px solid #ccc}
.head.over{background:#fde2e1;color:#a4161a;font-weight:600}
.head .why{display:block;font-weight:400;font-size:10px}
.head.away{background:#eee;color:#777}
.hours{position:relative;height:448px}
.hours div{position:absolute;right:4px;font-size:10px;color:#888;transform:translateY(-50%)}
.day{position:relative;height:448px;border-left:1px solid #e4e4e4;
background:repeating-linear-gradient(#fff 0 31px,#f0f0f0 31px 32px)}
.day.over{box-shadow:inset 0 0 0 2px #e5383b}
.day.away{background:repeating-linear-gradient(45deg,#f4f4f4 0 6px,#e9e9e9 6px 12px)}
.work{position:absolute;left:0;right:0;background:rgba(74,123,208,.1)}
.b{position:absolute;border-radius:3px;box-sizing:border-box;border:1px solid rgba(0,0,0,.18);
overflow:hidden;color:#fff;font-size:9px;padding:0 2px;white-space:nowrap}
.b.edge{height:4px!important;border:none}
.hold{border:2px solid #fff;box-shadow:0 0 0 1px rgba(0,0,0,.35)}
.connection{border-top:1px solid #ddd;padding:16px 0}
.connection h3{font-size:13px;margin:14px 0 4px}
.chats{border-collapse:collapse}
.chats td,.chats th{border:1px solid #ddd;padding:3px 8px;text-align:left}
.chats .off{color:#a4161a}
.care .figures td:last-child{text-align:left;color:#555}.care .missed td{color:#a4161a}
"""


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _lanes(blocks: Sequence[Block]) -> list[tuple[Block, int, int]]:
    """Each block with its lane and the lane count of its overlap cluster."""
    placed: list[tuple[Block, int, int]] = []
    cluster: list[tuple[Block, int]] = []
    lane_ends: list[int] = []
    cluster_end = 0
    for block in sorted(blocks, key=lambda b: (b.start, -b.end)):
        if cluster and block.start >= cluster_end:
            placed.extend((b, lane, len(lane_ends)) for b, lane in cluster)
            cluster, lane_ends = [], []
        for lane, end in enumerate(lane_ends):
            if end <= block.start:
                lane_ends[lane] = block.end
                break
        else:
            lane = len(lane_ends)
            lane_ends.append(block.end)
        cluster_end = max(cluster_end, block.end) if cluster else block.end
        cluster.append((block, lane))
    placed.extend((b, lane, len(lane_ends)) for b, lane in cluster)
    return placed


def _top(minutes: int) -> float:
    span = LAST_MINUTE - FIRST_MINUTE
    return (min(max(minutes, FIRST_MINUTE), LAST_MINUTE) - FIRST_MINUTE) / span * 100


def _block_html(block: Block, lane: int, lanes: int) -> str:
    width = 100 / lanes
    label = _LABELS.get(block.kind, block.kind)
    tip = f"{label} {_clock(block.start)}–{_clock(block.end)}"
    classes = "b hold" if block.kind in HOLD_KINDS else "b"
    if block.end <= FIRST_MINUTE or block.start >= LAST_MINUTE:
        classes += " edge"  # outside 07–21: a strip at the edge it lies beyond
        top = 0.0 if block.end <= FIRST_MINUTE else 99.0
        height = 1.0
        tip += " (outside the hours shown)"
    else:
        top = _top(block.start)
        height = max(_top(block.end) - top, 0.8)
    text = html.escape(label) if height >= 4 and lanes == 1 else ""
    return (
        f'<div class="{classes}" title="{html.escape(tip)}" style="top:{top:.2f}%;'
        f"height:{height:.2f}%;left:{lane * width:.1f}%;width:{width:.1f}%;"
        f'background:{_COLOURS.get(block.kind, "#777")}">{text}</div>'
    )


def _week_html(picture: Picture, blocks: Sequence[Block]) -> str:
    parts = ['<div class="week"><div class="head"></div>']
    for index in range(7):
        day = picture.monday + timedelta(days=index)
        load = picture.loads.get(day)
        classes = "head"
        why = ""
        if load is not None and load.overloaded:
            classes += " over"
            reasons = ", ".join(_REASONS.get(r, r) for r in load.reasons)
            why = f'<span class="why">overloaded<br>{html.escape(reasons)}</span>'
        elif (load is not None and not load.available) or picture.all_day.get(index):
            classes += " away"
            why = f'<span class="why">{html.escape(", ".join(picture.all_day.get(index, [])))}'
            why += "</span>"
        parts.append(f'<div class="{classes}">{day.strftime("%a %d %b")}{why}</div>')
    parts.append('<div class="hours">')
    for hour in range(FIRST_MINUTE // 60, LAST_MINUTE // 60):
        parts.append(f'<div style="top:{_top(hour * 60):.2f}%">{hour:02d}:00</div>')
    parts.append("</div>")
    for index in range(7):
        day = picture.monday + timedelta(days=index)
        load = picture.loads.get(day)
        classes = "day"
        if load is not None and load.overloaded:
            classes += " over"
        elif load is not None and not load.available:
            classes += " away"
        parts.append(f'<div class="{classes}">')
        working = picture.working[index]
        if working is not None:
            top = _top(working[0])
            parts.append(
                f'<div class="work" style="top:{top:.2f}%;height:{_top(working[1]) - top:.2f}%">'
                "</div>"
            )
        for block, lane, lanes in _lanes([b for b in blocks if b.day == index]):
            parts.append(_block_html(block, lane, lanes))
        parts.append("</div>")
    parts.append("</div>")
    return "".join(parts)


def _legend() -> str:
    items = [
        f'<span><i class="sw" style="background:{colour}"></i>{html.escape(_LABELS[kind])}</span>'
        for kind, colour in _COLOURS.items()
    ]
    items.append(
        '<span><i class="sw" style="box-shadow:inset 0 0 0 2px #e5383b"></i>overloaded day</span>'
    )
    items.append(
        '<span><i class="sw" style="background:rgba(74,123,208,.1)"></i>working hours</span>'
    )
    return '<div class="legend">' + "".join(items) + "</div>"


def _slot(chat: Chat) -> str:
    if chat.start is None or chat.end is None:
        return "no slot"
    return f"{chat.start:%a %d %b %H:%M}–{chat.end:%H:%M} ({chat.zone})"


def _on_calendars(chat: Chat) -> str:
    guests = len(chat.members) - 1
    organiser = "organiser's calendar" if chat.on_calendar else "not on the organiser's calendar"
    text = f"{organiser}, {chat.copies} of {_count(guests, 'guest')}"
    complete = chat.on_calendar and chat.copies == guests
    return text if complete else f'<span class="off">{html.escape(text)}</span>'


def _members(chat: Chat) -> str:
    first, *others = chat.members
    return ", ".join(
        [f"<b>{html.escape(first)}</b> (organiser)", *(html.escape(m) for m in others)]
    )


def _connection_html(summary: dict[str, Any], connection: Connection | None) -> str:
    """The round's coffee chats, groups of three and drop-ins: who (the demo's synthetic
    addresses), when in the organiser's zone, the hold's status and the calendars."""
    figures = summary["connection"]
    title = "Coffee chats and watercoolers"
    if figures["iso_week"]:
        title += f" · {figures['iso_week']}"
    parts = [f'<section class="connection" id="connection"><h2>{html.escape(title)}</h2>']
    if connection is None or not connection.iso_week:
        parts.append('<p class="muted">The weekly pairing did not run.</p></section>')
        return "".join(parts)
    unpaired = sum(figures["unpaired"].values())
    parts.append(
        f'<p class="muted">The weekly pairing (run 2) planned the coming ISO week: '
        f"{_count(figures['pairs'], 'pair')} and {_count(figures['trios'], 'group')} of three "
        f"among {figures['coffee_people']} people who wanted a coffee chat and had room for "
        f"one (paired share {figures['paired_share']}), and "
        f"{_count(figures['watercoolers'], 'team drop-in')}. The organisers' scans placed "
        "them; the Calendar server copied them to the guests' calendars. People are shown "
        "by the demo's synthetic addresses; the Store keeps only pseudonyms.</p>"
    )
    coffee = connection.groups(HoldKind.COFFEE.value)
    parts.append("<h3>Coffee chats</h3>")
    if coffee:
        parts.append(
            '<table class="chats"><tr><th>who</th><th>when (organiser\'s zone)</th>'
            "<th>status</th><th>on the calendars</th></tr>"
        )
        for chat in coffee:
            size = "pair" if len(chat.members) == 2 else f"group of {len(chat.members)}"
            parts.append(
                f'<tr class="chat coffee"><td>{_members(chat)} <span class="muted">({size})'
                f"</span></td><td>{html.escape(_slot(chat))}</td>"
                f"<td>{html.escape(chat.status)}</td><td>{_on_calendars(chat)}</td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append('<p class="muted">No coffee chat this week.</p>')
    parts.append("<h3>Team watercoolers</h3>")
    drop_ins = connection.groups(HoldKind.WATERCOOLER.value)
    if drop_ins:
        parts.append(
            '<table class="chats"><tr><th>team</th><th>when (organiser\'s zone)</th>'
            "<th>free and invited</th><th>status</th><th>on the calendars</th></tr>"
        )
        for chat in drop_ins:
            parts.append(
                f'<tr class="chat watercooler"><td>{html.escape(chat.team or "")}</td>'
                f"<td>{html.escape(_slot(chat))}</td>"
                f"<td>{len(chat.members)} of {chat.team_size} "
                f'<span class="muted">({_members(chat)})</span></td>'
                f"<td>{html.escape(chat.status)}</td><td>{_on_calendars(chat)}</td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append('<p class="muted">No team drop-in this week.</p>')
    parts.append("<h3>Unpaired</h3>")
    if unpaired:
        items = "".join(
            f"<li>{html.escape(reason.replace('_', ' '))}: {_count(count, 'person', 'people')}</li>"
            for reason, count in figures["unpaired"].items()
        )
        parts.append(f"<ul>{items}</ul>")
    else:
        parts.append('<p class="muted">Nobody: everyone who wanted a coffee chat has one.</p>')
    parts.append(
        f'<p class="muted">On the calendars: {figures["coffee_events_on_calendars"]} coffee '
        f"and {figures['watercooler_events_on_calendars']} watercooler events organised, "
        f"{figures['attendee_copies']} copies on the guests' calendars "
        f"({figures['attendee_copies_missing']} missing).</p></section>"
    )
    return "".join(parts)


def _care_html(care: dict[str, Any]) -> str:
    """The care outcomes: what the product exists for, with the counts behind each."""
    rows = "".join(
        f'<tr class="outcome{"" if met else " missed"}"><td>{html.escape(name)}</td>'
        f"<td>{html.escape(value)}</td><td>{html.escape(target)}</td>"
        f"<td>{'met' if met else 'missed'}</td><td>{html.escape(counts)}</td></tr>"
        for name, value, counts, target, met in _care_rows(care)
    )
    return (
        '<section class="care" id="care"><h2>Care outcomes</h2>'
        '<table class="figures"><tr><th>outcome</th><th>value</th><th>target</th>'
        f"<th></th><th>behind it</th></tr>{rows}</table></section>"
    )


def render_html(
    summary: dict[str, Any], pictures: Sequence[Picture], connection: Connection | None = None
) -> str:
    """The demo's page: the figures, the week's coffee chats and drop-ins, a legend and,
    per person, the shown week before and after the pipeline ran. Only kinds and times
    (and the demo's synthetic addresses): no event title ever reaches it."""
    runs = summary["runs"]
    head = "".join(f"<th>{html.escape(run['run'])}</th>" for run in runs)
    rows = ""
    for label, key in (
        ("people scanned", "people_scanned"),
        ("Calendar writes", "calendar_writes"),
        ("Store writes beyond leases", "store_writes_beyond_leases"),
        ("Google requests", "google_requests"),
        ("seconds", "seconds"),
    ):
        rows += f"<tr><td>{label}</td>" + "".join(f"<td>{run[key]}</td>" for run in runs)
        rows += "</tr>"
    holds = ", ".join(f"{count} {kind}" for kind, count in summary["holds"].items() if count)
    shown = date.fromisoformat(summary["week_shown"])
    body = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        "<meta name=viewport content='width=device-width,initial-scale=1'>",
        f"<title>micromoments demo</title><style>{_CSS}</style></head><body>",
        "<h1>micromoments demo</h1>",
        f'<p class="muted">{_count(summary["people"], "person", "people")} in '
        f"{_count(summary['teams'], 'team')} across "
        f"{html.escape(', '.join(summary['time_zones']))}; the week of "
        f"{shown.strftime('%d %B %Y')}, before and after the scan placed its holds. "
        "Only kinds and times are shown: event titles are never read into micromoments.</p>",
        f"<p>{summary['people_scanned']} people scanned · {summary['overloaded_days']} "
        f"overloaded days ahead · holds: {html.escape(holds or 'none')} · "
        f"second run writes: <b>{summary['second_run_writes']}</b></p>",
        '<p class="muted">Run 1 syncs every calendar and places holds; run 2 is the weekly '
        "pairing, whose organisers' scans place the coffee chats and drop-ins; run 3 stores "
        "our own new events as they come back through the incremental sync; run 4 is the "
        "rescan of unchanged calendars that <i>second run writes</i> measures: Calendar "
        "writes plus Store writes other than leases.</p>",
        f'<table class="figures"><tr><th>run</th>{head}</tr>{rows}</table>',
        _care_html(summary["care"]),
        _connection_html(summary, connection),
        _legend(),
    ]
    for picture in pictures:
        over = sum(1 for load in picture.loads.values() if load.overloaded)
        kinds = Counter(block.kind for block in picture.holds)
        held = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
        team = f" · team {html.escape(picture.team)}" if picture.team else ""
        body.append(
            f'<section class="person"><h2>{html.escape(picture.email)}</h2>'
            f'<div class="muted">{html.escape(picture.timezone)}{team} · {over} overloaded '
            f"day{'s' if over != 1 else ''} this week · holds: {html.escape(held or 'none')}"
            '</div><div class="pair">'
            f'<div class="side"><h3>before</h3>{_week_html(picture, picture.calendar)}</div>'
            '<div class="side"><h3>after</h3>'
            f"{_week_html(picture, [*picture.calendar, *picture.holds])}</div>"
            "</div></section>"
        )
    body.append("</body></html>\n")
    return "\n".join(body)
