"""An attendee's copy of a shared hold through the real Graph gateway on the local Graph
server (on loopback), which delivers meetings to attendees as Exchange does: the copy is
read as that hold (same hold id and kind as the organiser's event), follows the
organiser's moves, and is never written to by the attendee's scan or gateway."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from micromoments.adapters.graph_calendar import (
    SHARED_HOLD_ID_PROPERTY,
    GraphCalendarGateway,
)
from micromoments.adapters.memory import memory_store
from micromoments.domain.calendar import EventKind
from micromoments.domain.holds import HoldKind, HoldStatus
from micromoments.domain.journal import WriteOp
from micromoments.domain.mirror import MirrorEvent
from micromoments.domain.people import Person, PersonStatus, Preferences
from micromoments.domain.settings import OrgSettings
from micromoments.local.graph_api import GraphServer
from micromoments.local.synthetic import generate_org
from micromoments.ports import CalendarWrite, Store
from micromoments.services.pair import pair_week
from micromoments.services.scan import scan_person
from tests.builders import hold

pytestmark = pytest.mark.integration

ADA = "ada@example.com"  # organises the coffee chat
GRACE = "grace@example.com"  # is invited to it
BERLIN = ZoneInfo("Europe/Berlin")
FULL_FROM = datetime(2026, 3, 9, tzinfo=BERLIN)
NOW = datetime(2026, 3, 9, 6, 0, tzinfo=UTC)  # fixed: nothing depends on today
TUESDAY = date(2026, 3, 10)
COFFEE = hold(HoldKind.COFFEE, TUESDAY, hold_id="mmcoffee01", hour=14, minutes=20, busy=True)


@pytest.fixture
def server() -> Iterator[GraphServer]:
    with GraphServer(page_size=5) as graph:
        graph.add_mailbox(ADA, timezone="W. Europe Standard Time")
        graph.add_mailbox(GRACE, timezone="W. Europe Standard Time")
        yield graph


@pytest.fixture
def store() -> Store:
    store = memory_store()
    store.create_settings(OrgSettings(timezone="Europe/Berlin", allowed_domains=("example.com",)))
    for email in (ADA, GRACE):
        prefs = Preferences(timezone="Europe/Berlin", moments=frozenset({"coffee"}))
        store.create_person(Person(email=email, team="Platform", preferences=prefs))
    return store


def gateway_for(
    server: GraphServer, store: Store, ours: dict[str, set[str]] | None = None
) -> GraphCalendarGateway:
    """The gateway as `wiring` builds it: statuses, our holds and mirrors from the Store
    (``ours`` adds hold ids the Store is made to believe a person owns)."""

    def status_of(email: str) -> PersonStatus | None:
        person = store.get_person(email)
        return person.status if person else None

    transport = server.transport()
    return GraphCalendarGateway(
        transport,
        status_of=status_of,
        ours=lambda email: {h.id for h in store.holds(email)} | (ours or {}).get(email, set()),
        mirrored_holds=lambda email: [e for e in store.mirror(email) if e.hold_id],
    )


def organise(server: GraphServer, store: Store) -> GraphCalendarGateway:
    """Ada's gateway places the coffee chat with Grace as its guest (as the scan would:
    the hold recorded on the organiser only)."""
    store.put_hold(ADA, COFFEE)
    gateway = gateway_for(server, store)
    (result,) = gateway.write(ADA, [CalendarWrite(WriteOp.INSERT, COFFEE, guests=(GRACE,))])
    assert result.status == "ok"
    return gateway


def the_hold(events: list[MirrorEvent]) -> MirrorEvent:
    (found,) = [e for e in events if e.hold_id is not None]
    return found


def test_the_attendees_sync_reads_the_copy_as_the_organisers_shared_hold(
    server: GraphServer, store: Store
) -> None:
    gateway = organise(server, store)
    organisers = the_hold(gateway.sync(ADA, None, full_from=FULL_FROM).events)
    copy = the_hold(gateway.sync(GRACE, None, full_from=FULL_FROM).events)
    assert copy.id != organisers.id  # Exchange gives the attendee an event of their own
    assert dataclasses.replace(copy, id="", etag=None) == dataclasses.replace(
        organisers, id="", etag=None
    )
    assert (copy.hold_id, copy.hold_kind, copy.kind) == ("mmcoffee01", "coffee", EventKind.HOLD)
    assert (copy.start, copy.end, copy.busy, copy.declined) == (
        COFFEE.start,
        COFFEE.end,
        True,
        False,
    )
    (stored,) = server.events(GRACE)
    assert stored["isOrganizer"] is False and stored["transactionId"] is None


def test_the_organisers_move_and_delete_reach_the_attendees_next_delta(
    server: GraphServer, store: Store
) -> None:
    gateway = organise(server, store)
    before = gateway.sync(GRACE, None, full_from=FULL_FROM)
    copy = the_hold(before.events)
    moved = dataclasses.replace(COFFEE, start=COFFEE.start.replace(hour=16))
    moved = dataclasses.replace(moved, end=moved.start + (COFFEE.end - COFFEE.start))
    mover = gateway_for(server, store)  # a later scan's gateway: finds the event by lookup
    (result,) = mover.write(ADA, [CalendarWrite(WriteOp.PATCH, moved)])
    assert result.status == "ok"
    delta = gateway.sync(GRACE, before.token, full_from=FULL_FROM)
    assert not delta.full
    after = the_hold(delta.events)
    assert (after.id, after.hold_id, after.hold_kind) == (copy.id, "mmcoffee01", "coffee")
    assert (after.start, after.end) == (moved.start, moved.end)
    (result,) = gateway.write(ADA, [CalendarWrite(WriteOp.DELETE, moved)])
    cancelled = the_hold(gateway.sync(GRACE, delta.token, full_from=FULL_FROM).events)
    assert cancelled.cancelled and cancelled.hold_id == "mmcoffee01"


def test_a_scan_of_the_attendee_keeps_the_copy_and_makes_no_write(
    server: GraphServer, store: Store
) -> None:
    organise(server, store)
    writes = len(server.write_log)
    scanner = gateway_for(server, store)
    for _ in range(2):
        report = scan_person(GRACE, store=store, calendar=scanner, now=NOW, owner=uuid.uuid4().hex)
        assert report.failed_writes == 0
    assert server.write_log[writes:] == []
    assert [e.hold_id for e in store.mirror(GRACE)] == ["mmcoffee01"]
    assert store.holds(GRACE) == []  # the organiser's record only, as on Google


@pytest.mark.parametrize("known_by", ["sync", "mirror", "lookup"])
def test_a_write_for_the_attendee_never_reaches_their_copy(
    server: GraphServer, store: Store, known_by: str
) -> None:
    """Even a Store that believed Grace owned the hold: neither the ids met in her sync,
    nor her mirror, nor a lookup by hold id in her mailbox name her copy as a write's
    target, though the copy carries the hold's shared tags."""
    organise(server, store)
    (copy,) = server.events(GRACE)
    tags = {p["id"]: p["value"] for p in copy["singleValueExtendedProperties"]}
    assert tags[SHARED_HOLD_ID_PROPERTY] == COFFEE.id  # what a lookup by hold id matches
    if known_by == "mirror":  # an earlier scan mirrored the copy as the shared hold
        scan_person(GRACE, store=store, calendar=gateway_for(server, store), now=NOW, owner="a")
        assert [e.hold_id for e in store.mirror(GRACE)] == [COFFEE.id]
    gateway = gateway_for(server, store, ours={GRACE: {COFFEE.id}})
    if known_by == "sync":
        assert the_hold(gateway.sync(GRACE, None, full_from=FULL_FROM).events).id == copy["id"]
    writes = len(server.write_log)
    results = gateway.write(
        GRACE, [CalendarWrite(WriteOp.PATCH, COFFEE), CalendarWrite(WriteOp.DELETE, COFFEE)]
    )
    assert [r.status for r in results] == ["gone", "gone"]
    assert server.write_log[writes:] == []
    assert gateway.get_event(GRACE, COFFEE.id) is None
    found = gateway.get_event(ADA, COFFEE.id)
    assert found is not None and found.hold_kind == "coffee"
    assert server.events(GRACE) == [copy]


