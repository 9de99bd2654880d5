"""Scan step "sync": the person's zone and the incremental sync into the event mirror.

The sync token is saved only once the mirror holds the changes; a delta that merely echoes
our own writes costs no Store write.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, time, timedelta

from micromoments.domain.calendar import zone
from micromoments.domain.mirror import MirrorEvent, SyncState, mirror_changes
from micromoments.domain.people import Person
from micromoments.domain.planner import week_start
from micromoments.domain.settings import OrgSettings
from micromoments.ports import CalendarGateway, Store, SyncResult

TIMEZONE_REFRESH = timedelta(days=7)


def sync(
    person: Person,
    settings: OrgSettings,
    store: Store,
    calendar: CalendarGateway,
    now: datetime,
    prefetched: tuple[str, SyncResult] | None = None,
) -> tuple[Person, list[MirrorEvent], SyncState]:
    """Bring the mirror up to date. Returns the person as this scan sees them (in the zone
    their calendar says), the whole mirror after the sync and the sync state stored.

    ``prefetched`` is a delta the quick path already fetched and the token it fetched it
    from: used when that is still the stored token. The stored quiet time is cleared first
    thing, so a scan that dies half-way leaves the next one a full scan."""
    email = person.email
    state = store.get_sync(email) or SyncState()
    new_state = dataclasses.replace(state, quiet_until=None, fingerprint=None)
    if state.timezone_checked_at is None or now - state.timezone_checked_at >= TIMEZONE_REFRESH:
        new_state = dataclasses.replace(
            new_state, timezone=calendar.timezone(email), timezone_checked_at=now
        )

    if new_state.timezone and new_state.timezone != person.timezone:
        # Google's zone goes on the profile too, so dispatch judges the person's workday by it.
        located = person.model_copy(update={"timezone": new_state.timezone})
        if store.update_person(located, expected_status=person.status):
            person = located

    person_zone = zone(
        person.model_copy(update={"timezone": new_state.timezone}).zone_name(settings.timezone)
    )
    full_from = datetime.combine(
        week_start(now.astimezone(person_zone).date()) - timedelta(weeks=1), time(), person_zone
    )
    if prefetched is not None and state.token is not None and prefetched[0] == state.token:
        result = prefetched[1]
    else:
        result = calendar.sync(email, state.token, full_from=full_from)
    mirror = merge_into_mirror(email, store, result.events, full=result.full)
    if result.token != state.token:
        new_state = dataclasses.replace(new_state, token=result.token, synced_at=now)
    if state.token is None and state.observed_since is None:
        # The first sync: weeks that ended before it were never observed (the digest).
        new_state = dataclasses.replace(new_state, observed_since=now)
    if new_state != state:
        store.put_sync(email, new_state)
    return person.model_copy(update={"timezone": new_state.timezone}), mirror, new_state


def merge_into_mirror(
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
