"""Faults and killed workers: the fast variant of bench/faults.py, the audit's own checks,
a mutant the audit must catch, and the guest-list bug the benchmark found.

The storm, the killed workers and the audit live in bench/faults.py (the full size runs in
`make bench`); it is loaded here by its path, so both always measure the same thing.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import pytest

from micromoments.adapters.memory import MemoryTable
from micromoments.adapters.table import TableStore
from micromoments.config import Config
from micromoments.domain.holds import Hold, HoldKind, HoldStatus
from micromoments.domain.people import Person, PersonStatus, Preferences
from micromoments.domain.settings import OrgSettings
from micromoments.local.calendar_api import CalendarServer
from micromoments.ports import CalendarGateway, CalendarWrite, Store, WriteResult
from micromoments.services.pair import pair_week
from micromoments.services.scan import ScanReport, scan_person
from micromoments.wiring import calendar_gateway

pytestmark = pytest.mark.integration


def _bench() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "bench" / "faults.py"
    spec = importlib.util.spec_from_file_location("bench_faults", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


faults = _bench()
CLEAN = {
    "lost_holds": 0,
    "duplicate_holds": 0,
    "stray_events": 0,
    "writes_to_untagged_events": 0,
    "pending_journal": 0,
    "spurious_dismissed": 0,
    "holds_left_after_opt_out": 0,
    "guest_lists_out_of_step": 0,
}
# Not in CLEAN: ``spurious_adopted``. The late copy of a retried patch is now settled (the
# test at the end), but a copy that lands only after the next scan is still taken for the
# person's edit: a timing race in the storm, which would make this suite flaky.


def test_a_storm_of_faults_and_killed_workers_loses_and_duplicates_nothing() -> None:
    """12 people, 20% faults per call (plus lost answers, failed batches, token 503s), two
    kill points each, then new meetings on holds and opt-outs under the same storm."""
    result = faults.run_faults(12, seed=11, kills_per_person=2, overlap=1, max_attempts=3)
    assert result["server_fault_answers"] >= 20, "the fault knobs really injected failures"
    assert result["kills_fired"] >= 12, result["kills_by_point"]
    assert result["failed_scans_redelivered"] >= 1, "some scans ran out of retries"
    assert {"before:write", "half:write"} & set(result["kills_by_point"])
    assert result["people_opting_out"] >= 1 and result["meetings_landed_on_holds"] >= 1
    for phase in ("after_first_scans", "after_storm", "after_clean_rounds"):
        audit = result[phase]
        assert audit["people_scanned"] == audit["people"], (phase, audit)
        assert audit["live_holds"] > 0, (phase, audit)
        assert {k: audit[k] for k in CLEAN} == CLEAN, (phase, audit)
    assert result["writes_in_last_clean_round"] == 0, "a clean rescan after the storm is quiet"


def _api(server: CalendarServer, method: str, email: str, event_id: str, body: Any) -> None:
    """The person's own client (not our gateway): one raw Calendar API call."""
    url = f"{server.base_url}calendars/{email}/events/{event_id}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "X-Goog-User": email, "Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=5):
        pass


def test_the_audit_counts_each_kind_of_damage() -> None:
    """Tamper with a clean world: each kind of damage shows in the audit."""
    seen: dict[str, Any] = {}

    def tamper(world: Any) -> None:
        clean = world.audit()
        assert {k: clean[k] for k in CLEAN} == CLEAN

        def personal(email: str) -> list[Hold]:
            return [h for h in world.store.holds(email)
                    if h.status is HoldStatus.PLACED and not h.shared]  # fmt: skip

        email = next(e for e in world.emails if len(personal(e)) >= 2)
        hold = personal(email)[0]
        # a second event of ours, same kind and day, that no record explains
        twin = dataclasses.replace(hold, id=hold.id[:-1] + ("0" if hold.id[-1] != "0" else "1"))
        from micromoments.adapters.google_calendar import hold_body

        world.server.seed(email, [hold_body(twin, "UTC")])
        # one of ours deleted behind the Store's back
        other = personal(email)[1]
        _api(world.server, "DELETE", email, other.id, None)
        # a write to an event that is not ours
        meeting = next(r for r in world.server.events(email, include_cancelled=False)
                       if not r.get("extendedProperties"))  # fmt: skip
        _api(world.server, "PATCH", email, meeting["id"], {"transparency": "transparent"})
        seen.update(world.audit())

    calm = {"fault_rate": 0.0, "lost_answer_rate": 0.0, "batch_fault_rate": 0.0,
            "token_fault_rate": 0.0, "kills_per_person": 0}  # fmt: skip
    faults.run_faults(4, seed=3, overlap=1, probe=tamper, **calm)
    assert seen["duplicate_holds"] == 1
    assert seen["stray_events"] == 1
    assert seen["lost_holds"] == 1
    assert seen["writes_to_untagged_events"] == 1


