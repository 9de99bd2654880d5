"""One Store suite, run on every backend: in memory, moto in-process and moto's HTTP server.

The backends share `TableStore`; what differs is the `Table` under it, so each test here
checks that DynamoDB (as moto implements it) and `MemoryTable` agree on the semantics the
Store relies on: conditional creates, races, sparse index, paging, TTL attributes, batch
retries.
"""

from __future__ import annotations

import dataclasses
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer
from botocore.config import Config
from moto import mock_aws

from micromoments.adapters.dynamo import (
    PITR_KEY,
    TTL_KEY,
    DynamoTable,
    chunked,
    create_table,
    default_template_path,
    dynamo_store,
    table_definition,
)
from micromoments.adapters.memory import MemoryTable
from micromoments.adapters.table import (
    PK,
    ROUND_PART_GROUPS,
    SCAN_INDEX,
    SCAN_INDEX_PK,
    SCAN_INDEX_SK,
    SK,
    TTL_ATTRIBUTE,
    TableStore,
    person_pk,
)
from micromoments.domain.access import Session, SignInToken, secret_hash
from micromoments.domain.calendar import CalendarEvent, EventKind
from micromoments.domain.day_load import day_loads
from micromoments.domain.digest import DigestState
from micromoments.domain.holds import Hold, HoldKind, HoldStatus, personal_hold_id
from micromoments.domain.journal import JournalEntry, WriteOp
from micromoments.domain.lease import Lease
from micromoments.domain.mirror import MirrorEvent, SyncState
from micromoments.domain.pairing import PairingGroup, PairingHistoryEntry, PairingRound
from micromoments.domain.people import Person, PersonStatus, pseudonym
from micromoments.domain.settings import OrgSettings
from micromoments.domain.working_hours import DEFAULT_WORKING_HOURS
from micromoments.ports import PersonNotFound, StoreError
from tests.builders import hold, mirror_event

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = date(2026, 11, 23)
TUESDAY, THURSDAY = MONDAY + timedelta(days=1), MONDAY + timedelta(days=3)
ANA = "ana@example.com"
BEN = "ben@example.com"
KEY = b"pseudonym-key-for-tests-32-bytes"

_T = TypeVar("_T")


# -- helpers ---------------------------------------------------------------------------------------


def is_dynamo(store: TableStore) -> bool:
    return isinstance(store.table, DynamoTable)


def dynamo_table(store: TableStore) -> DynamoTable:
    assert isinstance(store.table, DynamoTable)
    return store.table


def reopened(store: TableStore) -> TableStore:
    """A new Store over the same table, as the next Lambda invocation would build it."""
    if isinstance(store.table, DynamoTable):
        return dynamo_store(store.table.name, client=store.table.client)
    assert isinstance(store.table, MemoryTable)
    return TableStore(store.table)


def raw_item(store: TableStore, pk: str, sk: str) -> dict[str, Any] | None:
    """The stored item as the backend keeps it (for DynamoDB: read with the bare client)."""
    if isinstance(store.table, MemoryTable):
        return store.table.get(pk, sk)
    table = dynamo_table(store)
    found = table.client.get_item(
        TableName=table.name, Key={PK: {"S": pk}, SK: {"S": sk}}, ConsistentRead=True
    ).get("Item")
    if found is None:
        return None
    deserializer = TypeDeserializer()
    return {name: deserializer.deserialize(value) for name, value in found.items()}


def raw_items(store: TableStore) -> list[dict[str, Any]]:
    """Every stored item (MemoryTable.items, or a full scan of the DynamoDB table)."""
    if isinstance(store.table, MemoryTable):
        return store.table.items()
    table = dynamo_table(store)
    deserializer = TypeDeserializer()
    out = []
    for page in table.client.get_paginator("scan").paginate(
        TableName=table.name, ConsistentRead=True
    ):
        for found in page.get("Items", []):
            out.append({name: deserializer.deserialize(v) for name, v in found.items()})
    return out


def epoch(value: datetime) -> int:
    return int(value.timestamp())


def day_expiry(day: date) -> int:
    return epoch(datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1, weeks=8))


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN)


def race(*calls: Callable[[], _T]) -> list[_T]:
    """Run the calls in threads released together; their results in call order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Callable[[], _T]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except BaseException as exc:  # re-raised in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    if errors:
        raise errors[0]
    return results


class ReadThen:
    """A `Table` whose first `get` runs ``between`` before it answers: the interleaving a
    race only sometimes hits (this writer reads, another writes, this writer writes on
    what it read), forced on every backend."""

    def __init__(self, table: Any, between: Callable[[], object]) -> None:
        self.table = table
        self.between: Callable[[], object] | None = between

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        found = self.table.get(pk, sk)
        if self.between is not None:
            between, self.between = self.between, None
            between()
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self.table, name)


def session_from(store: TableStore, token: SignInToken, secret: str) -> Session:
    """A session made as signing in makes it: from a stored token, used at NOW."""
    used = store.consume_sign_in_token(token.token_hash, NOW)
    assert used is not None and used.generation
    session = Session(secret_hash(secret), used.email, NOW, NOW, used.generation)
    assert store.create_session(session) is True
    return session


def issued(store: TableStore, secret: str, email: str = ANA) -> SignInToken:
    token = SignInToken(secret_hash(secret), email, NOW + timedelta(minutes=15))
    assert store.create_sign_in_token(token) is True
    return token


def meeting(event_id: str, start: datetime, minutes: int) -> MirrorEvent:
    return mirror_event(event_id, start, start + timedelta(minutes=minutes))


def as_calendar_event(event: MirrorEvent) -> CalendarEvent:
    """A non-recurring mirror event as the metrics read it."""
    assert not event.recurring
    return event.occurrence()


def loads_from_mirror(store: TableStore, email: str) -> None:
    """Recompute the week's day loads from the mirror and store them (what a scan does)."""
    events = [as_calendar_event(e) for e in store.mirror(email)]
    store.put_day_loads(email, day_loads(events, BERLIN, DEFAULT_WORKING_HOURS, MONDAY, 7))


def count_calls(store: TableStore, operation: str) -> list[str]:
    """Record every call of ``operation`` the store's DynamoDB client makes from now on."""
    calls: list[str] = []

    def record(**kwargs: Any) -> None:
        calls.append(operation)

    dynamo_table(store).client.meta.events.register(f"before-call.dynamodb.{operation}", record)
    return calls


# -- settings and people ---------------------------------------------------------------------------


def test_settings_are_created_once_and_round_trip(store: TableStore) -> None:
    assert store.get_settings() is None
    first = OrgSettings(allowed_domains=("example.com",), timezone="Europe/Berlin")
    assert store.create_settings(first) is True
    assert store.create_settings(OrgSettings(meeting_minutes_max=200)) is False
    assert store.get_settings() == first

    changed = first.updated({"meeting_minutes_max": "240", "paused": "true"})
    store.put_settings(changed)
    assert store.get_settings() == changed
    assert reopened(store).get_settings() == changed


