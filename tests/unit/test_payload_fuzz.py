"""Bad input to the queue consumers and the scheduled functions, driven by hypothesis.

The scan worker and the digest sender take SQS batches whose bodies may be anything
(anyone allowed to send to the queue can put anything there); the dispatch, pairing and
digest-dispatch functions take Scheduler events. Whatever arrives: no unhandled exception;
a malformed message is logged and dropped (never a batch item failure, so it is not
retried into the dead-letter queue); a well-formed message naming someone who never
opted in, or who left, makes no Google call and writes nothing. Everything runs on fakes:
the in-memory Store, `MemoryCalendar`, a mailer and queues that keep what they get.

The last test covers what tests/unit/test_web.py's arbitrary requests rarely draw: our
own cookie names and token shapes carrying forged, truncated or tampered values.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from micromoments.adapters.mail import MemoryMailer
from micromoments.adapters.memory import MemoryTable
from micromoments.adapters.memory_calendar import MemoryCalendar
from micromoments.adapters.table import TableStore
from micromoments.config import config
from micromoments.domain.access import pseudonym_key
from micromoments.domain.calendar import EventKind
from micromoments.domain.digest_request import DigestRequest, MalformedDigestRequest
from micromoments.domain.links import LinkPurpose, link_token
from micromoments.domain.mirror import MirrorEvent
from micromoments.domain.people import Person, PersonStatus, pseudonym
from micromoments.domain.scan_request import MalformedMessage, ScanReason, ScanRequest
from micromoments.domain.settings import OrgSettings
from micromoments.ports import CalendarWrite, SyncResult, WriteResult

KEY = b"p" * 32
ANA = "ana@example.com"  # active
BEN = "ben@example.com"  # active
LEO = "leo@example.com"  # leaving: reads and deletes of our events only
OLGA = "olga@example.com"  # opted out
SAM = "sam@example.com"  # suspended
NEVER = "never@example.com"  # never opted in: no person at all
STATUS = {ANA: PersonStatus.ACTIVE, BEN: PersonStatus.ACTIVE, LEO: PersonStatus.LEAVING,
          OLGA: PersonStatus.OPTED_OUT, SAM: PersonStatus.SUSPENDED}  # fmt: skip
OPTED_IN = frozenset({ANA, BEN, LEO})
FUZZ = settings(
    max_examples=100,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class Context:
    function_name = "fuzz"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:fuzz"
    aws_request_id = "req-fuzz"


class RecordingCalendar(MemoryCalendar):
    """MemoryCalendar that remembers whose calendar every call was for."""

    def __init__(self) -> None:
        super().__init__()
        self.subjects: list[str] = []

    def sync(self, email: str, token: str | None, *, full_from: datetime) -> SyncResult:
        self.subjects.append(email)
        return super().sync(email, token, full_from=full_from)

    def timezone(self, email: str) -> str:
        self.subjects.append(email)
        return super().timezone(email)

    def get_event(self, email: str, event_id: str) -> MirrorEvent | None:
        self.subjects.append(email)
        return super().get_event(email, event_id)

    def write(self, email: str, writes: Sequence[CalendarWrite]) -> list[WriteResult]:
        self.subjects.append(email)
        return super().write(email, writes)

    def free_busy(
        self, emails: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, list[tuple[datetime, datetime]] | None]:
        self.subjects.extend(emails)
        return super().free_busy(emails, start, end)


@dataclass
class ListQueue:
    sent: list[Any] = field(default_factory=list)

    def send(self, requests: list[Any]) -> None:
        assert len(requests) <= 10
        self.sent.extend(requests)


@dataclass
class World:
    table: MemoryTable
    store: TableStore
    calendar: RecordingCalendar
    mailer: MemoryMailer
    scan_queue: ListQueue
    digest_queue: ListQueue

    def snapshot(self) -> dict[tuple[str, str], Any]:
        return {(item["pk"], item["sk"]): item for item in self.table.items()}

    def changed_partitions(self, before: dict[tuple[str, str], Any]) -> set[str]:
        after = self.snapshot()
        return {key[0] for key in set(before) | set(after) if before.get(key) != after.get(key)}

    def deps(self, function: str) -> Any:
        """What each function works with here: these fakes, passed to its handler."""
        from micromoments.handlers import digest, dispatch, pair, scan

        return {
            "scan": lambda: scan.ScanDeps(self.store, self.calendar, KEY),
            "send": lambda: digest.SendDeps(self.store, self.mailer, KEY, "https://mm.example.com",
                                            "mm@example.com"),
            "dispatch": lambda: dispatch.DispatchDeps(self.store, self.scan_queue),
            "pair": lambda: pair.PairDeps(self.store, self.calendar, self.scan_queue, KEY),
            "digest": lambda: digest.DispatchDeps(self.store, self.digest_queue),
        }[function]()  # fmt: skip

    def reset(self) -> None:
        self.calendar.subjects.clear()
        self.mailer.sent.clear()
        self.scan_queue.sent.clear()
        self.digest_queue.sent.clear()


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "1")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "micromoments")
    monkeypatch.setenv("MICROMOMENTS_PUBLIC_BASE_URL", "https://mm.example.com")
    monkeypatch.setenv("MICROMOMENTS_SENDER_ADDRESS", "mm@example.com")
    config.cache_clear()
    table = MemoryTable()
    store = TableStore(table)
    store.create_settings(OrgSettings(timezone="Europe/Berlin", allowed_domains=("example.com",)))
    calendar = RecordingCalendar()
    monday = datetime(2026, 11, 23, 8, tzinfo=UTC)
    for email, status in STATUS.items():
        store.create_person(Person(email=email, status=status, team="core"))
        calendar.add_calendar(email, "Europe/Berlin")
        for day in range(5):
            for hour in (0, 1, 2, 4, 5):
                start = monday + timedelta(days=day, hours=hour)
                end = start + timedelta(hours=1)
                calendar.put(email, MirrorEvent(f"m{day}{hour}", start, end, EventKind.MEETING))
    yield World(table, store, calendar, MemoryMailer(), ListQueue(), ListQueue())
    config.cache_clear()


# -- strategies ------------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                max_size=4),
    max_leaves=12,
)  # fmt: skip
ADDRESSES = st.sampled_from([*STATUS, NEVER, "ANA@EXAMPLE.COM", " mailto:ana@example.com ",
                             "olga@EXAMPLE.com", "nobody@elsewhere.example"])  # fmt: skip
PERSON = st.one_of(ADDRESSES, ADDRESSES, st.emails(), st.text(max_size=40), JSON)
WEEK = st.one_of(
    st.sampled_from(["2026-W48", "2026-W49", "2026-W53", "2020-W53", "0001-W01", "9999-W52",
                     "2026-W00", "2026-w48", " 2026-W48", "2026-W48\n"]),
    st.from_regex(r"\A[0-9]{4}-W[0-9]{2}\Z"),
    st.text(max_size=12),
    JSON,
)  # fmt: skip
REASON = st.one_of(st.sampled_from(["hourly", "opt_in", "opt_out", "pairing", "HOURLY", ""]), JSON)
HUGE_BODIES = {
    "nested deeper than the JSON decoder's recursion limit": lambda: "[" * 100_000,
    "nested objects": lambda: '{"person": ' * 5_000 + "1" + "}" * 5_000,
    "a 250 kB address": lambda: json.dumps({"person": "a" * 250_000 + "@example.com"}),
    "a 250 kB extra field": lambda: json.dumps({"person": ANA, "x": "y" * 250_000}),
    "NUL bytes": lambda: "\x00" * 1000,
    "a lone surrogate": lambda: "\ud800",
}
HUGE = st.sampled_from(sorted(HUGE_BODIES)).map(lambda name: HUGE_BODIES[name]())


def _object(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[str]:
    return st.fixed_dictionaries({}, optional=fields).map(json.dumps)


SCAN_BODY = st.one_of(
    _object(person=PERSON, reason=REASON),
    _object(person=PERSON, reason=REASON, extra=JSON),
    st.builds(lambda p, r: ScanRequest(p, r).to_body(), ADDRESSES, st.sampled_from(ScanReason)),
    JSON.map(json.dumps),
    st.text(max_size=200),
    HUGE,
)  # fmt: skip
DIGEST_BODY = st.one_of(
    _object(person=PERSON, week=WEEK),
    _object(person=PERSON, week=WEEK, extra=JSON),
    st.builds(lambda p, w: json.dumps({"person": p, "week": w}), ADDRESSES,
              st.sampled_from(["2026-W48", "2026-W49"])),
    JSON.map(json.dumps),
    st.text(max_size=200),
    HUGE,
)  # fmt: skip
MESSAGE_IDS = st.one_of(st.uuids().map(str), st.text(min_size=1, max_size=20))


def sqs_record(body: Any, message_id: str, extras: dict[str, Any]) -> dict[str, Any]:
    """An SQS record as Lambda delivers it; ``extras`` fuzz the parts we never read."""
    return {
        "messageId": message_id,
        "receiptHandle": uuid.uuid4().hex,
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795650329000"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:scan",
        "awsRegion": "eu-west-1",
        **extras,
    }


RECORD_EXTRAS = st.fixed_dictionaries(
    {},
    optional={
        "attributes": st.dictionaries(st.text(max_size=20), st.text(max_size=20), max_size=3),
        "messageAttributes": st.dictionaries(st.text(max_size=10), JSON, max_size=3),
        "md5OfBody": st.text(max_size=40),
    },
)


def batch(bodies: st.SearchStrategy[Any]) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Up to ten records; message ids are unique in a batch, as SQS makes them (the same
    body twice is two messages: tests/integration/test_handlers.py covers it)."""
    return st.lists(
        st.builds(sqs_record, bodies, MESSAGE_IDS, RECORD_EXTRAS),
        min_size=1,
        max_size=10,
        unique_by=lambda record: record["messageId"],
    )


