"""A person's own Google grant revoked or expired (per-person OAuth): ``needs_reconnect``,
no scans, holds left, one email; a leaving person's grant is revoked once nothing is left."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from micromoments.domain.holds import HoldStatus
from micromoments.domain.people import PersonStatus
from micromoments.handlers.scan import ScanDeps, scan_batch
from tests.unit.test_scan_service import ANA, NOW, live, on_calendar, scan, world

__all__ = ["world"]  # the fixture


def _message(person: str) -> dict[str, Any]:
    body = json.dumps({"person": person, "reason": "hourly"})
    return {"messageId": "m1", "body": body, "receiptHandle": "r1", "attributes": {}}


def test_a_revoked_grant_waits_for_a_reconnect_and_writes_nothing(world: Any) -> None:
    store, table, calendar = world
    scan(store, calendar)
    holds_before = live(store)
    events_before = on_calendar(calendar)
    assert holds_before and events_before
    calendar.revoked_grants.add(ANA)
    table.writes.clear()
    writes_before = len(calendar.write_log)

    report = scan(store, calendar, NOW + timedelta(days=1))

    assert report.outcome == "needs_reconnect"
    person = store.get_person(ANA)
    assert person is not None and person.status is PersonStatus.NEEDS_RECONNECT
    assert len(calendar.write_log) == writes_before  # nothing written to the calendar
    assert on_calendar(calendar) == events_before  # holds left as they are
    assert set(live(store)) == set(holds_before)
    assert all(h.status is not HoldStatus.REMOVED for h in store.holds(ANA))
    assert set(table.writes) <= {"PROFILE", "LEASE"}  # the status, and the lease
    # no scans until they reconnect: no Google call at all
    requests = calendar.counters.requests
    assert scan(store, calendar, NOW + timedelta(days=2)).outcome == "skipped"
    assert calendar.counters.requests == requests
    assert ANA not in set(store.scannable_people())


def test_the_scan_that_finds_it_sends_one_reconnect_email(world: Any) -> None:
    store, _, calendar = world
    scan(store, calendar)
    calendar.revoked_grants.add(ANA)
    asked: list[str] = []
    deps = ScanDeps(store, calendar, reconnect=asked.append)
    scan_batch({"Records": [_message(ANA)]}, None, deps)
    scan_batch({"Records": [_message(ANA)]}, None, deps)
    assert asked == [ANA]


def test_a_leaving_persons_grant_is_revoked_once_every_hold_is_gone(world: Any) -> None:
    store, _, calendar = world
    scan(store, calendar)
    person = store.get_person(ANA)
    assert person is not None
    store.update_person(person.model_copy(update={"status": PersonStatus.LEAVING}))
    report = scan(store, calendar, NOW + timedelta(minutes=30))
    assert report.status == "opted_out"
    assert on_calendar(calendar) == {}
    assert calendar.grants_revoked_by_us == [ANA]


def test_a_leaving_person_whose_grant_is_gone_is_opted_out(world: Any) -> None:
    store, _, calendar = world
    scan(store, calendar)
    person = store.get_person(ANA)
    assert person is not None
    store.update_person(person.model_copy(update={"status": PersonStatus.LEAVING}))
    calendar.revoked_grants.add(ANA)
    report = scan(store, calendar, NOW + timedelta(minutes=30))
    assert report.status == "opted_out"
    person = store.get_person(ANA)
    assert person is not None and person.status is PersonStatus.OPTED_OUT


def test_the_reconnect_email_links_to_connect_and_to_leave(world: Any) -> None:
    from micromoments.adapters.mail import MemoryMailer
    from micromoments.services.reconnect import ask_to_reconnect

    store, _, _ = world
    mailer = MemoryMailer()
    ask_to_reconnect(ANA, store=store, mailer=mailer, master_key=b"k" * 32,
                     base_url="https://mm.example.com/", sender="mm@example.com",
                     now=NOW)  # fmt: skip
    message = mailer.latest(ANA)
    assert message is not None
    text = message.get_content()
    assert "https://mm.example.com/connect\n" in text
    assert "https://mm.example.com/leave?token=" in text


def test_a_person_waiting_to_reconnect_can_still_leave(world: Any) -> None:
    from micromoments.services.people import start_leaving

    store, _, calendar = world
    scan(store, calendar)
    calendar.revoked_grants.add(ANA)
    scan(store, calendar, NOW + timedelta(days=1))
    assert start_leaving(store, ANA, now=NOW + timedelta(days=1)).status is PersonStatus.LEAVING
    report = scan(store, calendar, NOW + timedelta(days=1, minutes=5))
    assert report.status == "opted_out"