def test_people_are_created_once_read_and_updated(store: TableStore) -> None:
    ana = Person(email=ANA, team="payments", timezone="Europe/Berlin")
    assert store.create_person(ana) is True
    assert store.create_person(ana.model_copy(update={"team": "search"})) is False
    assert store.get_person(ANA) == ana
    assert store.get_person(BEN) is None

    leaving = ana.model_copy(update={"status": PersonStatus.LEAVING})
    assert store.update_person(leaving, expected_status=PersonStatus.ACTIVE) is True
    assert store.get_person(ANA) == leaving
    # the stored status is no longer active: the condition fails, nothing changes
    suspended = ana.model_copy(update={"status": PersonStatus.SUSPENDED})
    assert store.update_person(suspended, expected_status=PersonStatus.ACTIVE) is False
    assert store.get_person(ANA) == leaving
    assert store.update_person(suspended) is True
    assert store.get_person(ANA) == suspended

    with pytest.raises(PersonNotFound):
        store.update_person(Person(email=BEN))
    with pytest.raises(PersonNotFound):
        store.update_person(Person(email=BEN), expected_status=PersonStatus.ACTIVE)


def test_two_writers_racing_on_the_status_exactly_one_wins(store: TableStore) -> None:
    ana = Person(email=ANA)
    store.create_person(ana)
    for _ in range(3):
        store.update_person(ana)  # back to active
        leaving = ana.model_copy(update={"status": PersonStatus.LEAVING})
        suspended = ana.model_copy(update={"status": PersonStatus.SUSPENDED})
        # both writers read `active` and write on that condition
        results = race(
            partial(store.update_person, leaving, expected_status=PersonStatus.ACTIVE),
            partial(store.update_person, suspended, expected_status=PersonStatus.ACTIVE),
        )
        assert sorted(results) == [False, True]
        winner = leaving if results[0] else suspended
        assert store.get_person(ANA) == winner


def test_a_status_write_on_a_stale_read_loses_to_the_writer_in_between(
    store: TableStore,
) -> None:
    ana = Person(email=ANA)
    store.create_person(ana)
    leaving = ana.model_copy(update={"status": PersonStatus.LEAVING})
    suspended = ana.model_copy(update={"status": PersonStatus.SUSPENDED})
    other = reopened(store)
    between: list[bool] = []
    late = TableStore(
        ReadThen(
            store.table,
            lambda: between.append(
                other.update_person(suspended, expected_status=PersonStatus.ACTIVE)
            ),
        )
    )
    # read `active`, lose the write to the other writer, read again: no longer active
    assert late.update_person(leaving, expected_status=PersonStatus.ACTIVE) is False
    assert between == [True]
    assert store.get_person(ANA) == suspended

    # without an expected status the late writer retries on the fresh read and wins
    erasing = TableStore(ReadThen(store.table, lambda: other.request_erasure(ANA)))
    assert erasing.update_person(leaving) is True
    assert store.get_person(ANA) == leaving
    assert raw_item(store, person_pk(ANA), "PROFILE")["erase_requested"] is True  # type: ignore[index]


def test_list_people_and_the_sparse_scannable_index(store: TableStore) -> None:
    statuses = [
        PersonStatus.ACTIVE,
        PersonStatus.LEAVING,
        PersonStatus.OPTED_OUT,
        PersonStatus.SUSPENDED,
    ]
    people = [Person(email=f"person{i:02d}@example.com", status=statuses[i % 4]) for i in range(30)]
    for person in people:
        assert store.create_person(person)
    scannable = sorted(p.email for p in people if p.status in statuses[:2])

    assert sorted(p.email for p in store.list_people()) == sorted(p.email for p in people)
    assert list(store.scannable_people()) == scannable

    # only active and leaving people are in the index at all
    indexed = [item for item in raw_items(store) if SCAN_INDEX_PK in item]
    assert sorted(item[SCAN_INDEX_SK] for item in indexed) == scannable

    # a status change moves the person out of (and back into) the sparse index
    store.update_person(people[0].model_copy(update={"status": PersonStatus.OPTED_OUT}))
    store.update_person(people[2].model_copy(update={"status": PersonStatus.ACTIVE}))
    expected = sorted({*scannable, people[2].email} - {people[0].email})
    assert list(store.scannable_people()) == expected

    if is_dynamo(store):
        # small pages: the generators follow LastEvaluatedKey to the last page
        table = dynamo_table(store)
        paged = TableStore(DynamoTable(table.client, table.name, page_size=4))
        queries = count_calls(paged, "Query")
        assert list(paged.scannable_people()) == expected
        assert len(queries) >= len(expected) // 4
        queries.clear()
        assert sorted(p.email for p in paged.list_people()) == sorted(p.email for p in people)
        assert len(queries) >= 30 // 4


def test_erasure_waits_for_opted_out_and_removes_every_item(store: TableStore) -> None:
    ana, ben = Person(email=ANA), Person(email=BEN)
    for person in (ana, ben):
        store.create_person(person)
        store.put_sync(person.email, SyncState(token="t", synced_at=NOW, timezone="UTC"))
        store.update_mirror(person.email, [meeting("ev1", at(TUESDAY, 10), 30)])
        loads_from_mirror(store, person.email)
        store.put_hold(person.email, hold(day=TUESDAY, owner=person.email))
        entry = JournalEntry("h1", 1, WriteOp.INSERT, hold(day=TUESDAY, owner=person.email), NOW)
        store.add_journal(person.email, entry)
        store.claim_digest(person.email, "2026-W48", NOW)
        store.acquire_lease(Lease(person.email, "scan-1", NOW + timedelta(minutes=5)), NOW)
    ben_items = sorted((i[PK], i[SK]) for i in raw_items(store) if BEN in str(i[PK]))

    with pytest.raises(PersonNotFound):
        store.request_erasure("nobody@example.com")
    assert store.erasure_requested(ANA) is False
    store.request_erasure(ANA)
    assert store.erasure_requested(ANA) is True
    with pytest.raises(StoreError, match="opted out"):
        store.erase_person(ANA)
    assert store.get_person(ANA) == ana

    store.update_person(ana.model_copy(update={"status": PersonStatus.LEAVING}))
    with pytest.raises(StoreError, match="opted out"):
        store.erase_person(ANA)
    store.update_person(ana.model_copy(update={"status": PersonStatus.OPTED_OUT}))
    assert store.erasure_requested(ANA) is True  # the request survives status changes

    # sign-in tokens and sessions carry the address under keys of their own
    session_from(store, issued(store, "t-ana"), "s-ana")
    # so does the alias that lets an organiser's scan invite them to a shared event
    store.put_aliases({"ana-pseudonym": ANA, "ben-pseudonym": BEN})
    assert store.address_of("ana-pseudonym") == ANA

    stored = [i for i in raw_items(store) if i[PK] == person_pk(ANA)]
    assert len(stored) > 9
    # the person's items, their membership, the token, the session and the alias
    assert store.erase_person(ANA) == len(stored) + 4
    assert [i for i in raw_items(store) if ANA in repr(i)] == []
    assert store.address_of("ana-pseudonym") is None
    assert store.address_of("ben-pseudonym") == BEN
    assert store.get_session(secret_hash("s-ana"), NOW) is None
    assert store.get_person(ANA) is None
    assert [p.email for p in store.list_people()] == [BEN]
    assert store.erase_person(ANA) == 0
    # the other person is untouched (but for their own new alias pointer)
    bens = sorted((i[PK], i[SK]) for i in raw_items(store) if BEN in str(i[PK]))
    assert bens == sorted([*ben_items, (person_pk(BEN), "ALIAS#ben-pseudonym")])


