"""The single-table layout and the Store built on it, shared by every table backend.

`TableStore` implements the `Store` port once, on a small `Table` protocol (get, put,
delete, query, batch writes, conditions). `adapters.dynamo.DynamoTable` is DynamoDB;
`adapters.memory.MemoryTable` is an in-memory table with the same semantics for unit
tests. Items are plain Python values (str, int, bool, None, list, dict); numbers are
whole. The key design is documented in docs/decisions.md ("Single-table keys").
"""

from micromoments.adapters.table.access import AccessRecords
from micromoments.adapters.table.calendar_state import CalendarRecords
from micromoments.adapters.table.grants import GrantRecords
from micromoments.adapters.table.items import (
    hold_to_item,
    item_to_hold,
    item_to_load,
    item_to_mirror,
    item_to_person,
    load_to_item,
    mirror_to_item,
    person_to_item,
    pointer_targets,
)
from micromoments.adapters.table.layout import (
    JOURNAL_RETENTION,
    ORG_PK,
    PAST_DAYS_RETENTION,
    PK,
    POINTER_KINDS,
    SCAN_INDEX,
    SCAN_INDEX_PK,
    SCAN_INDEX_SK,
    SCAN_PARTITION,
    SCANNABLE,
    SIGN_IN_SK,
    SK,
    TTL_ATTRIBUTE,
    Cond,
    ConditionFailed,
    CondKind,
    Item,
    Table,
    exists,
    not_exists,
    person_pk,
)
from micromoments.adapters.table.pairing import ROUND_PART_GROUPS, PairingRecords
from micromoments.adapters.table.people import PeopleRecords
from micromoments.adapters.table.push import PushRecords


class TableStore(
    PeopleRecords, CalendarRecords, PairingRecords, PushRecords, AccessRecords, GrantRecords
):
    """The `Store` port on any `Table` backend."""


__all__ = [
    "JOURNAL_RETENTION",
    "ORG_PK",
    "PAST_DAYS_RETENTION",
    "PK",
    "POINTER_KINDS",
    "ROUND_PART_GROUPS",
    "SCANNABLE",
    "SCAN_INDEX",
    "SCAN_INDEX_PK",
    "SCAN_INDEX_SK",
    "SCAN_PARTITION",
    "SIGN_IN_SK",
    "SK",
    "TTL_ATTRIBUTE",
    "Cond",
    "CondKind",
    "ConditionFailed",
    "Item",
    "Table",
    "TableStore",
    "exists",
    "hold_to_item",
    "item_to_hold",
    "item_to_load",
    "item_to_mirror",
    "item_to_person",
    "load_to_item",
    "mirror_to_item",
    "not_exists",
    "person_pk",
    "person_to_item",
    "pointer_targets",
]
