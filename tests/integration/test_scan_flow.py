"""The scan end to end: the real Google client against the local Calendar server over HTTP,
the real boto3 against moto's DynamoDB server."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import httplib2
import pytest
from googleapiclient.discovery import build

from micromoments.adapters.dynamo import DynamoTable, create_table
from micromoments.adapters.google_calendar import GoogleCalendarGateway
from micromoments.adapters.ics import read_calendar
from micromoments.adapters.table import Cond, Item, TableStore
from micromoments.config import Config
from micromoments.domain.day_load import day_loads
from micromoments.domain.holds import HoldKind, HoldStatus
from micromoments.domain.people import Person, PersonStatus
from micromoments.domain.settings import OrgSettings
from micromoments.local.calendar_api import CalendarServer
from micromoments.services.scan import ScanReport, scan_person
from micromoments.services.scan.quick import cached_settings
from micromoments.wiring import calendar_gateway

pytestmark = pytest.mark.integration

ANA = "ana@example.com"
BEN = "ben@example.com"
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # Monday 08:00 in Berlin
RUNS = [("09:00", "10:00"), ("10:00", "11:00"), ("11:00", "12:00"),
        ("13:00", "14:00"), ("14:00", "15:00"), ("15:00", "16:00")]  # fmt: skip


def at(day: int, clock: str) -> datetime:
    hour, minute = map(int, clock.split(":"))
    return datetime(2026, 11, day, hour, minute, tzinfo=BERLIN)


def meeting(event_id: str, day: int, start: str, end: str) -> dict[str, Any]:
    return {
        "id": event_id,
        "status": "confirmed",
        "summary": "Quarterly planning (confidential)",
        "start": {"dateTime": at(day, start).isoformat(), "timeZone": "Europe/Berlin"},
        "end": {"dateTime": at(day, end).isoformat(), "timeZone": "Europe/Berlin"},
        "organizer": {"email": BEN},
        "attendees": [
            {"email": ANA, "self": True, "responseStatus": "accepted"},
            {"email": BEN, "responseStatus": "accepted"},
        ],
    }


class CountingTable(DynamoTable):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.writes: list[str] = []

    def put(self, item: Item, *, condition: Cond | None = None) -> None:
        self.writes.append(str(item["sk"]).split("#")[0])
        super().put(item, condition=condition)

    def delete(self, pk: str, sk: str, *, condition: Cond | None = None) -> None:
        self.writes.append(sk.split("#", maxsplit=1)[0])
        super().delete(pk, sk, condition=condition)

    def batch_put(self, items: Any) -> None:
        self.writes.extend(str(i["sk"]).split("#")[0] for i in items)
        super().batch_put(items)


class World:
    def __init__(self, server: CalendarServer, moto_url: str) -> None:
        self.server = server
        client = boto3.client("dynamodb", endpoint_url=moto_url)
        name = f"scan-{uuid.uuid4().hex[:10]}"
        create_table(client, name)
        self.table = CountingTable(client, name)
        self.store = TableStore(self.table)
        self.store.create_settings(
            OrgSettings(timezone="Europe/Berlin", allowed_domains=("example.com",))
        )
        self.config = Config(calendar_api_url=server.base_url)
        self.gateway = calendar_gateway(self.config, table=self.store)
        for email in (ANA, BEN):
            server.add_calendar(email, timezone="Europe/Berlin")
            self.store.create_person(Person(email=email))
        server.seed(ANA, [meeting(f"mon{i}", 23, s, e) for i, (s, e) in enumerate(RUNS)])
        server.seed(ANA, [meeting("tue0", 24, "10:00", "11:00")])
        # the person's own client (a phone, the web UI): it does not go through our gateway
        self.person = build(
            "calendar", "v3", http=_UserHttp(ANA), static_discovery=True,
            cache_discovery=False, client_options={"api_endpoint": server.base_url},
        )  # fmt: skip

    def scan(self, now: datetime = NOW, gateway: Any = None) -> ScanReport:
        return scan_person(
            ANA, store=self.store, calendar=gateway or self.gateway, now=now,
            owner=uuid.uuid4().hex,
        )  # fmt: skip

    def live(self) -> dict[str, Any]:
        return {
            h.id: h
            for h in self.store.holds(ANA)
            if h.status in (HoldStatus.PLACED, HoldStatus.MOVED, HoldStatus.ADOPTED)
        }

    def on_calendar(self) -> dict[str, dict[str, Any]]:
        return {
            e["id"]: e
            for e in self.server.events(ANA, include_cancelled=False)
            if e.get("extendedProperties", {}).get("private", {}).get("micromoments") == "1"
        }

    def our_writes_hit_only_our_events(self) -> None:
        """Every patch or delete the server saw hit an event carrying our tag before it."""
        changes = [r for r in self.server.write_log if r.method != "insert"]
        for record in changes:
            assert (record.before or {}).get("micromoments") == "1", record


class _UserHttp(httplib2.Http):  # type: ignore[misc]
    """The person's own client: names the calendar owner as the local server expects."""

    def __init__(self, email: str) -> None:
        super().__init__(timeout=5)
        self.email = email

    def request(self, uri: str, method: str = "GET", body: Any = None,
                headers: Any = None, **kwargs: Any) -> Any:  # fmt: skip
        headers = dict(headers or {}, **{"X-Goog-User": self.email})
        return super().request(uri, method=method, body=body, headers=headers, **kwargs)


