"""Use case: the hourly dispatch. Every person whose status is active or leaving (the
sparse index) and whose local day is a workday goes to the scan queue, in batches of 10.
A leaving person is sent on any day: their holds must go."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from micromoments.domain.people import PersonStatus
from micromoments.domain.scan_request import ScanReason, ScanRequest
from micromoments.domain.settings import OrgSettings
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
    """The request to send for this person now, or None when their day is not a workday."""
    person = store.get_person(email)
    if person is None:
        return None
    if person.status is PersonStatus.LEAVING:
        return ScanRequest(email, ScanReason.OPT_OUT)
    tz = person.zone(settings)
    if person.hours(settings.working_hours).is_workday(now.astimezone(tz).date()):
        return ScanRequest(email, ScanReason.HOURLY)
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
