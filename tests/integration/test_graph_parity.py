"""Parity: one synthetic organisation through Google (the local Calendar v3 server),
through Microsoft Graph (the local Graph server) and as ``.ics`` gives identical day
metrics (those of the synthetic events themselves), identical free/busy (Google's
freeBusy, Graph's getSchedule) and, scanned, identical plans and weekly pairing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from micromoments.adapters.google_calendar import GoogleCalendarGateway
from micromoments.adapters.graph_calendar import GraphCalendarGateway
from micromoments.adapters.ics import read_calendar
from micromoments.adapters.memory import memory_store
from micromoments.adapters.mirror_expansion import expand_mirror
from micromoments.config import Config
from micromoments.domain.day_load import DayLoad, day_loads
from micromoments.domain.holds import HoldKind, HoldStatus
from micromoments.domain.people import PersonStatus
from micromoments.local.calendar_api import CalendarServer
from micromoments.local.graph_api import GraphServer
from micromoments.local.synthetic import SyntheticOrg, generate_org, normalised_events, to_ics
from micromoments.ports import CalendarGateway, Store
from micromoments.services.pair import pair_week
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
        transport = server.transport()
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

    transport = server.transport()
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


@pytest.fixture(scope="module")
def all_day_org() -> SyntheticOrg:
    """Twelve people on the US west and east coasts, some with opaque all-day events
    (offsites) on their own dates, which begin hours after midnight UTC."""
    org = generate_org(12, seed=11, start=START, days=DAYS)
    days_off = [e for p in org.people for e in p.events if not isinstance(e.start, datetime)]
    assert any(not e.transparent for e in days_off)  # what this organisation is here for
    return org


@contextmanager
def both_gateways(org: SyntheticOrg) -> Iterator[tuple[CalendarGateway, CalendarGateway]]:
    """The org on a local Calendar v3 server and a local Graph server, and a gateway to
    each (everyone active)."""
    with CalendarServer() as google_server, GraphServer() as graph_server:
        google_server.seed_org(org)
        graph_server.seed_org(org)
        google_store, graph_store = memory_store(), memory_store()
        google_store.create_settings(org.settings)
        graph_store.create_settings(org.settings)
        for person in org.people:
            google_store.create_person(person.person)
            graph_store.create_person(person.person)
        google = calendar_gateway(
            Config(calendar_api_url=google_server.base_url), table=google_store
        )
        yield google, graph_gateway_for(graph_server, graph_store)


@pytest.mark.parametrize("which", ["org", "all_day_org"])
def test_google_and_graph_give_identical_free_busy(
    which: str, request: pytest.FixtureRequest
) -> None:
    """Busy time as the port promises it, the same through freeBusy and getSchedule:
    tentative, unanswered and out-of-office busy; free, declined, cancelled and working-
    location events not; all-day events on the person's own dates; all cut to the period
    asked (the fortnight, and periods that cut through meetings, days off and all-day
    events at both ends)."""
    org: SyntheticOrg = request.getfixturevalue(which)
    emails = [person.email for person in org.people]
    periods = [
        (datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 16, tzinfo=UTC)),
        (datetime(2026, 3, 4, 12, 10, tzinfo=UTC), datetime(2026, 3, 10, 10, 50, tzinfo=UTC)),
        (datetime(2026, 3, 5, 15, 0, tzinfo=UTC), datetime(2026, 3, 13, 3, 0, tzinfo=UTC)),
    ]
    with both_gateways(org) as (google, graph):
        for start, end in periods:
            through_google = google.free_busy(emails, start, end)
            assert graph.free_busy(emails, start, end) == through_google, (start, end)
            assert all(through_google.values())  # everyone is busy at times: not empty


MASTER_KEY = b"k" * 32


def paired(org: SyntheticOrg, store: Store, gateway: CalendarGateway) -> dict[str, Any]:
    """After everyone's scan, the weekly pairing (its round: groups, slots, reasons) and
    the shared holds it records; then the organisers' scans, and the holds they place."""
    scanned(org, store, gateway)
    report = pair_week(store, gateway, now=NOW, master_key=MASTER_KEY)
    pairing_round = store.get_round(report.iso_week)

    def shared() -> list[Any]:
        return sorted(
            (p.email, h.id, h.kind, h.start, h.end, h.busy, h.attendees, h.status)
            for p in org.people
            for h in store.holds(p.email)
            if h.shared
        )

    planned = shared()
    for person in org.people:
        report_after = scan_person(
            person.email, store=store, calendar=gateway, now=NOW, owner=uuid.uuid4().hex
        )
        assert report_after.failed_writes == 0
    return {
        "report": report.to_json(),
        "round": pairing_round,
        "planned": planned,
        "placed": shared(),
    }


@pytest.mark.parametrize("which", ["org", "all_day_org"])
def test_google_and_graph_give_identical_weekly_pairing(
    which: str, request: pytest.FixtureRequest
) -> None:
    """The same coffee pairs and trios, watercooler drop-ins, times and kinds (and the
    same people left unpaired, for the same reasons) through Google and through Graph:
    the pairing reads the people's busy time through freeBusy on one, getSchedule on the
    other."""
    org: SyntheticOrg = request.getfixturevalue(which)
    with CalendarServer() as google_server, GraphServer() as graph_server:
        google_server.seed_org(org)
        graph_server.seed_org(org)
        google_store, graph_store = memory_store(), memory_store()
        google = calendar_gateway(
            Config(calendar_api_url=google_server.base_url), table=google_store
        )
        graph = graph_gateway_for(graph_server, graph_store)
        through_google = paired(org, google_store, google)
        through_graph = paired(org, graph_store, graph)
    assert through_graph["round"] == through_google["round"]
    assert through_graph == through_google
    placed = through_graph["placed"]
    kinds = {kind for _, _, kind, *_, status in placed if status is HoldStatus.PLACED}
    assert kinds == {HoldKind.COFFEE, HoldKind.WATERCOOLER}  # both kinds were compared