@pytest.fixture
def world(moto_server_url: str) -> Iterator[World]:
    with CalendarServer() as server:
        yield World(server, moto_server_url)


def test_first_scan_then_an_unchanged_rescan_writes_nothing(world: World) -> None:
    first = world.scan()
    assert first.outcome == "scanned"
    assert first.holds["placed"] >= 2
    assert set(world.live()) == set(world.on_calendar())
    world.scan(NOW + timedelta(minutes=30))  # absorbs the echo of our own inserts
    log = len(world.server.write_log)
    world.table.writes.clear()
    again = world.scan(NOW + timedelta(hours=1))
    assert len(world.server.write_log) == log, "no Calendar write"
    assert set(world.table.writes) == set(), "no Store write, not even a lease (quick path)"
    assert again.outcome == "scanned" and again.quick
    assert again.google_requests == 1
    world.our_writes_hit_only_our_events()


def test_a_deleted_hold_is_not_placed_again_that_day(world: World) -> None:
    world.scan()
    breather = next(h for h in world.live().values() if h.kind is HoldKind.BREATHER)
    world.person.events().delete(calendarId=ANA, eventId=breather.id).execute()
    world.scan(NOW + timedelta(hours=1))
    world.scan(NOW + timedelta(hours=2))
    assert {h.id: h.status for h in world.store.holds(ANA)}[breather.id] is HoldStatus.DISMISSED
    monday = [e for e in world.on_calendar().values()
              if e["extendedProperties"]["private"]["mm_kind"] == "breather"
              and e["start"]["dateTime"].startswith("2026-11-23")]  # fmt: skip
    assert monday == []
    world.our_writes_hit_only_our_events()


def test_a_meeting_landing_on_a_hold_moves_or_removes_it(world: World) -> None:
    world.scan()
    breather = next(h for h in world.live().values() if h.kind is HoldKind.BREATHER)
    clash = meeting("clash", 23, "12:00", "17:00")
    world.person.events().insert(calendarId=ANA, body=clash).execute()
    report = world.scan(NOW + timedelta(hours=1))
    status = {h.id: h.status for h in world.store.holds(ANA)}[breather.id]
    assert status in (HoldStatus.MOVED, HoldStatus.REMOVED)
    if status is HoldStatus.REMOVED:
        assert breather.id not in world.on_calendar()
        assert report.holds["removed"] >= 1
    world.our_writes_hit_only_our_events()


