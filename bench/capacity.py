"""DynamoDB capacity accounting: what a run would be billed on an on-demand table.

`CapacityTable` wraps any `adapters.table.Table` (the in-memory table or `DynamoTable` on
moto) and counts read and write request units from the serialised size of every item it
reads or writes, with DynamoDB's own rules. moto reports consumed capacity as constants, so
benchmarks measure through this wrapper instead, and both backends are measured alike.

Item size (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html):
the sum over attributes of the UTF-8 length of the name plus the size of the value. A string
is its UTF-8 bytes; a number about one byte per two significant digits plus one (leading and
trailing zeroes trimmed); binary its raw bytes; null and Boolean one byte; a list or map three
bytes plus its elements plus one byte per element (a map element also counts its name); a
set the sum of its elements.

Capacity (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html,
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html):

- GetItem: the item's size rounded up to 4 KB, one unit per 4 KB strongly consistent, half
  that eventually consistent; a missing item still costs the minimum.
- Query: the summed size of the items of each page (pages end at 1 MB) rounded up to 4 KB,
  at least one 4 KB unit a page; a global secondary index is read eventually consistent and
  its items are the projected index entries.
- PutItem: the larger of the old and the new item, rounded up to 1 KB, one unit per KB;
  DeleteItem: the deleted item (at least one unit); BatchWriteItem: each put or delete as
  if it were sent alone (a repeated key is sent once, as `DynamoTable` sends it).
- A conditional write whose condition fails still consumes units: the larger of the
  existing and the new item (at least one).
- Global secondary indexes: a write that puts an item into an index costs one index write
  of the index entry's size; one that removes it, one; one that changes its index key,
  two (delete + put); one that changes only projected non-key attributes, one; otherwise
  none. An index entry is the table key, the index key and the projected attributes.
- Transactions (TransactWriteItems / TransactGetItems) would cost double; the `Table`
  protocol has none, so nothing here is doubled.

The wrapper keeps the size of every item written through it (to price replacements and
deletes without an extra read), so it must see a table's writes from the start.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from micromoments.adapters.table import (
    PK,
    SCAN_INDEX,
    SK,
    Cond,
    ConditionFailed,
    Item,
    Table,
)

__all__ = [
    "PAGE_BYTES",
    "READ_UNIT_BYTES",
    "WRITE_UNIT_BYTES",
    "CapacityCounters",
    "CapacityTable",
    "IndexSpec",
    "Tally",
    "attribute_size",
    "indexes_from_template",
    "item_size",
    "read_units",
    "typed_item_size",
    "write_units",
]

WRITE_UNIT_BYTES = 1024  # one write request unit: an item up to 1 KB
READ_UNIT_BYTES = 4096  # one strongly consistent read request unit: up to 4 KB
PAGE_BYTES = 1024 * 1024  # a Query page reads at most 1 MB
BATCH_WRITE_LIMIT = 25  # items per BatchWriteItem call


# -- sizes -----------------------------------------------------------------------------------


def _number_size(value: int | float | Decimal) -> int:
    """One byte per two significant digits, plus one (leading and trailing zeroes trimmed)."""
    if isinstance(value, int):
        significant = len(str(abs(value)).strip("0")) or 1
    else:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
        significant = len(number.normalize().as_tuple().digits)  # 1200 -> 12E+2: 2 digits
    return (significant + 1) // 2 + 1


def attribute_size(value: Any) -> int:
    """The size of one attribute value as DynamoDB counts it (the name not included)."""
    kind = type(value)
    if kind is str:
        return len(value) if value.isascii() else len(value.encode("utf-8"))
    if kind is bool or value is None:
        return 1
    if kind is int:
        return _number_size(value)
    if isinstance(value, Mapping):
        return 3 + sum(
            _name_size(name) + attribute_size(inner) + 1 for name, inner in value.items()
        )
    if isinstance(value, list | tuple):
        return 3 + sum(attribute_size(inner) + 1 for inner in value)
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if isinstance(value, int | float | Decimal):  # bool was taken above
        return _number_size(value)
    if isinstance(value, bytes | bytearray):
        return len(value)
    if isinstance(value, set | frozenset):
        return sum(attribute_size(inner) for inner in value)
    raise TypeError(f"no DynamoDB type for {type(value).__name__}")


def _name_size(name: Any) -> int:
    text = str(name)
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def item_size(item: Mapping[str, Any]) -> int:
    """The size of an item (plain Python values, as `Table` items are), in bytes."""
    return sum(_name_size(name) + attribute_size(value) for name, value in item.items())


def _typed_value_size(value: Mapping[str, Any]) -> int:
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(str(inner).encode("utf-8"))
    if kind == "N":
        return _number_size(Decimal(str(inner)))
    if kind == "B":
        return len(inner)
    if kind in ("NULL", "BOOL"):
        return 1
    if kind == "L":
        return 3 + sum(_typed_value_size(v) + 1 for v in inner)
    if kind == "M":
        return 3 + sum(len(k.encode("utf-8")) + _typed_value_size(v) + 1 for k, v in inner.items())
    if kind == "SS":
        return sum(len(str(v).encode("utf-8")) for v in inner)
    if kind == "NS":
        return sum(_number_size(Decimal(str(v))) for v in inner)
    if kind == "BS":
        return sum(len(v) for v in inner)
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def typed_item_size(item: Mapping[str, Mapping[str, Any]]) -> int:
    """The size of an item in DynamoDB JSON (``{"name": {"S": "…"}}``), in bytes."""
    return sum(len(name.encode("utf-8")) + _typed_value_size(v) for name, v in item.items())


def write_units(size: int) -> int:
    """Write request units for one item of ``size`` bytes (at least one)."""
    return max(1, math.ceil(size / WRITE_UNIT_BYTES))


def read_units(size: int, *, consistent: bool) -> float:
    """Read request units for ``size`` bytes read in one request (at least one 4 KB unit)."""
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


# -- indexes ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IndexSpec:
    """A global secondary index: its key and what it projects."""

    name: str
    partition_key: str
    sort_key: str | None = None
    projection: str = "KEYS_ONLY"  # KEYS_ONLY | INCLUDE | ALL
    non_key_attributes: tuple[str, ...] = ()

    def key(self, item: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The item's index key, or None when the item is not in this (sparse) index."""
        if self.partition_key not in item:
            return None
        if self.sort_key is not None and self.sort_key not in item:
            return None
        return (item[self.partition_key], item.get(self.sort_key) if self.sort_key else None)

    def entry(self, item: Mapping[str, Any]) -> dict[str, Any] | None:
        """The index entry of ``item``: table key, index key and projected attributes."""
        if self.key(item) is None:
            return None
        if self.projection == "ALL":
            return dict(item)
        names = {PK, SK, self.partition_key}
        if self.sort_key is not None:
            names.add(self.sort_key)
        if self.projection == "INCLUDE":
            names.update(self.non_key_attributes)
        return {name: item[name] for name in names if name in item}


