"""The Lambda handlers on moto (in-process): dispatch paging and batching, the scan worker's
partial batch failures, redeliveries, malformed messages."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
from moto import mock_aws

from micromoments import wiring
from micromoments.adapters.dynamo import create_table, dynamo_store
from micromoments.adapters.memory_calendar import MemoryCalendar
from micromoments.adapters.table import TableStore
from micromoments.config import config
from micromoments.domain.calendar import EventKind
from micromoments.domain.mirror import MirrorEvent
from micromoments.domain.people import Person, PersonStatus, Preferences
from micromoments.domain.scan_request import ScanRequest
from micromoments.domain.settings import OrgSettings
from micromoments.ports import CalendarError

BERLIN = ZoneInfo("Europe/Berlin")


class Context:
    function_name = "test"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:test"
    aws_request_id = "req-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "1")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "micromoments")
    with mock_aws():
        table = f"t-{uuid.uuid4().hex[:8]}"
        client = boto3.client("dynamodb")
        create_table(client, table)
        sqs = boto3.client("sqs")
        url = sqs.create_queue(QueueName=f"scan-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        monkeypatch.setenv("MICROMOMENTS_TABLE_NAME", table)
        monkeypatch.setenv("MICROMOMENTS_SCAN_QUEUE_URL", url)
        for cached in (config, wiring.store, wiring.scan_queue, wiring.default_calendar_gateway,
                       wiring.master_key):  # fmt: skip
            cached.cache_clear()
        store = dynamo_store(table)
        store.create_settings(
            OrgSettings(timezone="Europe/Berlin", allowed_domains=("example.com",))
        )
        yield {"store": store, "sqs": sqs, "url": url}
        for cached in (config, wiring.store, wiring.scan_queue, wiring.default_calendar_gateway,
                       wiring.master_key):  # fmt: skip
            getattr(cached, "cache_clear", lambda: None)()


def drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    bodies = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return bodies
        for message in got:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


WEDNESDAY_10_BERLIN = "2026-12-02T09:00:00Z"
SATURDAY_10_BERLIN = "2026-12-05T09:00:00Z"


def _dispatch_population(store: TableStore) -> None:
    for i in range(23):
        store.create_person(Person(email=f"p{i:02d}@example.com"))
    # a weekend worker is skipped on a Wednesday; a leaving person is always sent
    weekend = Preferences.from_item({"working_hours": "Sat-Sun 09:00-17:00"})
    store.create_person(Person(email="weekend@example.com", preferences=weekend))
    store.create_person(Person(email="gone@example.com", status=PersonStatus.LEAVING))
    store.create_person(Person(email="out@example.com", status=PersonStatus.OPTED_OUT))


def test_dispatch_pages_through_people_and_sends_batches_of_ten(aws: dict[str, Any]) -> None:
    from micromoments.handlers import dispatch as handler_module

    store: TableStore = aws["store"]
    _dispatch_population(store)
    sent: list[int] = []
    real = wiring.scan_queue()

    class CountingQueue:
        def send(self, batch: list[ScanRequest]) -> None:
            sent.append(len(batch))
            real.send(batch)

    deps = handler_module.DispatchDeps(store, CountingQueue())
    event = {"kind": "dispatch", "scheduled_time": WEDNESDAY_10_BERLIN}
    result = handler_module.handler(event, Context(), deps=deps)  # type: ignore[arg-type]
    assert result == {"people_seen": 25, "enqueued": 24, "batches": 3}
    assert sent == [10, 10, 4]
    bodies = drain(aws["sqs"], aws["url"])
    people = {b["person"] for b in bodies}
    assert len(bodies) == 24
    assert "weekend@example.com" not in people and "out@example.com" not in people
    assert {b["reason"] for b in bodies if b["person"] == "gone@example.com"} == {"opt_out"}


def test_dispatch_reads_the_day_from_the_scheduled_time_not_the_wall_clock(
    aws: dict[str, Any],
) -> None:
    """The same people on a Saturday: only the weekend worker and the leaving person. The
    wall clock plays no part, so this holds on any day the suite runs."""
    from micromoments.handlers import dispatch as handler_module

    _dispatch_population(aws["store"])
    event = {"kind": "dispatch", "scheduled_time": SATURDAY_10_BERLIN}
    result = handler_module.handler(event, Context())  # type: ignore[arg-type]
    assert result == {"people_seen": 25, "enqueued": 2, "batches": 1}
    people = {b["person"] for b in drain(aws["sqs"], aws["url"])}
    assert people == {"weekend@example.com", "gone@example.com"}


WEDNESDAY_03_BERLIN = "2026-12-02T02:00:00Z"
WEDNESDAY_09_BERLIN = "2026-12-02T08:00:00Z"


def test_dispatch_at_night_sends_only_the_leaving(aws: dict[str, Any]) -> None:
    """03:00 in Berlin on a workday: no polling at night, only the opt-out still to finish."""
    from micromoments.handlers import dispatch as handler_module

    _dispatch_population(aws["store"])
    event = {"kind": "dispatch", "scheduled_time": WEDNESDAY_03_BERLIN}
    result = handler_module.handler(event, Context())  # type: ignore[arg-type]
    assert result == {"people_seen": 25, "enqueued": 1, "batches": 1}
    assert [b["person"] for b in drain(aws["sqs"], aws["url"])] == ["gone@example.com"]


def test_dispatch_sends_the_daily_safety_scan_in_the_persons_morning(
    aws: dict[str, Any],
) -> None:
    """09:00 in Berlin, when the org's working day starts: everyone working that day gets
    their safety scan; someone whose day starts at 11:00 gets theirs then."""
    from micromoments.handlers import dispatch as handler_module

    store: TableStore = aws["store"]
    _dispatch_population(store)
    late = Preferences.from_item({"working_hours": "Mon-Fri 11:00-19:00"})
    store.create_person(Person(email="late@example.com", preferences=late))
    event = {"kind": "dispatch", "scheduled_time": WEDNESDAY_09_BERLIN}
    handler_module.handler(event, Context())  # type: ignore[arg-type]
    reasons = {b["person"]: b["reason"] for b in drain(aws["sqs"], aws["url"])}
    assert reasons == {**{f"p{i:02d}@example.com": "safety" for i in range(23)},
                       "gone@example.com": "opt_out"}  # fmt: skip
    eleven = {"kind": "dispatch", "scheduled_time": "2026-12-02T10:00:00Z"}
    handler_module.handler(eleven, Context())  # type: ignore[arg-type]
    reasons = {b["person"]: b["reason"] for b in drain(aws["sqs"], aws["url"])}
    assert reasons["late@example.com"] == "safety"


class PoisonedCalendar(MemoryCalendar):
    """Fails every call for one person, as a broken account would."""

    def __init__(self, poisoned: str) -> None:
        super().__init__()
        self.poisoned = poisoned

    def sync(self, email: str, token: str | None, *, full_from: datetime) -> Any:
        if email == self.poisoned:
            raise CalendarError("HTTP 500 after 6 attempts")
        return super().sync(email, token, full_from=full_from)


def record(body: str, message_id: str | None = None) -> dict[str, Any]:
    return {
        "messageId": message_id or uuid.uuid4().hex,
        "receiptHandle": "rh",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:scan",
        "awsRegion": "eu-west-1",
    }


@pytest.fixture
def worker(aws: dict[str, Any]) -> dict[str, Any]:
    from micromoments.handlers.scan import ScanDeps

    store: TableStore = aws["store"]
    calendar = PoisonedCalendar("bad@example.com")
    now = datetime.now(UTC)
    monday = (now + timedelta(days=7 - now.weekday())).date()  # next Monday
    for email in ("ana@example.com", "bad@example.com"):
        store.create_person(Person(email=email))
        calendar.add_calendar(email, "Europe/Berlin")
        for hour in (9, 10, 11, 13, 14, 15):
            start = datetime(monday.year, monday.month, monday.day, hour, tzinfo=BERLIN)
            calendar.put(email, MirrorEvent(f"m{hour}", start, start + timedelta(hours=1),
                                            EventKind.MEETING))  # fmt: skip
    settings = store.get_settings()
    assert settings is not None
    store.put_settings(settings.updated({"planning_weeks": "2"}))
    return {"store": store, "calendar": calendar, "deps": ScanDeps(store, calendar)}


def ours(calendar: MemoryCalendar, email: str) -> list[MirrorEvent]:
    return [e for e in calendar.events(email) if e.hold_id and not e.cancelled]


def test_a_poisoned_message_alone_returns_to_the_queue(worker: dict[str, Any]) -> None:
    from micromoments.handlers import scan

    good = record(json.dumps({"person": "ana@example.com", "reason": "hourly"}))
    bad = record(json.dumps({"person": "bad@example.com", "reason": "hourly"}))
    malformed = record("{not json")
    stranger = record(json.dumps({"person": "never@example.com", "reason": "hourly"}))
    response = scan.handler(
        {"Records": [good, bad, malformed, stranger]}, Context(), deps=worker["deps"]
    )  # type: ignore[arg-type]
    assert response == {"batchItemFailures": [{"itemIdentifier": bad["messageId"]}]}
    assert ours(worker["calendar"], "ana@example.com")
    assert worker["calendar"].counters.by_method.get("events.list", 0) == 1  # no call for strangers


def test_the_same_message_twice_and_two_workers_place_one_hold(worker: dict[str, Any]) -> None:
    import threading

    from micromoments.handlers import scan

    body = json.dumps({"person": "ana@example.com", "reason": "hourly"})
    scan.handler({"Records": [record(body), record(body)]}, Context(), deps=worker["deps"])  # type: ignore[arg-type]
    first = sorted(e.id for e in ours(worker["calendar"], "ana@example.com"))
    assert first
    threads = [
        threading.Thread(
            target=scan.scan_batch, args=({"Records": [record(body)]}, None, worker["deps"])
        )
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    scan.handler({"Records": [record(body)]}, Context(), deps=worker["deps"])  # type: ignore[arg-type]
    assert sorted(e.id for e in ours(worker["calendar"], "ana@example.com")) == first
    inserts = [e for e in worker["calendar"].write_log if e[0] == "insert"]
    assert len(inserts) == len(first)


@pytest.mark.parametrize(
    "body",
    ["", "[]", "null", '{"person": 3}', '{"person": "not-an-address"}',
     '{"person": "a@example.com", "reason": "because"}', '{"person": "a@example.com", "x": 1}'],
)  # fmt: skip
def test_malformed_messages_are_rejected_and_not_retried(worker: dict[str, Any], body: str) -> None:
    from micromoments.handlers import scan

    response = scan.handler({"Records": [record(body)]}, Context(), deps=worker["deps"])  # type: ignore[arg-type]
    assert response == {"batchItemFailures": []}
    assert worker["calendar"].counters.requests == 0


@pytest.mark.parametrize("module", ["dispatch", "web"])
def test_handlers_that_never_talk_to_google_do_not_import_its_client(module: str) -> None:
    code = (
        f"import sys, micromoments.handlers.{module}; "
        "bad = [m for m in sys.modules if m.startswith(('googleapiclient', 'google.auth', "
        "'google.oauth2', 'httplib2'))]; "
        "sys.exit(', '.join(bad) or None)"
    )
    env = {"POWERTOOLS_TRACE_DISABLED": "1", "AWS_DEFAULT_REGION": "eu-west-1"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env
    )
    assert done.returncode == 0, done.stderr or done.stdout


def test_web_health_route(aws: dict[str, Any]) -> None:
    from micromoments.handlers import web

    event = {
        "version": "2.0", "routeKey": "GET /health", "rawPath": "/health", "rawQueryString": "",
        "headers": {}, "requestContext": {"http": {"method": "GET", "path": "/health",
        "sourceIp": "127.0.0.1"}, "stage": "$default"}, "isBase64Encoded": False,
    }  # fmt: skip
    response = web.handler(event, Context())  # type: ignore[arg-type]
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["status"] == "ok"


def test_misconfigured_delegation_fails_the_whole_batch(
    worker: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from micromoments.handlers import scan
    from micromoments.ports import DelegationMisconfigured

    def refuse(email: str, token: str | None, *, full_from: datetime) -> Any:
        raise DelegationMisconfigured("unauthorized_client")

    monkeypatch.setattr(worker["calendar"], "sync", refuse)
    body = json.dumps({"person": "ana@example.com", "reason": "hourly"})
    with pytest.raises(DelegationMisconfigured):
        scan.handler({"Records": [record(body)]}, Context(), deps=worker["deps"])  # type: ignore[arg-type]
    person = worker["store"].get_person("ana@example.com")
    assert person is not None and person.status is PersonStatus.ACTIVE  # nobody marked


def test_pair_handler_pairs_the_scheduled_week_and_a_retry_changes_nothing(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from micromoments.adapters.secrets import ensure_master_key
    from micromoments.handlers import pair

    store: TableStore = aws["store"]
    ensure_master_key("micromoments/signing")
    monkeypatch.setenv("MICROMOMENTS_SIGNING_KEY_SECRET", "micromoments/signing")
    config.cache_clear()
    calendar = MemoryCalendar()
    people = [f"p{i}@example.com" for i in range(5)]
    for email in people:
        store.create_person(Person(email=email, team="core"))
        calendar.add_calendar(email, "Europe/Berlin")
    deps = pair.PairDeps(store, calendar, wiring.scan_queue(), wiring.signing_key())
    event = {"kind": "pair", "scheduled_time": "2026-11-26T12:00:00Z"}

    first = pair.handler(event, Context(), deps=deps)  # type: ignore[arg-type]
    assert first["iso_week"] == "2026-W49" and not first["continued"]
    assert (first["pairs"], first["trios"], first["watercoolers"]) == (1, 1, 1)
    queued = drain(aws["sqs"], aws["url"])
    assert {b["reason"] for b in queued} == {"pairing"} and len(queued) == first[
        "organisers_queued"
    ]

    retry = pair.handler(event, Context(), deps=deps)  # type: ignore[arg-type]
    assert retry["continued"] and retry["planned"] == 0
    assert (retry["pairs"], retry["trios"]) == (1, 1)
    # what the handler returns is what it logs: counts only, nobody's address or partner
    assert "@" not in json.dumps([first, retry])


def test_pair_handler_without_a_signing_key_fails_loudly(aws: dict[str, Any]) -> None:
    from micromoments.config import ConfigError
    from micromoments.handlers import pair

    with pytest.raises(ConfigError, match="SIGNING_KEY_SECRET"):
        pair.handler({"kind": "pair"}, Context())  # type: ignore[arg-type]