# -- the lease -------------------------------------------------------------------------------------


def test_lease_contention_expiry_and_takeover(store: TableStore) -> None:
    first = Lease(ANA, "scan-a", NOW + timedelta(minutes=15))
    assert store.acquire_lease(first, NOW) is True
    second = Lease(ANA, "scan-b", NOW + timedelta(minutes=20))
    assert store.acquire_lease(second, NOW + timedelta(minutes=5)) is False
    assert store.acquire_lease(second, NOW + timedelta(minutes=15) - timedelta(seconds=1)) is False
    # a different person's lease is independent
    assert store.acquire_lease(Lease(BEN, "scan-b", NOW + timedelta(minutes=15)), NOW) is True

    # the first holder's lease expired: the second takes it over
    takeover_at = NOW + timedelta(minutes=15)
    taken = Lease(ANA, "scan-b", takeover_at + timedelta(minutes=15))
    assert store.acquire_lease(taken, takeover_at) is True
    # the late first scan releases "its" lease: the new holder's lease stays
    store.release_lease(first)
    third = Lease(ANA, "scan-c", takeover_at + timedelta(minutes=30))
    assert store.acquire_lease(third, takeover_at + timedelta(minutes=1)) is False
    item = raw_item(store, person_pk(ANA), "LEASE")
    assert item is not None and item["owner"] == "scan-b"

    store.release_lease(taken)
    assert raw_item(store, person_pk(ANA), "LEASE") is None
    assert store.acquire_lease(third, takeover_at + timedelta(minutes=1)) is True
    store.release_lease(Lease("nobody@example.com", "scan-z", NOW))  # nothing to release


def test_racing_scans_get_the_lease_once(store: TableStore) -> None:
    leases = [Lease(ANA, f"scan-{i}", NOW + timedelta(minutes=15)) for i in range(2)]
    results = race(*(partial(store.acquire_lease, lease, NOW) for lease in leases))
    assert sorted(results) == [False, True]


# -- the journal -----------------------------------------------------------------------------------


def test_journal_add_is_conditional_and_mark_applied_clears_pending(store: TableStore) -> None:
    h = hold(day=TUESDAY, owner=ANA, status=HoldStatus.PLANNED)
    insert = JournalEntry(h.id, 1, WriteOp.INSERT, h, NOW)
    patch = JournalEntry(h.id, 2, WriteOp.PATCH, h, NOW + timedelta(seconds=1))
    assert store.add_journal(ANA, insert) is True
    assert store.add_journal(ANA, insert) is False
    assert store.add_journal(ANA, patch) is True
    assert store.pending_journal(ANA) == [insert, patch]
    store.mark_applied(ANA, insert)
    assert store.pending_journal(ANA) == [patch]
    assert store.pending_journal(BEN) == []


def test_journal_replay_after_a_crash_between_journal_and_apply(store: TableStore) -> None:
    placed = Hold(
        id=personal_hold_id(ANA, HoldKind.SOCIAL, THURSDAY, generation=2),
        kind=HoldKind.SOCIAL,
        start=at(THURSDAY, 15, 30),
        end=at(THURSDAY, 16),
        busy=False,
        day=THURSDAY,
        generation=2,
        status=HoldStatus.PLACED,
    )
    entry = JournalEntry(placed.id, 7, WriteOp.INSERT, placed, NOW)
    assert store.add_journal(ANA, entry)
    # the scan crashes here: before the Calendar write and before mark_applied

    next_scan = reopened(store)  # a new invocation builds a new Store over the same table
    pending = next_scan.pending_journal(ANA)
    assert pending == [entry]
    assert pending[0].hold == placed  # the whole hold: id, kind, slot, busy, generation
    assert pending[0].hold.start.utcoffset() == timedelta(hours=1)
    next_scan.mark_applied(ANA, pending[0])
    assert next_scan.pending_journal(ANA) == []
    assert reopened(store).pending_journal(ANA) == []


# -- the mirror and day loads ----------------------------------------------------------------------


def test_moving_a_meeting_in_the_mirror_moves_its_minutes_between_days(store: TableStore) -> None:
    store.create_person(Person(email=ANA, timezone="Europe/Berlin"))
    review = meeting("review", at(TUESDAY, 10), 60)
    events = [
        review,
        meeting("standup-tue", at(TUESDAY, 9, 30), 15),
        meeting("planning", at(THURSDAY, 14), 30),
        MirrorEvent(id="focus", start=at(THURSDAY, 9), end=at(THURSDAY, 11), kind=EventKind.SOLO),
    ]
    store.update_mirror(ANA, events)
    assert sorted(store.mirror(ANA), key=lambda e: e.id) == sorted(events, key=lambda e: e.id)
    loads_from_mirror(store, ANA)
    before = {load.date: load for load in store.day_loads(ANA, MONDAY, MONDAY + timedelta(6))}
    assert len(before) == 7
    assert before[TUESDAY].meeting_minutes == 75
    assert before[THURSDAY].meeting_minutes == 30

    # the review moved from Tuesday 10:00 to Thursday 11:00 (a sync delta upserts it)
    moved = meeting("review", at(THURSDAY, 11), 60)
    store.update_mirror(ANA, [moved])
    assert {e.id: e for e in store.mirror(ANA)}["review"] == moved
    loads_from_mirror(store, ANA)
    after = {load.date: load for load in store.day_loads(ANA, MONDAY, MONDAY + timedelta(6))}
    assert after[TUESDAY].meeting_minutes == before[TUESDAY].meeting_minutes - 60
    assert after[THURSDAY].meeting_minutes == before[THURSDAY].meeting_minutes + 60
    assert after[MONDAY] == before[MONDAY]
    # the range read returns only the dates asked for, in order
    assert [load.date for load in store.day_loads(ANA, TUESDAY, THURSDAY)] == [
        TUESDAY,
        TUESDAY + timedelta(1),
        THURSDAY,
    ]

    # a delete in a delta removes the event
    store.update_mirror(ANA, [], deletes=["standup-tue"])
    assert "standup-tue" not in {e.id for e in store.mirror(ANA)}


