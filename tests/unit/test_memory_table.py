"""MemoryTable: the reference semantics of the `Table` protocol (no network)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from micromoments.adapters.memory import MemoryTable
from micromoments.adapters.table import (
    SCAN_INDEX_PK,
    SCAN_INDEX_SK,
    TTL_ATTRIBUTE,
    Cond,
    ConditionFailed,
    CondKind,
    exists,
    not_exists,
)

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


@pytest.fixture
def table() -> MemoryTable:
    return MemoryTable()


def test_not_exists_creates_once(table: MemoryTable) -> None:
    table.put({"pk": "A", "sk": "1", "v": 1}, condition=not_exists())
    with pytest.raises(ConditionFailed):
        table.put({"pk": "A", "sk": "1", "v": 2}, condition=not_exists())
    assert table.get("A", "1") == {"pk": "A", "sk": "1", "v": 1}
    table.put({"pk": "A", "sk": "2", "v": 3}, condition=not_exists())  # another key


def test_exists_needs_the_item(table: MemoryTable) -> None:
    with pytest.raises(ConditionFailed):
        table.put({"pk": "A", "sk": "1"}, condition=exists())
    assert table.get("A", "1") is None
    with pytest.raises(ConditionFailed):
        table.delete("A", "1", condition=exists())
    table.put({"pk": "A", "sk": "1", "v": 1})
    table.put({"pk": "A", "sk": "1", "v": 2}, condition=exists())
    assert table.get("A", "1") == {"pk": "A", "sk": "1", "v": 2}


def test_equals_compares_the_stored_attribute(table: MemoryTable) -> None:
    owner = Cond(CondKind.EQUALS, "owner", "scan-a")
    with pytest.raises(ConditionFailed):  # no item: nothing equals
        table.delete("L", "LEASE", condition=owner)
    table.put({"pk": "L", "sk": "LEASE", "owner": "scan-b"})
    with pytest.raises(ConditionFailed):
        table.delete("L", "LEASE", condition=owner)
    assert table.get("L", "LEASE") is not None
    table.delete("L", "LEASE", condition=Cond(CondKind.EQUALS, "owner", "scan-b"))
    assert table.get("L", "LEASE") is None
    # False is a value, not a missing attribute
    table.put({"pk": "T", "sk": "TOKEN", "used": False})
    unused = Cond(CondKind.EQUALS, "used", False)
    table.put({"pk": "T", "sk": "TOKEN", "used": True}, condition=unused)
    with pytest.raises(ConditionFailed):
        table.put({"pk": "T", "sk": "TOKEN", "used": True}, condition=unused)


def test_not_exists_or_before_is_strictly_before(table: MemoryTable) -> None:
    expired = Cond(CondKind.NOT_EXISTS_OR_BEFORE, "until", 100)
    table.put({"pk": "L", "sk": "LEASE", "until": 150}, condition=expired)  # no item yet
    with pytest.raises(ConditionFailed):
        table.put({"pk": "L", "sk": "LEASE", "until": 200}, condition=expired)
    table.put({"pk": "L", "sk": "LEASE", "until": 100})
    with pytest.raises(ConditionFailed):  # equal is not before
        table.put({"pk": "L", "sk": "LEASE", "until": 200}, condition=expired)
    table.put({"pk": "L", "sk": "LEASE", "until": 99})
    table.put({"pk": "L", "sk": "LEASE", "until": 200}, condition=expired)
    table.put({"pk": "X", "sk": "Y"})  # the item exists without the attribute
    table.put({"pk": "X", "sk": "Y", "until": 1}, condition=expired)
    assert table.get("X", "Y") == {"pk": "X", "sk": "Y", "until": 1}


def test_items_are_copies(table: MemoryTable) -> None:
    item = {"pk": "A", "sk": "1", "groups": [{"members": ["x"]}]}
    table.put(item)
    item["groups"][0]["members"].append("y")
    read = table.get("A", "1")
    assert read is not None and read["groups"] == [{"members": ["x"]}]
    read["groups"].clear()
    assert table.get("A", "1") == {"pk": "A", "sk": "1", "groups": [{"members": ["x"]}]}


def test_query_is_sorted_by_sort_key_and_filters_by_prefix(table: MemoryTable) -> None:
    for sk in ("LOAD#2026-11-24", "EVENT#b", "LOAD#2026-11-23", "EVENT#a", "PROFILE"):
        table.put({"pk": "P", "sk": sk})
    table.put({"pk": "Q", "sk": "EVENT#c"})
    assert [i["sk"] for i in table.query("P", "EVENT#")] == ["EVENT#a", "EVENT#b"]
    assert [i["sk"] for i in table.query("P", "LOAD#")] == ["LOAD#2026-11-23", "LOAD#2026-11-24"]
    assert len(list(table.query("P"))) == 5
    assert list(table.query("none")) == []


def test_query_index_reads_only_items_in_the_partition(table: MemoryTable) -> None:
    table.put({"pk": "P#b", "sk": "PROFILE", SCAN_INDEX_PK: "SCAN", SCAN_INDEX_SK: "b"})
    table.put({"pk": "P#a", "sk": "PROFILE", SCAN_INDEX_PK: "SCAN", SCAN_INDEX_SK: "a"})
    table.put({"pk": "P#c", "sk": "PROFILE"})  # sparse: not in the index
    assert [i[SCAN_INDEX_SK] for i in table.query_index("SCAN")] == ["a", "b"]
    assert list(table.query_index("OTHER")) == []


def test_batch_writes_apply_in_order(table: MemoryTable) -> None:
    table.batch_put([{"pk": "A", "sk": "1", "v": 1}, {"pk": "A", "sk": "1", "v": 2}])
    assert table.get("A", "1") == {"pk": "A", "sk": "1", "v": 2}
    table.batch_delete([("A", "1"), ("A", "1"), ("A", "missing")])
    assert table.items() == []


def test_expire_drops_exactly_the_items_past_their_ttl(table: MemoryTable) -> None:
    cutoff = int(NOW.timestamp())
    table.put({"pk": "A", "sk": "old", TTL_ATTRIBUTE: cutoff - 1})
    table.put({"pk": "A", "sk": "now", TTL_ATTRIBUTE: cutoff})
    table.put({"pk": "A", "sk": "later", TTL_ATTRIBUTE: cutoff + 1})
    table.put({"pk": "A", "sk": "forever"})
    assert table.expire(NOW) == 1
    assert sorted(i["sk"] for i in table.items()) == ["forever", "later", "now"]


def test_matches_needs_every_attribute_equal_and_present() -> None:
    from micromoments.adapters.table import Cond, ConditionFailed, CondKind

    table = MemoryTable()
    table.put({"pk": "p", "sk": "s", "status": "active", "flag": False})
    seen = Cond(CondKind.MATCHES, value={"status": "active", "flag": False})
    table.put({"pk": "p", "sk": "s", "status": "leaving", "flag": False}, condition=seen)
    with pytest.raises(ConditionFailed):
        table.put({"pk": "p", "sk": "s", "status": "x", "flag": False}, condition=seen)
    missing = Cond(CondKind.MATCHES, value={"status": "leaving", "other": None})
    with pytest.raises(ConditionFailed):
        table.put({"pk": "p", "sk": "s"}, condition=missing)
