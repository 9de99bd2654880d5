"""An in-memory calendar service for unit tests: the `CalendarGateway` port over dicts.

It keeps Google's behaviours that the scan depends on: sync tokens that only move when
something changed, deleted events kept as cancelled (409 on reusing their id, 410 on
deleting them again), etags that change on every write, and counters of calls. The
person's own actions (adding a meeting, moving or deleting a hold) are test methods. Push
channels are kept as Google keeps them (unique ids, an expiry, stop by id and resource id);
nothing is sent: a test reads `channels` and calls the notify code itself.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from micromoments.domain.calendar import EventKind
from micromoments.domain.journal import WriteOp
from micromoments.domain.mirror import MirrorEvent
from micromoments.ports import (
    CalendarCounters,
    CalendarError,
    CalendarWrite,
    GrantRevoked,
    SubjectSuspended,
    SyncResult,
    WatchChannel,
    WriteResult,
)

MAX_CHANNEL_TTL = timedelta(days=7)  # as the local Calendar server caps it


@dataclasses.dataclass(frozen=True, slots=True)
class MemoryChannel:
    """A watch channel as the fake keeps it: whose calendar, where to and with what token."""

    email: str
    address: str
    token: str
    channel: WatchChannel


class MemoryCalendar:
    """Calendars by email; each event remembers the change number that last touched it."""

    def __init__(self, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.counters = CalendarCounters()
        self.now = now
        self.channels: dict[str, MemoryChannel] = {}
        self._events: dict[str, dict[str, tuple[int, MirrorEvent]]] = {}
        self._zones: dict[str, str] = {}
        self._seq = itertools.count(1)
        self._etags = itertools.count(1)
        self._expired_tokens: set[str] = set()
        self.suspended: set[str] = set()
        self.revoked_grants: set[str] = set()  # people whose own grant answers invalid_grant
        self.grants_revoked_by_us: list[str] = []
        self.write_log: list[tuple[str, str, str]] = []  # (op, email, event id)

    # -- test set-up and the person's own actions ------------------------------------
    def add_calendar(self, email: str, timezone: str = "UTC") -> None:
        self._events.setdefault(email, {})
        self._zones[email] = timezone

    def put(self, email: str, event: MirrorEvent) -> None:
        """The person (or a colleague's invitation) adds or changes an event."""
        etag = f'"{next(self._etags)}"'
        self._events.setdefault(email, {})[event.id] = (
            next(self._seq),
            dataclasses.replace(event, etag=etag),
        )

    def remove(self, email: str, event_id: str) -> None:
        """The person deletes an event: Google keeps it as cancelled."""
        _, event = self._events[email][event_id]
        self.put(email, dataclasses.replace(event, cancelled=True))

    def event(self, email: str, event_id: str) -> MirrorEvent | None:
        found = self._events.get(email, {}).get(event_id)
        return found[1] if found else None

    def events(self, email: str) -> list[MirrorEvent]:
        return [event for _, event in self._events.get(email, {}).values()]

    def expire_tokens(self) -> None:
        """Every sync token handed out so far answers 410 from now on."""
        self._expired_tokens.update(f"{e}:{s}" for e in self._events for s in range(self._now()))

    # -- the port ----------------------------------------------------------------------
    def sync(self, email: str, token: str | None, *, full_from: datetime) -> SyncResult:
        self._check(email)
        self._count("events.list")
        calendar = self._events.setdefault(email, {})
        head = self._now()
        if token is None or token in self._expired_tokens:
            events = [
                event
                for _, event in calendar.values()
                # cancelled instances of recurring events come along (as Google sends them)
                if (not event.cancelled or event.instance)
                and (event.recurring or _ends_after(event, full_from))
            ]
            return SyncResult(events=events, token=f"{email}:{head}", full=True)
        since = int(token.rsplit(":", 1)[1])
        changed = [event for seq, event in calendar.values() if seq > since]
        return SyncResult(events=changed, token=f"{email}:{head}", full=False)

    def timezone(self, email: str) -> str:
        self._check(email)
        self._count("settings.get")
        return self._zones.get(email, "UTC")

    def get_event(self, email: str, event_id: str) -> MirrorEvent | None:
        self._check(email)
        self._count("events.get")
        return self.event(email, event_id)

    def write(self, email: str, writes: Sequence[CalendarWrite]) -> list[WriteResult]:
        self._check(email)
        self.counters.round_trips += 1 if writes else 0
        results = []
        for write in writes:
            self.counters.requests += 1
            self.counters.by_method[f"events.{write.op.value}"] = (
                self.counters.by_method.get(f"events.{write.op.value}", 0) + 1
            )
            results.append(self._apply(email, write))
        return results

    def free_busy(
        self, emails: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, list[tuple[datetime, datetime]] | None]:
        self._count("freebusy.query")
        out: dict[str, list[tuple[datetime, datetime]] | None] = {}
        for email in emails:
            if email not in self._events:
                out[email] = None
                continue
            out[email] = sorted(
                (e.start, e.end)
                for e in self.events(email)
                if isinstance(e.start, datetime)
                and isinstance(e.end, datetime)
                and e.busy
                and not e.cancelled
                and not e.declined
                and e.start < end
                and e.end > start
            )
        return out

    def watch(
        self, email: str, channel_id: str, token: str, address: str, ttl: timedelta
    ) -> WatchChannel:
        self._check(email)
        self._count("events.watch")
        if ttl < timedelta(seconds=1):
            raise ValueError("a channel's ttl must be at least one second")
        now = self.now()
        if channel_id in self.live_channels():
            raise CalendarError(f"events.watch: 400 channelIdNotUnique: {channel_id}")
        channel = WatchChannel(
            id=channel_id,
            resource_id=_resource_id(email),
            resource_uri=f"memory://calendars/{email}/events",
            expiration=now + min(ttl, MAX_CHANNEL_TTL),
        )
        self.channels[channel_id] = MemoryChannel(email, address, token, channel)
        return channel

    def stop_channel(self, email: str, channel_id: str, resource_id: str) -> bool:
        self._count("channels.stop")
        found = self.channels.get(channel_id)
        if found is None or found.channel.resource_id != resource_id:
            return False
        del self.channels[channel_id]
        return found.channel.expiration > self.now()

    def revoke_grant(self, email: str) -> bool:
        self.grants_revoked_by_us.append(email)
        return True

    def live_channels(self, email: str | None = None) -> list[str]:
        """Ids of the unexpired channels (on one person's calendar)."""
        now = self.now()
        return [
            channel_id
            for channel_id, found in self.channels.items()
            if found.channel.expiration > now and (email is None or found.email == email)
        ]

    # -- internals --------------------------------------------------------------------
    def _apply(self, email: str, write: CalendarWrite) -> WriteResult:
        hold = write.hold
        current = self.event(email, hold.id)
        self.write_log.append((write.op.value, email, hold.id))
        if write.op is WriteOp.INSERT:
            if current is not None:
                return WriteResult(hold.id, write.op, "conflict", message="duplicate id")
            event = MirrorEvent(
                id=hold.id,
                start=hold.start,
                end=hold.end,
                kind=EventKind.HOLD,
                busy=hold.busy,
                hold_id=hold.id,
                hold_kind=hold.kind.value,
            )
        elif current is None or current.cancelled:
            return WriteResult(hold.id, write.op, "gone")
        elif write.op is WriteOp.PATCH:
            event = dataclasses.replace(current, start=hold.start, end=hold.end, busy=hold.busy)
        else:
            event = dataclasses.replace(current, cancelled=True)
        self.put(email, event)
        stored = self.event(email, hold.id)
        return WriteResult(hold.id, write.op, "ok", etag=stored.etag if stored else None)

    def _check(self, email: str) -> None:
        if email in self.revoked_grants:
            raise GrantRevoked(f"{email}: invalid_grant")
        if email in self.suspended:
            raise SubjectSuspended(f"{email}: invalid_grant")

    def _count(self, method: str) -> None:
        self.counters.requests += 1
        self.counters.round_trips += 1
        self.counters.by_method[method] = self.counters.by_method.get(method, 0) + 1

    def _now(self) -> int:
        # the next sequence number, without consuming it
        value = next(self._seq)
        self._seq = itertools.count(value)
        return value - 1


def _ends_after(event: MirrorEvent, moment: datetime) -> bool:
    end = event.end
    if isinstance(end, datetime):
        return end > moment
    return end > moment.date()


def _resource_id(email: str) -> str:
    return hashlib.sha1(f"events|{email.lower()}".encode()).hexdigest()[:20]
