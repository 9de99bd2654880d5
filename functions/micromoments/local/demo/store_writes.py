"""Counting the Store's writes: every DynamoDB write sent through one client, by item type."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from botocore.model import OperationModel
    from mypy_boto3_dynamodb import DynamoDBClient

_WRITE_OPERATIONS = frozenset(
    {"PutItem", "DeleteItem", "UpdateItem", "BatchWriteItem", "TransactWriteItems"}
)


def _sort_key(key: Any) -> str:
    value = key.get("sk", {}) if isinstance(key, dict) else {}
    return str(value.get("S", "")) if isinstance(value, dict) else ""


def _partition_key(key: Any) -> str:
    value = key.get("pk", {}) if isinstance(key, dict) else {}
    return str(value.get("S", "")) if isinstance(value, dict) else ""


class StoreWrites:
    """Every DynamoDB write sent through one client, counted by item type (the sort key up
    to its first ``#``: LEASE, EVENT, LOAD, HOLD, JOURNAL, SYNC, …). A released lease
    (its delete) names a person whose scan ran."""

    def __init__(self, client: DynamoDBClient) -> None:
        self._events = client.meta.events
        self._lock = threading.Lock()
        self._id = f"micromoments-demo-{uuid.uuid4().hex}"
        self.by_type: Counter[str] = Counter()
        self.leases_released: set[str] = set()
        self._events.register("before-parameter-build.dynamodb", self._observe, unique_id=self._id)

    def close(self) -> None:
        self._events.unregister("before-parameter-build.dynamodb", unique_id=self._id)

    def reset(self) -> None:
        with self._lock:
            self.by_type.clear()
            self.leases_released.clear()

    def _observe(self, params: dict[str, Any], model: OperationModel, **_: Any) -> None:
        operation = model.name
        if operation not in _WRITE_OPERATIONS:
            return
        keys: list[tuple[str, Any]] = []  # (put | delete | update, key or item)
        if operation == "PutItem":
            keys.append(("put", params.get("Item")))
        elif operation == "DeleteItem":
            keys.append(("delete", params.get("Key")))
        elif operation == "UpdateItem":
            keys.append(("update", params.get("Key")))
        elif operation == "BatchWriteItem":
            for requests in params.get("RequestItems", {}).values():
                for request in requests:
                    if "PutRequest" in request:
                        keys.append(("put", request["PutRequest"].get("Item")))
                    elif "DeleteRequest" in request:
                        keys.append(("delete", request["DeleteRequest"].get("Key")))
        else:
            for request in params.get("TransactItems", []):
                for name, body in request.items():
                    if name == "Put":
                        keys.append(("put", body.get("Item")))
                    elif name in ("Delete", "Update"):
                        keys.append((name.lower(), body.get("Key")))
        with self._lock:
            for kind, key in keys:
                sort_key = _sort_key(key)
                self.by_type[sort_key.split("#", 1)[0] or "?"] += 1
                if kind == "delete" and sort_key == "LEASE":
                    self.leases_released.add(_partition_key(key).removeprefix("PERSON#"))
