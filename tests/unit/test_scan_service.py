"""The scan use case on fakes: the in-memory Store and the in-memory calendar."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from micromoments.adapters.memory import MemoryTable
from micromoments.adapters.memory_calendar import MemoryCalendar
from micromoments.adapters.table import Cond, Item, TableStore
from micromoments.domain.calendar import CalendarEvent, EventKind
from micromoments.domain.holds import HoldKind, HoldStatus
from micromoments.domain.mirror import MirrorEvent
from micromoments.domain.people import Person, PersonStatus
from micromoments.domain.scan_request import ScanRequest
from micromoments.domain.settings import OrgSettings
from micromoments.ports import CalendarWrite, WriteResult
from micromoments.services.due_scans import send_due_scans
from micromoments.services.scan import scan_person
from tests.builders import at, mirror_event

ANA = "ana@example.com"
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # Monday 08:00 in Berlin


def simple_expander(
    events: Sequence[MirrorEvent], start: datetime, end: datetime
) -> list[CalendarEvent]:
    """Single events only: enough for these tests (recurrences are tested elsewhere)."""
    return [e.occurrence() for e in events if not e.recurrence]


class CountingTable(MemoryTable):
    """Counts writes by sort-key kind, to prove what a scan wrote."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def put(self, item: Item, *, condition: Cond | None = None) -> None:
        self.writes.append(str(item["sk"]).split("#")[0])
        super().put(item, condition=condition)

    def delete(self, pk: str, sk: str, *, condition: Cond | None = None) -> None:
        self.writes.append(sk.split("#", maxsplit=1)[0])
        super().delete(pk, sk, condition=condition)


def meeting(event_id: str, day: int, start: str, end: str) -> MirrorEvent:
    on = date(2026, 11, day)
    return mirror_event(event_id, at(on, start), at(on, end))


@pytest.fixture
def world() -> tuple[TableStore, CountingTable, MemoryCalendar]:
    table = CountingTable()
    store = TableStore(table)
    store.create_settings(OrgSettings(timezone="Europe/Berlin", allowed_domains=("example.com",)))
    store.create_person(Person(email=ANA))
    calendar = MemoryCalendar()
    calendar.add_calendar(ANA, "Europe/Berlin")
    # Monday: two runs of three meetings (overloaded); Tuesday: a light day
    hours = ["09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00"]
    for i, (s, e) in enumerate(pairwise(hours)):
        if s != "12:00":
            calendar.put(ANA, meeting(f"mon{i}", 23, s, e))
    calendar.put(ANA, meeting("tue0", 24, "10:00", "11:00"))
    table.writes.clear()
    return store, table, calendar


def scan(store: TableStore, calendar: Any, now: datetime = NOW, owner: str = "w1") -> Any:
    return scan_person(
        ANA, store=store, calendar=calendar, now=now, owner=owner, expand=simple_expander
    )


def live(store: TableStore) -> dict[str, Any]:
    return {
        h.id: h
        for h in store.holds(ANA)
        if h.status in (HoldStatus.PLACED, HoldStatus.MOVED, HoldStatus.ADOPTED)
    }


def on_calendar(calendar: MemoryCalendar) -> dict[str, MirrorEvent]:
    return {e.id: e for e in calendar.events(ANA) if e.hold_id and not e.cancelled}


def test_first_scan_places_holds_and_journals_every_write(world: Any) -> None:
    store, _, calendar = world
    report = scan(store, calendar)
    assert report.outcome == "scanned"
    assert report.holds["placed"] >= 2
    assert report.overloaded_days == 1
    assert set(live(store)) == set(on_calendar(calendar))
    kinds = {h.kind for h in live(store).values()}
    assert HoldKind.BREATHER in kinds
    assert store.pending_journal(ANA) == []
    # the breather follows Monday's longest run (the tie goes to the earlier run)
    breather = next(h for h in live(store).values() if h.kind is HoldKind.BREATHER)
    assert breather.start == datetime(2026, 11, 23, 12, 0, tzinfo=BERLIN)