def test_a_paired_synthetic_week_reaches_every_attendee_and_a_rescan_writes_nothing() -> None:
    """The weekly pairing through Graph, then everyone's scans: a further scan of everyone
    (organisers read their attendees' mirrors, which now hold the copies) writes nothing,
    and every coffee chat and watercooler placed is in each attendee's mirror as that
    hold."""
    start = date(2026, 3, 2)  # a Monday: the pairing is for the week of 9 March
    now = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    org = generate_org(8, seed=11, start=start, days=14)
    store = memory_store()
    store.create_settings(org.settings)
    with GraphServer() as server:
        server.seed_org(org)
        gateway = gateway_for(server, store)
        for person in org.people:
            store.create_person(person.person)
            scan_person(person.email, store=store, calendar=gateway, now=now, owner="first")
        report = pair_week(store, gateway, now=now, master_key=b"k" * 32)
        assert report.pairs or report.groups
        for person in org.people:
            scan_person(person.email, store=store, calendar=gateway, now=now, owner="second")
        writes = len(server.write_log)
        for person in org.people:  # attendees scanned before their organiser: now updated
            scan_person(person.email, store=store, calendar=gateway, now=now, owner="third")
        assert server.write_log[writes:] == []
        placed = {
            (h.id, h.kind.value, len(h.attendees))
            for p in org.people
            for h in store.holds(p.email)
            if h.shared and h.status is HoldStatus.PLACED
        }
        assert placed
        for hold_id, kind, attendees in placed:
            mirrored = [
                p.email
                for p in org.people
                for e in store.mirror(p.email)
                if (e.hold_id, e.hold_kind) == (hold_id, kind) and not e.cancelled
            ]
            assert len(mirrored) == 1 + attendees  # the organiser's event and every copy
