"""What the table holds of a person's calendar: never titles, places or other people.

A realistic person from the synthetic organisation is stored with everything a scan
keeps (profile with a don't-pair list, sync state, the event mirror with recurring masters
and exceptions, day loads, holds, journal, digest, lease, sign-in token, session) plus
pairing history and a round. Then every stored item is read back raw, on every backend,
and searched recursively (attribute names and values) for anything that must not be there.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from boto3.dynamodb.types import TypeDeserializer

from micromoments.adapters.dynamo import DynamoTable
from micromoments.adapters.memory import MemoryTable
from micromoments.adapters.table import TableStore
from micromoments.domain.access import Session, SignInToken, secret_hash
from micromoments.domain.calendar import CalendarEvent
from micromoments.domain.day_load import day_loads
from micromoments.domain.holds import Hold, HoldKind, HoldStatus, personal_hold_id
from micromoments.domain.journal import JournalEntry, WriteOp
from micromoments.domain.lease import Lease
from micromoments.domain.mirror import MirrorEvent, SyncState
from micromoments.domain.pairing import PairingGroup, PairingHistoryEntry, PairingRound
from micromoments.domain.people import pseudonym
from micromoments.local.synthetic import (
    SyntheticEvent,
    SyntheticOrg,
    SyntheticPerson,
    generate_org,
    normalised_events,
)

START = date(2026, 11, 23)
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
KEY = b"pseudonym-key-for-tests-32-bytes"
FORBIDDEN_NAMES = {"summary", "title", "description", "location", "attendees", "organizer"}


def mirror_of(person: SyntheticPerson) -> list[MirrorEvent]:
    """The person's calendar as the mirror keeps it: single events, and for each series a
    recurring master plus every occurrence as an exception instance."""
    zone = person.person.timezone
    out: list[MirrorEvent] = []
    masters: dict[str, MirrorEvent] = {}
    occurrences: list[tuple[SyntheticEvent, CalendarEvent]] = list(
        zip(person.events, normalised_events(person), strict=True)
    )
    for event, normal in occurrences:
        timed = isinstance(event.start, datetime)
        common: dict[str, Any] = {
            "start": normal.start,
            "end": normal.end,
            "kind": normal.kind,
            "busy": normal.busy,
            "declined": normal.declined,
            "start_zone": zone if timed else None,
        }
        if event.series_uid is None or event.rrule is None or event.original_start is None:
            out.append(MirrorEvent(id=event.uid, **common))
            continue
        out.append(
            MirrorEvent(
                id=event.uid,
                recurring_event_id=event.series_uid,
                original_start=event.original_start,
                **common,
            )
        )
        first = masters.get(event.series_uid)
        if first is None or event.original_start < first.start:  # type: ignore[operator]
            duration = normal.end - normal.start  # type: ignore[operator]
            masters[event.series_uid] = MirrorEvent(
                id=event.series_uid,
                start=event.original_start,
                end=event.original_start + duration,
                kind=normal.kind,
                busy=normal.busy,
                start_zone=zone,
                recurrence=(f"RRULE:{event.rrule}",),
            )
    return out + list(masters.values())


def addresses(org: SyntheticOrg) -> set[str]:
    """Every address the organisation's calendars mention."""
    found: set[str] = set()
    for person in org.people:
        found.add(person.email)
        for event in person.events:
            found.add(event.organizer)
            found.update(address for address, _ in event.attendees)
    return {a.lower() for a in found}


def strings(value: Any) -> Iterator[str]:
    """Every string inside an item: attribute names, values, nested names and values."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield str(key)
            yield from strings(inner)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for inner in value:
            yield from strings(inner)


def names(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield str(key).lower()
            yield from names(inner)
    elif isinstance(value, (list, tuple)):
        for inner in value:
            yield from names(inner)


def every_item(store: TableStore) -> list[dict[str, Any]]:
    if isinstance(store.table, MemoryTable):
        return store.table.items()
    assert isinstance(store.table, DynamoTable)
    client, deserializer = store.table.client, TypeDeserializer()
    items = []
    for page in client.get_paginator("scan").paginate(TableName=store.table.name):
        for found in page.get("Items", []):
            items.append({name: deserializer.deserialize(v) for name, v in found.items()})
    return items


def test_the_table_keeps_no_titles_places_or_other_peoples_addresses(store: TableStore) -> None:
    org = generate_org(20, seed=3, start=START)
    subject = org.people[0]  # a manager: 1:1s, team series, ad-hoc meetings with colleagues
    me = subject.email
    tz = ZoneInfo(subject.person.timezone or "UTC")
    colleagues = [p.email for p in org.people[1:4]]
    person = subject.person.model_copy(
        update={"preferences": subject.person.preferences.with_dont_pair(KEY, colleagues[:2])}
    )
    assert len(person.preferences.dont_pair) == 2

    # what the scan keeps of this person
    assert store.create_person(person)
    store.put_sync(me, SyncState(token="sync-token-1", synced_at=NOW, timezone=str(tz)))
    mirror = mirror_of(subject)
    assert any(e.recurrence for e in mirror) and any(e.recurring_event_id for e in mirror)
    store.replace_mirror(me, mirror)
    loads = day_loads(
        normalised_events(subject), tz, person.hours(org.settings.working_hours), START, 14
    )
    store.put_day_loads(me, loads)
    for offset, kind in ((1, HoldKind.BREATHER), (2, HoldKind.SOCIAL), (3, HoldKind.COFFEE)):
        day = START + timedelta(days=offset)
        start = datetime(day.year, day.month, day.day, 15, tzinfo=tz)
        hold = Hold(
            id=personal_hold_id(me, kind, day),
            kind=kind,
            start=start,
            end=start + timedelta(minutes=15),
            busy=kind is not HoldKind.SOCIAL,
            day=day,
            status=HoldStatus.PLACED,
        )
        store.put_hold(me, hold)
        store.add_journal(me, JournalEntry(hold.id, 1, WriteOp.INSERT, hold, NOW))
    store.claim_digest(me, "2026-W48", NOW)
    store.acquire_lease(Lease(me, "scan-7f3a", NOW + timedelta(minutes=15)), NOW)
    store.create_sign_in_token(SignInToken(secret_hash("t"), me, NOW + timedelta(minutes=15)))
    store.create_session(Session(secret_hash("s"), me, NOW, NOW))
    # the org's pairing state: pseudonyms only
    mine, theirs = pseudonym(KEY, me), pseudonym(KEY, colleagues[2])
    store.add_pairing_history([PairingHistoryEntry(mine, theirs, "2026-W48")])
    store.create_round(PairingRound("2026-W49", (PairingGroup((mine, theirs)),), NOW))
    store.create_settings(org.settings)

    items = every_item(store)
    assert len(items) > len(mirror)
    others = addresses(org) - {me}
    assert colleagues[0] in others and len(others) > 15
    summaries = {e.summary for p in org.people for e in p.events}
    assert "1:1" in summaries and "Payments stand-up" in summaries

    for item in items:
        assert not FORBIDDEN_NAMES & set(names(item)), item
        for text in strings(item):
            lowered = text.lower()
            for address in others:
                assert address not in lowered, (address, item)
            assert "@" not in lowered.replace(me, ""), item
            for summary in summaries:
                if any(c.isalpha() for c in summary):
                    assert summary not in text, (summary, item)
                assert text.strip() != summary, (summary, item)