def test_an_unchanged_rescan_writes_nothing_not_even_a_lease(world: Any) -> None:
    store, table, calendar = world
    scan(store, calendar)
    # the next delta brings our own inserts back into the mirror (the calendar changed)
    table.writes.clear()
    scan(store, calendar, NOW + timedelta(minutes=30))
    assert set(table.writes) == {"LEASE", "SYNC", "EVENT", "LOAD"}  # focus now sees our holds
    writes_before = len(calendar.write_log)
    table.writes.clear()
    report = scan(store, calendar, NOW + timedelta(hours=1))
    assert report.outcome == "scanned" and report.quick
    assert len(calendar.write_log) == writes_before
    assert set(table.writes) == set()  # the quick path: no lease either
    assert report.google_requests == 1  # one incremental events.list


def test_a_hold_the_person_deletes_is_not_placed_again_that_day(world: Any) -> None:
    store, _, calendar = world
    scan(store, calendar)
    breather = next(h for h in live(store).values() if h.kind is HoldKind.BREATHER)
    calendar.remove(ANA, breather.id)
    report = scan(store, calendar, NOW + timedelta(hours=1))
    assert report.holds["dismissed"] == 1
    statuses = {h.id: h.status for h in store.holds(ANA)}
    assert statuses[breather.id] is HoldStatus.DISMISSED
    breathers_monday = [
        h for h in live(store).values() if h.kind is HoldKind.BREATHER and h.day == breather.day
    ]
    assert breathers_monday == []
    scan(store, calendar, NOW + timedelta(hours=2))
    assert [h for h in on_calendar(calendar).values() if h.hold_kind == "breather"] == []


def test_a_meeting_on_a_hold_moves_it_the_same_day_or_removes_it(world: Any) -> None:
    store, _, calendar = world
    scan(store, calendar)
    breather = next(h for h in live(store).values() if h.kind is HoldKind.BREATHER)
    calendar.put(ANA, meeting("lunch", 23, "12:00", "12:30"))  # lands on the breather
    report = scan(store, calendar, NOW + timedelta(hours=1))
    moved = store.holds(ANA)
    after = {h.id: h for h in moved}[breather.id]
    if after.status is HoldStatus.MOVED:
        assert report.holds["moved"] == 1
        assert after.start.date() == breather.start.date()
        assert on_calendar(calendar)[breather.id].start == after.start
        assert not (after.start < datetime(2026, 11, 23, 12, 30, tzinfo=BERLIN) and
                    after.end > datetime(2026, 11, 23, 12, 0, tzinfo=BERLIN))  # fmt: skip
    else:
        assert after.status is HoldStatus.REMOVED
        assert breather.id not in on_calendar(calendar)


def test_a_meeting_right_after_social_time_moves_it_clear(world: Any) -> None:
    """A new meeting starting 5 minutes after a social hold would make the hold part of a
    back-to-back run: the hold moves to keep 10 minutes clear, the same day."""
    store, _, calendar = world
    scan(store, calendar)
    social = next(h for h in live(store).values() if h.kind is HoldKind.SOCIAL)
    start = social.end.astimezone(BERLIN) + timedelta(minutes=5)
    new = mirror_event("next", start, start + timedelta(minutes=30))
    calendar.put(ANA, new)
    report = scan(store, calendar, NOW + timedelta(hours=1))
    assert report.holds["moved"] == 1
    after = {h.id: h for h in store.holds(ANA)}[social.id]
    assert after.status is HoldStatus.MOVED and after.day == social.day
    clear = timedelta(minutes=10)
    assert after.end + clear <= new.start or new.end + clear <= after.start  # type: ignore[operator]
    assert on_calendar(calendar)[social.id].start == after.start


def test_a_hold_with_no_room_left_is_removed(world: Any) -> None:
    store, _, calendar = world
    scan(store, calendar)
    breather = next(h for h in live(store).values() if h.kind is HoldKind.BREATHER)
    calendar.put(ANA, meeting("all-afternoon", 23, "12:00", "17:00"))
    report = scan(store, calendar, NOW + timedelta(hours=1))
    assert report.holds["removed"] >= 1
    assert {h.id: h for h in store.holds(ANA)}[breather.id].status is HoldStatus.REMOVED
    assert breather.id not in on_calendar(calendar)


