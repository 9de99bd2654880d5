"""Use case: scan one person (DESIGN.md "Flow" and "Holds", Safety).

lease -> incremental sync into the event mirror -> day loads -> plan -> reconcile ->
journal + apply -> release. A rescan of an unchanged calendar makes no Calendar write and
no Store write except its lease. Every write is journaled before it is sent; a crash
between the two is resolved by the next scan, which GETs the event before re-sending.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from micromoments.domain.calendar import CalendarEvent, zone
from micromoments.domain.holds import Hold, HoldStatus
from micromoments.domain.journal import JournalEntry, WriteOp
from micromoments.domain.lease import Lease
from micromoments.domain.mirror import MirrorEvent, SyncState, mirror_changes
from micromoments.domain.people import Person, PersonStatus
from micromoments.domain.planner import week_start
from micromoments.domain.reconcile import Write, analysis_window, reconcile
from micromoments.domain.settings import OrgSettings
from micromoments.domain.shared import Members, member_view, reconcile_shared
from micromoments.domain.working_hours import local_instant
from micromoments.ports import CalendarGateway, CalendarWrite, Store, SubjectSuspended
from micromoments.services.people import erase_if_requested, finish_opt_out

TIMEZONE_REFRESH = timedelta(days=7)
DEFAULT_LEASE = timedelta(minutes=5)

Expander = Callable[[Sequence[MirrorEvent], datetime, datetime], list[CalendarEvent]]


@dataclass(slots=True)
class ScanReport:
    """What one scan did. ``outcome``: scanned, skipped (not opted in), busy (another scan
    holds the lease), suspended (Google refused the account), or dry-run.

    ``google_requests`` and ``round_trips`` are the gateway's counters over the scan: exact
    for a scan on its own, but scans overlapping on one gateway (`scan_people`) see each
    other's calls, so batch totals are taken around the whole batch instead."""

    person: str
    outcome: str
    status: str = ""
    overloaded_days: int = 0
    holds: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("placed", "moved", "removed", "kept", "dismissed", "adopted"), 0
        )
    )
    failed_writes: int = 0
    google_requests: int = 0
    round_trips: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "person": self.person,
            "outcome": self.outcome,
            "status": self.status,
            "overloaded_days": self.overloaded_days,
            "holds": dict(self.holds),
            "failed_writes": self.failed_writes,
            "google_requests": self.google_requests,
            "round_trips": self.round_trips,
        }


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
) -> ScanReport:
    """Scan one person. Raises on errors worth a retry (the message is redelivered)."""
    report = ScanReport(person=email, outcome="skipped")
    person = store.get_person(email)
    if person is None or person.status not in (PersonStatus.ACTIVE, PersonStatus.LEAVING):
        report.status = person.status.value if person else "unknown"
        return report  # never opted in, or gone: no Google call at all
    lease = Lease(email, owner, now + lease_for)
    if not store.acquire_lease(lease, now):
        report.outcome = "busy"
        report.status = person.status.value
        return report
    before = dataclasses.replace(calendar.counters, by_method={})
    try:
        _scan(person, report, store, calendar, now, expand, master_key, dry_run)
    except SubjectSuspended:
        suspended = person.model_copy(update={"status": PersonStatus.SUSPENDED})
        store.update_person(suspended, expected_status=person.status)
        report.outcome = "suspended"
        report.status = PersonStatus.SUSPENDED.value
    finally:
        store.release_lease(lease)
        report.google_requests = calendar.counters.requests - before.requests
        report.round_trips = calendar.counters.round_trips - before.round_trips
    return report


