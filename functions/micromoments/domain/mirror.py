"""The event mirror: what the system keeps of a person's calendar between scans.

Only times, busy/free, kind, declined, status, recurrence rule and exceptions, recurring
ids and our own tags — never titles, descriptions, locations or other people's addresses
(DESIGN.md "State"). The mirror is what makes incremental sync sound: deltas are applied
to it and day loads are recomputed from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from micromoments.domain.calendar import CalendarEvent, EventKind


@dataclass(frozen=True, slots=True)
class MirrorEvent:
    """One event as stored: a single event, a recurring master, or an exception instance.

    ``start_zone`` is the IANA zone the start was written in (Google's ``timeZone``): a
    recurring rule is expanded in it, so a 09:00 stand-up stays 09:00 across DST.
    ``recurrence`` holds RFC 5545 lines (``RRULE:…``, ``EXDATE…``, ``RDATE…``) of a master;
    ``recurring_event_id`` and ``original_start`` mark an exception instance.
    """

    id: str
    start: datetime | date
    end: datetime | date
    kind: EventKind
    busy: bool = True
    declined: bool = False
    cancelled: bool = False
    start_zone: str | None = None
    recurrence: tuple[str, ...] = ()
    recurring_event_id: str | None = None
    original_start: datetime | date | None = None
    hold_id: str | None = None
    hold_kind: str | None = None
    etag: str | None = None
    declines: int = 0  # our shared events: how many other attendees declined (no addresses)

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)

    @property
    def recurring(self) -> bool:
        return bool(self.recurrence)

    @property
    def instance(self) -> bool:
        return self.recurring_event_id is not None

    def occurrence(
        self,
        *,
        uid: str | None = None,
        start: datetime | date | None = None,
        end: datetime | date | None = None,
    ) -> CalendarEvent:
        """This event as the metrics read one occurrence of it (its own times by default)."""
        return CalendarEvent(
            uid=self.id if uid is None else uid,
            start=self.start if start is None else start,
            end=self.end if end is None else end,
            kind=self.kind,
            busy=self.busy,
            declined=self.declined,
            cancelled=self.cancelled,
            hold_id=self.hold_id,
            hold_kind=self.hold_kind,
        )

    def last_day(self) -> date | None:
        """The last local date the event touches, or ``None`` when it recurs forever."""
        if self.recurrence:
            return None
        end = self.end
        return end.date() if isinstance(end, datetime) else end


@dataclass(frozen=True, slots=True)
class SyncState:
    """Where incremental sync stands for one person.

    ``token`` is Google's ``nextSyncToken``, saved only after the last page of a sync.
    ``timezone`` is the zone read from Google settings and ``timezone_checked_at`` when it
    was last read (at the first scan, then weekly). ``observed_since`` is the person's
    first sync, never changed after: a week that ended before it was never observed, and
    the digest shows no numbers for it (None for people synced before it was recorded).
    ``quiet_until`` and ``fingerprint`` are set by a complete scan: until that instant no
    time-driven work is due for the person and settings hashing to that fingerprint, so a
    scan whose delta is empty may stop there (the quick path); None means "scan fully".
    """

    token: str | None = None
    synced_at: datetime | None = None
    timezone: str | None = None
    timezone_checked_at: datetime | None = None
    observed_since: datetime | None = None
    quiet_until: datetime | None = None
    fingerprint: str | None = None


def mirror_changes(changed: list[MirrorEvent]) -> tuple[list[MirrorEvent], list[str]]:
    """What a sync delta does to the mirror: (events to store, ids to delete).

    A cancelled event is kept only where it still means something: an exception instance
    of a recurring event (it removes that occurrence) or one of our holds (the person
    dismissed it). Any other cancelled event is dropped.
    """
    upserts: list[MirrorEvent] = []
    deletes: list[str] = []
    for event in changed:
        if event.cancelled and not event.instance and event.hold_id is None:
            deletes.append(event.id)
        else:
            upserts.append(event)
    return upserts, deletes