def test_the_storm_catches_a_scan_that_trusts_a_409(monkeypatch: pytest.MonkeyPatch) -> None:
    """A mutant: treat every 409 on insert as a burnt id (no GET). A lost answer to an insert
    that landed then makes the next scan place the next generation beside it."""
    import micromoments.services.scan.apply as scan_service

    def trusting(email: str, hold: Hold, store: Store, calendar: Any, report: Any) -> None:
        store.put_hold(email, dataclasses.replace(hold, status=HoldStatus.REMOVED))

    monkeypatch.setattr(scan_service, "settle_conflict", trusting)
    calm = {"fault_rate": 0.0, "batch_fault_rate": 0.0, "token_fault_rate": 0.0,
            "kills_per_person": 0}  # fmt: skip
    result = faults.run_faults(8, seed=5, lost_answer_rate=0.3, overlap=1, **calm)
    worst = result["after_clean_rounds"]
    assert worst["duplicate_holds"] + worst["stray_events"] > 0, worst


# -- a shared event's guest list after a crash ------------------------------------------------

KEY = b"g" * 32
TEAM = ("ana@example.com", "ben@example.com", "cleo@example.com")
THURSDAY = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


class Drop:
    """How the organiser's scan loses its write: its worker is killed after journaling it,
    or the gateway gives up on it after its retries."""

    def __init__(self, how: str) -> None:
        self.how = how

    def wrap(self, calendar: CalendarGateway, store: Store) -> tuple[CalendarGateway, Store]:
        if self.how == "killed":
            worker = faults.Worker(faults.KillPoint("write", "before"))
            return (cast(CalendarGateway, faults.DyingCalendar(calendar, worker)),
                    cast(Store, faults.DyingStore(store, worker)))  # fmt: skip
        return cast(CalendarGateway, GivesUp(calendar)), store


class GivesUp:
    """Every write answers "failed" (retries exhausted) without reaching the calendar."""

    def __init__(self, inner: CalendarGateway) -> None:
        self.inner, self.counters = inner, inner.counters

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def write(self, email: str, writes: list[CalendarWrite]) -> list[WriteResult]:
        return [WriteResult(w.hold.id, w.op, "failed", message="gave up") for w in writes]


@pytest.fixture
def team() -> Iterator[tuple[CalendarServer, TableStore, CalendarGateway]]:
    with CalendarServer() as server:
        store = TableStore(MemoryTable())
        store.create_settings(OrgSettings(timezone="Europe/Berlin",
                                          allowed_domains=("example.com",)))  # fmt: skip
        for email in TEAM:
            server.add_calendar(email, timezone="Europe/Berlin")
            prefs = Preferences(timezone="Europe/Berlin", moments=frozenset({"watercooler"}))
            store.create_person(Person(email=email, team="core", preferences=prefs))
        yield server, store, calendar_gateway(Config(calendar_api_url=server.base_url),
                                              table=store)  # fmt: skip


def _scan(store: Store, calendar: CalendarGateway, email: str, now: datetime) -> ScanReport:
    return scan_person(email, store=store, calendar=calendar, now=now, owner=uuid.uuid4().hex)


@pytest.mark.parametrize("how", ["killed", "gave up"])
def test_a_member_dropped_by_a_lost_patch_is_dropped_on_the_next_scan(
    team: tuple[CalendarServer, TableStore, CalendarGateway], how: str
) -> None:
    """Found by bench/faults.py: the organiser's patch that drops a member who opted out
    was journaled but never sent. The next scan's GET showed the event at the time the
    patch wanted (a guest-list change does not move it), so the journal took it as
    landed, recorded the shorter guest list, and nothing ever sent the change: the member
    who left kept the drop-in on their calendar."""
    server, store, calendar = team
    pair_week(store, calendar, now=THURSDAY, master_key=KEY)
    organiser = next(e for e in TEAM if any(h.kind is HoldKind.WATERCOOLER
                                            for h in store.holds(e)))  # fmt: skip
    hold_id = next(h.id for h in store.holds(organiser) if h.kind is HoldKind.WATERCOOLER)
    now = THURSDAY
    for email in TEAM:
        _scan(store, calendar, email, now)
    leaver = next(e for e in TEAM if e != organiser)
    assert any(r["id"] == hold_id for r in server.events(leaver, include_cancelled=False))

    person = store.get_person(leaver)
    assert person is not None
    store.update_person(person.model_copy(update={"status": PersonStatus.LEAVING}))
    _scan(store, calendar, leaver, now + timedelta(minutes=10))
    broken, broken_store = Drop(how).wrap(calendar, store)
    with pytest.raises(faults.WorkerKilled) if how == "killed" else _no_error():
        report = _scan(broken_store, broken, organiser, now + timedelta(minutes=20))
        assert report.failed_writes == 1
    assert store.pending_journal(organiser), "the patch is journaled, not sent"
    for minutes in (60, 90):  # the redelivery, then an hourly scan
        _scan(store, calendar, organiser, now + timedelta(minutes=minutes))

    assert store.pending_journal(organiser) == []
    copies = [r for r in server.events(leaver, include_cancelled=False) if r["id"] == hold_id]
    assert copies == [], "the member who left no longer has the drop-in"
    event = next(r for r in server.events(organiser) if r["id"] == hold_id)
    invited = {a["email"] for a in event.get("attendees", ())}
    assert leaver not in invited and len(invited) == len(TEAM) - 1


