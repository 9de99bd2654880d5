"""The single-table layout: keys, retention, write conditions, the `Table` protocol
the Store needs, the value codecs, and `TableRecords` that every part of the Store builds on."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from micromoments.domain.people import PersonStatus
from micromoments.ports import StoreError

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
OPTIMISTIC_TRIES = 5


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


def epoch(value: datetime) -> int:
    return int(value.timestamp())


def day_expiry(day: date) -> int:
    end = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    return epoch(end + PAST_DAYS_RETENTION)


# -- value codecs ----------------------------------------------------------------------------


def when(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()


def instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def moment(text: str | None) -> datetime | date | None:
    if text is None:
        return None
    return datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)


def required_moment(text: str) -> datetime | date:
    value = moment(text)
    assert value is not None
    return value


def required_instant(text: str) -> datetime:
    value = instant(text)
    assert value is not None
    return value


class TableRecords:
    """What every part of `TableStore` stands on: the `Table` and a create-if-absent."""

    def __init__(self, table: Table) -> None:
        self.table = table

    # helpers
    def _create(self, item: Item) -> bool:
        try:
            self.table.put(item, condition=not_exists())
        except ConditionFailed:
            return False
        return True
