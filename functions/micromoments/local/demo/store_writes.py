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


class StoreWrites:
    """Every DynamoDB write sent through one client, counted by item type (the sort key up
    to its first ``#``: LEASE, EVENT, LOAD, HOLD, JOURNAL, SYNC, …)."""

    def __init__(self, client: DynamoDBClient) -> None:
        self._events = client.meta.events
        self._lock = threading.Lock()
        self._id = f"micromoments-demo-{uuid.uuid4().hex}"
        self.by_type: Counter[str] = Counter()
        self._events.register("before-parameter-build.dynamodb", self._observe, unique_id=self._id)

    def close(self) -> None:
        self._events.unregister("before-parameter-build.dynamodb", unique_id=self._id)

    def reset(self) -> None:
        with self._lock:
            self.by_type.clear()

    def _observe(self, params: dict[str, Any], model: OperationModel, **_: Any) -> None:
        operation = model.name
        if operation not in _WRITE_OPERATIONS:
            return
        keys: list[Any] = []  # the key (or the whole item) of each write
        if operation == "PutItem":
            keys.append(params.get("Item"))
        elif operation in ("DeleteItem", "UpdateItem"):
            keys.append(params.get("Key"))
        elif operation == "BatchWriteItem":
            for requests in params.get("RequestItems", {}).values():
                for request in requests:
                    if "PutRequest" in request:
                        keys.append(request["PutRequest"].get("Item"))
                    elif "DeleteRequest" in request:
                        keys.append(request["DeleteRequest"].get("Key"))
        else:
            for request in params.get("TransactItems", []):
                for name, body in request.items():
                    if name == "Put":
                        keys.append(body.get("Item"))
                    elif name in ("Delete", "Update"):
                        keys.append(body.get("Key"))
        with self._lock:
            for key in keys:
                sort_key = _sort_key(key)
                self.by_type[sort_key.split("#", 1)[0] or "?"] += 1