def test_a_hold_the_person_moves_is_adopted(world: World) -> None:
    world.scan()
    world.scan(NOW + timedelta(minutes=30))
    social = next(h for h in world.live().values() if h.kind is HoldKind.SOCIAL)
    later = {
        "start": {"dateTime": (social.start + timedelta(hours=1)).isoformat()},
        "end": {"dateTime": (social.end + timedelta(hours=1)).isoformat()},
    }
    world.person.events().patch(calendarId=ANA, eventId=social.id, body=later).execute()
    report = world.scan(NOW + timedelta(hours=1))
    assert report.holds["adopted"] == 1
    assert world.live()[social.id].status is HoldStatus.ADOPTED
    log = len(world.server.write_log)
    world.scan(NOW + timedelta(hours=2))
    assert [r for r in world.server.write_log[log:] if r.event_id == social.id] == []


def test_opting_out_removes_every_future_hold(world: World) -> None:
    world.scan()
    assert world.on_calendar()
    person = world.store.get_person(ANA)
    assert person is not None
    world.store.update_person(person.model_copy(update={"status": PersonStatus.LEAVING}))
    report = world.scan(NOW + timedelta(minutes=20))
    assert world.on_calendar() == {}
    assert report.status == "opted_out"
    assert any(r.method == "delete" for r in world.server.write_log)
    world.our_writes_hit_only_our_events()


def test_a_410_on_the_sync_token_means_a_clean_full_sync(world: World) -> None:
    world.scan()
    world.scan(NOW + timedelta(minutes=30))
    world.server.invalidate_sync_tokens(ANA)
    log = len(world.server.write_log)
    report = world.scan(NOW + timedelta(hours=1))
    assert report.outcome == "scanned"
    assert len(world.server.write_log) == log  # nothing re-placed or lost
    assert set(world.live()) == set(world.on_calendar())


def test_a_crash_between_journal_and_apply_leaves_one_hold(world: World) -> None:
    class Dies:
        def __init__(self, inner: GoogleCalendarGateway) -> None:
            self.inner, self.counters = inner, inner.counters

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        def write(self, email: str, writes: Any) -> Any:
            self.inner.write(email, writes)  # the writes land, the worker dies
            raise ConnectionError("killed")

    with pytest.raises(ConnectionError):
        world.scan(gateway=Dies(world.gateway))
    assert world.store.pending_journal(ANA)
    world.scan(NOW + timedelta(minutes=10))
    assert world.store.pending_journal(ANA) == []
    assert set(world.live()) == set(world.on_calendar())
    kinds_days = [(e["extendedProperties"]["private"]["mm_kind"], e["start"]["dateTime"][:10])
                  for e in world.on_calendar().values()]  # fmt: skip
    assert len(kinds_days) == len(set(kinds_days))


def test_two_scans_of_one_person_at_once_place_each_hold_once(world: World) -> None:
    reports: list[ScanReport] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        barrier.wait()
        reports.append(world.scan())

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.outcome for r in reports) in (["busy", "scanned"], ["scanned", "scanned"])
    inserts = [
        r.event_id for r in world.server.write_log if r.method == "insert" and r.status < 300
    ]
    assert len(inserts) == len(set(inserts)) == len(world.on_calendar())


def test_a_20_percent_fault_rate_loses_and_duplicates_nothing(moto_server_url: str) -> None:
    with CalendarServer(fault_rate=0.2, seed=11, timeout_s=0.3) as server:
        world = World(server, moto_server_url)
        world.gateway = GoogleCalendarGateway(
            world.config,
            status_of=lambda e: p.status if (p := world.store.get_person(e)) else None,
            ours=lambda e: {h.id for h in world.store.holds(e)},
            timeout_s=0.2,
            max_attempts=10,
            sleep=lambda _: None,
        )
        for minutes in range(0, 60 * 6, 30):
            try:
                world.scan(NOW + timedelta(minutes=minutes))
            except Exception:
                continue
        faults = sum(n for code, n in server.counters.by_status.items() if int(code) >= 429)
        assert faults >= 1, "the fault knob really injected failures"
        server.set_fault_rate(0.0)
        world.scan(NOW + timedelta(hours=7))
        world.scan(NOW + timedelta(hours=7, minutes=30))
        assert world.store.pending_journal(ANA) == []
        on_calendar = {
            h.id
            for h in world.store.holds(ANA)
            if h.status in (HoldStatus.PLACED, HoldStatus.MOVED, HoldStatus.KEPT)
        }
        assert on_calendar == set(world.on_calendar()), "no lost and no stray hold"
        assert on_calendar, "holds were placed despite the faults"
        kinds_days = [(e["extendedProperties"]["private"]["mm_kind"], e["start"]["dateTime"][:10])
                      for e in world.on_calendar().values()]  # fmt: skip
        assert len(kinds_days) == len(set(kinds_days)), "no duplicate hold"
        world.our_writes_hit_only_our_events()