def test_a_hold_the_person_moves_is_adopted_and_never_changed_again(world: Any) -> None:
    store, _, calendar = world
    scan(store, calendar)
    social = next(h for h in live(store).values() if h.kind is HoldKind.SOCIAL)
    event = calendar.event(ANA, social.id)
    assert event is not None
    shifted = dataclasses.replace(
        event, start=event.start + timedelta(hours=1), end=event.end + timedelta(hours=1)
    )
    calendar.put(ANA, shifted)
    report = scan(store, calendar, NOW + timedelta(hours=1))
    assert report.holds["adopted"] == 1
    assert live(store)[social.id].status is HoldStatus.ADOPTED
    log = len(calendar.write_log)
    # a meeting now lands on the adopted hold: we leave it alone
    start = shifted.start
    assert isinstance(start, datetime)
    calendar.put(ANA, MirrorEvent("clash", start, start + timedelta(minutes=30), EventKind.MEETING))
    scan(store, calendar, NOW + timedelta(hours=2))
    assert [entry for entry in calendar.write_log[log:] if entry[2] == social.id] == []


def test_opting_out_removes_every_future_hold_then_opted_out(world: Any) -> None:
    store, _, calendar = world
    scan(store, calendar)
    assert on_calendar(calendar)
    person = store.get_person(ANA)
    assert person is not None
    store.update_person(person.model_copy(update={"status": PersonStatus.LEAVING}))
    report = scan(store, calendar, NOW + timedelta(minutes=30))
    assert on_calendar(calendar) == {}
    assert report.status == "opted_out"
    person = store.get_person(ANA)
    assert person is not None and person.status is PersonStatus.OPTED_OUT
    assert scan(store, calendar, NOW + timedelta(hours=1)).outcome == "skipped"


class CrashingCalendar:
    """Dies inside write(): before sending (nothing applied) or after (all applied)."""

    def __init__(self, inner: MemoryCalendar, *, applied: bool) -> None:
        self.inner, self.applied = inner, applied
        self.counters = inner.counters

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def write(self, email: str, writes: Sequence[CalendarWrite]) -> list[WriteResult]:
        if self.applied:
            self.inner.write(email, writes)
        raise ConnectionError("worker killed mid-write")


@pytest.mark.parametrize("applied", [False, True])
def test_a_crash_between_journal_and_apply_is_settled_once(world: Any, applied: bool) -> None:
    store, _, calendar = world
    with pytest.raises(ConnectionError):
        scan(store, CrashingCalendar(calendar, applied=applied))
    pending = store.pending_journal(ANA)
    assert pending, "every write was journaled before it was sent"
    scan(store, calendar, NOW + timedelta(minutes=10))
    assert store.pending_journal(ANA) == []
    holds = on_calendar(calendar)
    assert set(holds) == set(live(store))
    per_day_kind = [(h.hold_kind, h.start.date()) for h in holds.values()]  # type: ignore[union-attr]
    assert len(per_day_kind) == len(set(per_day_kind)), "no duplicate hold"
    inserts = [e for e in calendar.write_log if e[0] == "insert"]
    assert len({e[2] for e in inserts}) == len(holds)


class RetriedCalendar:
    """Answers every write as the Google gateway does after a retry: it landed, but an
    earlier copy of it may still be applied later."""

    def __init__(self, inner: MemoryCalendar) -> None:
        self.inner = inner
        self.counters = inner.counters

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def write(self, email: str, writes: Sequence[CalendarWrite]) -> list[WriteResult]:
        return [dataclasses.replace(r, retried=True) for r in self.inner.write(email, writes)]


def late_copy(calendar: MemoryCalendar, hold_id: str) -> None:
    """Google applies the event again as it stands: a new etag, nothing else changed (the
    same call is the person saving it unchanged, or editing what the mirror does not keep)."""
    event = calendar.event(ANA, hold_id)
    assert event is not None
    calendar.put(ANA, event)


