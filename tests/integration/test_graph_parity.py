"""Parity: one synthetic organisation through Google (the local Calendar v3 server),
through Microsoft Graph (the local Graph server) and as ``.ics`` gives identical day
metrics (those of the synthetic events themselves) and, scanned, identical plans."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from micromoments.adapters.google_calendar import GoogleCalendarGateway
from micromoments.adapters.graph_calendar import GraphCalendarGateway, GraphTransport
from micromoments.adapters.ics import read_calendar
from micromoments.adapters.memory import memory_store
from micromoments.adapters.mirror_expansion import expand_mirror
from micromoments.config import Config
from micromoments.domain.day_load import DayLoad, day_loads
from micromoments.domain.people import PersonStatus
from micromoments.local.calendar_api import CalendarServer
from micromoments.local.graph_api import GraphServer
from micromoments.local.synthetic import SyntheticOrg, generate_org, normalised_events, to_ics
from micromoments.ports import CalendarCounters, CalendarGateway, Store
from micromoments.services.scan import scan_person
from micromoments.wiring import calendar_gateway

pytestmark = pytest.mark.integration

START = date(2026, 3, 2)  # a Monday; fixed, so nothing depends on today
DAYS = 14


@pytest.fixture(scope="module")
def org() -> SyntheticOrg:
    return generate_org(8, seed=11, start=START, days=DAYS)


@pytest.fixture(scope="module")
def google(org: SyntheticOrg) -> Iterator[CalendarGateway]:
    with CalendarServer() as server:
        server.seed_org(org)
        yield GoogleCalendarGateway(
            Config(calendar_api_url=server.base_url),
            status_of=lambda email: PersonStatus.ACTIVE,
            ours=lambda email: set(),
        )


@pytest.fixture(scope="module")
def graph(org: SyntheticOrg) -> Iterator[CalendarGateway]:
    with GraphServer(page_size=40) as server:
        server.seed_org(org)
        transport = GraphTransport(
            api_url=server.base_url,
            authority=server.authority,
            tenant=server.tenant,
            client_id=server.client_id,
            client_secret=server.client_secret,
            counters=CalendarCounters(),
        )
        yield GraphCalendarGateway(
            transport, status_of=lambda email: PersonStatus.ACTIVE, ours=lambda email: set()
        )


def loads_through(gateway: CalendarGateway, org: SyntheticOrg, email: str) -> list[DayLoad]:
    zone = ZoneInfo(gateway.timezone(email))
    first = datetime(START.year, START.month, START.day, tzinfo=zone)
    synced = gateway.sync(email, None, full_from=first - timedelta(days=1))
    events = expand_mirror(synced.events, start=first, end=first + timedelta(days=DAYS))
    return day_loads(events, zone, org.settings.working_hours, START, DAYS)


def test_google_graph_and_ics_give_identical_day_metrics(
    org: SyntheticOrg, google: CalendarGateway, graph: CalendarGateway
) -> None:
    overloaded = 0
    for person in org.people:
        zone_name = person.person.zone_name(org.settings.timezone)
        assert google.timezone(person.email) == graph.timezone(person.email) == zone_name
        through_google = loads_through(google, org, person.email)
        through_graph = loads_through(graph, org, person.email)
        zone = ZoneInfo(zone_name)
        truth = day_loads(normalised_events(person), zone, org.settings.working_hours, START, DAYS)
        first = datetime(START.year, START.month, START.day, tzinfo=zone)
        from_ics = read_calendar(
            to_ics(person), me=person.email, start=first, end=first + timedelta(days=DAYS)
        ).events
        through_ics = day_loads(from_ics, zone, org.settings.working_hours, START, DAYS)
        assert through_graph == through_google == through_ics == truth, person.email
        overloaded += sum(load.overloaded for load in truth)
    assert overloaded > 0  # the org has heavy days: the comparison is not of empty weeks


NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # Monday morning of the synthetic fortnight


def graph_gateway_for(server: GraphServer, store: Store) -> GraphCalendarGateway:
    def status_of(email: str) -> PersonStatus | None:
        person = store.get_person(email)
        return person.status if person else None

    transport = GraphTransport(
        api_url=server.base_url,
        authority=server.authority,
        tenant=server.tenant,
        client_id=server.client_id,
        client_secret=server.client_secret,
        counters=CalendarCounters(),
    )
    return GraphCalendarGateway(
        transport,
        status_of=status_of,
        ours=lambda email: {h.id for h in store.holds(email)},
        mirrored_holds=lambda email: [e for e in store.mirror(email) if e.hold_id],
    )


def scanned(org: SyntheticOrg, store: Store, gateway: CalendarGateway) -> dict[str, Any]:
    """Each person's holds (id, kind, times, busy, status) and day loads after a scan."""
    store.create_settings(org.settings)
    out: dict[str, Any] = {}
    for person in org.people:
        store.create_person(person.person)
        report = scan_person(
            person.email, store=store, calendar=gateway, now=NOW, owner=uuid.uuid4().hex
        )
        assert report.failed_writes == 0
        holds = sorted(
            (h.id, h.kind, h.start, h.end, h.busy, h.status) for h in store.holds(person.email)
        )
        out[person.email] = (holds, store.day_loads(person.email, START, START + timedelta(DAYS)))
    return out


def test_google_and_graph_give_identical_plans_and_a_rescan_writes_nothing(
    org: SyntheticOrg,
) -> None:
    with CalendarServer() as google_server, GraphServer() as graph_server:
        google_server.seed_org(org)
        graph_server.seed_org(org)
        google_store, graph_store = memory_store(), memory_store()
        google = calendar_gateway(
            Config(calendar_api_url=google_server.base_url), table=google_store
        )
        graph = graph_gateway_for(graph_server, graph_store)
        through_google = scanned(org, google_store, google)
        through_graph = scanned(org, graph_store, graph)
        assert through_graph == through_google
        placed = sum(len(holds) for holds, _ in through_graph.values())
        assert placed > 0  # the org gets holds: the plans compared are not empty
        writes = len(graph_server.write_log)
        for person in org.people:  # the second run reads its own holds back: writes nothing
            scan_person(
                person.email, store=graph_store, calendar=graph, now=NOW, owner=uuid.uuid4().hex
            )
        assert len(graph_server.write_log) == writes
        requests = graph.counters.requests
        for person in org.people:  # then a rescan of an unchanged calendar is one request
            report = scan_person(
                person.email, store=graph_store, calendar=graph, now=NOW, owner=uuid.uuid4().hex
            )
            assert report.quick
        assert graph.counters.requests - requests == len(org.people)
