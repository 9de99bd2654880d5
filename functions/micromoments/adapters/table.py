"""The single-table layout and the Store built on it, shared by every table backend.

`TableStore` implements the `Store` port once, on a small `Table` protocol (get, put,
delete, query, batch writes, conditions). `adapters.dynamo.DynamoTable` is DynamoDB;
`adapters.memory.MemoryTable` is an in-memory table with the same semantics for unit
tests. Items are plain Python values (str, int, bool, None, list, dict); numbers are
whole. The key design is documented in docs/decisions.md ("Single-table keys").
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from micromoments.domain.access import SESSION_LIFETIME, Session, SignInToken
from micromoments.domain.calendar import EventKind
from micromoments.domain.day_load import DayLoad
from micromoments.domain.digest import DigestRecord, DigestState
from micromoments.domain.holds import Hold, HoldKind, HoldStatus
from micromoments.domain.journal import JournalEntry, WriteOp
from micromoments.domain.lease import Lease
from micromoments.domain.mirror import MirrorEvent, SyncState
from micromoments.domain.pairing import PairingGroup, PairingHistoryEntry, PairingRound
from micromoments.domain.people import Person, PersonStatus, Preferences
from micromoments.domain.push import PushChannel
from micromoments.domain.settings import OrgSettings
from micromoments.ports import PersonNotFound, StoreError

T = TypeVar("T")

Item = dict[str, Any]

PK, SK = "pk", "sk"
TTL_ATTRIBUTE = "expires_at"
SCAN_INDEX = "scannable"
SCAN_INDEX_PK, SCAN_INDEX_SK = "scan_pk", "scan_sk"
SCAN_PARTITION = "SCAN"
SCANNABLE = frozenset({PersonStatus.ACTIVE, PersonStatus.LEAVING})
# Items under their own key with a pointer under the person (erased with them).
POINTER_KINDS = ("TOKEN", "SESSION", "ALIAS", "CHANNEL")
SIGN_IN_SK = "SIGN_IN"  # under the person: the address's sign-in generation

# Retention (DESIGN.md "State").
PAST_DAYS_RETENTION = timedelta(weeks=8)
JOURNAL_RETENTION = timedelta(days=30)


# Optimistic read-modify-write loops give up after this many conflicting writers.
_OPTIMISTIC_TRIES = 5


class ConditionFailed(StoreError):
    """A conditional write found the item not as required."""


class CondKind(StrEnum):
    NOT_EXISTS = "not_exists"
    EXISTS = "exists"
    EQUALS = "equals"
    NOT_EXISTS_OR_BEFORE = "not_exists_or_before"  # attribute < value (numbers)
    MATCHES = "matches"  # the item exists and every attribute of the dict value is equal


@dataclass(frozen=True, slots=True)
class Cond:
    """A write condition every backend can express (DynamoDB ConditionExpression)."""

    kind: CondKind
    attribute: str = PK
    value: Any = None


def not_exists() -> Cond:
    return Cond(CondKind.NOT_EXISTS)


def exists() -> Cond:
    return Cond(CondKind.EXISTS)


class Table(Protocol):
    """The storage operations `TableStore` needs; all reads are strongly consistent."""

    def get(self, pk: str, sk: str) -> Item | None: ...
    def put(self, item: Item, *, condition: Cond | None = None) -> None: ...
    def delete(self, pk: str, sk: str, *, condition: Cond | None = None) -> None: ...
    def query(self, pk: str, sk_prefix: str = "") -> Iterator[Item]: ...
    def query_index(self, partition: str) -> Iterator[Item]: ...
    def query_range(self, pk: str, first_sk: str, last_sk: str) -> Iterator[Item]:
        """The items of a partition with first_sk <= sk <= last_sk, read eventually
        consistent (half the units): only for reads whose staleness is harmless."""
        ...

    def batch_put(self, items: Sequence[Item]) -> None: ...
    def batch_delete(self, keys: Sequence[tuple[str, str]]) -> None: ...


# -- keys --------------------------------------------------------------------------------

ORG_PK = "ORG"


def person_pk(email: str) -> str:
    return f"PERSON#{email}"


def _epoch(value: datetime) -> int:
    return int(value.timestamp())


def _day_expiry(day: date) -> int:
    end = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    return _epoch(end + PAST_DAYS_RETENTION)


# -- value codecs ----------------------------------------------------------------------------


def _when(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()


def _instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _moment(text: str | None) -> datetime | date | None:
    if text is None:
        return None
    return datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)


def _required_moment(text: str) -> datetime | date:
    value = _moment(text)
    assert value is not None
    return value


def _required_instant(text: str) -> datetime:
    value = _instant(text)
    assert value is not None
    return value


def hold_to_item(hold: Hold) -> Item:
    return {
        "id": hold.id,
        "kind": hold.kind.value,
        "start": hold.start.isoformat(),
        "end": hold.end.isoformat(),
        "busy": hold.busy,
        "day": hold.day.isoformat(),
        "generation": hold.generation,
        "status": hold.status.value,
        **({"etag": hold.etag} if hold.etag else {}),
        **({"attendees": list(hold.attendees)} if hold.attendees else {}),
        **({"late_copy_possible": True} if hold.late_copy_possible else {}),
    }


def item_to_hold(item: Item) -> Hold:
    return Hold(
        id=item["id"],
        kind=HoldKind(item["kind"]),
        start=_required_instant(item["start"]),
        end=_required_instant(item["end"]),
        busy=bool(item["busy"]),
        day=date.fromisoformat(item["day"]),
        generation=int(item["generation"]),
        status=HoldStatus(item["status"]),
        etag=item.get("etag"),
        attendees=tuple(item.get("attendees") or ()),
        late_copy_possible=bool(item.get("late_copy_possible", False)),
    )


def mirror_to_item(email: str, event: MirrorEvent) -> Item:
    item: Item = {
        PK: person_pk(email),
        SK: f"EVENT#{event.id}",
        "id": event.id,
        "start": _when(event.start),
        "end": _when(event.end),
        "kind": event.kind.value,
        "busy": event.busy,
        "declined": event.declined,
        "cancelled": event.cancelled,
    }
    optional = {
        "start_zone": event.start_zone,
        "recurrence": list(event.recurrence) or None,
        "recurring_event_id": event.recurring_event_id,
        "original_start": _when(event.original_start),
        "hold_id": event.hold_id,
        "hold_kind": event.hold_kind,
        "etag": event.etag,
        "declines": event.declines or None,
    }
    item.update({k: v for k, v in optional.items() if v is not None})
    last = event.last_day()
    if last is not None:
        item[TTL_ATTRIBUTE] = _day_expiry(last)
    return item


def item_to_mirror(item: Item) -> MirrorEvent:
    return MirrorEvent(
        id=item["id"],
        start=_required_moment(item["start"]),
        end=_required_moment(item["end"]),
        kind=EventKind(item["kind"]),
        busy=bool(item["busy"]),
        declined=bool(item["declined"]),
        cancelled=bool(item["cancelled"]),
        start_zone=item.get("start_zone"),
        recurrence=tuple(item.get("recurrence") or ()),
        recurring_event_id=item.get("recurring_event_id"),
        original_start=_moment(item.get("original_start")),
        hold_id=item.get("hold_id"),
        hold_kind=item.get("hold_kind"),
        etag=item.get("etag"),
        declines=int(item.get("declines") or 0),
    )


def load_to_item(email: str, load: DayLoad) -> Item:
    item: Item = {PK: person_pk(email), SK: f"LOAD#{load.date.isoformat()}"}
    item.update(load.to_json())
    if load.longest_run is not None:
        item["longest_run"] = list(load.longest_run)
    item[TTL_ATTRIBUTE] = _day_expiry(load.date)
    return item


def item_to_load(item: Item) -> DayLoad:
    run = item.get("longest_run")
    return DayLoad(
        date=date.fromisoformat(item["date"]),
        available=bool(item["available"]),
        meeting_minutes=int(item["meeting_minutes"]),
        after_hours_meeting_minutes=int(item["after_hours_meeting_minutes"]),
        longest_back_to_back_minutes=int(item["longest_back_to_back_minutes"]),
        back_to_back_meetings=int(item["back_to_back_meetings"]),
        focus_minutes=int(item["focus_minutes"]),
        overloaded=bool(item["overloaded"]),
        reasons=tuple(item["reasons"]),
        longest_run=(int(run[0]), int(run[1])) if run else None,
    )


def person_to_item(person: Person, *, erase_requested: bool = False) -> Item:
    item: Item = {
        PK: person_pk(person.email),
        SK: "PROFILE",
        "email": person.email,
        "status": person.status.value,
        "preferences": person.preferences.to_item(),
        "erase_requested": erase_requested,
    }
    if person.team is not None:
        item["team"] = person.team
    if person.timezone is not None:
        item["timezone"] = person.timezone
    if person.status in SCANNABLE:
        item[SCAN_INDEX_PK] = SCAN_PARTITION
        item[SCAN_INDEX_SK] = person.email
    return item


def item_to_person(item: Item) -> Person:
    return Person(
        email=item["email"],
        status=PersonStatus(item["status"]),
        team=item.get("team"),
        timezone=item.get("timezone"),
        preferences=Preferences.from_item(item.get("preferences") or {}),
    )


def _valid_sign_in_token(
    token_hash: str, item: Item | None, now: datetime, current: str | None
) -> SignInToken | None:
    """The stored sign-in token, if it is unused and unexpired at ``now`` and of the
    address's ``current`` sign-in generation."""
    if item is None:
        return None
    token = SignInToken(
        token_hash=token_hash,
        email=item["email"],
        expires_at=datetime.fromtimestamp(int(item["token_until"]), UTC),
        used=bool(item["used"]),
        generation=str(item.get("generation") or ""),
    )
    of_now = bool(token.generation) and token.generation == current
    return token if of_now and token.valid_at(now) else None


