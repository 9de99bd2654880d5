"""The push path, measured: after the runs, a new meeting over a hold on a few people's
calendars, and the seconds from each change on the Calendar server to that hold moved (or
removed) there, with nothing but the push path to carry it: the Calendar server notifies
the notify function through the site's HTTP bridge (`local.serve.SiteServer`), which
queues one scan per person per window, delayed to the window's end, and the site's worker
drains the scan queue into the scan handler.

The demo shortens the dedup window to `WINDOW_SECONDS` (MICROMOMENTS_PUSH_WINDOW_SECONDS,
60 deployed) so that it does not wait a minute, and reports the window it used next to the
figures (docs/decisions.md, "The demo measures the push path").

Google only: Graph change notifications work (the local Graph server delivers them to the
notify route, tests/integration/test_graph_push.py), but this measurement reads and changes
the Calendar server's events, so a demo on the Graph server skips this part
(`SKIPPED_ON_GRAPH` in its summary).
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from micromoments.local.demo.google_calendars import organised_here, shared_kind
from micromoments.local.runtime import LocalRuntime

if TYPE_CHECKING:
    from micromoments.adapters.table import TableStore
    from micromoments.local.synthetic import SyntheticOrg

WINDOW_SECONDS = 5  # the demo's push window (60 deployed)
PEOPLE = 6  # calendars changed
LEAD = timedelta(hours=2)  # a hold changed starts at least this far ahead
OPEN_TIMEOUT_S = 30.0  # for the scans that open the channels
POLL_S = 0.1

Progress = Callable[[str], None]
SKIPPED_ON_GRAPH = {"skipped": "the demo measures the push path on the Google stand-in only"}


def measure_push(
    runtime: LocalRuntime,
    store: TableStore,
    org: SyntheticOrg,
    outbox: Path,
    progress: Progress,
    *,
    people: int = PEOPLE,
    window_seconds: int = WINDOW_SECONDS,
) -> dict[str, Any]:
    """Open the channels, change ``people`` calendars, wait for their holds to move; the
    ``push`` part of the summary."""
    from micromoments import wiring
    from micromoments.domain.scan_request import ScanReason, ScanRequest
    from micromoments.local.serve import SiteServer

    runtime.use_environment({"MICROMOMENTS_PUSH_WINDOW_SECONDS": str(window_seconds)})
    chosen = _holds_to_cover(runtime, org, people, datetime.now(UTC))
    progress(
        f"push: a new meeting over a hold on {len(chosen)} calendars "
        f"(push window {window_seconds} s; 60 s deployed) …"
    )
    seconds: list[float] = []
    with SiteServer(runtime, outbox=outbox, progress=lambda _: None):
        # The scans open each person's channel to the site's notify route.
        emails = [email for email, _ in chosen]
        wiring.scan_queue().send([ScanRequest(email, ScanReason.HOURLY) for email in emails])
        _wait(lambda: all(store.channels(email) for email in emails), OPEN_TIMEOUT_S)
        runtime.calendar.push.wait_idle()  # the channels' sync messages are delivered
        started: dict[str, float] = {}
        for email, hold in chosen:
            started[email] = time.monotonic()
            runtime.calendar.seed(email, [_meeting_over(email, hold)])
        pending = dict(chosen)
        deadline = time.monotonic() + window_seconds + OPEN_TIMEOUT_S
        while pending and time.monotonic() < deadline:
            for email, hold in list(pending.items()):
                if _moved(runtime, email, hold):
                    seconds.append(time.monotonic() - started[email])
                    del pending[email]
            time.sleep(POLL_S)
    result: dict[str, Any] = {
        "people": len(chosen),
        "window_seconds": window_seconds,
        "change_to_hold_seconds": {
            "count": len(seconds),
            "median": round(statistics.median(seconds), 1) if seconds else None,
            "max": round(max(seconds), 1) if seconds else None,
        },
        "not_moved": len(pending),
    }
    figures = result["change_to_hold_seconds"]
    progress(
        f"  push: {figures['count']}/{len(chosen)} holds moved, change to hold "
        f"median {figures['median']} s, max {figures['max']} s"
    )
    return result


def _holds_to_cover(
    runtime: LocalRuntime, org: SyntheticOrg, people: int, now: datetime
) -> list[tuple[str, dict[str, Any]]]:
    """Up to ``people`` (person, hold): a hold of theirs alone (not shared), ahead."""
    chosen: list[tuple[str, dict[str, Any]]] = []
    for synthetic in org.people:
        if len(chosen) >= people:
            break
        email = synthetic.email
        for event in runtime.calendar.events(email, include_cancelled=False):
            tags = event.get("extendedProperties", {})
            ours = any(
                isinstance(group, dict) and group.get("micromoments") == "1"
                for group in tags.values()
            )
            if not ours or not organised_here(event, email) or shared_kind(event) is not None:
                continue
            start = _start(event)
            if start is not None and start > now + LEAD:
                chosen.append((email, event))
                break
    return chosen


def _start(event: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(event["start"]["dateTime"])
    except (KeyError, TypeError, ValueError):
        return None


def _meeting_over(email: str, hold: dict[str, Any]) -> dict[str, Any]:
    """A busy meeting the person organises, at the hold's time."""
    return {
        "id": f"push{uuid.uuid4().hex}",
        "status": "confirmed",
        "summary": "New meeting",
        "organizer": {"email": email, "self": True},
        "creator": {"email": email, "self": True},
        "start": dict(hold["start"]),
        "end": dict(hold["end"]),
        "eventType": "default",
    }


def _moved(runtime: LocalRuntime, email: str, hold: dict[str, Any]) -> bool:
    """Whether the hold is cancelled or at another time on the Calendar server."""
    event = runtime.calendar.event(email, hold["id"])
    if event is None:
        return True  # gone
    cancelled = event.get("status") == "cancelled"
    return cancelled or event.get("start") != hold["start"] or event.get("end") != hold["end"]


def _wait(done: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        time.sleep(POLL_S)