def parsed(body: Any, parse: Any, malformed: type[Exception] | tuple[type[Exception], ...]) -> Any:
    """What a body means (None when it is malformed), as the worker must read it."""
    try:
        return parse(body)
    except malformed:
        return None


def failures(response: dict[str, Any]) -> list[str]:
    assert set(response) == {"batchItemFailures"}, response
    return [item["itemIdentifier"] for item in response["batchItemFailures"]]


def allowed(partitions: set[str], people: set[str]) -> bool:
    """Only the partitions of those people (and the alias items a digest writes, the push
    channel items a scan writes: both pointed to from the person's partition)."""
    return all(
        p in {f"PERSON#{e}" for e in people} or p.startswith(("ALIAS#", "CHANNEL#"))
        for p in partitions
    )


# -- the scan worker -------------------------------------------------------------------------


@FUZZ
@given(records=batch(SCAN_BODY))
def test_the_scan_worker_survives_any_batch_and_calls_google_only_for_opted_in_people(
    world: World, records: list[dict[str, Any]]
) -> None:
    from micromoments.handlers import scan

    world.reset()
    before = world.snapshot()
    response = scan.handler({"Records": records}, Context(), deps=world.deps("scan"))  # type: ignore[arg-type]
    failed = failures(response)
    requests = {r["messageId"]: parsed(r["body"], ScanRequest.from_body, MalformedMessage)
                for r in records}  # fmt: skip
    named = {r.person for r in requests.values() if r is not None}
    # a malformed message is dropped, never retried; nobody here fails for real
    assert failed == [], failed
    assert set(world.calendar.subjects) <= named & OPTED_IN, "no Google call for the others"
    assert allowed(world.changed_partitions(before), named & OPTED_IN), "nothing half-written"
    for email in named - OPTED_IN:
        person = world.store.get_person(email)
        assert (person.status if person else None) == STATUS.get(email)