def test_replace_mirror_drops_stale_events_and_keeps_every_field(store: TableStore) -> None:
    master = MirrorEvent(
        id="standup",
        start=at(MONDAY, 9, 30),
        end=at(MONDAY, 9, 45),
        kind=EventKind.MEETING,
        start_zone="Europe/Berlin",
        recurrence=(
            "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
            "EXDATE;TZID=Europe/Berlin:20261125T093000",
        ),
    )
    exception = MirrorEvent(
        id="standup_20261126T083000Z",
        start=at(THURSDAY, 10),
        end=at(THURSDAY, 10, 15),
        kind=EventKind.MEETING,
        declined=True,
        recurring_event_id="standup",
        original_start=at(THURSDAY, 9, 30),
    )
    offsite = MirrorEvent(
        id="offsite", start=TUESDAY, end=TUESDAY + timedelta(1), kind=EventKind.ALL_DAY
    )
    ours = MirrorEvent(
        id="mmabc",
        start=at(TUESDAY, 15),
        end=at(TUESDAY, 15, 30),
        kind=EventKind.HOLD,
        busy=False,
        hold_id="mmabc",
        hold_kind="social",
    )
    old = [meeting(f"old{i}", at(MONDAY, 13), 30) for i in range(30)]
    store.update_mirror(ANA, [*old, master])
    current = [master, exception, offsite, ours, old[0]]
    store.replace_mirror(ANA, current)
    assert sorted(store.mirror(ANA), key=lambda e: e.id) == sorted(current, key=lambda e: e.id)
    store.replace_mirror(ANA, [])
    assert store.mirror(ANA) == []


def test_many_items_are_written_and_read_across_batches_and_pages(store: TableStore) -> None:
    events = [meeting(f"ev{i:03d}", at(MONDAY, 9) + timedelta(minutes=i), 5) for i in range(130)]
    # a key twice in one batch: the last write wins, as for single writes
    store.update_mirror(ANA, [*events, meeting("ev000", at(TUESDAY, 9), 5)])
    mirror = {e.id: e for e in store.mirror(ANA)}
    assert len(mirror) == 130
    assert mirror["ev000"].start == at(TUESDAY, 9)
    if is_dynamo(store):
        table = dynamo_table(store)
        paged = TableStore(DynamoTable(table.client, table.name, page_size=50))
        queries = count_calls(paged, "Query")
        assert len(paged.mirror(ANA)) == 130
        assert len(queries) == 3
    store.update_mirror(ANA, [], deletes=[e.id for e in events] + ["ev000"])
    assert store.mirror(ANA) == []


# -- retention -------------------------------------------------------------------------------------


def test_items_carry_the_retention_ttl(store: TableStore) -> None:
    store.create_person(Person(email=ANA))
    store.create_settings(OrgSettings())
    past = MONDAY - timedelta(weeks=2)
    loads = day_loads([], BERLIN, DEFAULT_WORKING_HOURS, past, 3)
    store.put_day_loads(ANA, loads)
    single = meeting("single", at(TUESDAY, 10), 30)
    master = MirrorEvent(
        id="weekly",
        start=at(MONDAY, 9),
        end=at(MONDAY, 10),
        kind=EventKind.MEETING,
        recurrence=("RRULE:FREQ=WEEKLY",),
    )
    store.update_mirror(ANA, [single, master])
    store.put_hold(ANA, hold(day=TUESDAY, owner=ANA))
    entry = JournalEntry("h1", 1, WriteOp.DELETE, hold(day=TUESDAY, owner=ANA), NOW)
    store.add_journal(ANA, entry)
    token = issued(store, "token")
    session = session_from(store, issued(store, "token-for-the-session"), "session")
    store.acquire_lease(Lease(ANA, "scan-1", NOW + timedelta(minutes=15)), NOW)
    store.claim_digest(ANA, "2026-W48", NOW)

    def ttl(pk: str, sk: str) -> Any:
        item = raw_item(store, pk, sk)
        assert item is not None, (pk, sk)
        return item.get(TTL_ATTRIBUTE)

    for load in loads:  # past days: 8 weeks after the day ends
        assert ttl(person_pk(ANA), f"LOAD#{load.date}") == day_expiry(load.date)
    assert ttl(person_pk(ANA), "EVENT#single") == day_expiry(TUESDAY)
    assert ttl(person_pk(ANA), "EVENT#weekly") is None  # a recurring master never expires
    assert ttl(person_pk(ANA), f"HOLD#{hold(day=TUESDAY, owner=ANA).id}") == day_expiry(TUESDAY)
    assert ttl(person_pk(ANA), f"JOURNAL#{entry.key}") == epoch(NOW + timedelta(days=30))
    assert ttl(f"SESSION#{session.session_hash}", "SESSION") == epoch(NOW + timedelta(hours=8))
    # a sign-in token is kept 15 minutes (DESIGN.md "Retention"); code checks expiry too
    assert ttl(f"TOKEN#{token.token_hash}", "TOKEN") == epoch(token.expires_at)
    # the sign-in generation outlives every session its tokens may become
    assert ttl(person_pk(ANA), "SIGN_IN") == epoch(token.expires_at + timedelta(days=7))
    later = SignInToken(secret_hash("later"), ANA, NOW + timedelta(hours=1))
    store.create_sign_in_token(later)  # a later link keeps it longer, the same generation
    assert ttl(person_pk(ANA), "SIGN_IN") == epoch(later.expires_at + timedelta(days=7))
    assert store.get_session(session.session_hash, NOW) == session
    assert ttl(person_pk(ANA), "LEASE") == epoch(NOW + timedelta(minutes=15, days=1))
    assert ttl(person_pk(ANA), "DIGEST#2026-W48") == epoch(NOW + timedelta(weeks=8))
    assert ttl(person_pk(ANA), "PROFILE") is None
    assert ttl("ORG", "SETTINGS") is None
    assert ttl("ORG", f"MEMBER#{ANA}") is None
    # DynamoDB's TTL needs a Number attribute
    for item in raw_items(store):
        if TTL_ATTRIBUTE in item:
            assert isinstance(item[TTL_ATTRIBUTE], int) or item[TTL_ATTRIBUTE] % 1 == 0

    # touching a session moves its expiry
    store.touch_session(session.session_hash, NOW + timedelta(hours=2))
    assert ttl(f"SESSION#{session.session_hash}", "SESSION") == epoch(NOW + timedelta(hours=10))

    if isinstance(store.table, MemoryTable):
        table = store.table
        for now in (
            NOW + timedelta(hours=11),
            NOW + timedelta(days=2),
            NOW + timedelta(days=31),
            datetime(2027, 3, 1, tzinfo=UTC),
        ):
            before = table.items()
            doomed = {
                (i[PK], i[SK])
                for i in before
                if i.get(TTL_ATTRIBUTE) is not None and i[TTL_ATTRIBUTE] < epoch(now)
            }
            assert table.expire(now) == len(doomed)
            remaining = {(i[PK], i[SK]) for i in table.items()}
            assert remaining == {(i[PK], i[SK]) for i in before} - doomed
        left = {(i[PK], i[SK]) for i in table.items()}
        assert left == {
            (person_pk(ANA), "PROFILE"),
            (person_pk(ANA), "EVENT#weekly"),
            ("ORG", "SETTINGS"),
            ("ORG", f"MEMBER#{ANA}"),
        }
    else:
        description = dynamo_table(store).client.describe_time_to_live(
            TableName=dynamo_table(store).name
        )["TimeToLiveDescription"]
        assert description.get("TimeToLiveStatus") == "ENABLED"
        assert description.get("AttributeName") == TTL_ATTRIBUTE