def _scan(
    person: Person,
    report: ScanReport,
    store: Store,
    calendar: CalendarGateway,
    now: datetime,
    expand: Expander,
    master_key: bytes | None,
    dry_run: bool,
) -> None:
    email = person.email
    settings = store.get_settings() or OrgSettings()
    state = store.get_sync(email) or SyncState()
    new_state = state
    if state.timezone_checked_at is None or now - state.timezone_checked_at >= TIMEZONE_REFRESH:
        new_state = dataclasses.replace(
            new_state, timezone=calendar.timezone(email), timezone_checked_at=now
        )

    if new_state.timezone and new_state.timezone != person.timezone:
        # Google's zone goes on the profile too, so dispatch judges the person's workday by it.
        located = person.model_copy(update={"timezone": new_state.timezone})
        if store.update_person(located, expected_status=person.status):
            person = located

    # Sync into the mirror; the token is saved only once the mirror holds the changes.
    person_zone = zone(
        person.model_copy(update={"timezone": new_state.timezone}).zone_name(settings.timezone)
    )
    full_from = datetime.combine(
        week_start(now.astimezone(person_zone).date()) - timedelta(weeks=1), time(), person_zone
    )
    result = calendar.sync(email, state.token, full_from=full_from)
    mirror = _merge_into_mirror(email, store, result.events, full=result.full)
    if result.token != state.token:
        new_state = dataclasses.replace(new_state, token=result.token, synced_at=now)
    if state.token is None and state.observed_since is None:
        # The first sync: weeks that ended before it were never observed (the digest).
        new_state = dataclasses.replace(new_state, observed_since=now)
    if new_state != state:
        store.put_sync(email, new_state)

    person = person.model_copy(update={"timezone": new_state.timezone})
    zone_name = person.zone_name(settings.timezone)
    first, days = analysis_window(now, zone_name, settings.planning_weeks)
    tz = zone(zone_name)
    start = datetime.combine(first, time(), tz)
    events = expand(mirror, start, start + timedelta(days=days + 1))
    remote = {m.hold_id: m for m in mirror if m.hold_id}

    writes: list[tuple[Write, JournalEntry | None]] = []
    if not dry_run:
        writes += _resolve_journal(email, store, calendar, report)
    leaving = person.status is PersonStatus.LEAVING
    stored = store.holds(email)
    # Shared events this person organises first: the personal planner then sees them where
    # they will stand after this scan.
    members, addresses = _members(person, settings, store, stored, events, now, expand)
    shared = reconcile_shared(
        stored, organiser=email, remote=remote, members=members, now=now, leaving=leaving
    )
    after = {h.id: h for h in stored}
    after.update((h.id, h) for h in shared.records)
    after.update((w.hold.id, w.hold) for w in shared.writes)
    organised = {h.id for h in after.values() if h.shared}
    placed_shared = [
        h.occurrence()
        for h in after.values()
        if h.shared and h.status in (HoldStatus.PLACED, HoldStatus.MOVED, HoldStatus.ADOPTED)
    ]
    outcome = reconcile(
        person,
        settings,
        now=now,
        events=[e for e in events if e.hold_id not in organised] + placed_shared,
        remote_holds=remote,
        stored=list(after.values()),
        leaving=leaving,
    )
    outcome = dataclasses.replace(
        outcome,
        writes=shared.writes + outcome.writes,
        records=shared.records + outcome.records,
    )
    today = now.astimezone(tz).date()
    report.overloaded_days = sum(
        1 for load in outcome.loads if load.overloaded and load.date >= today
    )
    report.status = person.status.value
    if dry_run:
        report.outcome = "dry-run"
        report.holds["placed"] = sum(1 for w in outcome.writes if w.op is WriteOp.INSERT)
        return

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

    if not settings.paused:
        # Re-read opt-in right before writing: a person who left meanwhile gets no new hold.
        fresh = store.get_person(email)
        if fresh is not None and fresh.status is person.status:
            resent = {write.hold.id for write, _ in writes}
            writes += [(write, None) for write in outcome.writes if write.hold.id not in resent]
        _apply(email, writes, store, calendar, now, report, addresses)

    report.outcome = "scanned"
    if leaving:
        done = finish_opt_out(store, person, now=now)
        report.status = done.status.value
        if master_key is not None:
            erase_if_requested(store, done, master_key=master_key, now=now)


_RECORD_KEYS = {
    HoldStatus.KEPT: "kept",
    HoldStatus.DISMISSED: "dismissed",
    HoldStatus.REMOVED: "removed",  # a planned shared event that no longer fits anywhere
    HoldStatus.ADOPTED: "adopted",
}


