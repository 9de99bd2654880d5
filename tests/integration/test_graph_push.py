"""Push on Microsoft Graph on loopback: the gateway's subscriptions on the local Graph
server (validated against the receiver, delivered on every change of the mailbox, deleted),
and end to end: the scan opens a subscription, a change on the Graph server reaches the
notify handler (API Gateway-shaped events, as `local.web_bridge` builds them) and queues one
scan; forged notifications queue nothing."""

from __future__ import annotations

import http.server
import json
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from micromoments.adapters.graph_calendar import GraphCalendarGateway
from micromoments.adapters.graph_calendar.transport import Call
from micromoments.adapters.memory import MemoryTable
from micromoments.adapters.table import TableStore
from micromoments.domain.people import Person, PersonStatus
from micromoments.domain.scan_request import ScanReason, ScanRequest
from micromoments.domain.settings import CalendarProvider, OrgSettings
from micromoments.handlers.notify import NotifyDeps, run
from micromoments.local.graph_api import GraphServer
from micromoments.local.graph_api.subscriptions import object_id
from micromoments.local.web_bridge import from_result, to_event
from micromoments.ports import CalendarError, SubjectRefused

pytestmark = pytest.mark.integration

ADA = "ada@example.com"
GRACE = "grace@example.com"
WEEK = timedelta(days=7)
Answer = tuple[int, bytes]


class Receiver:
    """A loopback HTTP receiver: ``answer(method, path, query, body)`` gives each request's
    status and body; every request is kept."""

    def __init__(self, answer: Callable[[str, str, str, bytes], Answer]) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path, _, query = self.path.partition("?")
                receiver.requests.append((path, dict(urllib.parse.parse_qsl(query)), body))
                status, text = answer(self.command, path, query, body)
                self.send_response(status)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/calendar/notify"

    def notifications(self) -> list[dict[str, Any]]:
        return [
            item
            for path, query, body in self.requests
            if "validationToken" not in query
            for item in json.loads(body)["value"]
        ]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def echo(method: str, path: str, query: str, body: bytes) -> Answer:
    token = dict(urllib.parse.parse_qsl(query)).get("validationToken")
    return (200, token.encode()) if token is not None else (202, b"")


@pytest.fixture
def server() -> Iterator[GraphServer]:
    graph = GraphServer(seed=7).start()
    graph.add_mailbox(ADA, timezone="W. Europe Standard Time")
    graph.add_mailbox(GRACE, timezone="Eastern Standard Time")
    try:
        yield graph
    finally:
        graph.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    got = Receiver(echo)
    try:
        yield got
    finally:
        got.close()


def gateway_on(
    server: GraphServer, status_of: Callable[[str], PersonStatus | None]
) -> GraphCalendarGateway:
    transport = server.transport(sleep=lambda seconds: None)
    return GraphCalendarGateway(transport, status_of=status_of, ours=lambda email: set())


def active(email: str) -> PersonStatus:
    return PersonStatus.ACTIVE