# -- coffee pairing --------------------------------------------------------------------------------


def test_pairing_history_is_pseudonymised_and_purged_both_ways(store: TableStore) -> None:
    ana, ben, cleo, dev = (
        pseudonym(KEY, f"{name}@example.com") for name in ("ana", "ben", "cleo", "dev")
    )
    store.add_pairing_history(
        [
            PairingHistoryEntry(ana, ben, "2026-W47"),
            PairingHistoryEntry(ana, cleo, "2026-W48", ("coffee", "watercooler")),
            PairingHistoryEntry(ben, dev, "2026-W48"),
        ]
    )
    assert {(e.partner, e.iso_week) for e in store.pairing_history(ana)} == {
        (ben, "2026-W47"),
        (cleo, "2026-W48"),
    }
    assert {(e.partner, e.iso_week) for e in store.pairing_history(ben)} == {
        (ana, "2026-W47"),
        (dev, "2026-W48"),
    }
    assert store.pairing_history(cleo) == [
        PairingHistoryEntry(cleo, ana, "2026-W48", ("coffee", "watercooler"))
    ]
    pairing_round = PairingRound(
        iso_week="2026-W49",
        groups=(
            PairingGroup((ana, dev), at(THURSDAY, 11), at(THURSDAY, 11, 20)),
            PairingGroup((ben, cleo), reason="no common free slot"),
        ),
        created_at=NOW,
    )
    assert store.create_round(pairing_round) is True
    assert store.create_round(pairing_round) is False
    assert store.get_round("2026-W49") == pairing_round
    assert store.get_round("2026-W50") is None

    stored = [i for i in raw_items(store) if str(i[PK]).startswith("PAIRS#") or "ROUND#" in i[SK]]
    assert len(stored) == 6 + 2  # history both ways; the round's header and its one part
    assert "@" not in repr(stored)

    assert store.purge_pseudonym(ana) == 4 + 1  # two entries both ways, one round
    assert store.pairing_history(ana) == []
    assert [e.partner for e in store.pairing_history(ben)] == [dev]
    assert store.pairing_history(cleo) == []
    purged = store.get_round("2026-W49")
    assert purged is not None
    assert [g.members for g in purged.groups] == [(dev,), (ben, cleo)]
    assert ana not in repr(raw_items(store))
    assert store.purge_pseudonym(ana) == 0


def test_a_large_round_is_saved_in_parts_and_a_lost_race_leaves_nothing(
    store: TableStore,
) -> None:
    pairs = [
        PairingGroup((f"p{n:05d}a", f"p{n:05d}b"), at(THURSDAY, 11), at(THURSDAY, 11, 20))
        for n in range(2 * ROUND_PART_GROUPS + 1)
    ]
    drop_in = PairingGroup(("t1", "t2", "t3"), kind=HoldKind.WATERCOOLER, team="Platform")
    groups = (*pairs, drop_in)
    pairing_round = PairingRound(iso_week="2026-W50", groups=groups, created_at=NOW)
    assert store.create_round(pairing_round) is True
    rounds = [i for i in raw_items(store) if str(i[SK]).startswith("ROUND#2026-W50")]
    assert len(rounds) == 1 + 3  # the header and three parts, none near DynamoDB's 400 KB
    assert max(len(repr(i)) for i in rounds) < 100_000
    assert store.get_round("2026-W50") == pairing_round

    rival = PairingRound(iso_week="2026-W50", groups=groups[:1], created_at=NOW)
    assert store.create_round(rival) is False
    assert store.get_round("2026-W50") == pairing_round
    after = [i for i in raw_items(store) if str(i[SK]).startswith("ROUND#2026-W50")]
    assert len(after) == len(rounds)  # the loser's parts are gone


# -- digests, sign-in tokens, sessions -------------------------------------------------------------


def test_a_digest_is_claimed_once_then_marked_sent(store: TableStore) -> None:
    assert store.get_digest(ANA, "2026-W48") is None
    assert store.claim_digest(ANA, "2026-W48", NOW) is True
    assert store.claim_digest(ANA, "2026-W48", NOW + timedelta(minutes=1)) is False
    claimed = store.get_digest(ANA, "2026-W48")
    assert claimed is not None and (claimed.state, claimed.at) == (DigestState.CLAIMED, NOW)
    store.mark_digest_sent(ANA, "2026-W48", NOW + timedelta(seconds=3))
    sent = store.get_digest(ANA, "2026-W48")
    assert sent is not None and sent.state is DigestState.SENT
    assert store.claim_digest(ANA, "2026-W48", NOW + timedelta(hours=1)) is False
    assert store.claim_digest(ANA, "2026-W49", NOW + timedelta(weeks=1)) is True


def test_a_sign_in_token_is_created_once_and_consumed_once(store: TableStore) -> None:
    token = SignInToken(secret_hash("secret-1"), ANA, NOW + timedelta(minutes=15))
    assert store.create_sign_in_token(token) is True
    assert store.create_sign_in_token(token) is False
    used = store.consume_sign_in_token(token.token_hash, NOW + timedelta(minutes=1))
    assert used == dataclasses.replace(token, generation=used.generation if used else "")
    assert used is not None and len(used.generation) == 32
    assert store.consume_sign_in_token(token.token_hash, NOW + timedelta(minutes=2)) is None

    late = SignInToken(secret_hash("secret-2"), ANA, NOW + timedelta(minutes=15))
    store.create_sign_in_token(late)
    assert store.consume_sign_in_token(late.token_hash, NOW + timedelta(minutes=15)) is None
    assert store.consume_sign_in_token(secret_hash("never issued"), NOW) is None
    # an expired token stays unused: it is refused in code, not by deletion
    item = raw_item(store, f"TOKEN#{late.token_hash}", "TOKEN")
    assert item is not None and item["used"] is False