def _members(
    person: Person,
    settings: OrgSettings,
    store: Store,
    stored: Sequence[Hold],
    events: Sequence[CalendarEvent],
    now: datetime,
    expand: Expander,
) -> tuple[dict[str, Members], dict[str, str]]:
    """What the organiser's scan needs of the members of each shared event still ahead:
    who is still opted in, and their day as the slot search sees it, from their mirrors;
    and the addresses behind the active members' pseudonyms, for the writes."""
    tz = zone(person.zone_name(settings.timezone))
    found: dict[str, Person | None] = {}
    calendars: dict[str, tuple[list[MirrorEvent], list[Hold]]] = {}
    addresses: dict[str, str] = {}
    out: dict[str, Members] = {}
    for hold in stored:
        ahead = hold.status in (HoldStatus.PLANNED, HoldStatus.PLACED, HoldStatus.MOVED)
        if not hold.shared or not ahead or hold.end <= now:
            continue
        day = (
            local_instant(hold.day, 0, tz),
            local_instant(hold.day + timedelta(days=1), 0, tz),
        )
        minutes = (int(hold.end.timestamp()) - int(hold.start.timestamp())) // 60
        views = {
            person.email: member_view(
                events,
                stored,
                tz=tz,
                hours=person.hours(settings.working_hours),
                within=day,
                exclude=hold.id,
                minutes=minutes,
            )
        }
        for alias in hold.attendees:
            if alias not in found:
                address = store.address_of(alias)
                found[alias] = store.get_person(address) if address else None
            member = found[alias]
            if member is None or member.status is not PersonStatus.ACTIVE:
                continue  # erased, or no longer opted in: dropped from the event
            addresses[alias] = member.email
            if alias not in calendars:
                calendars[alias] = (store.mirror(member.email), store.holds(member.email))
            mirror, holds = calendars[alias]
            lo = datetime.fromtimestamp(day[0], UTC) - timedelta(days=1)
            hi = datetime.fromtimestamp(day[1], UTC) + timedelta(days=1)
            views[alias] = member_view(
                expand(mirror, lo, hi),
                holds,
                tz=zone(member.zone_name(settings.timezone)),
                hours=member.hours(settings.working_hours),
                within=day,
                exclude=hold.id,
                minutes=minutes,
            )
        out[hold.id] = Members(
            views=views, active=frozenset(addresses) & set(hold.attendees), day=day
        )
    return out, addresses


def _merge_into_mirror(
    email: str, store: Store, changed: list[MirrorEvent], *, full: bool
) -> list[MirrorEvent]:
    """Apply a sync result to the stored mirror, writing only what really differs (a
    delta that merely echoes our own writes costs no Store write)."""
    current = {event.id: event for event in store.mirror(email)}
    if full:
        upserts, deletes = mirror_changes(changed)
        keep = {event.id for event in upserts}
        deletes += [event_id for event_id in current if event_id not in keep]
        merged: dict[str, MirrorEvent] = {}
    else:
        upserts, deletes = mirror_changes(changed)
        merged = dict(current)
    fresh = [event for event in upserts if current.get(event.id) != event]
    gone = [event_id for event_id in dict.fromkeys(deletes) if event_id in current]
    if fresh or gone:
        store.update_mirror(email, fresh, gone)
    for event_id in gone:
        merged.pop(event_id, None)
    merged.update((event.id, event) for event in upserts)
    return list(merged.values())


def _resolve_journal(
    email: str, store: Store, calendar: CalendarGateway, report: ScanReport
) -> list[tuple[Write, JournalEntry | None]]:
    """Settle writes journaled by a scan that died before it knew their outcome.

    A GET of the event decides. Only deletes are ever re-sent: an insert or patch that
    never landed is dropped, and reconcile plans that hold again against the calendar as
    it is now (same id, so nothing can be placed twice and nothing stale is sent).
    """
    resend: list[tuple[Write, JournalEntry | None]] = []
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


def _apply(
    email: str,
    writes: list[tuple[Write, JournalEntry | None]],
    store: Store,
    calendar: CalendarGateway,
    now: datetime,
    report: ScanReport,
    addresses: Mapping[str, str],
) -> None:
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
            _settle_conflict(email, hold, store, calendar, report)
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


def _settle_conflict(
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


def scan_people(
    emails: Sequence[str],
    *,
    store: Store,
    calendar: CalendarGateway,
    now: datetime,
    owner: str,
    overlap: int = 10,
    master_key: bytes | None = None,
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
            )
        except Exception as exc:
            return exc

    if overlap <= 1 or len(emails) <= 1:
        return {email: one(email) for email in emails}
    with ThreadPoolExecutor(max_workers=min(overlap, len(emails))) as pool:
        return dict(zip(emails, pool.map(one, emails), strict=True))