def indexes_from_template(template_path: Path | None = None) -> tuple[IndexSpec, ...]:
    """The global secondary indexes of the ``Table`` resource in template.yaml."""
    from micromoments.adapters.dynamo import table_definition

    specs = []
    for index in table_definition(template_path).get("GlobalSecondaryIndexes") or []:
        keys = {key["KeyType"]: key["AttributeName"] for key in index["KeySchema"]}
        projection = index.get("Projection") or {}
        specs.append(
            IndexSpec(
                name=index["IndexName"],
                partition_key=keys["HASH"],
                sort_key=keys.get("RANGE"),
                projection=projection.get("ProjectionType", "ALL"),
                non_key_attributes=tuple(projection.get("NonKeyAttributes") or ()),
            )
        )
    return tuple(specs)


# -- counters --------------------------------------------------------------------------------


@dataclass(slots=True)
class Tally:
    """Calls (HTTP requests to DynamoDB), items and units of one operation or item kind."""

    calls: int = 0
    items: int = 0
    read_units: float = 0.0
    write_units: float = 0.0

    def add(self, other: Tally) -> None:
        self.calls += other.calls
        self.items += other.items
        self.read_units += other.read_units
        self.write_units += other.write_units

    def to_json(self) -> dict[str, float]:
        return {
            "calls": self.calls,
            "items": self.items,
            "read_units": self.read_units,
            "write_units": self.write_units,
        }


