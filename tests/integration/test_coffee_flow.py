"""Coffee chats and drop-ins end to end: the weekly pairing, then the organisers' scans,
with the real Google client against the local Calendar server (which copies an organiser's
event to its attendees' calendars, as Google does in one domain) and the real boto3
against moto's DynamoDB server."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest

from micromoments.adapters.dynamo import DynamoTable, create_table
from micromoments.adapters.table import TableStore
from micromoments.config import Config
from micromoments.domain.digest import Outcome
from micromoments.domain.holds import Hold, HoldKind, HoldStatus
from micromoments.domain.people import Person, PersonStatus, Preferences
from micromoments.domain.scan_request import ScanRequest
from micromoments.domain.settings import OrgSettings
from micromoments.local.calendar_api import CalendarServer
from micromoments.services.digest import gather_digest
from micromoments.services.pair import PairReport, pair_week
from micromoments.services.scan import ScanReport, scan_person
from micromoments.wiring import calendar_gateway

pytestmark = pytest.mark.integration

KEY = b"k" * 32
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
THURSDAY = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # the pairing runs for the week of 30 Nov
PEOPLE = {
    "ana@example.com": "Europe/Berlin",
    "ben@example.com": "Europe/Berlin",
    "cleo@example.com": "America/New_York",
    "dev@example.com": "Europe/Berlin",
}


class ListQueue:
    def __init__(self) -> None:
        self.sent: list[ScanRequest] = []

    def send(self, requests: list[ScanRequest]) -> None:
        self.sent.extend(requests)


class World:
    def __init__(self, server: CalendarServer, moto_url: str, people: dict[str, str]) -> None:
        self.server = server
        self.people = people
        client = boto3.client("dynamodb", endpoint_url=moto_url)
        name = f"coffee-{uuid.uuid4().hex[:10]}"
        create_table(client, name)
        self.store = TableStore(DynamoTable(client, name))
        self.store.create_settings(
            OrgSettings(timezone="Europe/Berlin", allowed_domains=("example.com",))
        )
        self.gateway = calendar_gateway(Config(calendar_api_url=server.base_url), table=self.store)
        self.queue = ListQueue()
        for email, tz in people.items():
            server.add_calendar(email, timezone=tz)
            prefs = Preferences(timezone=tz, moments=frozenset({"coffee", "watercooler"}))
            self.store.create_person(Person(email=email, team="Platform", preferences=prefs))

    def scan(self, email: str, now: datetime) -> ScanReport:
        return scan_person(
            email, store=self.store, calendar=self.gateway, now=now, owner=uuid.uuid4().hex
        )

    def scan_all(self, now: datetime) -> None:
        for email in self.people:
            self.scan(email, now)

    def pair(self, now: datetime = THURSDAY) -> PairReport:
        return pair_week(self.store, self.gateway, now=now, master_key=KEY, queue=self.queue)

    def shared(self, kind: HoldKind = HoldKind.COFFEE) -> dict[str, tuple[str, Hold]]:
        """The shared holds by id, with their organiser; attendees as addresses."""
        return {
            h.id: (email, self.resolved(h))
            for email in self.people
            for h in self.store.holds(email)
            if h.kind is kind
        }

    def resolved(self, hold: Hold) -> Hold:
        """The hold with its attendees' addresses: the Store keeps pseudonyms only."""
        assert all("@" not in a for a in hold.attendees)
        found = [self.store.address_of(a) for a in hold.attendees]
        return dataclasses.replace(hold, attendees=tuple(a for a in found if a))

    def copies(self, event_id: str) -> dict[str, dict[str, Any]]:
        """The event on every calendar that holds it (not cancelled), by calendar."""
        found = {}
        for email in self.people:
            for event in self.server.events(email, include_cancelled=False):
                if event["id"] == event_id:
                    found[email] = event
        return found

    def meeting(self, email: str, event_id: str, start: datetime, end: datetime) -> None:
        self.server.seed(
            email,
            [
                {
                    "id": event_id,
                    "status": "confirmed",
                    "start": {"dateTime": start.isoformat()},
                    "end": {"dateTime": end.isoformat()},
                    "organizer": {"email": "boss@example.com"},
                    "attendees": [
                        {"email": email, "responseStatus": "accepted"},
                        {"email": "boss@example.com", "responseStatus": "accepted"},
                    ],
                }
            ],
        )


@pytest.fixture
def world(moto_server_url: str) -> Iterator[World]:
    with CalendarServer() as server:
        yield World(server, moto_server_url, PEOPLE)