def test_a_late_copy_of_a_retried_patch_is_ours_and_a_later_change_the_persons(
    world: Any,
) -> None:
    store, _, calendar = world
    scan(store, calendar)
    breather = next(h for h in live(store).values() if h.kind is HoldKind.BREATHER)
    calendar.put(ANA, meeting("lunch", 23, "12:00", "12:30"))  # lands on the breather
    scan(store, RetriedCalendar(calendar), NOW + timedelta(hours=1))
    moved = live(store)[breather.id]
    assert moved.status is HoldStatus.MOVED and moved.late_copy_possible

    late_copy(calendar, breather.id)  # the first copy of our patch lands after the retry
    report = scan(store, calendar, NOW + timedelta(hours=2))
    settled = live(store)[breather.id]
    assert report.holds["adopted"] == 0
    assert settled.status is HoldStatus.MOVED and not settled.late_copy_possible
    assert settled.etag == on_calendar(calendar)[breather.id].etag
    log = len(calendar.write_log)
    assert scan(store, calendar, NOW + timedelta(hours=3)).holds["adopted"] == 0
    assert len(calendar.write_log) == log, "settled: the rescan writes nothing"

    late_copy(calendar, breather.id)  # settled: now an etag change is the person's edit
    assert scan(store, calendar, NOW + timedelta(hours=4)).holds["adopted"] == 1
    assert live(store)[breather.id].status is HoldStatus.ADOPTED


def test_after_a_retried_patch_a_change_of_busy_is_still_the_persons(world: Any) -> None:
    store, _, calendar = world
    scan(store, calendar)
    breather = next(h for h in live(store).values() if h.kind is HoldKind.BREATHER)
    calendar.put(ANA, meeting("lunch", 23, "12:00", "12:30"))
    scan(store, RetriedCalendar(calendar), NOW + timedelta(hours=1))
    assert live(store)[breather.id].late_copy_possible
    event = calendar.event(ANA, breather.id)
    assert event is not None and event.busy
    calendar.put(ANA, dataclasses.replace(event, busy=False))  # the person marks it free
    assert scan(store, calendar, NOW + timedelta(hours=2)).holds["adopted"] == 1
    assert live(store)[breather.id].status is HoldStatus.ADOPTED


def test_without_a_retry_an_etag_change_is_the_persons_edit(world: Any) -> None:
    store, _, calendar = world
    scan(store, calendar)
    scan(store, calendar, NOW + timedelta(minutes=30))  # the echo of our inserts
    breather = next(h for h in live(store).values() if h.kind is HoldKind.BREATHER)
    assert not breather.late_copy_possible
    late_copy(calendar, breather.id)
    assert scan(store, calendar, NOW + timedelta(hours=1)).holds["adopted"] == 1


def test_two_scans_at_once_one_holds_the_lease(world: Any) -> None:
    store, _, calendar = world
    from micromoments.domain.lease import Lease

    assert store.acquire_lease(Lease(ANA, "other", NOW + timedelta(minutes=5)), NOW)
    report = scan(store, calendar)
    assert report.outcome == "busy"
    assert calendar.write_log == []
    assert calendar.counters.requests == 0


def test_people_who_never_opted_in_cost_no_google_call(world: Any) -> None:
    store, _, calendar = world
    report = scan_person(
        "stranger@example.com", store=store, calendar=calendar, now=NOW, owner="w",
        expand=simple_expander,
    )  # fmt: skip
    assert report.outcome == "skipped"
    assert calendar.counters.requests == 0


def test_a_suspended_account_is_marked_and_skipped(world: Any) -> None:
    store, _, calendar = world
    calendar.suspended.add(ANA)
    report = scan(store, calendar)
    assert report.outcome == "suspended"
    person = store.get_person(ANA)
    assert person is not None and person.status is PersonStatus.SUSPENDED
    assert scan(store, calendar, NOW + timedelta(hours=1)).outcome == "skipped"


def test_a_burnt_id_takes_the_next_generation(world: Any) -> None:
    store, _, calendar = world
    scan(store, calendar)
    breather = next(h for h in live(store).values() if h.kind is HoldKind.BREATHER)
    blocker = meeting("block", 23, "12:00", "17:00")
    calendar.put(ANA, blocker)
    scan(store, calendar, NOW + timedelta(hours=1))  # removed: its id stays cancelled
    calendar.remove(ANA, "block")
    scan(store, calendar, NOW + timedelta(hours=2))
    again = [
        h for h in live(store).values() if h.kind is HoldKind.BREATHER and h.day == breather.day
    ]
    assert len(again) == 1
    assert again[0].id != breather.id
    assert again[0].generation == breather.generation + 1


