"""An in-memory table with DynamoDB's semantics, for unit tests and local benchmarks.

`MemoryTable` keeps items as deep copies, sorts a partition by sort key, evaluates the
same conditions `DynamoTable` sends, and can emulate TTL clean-up (`expire`). `memory_store`
wraps it in the shared `TableStore`, so unit tests exercise the same Store code as DynamoDB.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from micromoments.adapters.table import (
    PK,
    SCAN_INDEX_PK,
    SCAN_INDEX_SK,
    SK,
    TTL_ATTRIBUTE,
    Cond,
    ConditionFailed,
    CondKind,
    Item,
    TableStore,
)


class MemoryTable:
    """The `Table` protocol over a dict; thread-safe, so tests can race two writers."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str], Item] = {}
        self._partitions: dict[str, dict[str, Item]] = {}  # pk -> sk -> item, for queries
        self._index: dict[str, dict[str, Item]] = {}  # the sparse GSI: partition -> key -> item
        self._lock = threading.Lock()

    def get(self, pk: str, sk: str) -> Item | None:
        with self._lock:
            item = self._items.get((pk, sk))
            return copy.deepcopy(item) if item is not None else None

    def put(self, item: Item, *, condition: Cond | None = None) -> None:
        key = (item[PK], item[SK])
        with self._lock:
            _check(self._items.get(key), condition)
            self._remove(key)
            stored = copy.deepcopy(item)
            self._items[key] = stored
            self._partitions.setdefault(key[0], {})[key[1]] = stored
            if SCAN_INDEX_PK in stored:
                self._index.setdefault(stored[SCAN_INDEX_PK], {})[_key_text(key)] = stored

    def delete(self, pk: str, sk: str, *, condition: Cond | None = None) -> None:
        with self._lock:
            _check(self._items.get((pk, sk)), condition)
            self._remove((pk, sk))

    def _remove(self, key: tuple[str, str]) -> None:
        old = self._items.pop(key, None)
        if old is None:
            return
        partition = self._partitions.get(key[0], {})
        partition.pop(key[1], None)
        if not partition:
            self._partitions.pop(key[0], None)
        if SCAN_INDEX_PK in old:
            self._index.get(old[SCAN_INDEX_PK], {}).pop(_key_text(key), None)

    def query(self, pk: str, sk_prefix: str = "") -> Iterator[Item]:
        with self._lock:
            partition = self._partitions.get(pk, {})
            found = [
                copy.deepcopy(item) for sk, item in partition.items() if sk.startswith(sk_prefix)
            ]
        yield from sorted(found, key=lambda item: str(item[SK]))

    def query_range(self, pk: str, first_sk: str, last_sk: str) -> Iterator[Item]:
        with self._lock:
            partition = self._partitions.get(pk, {})
            found = [
                copy.deepcopy(item) for sk, item in partition.items() if first_sk <= sk <= last_sk
            ]
        yield from sorted(found, key=lambda item: str(item[SK]))

    def query_index(self, partition: str) -> Iterator[Item]:
        with self._lock:
            found = [copy.deepcopy(item) for item in self._index.get(partition, {}).values()]
        yield from sorted(found, key=lambda item: str(item[SCAN_INDEX_SK]))

    def batch_put(self, items: Sequence[Item]) -> None:
        for item in items:
            self.put(item)

    def batch_delete(self, keys: Sequence[tuple[str, str]]) -> None:
        for pk, sk in keys:
            self.delete(pk, sk)

    # -- for tests -------------------------------------------------------------------
    def items(self) -> list[Item]:
        """Every stored item (copies), as a scan would return them."""
        with self._lock:
            return [copy.deepcopy(item) for item in self._items.values()]

    def expire(self, now: datetime) -> int:
        """Delete items whose TTL attribute lies before ``now``, as DynamoDB's TTL would."""
        cutoff = int(now.timestamp())
        with self._lock:
            gone = [
                key
                for key, item in self._items.items()
                if isinstance(item.get(TTL_ATTRIBUTE), int) and item[TTL_ATTRIBUTE] < cutoff
            ]
            for key in gone:
                self._remove(key)
        return len(gone)


def _key_text(key: tuple[str, str]) -> str:
    return f"{key[0]}\x00{key[1]}"


def _check(current: Item | None, condition: Cond | None) -> None:
    if condition is None:
        return
    if not _holds(current, condition):
        raise ConditionFailed(f"condition {condition.kind.value} failed")


def _holds(current: Item | None, condition: Cond) -> bool:
    kind = condition.kind
    if kind is CondKind.NOT_EXISTS:
        return current is None
    if kind is CondKind.EXISTS:
        return current is not None
    if kind is CondKind.MATCHES:
        return current is not None and all(
            name in current and current[name] == value for name, value in condition.value.items()
        )
    present = current is not None and condition.attribute in current
    value: Any = current[condition.attribute] if current is not None and present else None
    if kind is CondKind.EQUALS:
        return present and value == condition.value
    if kind is CondKind.NOT_EXISTS_OR_BEFORE:
        return not present or value < condition.value
    raise AssertionError(kind)


def memory_store() -> TableStore:
    """A `Store` over a fresh `MemoryTable`."""
    return TableStore(MemoryTable())