def test_pairs_are_placed_by_their_organisers_and_seen_as_ours_by_partners(world: World) -> None:
    world.scan_all(THURSDAY)
    report = world.pair()
    assert (report.pairs, report.trios, report.unpaired) == (2, 0, {})
    assert report.planned == 2 + 1  # two chats and the team's drop-in
    organisers = {r.person for r in world.queue.sent}
    assert len(organisers) <= 3

    for email in organisers:
        world.scan(email, THURSDAY + timedelta(minutes=5))
    chats = world.shared()
    assert len(chats) == 2
    for event_id, (organiser, hold) in chats.items():
        assert hold.status is HoldStatus.PLACED
        copies = world.copies(event_id)
        assert set(copies) == {organiser, *hold.attendees}
        body = copies[organiser]
        assert body["transparency"] == "opaque"
        assert "suggested this coffee chat for both of you" in body["description"]
        assert body["extendedProperties"]["shared"]["mm_hold_id"] == event_id
        # the partner's scan sees it as ours: busy, never a meeting, never written by them
        (partner,) = hold.attendees
        log = len(world.server.write_log)
        world.scan(partner, THURSDAY + timedelta(minutes=10))
        mirror = {m.id: m for m in world.store.mirror(partner)}
        assert mirror[event_id].hold_id == event_id and mirror[event_id].hold_kind == "coffee"
        assert all(r.event_id != event_id for r in world.server.write_log[log:])
        assert event_id not in {h.id for h in world.store.holds(partner)}
        loads = {d.date: d for d in world.store.day_loads(partner, hold.day, hold.day)}
        assert loads[hold.day].meeting_minutes == 0
        # and no social time of theirs lands on the chat's day
        social_days = {h.day for h in world.store.holds(partner) if h.kind is HoldKind.SOCIAL}
        assert hold.day not in social_days

    (drop_in,) = world.shared(HoldKind.WATERCOOLER).values()
    organiser, hold = drop_in
    assert hold.status is HoldStatus.PLACED and hold.end - hold.start == timedelta(minutes=15)
    assert world.copies(hold.id)[organiser]["transparency"] == "transparent"


def test_berlin_and_new_york_meet_inside_their_working_hours_overlap(world: World) -> None:
    world.scan_all(THURSDAY)
    world.pair()
    for organiser in {r.person for r in world.queue.sent}:
        world.scan(organiser, THURSDAY + timedelta(minutes=5))
    crossing = [
        (event_id, hold)
        for event_id, (organiser, hold) in world.shared().items()
        if "cleo@example.com" in {organiser, *hold.attendees}
    ]
    assert len(crossing) == 1
    event_id, hold = crossing[0]
    # 09:00-17:00 in both zones overlap only from 15:00 to 17:00 Berlin (09:00-11:00 New York)
    for tz, first, last in ((BERLIN, 15, 17), (NEW_YORK, 9, 11)):
        start, end = hold.start.astimezone(tz), hold.end.astimezone(tz)
        assert start.replace(hour=first, minute=0) <= start
        assert end <= start.replace(hour=last, minute=0)
    assert "cleo@example.com" in world.copies(event_id)


def test_a_rerun_after_calendars_changed_continues_the_same_round(world: World) -> None:
    world.scan_all(THURSDAY)
    first = world.pair()
    for organiser in {r.person for r in world.queue.sent}:
        world.scan(organiser, THURSDAY + timedelta(minutes=5))
    before = world.shared()
    round_before = world.store.get_round(first.iso_week)
    # a new meeting for everyone, then the pairing runs again (a redelivery)
    for email in PEOPLE:
        world.meeting(email, f"allhands{email[:3]}", *_monday(15, 16))
    world.scan_all(THURSDAY + timedelta(hours=1))
    again = world.pair(THURSDAY + timedelta(hours=2))
    assert again.continued and again.planned == 0
    assert world.store.get_round(first.iso_week) == round_before
    after = world.shared()
    assert set(after) == set(before)  # same events, no second chat
    for event_id in after:
        assert len({e["id"] for e in world.copies(event_id).values()}) == 1


def test_a_members_new_meeting_on_the_chat_moves_it_for_everyone(world: World) -> None:
    world.scan_all(THURSDAY)
    world.pair()
    for organiser in {r.person for r in world.queue.sent}:
        world.scan(organiser, THURSDAY + timedelta(minutes=5))
    event_id, (organiser, hold) = next(iter(world.shared().items()))
    (partner,) = hold.attendees
    world.meeting(
        partner, "clash", hold.start - timedelta(minutes=5), hold.end + timedelta(minutes=5)
    )
    world.scan(partner, THURSDAY + timedelta(hours=1))  # their mirror learns of the meeting
    report = world.scan(organiser, THURSDAY + timedelta(hours=2))
    moved = {h.id: h for h in world.store.holds(organiser)}[event_id]
    assert moved.status is HoldStatus.MOVED and report.holds["moved"] == 1
    assert moved.day == hold.day  # the same day, clear of the new meeting
    assert moved.start >= hold.end + timedelta(minutes=5) or moved.end <= hold.start
    copies = world.copies(event_id)
    assert set(copies) == {organiser, partner}
    for copy in copies.values():  # every member's copy follows
        assert datetime.fromisoformat(copy["start"]["dateTime"]) == moved.start