def test_paused_org_makes_no_calendar_write(world: Any) -> None:
    store, _, calendar = world
    settings = store.get_settings()
    assert settings is not None
    store.put_settings(settings.updated({"paused": "true"}))
    scan(store, calendar)
    assert calendar.write_log == []


class LeavingRulesCalendar(MemoryCalendar):
    """The gateway's blast-radius rule: a leaving person gets deletes of our events only."""

    def __init__(self, inner: MemoryCalendar, store: TableStore) -> None:
        self.__dict__.update(inner.__dict__)
        self.store = store

    def write(self, email: str, writes: Sequence[CalendarWrite]) -> list[WriteResult]:
        from micromoments.domain.journal import WriteOp
        from micromoments.ports import SubjectRefused

        person = self.store.get_person(email)
        leaving = person is not None and person.status is PersonStatus.LEAVING
        if leaving and any(w.op is not WriteOp.DELETE for w in writes):
            raise SubjectRefused(f"{email} is leaving: deletes only")
        return super().write(email, writes)


def test_a_pending_insert_never_blocks_an_opt_out(world: Any) -> None:
    store, _, calendar = world
    with pytest.raises(ConnectionError):
        scan(store, CrashingCalendar(calendar, applied=False))
    assert store.pending_journal(ANA)
    person = store.get_person(ANA)
    assert person is not None
    store.update_person(person.model_copy(update={"status": PersonStatus.LEAVING}))
    report = scan(store, LeavingRulesCalendar(calendar, store), NOW + timedelta(minutes=10))
    assert report.status == "opted_out"
    assert store.pending_journal(ANA) == []
    assert on_calendar(calendar) == {}


def at_berlin(hour: int) -> datetime:
    return datetime(2026, 11, 23, hour, tzinfo=BERLIN)


def test_after_a_lost_insert_each_hold_is_sent_once_and_never_adopted(world: Any) -> None:
    store, _, calendar = world
    with pytest.raises(ConnectionError):
        scan(store, CrashingCalendar(calendar, applied=False))
    calendar.put(ANA, meeting("new", 23, "12:00", "13:00"))  # the calendar moved on meanwhile
    log = len(calendar.write_log)
    scan(store, calendar, NOW + timedelta(minutes=10))
    inserts = [e[2] for e in calendar.write_log[log:] if e[0] == "insert"]
    assert len(inserts) == len(set(inserts))
    for _ in range(2):
        scan(store, calendar, NOW + timedelta(minutes=40))
    assert not [h for h in store.holds(ANA) if h.status is HoldStatus.ADOPTED]
    for hold in on_calendar(calendar).values():
        start, end = hold.start, hold.end
        assert isinstance(start, datetime) and isinstance(end, datetime)
        lunch = (
            datetime(2026, 11, 23, 12, tzinfo=BERLIN),
            datetime(2026, 11, 23, 13, tzinfo=BERLIN),
        )
        assert not (start < lunch[1] and lunch[0] < end), "nothing stale sent onto a meeting"


def test_turning_every_moment_off_removes_the_holds(world: Any) -> None:
    store, _, calendar = world
    scan(store, calendar)
    assert on_calendar(calendar)
    person = store.get_person(ANA)
    assert person is not None
    none = person.preferences.model_copy(update={"moments": frozenset()})
    store.update_person(person.model_copy(update={"preferences": none}))
    scan(store, calendar, NOW + timedelta(minutes=30))
    assert on_calendar(calendar) == {}


