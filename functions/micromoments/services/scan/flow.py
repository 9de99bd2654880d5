"""Scan one person: the lease, then the steps in order (DESIGN.md "Flow", "Holds", Safety).

    lease -> sync -> day loads -> plan -> reconcile -> journal + apply -> release

`_scan` reads as those steps: `sync.sync` (the zone, the incremental sync into the event
mirror), `plan.window_events` (the mirror over the analysis window, from which reconcile
computes the day loads), `journal.settle_journal` (the writes of a scan that died),
`plan.plan` (the shared events this person organises, then their own days), `apply.persist`
(day loads and records) and `apply.apply_writes` (journal, send, settle). A rescan of an
unchanged calendar with nothing due stops after the delta (`quick.py`): no lease, no Calendar
write, no Store write but a new sync token. Every write
is journaled before it is sent; a crash between the two is resolved by the next scan, which
GETs the event before re-sending.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime, timedelta

from micromoments.domain.calendar import CalendarEvent
from micromoments.domain.journal import WriteOp
from micromoments.domain.lease import Lease
from micromoments.domain.mirror import MirrorEvent
from micromoments.domain.people import Person, PersonStatus
from micromoments.ports import CalendarGateway, GrantRevoked, Store, SubjectSuspended, SyncResult
from micromoments.services.org import org_settings
from micromoments.services.people import erase_if_requested, finish_opt_out, ready_to_opt_out
from micromoments.services.scan.apply import apply_writes, outgoing, persist
from micromoments.services.scan.channels import close_channels, keep_channel
from micromoments.services.scan.journal import Resend, settle_journal
from micromoments.services.scan.members import Expander
from micromoments.services.scan.plan import plan, window_events
from micromoments.services.scan.quick import cached_settings, fingerprint, quiet_until, try_quick
from micromoments.services.scan.scan_report import ScanOutcome, ScanReport
from micromoments.services.scan.sync import sync

DEFAULT_LEASE = timedelta(minutes=5)


def default_expander(
    events: Sequence[MirrorEvent], start: datetime, end: datetime
) -> list[CalendarEvent]:
    from micromoments.adapters.mirror_expansion import expand_mirror

    return expand_mirror(events, start=start, end=end)


def scan_person(
    email: str,
    *,
    store: Store,
    calendar: CalendarGateway,
    now: datetime,
    owner: str,
    lease_for: timedelta = DEFAULT_LEASE,
    expand: Expander = default_expander,
    master_key: bytes | None = None,
    dry_run: bool = False,
    push_address: str | None = None,
) -> ScanReport:
    """Scan one person. Raises on errors worth a retry (the message is redelivered).

    An unchanged calendar with nothing due stops after the delta (`quick.try_quick`). With
    ``push_address`` (the notify route), an active person's push channel is kept live
    (`channels.keep_channel`); a leaving person's channels are stopped either way."""
    report = ScanReport(person=email, outcome=ScanOutcome.SKIPPED)
    prefetched: tuple[str, SyncResult] | None = None
    before = dataclasses.replace(calendar.counters, by_method={})
    if not dry_run:
        try:
            settings = cached_settings(store, now)
            quick = try_quick(email, store, calendar, settings, now, report, push_address)
        except SubjectSuspended:
            quick = False  # the full flow meets it again and records it
        if quick is True:
            report.google_requests = calendar.counters.requests - before.requests
            report.round_trips = calendar.counters.round_trips - before.round_trips
            return report
        if isinstance(quick, tuple):
            prefetched = quick
    person = store.get_person(email)
    if person is None or person.status not in (PersonStatus.ACTIVE, PersonStatus.LEAVING):
        report.status = person.status.value if person else "unknown"
        return report  # never opted in, or gone: no Google call at all
    lease = Lease(email, owner, now + lease_for)
    if not store.acquire_lease(lease, now):
        report.outcome = ScanOutcome.BUSY
        report.status = person.status.value
        return report
    try:
        _scan(person, report, store, calendar, now, expand, master_key, dry_run, prefetched,
              push_address)  # fmt: skip
    except GrantRevoked:
        _grant_revoked(person, store, report)
    except SubjectSuspended:
        suspended = person.model_copy(update={"status": PersonStatus.SUSPENDED})
        store.update_person(suspended, expected_status=person.status)
        report.outcome = ScanOutcome.SUSPENDED
        report.status = PersonStatus.SUSPENDED.value
    finally:
        store.release_lease(lease)
        report.google_requests = calendar.counters.requests - before.requests
        report.round_trips = calendar.counters.round_trips - before.round_trips
    return report


