"""Scale: the fast variant of bench/scale.py, and the capacity accounting it rests on.

The benchmark runs as a subprocess (it starts the Calendar server in a process of its own)
on one small organisation twice: on the in-memory table and wholly on moto's server (the
session's `moto_server_url`: DynamoDB and SQS). Both go through dispatch -> queue -> scan
workers for four hourly runs, and their per-person figures must agree within 10%, as the
full benchmark requires of 10,000 people in memory against 300 on moto. Every property row
of the benchmark (request bounds, OAuth per scan, lease-only rescans, per-user quota) must
hold here too.

The capacity tests check `bench/capacity.py` against sizes and units worked out
by hand with DynamoDB's rules.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer

from micromoments.adapters.memory import MemoryTable
from micromoments.adapters.table import (
    Cond,
    ConditionFailed,
    CondKind,
    TableStore,
    not_exists,
    person_to_item,
)
from micromoments.domain.people import Person, PersonStatus

pytestmark = pytest.mark.integration

BENCH = Path(__file__).resolve().parents[2] / "bench" / "scale.py"


def _bench(name: str) -> ModuleType:
    """A module of bench/, loaded by its path (bench/ is scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH.with_name(f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


capacity = _bench("capacity")  # the capacity accounting bench/scale.py measures with
CapacityTable = capacity.CapacityTable
IndexSpec = capacity.IndexSpec
indexes_from_template = capacity.indexes_from_template
item_size = capacity.item_size
typed_item_size = capacity.typed_item_size
PEOPLE = 12  # two SQS batches; the same organisation on both backends


@pytest.fixture(scope="module")
def run(moto_server_url: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_DEFAULT_REGION="eu-west-1")  # fmt: skip
    done = subprocess.run(
        [sys.executable, str(BENCH), "--json", "--people", str(PEOPLE),
         "--moto-people", str(PEOPLE), "--moto-url", moto_server_url,
         "--workers", "2", "--solo-people", "0"],
        capture_output=True, text=True, timeout=240, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    doc: dict[str, Any] = json.loads(done.stdout)
    return doc


def test_every_property_row_holds(run: dict[str, Any]) -> None:
    failed = [row for row in run["rows"] if row["met"] is False]
    assert not failed, failed
    assert sum(row["met"] is True for row in run["rows"]) >= 8


def test_moto_and_memory_agree_per_person(run: dict[str, Any]) -> None:
    agreement = run["agreement"]
    assert len(agreement["figures"]) == 4 * 6  # four runs, six figures each
    assert agreement["max_difference"] <= 0.10, agreement["figures"][agreement["worst"]]
    for backend in ("memory", "moto"):
        for name, phase in run[backend]["phases"].items():
            assert phase["enqueued"] == PEOPLE, (backend, name)
            assert phase["failures"] == 0, (backend, name)


def test_requests_per_person_stay_within_the_scan_bounds(run: dict[str, Any]) -> None:
    memory = run["memory"]
    first, rescan = memory["phases"]["first"], memory["phases"]["rescan"]
    holds = first["holds_per_person"]["placed"]
    assert holds > 0
    pages = memory["pages_per_person"]
    assert first["requests_per_person"] <= pages + holds + 1 + 1e-9
    assert first["round_trips_per_person"] <= pages + math.ceil(holds / 50) + 1 + 1e-9
    assert rescan["requests_per_person"] == 1.0
    assert rescan["by_method_per_person"] == {"calendar.events.list": 1.0}
    for phase in memory["phases"].values():
        # fresh workers each hour: one token per person and scan, counted on both ends
        assert phase["oauth_round_trips_per_person"] == 1.0
        assert phase["server"]["oauth_round_trips"] == phase["enqueued"]
        assert phase["server"]["requests"] == pytest.approx(
            phase["requests_per_person"] * phase["enqueued"], abs=0.01
        )


def test_an_unchanged_rescan_takes_the_quick_path_unless_time_driven_work_is_due(
    run: dict[str, Any],
) -> None:
    """Before push every unchanged rescan wrote its lease (2 WRU); now it writes nothing
    (the quick path) unless a hold's time came since the last scan: that person's scan is
    a full one (lease, the hold recorded kept, its sync state)."""
    rescan = run["memory"]["phases"]["rescan"]
    units = rescan["scan_capacity_per_person"]
    kinds = units["by_kind"]
    assert units["write_units"] < 2.0
    assert units["read_units"] < 5.0  # 15.5 before: the whole state of everyone
    written = {kind for kind, tally in kinds.items() if tally["write_units"]}
    assert written <= {"LEASE", "HOLD", "SYNC", "LOAD"}
    assert kinds.get("HOLD", {}).get("write_units", 0.0) == rescan["holds_per_person"].get(
        "kept", 0.0
    )


def test_cost_follows_from_the_counts_and_prices(run: dict[str, Any]) -> None:
    prices = run["assumptions"]["prices_usd"]
    for basis in ("rescan", "changed"):
        cost = run["cost"][basis]
        usd = cost["usd"]
        assert usd["dynamodb_read_request_units"] == pytest.approx(
            cost["read_request_units"] * prices["dynamodb_read_request_unit"], rel=1e-3
        )
        assert usd["dynamodb_write_request_units"] == pytest.approx(
            cost["write_request_units"] * prices["dynamodb_write_request_unit"], rel=1e-3
        )
        assert cost["scans"] == 1000 * 24 * run["assumptions"]["workdays_per_month"]
        assert cost["total_usd"] == pytest.approx(sum(usd.values()), abs=0.01)
    assert run["cost"]["changed"]["total_usd"] >= run["cost"]["rescan"]["total_usd"]


# -- capacity accounting ---------------------------------------------------------------------


@pytest.fixture
def table() -> Iterator[CapacityTable]:
    yield CapacityTable(MemoryTable(), indexes=indexes_from_template())


def test_item_size_follows_dynamodbs_rules() -> None:
    item = {
        "pk": "PERSON#ana@example.com",  # 2 + 22
        "n": 1200,  # 1 + (2 significant digits -> 1 byte) + 1
        "ok": True,  # 2 + 1
        "none": None,  # 4 + 1
        "tags": ["ab", 7],  # 4 + 3 + (2 + 1) + (2 + 1)
        "m": {"k": "é"},  # 1 + 3 + (1 + 2 + 1)
    }
    assert item_size(item) == 24 + 3 + 3 + 5 + 13 + 8


def test_sizes_of_plain_and_dynamodb_json_items_agree() -> None:
    serializer = TypeSerializer()
    person = person_to_item(Person(email="ana@example.com", team="core", timezone="Europe/Berlin"))
    typed = {name: serializer.serialize(value) for name, value in person.items()}
    assert item_size(person) == typed_item_size(typed) > 0


def test_writes_cost_the_larger_item_per_kb(table: CapacityTable) -> None:
    big = {"pk": "P", "sk": "A", "blob": "x" * 1500}  # 3 + 3 + 1,504 = 1,510 bytes: 2 units
    small = {"pk": "P", "sk": "A", "blob": "x"}
    table.put(big)
    assert table.counters.write_units == 2
    table.put(small)  # replacing: the larger of old and new
    assert table.counters.write_units == 4
    table.delete("P", "A")  # the deleted item, at least one unit
    assert table.counters.write_units == 5
    table.delete("P", "A")  # nothing there: still one unit
    assert table.counters.write_units == 6


def test_a_failed_conditional_write_still_consumes_units(table: CapacityTable) -> None:
    table.put({"pk": "P", "sk": "A", "blob": "x" * 2500})  # 2,510 bytes: 3 units
    with pytest.raises(ConditionFailed):
        table.put({"pk": "P", "sk": "A"}, condition=not_exists())
    assert table.counters.write_units == 6
    assert table.counters.failed_conditional_writes == 1
    with pytest.raises(ConditionFailed):
        table.delete("P", "A", condition=Cond(CondKind.EQUALS, "owner", "someone"))
    assert table.counters.write_units == 9


def test_index_writes_follow_the_sparse_index(table: CapacityTable) -> None:
    store = TableStore(table)
    person = Person(email="ana@example.com", status=PersonStatus.ACTIVE)
    store.create_person(person)  # profile + index entry + member item
    assert table.counters.index_write_units == 1
    assert table.counters.write_units == 3
    store.update_person(person.model_copy(update={"team": "core"}))  # same index key
    assert table.counters.index_write_units == 1
    store.update_person(person.model_copy(update={"status": PersonStatus.OPTED_OUT}))
    assert table.counters.index_write_units == 2  # leaves the index: one delete
    store.update_person(person)
    assert table.counters.index_write_units == 3  # back in: one put


def test_reads_round_up_per_request(table: CapacityTable) -> None:
    assert table.get("P", "missing") is None
    assert table.counters.read_units == 1  # strongly consistent, even for nothing
    for n in range(5):
        table.put({"pk": "P", "sk": f"E#{n}", "blob": "x" * 990})  # 1,002 bytes each
    table.reset()
    assert len(list(table.query("P", "E#"))) == 5
    assert table.counters.read_units == 2  # 5,010 bytes in one request: two 4 KB units
    for n in range(30):
        table.put({"pk": "Q", "sk": f"{n:03d}", "blob": "y" * 99_990})  # 100,002 bytes
    table.reset()
    assert len(list(table.query("Q"))) == 30
    # pages of at most 1 MB (1,048,576 bytes): 10 items (1,000,020 bytes) a page
    assert table.counters.by_operation["Query"].calls == 3
    assert table.counters.read_units == 3 * 245  # ceil(1,000,020 / 4,096) a page


def test_the_index_is_read_eventually_consistent(table: CapacityTable) -> None:
    store = TableStore(table)
    for n in range(3):
        store.create_person(Person(email=f"p{n}@example.com"))
    table.reset()
    assert len(list(store.scannable_people())) == 3
    # keys only: 3 entries of 64 bytes, one 4 KB unit read eventually consistent: half
    assert table.counters.read_units == 0.5


def test_batch_writes_are_priced_item_by_item(table: CapacityTable) -> None:
    items = [{"pk": "P", "sk": f"{n:02d}", "blob": "x" * 1100} for n in range(30)]
    table.batch_put(items + items[:1])  # a repeated key is sent once
    assert table.counters.by_operation["BatchWriteItem"].calls == 2  # 25 + 5
    assert table.counters.write_units == 30 * 2
    table.batch_delete([("P", f"{n:02d}") for n in range(30)])
    assert table.counters.write_units == 30 * 2 + 30 * 2
    assert table.stored_bytes() == 0


def test_index_specs_come_from_the_template() -> None:
    (index,) = indexes_from_template()
    assert index == IndexSpec(
        name="scannable", partition_key="scan_pk", sort_key="scan_sk", projection="KEYS_ONLY"
    )
