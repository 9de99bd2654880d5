"""Graph change notifications on the notify route (handlers.notify.run) on fakes: the
validation echo, verified items -> one scan, forged, unknown, inactive and malformed ones
refused with nothing changed, redelivery deduplicated as Google's."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from micromoments.adapters.memory import MemoryTable
from micromoments.adapters.table import TableStore
from micromoments.domain.graph_push import MalformedNotification, graph_notifications
from micromoments.domain.people import Person, PersonStatus
from micromoments.domain.push import PushChannel, token_hash
from micromoments.domain.scan_request import ScanReason, ScanRequest
from micromoments.handlers.notify import NotifyDeps, run

ADA = "ada@example.com"
GRACE = "grace@example.com"
NOW = datetime(2026, 3, 16, 9, 0, 10, tzinfo=UTC)


class Queue:
    def __init__(self) -> None:
        self.sent: list[tuple[ScanRequest, int]] = []

    def send(self, requests: list[ScanRequest], *, delay_seconds: int = 0) -> None:
        self.sent.extend((request, delay_seconds) for request in requests)


class Untouchable:
    """A Store or queue that must not be used at all."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"{name} used during a validation request")


class World:
    def __init__(self) -> None:
        self.table = MemoryTable()
        self.store = TableStore(self.table)
        self.queue = Queue()
        self.deps = NotifyDeps(self.store, self.queue)
        self.tokens: dict[str, str] = {}
        for email in (ADA, GRACE):
            self.store.create_person(Person(email=email))
            token = f"client-state-of-{email}"
            channel = PushChannel(
                id=f"sub-{email[:3]}",
                person=email,
                resource_id=f"users/{email}/events",
                token_hash=token_hash(token),
                expiration=NOW + timedelta(days=6),
            )
            self.store.put_channel(channel)
            self.tokens[email] = token

    def item(self, email: str, **changes: Any) -> dict[str, Any]:
        return {
            "subscriptionId": f"sub-{email[:3]}",
            "clientState": self.tokens[email],
            "changeType": "updated",
            "resource": "Users/5f1c0a4e-0000-4000-8000-000000000001/Events/AAMkAGI=",
            "resourceData": {"id": "AAMkAGI="},
            "tenantId": "contoso.onmicrosoft.com",
            **changes,
        }

    def post(self, body: Any, *, encoded: bool = True, now: datetime = NOW) -> dict[str, Any]:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        event: dict[str, Any] = {
            "headers": {"content-type": "application/json"},
            "body": base64.b64encode(raw).decode() if encoded else raw.decode(),
            "isBase64Encoded": encoded,
        }
        return run(event, now, self.deps)


def test_the_validation_request_is_echoed_as_plain_text_and_nothing_is_read() -> None:
    token = "Validation: Testing client application reachability for subscription Request-Id"
    event = {
        "headers": {"content-type": "text/plain; charset=utf-8"},
        "queryStringParameters": {"validationToken": token},
        "isBase64Encoded": False,
    }
    answer = run(event, NOW, NotifyDeps(Untouchable(), Untouchable()))  # type: ignore[arg-type]
    assert (answer["statusCode"], answer["body"]) == (200, token)
    assert answer["headers"]["Content-Type"].startswith("text/plain")
    assert answer["headers"]["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("encoded", [True, False])
def test_a_verified_notification_queues_one_scan_for_its_person(encoded: bool) -> None:
    world = World()
    answer = world.post({"value": [world.item(ADA)]}, encoded=encoded)
    assert answer["statusCode"] == 202
    assert world.queue.sent == [(ScanRequest(ADA, ScanReason.PUSH), 50)]


def test_redelivered_and_batched_changes_queue_one_scan_a_person() -> None:
    world = World()
    burst = [world.item(ADA, changeType=kind) for kind in ("created", "updated", "deleted")]
    assert world.post({"value": [*burst, world.item(GRACE)]})["statusCode"] == 202
    assert world.post({"value": burst}, now=NOW + timedelta(seconds=5))["statusCode"] == 202
    assert [request for request, _ in world.queue.sent] == [
        ScanRequest(ADA, ScanReason.PUSH),
        ScanRequest(GRACE, ScanReason.PUSH),
    ]


def _forged(world: World, kind: str) -> dict[str, Any]:
    if kind == "forged client state":
        return world.item(ADA, clientState="guessed")
    if kind == "another person's client state":
        return world.item(ADA, clientState=world.tokens[GRACE])
    if kind == "no client state":
        return world.item(ADA, clientState=None)
    if kind == "unknown subscription":
        return world.item(ADA, subscriptionId="00000000-0000-0000-0000-000000000000")
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    [
        "forged client state",
        "another person's client state",
        "no client state",
        "unknown subscription",
    ],
)
def test_unverified_notifications_change_nothing(kind: str) -> None:
    world = World()
    before = world.table.items()
    assert world.post({"value": [_forged(world, kind)]})["statusCode"] == 202
    assert world.queue.sent == []
    assert world.table.items() == before


