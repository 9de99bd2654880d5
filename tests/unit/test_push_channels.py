"""Push channels' life, run by the scan: opened, renewed, recreated, stopped (fakes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from micromoments.adapters.memory import MemoryTable
from micromoments.adapters.memory_calendar import MemoryCalendar
from micromoments.adapters.table import TableStore
from micromoments.domain.people import Person, PersonStatus
from micromoments.domain.push import Notification, token_hash
from micromoments.domain.scan_request import ScanReason, ScanRequest
from micromoments.domain.settings import OrgSettings
from micromoments.ports import CalendarError, WatchChannel
from micromoments.services.notify import Verdict, receive
from micromoments.services.people import delete_person, start_leaving
from micromoments.services.scan import scan_person
from micromoments.services.scan.channels import keep_channel

ANA = "ana@example.com"
NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # Monday 08:00 in Berlin
ADDRESS = "https://push.example/calendar/notify"
MASTER_KEY = b"k" * 32


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


class FlakyCalendar(MemoryCalendar):
    """Fails the next ``watch_failures`` watches and ``stop_failures`` stops."""

    watch_failures = 0
    stop_failures = 0

    def watch(
        self, email: str, channel_id: str, token: str, address: str, ttl: timedelta
    ) -> WatchChannel:
        if self.watch_failures:
            self.watch_failures -= 1
            raise CalendarError("events.watch: 503 backendError")
        return super().watch(email, channel_id, token, address, ttl)

    def stop_channel(self, email: str, channel_id: str, resource_id: str) -> bool:
        if self.stop_failures:
            self.stop_failures -= 1
            raise CalendarError("channels.stop: 503 backendError")
        return super().stop_channel(email, channel_id, resource_id)


class World:
    def __init__(self) -> None:
        self.clock = Clock()
        self.table = MemoryTable()
        self.store = TableStore(self.table)
        self.store.create_settings(
            OrgSettings(timezone="Europe/Berlin", allowed_domains=("example.com",))
        )
        self.store.create_person(Person(email=ANA))
        self.calendar = FlakyCalendar(now=self.clock)
        self.calendar.add_calendar(ANA, "Europe/Berlin")

    def scan(self, push_address: str | None = ADDRESS) -> str:
        report = scan_person(
            ANA,
            store=self.store,
            calendar=self.calendar,
            now=self.clock.now,
            owner="w1",
            master_key=MASTER_KEY,
            push_address=push_address,
        )
        return report.outcome

    def channel_items(self) -> list[str]:
        return sorted(
            f"{item['pk']}|{item['sk']}" for item in self.table.items() if "CHANNEL" in item["sk"]
        )


def test_a_scan_opens_one_channel_and_later_scans_keep_it() -> None:
    world = World()
    assert world.scan() == "scanned"
    live = world.calendar.live_channels(ANA)
    assert len(live) == 1
    opened = world.calendar.channels[live[0]]
    (stored,) = world.store.channels(ANA)
    assert (stored.id, stored.resource_id, stored.expiration) == (
        opened.channel.id,
        opened.channel.resource_id,
        NOW + timedelta(days=7),
    )
    assert opened.address == ADDRESS
    assert stored.token_hash == token_hash(opened.token) != opened.token  # only the hash
    assert opened.token not in repr(world.table.items())
    world.clock.now += timedelta(hours=5)
    world.scan()
    assert world.calendar.counters.by_method["events.watch"] == 1


def test_no_push_address_opens_no_channel() -> None:
    world = World()
    world.scan(push_address=None)
    assert world.calendar.live_channels() == []
    assert world.store.channels(ANA) == []


def test_a_scan_that_starts_to_keep_a_channel_is_a_full_one() -> None:
    """Scanned before push was on (no address), then again with the calendar unchanged and
    the quiet time not over: the quick path would open no channel, so the address is part
    of the fingerprint and this scan is a full one that opens it."""
    world = World()
    world.scan(push_address=None)
    world.clock.now = NOW + timedelta(minutes=5)
    world.scan(push_address=None)
    assert world.calendar.live_channels() == []  # quiet, and still no channel
    world.clock.now = NOW + timedelta(minutes=10)
    world.scan()
    assert len(world.calendar.live_channels(ANA)) == 1
    assert len(world.store.channels(ANA)) == 1


def test_the_channel_is_kept_while_more_than_three_days_are_left() -> None:
    world = World()
    world.scan()
    (first,) = world.store.channels(ANA)
    world.clock.now = NOW + timedelta(days=3, hours=23)  # 3 days 1 hour left
    world.scan()
    assert [channel.id for channel in world.store.channels(ANA)] == [first.id]
    assert world.calendar.live_channels(ANA) == [first.id]


def test_the_channel_is_renewed_with_three_days_left_so_no_weekend_lapses() -> None:
    # Opened on any day, a 7-day channel falls due at least three days before it lapses:
    # a working day's scan renews it before a weekend of notified-only scans can let it go.
    world = World()
    world.scan()
    (first,) = world.store.channels(ANA)
    world.clock.now = NOW + timedelta(days=4, hours=1)  # 2 days 23 hours left
    world.scan()
    (second,) = world.store.channels(ANA)
    assert second.id != first.id
    assert second.expiration == world.clock.now + timedelta(days=7)
    assert world.calendar.live_channels(ANA) == [second.id]  # the old one was stopped
    assert world.store.get_channel(first.id) is None


def test_a_lost_channel_is_recreated_by_the_next_scan() -> None:
    world = World()
    world.calendar.watch_failures = 1
    assert world.scan() == "scanned"  # a failed watch never fails the scan
    assert world.store.channels(ANA) == []
    world.clock.now += timedelta(hours=1)
    world.scan()
    (channel,) = world.store.channels(ANA)
    # expired unnoticed (e.g. no scan for a week): the next scan opens a new one
    world.clock.now = channel.expiration + timedelta(hours=1)
    world.scan()
    assert len(world.calendar.live_channels(ANA)) == 1
    assert [c.id for c in world.store.channels(ANA)] == world.calendar.live_channels(ANA)


def test_opting_out_stops_the_channel() -> None:
    world = World()
    world.scan()
    assert len(world.calendar.live_channels(ANA)) == 1
    start_leaving(world.store, ANA, now=world.clock.now)
    world.clock.now += timedelta(minutes=5)
    world.scan()
    assert world.calendar.live_channels(ANA) == []
    assert world.channel_items() == []
    assert world.calendar.counters.by_method["channels.stop"] == 1


def test_a_failed_stop_keeps_the_person_leaving_until_a_later_scan_stops_it() -> None:
    world = World()
    # a channel and no hold: without the channel, opting out would finish at once
    keep_channel(ANA, store=world.store, calendar=world.calendar, address=ADDRESS, now=NOW)
    assert world.store.holds(ANA) == []
    world.calendar.stop_failures = 1
    assert delete_person(world.store, ANA, master_key=MASTER_KEY, now=world.clock.now) is False
    person = world.store.get_person(ANA)
    assert person is not None and person.status is PersonStatus.LEAVING  # a channel is open
    world.scan()
    assert world.store.get_person(ANA) is not None  # the stop failed: not erased yet
    assert len(world.calendar.live_channels(ANA)) == 1
    world.clock.now += timedelta(hours=1)
    world.scan()
    assert world.store.get_person(ANA) is None
    assert world.calendar.live_channels(ANA) == []
    assert world.channel_items() == []


def test_erasure_stops_the_channel_and_leaves_no_channel_item() -> None:
    world = World()
    world.scan()
    delete_person(world.store, ANA, master_key=MASTER_KEY, now=world.clock.now)
    world.clock.now += timedelta(minutes=5)
    world.scan()
    assert world.store.get_person(ANA) is None  # erased
    assert world.calendar.live_channels(ANA) == []
    assert world.channel_items() == []


def test_a_notification_on_the_opened_channel_queues_a_push_scan() -> None:
    world = World()
    world.scan()
    (channel_id,) = world.calendar.live_channels(ANA)
    opened = world.calendar.channels[channel_id]
    sent: list[ScanRequest] = []

    class Queue:
        def send(self, requests: list[ScanRequest], *, delay_seconds: int = 0) -> None:
            sent.extend(requests)

    notification = Notification(channel_id, opened.token, opened.channel.resource_id, "exists")
    verdict = receive(notification, store=world.store, queue=Queue(), now=world.clock.now)
    assert verdict is Verdict.SCAN_QUEUED
    assert sent == [ScanRequest(ANA, ScanReason.PUSH)]