@dataclass(slots=True)
class CapacityCounters:
    """Request units consumed. ``write_units`` includes ``index_write_units``.

    ``by_operation`` keys: GetItem, PutItem, DeleteItem, Query, Query:<index>,
    BatchWriteItem. ``by_kind`` keys are the sort key's prefix (``EVENT``, ``HOLD``,
    ``LEASE``, ``PROFILE`` …) or ``index:<name>`` for index writes and reads.
    """

    read_units: float = 0.0
    write_units: float = 0.0
    index_write_units: float = 0.0
    failed_conditional_writes: int = 0
    by_operation: dict[str, Tally] = field(default_factory=dict)
    by_kind: dict[str, Tally] = field(default_factory=dict)

    def copy(self) -> CapacityCounters:
        return CapacityCounters(
            self.read_units,
            self.write_units,
            self.index_write_units,
            self.failed_conditional_writes,
            {k: Tally(v.calls, v.items, v.read_units, v.write_units)
             for k, v in self.by_operation.items()},
            {k: Tally(v.calls, v.items, v.read_units, v.write_units)
             for k, v in self.by_kind.items()},
        )  # fmt: skip

    @property
    def requests(self) -> int:
        """HTTP requests to DynamoDB (a Query page and a BatchWriteItem of 25 are one)."""
        return sum(t.calls for t in self.by_operation.values())

    def since(self, before: CapacityCounters) -> CapacityCounters:
        """What was consumed after the snapshot ``before``."""

        def minus(now: dict[str, Tally], then: dict[str, Tally]) -> dict[str, Tally]:
            out = {}
            for key, tally in now.items():
                old = then.get(key, Tally())
                diff = Tally(
                    tally.calls - old.calls,
                    tally.items - old.items,
                    tally.read_units - old.read_units,
                    tally.write_units - old.write_units,
                )
                if diff.calls or diff.items or diff.read_units or diff.write_units:
                    out[key] = diff
            return out

        return CapacityCounters(
            self.read_units - before.read_units,
            self.write_units - before.write_units,
            self.index_write_units - before.index_write_units,
            self.failed_conditional_writes - before.failed_conditional_writes,
            minus(self.by_operation, before.by_operation),
            minus(self.by_kind, before.by_kind),
        )

    def to_json(self, per: float = 1.0) -> dict[str, Any]:
        """The counters as JSON, every figure divided by ``per`` (people, say)."""

        def scaled(tally: Tally) -> dict[str, float]:
            return {k: round(v / per, 4) for k, v in tally.to_json().items()}

        return {
            "read_units": round(self.read_units / per, 4),
            "write_units": round(self.write_units / per, 4),
            "index_write_units": round(self.index_write_units / per, 4),
            "requests": round(self.requests / per, 4),
            "failed_conditional_writes": round(self.failed_conditional_writes / per, 4),
            "by_operation": {k: scaled(v) for k, v in sorted(self.by_operation.items())},
            "by_kind": {k: scaled(v) for k, v in sorted(self.by_kind.items())},
        }


def _kind(sk: Any) -> str:
    return str(sk).split("#", 1)[0]


# -- the table ---------------------------------------------------------------------------


