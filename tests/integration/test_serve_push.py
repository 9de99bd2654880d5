"""`micromoments serve` with push on: the site's bridge routes Google's notifications
(``POST /calendar/notify``) to the notify function, as API Gateway does deployed, so the
channels the scans open to the site's address reach it."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from micromoments.local.runtime import LocalRuntime
from micromoments.local.serve import SiteServer, queue_everyone, seed_organisation

pytestmark = pytest.mark.integration


def _post(url: str, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=b"", method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _delayed(runtime: LocalRuntime) -> int:
    import boto3

    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=runtime.scan_queue_url,
        AttributeNames=["ApproximateNumberOfMessagesDelayed", "ApproximateNumberOfMessages"],
    )["Attributes"]
    return int(attributes.get("ApproximateNumberOfMessagesDelayed", "0")) + int(
        attributes.get("ApproximateNumberOfMessages", "0")
    )


def test_the_site_routes_push_notifications_to_the_notify_function(tmp_path: Path) -> None:
    with LocalRuntime() as runtime:
        org = seed_organisation(runtime, people=2, progress=lambda _: None)
        queued = queue_everyone(runtime)
        with SiteServer(runtime, outbox=tmp_path / "outbox", progress=lambda _: None) as site:
            # A forged notification: the notify function's answer (204, nothing said).
            forged = {
                "X-Goog-Channel-ID": "mm-forged",
                "X-Goog-Channel-Token": "guess",
                "X-Goog-Resource-ID": "r",
                "X-Goog-Resource-State": "exists",
            }
            assert _post(f"{site.url}/calendar/notify", forged) == (204, b"")
            # The scans open each person's channel to the site; a change is notified there
            # and queues that person's push scan (delayed to the end of its minute).
            site.drain(expected=queued)
            email = org.people[0].email
            from micromoments import wiring

            deadline = time.monotonic() + 20
            while not wiring.store().channels(email) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert wiring.store().channels(email)
            assert runtime.calendar.push.wait_idle()
            before = _delayed(runtime)
            events = runtime.calendar.events(email)
            hold = next(e for e in events if "dateTime" in e.get("start", {}))
            runtime.calendar.seed(
                email,
                [
                    {
                        "id": "pushroutetest0001",
                        "status": "confirmed",
                        "organizer": {"email": email, "self": True},
                        "start": dict(hold["start"]),
                        "end": dict(hold["end"]),
                    }
                ],
            )
            assert runtime.calendar.push.wait_idle()
            assert _delayed(runtime) == before + 1


def test_everyone_is_queued_whatever_the_minute_of_the_dispatch_hour() -> None:
    """The dispatch judges the hour it stands for (03:00 UTC: 08:30 in Kolkata, before the
    working day), so the people it leaves out are judged at that hour too, not at 03:45
    (09:15 there, their safety scan's hour): nobody falls between the two."""
    from datetime import UTC, datetime

    with LocalRuntime() as runtime:
        org = seed_organisation(runtime, people=2, progress=lambda _: None)
        assert {p.person.timezone for p in org.people} == {"Asia/Kolkata"}
        monday = datetime(2026, 12, 14, 3, 45, tzinfo=UTC)
        assert queue_everyone(runtime, now=monday) == 2