def _pointer_targets(keys: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The items that pointers under a person name (sign-in tokens, sessions, aliases)."""
    targets = []
    for _, sk in keys:
        kind, _, secret = sk.partition("#")
        if kind in POINTER_KINDS and secret:
            targets.append((sk, kind))
    return targets


# -- the Store ---------------------------------------------------------------------------


class TableStore:
    """The `Store` port on any `Table` backend."""

    def __init__(self, table: Table) -> None:
        self.table = table

    # the org
    def get_settings(self) -> OrgSettings | None:
        item = self.table.get(ORG_PK, "SETTINGS")
        return None if item is None else OrgSettings.from_item(item["settings"])

    def create_settings(self, settings: OrgSettings) -> bool:
        return self._create({PK: ORG_PK, SK: "SETTINGS", "settings": settings.to_item()})

    def put_settings(self, settings: OrgSettings) -> None:
        self.table.put({PK: ORG_PK, SK: "SETTINGS", "settings": settings.to_item()})

    # people
    def create_person(self, person: Person) -> bool:
        created = self._create(person_to_item(person))
        # the org's member list (what `list_people` reads); written again on a retry
        self.table.put({PK: ORG_PK, SK: f"MEMBER#{person.email}", "email": person.email})
        return created

    def get_person(self, email: str) -> Person | None:
        item = self.table.get(person_pk(email), "PROFILE")
        return None if item is None else item_to_person(item)

    def update_person(self, person: Person, *, expected_status: PersonStatus | None = None) -> bool:
        key = person_pk(person.email)
        for _ in range(_OPTIMISTIC_TRIES):
            current = self.table.get(key, "PROFILE")
            if current is None:
                raise PersonNotFound(f"no person {person.email!r}")
            if expected_status is not None and current["status"] != expected_status.value:
                return False
            flag = bool(current.get("erase_requested"))
            item = person_to_item(person, erase_requested=flag)
            seen = {"status": current["status"], "erase_requested": flag}
            try:
                self.table.put(item, condition=Cond(CondKind.MATCHES, value=seen))
            except ConditionFailed:
                continue  # changed between read and write: read again
            return True
        raise StoreError(f"{person.email} keeps changing; try again")

    def list_people(self) -> Iterator[Person]:
        for item in self.table.query(ORG_PK, "MEMBER#"):
            person = self.get_person(item["email"])
            if person is not None:
                yield person

    def scannable_people(self) -> Iterator[str]:
        for item in self.table.query_index(SCAN_PARTITION):
            yield str(item[SCAN_INDEX_SK])

    def request_erasure(self, email: str) -> None:
        for _ in range(_OPTIMISTIC_TRIES):
            item = self.table.get(person_pk(email), "PROFILE")
            if item is None:
                raise PersonNotFound(f"no person {email!r}")
            seen = {"status": item["status"], "erase_requested": bool(item["erase_requested"])}
            item["erase_requested"] = True
            try:
                self.table.put(item, condition=Cond(CondKind.MATCHES, value=seen))
            except ConditionFailed:
                continue
            return
        raise StoreError(f"{email} keeps changing; try again")

    def erasure_requested(self, email: str) -> bool:
        item = self.table.get(person_pk(email), "PROFILE")
        return bool(item and item.get("erase_requested"))

    def erase_person(self, email: str) -> int:
        person = self.get_person(email)
        if person is None:
            return 0
        if person.status is not PersonStatus.OPTED_OUT:
            raise StoreError(
                f"{email} is {person.status.value}: data is erased only once opted out"
            )
        keys = [(item[PK], item[SK]) for item in self.table.query(person_pk(email))]
        keys.append((ORG_PK, f"MEMBER#{email}"))
        # sign-in tokens and sessions live under their own keys; the person keeps pointers
        for _, sk in list(keys):
            kind, _, secret = sk.partition("#")
            if kind in POINTER_KINDS and secret:
                keys.append((sk, kind))
        # the profile last, so an interrupted erasure is still visible and can be retried
        keys.sort(key=lambda key: key[1] == "PROFILE")
        self.table.batch_delete(keys[:-1])
        self.table.delete(*keys[-1])
        return len(keys)

    def erase_address(self, email: str) -> bool:
        """What an address without a profile left behind: sign-in tokens, sessions and
        alias items with their pointers, the sign-in generation, a stale member entry.
        Read again until nothing is left (True); False, deleting nothing, when a profile
        exists (or keeps appearing): erasing a person goes through `erase_person`."""
        extra = [(ORG_PK, f"MEMBER#{email}")]
        for _ in range(_OPTIMISTIC_TRIES):
            items = list(self.table.query(person_pk(email)))
            if any(item[SK] == "PROFILE" for item in items):
                return False
            keys = [(str(item[PK]), str(item[SK])) for item in items]
            keys = _pointer_targets(keys) + keys + extra
            if not keys:
                return True
            self.table.batch_delete(keys)
            extra = []
        return False

    # sync state and the mirror
    def get_sync(self, email: str) -> SyncState | None:
        item = self.table.get(person_pk(email), "SYNC")
        return None if item is None else self._sync_from_item(item)

    @staticmethod
    def _sync_from_item(item: Item) -> SyncState:
        return SyncState(
            token=item.get("token"),
            synced_at=_instant(item.get("synced_at")),
            timezone=item.get("timezone"),
            timezone_checked_at=_instant(item.get("timezone_checked_at")),
            observed_since=_instant(item.get("observed_since")),
            quiet_until=_instant(item.get("quiet_until")),
            fingerprint=item.get("fingerprint"),
        )

    @staticmethod
    def _sync_item(email: str, state: SyncState) -> Item:
        item: Item = {PK: person_pk(email), SK: "SYNC"}
        values = {
            "token": state.token,
            "synced_at": _when(state.synced_at),
            "timezone": state.timezone,
            "timezone_checked_at": _when(state.timezone_checked_at),
            "observed_since": _when(state.observed_since),
            "quiet_until": _when(state.quiet_until),
            "fingerprint": state.fingerprint,
        }
        item.update({k: v for k, v in values.items() if v is not None})
        return item

    def put_sync(self, email: str, state: SyncState) -> None:
        self.table.put(self._sync_item(email, state))

    def replace_sync(self, email: str, before: SyncState, after: SyncState) -> bool:
        """Put ``after`` only if the stored state still has ``before``'s token and quiet
        time (both set): False when a scan changed it meanwhile."""
        expected = {"token": before.token, "quiet_until": _when(before.quiet_until)}
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
        item[TTL_ATTRIBUTE] = _day_expiry(hold.day)
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
                written_at=_required_instant(item["written_at"]),
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
            TTL_ATTRIBUTE: _epoch(entry.written_at + JOURNAL_RETENTION),
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
            email, iso_week, DigestState(item["state"]), _required_instant(item["at"])
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
            TTL_ATTRIBUTE: _epoch(now + PAST_DAYS_RETENTION),
        }

    # the lease
    def acquire_lease(self, lease: Lease, now: datetime) -> bool:
        item = {
            PK: person_pk(lease.person),
            SK: "LEASE",
            "owner": lease.owner,
            "lease_until": _epoch(lease.expires_at),
            TTL_ATTRIBUTE: _epoch(lease.expires_at + timedelta(days=1)),
        }
        condition = Cond(CondKind.NOT_EXISTS_OR_BEFORE, "lease_until", _epoch(now) + 1)
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

    # coffee pairing
    def create_round(self, pairing_round: PairingRound) -> bool:
        """Save a round once: its groups go in parts of `ROUND_PART_GROUPS` (an org's round
        outgrows DynamoDB's 400 KB item), then a header naming the parts is created with a
        condition. The header is the commit point: a run that loses the race deletes its own
        parts, which no header names, and returns False."""
        week = pairing_round.iso_week
        run = uuid.uuid4().hex[:12]
        expires = _epoch(pairing_round.created_at + PAST_DAYS_RETENTION)
        parts = [
            {
                PK: ORG_PK,
                SK: f"ROUND#{week}#{run}#{number:04d}",
                "groups": [_group_to_item(group) for group in chunk],
                TTL_ATTRIBUTE: expires,
            }
            for number, chunk in enumerate(_chunks(pairing_round.groups, ROUND_PART_GROUPS))
        ]
        self.table.batch_put(parts)
        header = {
            PK: ORG_PK,
            SK: f"ROUND#{week}",
            "iso_week": week,
            "status": pairing_round.status,
            "created_at": pairing_round.created_at.isoformat(),
            "run": run,
            "parts": len(parts),
            TTL_ATTRIBUTE: expires,
        }
        if self._create(header):
            return True
        self.table.batch_delete([(str(part[PK]), str(part[SK])) for part in parts])
        return False

    def get_round(self, iso_week: str) -> PairingRound | None:
        header = self.table.get(ORG_PK, f"ROUND#{iso_week}")
        if header is None:
            return None
        parts = list(self.table.query(ORG_PK, f"ROUND#{iso_week}#{header['run']}#"))
        if len(parts) != int(header["parts"]):
            raise StoreError(
                f"pairing round {iso_week}: {len(parts)} of {header['parts']} parts found"
            )
        return PairingRound(
            iso_week=header["iso_week"],
            status=header["status"],
            created_at=_required_instant(header["created_at"]),
            groups=tuple(
                _item_to_group(group)
                for part in sorted(parts, key=lambda item: str(item[SK]))
                for group in part["groups"]
            ),
        )

    def add_pairing_history(self, entries: Sequence[PairingHistoryEntry]) -> None:
        items = []
        for entry in entries:
            for person, partner in ((entry.person, entry.partner), (entry.partner, entry.person)):
                items.append(
                    {
                        PK: f"PAIRS#{person}",
                        SK: f"{entry.iso_week}#{partner}",
                        "iso_week": entry.iso_week,
                        "kinds": list(entry.kinds),
                    }
                )
        self.table.batch_put(items)

    def pairing_history(self, pseudonym: str) -> list[PairingHistoryEntry]:
        return [
            PairingHistoryEntry(
                person=pseudonym,
                partner=item[SK].split("#", 1)[1],
                iso_week=item["iso_week"],
                kinds=tuple(item["kinds"]),
            )
            for item in self.table.query(f"PAIRS#{pseudonym}")
        ]

    def purge_pairing_history(self, pseudonym: str) -> int:
        """Remove a pseudonym from the pairing history (both directions)."""
        keys = []
        for item in self.table.query(f"PAIRS#{pseudonym}"):
            week, partner = item[SK].split("#", 1)
            keys.append((item[PK], item[SK]))
            keys.append((f"PAIRS#{partner}", f"{week}#{pseudonym}"))
        self.table.batch_delete(keys)
        return len(keys)

    def purge_pseudonym(self, pseudonym: str) -> int:
        """Remove a pseudonym from the history (both directions) and from every round."""
        removed = self.purge_pairing_history(pseudonym)
        rounds = 0
        for item in self.table.query(ORG_PK, "ROUND#"):
            groups = item.get("groups") or []  # the parts of a round hold its groups
            if any(pseudonym in group["members"] for group in groups):
                for group in groups:
                    group["members"] = [m for m in group["members"] if m != pseudonym]
                self.table.put(item)
                rounds += 1
        return removed + rounds

    def put_aliases(self, aliases: Mapping[str, str]) -> None:
        """``pseudonym -> address`` for the members of shared events: each item is its own
        person's (as a token is), with a pointer under them so erasure removes it."""
        items: list[Item] = []
        for alias, email in aliases.items():
            items.append({PK: f"ALIAS#{alias}", SK: "ALIAS", "email": email})
            items.append({PK: person_pk(email), SK: f"ALIAS#{alias}"})
        self.table.batch_put(items)

    def address_of(self, alias: str) -> str | None:
        item = self.table.get(f"ALIAS#{alias}", "ALIAS")
        return str(item["email"]) if item else None

    # push channels (docs/decisions.md "Push notifications")
    def put_channel(self, channel: PushChannel) -> None:
        """The channel under its id (what a notification is checked against) and a copy
        under the person (their channels, and a pointer erasure follows)."""
        fields: Item = {
            "person": channel.person,
            "resource_id": channel.resource_id,
            "token_hash": channel.token_hash,
            "expiration": _when(channel.expiration),
            TTL_ATTRIBUTE: _epoch(channel.expiration + timedelta(days=1)),
        }
        self.table.batch_put(
            [
                {PK: f"CHANNEL#{channel.id}", SK: "CHANNEL", **fields},
                {PK: person_pk(channel.person), SK: f"CHANNEL#{channel.id}", **fields},
            ]
        )

    def get_channel(self, channel_id: str) -> PushChannel | None:
        item = self.table.get(f"CHANNEL#{channel_id}", "CHANNEL")
        return _channel(channel_id, item) if item else None

    def channels(self, email: str) -> list[PushChannel]:
        return [
            _channel(str(item[SK]).removeprefix("CHANNEL#"), item)
            for item in self.table.query(person_pk(email), "CHANNEL#")
        ]

    def delete_channel(self, channel: PushChannel) -> None:
        self.table.batch_delete(
            [
                (f"CHANNEL#{channel.id}", "CHANNEL"),
                (person_pk(channel.person), f"CHANNEL#{channel.id}"),
            ]
        )

    def claim_push_scan(self, email: str, window: str, expires_at: datetime) -> bool:
        item: Item = {
            PK: person_pk(email),
            SK: f"PUSH#{window}",
            TTL_ATTRIBUTE: _epoch(expires_at),
        }
        try:
            self.table.put(item, condition=not_exists())
        except ConditionFailed:
            return False
        return True

    def release_push_scan(self, email: str, window: str) -> None:
        self.table.delete(person_pk(email), f"PUSH#{window}")

    # rate limits
    def rate_count(self, key: str, window: str) -> int:
        item = self.table.get(f"RATE#{key}", window)
        return int(item["count"]) if item else 0

    def take(self, key: str, window: str, expires_at: datetime, limit: int) -> bool:
        """Count one request against ``key`` (a keyed hash, never an address) in ``window``
        unless ``limit`` are counted already. Optimistic: a lost race is retried."""
        for _ in range(_OPTIMISTIC_TRIES * 2):
            item = self.table.get(f"RATE#{key}", window)
            count = int(item["count"]) if item else 0
            if count >= limit:
                return False
            fresh = {
                PK: f"RATE#{key}",
                SK: window,
                "count": count + 1,
                TTL_ATTRIBUTE: _epoch(expires_at),
            }
            condition = (
                not_exists() if item is None else Cond(CondKind.MATCHES, value={"count": count})
            )
            try:
                self.table.put(fresh, condition=condition)
            except ConditionFailed:
                continue
            return True
        raise StoreError("rate limit: too many concurrent requests for one key")

    # emailed links
    def link_generation(self, address_hash: str) -> int:
        item = self.table.get(f"LINKS#{address_hash}", "GENERATION")
        return int(item["generation"]) if item else 0

    def bump_link_generation(self, address_hash: str, at: datetime, keep_until: datetime) -> int:
        """Outside the person's partition on purpose: it must outlive their erasure. It holds
        a number under a keyed hash, and goes when every link it refuses has expired."""
        generation = max(self.link_generation(address_hash) + 1, _epoch(at))
        self.table.put(
            {
                PK: f"LINKS#{address_hash}",
                SK: "GENERATION",
                "generation": generation,
                TTL_ATTRIBUTE: _epoch(keep_until),
            }
        )
        return generation

    # sign-in tokens and sessions
    def create_sign_in_token(self, token: SignInToken) -> bool:
        until = _epoch(token.expires_at)
        # the generation outlives every session this token may become
        generation = self._sign_in_generation(
            token.email, keep_until=token.expires_at + SESSION_LIFETIME
        )
        created = self._create(
            {
                PK: f"TOKEN#{token.token_hash}",
                SK: "TOKEN",
                "email": token.email,
                "token_until": until,
                "used": token.used,
                "generation": generation,
                TTL_ATTRIBUTE: until,
            }
        )
        if created:
            self._point(token.email, f"TOKEN#{token.token_hash}", until)
        return created

    def _point(self, email: str, sk: str, until: int) -> None:
        """A pointer under the person, so that erasing them finds their tokens/sessions."""
        self.table.put({PK: person_pk(email), SK: sk, TTL_ATTRIBUTE: until})

    def peek_sign_in_token(self, token_hash: str, now: datetime) -> SignInToken | None:
        item = self.table.get(f"TOKEN#{token_hash}", "TOKEN")
        current = self._generation(item["email"]) if item else None
        return _valid_sign_in_token(token_hash, item, now, current)

    def consume_sign_in_token(self, token_hash: str, now: datetime) -> SignInToken | None:
        item = self.table.get(f"TOKEN#{token_hash}", "TOKEN")
        current = self._generation(item["email"]) if item else None
        token = _valid_sign_in_token(token_hash, item, now, current)
        if item is None or token is None:
            return None
        item["used"] = True
        try:
            self.table.put(item, condition=Cond(CondKind.EQUALS, "used", False))
        except ConditionFailed:
            return None  # consumed by a concurrent request
        return token

    def create_session(self, session: Session) -> bool:
        created = self._create(self._session_item(session))
        if created:
            sk = f"SESSION#{session.session_hash}"
            self._point(session.email, sk, _epoch(session.created_at + SESSION_LIFETIME))
        return created

    def get_session(self, session_hash: str, now: datetime) -> Session | None:
        item = self.table.get(f"SESSION#{session_hash}", "SESSION")
        if item is None:
            return None
        session = Session(
            session_hash=session_hash,
            email=item["email"],
            created_at=_required_instant(item["created_at"]),
            last_seen_at=_required_instant(item["last_seen_at"]),
            generation=str(item.get("generation") or ""),
        )
        return session if session.valid_at(now) and self.session_current(session) else None

    def touch_session(self, session_hash: str, now: datetime) -> None:
        session = self.get_session(session_hash, now)
        if session is None:
            return
        touched = replace(session, last_seen_at=now)
        with suppress(ConditionFailed):  # deleted meanwhile: logged out
            self.table.put(self._session_item(touched), condition=exists())

    def delete_session(self, session_hash: str) -> None:
        item = self.table.get(f"SESSION#{session_hash}", "SESSION")
        self.table.delete(f"SESSION#{session_hash}", "SESSION")
        if item is not None:
            self.table.delete(person_pk(item["email"]), f"SESSION#{session_hash}")

    def _session_item(self, session: Session) -> Item:
        return {
            PK: f"SESSION#{session.session_hash}",
            SK: "SESSION",
            "email": session.email,
            "created_at": session.created_at.isoformat(),
            "last_seen_at": session.last_seen_at.isoformat(),
            "generation": session.generation,
            TTL_ATTRIBUTE: _epoch(session.expires_at),
        }

    # sign out everywhere: one random generation per address (docs/decisions.md)
    def session_current(self, session: Session) -> bool:
        return bool(session.generation) and self._generation(session.email) == session.generation

    def end_sessions(self, email: str) -> None:
        # The generation first: from this write on, nothing of before is valid. Then the
        # items themselves, targets before their pointers (TTL would remove them later).
        self.table.delete(person_pk(email), SIGN_IN_SK)
        pointers = [
            (str(item[PK]), str(item[SK]))
            for prefix in ("SESSION#", "TOKEN#")
            for item in self.table.query(person_pk(email), prefix)
        ]
        self.table.batch_delete(_pointer_targets(pointers))
        self.table.batch_delete(pointers)

    def _generation(self, email: str) -> str | None:
        item = self.table.get(person_pk(email), SIGN_IN_SK)
        return str(item["generation"]) if item else None

    def _sign_in_generation(self, email: str, *, keep_until: datetime) -> str:
        """The address's current sign-in generation (a new random one when it has none),
        its item kept at least until ``keep_until``."""
        until = _epoch(keep_until)
        for _ in range(_OPTIMISTIC_TRIES):
            item = self.table.get(person_pk(email), SIGN_IN_SK)
            if item is None:
                generation = secrets.token_hex(16)
                fresh = {PK: person_pk(email), SK: SIGN_IN_SK, "generation": generation}
                if self._create({**fresh, TTL_ATTRIBUTE: until}):
                    return generation
                continue
            generation = str(item["generation"])
            if int(item.get(TTL_ATTRIBUTE) or 0) >= until:
                return generation
            same = Cond(CondKind.MATCHES, value={"generation": generation})
            try:
                self.table.put({**item, TTL_ATTRIBUTE: until}, condition=same)
            except ConditionFailed:
                continue  # ended or extended meanwhile: read again
            return generation
        raise StoreError("sign-in: this address keeps changing; try again")

    # helpers
    def _create(self, item: Item) -> bool:
        try:
            self.table.put(item, condition=not_exists())
        except ConditionFailed:
            return False
        return True


ROUND_PART_GROUPS = 400  # groups per item of a pairing round: well under 400 KB


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _group_to_item(group: PairingGroup) -> Item:
    item: Item = {"members": list(group.members), "kind": group.kind.value}
    optional = {
        "start": _when(group.start),
        "end": _when(group.end),
        "reason": group.reason,
        "team": group.team,
    }
    item.update({k: v for k, v in optional.items() if v is not None})
    return item


def _item_to_group(item: Item) -> PairingGroup:
    return PairingGroup(
        members=tuple(item["members"]),
        start=_instant(item.get("start")),
        end=_instant(item.get("end")),
        reason=item.get("reason"),
        kind=HoldKind(item.get("kind") or HoldKind.COFFEE.value),
        team=item.get("team"),
    )


def _channel(channel_id: str, item: Item) -> PushChannel:
    return PushChannel(
        id=channel_id,
        person=str(item["person"]),
        resource_id=str(item["resource_id"]),
        token_hash=str(item["token_hash"]),
        expiration=datetime.fromisoformat(str(item["expiration"])),
    )
