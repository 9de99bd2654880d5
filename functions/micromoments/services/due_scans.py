"""Use case: the hourly dispatch. It no longer polls everyone (changes come by push): of the
people whose status is active or leaving (the sparse index) it sends to the scan queue, in
batches of 10,

- a leaving person, at any hour of any day: their holds must go;
- the daily safety scan, in the hour the person's working day starts (their zone): it
  catches a change whose notification was lost, and starts the day's (and the week's) plan;
- during the rest of their working day, a scan when time-driven work is due: the sync
  state's ``quiet_until`` has passed (a hold's time came) or is unset (a scan left work
  over, an organiser of a shared event to come, never scanned);
- on a Microsoft 365 organisation, a person with no live push channel (Graph refused the
  subscription, say, or push is off) is polled instead: a scan every hour of their working
  day, whose unchanged scan costs one delta request; with a live channel (a Graph
  subscription) they are treated as on Google;

and nothing at night or on a day off in the person's zone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from micromoments.domain.people import PersonStatus
from micromoments.domain.scan_request import ScanReason, ScanRequest
from micromoments.domain.settings import CalendarProvider, OrgSettings
from micromoments.ports import ScanQueue, Store
from micromoments.services.org import org_settings

BATCH = 10  # SQS SendMessageBatch takes at most 10 messages

_R = TypeVar("_R")


@dataclass(frozen=True, slots=True)
class DispatchReport:
    people_seen: int
    enqueued: int
    batches: int

    def to_json(self) -> dict[str, Any]:
        return {"people_seen": self.people_seen, "enqueued": self.enqueued, "batches": self.batches}


def scan_request_for(
    store: Store, email: str, settings: OrgSettings, now: datetime
) -> ScanRequest | None:
    """The request to send for this person now, or None (see the module's docstring)."""
    person = store.get_person(email)
    if person is None:
        return None
    if person.status is PersonStatus.LEAVING:
        return ScanRequest(email, ScanReason.OPT_OUT)
    local = now.astimezone(person.zone(settings))
    ranges = person.hours(settings.working_hours).local_ranges(local.date())
    if not ranges:
        return None  # a day off
    first_hour = min(start for start, _ in ranges) // 60
    last_hour = (max(end for _, end in ranges) - 1) // 60
    if local.hour == first_hour:
        return ScanRequest(email, ScanReason.SAFETY)
    if not first_hour < local.hour <= last_hour + 1:
        return None  # night in their zone (the hour after work still sees a last hold end)
    if settings.calendar_provider is CalendarProvider.MICROSOFT and not any(
        channel.live(now) for channel in store.channels(email)
    ):
        return ScanRequest(email, ScanReason.HOURLY)  # no subscription: poll
    state = store.get_sync(email)
    if state is None or state.quiet_until is None or state.quiet_until <= now:
        return ScanRequest(email, ScanReason.DUE)
    return None


def send_in_batches(
    emails: Iterable[str],
    request_for: Callable[[str], _R | None],
    send: Callable[[list[_R]], None],
) -> tuple[int, int, int]:
    """Each person's request (None: nothing to send) to ``send`` in batches of `BATCH`, as
    they come: (people seen, requests sent, batches sent)."""
    seen = enqueued = batches = 0
    batch: list[_R] = []
    for email in emails:
        seen += 1
        request = request_for(email)
        if request is None:
            continue
        batch.append(request)
        if len(batch) == BATCH:
            send(batch)
            enqueued, batches, batch = enqueued + len(batch), batches + 1, []
    if batch:
        send(batch)
        enqueued, batches = enqueued + len(batch), batches + 1
    return seen, enqueued, batches


def send_due_scans(store: Store, queue: ScanQueue, *, now: datetime) -> DispatchReport:
    settings = org_settings(store)
    seen, enqueued, batches = send_in_batches(
        store.scannable_people(),
        lambda email: scan_request_for(store, email, settings, now),
        queue.send,
    )
    return DispatchReport(people_seen=seen, enqueued=enqueued, batches=batches)