class CapacityTable:
    """A `Table` that forwards every call to ``inner`` and counts the request units.

    Reads through `get` and `query` are strongly consistent (as `DynamoTable` sends them);
    `query_index` reads the global secondary index, eventually consistent. ``indexes``
    default to the ones template.yaml defines.
    """

    def __init__(self, inner: Table, *, indexes: Sequence[IndexSpec] | None = None) -> None:
        self.inner = inner
        self.indexes = tuple(indexes_from_template() if indexes is None else indexes)
        self.counters = CapacityCounters()
        self._sizes: dict[tuple[str, str], int] = {}  # every item written through here
        self._entries: dict[tuple[str, str], tuple[tuple[Any, ...] | None, ...]] = {}
        self._lock = threading.Lock()
        self._stripes = [threading.Lock() for _ in range(64)]

    # -- accounting ------------------------------------------------------------------------

    def snapshot(self) -> CapacityCounters:
        with self._lock:
            return self.counters.copy()

    def reset(self) -> None:
        with self._lock:
            self.counters = CapacityCounters()

    def stored_bytes(self, *, overhead: int = 100) -> int:
        """Billed storage of the items written through here: each item's size plus
        ``overhead`` bytes, and each index entry likewise (DynamoDB's 100 bytes an item)."""
        with self._lock:
            total = sum(size + overhead for size in self._sizes.values())
            for entries in self._entries.values():
                total += sum(entry[1] + overhead for entry in entries if entry is not None)
            return total

    @property
    def item_count(self) -> int:
        with self._lock:
            return len(self._sizes)

    def _charge(
        self,
        operation: str,
        kind: str,
        *,
        calls: int = 0,
        items: int = 0,
        read: float = 0.0,
        write: float = 0.0,
        index: bool = False,
    ) -> None:
        with self._lock:
            c = self.counters
            c.read_units += read
            c.write_units += write
            if index:
                c.index_write_units += write
            for table, key in ((c.by_operation, operation), (c.by_kind, kind)):
                tally = table.setdefault(key, Tally())
                tally.calls += calls
                tally.items += items
                tally.read_units += read
                tally.write_units += write

    def _entries_of(self, item: Mapping[str, Any]) -> tuple[tuple[Any, ...] | None, ...]:
        """Per index: (index key, entry size, projected entry) or None."""
        out: list[tuple[Any, ...] | None] = []
        for spec in self.indexes:
            entry = spec.entry(item)
            out.append(None if entry is None else (spec.key(item), item_size(entry), entry))
        return tuple(out)

    def _index_writes(
        self,
        operation: str,
        before: tuple[tuple[Any, ...] | None, ...],
        after: tuple[tuple[Any, ...] | None, ...],
    ) -> None:
        for number, spec in enumerate(self.indexes):
            old = before[number] if before else None
            new = after[number] if after else None
            units = 0
            if old is None and new is not None:
                units = write_units(new[1])
            elif old is not None and new is None:
                units = write_units(old[1])
            elif old is not None and new is not None:
                if old[0] != new[0]:
                    units = write_units(old[1]) + write_units(new[1])
                elif old[2] != new[2]:
                    units = write_units(max(old[1], new[1]))
            if units:
                self._charge(operation, f"index:{spec.name}", items=1, write=units, index=True)

    def _stripe(self, key: tuple[str, str]) -> threading.Lock:
        return self._stripes[hash(key) % len(self._stripes)]

    def _account_put(self, operation: str, item: Item, *, calls: int) -> None:
        """Price a put that succeeded (the caller holds the key's stripe)."""
        key = (str(item[PK]), str(item[SK]))
        size = item_size(item)
        entries = self._entries_of(item) if self.indexes else ()
        with self._lock:
            old = self._sizes.get(key, 0)
            before = self._entries.get(key, ())
            self._sizes[key] = size
            if any(e is not None for e in entries):
                self._entries[key] = entries
            else:
                self._entries.pop(key, None)
        self._charge(operation, _kind(key[1]), calls=calls, items=1,
                     write=write_units(max(old, size)))  # fmt: skip
        self._index_writes(operation, before, entries)

    def _account_delete(self, operation: str, key: tuple[str, str], *, calls: int) -> None:
        with self._lock:
            old = self._sizes.pop(key, 0)
            before = self._entries.pop(key, ())
        self._charge(operation, _kind(key[1]), calls=calls, items=1, write=write_units(old))
        self._index_writes(operation, before, ())

    def _account_failed(self, operation: str, key: tuple[str, str], size: int) -> None:
        with self._lock:
            old = self._sizes.get(key, 0)
            self.counters.failed_conditional_writes += 1
        self._charge(operation, _kind(key[1]), calls=1, items=1,
                     write=write_units(max(old, size)))  # fmt: skip

    def _account_reads(
        self, operation: str, kind: str, sizes: Sequence[int], *, consistent: bool
    ) -> None:
        """One Query: pages of at most 1 MB, each rounded up to 4 KB (one unit at least)."""
        pages: list[int] = []
        page = 0
        for size in sizes:
            if page and page + size > PAGE_BYTES:
                pages.append(page)
                page = 0
            page += size
        pages.append(page)
        units = sum(read_units(total, consistent=consistent) for total in pages)
        self._charge(operation, kind, calls=len(pages), items=len(sizes), read=units)

    # -- the Table protocol -----------------------------------------------------------------

    def get(self, pk: str, sk: str) -> Item | None:
        found = self.inner.get(pk, sk)
        size = item_size(found) if found is not None else 0
        self._charge("GetItem", _kind(sk), calls=1, items=1 if found else 0,
                     read=read_units(size, consistent=True))  # fmt: skip
        return found

    def put(self, item: Item, *, condition: Cond | None = None) -> None:
        key = (str(item[PK]), str(item[SK]))
        with self._stripe(key):
            try:
                self.inner.put(item, condition=condition)
            except ConditionFailed:
                self._account_failed("PutItem", key, item_size(item))
                raise
            self._account_put("PutItem", item, calls=1)

    def delete(self, pk: str, sk: str, *, condition: Cond | None = None) -> None:
        key = (pk, sk)
        with self._stripe(key):
            try:
                self.inner.delete(pk, sk, condition=condition)
            except ConditionFailed:
                self._account_failed("DeleteItem", key, 0)
                raise
            self._account_delete("DeleteItem", key, calls=1)

    def query(self, pk: str, sk_prefix: str = "") -> Iterator[Item]:
        found = list(self.inner.query(pk, sk_prefix))
        kind = _kind(sk_prefix) if sk_prefix else "partition"
        self._account_reads("Query", kind, [item_size(i) for i in found], consistent=True)
        yield from found

    def query_range(self, pk: str, first_sk: str, last_sk: str) -> Iterator[Item]:
        found = list(self.inner.query_range(pk, first_sk, last_sk))
        self._account_reads("Query", _kind(first_sk), [item_size(i) for i in found],
                            consistent=False)  # fmt: skip
        yield from found

    def query_index(self, partition: str) -> Iterator[Item]:
        found = list(self.inner.query_index(partition))
        # `Table.query_index` reads the scannable index
        spec = next((s for s in self.indexes if s.name == SCAN_INDEX), None)
        sizes = []
        for item in found:
            entry = spec.entry(item) if spec is not None else None
            sizes.append(item_size(entry if entry is not None else item))
        name = spec.name if spec is not None else "index"
        self._account_reads(f"Query:{name}", f"index:{name}", sizes, consistent=False)
        yield from found

    def batch_put(self, items: Sequence[Item]) -> None:
        latest = list({(str(i[PK]), str(i[SK])): i for i in items}.values())
        self.inner.batch_put(items)
        for number, item in enumerate(latest):  # one call for each 25 items
            key = (str(item[PK]), str(item[SK]))
            with self._stripe(key):
                self._account_put("BatchWriteItem", item,
                                  calls=int(number % BATCH_WRITE_LIMIT == 0))  # fmt: skip

    def batch_delete(self, keys: Sequence[tuple[str, str]]) -> None:
        unique = list(dict.fromkeys((str(pk), str(sk)) for pk, sk in keys))
        self.inner.batch_delete(keys)
        for number, key in enumerate(unique):
            with self._stripe(key):
                self._account_delete("BatchWriteItem", key,
                                     calls=int(number % BATCH_WRITE_LIMIT == 0))  # fmt: skip
