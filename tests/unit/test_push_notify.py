"""Push notifications -> scans (services.notify) on fakes: the memory Store and calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from micromoments.adapters.memory import MemoryTable
from micromoments.adapters.memory_calendar import MemoryCalendar
from micromoments.adapters.table import TableStore
from micromoments.domain.people import Person
from micromoments.domain.push import Notification, PushChannel, token_hash
from micromoments.domain.scan_request import ScanReason, ScanRequest
from micromoments.services.notify import Verdict, receive

ADA = "ada@example.com"
GRACE = "grace@example.com"
NOW = datetime(2026, 3, 16, 9, 0, 10, tzinfo=UTC)
ADDRESS = "https://push.example/calendar/notify"


class Queue:
    def __init__(self, fail: int = 0) -> None:
        self.sent: list[tuple[ScanRequest, int]] = []
        self.fail = fail

    def send(self, requests: list[ScanRequest], *, delay_seconds: int = 0) -> None:
        if self.fail:
            self.fail -= 1
            raise OSError("queue down")
        self.sent.extend((request, delay_seconds) for request in requests)


class World:
    def __init__(self) -> None:
        self.table = MemoryTable()
        self.store = TableStore(self.table)
        self.calendar = MemoryCalendar(now=lambda: NOW)
        self.queue = Queue()
        self.tokens: dict[str, str] = {}
        self.channels: dict[str, PushChannel] = {}
        for email in (ADA, GRACE):
            self.store.create_person(Person(email=email))
            token = f"token-of-{email}"
            watched = self.calendar.watch(
                email, f"chan-{email[:3]}", token, ADDRESS, timedelta(days=7)
            )
            channel = PushChannel(
                watched.id, email, watched.resource_id, token_hash(token), watched.expiration
            )
            self.store.put_channel(channel)
            self.tokens[email], self.channels[email] = token, channel

    def notification(self, email: str, state: str = "exists", number: int = 2) -> Notification:
        channel = self.channels[email]
        return Notification.from_headers(
            {
                "X-Goog-Channel-ID": channel.id,
                "X-Goog-Channel-Token": self.tokens[email],
                "X-Goog-Resource-ID": channel.resource_id,
                "X-Goog-Resource-State": state,
                "X-Goog-Message-Number": str(number),
            }
        )

    def receive(self, notification: Notification, now: datetime = NOW) -> Verdict:
        return receive(notification, store=self.store, queue=self.queue, now=now)


def test_a_verified_change_queues_one_scan_that_starts_when_its_minute_ends() -> None:
    world = World()
    assert world.receive(world.notification(ADA)) is Verdict.SCAN_QUEUED
    assert world.queue.sent == [(ScanRequest(ADA, ScanReason.PUSH), 50)]


def _forged(world: World, kind: str) -> Notification:
    genuine = world.notification(ADA)
    grace = world.channels[GRACE]
    if kind == "unknown channel":
        return Notification("chan-made-up", genuine.token, genuine.resource_id, "exists")
    if kind == "wrong token":
        return Notification(genuine.channel_id, "guess", genuine.resource_id, "exists")
    if kind == "another person's token":
        return Notification(genuine.channel_id, world.tokens[GRACE], genuine.resource_id, "exists")
    if kind == "another person's resource":
        return Notification(genuine.channel_id, genuine.token, grace.resource_id, "exists")
    if kind == "no headers":
        return Notification.from_headers({})
    if kind == "oversized id":
        return Notification("x" * 10_000, genuine.token, genuine.resource_id, "exists")
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    [
        "unknown channel",
        "wrong token",
        "another person's token",
        "another person's resource",
        "no headers",
        "oversized id",
    ],
)
def test_forged_notifications_change_nothing(kind: str) -> None:
    world = World()
    before = world.table.items()
    verdict = world.receive(_forged(world, kind))
    assert verdict.forged
    assert world.queue.sent == []
    assert world.table.items() == before


def test_a_notification_on_an_expired_channel_is_dropped() -> None:
    world = World()
    later = world.channels[ADA].expiration + timedelta(seconds=1)
    assert world.receive(world.notification(ADA), now=later) is Verdict.EXPIRED_CHANNEL
    assert world.queue.sent == []


def test_the_sync_message_changes_nothing() -> None:
    world = World()
    before = world.table.items()
    assert world.receive(world.notification(ADA, state="sync", number=1)) is Verdict.SYNC
    assert world.queue.sent == []
    assert world.table.items() == before


def test_duplicated_and_out_of_order_notifications_cause_one_scan() -> None:
    world = World()
    verdicts = [
        world.receive(world.notification(ADA, number=number), now=NOW + timedelta(seconds=i))
        for i, number in enumerate([4, 2, 4, 3, 2])
    ]
    assert verdicts[0] is Verdict.SCAN_QUEUED
    assert set(verdicts[1:]) == {Verdict.DEDUPLICATED}
    assert [request for request, _ in world.queue.sent] == [ScanRequest(ADA, ScanReason.PUSH)]
    # another person's burst is theirs; the next minute is a new window
    assert world.receive(world.notification(GRACE)) is Verdict.SCAN_QUEUED
    assert world.receive(world.notification(ADA), now=NOW + timedelta(minutes=1)) is (
        Verdict.SCAN_QUEUED
    )
    assert [request.person for request, _ in world.queue.sent] == [ADA, GRACE, ADA]


def test_a_scan_that_could_not_be_queued_is_queued_by_googles_retry() -> None:
    world = World()
    world.queue.fail = 1
    with pytest.raises(OSError):
        world.receive(world.notification(ADA))
    assert world.queue.sent == []
    assert world.receive(world.notification(ADA)) is Verdict.SCAN_QUEUED
    assert len(world.queue.sent) == 1


def test_notification_headers_are_read_case_insensitively() -> None:
    lower = Notification.from_headers(
        {"x-goog-channel-id": "c", "x-goog-message-number": "7", "x-goog-resource-state": "sync"}
    )
    assert (lower.channel_id, lower.message_number, lower.state) == ("c", 7, "sync")
    assert Notification.from_headers({"X-Goog-Message-Number": "٣"}).message_number is None


def test_a_shorter_push_window_queues_the_scan_for_its_own_end() -> None:
    """MICROMOMENTS_PUSH_WINDOW_SECONDS (the demo's 5 s): the scan waits for the end of the
    5-second window (09:00:10 -> 09:00:15), and a second change in it is deduplicated."""
    world = World()
    five = timedelta(seconds=5)
    first = receive(
        world.notification(ADA), store=world.store, queue=world.queue, now=NOW, window_length=five
    )
    again = receive(
        world.notification(ADA, number=3),
        store=world.store,
        queue=world.queue,
        now=NOW + timedelta(seconds=4),
        window_length=five,
    )
    assert (first, again) == (Verdict.SCAN_QUEUED, Verdict.DEDUPLICATED)
    assert world.queue.sent == [(ScanRequest(ADA, ScanReason.PUSH), 5)]


@pytest.mark.parametrize("bad", ["0", "-5", "lots", "\u0665", "901", "60.5"])
def test_the_push_window_setting_is_validated_with_a_clear_line(bad: str) -> None:
    from micromoments.config import Config, ConfigError

    assert Config.from_environ({}).push_window == timedelta(seconds=60)
    five = Config.from_environ({"MICROMOMENTS_PUSH_WINDOW_SECONDS": "5"})
    assert five.push_window == timedelta(seconds=5)
    with pytest.raises(ConfigError, match=r"^MICROMOMENTS_PUSH_WINDOW_SECONDS: "):
        Config.from_environ({"MICROMOMENTS_PUSH_WINDOW_SECONDS": bad})