def test_ics_and_the_calendar_server_give_the_same_day_metrics(world: World) -> None:
    from micromoments.local.synthetic import generate_org, to_ics

    org = generate_org(12, seed=5, start=date(2026, 11, 23))
    person = org.people[0]
    world.server.add_calendar(person.email, timezone="Europe/Berlin")
    world.server.seed_synthetic(person)
    world.store.create_person(person.person)
    gateway = calendar_gateway(world.config, table=world.store)
    from micromoments.adapters.mirror_expansion import expand_mirror

    start = datetime.combine(date(2026, 11, 23), time(), UTC)
    end = start + timedelta(days=14)
    synced = gateway.sync(person.email, None, full_from=start - timedelta(days=7))
    via_server = expand_mirror(synced.events, start=start, end=end)
    via_ics = read_calendar(to_ics(person), me=person.email, start=start, end=end).events
    tz = ZoneInfo(person.person.zone_name("UTC"))
    hours = person.person.hours(OrgSettings().working_hours)
    first = date(2026, 11, 23)
    assert [d.to_json() for d in day_loads(via_server, tz, hours, first, 14)] == [
        d.to_json() for d in day_loads(via_ics, tz, hours, first, 14)
    ]
    assert any(d.meeting_minutes for d in day_loads(via_ics, tz, hours, first, 14))


def _capacity() -> Any:
    """bench/capacity.py (bench/ is scripts, not a package), loaded by its path."""
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "bench" / "capacity.py"
    spec = importlib.util.spec_from_file_location("bench_capacity_scan", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_an_unchanged_scan_costs_at_most_one_read_and_one_write_unit(world: World) -> None:
    """The quick path, priced by the capacity accounting: the delta (1 Google request), the
    profile and sync state in one eventually consistent query, the guard's status read,
    and no write at all (no lease); a change then takes the full flow again."""
    capacity = _capacity()
    table = capacity.CapacityTable(world.table)  # sees every write from the start
    world.store = TableStore(table)
    world.gateway = calendar_gateway(world.config, table=world.store)
    assert world.scan().holds["placed"] >= 2
    world.scan(NOW + timedelta(minutes=30))  # absorbs the echo of our own inserts
    # the settings read of the minute is shared by every scan of the function instance
    # (bench/scale.py counts it: one per worker an hour); read it before measuring
    cached_settings(world.store, NOW + timedelta(hours=1))
    table.reset()
    again = world.scan(NOW + timedelta(hours=1))
    used = table.snapshot()
    assert again.outcome == "scanned" and again.quick, again
    assert again.google_requests == 1
    assert used.read_units <= 1, used.to_json()
    assert used.write_units <= 1, used.to_json()
    # a change on the calendar: the next scan is a full one and sees it
    world.person.events().insert(
        calendarId=ANA, body=meeting("fresh01", 24, "13:00", "14:00")
    ).execute()
    changed = world.scan(NOW + timedelta(hours=1, minutes=5))
    assert changed.outcome == "scanned" and not changed.quick
    assert "fresh01" in {e.id for e in world.store.mirror(ANA)}


def test_no_quick_path_once_time_driven_work_is_due(world: World) -> None:
    """With the calendar unchanged, a scan after a hold's start (its time arrives: kept)
    or on a new day is a full scan."""
    world.scan()
    world.scan(NOW + timedelta(minutes=30))
    first = min(h.start for h in world.live().values())
    assert not world.scan(first + timedelta(minutes=1)).quick
    assert world.scan(first + timedelta(minutes=2)).quick  # its quiet time set afresh
    assert not world.scan(NOW + timedelta(days=1)).quick  # a new local day