def test_two_requests_racing_with_one_token_only_one_signs_in(store: TableStore) -> None:
    for i in range(3):
        token = SignInToken(secret_hash(f"race-{i}"), ANA, NOW + timedelta(minutes=15))
        store.create_sign_in_token(token)
        consume = partial(store.consume_sign_in_token, token.token_hash, NOW)
        results = race(consume, consume)
        assert sorted(r is None for r in results) == [False, True]


def test_a_token_read_before_another_request_used_it_signs_nobody_in(store: TableStore) -> None:
    token = SignInToken(secret_hash("interleaved"), ANA, NOW + timedelta(minutes=15))
    store.create_sign_in_token(token)
    other = reopened(store)
    between: list[SignInToken | None] = []
    late = TableStore(
        ReadThen(
            store.table,
            lambda: between.append(other.consume_sign_in_token(token.token_hash, NOW)),
        )
    )
    assert late.consume_sign_in_token(token.token_hash, NOW) is None
    assert len(between) == 1 and between[0] is not None
    assert between[0].token_hash == token.token_hash


def test_a_rate_limit_counts_up_to_its_limit_and_refusals_count_nothing(
    store: TableStore,
) -> None:
    expires = NOW + timedelta(hours=2)
    assert store.rate_count("k1", "2026-11-25T10") == 0
    assert [store.take("k1", "2026-11-25T10", expires, 3) for _ in range(5)] == [
        True, True, True, False, False,
    ]  # fmt: skip
    assert store.rate_count("k1", "2026-11-25T10") == 3  # the refusals were not counted
    assert store.take("k1", "2026-11-25T11", expires, 3) is True  # a new window
    assert store.take("k2", "2026-11-25T10", expires, 3) is True  # another key
    (item,) = [i for i in raw_items(store) if i[PK] == "RATE#k1" and i[SK] == "2026-11-25T10"]
    assert item["expires_at"] == int(expires.timestamp())


def test_racing_requests_never_count_past_the_limit(store: TableStore) -> None:
    expires = NOW + timedelta(hours=2)
    results = race(*[partial(store.take, "k", "w", expires, 4) for _ in range(8)])
    assert sorted(results) == [False] * 4 + [True] * 4
    assert store.rate_count("k", "w") == 4


def test_a_link_generation_is_bumped_past_every_earlier_one_and_outlives_erasure(
    store: TableStore,
) -> None:
    assert store.link_generation("h-ana") == 0
    keep = NOW + timedelta(days=91)
    first = store.bump_link_generation("h-ana", NOW, keep)
    assert first == int(NOW.timestamp()) and store.link_generation("h-ana") == first
    assert store.bump_link_generation("h-ana", NOW, keep) == first + 1  # same second: still up
    store.create_person(Person(email=ANA, status=PersonStatus.OPTED_OUT))
    store.erase_person(ANA)
    assert store.link_generation("h-ana") == first + 1
    assert store.link_generation("h-ben") == 0
    (item,) = [i for i in raw_items(store) if i[PK] == "LINKS#h-ana"]
    assert item["expires_at"] == int(keep.timestamp())
    assert ANA not in repr(item)


def test_sessions_expire_when_idle_or_old_and_can_be_deleted(store: TableStore) -> None:
    session = session_from(store, issued(store, "token-1"), "session-1")
    assert store.create_session(session) is False
    assert store.get_session(session.session_hash, NOW + timedelta(hours=1)) == session
    assert store.get_session(session.session_hash, NOW + timedelta(hours=8)) is None  # idle
    assert store.get_session(secret_hash("unknown"), NOW) is None

    # used every 7 hours it lives on, but never past 7 days
    seen = NOW
    while seen + timedelta(hours=7) < NOW + timedelta(days=7):
        seen += timedelta(hours=7)
        store.touch_session(session.session_hash, seen)
    alive = store.get_session(session.session_hash, NOW + timedelta(days=7) - timedelta(minutes=1))
    assert alive is not None and alive.last_seen_at == seen
    assert store.get_session(session.session_hash, NOW + timedelta(days=7)) is None
    # touching an expired session does not revive it
    store.touch_session(session.session_hash, NOW + timedelta(days=7, hours=1))
    assert store.get_session(session.session_hash, NOW + timedelta(days=7, hours=1)) is None

    other = session_from(store, issued(store, "token-2"), "session-2")
    store.delete_session(other.session_hash)
    assert store.get_session(other.session_hash, NOW) is None
    store.touch_session(other.session_hash, NOW)  # a logged-out session is not recreated
    assert raw_item(store, f"SESSION#{other.session_hash}", "SESSION") is None
    store.delete_session(other.session_hash)  # deleting twice is fine


def test_ending_the_sessions_ends_every_session_and_unused_link_of_the_address(
    store: TableStore,
) -> None:
    sessions = [session_from(store, issued(store, f"t-{i}"), f"s-{i}") for i in range(2)]
    in_flight = store.consume_sign_in_token(issued(store, "t-in-flight").token_hash, NOW)
    assert in_flight is not None  # used, but its session is not written yet
    unused = issued(store, "t-unused")
    bens = session_from(store, issued(store, "t-ben", BEN), "s-ben")
    assert [store.get_session(s.session_hash, NOW) for s in sessions] == sessions
    assert store.peek_sign_in_token(unused.token_hash, NOW) is not None

    store.end_sessions(ANA)
    for session in sessions:
        assert store.get_session(session.session_hash, NOW) is None
        assert store.session_current(session) is False
        store.touch_session(session.session_hash, NOW)  # not revived
    assert store.peek_sign_in_token(unused.token_hash, NOW) is None
    assert store.consume_sign_in_token(unused.token_hash, NOW) is None
    # a session made from a link used before the end is of the ended generation
    late = Session(secret_hash("s-late"), ANA, NOW, NOW, in_flight.generation)
    store.create_session(late)
    assert store.get_session(late.session_hash, NOW) is None
    # the items went too (the late one aside); the other address is untouched
    kept = {(i[PK], i[SK]) for i in raw_items(store) if ANA in repr(i)}
    assert kept == {(f"SESSION#{late.session_hash}", "SESSION"),
                    (person_pk(ANA), f"SESSION#{late.session_hash}")}  # fmt: skip
    assert store.get_session(bens.session_hash, NOW) == bens

    fresh = session_from(store, issued(store, "t-fresh"), "s-fresh")
    assert fresh.generation != in_flight.generation
    assert store.get_session(fresh.session_hash, NOW) == fresh
    store.end_sessions("nobody@example.com")  # nothing to end: fine