def test_a_notification_for_a_person_no_longer_active_queues_nothing() -> None:
    world = World()
    ada = world.store.get_person(ADA)
    assert ada is not None
    world.store.update_person(ada.model_copy(update={"status": PersonStatus.LEAVING}))
    assert world.post({"value": [world.item(ADA)]})["statusCode"] == 202
    assert world.queue.sent == []


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe",
        {"value": []},
        {"value": "changed"},
        {"nothing": 1},
        [1, 2],
        {"value": [{"subscriptionId": "sub-ada", "clientState": "x"}]},
        {"value": [{"subscriptionId": 7, "changeType": "updated", "resource": "r"}]},
        {"value": [{"subscriptionId": "s", "changeType": "updated", "resource": "r",
                    "clientState": 5}]},
        {"value": ["sub-ada"]},
    ],
)  # fmt: skip
def test_a_malformed_body_is_refused_with_nothing_done(body: Any) -> None:
    world = World()
    before = world.table.items()
    genuine = World().item(ADA)  # a good item after a bad one changes nothing either
    if isinstance(body, dict) and isinstance(body.get("value"), list) and body["value"]:
        body = {"value": [genuine, *body["value"]]}
    assert world.post(body)["statusCode"] == 400
    assert world.queue.sent == []
    assert world.table.items() == before


def test_a_validation_token_of_a_silly_length_is_refused() -> None:
    event = {"queryStringParameters": {"validationToken": "x" * 5000}}
    untouchable = NotifyDeps(Untouchable(), Untouchable())  # type: ignore[arg-type]
    assert run(event, NOW, untouchable)["statusCode"] == 400


def test_googles_messages_still_go_their_way() -> None:
    world = World()
    event = {"headers": {"X-Goog-Channel-ID": "sub-ada", "X-Goog-Resource-State": "exists"}}
    assert run(event, NOW, world.deps) == {"statusCode": 204, "headers": {}, "body": ""}
    assert world.queue.sent == []


def test_a_graph_item_reads_as_a_change_on_its_subscription() -> None:
    (item,) = graph_notifications(json.dumps({"value": [World().item(ADA)]}))
    assert (item.channel_id, item.token, item.resource_id, item.state) == (
        "sub-ada",
        "client-state-of-ada@example.com",
        None,
        "exists",
    )
    with pytest.raises(MalformedNotification):
        graph_notifications(json.dumps({"value": [{}] * 1001}))


def test_a_body_flagged_base64_that_is_not_base64_is_refused_with_nothing_read() -> None:
    event = {"headers": {}, "body": "not base64 at all!", "isBase64Encoded": True}
    untouchable = NotifyDeps(Untouchable(), Untouchable())  # type: ignore[arg-type]
    assert run(event, NOW, untouchable)["statusCode"] == 400