def test_an_adopted_future_hold_keeps_an_opt_out_waiting_for_its_removal(world: Any) -> None:
    from micromoments.services.people import start_leaving

    store, _, calendar = world
    scan(store, calendar)
    social = next(h for h in live(store).values() if h.kind is HoldKind.SOCIAL)
    event = calendar.event(ANA, social.id)
    assert event is not None
    calendar.put(ANA, dataclasses.replace(event, start=event.start + timedelta(hours=1),
                                          end=event.end + timedelta(hours=1)))  # fmt: skip
    scan(store, calendar, NOW + timedelta(minutes=30))
    others = [h for h in live(store).values() if h.status is not HoldStatus.ADOPTED]
    for hold in others:  # leave only the adopted one on the calendar
        calendar.remove(ANA, hold.id)
    scan(store, calendar, NOW + timedelta(minutes=40))
    assert start_leaving(store, ANA, now=NOW + timedelta(minutes=45)).status is PersonStatus.LEAVING
    scan(store, calendar, NOW + timedelta(minutes=50))
    assert social.id not in on_calendar(calendar)


def test_the_first_sync_records_since_when_the_calendar_is_observed(world: Any) -> None:
    # The digest shows no numbers for a week that ended before this (never "0 h").
    store, _, calendar = world
    scan(store, calendar)
    state = store.get_sync(ANA)
    assert state is not None and state.observed_since == NOW
    scan(store, calendar, NOW + timedelta(days=8))
    later = store.get_sync(ANA)
    assert later is not None and later.observed_since == NOW  # never moved on
    assert later.synced_at is not None and later.synced_at > NOW


def test_scan_outcomes_are_an_enum_whose_json_is_the_old_strings() -> None:
    import json

    from micromoments.services.scan import ScanOutcome, ScanReport

    assert [o.value for o in ScanOutcome] == [
        "scanned",
        "skipped",
        "busy",
        "suspended",
        "dry-run",
        "needs_reconnect",
    ]
    report = ScanReport(person="ana@example.com", outcome=ScanOutcome.DRY_RUN)
    assert type(report.to_json()["outcome"]) is str
    assert json.loads(json.dumps(report.to_json()))["outcome"] == "dry-run"


class ListQueue:
    def __init__(self) -> None:
        self.sent: list[ScanRequest] = []

    def send(self, requests: list[ScanRequest]) -> None:
        self.sent.extend(requests)


def dispatched(store: TableStore, when: datetime) -> list[tuple[str, str]]:
    queue = ListQueue()
    send_due_scans(store, queue, now=when)
    return [(r.person, r.reason.value) for r in queue.sent]


def test_a_dropped_notification_is_caught_by_the_morning_safety_scan(world: Any) -> None:
    """A meeting lands and its notification never comes: no scan at night, and the next
    morning's safety scan (the hour Ana's working day starts, Berlin) finds it."""
    store, _, calendar = world
    scan(store, calendar)
    scan(store, calendar, NOW + timedelta(minutes=30))
    calendar.put(ANA, meeting("tue1", 24, "14:00", "15:00"))  # no notification, no scan
    assert dispatched(store, datetime(2026, 11, 24, 2, 0, tzinfo=UTC)) == []  # 03:00 Berlin
    morning = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # Tuesday 09:00 in Berlin
    assert dispatched(store, morning) == [(ANA, "safety")]
    report = scan(store, calendar, morning)
    assert report.outcome == "scanned" and not report.quick
    assert "tue1" in {e.id for e in store.mirror(ANA)}


def test_dispatch_in_the_day_sends_only_when_time_driven_work_is_due(world: Any) -> None:
    store, _, calendar = world
    scan(store, calendar)
    state = store.get_sync(ANA)
    assert state is not None
    due = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # Monday 15:00 in Berlin
    store.put_sync(ANA, dataclasses.replace(state, quiet_until=due, fingerprint="x"))
    assert dispatched(store, due - timedelta(hours=4)) == []  # quiet until then
    assert dispatched(store, due) == [(ANA, "due")]
    assert dispatched(store, due + timedelta(hours=8)) == []  # 23:00 Berlin: night
    store.put_sync(ANA, dataclasses.replace(state, quiet_until=None))  # work left over
    assert dispatched(store, due - timedelta(hours=4)) == [(ANA, "due")]


