"""Scan steps "persist" and "journal + apply": store what the plan decided, then journal each
Calendar write, send them in one batch and settle the holds by the answers.

The holds are stored before the journal entries are marked applied: a crash between the
two leaves entries pending, which the next scan settles by a GET (`journal.py`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime

from micromoments.domain.holds import Hold, HoldStatus
from micromoments.domain.journal import JournalEntry, WriteOp
from micromoments.domain.reconcile import Reconciliation, Write
from micromoments.ports import CalendarGateway, CalendarWrite, Store
from micromoments.services.scan.journal import Resend
from micromoments.services.scan.scan_report import ScanReport


def persist(email: str, outcome: Reconciliation, store: Store, report: ScanReport) -> None:
    """Store the day loads that changed and the hold records (status changes without a
    write)."""
    stored_loads = {
        load.date: load
        for load in store.day_loads(email, outcome.loads[0].date, outcome.loads[-1].date)
    }
    changed = [load for load in outcome.loads if stored_loads.get(load.date) != load]
    if changed:
        store.put_day_loads(email, changed)
    for record in outcome.records:
        store.put_hold(email, record)
        if record.status in _RECORD_KEYS:  # not a live hold whose etag was only settled
            report.holds[_RECORD_KEYS[record.status]] += 1


_RECORD_KEYS = {
    HoldStatus.KEPT: "kept",
    HoldStatus.DISMISSED: "dismissed",
    HoldStatus.REMOVED: "removed",  # a planned shared event that no longer fits anywhere
    HoldStatus.ADOPTED: "adopted",
}


def outgoing(resend: Resend, planned: list[Write]) -> Resend:
    """The re-sends of the journal first, then the planned writes for other holds."""
    resent = {write.hold.id for write, _ in resend}
    return resend + [(write, None) for write in planned if write.hold.id not in resent]


def apply_writes(
    email: str,
    writes: Resend,
    store: Store,
    calendar: CalendarGateway,
    now: datetime,
    report: ScanReport,
    addresses: Mapping[str, str],
) -> None:
    """Journal the new writes, send all in one batch, and settle each hold by its answer
    (a failed write stays pending: the next scan settles it)."""
    if not writes:
        return
    seq = int(now.timestamp() * 1000)
    journaled: list[tuple[Write, JournalEntry]] = []
    for write, pending in writes:
        entry = pending or JournalEntry(write.hold.id, seq, write.op, write.hold, now)
        if pending is None:
            store.add_journal(email, entry)
        journaled.append((write, entry))
    results = calendar.write(
        email,
        [
            CalendarWrite(
                w.op,
                w.hold,
                w.attendees_changed,
                tuple(addresses[a] for a in w.hold.attendees if a in addresses),
            )
            for w, _ in journaled
        ],
    )
    settled: list[Hold] = []
    applied: list[JournalEntry] = []
    for (write, entry), result in zip(journaled, results, strict=True):
        hold = write.hold
        if result.status == "ok":
            late = result.retried and write.op is WriteOp.PATCH and not hold.shared
            settled.append(dataclasses.replace(hold, etag=result.etag, late_copy_possible=late))
            key = {WriteOp.INSERT: "placed", WriteOp.DELETE: "removed"}.get(write.op)
            if key is None and hold.status is HoldStatus.MOVED:
                key = "moved"  # (a flex patch only turns busy/free: not a move)
            if key is not None:
                report.holds[key] += 1
        elif result.status == "conflict":
            settle_conflict(email, hold, store, calendar, report)
        elif result.status == "gone":
            status = HoldStatus.REMOVED if write.op is WriteOp.DELETE else HoldStatus.DISMISSED
            settled.append(dataclasses.replace(hold, status=status))
            report.holds["removed" if status is HoldStatus.REMOVED else "dismissed"] += 1
        else:
            report.failed_writes += 1
            continue  # stays pending: the next scan settles it
        applied.append(entry)
    # The holds first, then the journal: a crash between the two leaves entries pending,
    # which the next scan settles by a GET.
    store.put_holds(email, settled)
    store.mark_all_applied(email, applied)


def settle_conflict(
    email: str, hold: Hold, store: Store, calendar: CalendarGateway, report: ScanReport
) -> None:
    """409 on insert: Google keeps deleted events as cancelled. A cancelled one means the
    id is burnt: record it removed, so the next plan takes the next generation."""
    remote = calendar.get_event(email, hold.id)
    if remote is None or remote.cancelled:
        store.put_hold(email, dataclasses.replace(hold, status=HoldStatus.REMOVED))
    else:  # our own earlier insert whose answer was lost: record it as the calendar has it
        start = remote.start if isinstance(remote.start, datetime) else hold.start
        end = remote.end if isinstance(remote.end, datetime) else hold.end
        store.put_hold(email, dataclasses.replace(hold, start=start, end=end, etag=remote.etag))
        report.holds["placed"] += 1