def test_a_message_deeper_than_the_json_decoder_is_malformed_not_a_crash() -> None:
    for body in ("[" * 100_000, '{"person": ' * 5_000 + "1" + "}" * 5_000):
        with pytest.raises(MalformedMessage):
            ScanRequest.from_body(body)


def test_one_poisonous_body_does_not_fail_the_rest_of_its_batch(world: World) -> None:
    """Before the fix, a body nested deeper than the JSON decoder's recursion limit raised
    RecursionError out of the handler: the whole batch of ten went back to the queue,
    again and again, into the dead-letter queue."""
    from micromoments.handlers import scan

    good = sqs_record(ScanRequest(ANA).to_body(), "good", {})
    poison = sqs_record("[" * 100_000, "poison", {})
    response = scan.handler({"Records": [good, poison]}, Context(), deps=world.deps("scan"))  # type: ignore[arg-type]
    assert failures(response) == []
    assert world.calendar.subjects and set(world.calendar.subjects) == {ANA}


# -- the digest sender -----------------------------------------------------------------------


@FUZZ
@given(records=batch(DIGEST_BODY))
def test_the_digest_sender_survives_any_batch_and_mails_only_opted_in_people(
    world: World, records: list[dict[str, Any]]
) -> None:
    from micromoments.handlers import digest

    world.reset()
    before = world.snapshot()
    response = digest.send_handler({"Records": records}, Context(), deps=world.deps("send"))  # type: ignore[arg-type]
    failed = set(failures(response))
    # (DigestRequest.from_body lets a RecursionError through: the handler drops it too)
    unreadable = (MalformedDigestRequest, RecursionError)
    requests = {r["messageId"]: parsed(r["body"], DigestRequest.from_body, unreadable)
                for r in records}  # fmt: skip
    named = {r.person for r in requests.values() if r is not None}
    assert not failed & {mid for mid, r in requests.items() if r is None}, "malformed: dropped"
    assert world.calendar.subjects == [], "the digest never talks to Google"
    recipients = {str(m["To"]) for m in world.mailer.sent}
    assert recipients <= named & {ANA, BEN}, "mail only to active people"
    assert allowed(world.changed_partitions(before), named & {ANA, BEN}), "nothing half-written"