def test_a_microsoft_org_polls_only_people_without_a_live_subscription(world: Any) -> None:
    """On a Microsoft 365 organisation a person with no live push channel (no Graph
    subscription: refused, expired, push off) is polled every working hour (an unchanged
    scan costs one delta request); one with a live subscription is left to push, as on
    Google; nothing at night either way."""
    from micromoments.domain.push import PushChannel

    store, _, calendar = world
    scan(store, calendar)
    settings = store.get_settings()
    assert settings is not None
    quiet = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # Monday 15:00 in Berlin
    state = store.get_sync(ANA)
    assert state is not None
    store.put_sync(ANA, dataclasses.replace(state, quiet_until=quiet + timedelta(hours=3)))
    assert dispatched(store, quiet) == []  # Google: changes come by push
    store.put_settings(settings.updated({"calendar_provider": "microsoft"}))
    assert dispatched(store, quiet) == [(ANA, "hourly")]
    assert dispatched(store, datetime(2026, 11, 24, 8, 0, tzinfo=UTC)) == [(ANA, "safety")]
    assert dispatched(store, quiet + timedelta(hours=8)) == []  # 23:00 Berlin: night
    subscription = PushChannel("sub-1", ANA, f"users/{ANA}/events", "h", quiet + timedelta(days=2))
    store.put_channel(subscription)
    assert dispatched(store, quiet) == []  # a live subscription: push, as on Google
    thursday = quiet + timedelta(days=3)  # it expired on Wednesday: polled again
    assert dispatched(store, thursday) == [(ANA, "hourly")]


def test_the_quick_paths_token_write_never_undoes_a_concurrent_full_scan(world: Any) -> None:
    """The quick path's only write (a new sync token) is conditioned on the token and quiet
    time it read: once a full scan has moved either, it is refused and changes nothing."""
    store, _, calendar = world
    scan(store, calendar)
    read = store.get_sync(ANA)
    assert read is not None and read.quiet_until is not None
    newer = dataclasses.replace(read, token="full-scan-token", quiet_until=None)
    store.put_sync(ANA, newer)  # a full scan got there first
    stale = dataclasses.replace(read, token="quick-token")
    assert not store.replace_sync(ANA, read, stale)
    assert store.get_sync(ANA) == newer
    store.put_sync(ANA, read)
    assert store.replace_sync(ANA, read, stale)
    assert store.get_sync(ANA) == stale


def test_room_kept_for_a_shared_moment_that_never_came_is_given_back(world: Any) -> None:
    """Next week is full of runs: the first scan leaves room there for the coffee chat and
    the drop-in Ana wants. The round comes and gives her neither (nobody to pair with, no
    team): her next scan gives that room to a social hold of her own, and a rescan with
    nothing changed writes nothing."""
    from micromoments.services.pair import pair_week

    store, table, calendar = world
    key = b"k" * 32
    for day in range(30, 35):  # Mon 30 Nov - Fri 4 Dec
        on = date(2026, 11, 30) + timedelta(days=day - 30)
        for i, (s, e) in enumerate([("09:00", "10:00"), ("10:00", "11:00"), ("11:00", "12:00")]):
            calendar.put(ANA, mirror_event(f"n{day}-{i}", at(on, s), at(on, e)))

    def run(now: datetime) -> Any:
        return scan_person(
            ANA, store=store, calendar=calendar, now=now, owner="w1", expand=simple_expander,
            master_key=key,
        )  # fmt: skip

    def next_week() -> list[str]:
        return sorted(h.kind.value for h in live(store).values() if h.day >= date(2026, 11, 30))

    run(NOW)
    run(NOW + timedelta(minutes=10))  # our own inserts come back in the delta
    assert next_week() == ["breather"] * 4  # room kept for the round still to come
    report = pair_week(store, calendar, now=NOW + timedelta(minutes=20), master_key=key)
    assert report.unpaired and report.watercoolers == 0
    run(NOW + timedelta(minutes=30))
    assert next_week() == ["breather"] * 4 + ["social"]
    (social,) = [
        h for h in live(store).values() if h.kind is HoldKind.SOCIAL and h.day >= date(2026, 11, 30)
    ]
    assert social.id in on_calendar(calendar)
    run(NOW + timedelta(minutes=40))  # the delta of its own insert
    writes = len(calendar.write_log)
    table.writes.clear()
    run(NOW + timedelta(minutes=50))
    assert len(calendar.write_log) == writes
    assert not set(table.writes) - {"LEASE"}