def test_erasing_an_address_without_a_profile_leaves_nothing_under_it(store: TableStore) -> None:
    session_from(store, issued(store, "t-ana"), "s-ana")
    issued(store, "t-ana-unused")
    store.put_aliases({"ana-alias": ANA, "ben-alias": BEN})
    ben = Person(email=BEN)
    store.create_person(ben)
    session_from(store, issued(store, "t-ben", BEN), "s-ben")
    bens = sorted((i[PK], i[SK]) for i in raw_items(store) if BEN in repr(i))

    assert store.erase_address(BEN) is False  # a profile: that is erase_person's job
    assert sorted((i[PK], i[SK]) for i in raw_items(store) if BEN in repr(i)) == bens
    assert [i for i in raw_items(store) if ANA in repr(i)] != []
    assert store.erase_address(ANA) is True
    assert [i for i in raw_items(store) if ANA in repr(i)] == []
    assert store.address_of("ana-alias") is None and store.address_of("ben-alias") == BEN
    assert store.get_person(BEN) == ben
    assert store.erase_address(ANA) is True  # nothing there: still true


# -- batch writes under throttling (DynamoDB only) -------------------------------------------------


class Throttle:
    """Makes DynamoDB leave part of each BatchWriteItem unprocessed, as it does throttled.

    Before the request is sent, all but ``keep`` of its items are held back (so they are
    really not written); after the call they are put into the response's UnprocessedItems.
    Applies to the first ``times`` calls.
    """

    def __init__(self, table: DynamoTable, *, times: int, keep: Callable[[int], int]) -> None:
        self.table = table
        self.times = times
        self.keep = keep
        self.offered: list[int] = []  # items in each request
        self.calls: list[int] = []  # items really sent per call
        self.held: list[Any] = []
        events = table.client.meta.events
        events.register("provide-client-params.dynamodb.BatchWriteItem", self.hold_back)
        events.register("after-call.dynamodb.BatchWriteItem", self.report)

    def hold_back(self, params: dict[str, Any], **kwargs: Any) -> None:
        requests = params["RequestItems"][self.table.name]
        self.held = []
        self.offered.append(len(requests))
        if len(self.calls) < self.times:
            kept = max(1, self.keep(len(requests)))
            self.held = requests[kept:]
            params["RequestItems"][self.table.name] = requests[:kept]
        self.calls.append(len(params["RequestItems"][self.table.name]))

    def report(self, parsed: dict[str, Any], **kwargs: Any) -> None:
        if self.held:
            unprocessed = parsed.setdefault("UnprocessedItems", {})
            unprocessed.setdefault(self.table.name, []).extend(self.held)


def throttled_store(store: TableStore) -> tuple[TableStore, DynamoTable, list[float]]:
    if not is_dynamo(store):
        pytest.skip("unprocessed batch items are a DynamoDB behaviour")
    table = dynamo_table(store)
    sleeps: list[float] = []
    paced = DynamoTable(table.client, table.name, sleep=sleeps.append, random=lambda: 1.0)
    return TableStore(paced), paced, sleeps