def meeting(day: int, hour: int) -> dict[str, Any]:
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=day)
    start = start.replace(hour=hour)
    return {
        "subject": "Planning",
        "start": {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
        "end": {"dateTime": (start + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%S"),
                "timeZone": "UTC"},
    }  # fmt: skip


def test_watch_opens_a_validated_subscription_and_stop_deletes_it(
    server: GraphServer, receiver: Receiver
) -> None:
    gateway = gateway_on(server, active)
    before = datetime.now(UTC)
    channel = gateway.watch(ADA, "mm-proposed", "client-state", receiver.url, WEEK)
    assert server.subscriptions.live(ADA) == [channel.id] != ["mm-proposed"]
    assert server.subscriptions.validations == [(receiver.url, 200)]
    assert before + timedelta(days=6) < channel.expiration <= before + timedelta(minutes=10080)
    assert channel.resource_id == f"users/{ADA}/events"
    (shown,) = gateway._http.require(Call("GET", "subscriptions"), "list")["value"]
    assert (shown["id"], shown["clientState"], shown["notificationUrl"]) == (
        channel.id,
        "client-state",
        receiver.url,
    )
    assert shown["changeType"] == "created,deleted,updated"
    assert gateway.stop_channel(ADA, channel.id, channel.resource_id) is True
    assert server.subscriptions.live() == []
    assert gateway.stop_channel(ADA, channel.id, channel.resource_id) is False  # gone: 404
    assert gateway.counters.by_method["POST subscriptions"] == 1
    assert gateway.counters.by_method["DELETE subscriptions/{id}"] == 2


@pytest.mark.parametrize("answer", ["wrong echo", "not found", "unreachable"])
def test_a_notification_url_that_fails_validation_gets_no_subscription(
    server: GraphServer, answer: str
) -> None:
    def wrong(method: str, path: str, query: str, body: bytes) -> Answer:
        return (200, b"something else") if answer == "wrong echo" else (404, b"")

    bad = Receiver(wrong)
    url = bad.url
    if answer == "unreachable":
        bad.close()
    try:
        with pytest.raises(CalendarError, match=r"subscriptions for ada@example\.com: 400"):
            gateway_on(server, active).watch(ADA, "mm-1", "state", url, WEEK)
        assert server.subscriptions.live() == []
        assert len(server.subscriptions.validations) == 1
    finally:
        if answer != "unreachable":
            bad.close()


def test_only_an_active_person_gets_a_subscription(server: GraphServer, receiver: Receiver) -> None:
    gateway = gateway_on(server, lambda email: PersonStatus.LEAVING)
    with pytest.raises(SubjectRefused):
        gateway.watch(ADA, "mm-1", "state", receiver.url, WEEK)
    assert gateway.counters.requests == 0
    assert receiver.requests == []


def test_every_change_of_the_mailbox_is_notified_until_the_subscription_ends(
    server: GraphServer, receiver: Receiver
) -> None:
    gateway = gateway_on(server, active)
    channel = gateway.watch(ADA, "mm-1", "client-state", receiver.url, WEEK)
    (created,) = server.seed(ADA, [meeting(1, 9)])
    server.change(ADA, created, {"showAs": "tentative"})
    server.seed(GRACE, [meeting(1, 10)])  # not watched: nothing
    server.remove(ADA, created)
    assert server.subscriptions.wait_idle()
    got = receiver.notifications()
    assert [(n["changeType"], n["resourceData"]["id"]) for n in got] == [
        ("created", created),
        ("updated", created),
        ("deleted", created),
    ]
    for item in got:
        assert (item["subscriptionId"], item["clientState"]) == (channel.id, "client-state")
        assert item["resource"] == f"Users/{object_id(ADA)}/Events/{created}"
    assert {d.outcome for d in server.subscriptions.deliveries} == {"delivered"}
    gateway.stop_channel(ADA, channel.id, channel.resource_id)
    server.seed(ADA, [meeting(2, 9)])
    assert server.subscriptions.wait_idle()
    assert len(receiver.notifications()) == 3


def test_the_server_keeps_graphs_limits_and_renews_by_patch(
    server: GraphServer, receiver: Receiver
) -> None:
    http = gateway_on(server, active)._http
    now = datetime.now(UTC)

    def create(expiry: datetime, **extra: Any) -> Any:
        body = {
            "changeType": "created,updated,deleted",
            "notificationUrl": receiver.url,
            "resource": f"users/{ADA}/events",
            "expirationDateTime": expiry.isoformat(),
            **extra,
        }
        return http.call(Call("POST", "subscriptions", body))

    assert create(now + timedelta(minutes=10081)).status == 400
    assert create(now - timedelta(minutes=1)).status == 400
    assert create(now + WEEK / 2, clientState="x" * 129).status == 400
    assert create(now + WEEK / 2, notificationUrl="https://push.example/n").status == 400
    assert create(now + WEEK / 2, resource="users/nobody@example.com/events").status == 404
    assert receiver.requests == []  # nothing refused was validated
    made = create(now + timedelta(days=1))
    assert made.status == 201
    later = (now + timedelta(days=5)).isoformat()
    url = f"subscriptions/{made.body['id']}"
    renewed = http.call(Call("PATCH", url, {"expirationDateTime": later}))
    assert renewed.status == 200
    assert renewed.body["expirationDateTime"].startswith(later[:19])
    assert (
        http.call(Call("PATCH", "subscriptions/unknown", {"expirationDateTime": later})).status
        == 404
    )


def test_a_change_on_graph_reaches_the_scan_queue_once_and_forgeries_never(
    server: GraphServer,
) -> None:
    from micromoments.services.scan import scan_person

    store = TableStore(MemoryTable())
    store.create_settings(
        OrgSettings(
            timezone="Europe/Berlin",
            allowed_domains=("example.com",),
            calendar_provider=CalendarProvider.MICROSOFT,
        )
    )
    store.create_person(Person(email=ADA))
    queue: list[tuple[ScanRequest, int]] = []

    class Queue:
        def send(self, requests: list[ScanRequest], *, delay_seconds: int = 0) -> None:
            queue.extend((request, delay_seconds) for request in requests)

    # late in a minute, so the notify handler's clock never straddles a window here
    now = datetime.now(UTC).replace(second=59, microsecond=0)
    statuses: list[int] = []

    def notify(method: str, path: str, query: str, body: bytes) -> Answer:
        headers = [("Content-Type", "application/json" if body else "text/plain")]
        event = to_event(method, path, query=query, headers=headers, body=body)
        answer = from_result(run(event, now, NotifyDeps(store, Queue())))
        statuses.append(answer.status)
        return answer.status, answer.body

    bridge = Receiver(notify)
    try:

        def status_of(email: str) -> PersonStatus | None:
            person = store.get_person(email)
            return person.status if person is not None else None

        gateway = gateway_on(server, status_of)
        report = scan_person(
            ADA, store=store, calendar=gateway, now=now, owner="w1", push_address=bridge.url
        )
        assert report.outcome == "scanned"
        (channel,) = store.channels(ADA)
        assert server.subscriptions.live(ADA) == [channel.id]
        assert statuses == [200]  # the validation, echoed by the handler
        assert queue == []

        server.seed(ADA, [meeting(1, 9)])
        server.seed(ADA, [meeting(1, 13)])
        assert server.subscriptions.wait_idle()
        assert statuses == [200, 202, 202]
        assert [request for request, _ in queue] == [ScanRequest(ADA, ScanReason.PUSH)]

        # forged: a guessed client state on the real subscription; a made-up subscription
        for forged in (
            {"subscriptionId": channel.id, "clientState": "guessed"},
            {"subscriptionId": "made-up", "clientState": "guessed"},
        ):
            item = {**forged, "changeType": "updated", "resource": "Users/x/Events/y"}
            later = now + timedelta(minutes=5)  # a new window: only verification stops it
            event = to_event(
                "POST",
                "/calendar/notify",
                headers=[("Content-Type", "application/json")],
                body=json.dumps({"value": [item]}).encode(),
            )
            assert run(event, later, NotifyDeps(store, Queue()))["statusCode"] == 202
        assert len(queue) == 1
    finally:
        bridge.close()
