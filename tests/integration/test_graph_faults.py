"""A storm on Graph: throttling, server errors and writes whose answer is lost, with few
retries so scans fail and are redelivered; afterwards no hold is lost or doubled, no event
of ours is stray and no event of the person's was written to."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from micromoments.adapters.graph_calendar import GraphCalendarGateway
from micromoments.adapters.graph_calendar.events import HOLD_ID_PROPERTY
from micromoments.adapters.memory import memory_store
from micromoments.domain.holds import HoldStatus
from micromoments.domain.people import PersonStatus
from micromoments.local.graph_api import GraphServer
from micromoments.local.synthetic import generate_org
from micromoments.ports import CalendarError, Store
from micromoments.services.scan import scan_person

pytestmark = pytest.mark.integration

START = date(2026, 3, 2)
NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
LIVE = (HoldStatus.PLACED, HoldStatus.MOVED, HoldStatus.ADOPTED, HoldStatus.KEPT)


def gateway_for(server: GraphServer, store: Store, attempts: int) -> GraphCalendarGateway:
    def status_of(email: str) -> PersonStatus | None:
        person = store.get_person(email)
        return person.status if person else None

    transport = server.transport(max_attempts=attempts, sleep=lambda seconds: None)
    return GraphCalendarGateway(
        transport,
        status_of=status_of,
        ours=lambda email: {h.id for h in store.holds(email)},
        mirrored_holds=lambda email: [e for e in store.mirror(email) if e.hold_id],
    )


def scan_until_done(email: str, store: Store, gateway: GraphCalendarGateway, now: datetime) -> int:
    """Scan as SQS would: a scan that raises is delivered again, a little later (journal
    entries are keyed by the scan's time); how many deliveries."""
    for delivery in range(1, 40):
        later = now + timedelta(seconds=delivery)
        try:
            report = scan_person(
                email, store=store, calendar=gateway, now=later, owner=uuid.uuid4().hex
            )
        except CalendarError:
            continue
        if report.failed_writes == 0:
            return delivery
    raise AssertionError(f"{email}: never scanned cleanly")


def hold_id_of(event: dict[str, Any]) -> str | None:
    for prop in event.get("singleValueExtendedProperties") or []:
        if prop["id"] == HOLD_ID_PROPERTY:
            return str(prop["value"])
    return None


def test_a_storm_on_graph_loses_doubles_and_strays_nothing() -> None:
    org = generate_org(6, seed=5, start=START, days=14)
    store = memory_store()
    store.create_settings(org.settings)
    with GraphServer(seed=9) as server:
        server.seed_org(org)
        foreign = {e["id"] for p in org.people for e in server.events(p.email)}
        for person in org.people:
            store.create_person(person.person)
        server.throttle_rate, server.fault_rate, server.lost_reply_rate = 0.1, 0.2, 0.2
        stormy = gateway_for(server, store, attempts=2)
        redelivered = 0
        for now in (NOW, NOW + timedelta(days=1, hours=2), NOW + timedelta(days=2)):
            for person in org.people:
                redelivered += scan_until_done(person.email, store, stormy, now) - 1
        server.throttle_rate = server.fault_rate = server.lost_reply_rate = 0.0
        calm = gateway_for(server, store, attempts=6)
        for person in org.people:
            scan_until_done(person.email, store, calm, NOW + timedelta(days=2))

        assert redelivered > 0  # the storm did make scans fail
        assert not any(w.event_id in foreign for w in server.write_log if w.method != "create")
        placed = 0
        for person in org.people:
            on_calendar = Counter(
                hold_id_of(e) for e in server.events(person.email) if hold_id_of(e) is not None
            )
            assert all(n == 1 for n in on_calendar.values()), person.email  # no duplicate
            live = {h.id for h in store.holds(person.email) if h.status in LIVE}
            assert set(on_calendar) == live, person.email  # none lost, none stray
            assert store.pending_journal(person.email) == []
            placed += len(live)
        assert placed > 0