def test_a_digest_message_deeper_than_the_json_decoder_is_dropped(world: World) -> None:
    from micromoments.handlers import digest

    poison = sqs_record("[" * 100_000, "poison", {})
    response = digest.send_handler({"Records": [poison]}, Context(), deps=world.deps("send"))  # type: ignore[arg-type]
    assert failures(response) == []


# -- scheduled functions ---------------------------------------------------------------------

SCHEDULED_TIME = st.one_of(
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)).map(
        lambda d: d.isoformat() + "Z"
    ),
    st.sampled_from(["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00",
                     "9999-12-31T00:00:00Z", "0001-01-01T00:00:00Z", "2026-11-26T12:00:00",
                     "<aws.scheduler.scheduled-time>", "", "now"]),
    st.text(max_size=40),
    JSON,
)  # fmt: skip
SCHEDULER_EVENT = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={"kind": st.one_of(st.sampled_from(["dispatch", "pair", "digest"]), JSON),
                  "scheduled_time": SCHEDULED_TIME, "extra": JSON},
    ),
    JSON,
)  # fmt: skip


@FUZZ
@given(event=SCHEDULER_EVENT, which=st.sampled_from(["dispatch", "pair", "digest"]))
def test_scheduled_functions_take_any_event(world: World, event: Any, which: str) -> None:
    from micromoments.handlers import digest, dispatch, pair

    world.reset()
    before = world.snapshot()
    run = {"dispatch": dispatch.handler, "pair": pair.handler,
           "digest": digest.dispatch_handler}[which]  # fmt: skip
    result = run(event, Context(), deps=world.deps(which))  # type: ignore[arg-type]
    assert isinstance(result, dict)
    assert set(world.calendar.subjects) <= {ANA, BEN}, "Google is asked about active people only"
    assert {r.person for r in world.scan_queue.sent} <= OPTED_IN
    assert {r.person for r in world.digest_queue.sent} <= {ANA, BEN}
    changed = world.changed_partitions(before)
    if which == "pair":
        # the round and its history, the aliases and planned holds of active people only
        people = {f"PERSON#{e}" for e in (ANA, BEN)}
        assert all(p in people or p == "ORG" or p.startswith(("PAIRS#", "ALIAS#"))
                   for p in changed), changed  # fmt: skip
    else:
        assert changed == set(), "a dispatch writes nothing"


@pytest.mark.parametrize("which", ["pair", "digest"])
@pytest.mark.parametrize(
    "when", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "9999-12-31T00:00:00Z"]
)
def test_a_scheduled_time_at_the_edge_of_the_calendar_is_ignored(
    world: World, which: str, when: str
) -> None:
    """Before the fix these overflowed (OverflowError) out of the pair and digest-dispatch
    handlers; a time no schedule can have now falls back to the current time."""
    from micromoments.handlers import digest, pair

    run = {"pair": pair.handler, "digest": digest.dispatch_handler}[which]
    result = run({"kind": which, "scheduled_time": when}, Context(), deps=world.deps(which))  # type: ignore[arg-type]
    assert isinstance(result, dict)