def _grant_revoked(person: Person, store: Store, report: ScanReport) -> None:
    """The person's own grant answered invalid_grant: nothing was written, holds stay as
    they are. An active person waits in ``needs_reconnect`` (the scan that made the change
    reports it, so one email asks them to reconnect); a leaving one is opted out, as
    nothing can reach their calendar any more, and the dead grant is deleted."""
    if person.status is PersonStatus.LEAVING:
        done = person.model_copy(update={"status": PersonStatus.OPTED_OUT})
        store.update_person(done, expected_status=PersonStatus.LEAVING)
        store.delete_grant(person.email)
        report.status = PersonStatus.OPTED_OUT.value
        return
    waiting = person.model_copy(update={"status": PersonStatus.NEEDS_RECONNECT})
    if store.update_person(waiting, expected_status=person.status):
        report.outcome = ScanOutcome.NEEDS_RECONNECT
    report.status = PersonStatus.NEEDS_RECONNECT.value


def _scan(
    person: Person,
    report: ScanReport,
    store: Store,
    calendar: CalendarGateway,
    now: datetime,
    expand: Expander,
    master_key: bytes | None,
    dry_run: bool,
    prefetched: tuple[str, SyncResult] | None,
    push_address: str | None = None,
) -> None:
    email = person.email
    settings = org_settings(store)
    person, mirror, state = sync(person, settings, store, calendar, now, prefetched)
    events = window_events(person, settings, mirror, now, expand)
    writes: Resend = [] if dry_run else settle_journal(email, store, calendar, report)
    planned = plan(person, settings, store, mirror, events, now, expand, master_key)
    outcome = planned.outcome
    today = now.astimezone(person.zone(settings)).date()
    report.overloaded_days = sum(
        1 for load in outcome.loads if load.overloaded and load.date >= today
    )
    report.status = person.status.value
    if dry_run:
        report.outcome = ScanOutcome.DRY_RUN
        report.holds["placed"] = sum(1 for w in outcome.writes if w.op is WriteOp.INSERT)
        return

    persist(email, outcome, store, report)
    if not settings.paused:
        # Re-read opt-in right before writing: a person who left meanwhile gets no new hold.
        fresh = store.get_person(email)
        if fresh is not None and fresh.status is person.status:
            writes = outgoing(writes, outcome.writes)
        apply_writes(email, writes, store, calendar, now, report, planned.addresses)

    report.outcome = ScanOutcome.SCANNED
    if person.status is PersonStatus.ACTIVE and push_address:
        keep_channel(email, store=store, calendar=calendar, address=push_address, now=now)
    if person.status is PersonStatus.ACTIVE and not report.failed_writes:
        # Nothing left over: until the quiet time, an empty delta means the same plan.
        quiet = quiet_until(person, settings, state, store.holds(email), now)
        if quiet is not None and not store.pending_journal(email):
            store.put_sync(
                email,
                dataclasses.replace(
                    state,
                    quiet_until=quiet,
                    fingerprint=fingerprint(person, settings, push_address),
                ),
            )
    if person.status is PersonStatus.LEAVING:
        close_channels(email, store=store, calendar=calendar)
        if ready_to_opt_out(store, person, now=now):
            calendar.revoke_grant(email)  # their own grant, if any: revoked, then deleted
        done = finish_opt_out(store, person, now=now)
        report.status = done.status.value
        if master_key is not None:
            erase_if_requested(store, done, master_key=master_key, now=now)


def scan_people(
    emails: Sequence[str],
    *,
    store: Store,
    calendar: CalendarGateway,
    now: datetime,
    owner: str,
    overlap: int = 10,
    master_key: bytes | None = None,
    push_address: str | None = None,
) -> dict[str, ScanReport | BaseException]:
    """Scan a batch of people (one SQS batch), overlapping their I/O on a small pool.

    Each person's outcome is their report or the exception that failed them, so the
    caller can report partial batch failures. ``overlap=1`` scans one after the other.
    """
    from concurrent.futures import ThreadPoolExecutor

    def one(email: str) -> ScanReport | BaseException:
        try:
            return scan_person(
                email,
                store=store,
                calendar=calendar,
                now=now,
                owner=owner,
                master_key=master_key,
                push_address=push_address,
            )
        except Exception as exc:
            return exc

    if overlap <= 1 or len(emails) <= 1:
        return {email: one(email) for email in emails}
    with ThreadPoolExecutor(max_workers=min(overlap, len(emails))) as pool:
        return dict(zip(emails, pool.map(one, emails), strict=True))
