"""The quick path: a scan of an unchanged calendar with nothing due costs one delta request,
half a read unit and at most one write unit (DESIGN.md "Flow"; docs/decisions.md "Quick
path").

A complete scan records in the sync state until when nothing time-driven is due
(``quiet_until``: the next local midnight, so a new day and a new planning week always get a
complete scan; the next start or end of a stored hold; the weekly zone refresh) and a
fingerprint of the profile and settings it planned with. A later scan reads the profile and
the sync state together (one eventually consistent query), asks Google for the delta and
stops there when the delta is empty, the person is active, the quiet time has not passed
and the fingerprint matches: the plan would be the same, so it reads nothing else, takes no
lease and writes nothing but a new sync token, conditionally on the state it read.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
from collections.abc import Iterable
from datetime import datetime, time, timedelta

from micromoments.domain.calendar import zone
from micromoments.domain.holds import Hold, HoldStatus
from micromoments.domain.mirror import SyncState
from micromoments.domain.people import Person, PersonStatus
from micromoments.domain.planner import week_start
from micromoments.domain.settings import OrgSettings
from micromoments.ports import CalendarGateway, Store, SyncResult
from micromoments.services.scan.scan_report import ScanOutcome, ScanReport
from micromoments.services.scan.sync import TIMEZONE_REFRESH

SETTINGS_TTL = timedelta(minutes=1)
_settings_cache: dict[int, tuple[datetime, OrgSettings]] = {}
_cache_lock = threading.Lock()


def cached_settings(store: Store, now: datetime) -> OrgSettings:
    """The org settings as this process read them for a scan within a minute of ``now`` (one
    read per function instance a minute, not one a scan; by the scans' own clock, so a
    benchmark's hours each read once). Only the quick path's fingerprint uses them: a full
    scan reads them afresh, and a settings change reaches a person at their next full scan
    in any case."""
    key = id(store)
    with _cache_lock:  # held while reading: scans overlapping on a pool read once
        hit = _settings_cache.get(key)
        if hit is not None and timedelta(0) <= now - hit[0] < SETTINGS_TTL:
            return hit[1]
        settings = store.get_settings() or OrgSettings()
        _settings_cache[key] = (now, settings)
        return settings


_SETTLED = frozenset({HoldStatus.KEPT, HoldStatus.REMOVED, HoldStatus.DISMISSED})


def fingerprint(person: Person, settings: OrgSettings, push_address: str | None = None) -> str:
    """A hash of what a scan depends on besides the calendar and the clock: the profile,
    the org's settings, and where push channels send (a scan that starts to keep a channel,
    or moves it, is a full one: only a full scan opens channels)."""
    payload = json.dumps(
        [person.model_dump(mode="json"), settings.to_item(), push_address],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def quiet_until(
    person: Person, settings: OrgSettings, state: SyncState, holds: Iterable[Hold], now: datetime
) -> datetime | None:
    """The first instant after ``now`` at which a plan could differ with the calendar
    unchanged: the next local midnight, the next start or end of a hold not yet settled,
    the zone refresh. None for an organiser of a shared event still to come: its plan
    depends on the members' calendars and status too, which this calendar's delta cannot
    show, so every scan of theirs is a full one."""
    local = person.zone(settings)
    midnight = datetime.combine(now.astimezone(local).date() + timedelta(days=1), time(), local)
    candidates = [midnight]
    if state.timezone_checked_at is not None:
        candidates.append(state.timezone_checked_at + TIMEZONE_REFRESH)
    for hold in holds:
        if hold.shared and hold.status not in _SETTLED and hold.end > now:
            return None
        if hold.status not in _SETTLED:
            candidates += [t for t in (hold.start, hold.end) if t > now]
    return min(candidates)


def try_quick(
    email: str,
    store: Store,
    calendar: CalendarGateway,
    settings: OrgSettings,
    now: datetime,
    report: ScanReport,
    push_address: str | None = None,
) -> bool | tuple[str, SyncResult]:
    """True when the scan is complete without the full flow (``report`` filled in); else
    False, or the delta it fetched and the token it fetched it from (for the full flow)."""
    person, state = store.scan_head(email)
    if person is None or person.status is not PersonStatus.ACTIVE or state is None:
        return False
    if state.token is None or state.quiet_until is None or now >= state.quiet_until:
        return False
    seen = person.model_copy(update={"timezone": state.timezone or person.timezone})
    if state.fingerprint != fingerprint(seen, settings, push_address):
        return False
    person_zone = zone(seen.zone_name(settings.timezone))
    full_from = datetime.combine(
        week_start(now.astimezone(person_zone).date()) - timedelta(weeks=1), time(), person_zone
    )
    result = calendar.sync(email, state.token, full_from=full_from)
    if result.full or result.events:
        # A change (or a token Google no longer honours): the full flow uses this delta
        # when the token it reads under the lease is still the one it was fetched from.
        return state.token, result
    if result.token != state.token:
        after = dataclasses.replace(state, token=result.token, synced_at=now)
        store.replace_sync(email, state, after)  # lost to a concurrent scan: its token wins
    report.outcome = ScanOutcome.SCANNED
    report.quick = True
    report.status = person.status.value
    return True


def wake(store: Store, email: str) -> None:
    """Make the person's next scan a full one (work was added that their calendar's delta
    cannot show: a planned shared event to place)."""
    state = store.get_sync(email)
    if state is not None and state.quiet_until is not None:
        store.put_sync(email, dataclasses.replace(state, quiet_until=None, fingerprint=None))