# -- the web site: our cookie names and token shapes with forged values -----------------------


def _web_event(method: str, path: str, query: str, cookies: list[str], body: str,
               content_type: str) -> dict[str, Any]:  # fmt: skip
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "cookies": cookies,
        "headers": {"host": "mm.example.com", "content-type": content_type},
        "requestContext": {
            "http": {"method": method, "path": path, "sourceIp": "192.0.2.1"},
            "stage": "$default",
        },
        "body": body,
        "isBase64Encoded": False,
    }


ISSUED = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # a genuine link's issue time
TOKEN_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=120)


@st.composite
def forged_tokens(draw: st.DrawFn) -> str:
    """Tokens shaped like ours: the real unsubscribe token of an active person, tampered."""
    alias = pseudonym(pseudonym_key(KEY), ANA)
    real = link_token(KEY, LinkPurpose.UNSUBSCRIBE, alias, generation=0, issued=ISSUED)
    how = draw(st.sampled_from(["flip", "cut", "append", "alias-only", "swap", "random"]))
    if how == "flip":
        at = draw(st.integers(0, len(real) - 1))
        return real[:at] + ("0" if real[at] != "0" else "1") + real[at + 1 :]
    if how == "cut":
        return real[: draw(st.integers(0, len(real) - 1))]
    if how == "append":
        return real + draw(TOKEN_TEXT.filter(bool))
    if how == "alias-only":
        return alias + "."
    if how == "swap":
        return real.replace(alias, pseudonym(pseudonym_key(KEY), BEN))
    return draw(TOKEN_TEXT)


@FUZZ
@given(
    method=st.sampled_from(["GET", "POST"]),
    path=st.sampled_from(["/auth", "/unsubscribe", "/leave", "/preferences", "/optout",
                          "/delete-my-data", "/logout", "/login"]),
    token=forged_tokens(),
    session=st.one_of(TOKEN_TEXT, st.text(alphabet="0123456789abcdef", min_size=64,
                                          max_size=64)),
    browser=TOKEN_TEXT,
    csrf=st.one_of(TOKEN_TEXT, st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)),
    content_type=st.sampled_from(["application/x-www-form-urlencoded", "multipart/form-data",
                                  "application/json", "text/plain; charset=latin-1", ""]),
    repeat=st.booleans(),
)  # fmt: skip
def test_forged_cookies_and_tokens_never_500_and_change_nobody(
    monkeypatch: pytest.MonkeyPatch, method: str, path: str, token: str, session: str,
    browser: str, csrf: str, content_type: str, repeat: bool,
) -> None:  # fmt: skip
    from urllib.parse import quote, urlencode

    from micromoments.domain.access import BROWSER_COOKIE, SESSION_COOKIE
    from micromoments.handlers import web
    from micromoments.web.dependencies import Services

    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "1")
    store = TableStore(MemoryTable())
    store.create_settings(OrgSettings(timezone="Europe/Berlin", allowed_domains=("example.com",)))
    store.create_person(Person(email=ANA))
    store.create_person(Person(email=BEN))
    store.put_aliases({pseudonym(pseudonym_key(KEY), e): e for e in (ANA, BEN)})
    mailer, queue = MemoryMailer(), ListQueue()
    now = datetime(2026, 11, 25, 10, tzinfo=UTC)
    deps = Services(store, mailer, queue, KEY, "https://mm.example.com", "mm@example.com",
                    lambda: now)  # fmt: skip
    cookies = [f"{SESSION_COOKIE}={session}", f"{BROWSER_COOKIE}={browser}"]
    if repeat:
        cookies += [f"{SESSION_COOKIE}={token}", f"{BROWSER_COOKIE}="]
    body = urlencode({"csrf": csrf, "token": token, "email": ANA, "moments": "breather"})
    event = _web_event(method, path, f"token={quote(token, safe='')}", cookies, body,
                       content_type)  # fmt: skip
    answer = web.handler(event, Context(), deps=deps)  # type: ignore[arg-type]
    assert answer["statusCode"] < 500, (answer["statusCode"], str(answer.get("body"))[:300])
    for email in (ANA, BEN):
        person = store.get_person(email)
        assert person is not None and person.status is PersonStatus.ACTIVE
    assert queue.sent == [] and mailer.sent == []