def test_unprocessed_batch_items_are_retried_with_backoff(store: TableStore) -> None:
    throttled, table, sleeps = throttled_store(store)
    throttle = Throttle(table, times=3, keep=lambda n: n // 2)
    events = [meeting(f"ev{i:03d}", at(MONDAY, 9), 30) for i in range(60)]
    throttled.update_mirror(ANA, events)

    assert len(store.mirror(ANA)) == 60
    assert sum(throttle.calls) == 60  # every item was sent exactly once in the end
    # chunks of 25, 25, 10; throttled 3 times, the first chunk took 4 calls (12+6+3+4)
    assert throttle.calls[:4] == [12, 6, 3, 4]
    assert throttle.calls[4:] == [25, 10]
    assert sleeps == [0.05, 0.1, 0.2]  # exponential backoff, jitter source fixed at 1.0


def test_batch_items_never_processed_raise_store_error(store: TableStore) -> None:
    throttled, table, sleeps = throttled_store(store)
    throttle = Throttle(table, times=1000, keep=lambda n: 1)
    events = [meeting(f"ev{i:03d}", at(MONDAY, 9), 30) for i in range(30)]
    with pytest.raises(StoreError, match=r"left 22 of 30 items unwritten after 8 attempts"):
        throttled.update_mirror(ANA, events)
    assert throttle.offered == [25, 24, 23, 22, 21, 20, 19, 18]
    assert throttle.calls == [1] * 8
    assert len(store.mirror(ANA)) == 8  # one item got through per attempt
    assert sleeps == [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 2.0]  # capped at 2 s


def test_backoff_is_jittered_and_bounded() -> None:
    draws = iter([0.5, 0.0, 0.999])
    table = DynamoTable(None, "t", random=lambda: next(draws))  # type: ignore[arg-type]
    assert table._backoff(1) == 0.025
    assert table._backoff(2) == 0.0
    assert table._backoff(20) == pytest.approx(1.998)


def test_chunked_splits_at_the_limit() -> None:
    assert [list(c) for c in chunked(list(range(7)), 3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(chunked([], 25)) == []
    with pytest.raises(ValueError):
        list(chunked([1], 0))


# -- the table definition and DynamoDB's failures --------------------------------------------------


def test_the_table_definition_comes_from_template_yaml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MICROMOMENTS_TEMPLATE", raising=False)
    assert default_template_path() == Path(__file__).resolve().parents[2] / "template.yaml"
    definition = table_definition()
    assert {k["AttributeName"]: k["KeyType"] for k in definition["KeySchema"]} == {
        PK: "HASH",
        SK: "RANGE",
    }
    [index] = [i for i in definition["GlobalSecondaryIndexes"] if i["IndexName"] == SCAN_INDEX]
    assert index["KeySchema"][0] == {"AttributeName": SCAN_INDEX_PK, "KeyType": "HASH"}
    assert index["KeySchema"][1] == {"AttributeName": SCAN_INDEX_SK, "KeyType": "RANGE"}
    types = {a["AttributeName"]: a["AttributeType"] for a in definition["AttributeDefinitions"]}
    assert types == {PK: "S", SK: "S", SCAN_INDEX_PK: "S", SCAN_INDEX_SK: "S"}
    assert definition["BillingMode"] == "PAY_PER_REQUEST"
    assert "TableName" not in definition
    assert definition[TTL_KEY] == TTL_ATTRIBUTE
    assert definition[PITR_KEY] is True


def test_the_template_loader_reads_cloudformation_short_forms(tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(
        """
Conditions:
  Prod: !Equals [!Ref Stage, prod]
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "${AWS::StackName}-table"
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      Tags: [{Key: arn, Value: !GetAtt Other.Arn}, {Key: j, Value: !Join ["-", [a, b]]}]
      PointInTimeRecoverySpecification:
        PointInTimeRecoveryEnabled: !If [Prod, true, false]
""",
        encoding="utf-8",
    )
    with pytest.raises(StoreError, match=r"PointInTimeRecoverySpecification uses Fn::If"):
        table_definition(template)
    template.write_text(template.read_text().replace("!If [Prod, true, false]", "false"))
    definition = table_definition(template)
    assert definition["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert definition[TTL_KEY] is None
    assert definition[PITR_KEY] is False

    template.write_text(
        template.read_text().replace("BillingMode: PAY_PER_REQUEST", "BillingMode: !Ref Mode")
    )
    with pytest.raises(StoreError, match=r"Table\.BillingMode uses Ref"):
        table_definition(template)
    with pytest.raises(StoreError, match="cannot read the table definition"):
        table_definition(tmp_path / "missing.yaml")
    (tmp_path / "other.yaml").write_text("Resources: {Queue: {Type: AWS::SQS::Queue}}\n")
    with pytest.raises(StoreError, match="no `Table` resource"):
        table_definition(tmp_path / "other.yaml")


def test_the_template_path_can_be_overridden(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MICROMOMENTS_TEMPLATE", str(tmp_path / "elsewhere.yaml"))
    assert default_template_path() == tmp_path / "elsewhere.yaml"
    with pytest.raises(StoreError, match=r"elsewhere\.yaml"):
        table_definition()


@pytest.mark.integration
def test_create_table_is_idempotent_and_enables_ttl_and_recovery() -> None:
    with mock_aws():
        client = boto3.client("dynamodb")
        assert create_table(client, "micromoments") is True
        assert create_table(client, "micromoments") is False
        table = client.describe_table(TableName="micromoments")["Table"]
        assert table["TableStatus"] == "ACTIVE"
        assert [i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])] == [SCAN_INDEX]
        ttl = client.describe_time_to_live(TableName="micromoments")["TimeToLiveDescription"]
        assert (ttl.get("TimeToLiveStatus"), ttl.get("AttributeName")) == (
            "ENABLED",
            TTL_ATTRIBUTE,
        )
        backups = client.describe_continuous_backups(TableName="micromoments")
        recovery = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
        assert recovery.get("PointInTimeRecoveryStatus") == "ENABLED"


@pytest.mark.integration
def test_a_missing_table_is_one_clear_line(moto_server_url: str) -> None:
    client = boto3.client("dynamodb", endpoint_url=moto_server_url)
    store = dynamo_store("not-created", client=client)
    with pytest.raises(StoreError) as raised:
        store.get_person(ANA)
    assert str(raised.value) == "table 'not-created' does not exist: run `micromoments init`"
    with pytest.raises(StoreError, match="does not exist"):
        list(store.list_people())
    with pytest.raises(StoreError, match="does not exist"):
        store.put_day_loads(ANA, day_loads([], BERLIN, DEFAULT_WORKING_HOURS, MONDAY, 1))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.integration
def test_an_unreachable_endpoint_is_one_clear_line() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    config = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=2)
    client = boto3.client("dynamodb", endpoint_url=endpoint, config=config)
    with pytest.raises(StoreError) as raised:
        dynamo_store("micromoments", client=client).get_settings()
    assert str(raised.value) == f"cannot reach DynamoDB at {endpoint}"


@pytest.mark.integration
def test_missing_credentials_are_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, moto_server_url: str
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # a new session: boto3's default session keeps the credentials it found earlier
    client = boto3.session.Session().client("dynamodb", endpoint_url=moto_server_url)
    with pytest.raises(StoreError) as raised:
        dynamo_store("micromoments", client=client).get_settings()
    assert str(raised.value) == (
        "no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
    )


@pytest.mark.integration
def test_other_failures_name_the_operation_and_code(moto_server_url: str) -> None:
    client = boto3.client("dynamodb", endpoint_url=moto_server_url)
    name = f"micromoments-test-{uuid.uuid4().hex[:12]}"
    create_table(client, name)
    try:
        table = DynamoTable(client, name)
        with pytest.raises(StoreError, match=r"^DynamoDB PutItem failed: ValidationException: "):
            table.put({PK: "", SK: "x"})
    finally:
        client.delete_table(TableName=name)


def test_no_region_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(StoreError, match="no AWS region"):
        dynamo_store("micromoments")


def test_numbers_come_back_as_int_and_nesting_survives(store: TableStore) -> None:
    item = {
        PK: "X",
        SK: "Y",
        "n": 12,
        "big": 2**53 + 1,
        "neg": -3,
        "flag": False,
        "none": None,
        "nested": [1, [2, {"three": 3, "list": []}], {"m": {"deep": [4]}}],
        "empty": {},
        "text": "",
    }
    store.table.put(item)
    back = store.table.get("X", "Y")
    assert back == item
    assert back is not None and type(back["n"]) is int and type(back["nested"][0]) is int
    assert [found[SK] for found in store.table.query("X")] == ["Y"]
    assert list(store.table.query("X", "Z")) == []


def test_holds_and_journal_settle_in_batches(store: TableStore) -> None:
    store.create_person(Person(email=ANA))
    days = [TUESDAY + timedelta(days=i) for i in range(30)]  # more than one batch of 25
    holds = [hold(day=day, owner=ANA) for day in days]
    entries = [JournalEntry(h.id, 1, WriteOp.INSERT, h, NOW) for h in holds]
    for entry in entries:
        assert store.add_journal(ANA, entry)
    store.put_holds(ANA, [dataclasses.replace(h, status=HoldStatus.PLACED) for h in holds])
    store.mark_all_applied(ANA, entries)
    assert store.pending_journal(ANA) == []
    assert {h.id: h.status for h in store.holds(ANA)} == {h.id: HoldStatus.PLACED for h in holds}


def test_a_hold_keeps_every_field_and_stores_the_late_copy_flag_only_when_set(
    store: TableStore,
) -> None:
    store.create_person(Person(email=ANA))
    plain = hold(day=TUESDAY, owner=ANA, status=HoldStatus.PLACED, etag='"3"')
    settling = hold(
        day=THURSDAY, owner=ANA, status=HoldStatus.MOVED, etag='"7"', late_copy_possible=True
    )
    store.put_holds(ANA, [plain, settling])
    assert {h.id: h for h in store.holds(ANA)} == {plain.id: plain, settling.id: settling}
    assert "late_copy_possible" not in raw_item(store, person_pk(ANA), f"HOLD#{plain.id}")  # type: ignore[operator]
    store.put_hold(ANA, dataclasses.replace(settling, late_copy_possible=False))
    assert not {h.id: h for h in store.holds(ANA)}[settling.id].late_copy_possible