class _no_error:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return False


# -- a late copy of our own patch ---------------------------------------------------------------


def test_a_late_copy_of_our_own_patch_is_not_taken_for_the_persons_edit() -> None:
    """Seen in bench/faults.py (about one run in three at 300 people, before the fix): a
    patch times out on the client while the server is still working on it; our retry
    patches the hold and records the new etag; then the server applies the original
    request too, to the same times. The next scan saw an etag it did not write and adopted
    the hold (never moved or removed by us again, short of an opt-out). Now a hold whose
    last patch went out more than once takes one etag change with everything as written
    for that copy; after that scan, an etag change is the person's edit again."""
    from micromoments.adapters.google_calendar import GoogleCalendarGateway, hold_patch_body

    ana = "ana@example.com"
    monday = datetime(2026, 11, 23, tzinfo=UTC)
    with CalendarServer() as server:
        store = TableStore(MemoryTable())
        store.create_settings(OrgSettings(timezone="UTC", allowed_domains=("example.com",)))
        server.add_calendar(ana, timezone="UTC")
        store.create_person(Person(email=ana))
        server.seed(ana, [{
            "id": f"run{hour}", "status": "confirmed",
            "start": {"dateTime": (monday + timedelta(hours=hour)).isoformat()},
            "end": {"dateTime": (monday + timedelta(hours=hour + 1)).isoformat()},
            "organizer": {"email": "boss@example.com"},
            "attendees": [{"email": ana}, {"email": "boss@example.com"}],
        } for hour in (9, 10, 11, 13, 14, 15)])  # fmt: skip

        def first_attempt_fails(_pause: float) -> None:
            server.apply_then_fail_rate = 0.0  # the retry after the backoff gets through

        calendar = GoogleCalendarGateway(
            Config(calendar_api_url=server.base_url),
            status_of=lambda e: p.status if (p := store.get_person(e)) else None,
            ours=lambda e: {h.id for h in store.holds(e)},
            sleep=first_attempt_fails,
        )
        now = monday + timedelta(hours=6)
        _scan(store, calendar, ana, now)
        _scan(store, calendar, ana, now + timedelta(minutes=30))
        hold = next(h for h in store.holds(ana) if h.kind is HoldKind.BREATHER)
        server.seed(ana, [{
            "id": "clash", "status": "confirmed",
            "start": {"dateTime": hold.start.isoformat()},
            "end": {"dateTime": (hold.start + timedelta(minutes=10)).isoformat()},
            "organizer": {"email": "boss@example.com"},
            "attendees": [{"email": ana}, {"email": "boss@example.com"}],
        }])  # fmt: skip
        server.apply_then_fail_rate = 1.0  # the move is applied, but answered 503
        _scan(store, calendar, ana, now + timedelta(hours=1))
        moved = next(h for h in store.holds(ana) if h.id == hold.id)
        assert moved.status is HoldStatus.MOVED and moved.start != hold.start
        assert moved.late_copy_possible, "the patch went out twice"
        patches = [r for r in server.write_log if r.method == "patch" and r.event_id == hold.id]
        assert len(patches) == 2

        _api(server, "PATCH", ana, hold.id, hold_patch_body(moved, "UTC"))  # the late copy
        report = _scan(store, calendar, ana, now + timedelta(hours=2))
        settled = next(h for h in store.holds(ana) if h.id == hold.id)
        assert report.holds["adopted"] == 0
        assert settled.status is HoldStatus.MOVED and not settled.late_copy_possible

        _api(server, "PATCH", ana, hold.id, {"summary": "Walk with Ben"})  # the person's edit
        report = _scan(store, calendar, ana, now + timedelta(hours=3))
        assert report.holds["adopted"] == 1
        assert next(h for h in store.holds(ana) if h.id == hold.id).status is HoldStatus.ADOPTED
