"""Push channels of the in-memory calendar fake: kept as Google keeps them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from micromoments.adapters.memory_calendar import MemoryCalendar
from micromoments.ports import CalendarError, SubjectSuspended

ADA = "ada@example.com"
GRACE = "grace@example.com"
NOW = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def test_watch_opens_a_channel_until_its_ttl_capped_at_a_week() -> None:
    clock = Clock()
    calendar = MemoryCalendar(now=clock)
    hour = calendar.watch(ADA, "chan-1", "secret", "https://push.example/n", timedelta(hours=1))
    long = calendar.watch(ADA, "chan-2", "secret", "https://push.example/n", timedelta(days=30))
    assert hour.expiration == NOW + timedelta(hours=1)
    assert long.expiration == NOW + timedelta(days=7)
    assert hour.resource_id == long.resource_id  # the same calendar's events
    assert calendar.watch(GRACE, "chan-3", "s", "https://p/n", timedelta(hours=1)).resource_id != (
        hour.resource_id
    )
    assert calendar.channels["chan-1"].token == "secret"
    assert calendar.live_channels(ADA) == ["chan-1", "chan-2"]
    clock.now += timedelta(hours=2)
    assert calendar.live_channels(ADA) == ["chan-2"]
    assert calendar.counters.by_method["events.watch"] == 3


def test_duplicate_ids_are_refused_until_the_channel_expires() -> None:
    clock = Clock()
    calendar = MemoryCalendar(now=clock)
    calendar.watch(ADA, "chan-1", "secret", "https://push.example/n", timedelta(hours=1))
    with pytest.raises(CalendarError, match="channelIdNotUnique"):
        calendar.watch(GRACE, "chan-1", "other", "https://push.example/n", timedelta(hours=1))
    clock.now += timedelta(hours=1)
    calendar.watch(GRACE, "chan-1", "other", "https://push.example/n", timedelta(hours=1))
    assert calendar.channels["chan-1"].email == GRACE
    with pytest.raises(ValueError, match="ttl"):
        calendar.watch(ADA, "chan-2", "secret", "https://push.example/n", timedelta(0))
    calendar.suspended.add(ADA)
    with pytest.raises(SubjectSuspended):
        calendar.watch(ADA, "chan-3", "secret", "https://push.example/n", timedelta(hours=1))


def test_stop_needs_the_id_and_the_resource_id_and_reports_unknown_channels() -> None:
    clock = Clock()
    calendar = MemoryCalendar(now=clock)
    channel = calendar.watch(ADA, "chan-1", "secret", "https://push.example/n", timedelta(hours=1))
    assert calendar.stop_channel(ADA, "chan-1", "another-resource") is False
    assert calendar.stop_channel(ADA, "chan-1", channel.resource_id) is True
    assert calendar.stop_channel(ADA, "chan-1", channel.resource_id) is False
    assert calendar.live_channels() == []
    expired = calendar.watch(ADA, "chan-2", "secret", "https://push.example/n", timedelta(hours=1))
    clock.now += timedelta(hours=1)
    assert calendar.stop_channel(ADA, "chan-2", expired.resource_id) is False  # Google: 404