def test_a_chat_with_no_free_time_left_that_day_is_cancelled(world: World) -> None:
    world.scan_all(THURSDAY)
    world.pair()
    for organiser in {r.person for r in world.queue.sent}:
        world.scan(organiser, THURSDAY + timedelta(minutes=5))
    event_id, (organiser, hold) = next(iter(world.shared().items()))
    (partner,) = hold.attendees
    day = hold.start.astimezone(BERLIN).replace(hour=0, minute=0)
    world.meeting(partner, "offsite", day.replace(hour=6), day.replace(hour=23))
    world.scan(partner, THURSDAY + timedelta(hours=1))
    report = world.scan(organiser, THURSDAY + timedelta(hours=2))
    removed = {h.id: h for h in world.store.holds(organiser)}[event_id]
    assert removed.status is HoldStatus.REMOVED and report.holds["removed"] == 1
    assert world.copies(event_id) == {}


def test_a_decline_is_recorded_and_nobody_is_invited_again(world: World) -> None:
    world.scan_all(THURSDAY)
    world.pair()
    for organiser in {r.person for r in world.queue.sent}:
        world.scan(organiser, THURSDAY + timedelta(minutes=5))
    event_id, (organiser, hold) = next(iter(world.shared().items()))
    (partner,) = hold.attendees
    world.server.respond(partner, event_id, "declined")
    world.scan(organiser, THURSDAY + timedelta(hours=1))
    declined = {h.id: h for h in world.store.holds(organiser)}[event_id]
    assert declined.status is HoldStatus.DECLINED
    assert world.copies(event_id) == {}  # cancelled for both
    log = len(world.server.write_log)
    again = world.pair(THURSDAY + timedelta(hours=2))
    assert again.planned == 0
    for email in PEOPLE:
        world.scan(email, THURSDAY + timedelta(hours=3))
    assert not [r for r in world.server.write_log[log:] if r.event_id == event_id]
    assert world.copies(event_id) == {}


def test_a_member_who_opts_out_is_dropped_from_the_group(moto_server_url: str) -> None:
    three = dict(list(PEOPLE.items())[:2]) | {"eve@example.com": "Europe/Berlin"}
    with CalendarServer() as server:
        world = World(server, moto_server_url, three)
        for email in three:
            world.scan(email, THURSDAY)
        report = world.pair()
        assert (report.pairs, report.trios) == (0, 1)
        (organiser,) = {r.person for r in world.queue.sent}
        world.scan(organiser, THURSDAY + timedelta(minutes=5))
        ((event_id, (_, hold)),) = world.shared().items()
        leaver = hold.attendees[0]
        person = world.store.get_person(leaver)
        assert person is not None
        world.store.update_person(person.model_copy(update={"status": PersonStatus.LEAVING}))
        world.scan(organiser, THURSDAY + timedelta(hours=1))
        kept = world.resolved({h.id: h for h in world.store.holds(organiser)}[event_id])
        assert leaver not in kept.attendees and len(kept.attendees) == 1
        copies = world.copies(event_id)
        assert leaver not in copies and set(copies) == {organiser, *kept.attendees}


def _monday(start_hour: int, end_hour: int) -> tuple[datetime, datetime]:
    day = datetime(2026, 11, 30, tzinfo=BERLIN)
    return day.replace(hour=start_hour), day.replace(hour=end_hour)


def test_a_guests_digest_counts_the_chat_they_were_invited_to(world: World) -> None:
    # The guest holds no record of the chat (its organiser does): their digest finds it on
    # their calendar, as the copy their own scan mirrored, in "already planned" and, once
    # it happened, in "what micromoments did".
    world.scan_all(THURSDAY)
    world.pair()
    for organiser in {r.person for r in world.queue.sent}:
        world.scan(organiser, THURSDAY + timedelta(minutes=5))
    event_id, (organiser, chat) = next(iter(world.shared().items()))
    (guest,) = chat.attendees
    world.scan(guest, THURSDAY + timedelta(minutes=10))
    assert event_id not in {h.id for h in world.store.holds(guest)}
    person = world.store.get_person(guest)
    assert person is not None
    settings = OrgSettings(timezone="Europe/Berlin")

    monday = datetime(2026, 11, 30, tzinfo=BERLIN)  # the week the pairing planned
    own = {
        h.id
        for h in world.store.holds(guest)
        if h.kind not in (HoldKind.COFFEE, HoldKind.WATERCOOLER)
        and h.status in (HoldStatus.PLANNED, HoldStatus.PLACED)
        and monday.date() <= h.day < monday.date() + timedelta(days=7)
    }
    organised_here = {h.id for h in world.store.holds(guest) if h.shared}
    on_calendar = {
        e["id"]
        for e in world.server.events(guest, include_cancelled=False)
        if e.get("extendedProperties", {}).get("shared", {}).get("mm_hold_id") == e["id"]
    }
    invited = on_calendar - organised_here
    assert event_id in invited
    digest = gather_digest(world.store, person, settings, "2026-W48", THURSDAY)
    assert digest.outlook.holds_planned == len(own) + len(on_calendar)

    after = chat.end + timedelta(hours=1)
    world.scan(guest, after)
    done = gather_digest(world.store, person, settings, "2026-W49", after)
    assert done.moments.coffee is Outcome.HAPPENED
