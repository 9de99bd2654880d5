"""Push end to end: the scan opens a channel with the real Google client on the local
Calendar server, whose notifications reach the notify handler through a loopback receiver
(API Gateway-shaped, as `local.web_bridge` builds events), and a verified burst queues one
scan on moto's SQS; forged ones queue nothing."""

from __future__ import annotations

import http.server
import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import httplib2
import pytest
from moto import mock_aws

from micromoments import wiring
from micromoments.adapters.dynamo import create_table, dynamo_store
from micromoments.config import Config, config
from micromoments.domain.people import Person
from micromoments.domain.settings import OrgSettings
from micromoments.handlers import notify
from micromoments.local.calendar_api import CalendarServer
from micromoments.local.web_bridge import LambdaContext, from_result, to_event
from micromoments.services.scan import scan_person

pytestmark = pytest.mark.integration

ADA = "ada@example.com"
CACHED = (config, wiring.store, wiring.scan_queue, wiring.default_calendar_gateway)


class NotifyBridge:
    """A loopback HTTP receiver that hands each POST to the notify handler, with the
    handler's clock pinned to ``now`` (so a burst never straddles a minute here)."""

    def __init__(self, now: datetime) -> None:
        self.statuses: list[int] = []
        bridge = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                event = to_event("POST", self.path, headers=self.headers.items(), body=body)
                answer = from_result(notify.run(event, now))
                bridge.statuses.append(answer.status)
                self.send_response(answer.status)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "1")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "micromoments")
    with mock_aws():
        table = f"t-{uuid.uuid4().hex[:8]}"
        create_table(boto3.client("dynamodb"), table)
        sqs = boto3.client("sqs")
        url = sqs.create_queue(QueueName=f"scan-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        monkeypatch.setenv("MICROMOMENTS_TABLE_NAME", table)
        monkeypatch.setenv("MICROMOMENTS_SCAN_QUEUE_URL", url)
        for cached in CACHED:
            cached.cache_clear()
        store = dynamo_store(table)
        store.create_settings(
            OrgSettings(timezone="Europe/Berlin", allowed_domains=("example.com",))
        )
        yield {"store": store, "sqs": sqs, "url": url}
        for cached in CACHED:
            cached.cache_clear()


def queued(sqs: Any, url: str) -> list[dict[str, Any]]:
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(message["Body"]) for message in got]


def meeting(event_id: str, hour: int) -> dict[str, Any]:
    return {
        "id": event_id,
        "start": {"dateTime": f"2026-03-30T{hour:02d}:00:00+02:00"},
        "end": {"dateTime": f"2026-03-30T{hour:02d}:30:00+02:00"},
        "attendees": [{"email": ADA}, {"email": "bob@example.com"}],
    }


def test_a_calendar_change_reaches_the_scan_queue_once_and_forgeries_never(
    aws: dict[str, Any],
) -> None:
    store = aws["store"]
    store.create_person(Person(email=ADA))
    # late in a minute, so the scan's delay to the minute's end is 0 and it is visible now
    minute = datetime.now(UTC).replace(second=0, microsecond=0)
    now = minute + timedelta(seconds=59, milliseconds=700)
    server = CalendarServer(seed=5).start()
    bridge = NotifyBridge(now)
    try:
        server.add_calendar(ADA, timezone="Europe/Berlin")
        server.set_push_knobs(duplicate_rate=1.0, reorder_rate=0.5)
        settings = Config(calendar_api_url=server.base_url, google_token_uri=server.token_uri)
        gateway = wiring.calendar_gateway(settings, table=store)
        address = Config(public_base_url=bridge.base_url + "/").notify_address
        assert address == bridge.base_url + "/calendar/notify"
        report = scan_person(
            ADA, store=store, calendar=gateway, now=now, owner="w1", push_address=address
        )
        assert report.outcome == "scanned"
        assert server.push.wait_idle()
        assert len(server.push.live_channels()) == 1
        assert queued(aws["sqs"], aws["url"]) == []  # the channel's sync message: no scan

        server.seed(ADA, [meeting("pushmeeting1", 10)])
        server.seed(ADA, [meeting("pushmeeting2", 14)])
        assert server.push.wait_idle()
        assert len(bridge.statuses) >= 5  # sync, then two changes sent twice each
        assert set(bridge.statuses) == {204}
        assert queued(aws["sqs"], aws["url"]) == [{"person": ADA, "reason": "push"}]

        # forged: a guessed token on the real channel id, through the real entry point
        (channel,) = store.channels(ADA)
        forged = to_event(
            "POST",
            "/calendar/notify",
            headers=[
                ("X-Goog-Channel-ID", channel.id),
                ("X-Goog-Channel-Token", "guessed"),
                ("X-Goog-Resource-ID", channel.resource_id),
                ("X-Goog-Resource-State", "exists"),
            ],
        )
        answer = from_result(notify.handler(forged, LambdaContext(function_name="notify")))
        assert (answer.status, answer.body) == (204, b"")
        stranger = httplib2.Http(timeout=5).request(
            address,
            "POST",
            headers={"X-Goog-Channel-ID": "made-up", "X-Goog-Resource-State": "exists"},
        )
        assert stranger[0].status == 204
        assert queued(aws["sqs"], aws["url"]) == []
    finally:
        bridge.close()
        server.stop()
