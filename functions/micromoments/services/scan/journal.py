"""Scan step "journal", first half: settle the writes of a scan that died before it knew their
outcome (DESIGN.md "Safety"), before anything is planned.

Every Calendar write is journaled before it is sent (`apply.py`); a GET of the event tells
what became of it.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from micromoments.domain.holds import HoldStatus
from micromoments.domain.journal import JournalEntry, WriteOp
from micromoments.domain.reconcile import Write
from micromoments.ports import CalendarGateway, Store
from micromoments.services.scan.scan_report import ScanReport

Resend = list[tuple[Write, JournalEntry | None]]
"""Writes to send, each with its journal entry when it is a re-send of a journaled one."""


def settle_journal(
    email: str, store: Store, calendar: CalendarGateway, report: ScanReport
) -> Resend:
    """Settle writes journaled by a scan that died before it knew their outcome.

    A GET of the event decides. Only deletes are ever re-sent: an insert or patch that
    never landed is dropped, and reconcile plans that hold again against the calendar as
    it is now (same id, so nothing can be placed twice and nothing stale is sent).
    """
    resend: Resend = []
    stored = {hold.id: hold for hold in store.holds(email)}
    for entry in store.pending_journal(email):
        remote = calendar.get_event(email, entry.hold_id)
        target = entry.hold
        gone = remote is None or remote.cancelled
        if entry.op is WriteOp.DELETE:
            if gone:
                store.put_hold(email, target)
                store.mark_applied(email, entry)
            else:
                resend.append((Write(entry.op, target), entry))
            continue
        if remote is None:  # the insert never arrived (or a patched event vanished)
            if entry.op is WriteOp.PATCH and entry.hold_id in stored:
                dismissed = dataclasses.replace(stored[entry.hold_id], status=HoldStatus.DISMISSED)
                store.put_hold(email, dismissed)
                report.holds["dismissed"] += 1
            store.mark_applied(email, entry)
            continue
        if gone:  # it arrived, then the person deleted it
            store.put_hold(email, dataclasses.replace(target, status=HoldStatus.DISMISSED))
            report.holds["dismissed"] += 1
            store.mark_applied(email, entry)
            continue
        landed = (remote.start, remote.end, remote.busy) == (target.start, target.end, target.busy)
        before = stored.get(entry.hold_id)
        untouched = before is not None and (remote.start, remote.end) == (before.start, before.end)
        if (
            entry.op is WriteOp.PATCH
            and before is not None
            and target.attendees != before.attendees
            and (target.start, target.end, target.busy) == (before.start, before.end, before.busy)
        ):
            # Only the guest list was to change, which a GET cannot show (the mirror keeps no
            # addresses): take it as not landed. The stored hold keeps the old list, so
            # reconcile sends the change again (the same patch: harmless if it did land).
            landed = False
        if landed:
            # sent before a crash, maybe more than once: a late copy of a patch may follow
            # (a late copy of an insert is refused with 409 and changes nothing)
            late = entry.op is WriteOp.PATCH and not target.shared
            settled_hold = dataclasses.replace(target, etag=remote.etag, late_copy_possible=late)
            store.put_hold(email, settled_hold)
        elif entry.op is WriteOp.INSERT or not untouched:
            # Not as we wrote it: the person moved or edited it. Adopt it as it is.
            base = before or target
            start = remote.start if isinstance(remote.start, datetime) else base.start
            end = remote.end if isinstance(remote.end, datetime) else base.end
            adopted = dataclasses.replace(
                base, start=start, end=end, status=HoldStatus.ADOPTED, etag=remote.etag
            )
            store.put_hold(email, adopted)
            report.holds["adopted"] += 1
        # else: our patch never landed; the stored hold still matches the calendar and
        # reconcile decides afresh.
        store.mark_applied(email, entry)
    return resend
