"""Traces carry no secrets: with tracing on, nothing any handler hands the tracer (metadata,
annotations, exceptions) holds a session id, a sign-in token or an address.

The tracer's provider is swapped for one that records every call, as X-Ray would receive
it: powertools' own ``put_metadata``/``put_annotation``/``add_exception`` on the handler's
subsegment, and the exception that leaves the subsegment (X-Ray records its message). Each
handler runs on fakes: the web sign-in flow (a sign-in token mailed, a session cookie set),
the scan worker, the digest dispatch and send, the pairing and the scan dispatch.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from micromoments.adapters.mail import MemoryMailer
from micromoments.adapters.memory import MemoryTable
from micromoments.adapters.memory_calendar import MemoryCalendar
from micromoments.adapters.table import TableStore
from micromoments.config import config
from micromoments.domain.day_load import DayLoad
from micromoments.domain.digest_request import DigestRequest
from micromoments.domain.people import Person
from micromoments.domain.settings import OrgSettings
from micromoments.observability import tracer
from micromoments.ports import CalendarError
from micromoments.web.dependencies import Services

KEY = b"t" * 32
ANA = "ana@example.com"
PEOPLE = [ANA, "ben@example.com", "cem@example.com", "dora@example.com"]
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # a Wednesday
MONDAY = date(2026, 11, 23)
ADDRESS = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


class Context:
    function_name = "trace-test"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:trace-test"
    aws_request_id = "req-1"


# -- a provider that records what X-Ray would be sent ------------------------------------------


@dataclass
class Recorded:
    entries: list[str] = field(default_factory=list)

    def add(self, kind: str, *parts: Any) -> None:
        self.entries.append(kind + ": " + " | ".join(_text(p) for p in parts))

    def text(self) -> str:
        return "\n".join(self.entries)


def _text(value: Any) -> str:
    """Everything a trace could hold of ``value``: its JSON form and its repr."""
    if isinstance(value, BaseException):
        return f"{type(value).__name__}: {value} {value!r}"
    try:
        return json.dumps(value, default=repr) + " " + repr(value)
    except (TypeError, ValueError):
        return repr(value)


class RecordingSegment(BaseSegment):
    def __init__(self, name: str, recorded: Recorded) -> None:
        self.name, self.recorded = name, recorded

    def close(self, end_time: int | None = None) -> None:
        pass

    def add_subsegment(self, subsegment: Any) -> None:
        pass

    def remove_subsegment(self, subsegment: Any) -> None:
        pass

    def put_annotation(self, key: str, value: Any) -> None:
        self.recorded.add("annotation", key, value)

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self.recorded.add("metadata", namespace, key, value)

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        self.recorded.add("exception", exception)


class RecordingProvider(BaseProvider):
    def __init__(self) -> None:
        self.recorded = Recorded()

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Generator[BaseSegment]:
        segment = RecordingSegment(name or "", self.recorded)
        try:
            yield segment
        except BaseException as exc:  # X-Ray's subsegment records what leaves it
            segment.add_exception(exc, [])
            raise

    def in_subsegment_async(self, name: str | None = None, **kwargs: Any) -> Any:
        raise NotImplementedError

    def put_annotation(self, key: str, value: Any) -> None:
        self.recorded.add("annotation", key, value)

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self.recorded.add("metadata", namespace, key, value)

    def patch(self, modules: Any) -> None:
        pass

    def patch_all(self) -> None:
        pass


# -- the world the handlers run in -------------------------------------------------------------


@dataclass
class ListQueue:
    sent: list[Any] = field(default_factory=list)

    def send(self, requests: list[Any]) -> None:
        self.sent.extend(requests)


class FailingCalendar(MemoryCalendar):
    """Every sync fails with the person's address in the message (as Google's errors can)."""

    def sync(self, email: str, token: str | None, *, full_from: datetime) -> Any:
        raise CalendarError(f"sync for {email} failed: HTTP 500")


@dataclass
class World:
    store: TableStore
    mailer: MemoryMailer
    calendar: MemoryCalendar
    scan_queue: ListQueue
    digest_queue: ListQueue
    provider: RecordingProvider
    secrets: set[str] = field(default_factory=set)  # session ids and sign-in tokens seen

    def captured(self) -> str:
        return self.provider.recorded.text()

    def site(self) -> Services:
        """What the web function works with here: these fakes, passed to its handler."""
        return Services(self.store, self.mailer, self.scan_queue, KEY, "https://mm.example.com",
                        "mm@example.com", lambda: NOW)  # fmt: skip


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv("MICROMOMENTS_PUBLIC_BASE_URL", "https://mm.example.com")
    monkeypatch.setenv("MICROMOMENTS_SENDER_ADDRESS", "mm@example.com")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "micromoments")
    config.cache_clear()
    store = TableStore(MemoryTable())
    store.create_settings(
        OrgSettings(timezone="Europe/Berlin", allowed_domains=("example.com",), coffee_pool="org")
    )
    calendar = MemoryCalendar()
    for email in PEOPLE[1:]:
        store.create_person(Person(email=email, team="core", timezone="Europe/Berlin"))
        calendar.add_calendar(email, "Europe/Berlin")
        store.put_day_loads(
            email,
            [
                DayLoad(MONDAY + timedelta(days=d), True, 150, 0, 0, 0, 120, False, ())
                for d in range(5)
            ],
        )
    calendar.add_calendar(ANA, "Europe/Berlin")
    mailer, scan_queue, digest_queue = MemoryMailer(), ListQueue(), ListQueue()
    provider = RecordingProvider()
    monkeypatch.setattr(tracer, "provider", provider)
    yield World(store, mailer, calendar, scan_queue, digest_queue, provider)
    config.cache_clear()


def assert_nothing_secret(world: World) -> None:
    captured = world.captured()
    assert captured, "the recording provider saw no handler at all"
    for secret in world.secrets:
        assert secret not in captured, "a session id or sign-in token reached the trace"
    assert ADDRESS.findall(captured) == [], "an address reached the trace"


def sqs_record(body: str) -> dict[str, Any]:
    return {
        "messageId": uuid.uuid4().hex,
        "receiptHandle": "rh",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:q",
        "awsRegion": "eu-west-1",
    }


# -- the web sign-in flow ------------------------------------------------------------------------


class Browser:
    def __init__(self, world: World) -> None:
        self.world = world
        self.cookies: dict[str, str] = {}

    def request(self, method: str, target: str, form: dict[str, str] | None = None) -> Any:
        from micromoments.handlers import web
        from micromoments.local.web_bridge import call

        parts = urlsplit(target)
        headers = [("host", "localhost")]
        if self.cookies:
            headers.append(("cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items())))
        body = b""
        if form is not None:
            headers.append(("content-type", "application/x-www-form-urlencoded"))
            body = urlencode(form).encode()
        site = partial(web.handler, deps=self.world.site())
        response = call(site, method, parts.path, query=parts.query, headers=headers,
                        body=body)  # fmt: skip
        for cookie in response.set_cookies:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if value:
                self.cookies[name] = value
                self.world.secrets.add(value)
        return response


def _csrf(text: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', text)
    assert found is not None
    return found.group(1)


def test_the_web_sign_in_flow_leaves_no_token_cookie_or_address_in_traces(world: World) -> None:
    browser = Browser(world)
    home = browser.request("GET", "/")
    browser.request("POST", "/login", {"csrf": _csrf(home.text), "email": ANA})
    message = world.mailer.latest(ANA)
    assert message is not None
    body = message.get_body(("plain",))
    assert body is not None
    link = re.search(r"https?://\S+/auth\?token=\S+", body.get_content())
    assert link is not None
    token = parse_qs(urlsplit(link.group(0)).query)["token"][0]
    world.secrets.add(token)
    page = browser.request("GET", f"/auth?token={token}")  # the page carries the token
    assert token in page.text
    signed_in = browser.request("POST", "/auth", {"csrf": _csrf(page.text), "token": token})
    assert signed_in.status == 303
    preferences = browser.request("GET", "/preferences")  # the page names the person
    assert preferences.status == 200 and ANA in preferences.text
    assert any(len(s) > 20 for s in world.secrets - {token})  # a session id was set

    assert_nothing_secret(world)


def test_the_scan_worker_leaves_no_address_in_traces_even_when_every_scan_fails(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from micromoments.domain.scan_request import ScanReason, ScanRequest
    from micromoments.handlers import scan

    failing = FailingCalendar()
    event = {
        "Records": [
            sqs_record(ScanRequest(email, ScanReason.HOURLY).to_body()) for email in PEOPLE[1:]
        ]
    }
    with pytest.raises(BatchProcessingError):  # every record failed: the batch fails
        scan.handler(event, Context(), deps=scan.ScanDeps(world.store, failing, KEY))  # type: ignore[arg-type]
    assert "exception" in world.captured()

    assert_nothing_secret(world)


def test_the_digest_dispatch_and_send_leave_no_address_in_traces(world: World) -> None:
    from micromoments.handlers import digest

    digest.dispatch_handler(
        {"scheduled_time": "2026-11-27T14:00:00Z"},
        Context(),  # type: ignore[arg-type]
        deps=digest.DispatchDeps(world.store, world.digest_queue),
    )
    assert world.digest_queue.sent  # Friday 15:00 in Berlin: their digests are due
    requests = [DigestRequest(email, "2026-W48") for email in PEOPLE[1:]]
    world.mailer.fail_next = f"SES refused the message to {PEOPLE[1]}"
    event = {"Records": [sqs_record(r.to_body()) for r in requests]}
    deps = digest.SendDeps(world.store, world.mailer, KEY, "https://mm.example.com",
                           "mm@example.com")  # fmt: skip
    result = digest.send_handler(event, Context(), deps=deps)  # type: ignore[arg-type]
    assert result["batchItemFailures"]  # the refused one goes back to the queue
    assert world.mailer.sent  # and the others were sent

    assert_nothing_secret(world)


def test_the_pairing_and_the_scan_dispatch_leave_no_address_in_traces(world: World) -> None:
    from micromoments.handlers import dispatch, pair

    pairing = pair.PairDeps(world.store, world.calendar, world.scan_queue, KEY)
    paired = pair.handler({"scheduled_time": "2026-11-26T12:00:00Z"}, Context(), deps=pairing)  # type: ignore[arg-type]
    assert paired["pairs"] + paired["trios"] >= 1
    dispatching = dispatch.DispatchDeps(world.store, world.scan_queue)
    dispatch.handler({"scheduled_time": "2026-12-02T09:00:00Z"}, Context(), deps=dispatching)  # type: ignore[arg-type]
    assert world.scan_queue.sent

    assert_nothing_secret(world)


def test_every_handler_keeps_responses_and_errors_out_of_traces() -> None:
    """A handler added later cannot forget it: every traced entry point says so."""
    from pathlib import Path

    import micromoments.handlers

    folder = Path(micromoments.handlers.__file__).parent
    for module in sorted(folder.glob("*.py")):
        for line in module.read_text().splitlines():
            decorator = line.strip()
            if decorator.startswith(("@tracer.capture_lambda_handler", "@tracer.capture_method")):
                assert "capture_response=False" in line and "capture_error=False" in line, (
                    f"{module.name}: {line.strip()}"
                )


def test_a_revoked_grant_and_its_reconnect_email_leave_no_address_in_traces(
    world: World,
) -> None:
    from micromoments.domain.scan_request import ScanReason, ScanRequest
    from micromoments.handlers import scan

    asked: list[str] = []
    for email in PEOPLE[1:]:
        world.calendar.revoked_grants.add(email)
    event = {
        "Records": [
            sqs_record(ScanRequest(email, ScanReason.HOURLY).to_body()) for email in PEOPLE[1:]
        ]
    }
    deps = scan.ScanDeps(world.store, world.calendar, KEY, reconnect=asked.append)
    scan.handler(event, Context(), deps=deps)  # type: ignore[arg-type]
    assert sorted(asked) == sorted(PEOPLE[1:])  # each became needs_reconnect, once

    assert_nothing_secret(world)
