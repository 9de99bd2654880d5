"""Each person's calendar state: sync state and the mirror, day loads, holds and the
journal, weekly digests; and the scan lease."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from datetime import date, datetime, timedelta

from micromoments.adapters.table.items import (
    hold_to_item,
    item_to_hold,
    item_to_load,
    item_to_mirror,
    item_to_person,
    load_to_item,
    mirror_to_item,
)
from micromoments.adapters.table.layout import (
    JOURNAL_RETENTION,
    PAST_DAYS_RETENTION,
    PK,
    SK,
    TTL_ATTRIBUTE,
    Cond,
    ConditionFailed,
    CondKind,
    Item,
    TableRecords,
    day_expiry,
    epoch,
    exists,
    instant,
    person_pk,
    required_instant,
    when,
)
from micromoments.domain.day_load import DayLoad
from micromoments.domain.digest_record import DigestRecord, DigestState
from micromoments.domain.holds import Hold
from micromoments.domain.journal import JournalEntry, WriteOp
from micromoments.domain.lease import Lease
from micromoments.domain.mirror import MirrorEvent, SyncState
from micromoments.domain.people import Person


class CalendarRecords(TableRecords):
    """Sync state, mirror, day loads, holds, journal, digests and the lease."""

    # sync state and the mirror
    def get_sync(self, email: str) -> SyncState | None:
        item = self.table.get(person_pk(email), "SYNC")
        return None if item is None else self._sync_from_item(item)

    @staticmethod
    def _sync_from_item(item: Item) -> SyncState:
        return SyncState(
            token=item.get("token"),
            synced_at=instant(item.get("synced_at")),
            timezone=item.get("timezone"),
            timezone_checked_at=instant(item.get("timezone_checked_at")),
            observed_since=instant(item.get("observed_since")),
            quiet_until=instant(item.get("quiet_until")),
            fingerprint=item.get("fingerprint"),
        )

    @staticmethod
    def _sync_item(email: str, state: SyncState) -> Item:
        item: Item = {PK: person_pk(email), SK: "SYNC"}
        values = {
            "token": state.token,
            "synced_at": when(state.synced_at),
            "timezone": state.timezone,
            "timezone_checked_at": when(state.timezone_checked_at),
            "observed_since": when(state.observed_since),
            "quiet_until": when(state.quiet_until),
            "fingerprint": state.fingerprint,
        }
        item.update({k: v for k, v in values.items() if v is not None})
        return item

    def put_sync(self, email: str, state: SyncState) -> None:
        self.table.put(self._sync_item(email, state))

    def replace_sync(self, email: str, before: SyncState, after: SyncState) -> bool:
        """Put ``after`` only if the stored state still has ``before``'s token and quiet
        time (both set): False when a scan changed it meanwhile."""
        expected = {"token": before.token, "quiet_until": when(before.quiet_until)}
        try:
            self.table.put(
                self._sync_item(email, after), condition=Cond(CondKind.MATCHES, value=expected)
            )
        except ConditionFailed:
            return False
        return True

    def scan_head(self, email: str) -> tuple[Person | None, SyncState | None]:
        """The profile and the sync state in one eventually consistent read (half a unit
        for both): what a scan of an unchanged calendar needs."""
        person: Person | None = None
        state: SyncState | None = None
        for item in self.table.query_range(person_pk(email), "PROFILE", "SYNC"):
            if item[SK] == "PROFILE":
                person = item_to_person(item)
            elif item[SK] == "SYNC":
                state = self._sync_from_item(item)
        return person, state

    def mirror(self, email: str) -> list[MirrorEvent]:
        return [item_to_mirror(item) for item in self.table.query(person_pk(email), "EVENT#")]

    def update_mirror(
        self, email: str, upserts: Sequence[MirrorEvent], deletes: Sequence[str] = ()
    ) -> None:
        self.table.batch_put([mirror_to_item(email, event) for event in upserts])
        self.table.batch_delete([(person_pk(email), f"EVENT#{event_id}") for event_id in deletes])

    def replace_mirror(self, email: str, events: Sequence[MirrorEvent]) -> None:
        keep = {f"EVENT#{event.id}" for event in events}
        stale = [
            (item[PK], item[SK])
            for item in self.table.query(person_pk(email), "EVENT#")
            if item[SK] not in keep
        ]
        self.table.batch_put([mirror_to_item(email, event) for event in events])
        self.table.batch_delete(stale)

    # day loads
    def day_loads(self, email: str, first: date, last: date) -> list[DayLoad]:
        lo, hi = f"LOAD#{first.isoformat()}", f"LOAD#{last.isoformat()}"
        return [
            item_to_load(item)
            for item in self.table.query(person_pk(email), "LOAD#")
            if lo <= item[SK] <= hi
        ]

    def put_day_loads(self, email: str, loads: Sequence[DayLoad]) -> None:
        self.table.batch_put([load_to_item(email, load) for load in loads])

    # holds and the journal
    def holds(self, email: str) -> list[Hold]:
        return [item_to_hold(item) for item in self.table.query(person_pk(email), "HOLD#")]

    def put_hold(self, email: str, hold: Hold) -> None:
        self.table.put(self._hold_item(email, hold))

    def put_holds(self, email: str, holds: Sequence[Hold]) -> None:
        self.table.batch_put([self._hold_item(email, hold) for hold in holds])

    def create_hold(self, email: str, hold: Hold) -> bool:
        return self._create(self._hold_item(email, hold))

    def _hold_item(self, email: str, hold: Hold) -> Item:
        item = {PK: person_pk(email), SK: f"HOLD#{hold.id}", **hold_to_item(hold)}
        item[TTL_ATTRIBUTE] = day_expiry(hold.day)
        return item

    def add_journal(self, email: str, entry: JournalEntry) -> bool:
        return self._create(self._journal_item(email, entry))

    def pending_journal(self, email: str) -> list[JournalEntry]:
        entries = [
            JournalEntry(
                hold_id=item["hold_id"],
                seq=int(item["seq"]),
                op=WriteOp(item["op"]),
                hold=item_to_hold(item["hold"]),
                written_at=required_instant(item["written_at"]),
                applied=bool(item["applied"]),
            )
            for item in self.table.query(person_pk(email), "JOURNAL#")
        ]
        return [entry for entry in entries if not entry.applied]

    def mark_applied(self, email: str, entry: JournalEntry) -> None:
        item = self._journal_item(email, entry)
        item["applied"] = True
        self.table.put(item, condition=exists())

    def mark_all_applied(self, email: str, entries: Sequence[JournalEntry]) -> None:
        # Batch writes take no conditions: the entries were created by this same scan.
        items = [self._journal_item(email, entry) for entry in entries]
        for item in items:
            item["applied"] = True
        self.table.batch_put(items)

    def _journal_item(self, email: str, entry: JournalEntry) -> Item:
        return {
            PK: person_pk(email),
            SK: f"JOURNAL#{entry.key}",
            "hold_id": entry.hold_id,
            "seq": entry.seq,
            "op": entry.op.value,
            "hold": hold_to_item(entry.hold),
            "written_at": entry.written_at.isoformat(),
            "applied": entry.applied,
            TTL_ATTRIBUTE: epoch(entry.written_at + JOURNAL_RETENTION),
        }

    # digests
    def claim_digest(self, email: str, iso_week: str, now: datetime) -> bool:
        return self._create(self._digest_item(email, iso_week, DigestState.CLAIMED, now))

    def mark_digest_sent(self, email: str, iso_week: str, now: datetime) -> None:
        self.table.put(self._digest_item(email, iso_week, DigestState.SENT, now))

    def get_digest(self, email: str, iso_week: str) -> DigestRecord | None:
        item = self.table.get(person_pk(email), f"DIGEST#{iso_week}")
        if item is None:
            return None
        return DigestRecord(
            email, iso_week, DigestState(item["state"]), required_instant(item["at"])
        )

    def release_digest(self, email: str, iso_week: str) -> None:
        claimed = Cond(CondKind.MATCHES, value={"state": DigestState.CLAIMED.value})
        with suppress(ConditionFailed):  # absent or sent: nothing to release
            self.table.delete(person_pk(email), f"DIGEST#{iso_week}", condition=claimed)

    def _digest_item(self, email: str, iso_week: str, state: DigestState, now: datetime) -> Item:
        return {
            PK: person_pk(email),
            SK: f"DIGEST#{iso_week}",
            "state": state.value,
            "at": now.isoformat(),
            TTL_ATTRIBUTE: epoch(now + PAST_DAYS_RETENTION),
        }

    # the lease
    def acquire_lease(self, lease: Lease, now: datetime) -> bool:
        item = {
            PK: person_pk(lease.person),
            SK: "LEASE",
            "owner": lease.owner,
            "lease_until": epoch(lease.expires_at),
            TTL_ATTRIBUTE: epoch(lease.expires_at + timedelta(days=1)),
        }
        condition = Cond(CondKind.NOT_EXISTS_OR_BEFORE, "lease_until", epoch(now) + 1)
        try:
            self.table.put(item, condition=condition)
        except ConditionFailed:
            return False
        return True

    def release_lease(self, lease: Lease) -> None:
        # expired and taken over: the new holder's lease stays
        with suppress(ConditionFailed):
            owner = Cond(CondKind.EQUALS, "owner", lease.owner)
            self.table.delete(person_pk(lease.person), "LEASE", condition=owner)
