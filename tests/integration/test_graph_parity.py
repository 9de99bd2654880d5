"""Parity: one synthetic organisation through Google (the local Calendar v3 server) and
through Microsoft Graph (the local Graph server) gives identical day metrics, and both
match the metrics of the synthetic events themselves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from micromoments.adapters.google_calendar import GoogleCalendarGateway
from micromoments.adapters.graph_calendar import GraphCalendarGateway, GraphTransport
from micromoments.adapters.mirror_expansion import expand_mirror
from micromoments.config import Config
from micromoments.domain.day_load import DayLoad, day_loads
from micromoments.domain.people import PersonStatus
from micromoments.local.calendar_api import CalendarServer
from micromoments.local.graph_api import GraphServer
from micromoments.local.synthetic import SyntheticOrg, generate_org, normalised_events
from micromoments.ports import CalendarCounters, CalendarGateway

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


def test_google_and_graph_give_identical_day_metrics(
    org: SyntheticOrg, google: CalendarGateway, graph: CalendarGateway
) -> None:
    overloaded = 0
    for person in org.people:
        zone_name = person.person.zone_name(org.settings.timezone)
        assert google.timezone(person.email) == graph.timezone(person.email) == zone_name
        through_google = loads_through(google, org, person.email)
        through_graph = loads_through(graph, org, person.email)
        truth = day_loads(
            normalised_events(person), ZoneInfo(zone_name), org.settings.working_hours, START, DAYS
        )
        assert through_graph == through_google == truth, person.email
        overloaded += sum(load.overloaded for load in truth)
    assert overloaded > 0  # the org has heavy days: the comparison is not of empty weeks
