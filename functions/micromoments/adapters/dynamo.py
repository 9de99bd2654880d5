"""The DynamoDB table: the `Table` protocol over a boto3 DynamoDB client.

`DynamoTable` speaks the low-level client API (typed attribute values through boto3's
serializers; numbers come back as ``int``), reads strongly consistent, turns every `Cond`
into a ConditionExpression and chunks batch writes at 25 with bounded, jittered retries of
unprocessed items. `dynamo_store` wraps it in the shared `TableStore`. Every failure of
botocore becomes a `StoreError` with one clear line.

The table's definition lives once, in the ``Table`` resource of template.yaml:
`table_definition` (in `adapters.dynamo_template`) reads it and `create_table` creates the
same table for ``micromoments init``, local runs and tests (STYLE.md 9), so tests and
infrastructure cannot drift.
"""

from __future__ import annotations

import random as _random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    NoCredentialsError,
    NoRegionError,
    WaiterError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from micromoments.adapters.dynamo_template import (
    PITR_KEY,
    TEMPLATE_ENV,
    TTL_KEY,
    default_template_path,
    table_definition,
)
from micromoments.adapters.table import (
    PK,
    SCAN_INDEX,
    SCAN_INDEX_PK,
    SK,
    Cond,
    ConditionFailed,
    CondKind,
    Item,
    TableStore,
)
from micromoments.ports import StoreError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = [
    "BATCH_WRITE_LIMIT",
    "PITR_KEY",
    "TEMPLATE_ENV",
    "TTL_KEY",
    "DynamoTable",
    "chunked",
    "create_table",
    "default_template_path",
    "dynamo_client",
    "dynamo_store",
    "table_definition",
]

_T = TypeVar("_T")

BATCH_WRITE_LIMIT = 25  # items per BatchWriteItem (STYLE.md 8)

_CONDITION_FAILED = "ConditionalCheckFailedException"
_MISSING_CREDENTIALS = (
    "no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
)

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def chunked(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    """Consecutive slices of at most ``size`` items (an API limit per call)."""
    if size < 1:
        raise ValueError("size must be at least 1")
    for start in range(0, len(items), size):
        yield items[start : start + size]


# -- values ------------------------------------------------------------------------------


def _to_attributes(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in item.items()}


def _from_attributes(attributes: Mapping[str, Any]) -> Item:
    return {name: _plain(_deserializer.deserialize(value)) for name, value in attributes.items()}


def _plain(value: Any) -> Any:
    """Decimals as int (items hold whole numbers), recursively through lists and maps."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, set):
        return {_plain(v) for v in value}
    return value


def _condition_kwargs(condition: Cond | None) -> dict[str, Any]:
    """ConditionExpression with its names and values; {} without a condition."""
    if condition is None:
        return {}
    kind = condition.kind
    # (not) exists is about the item, as in MemoryTable: the key is always present
    if kind is CondKind.NOT_EXISTS:
        return {
            "ConditionExpression": "attribute_not_exists(#a)",
            "ExpressionAttributeNames": {"#a": PK},
        }
    if kind is CondKind.EXISTS:
        return {
            "ConditionExpression": "attribute_exists(#a)",
            "ExpressionAttributeNames": {"#a": PK},
        }
    if kind is CondKind.MATCHES:
        pairs = sorted(condition.value.items())
        return {
            "ConditionExpression": " AND ".join(f"#a{i} = :v{i}" for i in range(len(pairs))),
            "ExpressionAttributeNames": {f"#a{i}": name for i, (name, _) in enumerate(pairs)},
            "ExpressionAttributeValues": {
                f":v{i}": _serializer.serialize(value) for i, (_, value) in enumerate(pairs)
            },
        }
    names = {"#a": condition.attribute}
    values = {":v": _serializer.serialize(condition.value)}
    if kind is CondKind.EQUALS:
        expression = "#a = :v"
    elif kind is CondKind.NOT_EXISTS_OR_BEFORE:
        expression = "attribute_not_exists(#a) OR #a < :v"
    else:  # pragma: no cover - a new CondKind must be taught here
        raise AssertionError(kind)
    return {
        "ConditionExpression": expression,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


# -- errors ------------------------------------------------------------------------------


def _endpoint(client: DynamoDBClient) -> str:
    return str(client.meta.endpoint_url)


def _store_error(exc: Exception, client: DynamoDBClient, table: str, operation: str) -> StoreError:
    """One clear line for a botocore failure (conditional failures are handled apart)."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        message = str(error.get("Message", "")).strip() or "no message"
        if code == "ResourceNotFoundException":
            return StoreError(f"table {table!r} does not exist: run `micromoments init`")
        return StoreError(f"DynamoDB {exc.operation_name or operation} failed: {code}: {message}")
    if isinstance(exc, NoCredentialsError):
        return StoreError(_MISSING_CREDENTIALS)
    if isinstance(exc, (BotoConnectionError, HTTPClientError, ConnectionError)):
        return StoreError(f"cannot reach DynamoDB at {_endpoint(client)}")
    return StoreError(f"DynamoDB {operation} failed: {type(exc).__name__}: {exc}")


@contextmanager
def _translated(client: DynamoDBClient, table: str, operation: str) -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == _CONDITION_FAILED:
            raise ConditionFailed(f"DynamoDB {operation}: the condition failed") from None
        raise _store_error(exc, client, table, operation) from exc
    except (BotoCoreError, ConnectionError) as exc:
        raise _store_error(exc, client, table, operation) from exc


# -- the table ---------------------------------------------------------------------------


class DynamoTable:
    """The `Table` protocol over one DynamoDB table.

    ``sleep`` and ``random`` (a source of floats in [0, 1)) pace the retries of unprocessed
    batch items: exponential backoff with full jitter, ``max_attempts`` calls per chunk at
    most, waits of ``backoff_base * 2**n`` seconds capped at ``backoff_cap``. ``page_size``
    caps the items of one Query page (DynamoDB's 1 MB pages otherwise).
    """

    def __init__(
        self,
        client: DynamoDBClient,
        name: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = _random.random,
        max_attempts: int = 8,
        backoff_base: float = 0.05,
        backoff_cap: float = 2.0,
        page_size: int | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.client = client
        self.name = name
        self._sleep = sleep
        self._random = random
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.page_size = page_size

    def _errors(self, operation: str) -> AbstractContextManager[None]:
        return _translated(self.client, self.name, operation)

    def _key(self, pk: str, sk: str) -> dict[str, Any]:
        return {PK: {"S": pk}, SK: {"S": sk}}

    def get(self, pk: str, sk: str) -> Item | None:
        with self._errors("GetItem"):
            response = self.client.get_item(
                TableName=self.name, Key=self._key(pk, sk), ConsistentRead=True
            )
        found = response.get("Item")
        return None if found is None else _from_attributes(found)

    def put(self, item: Item, *, condition: Cond | None = None) -> None:
        with self._errors("PutItem"):
            self.client.put_item(
                TableName=self.name, Item=_to_attributes(item), **_condition_kwargs(condition)
            )

    def delete(self, pk: str, sk: str, *, condition: Cond | None = None) -> None:
        with self._errors("DeleteItem"):
            self.client.delete_item(
                TableName=self.name, Key=self._key(pk, sk), **_condition_kwargs(condition)
            )

    def query(self, pk: str, sk_prefix: str = "") -> Iterator[Item]:
        expression = "#pk = :pk"
        names = {"#pk": PK}
        values: dict[str, Any] = {":pk": {"S": pk}}
        if sk_prefix:
            expression += " AND begins_with(#sk, :prefix)"
            names["#sk"] = SK
            values[":prefix"] = {"S": sk_prefix}
        yield from self._pages(
            KeyConditionExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ConsistentRead=True,
        )

    def query_range(self, pk: str, first_sk: str, last_sk: str) -> Iterator[Item]:
        yield from self._pages(
            KeyConditionExpression="#pk = :pk AND #sk BETWEEN :first AND :last",
            ExpressionAttributeNames={"#pk": PK, "#sk": SK},
            ExpressionAttributeValues={
                ":pk": {"S": pk},
                ":first": {"S": first_sk},
                ":last": {"S": last_sk},
            },
            ConsistentRead=False,
        )

    def query_index(self, partition: str) -> Iterator[Item]:
        # a global secondary index is read eventually consistent (nothing else is offered)
        yield from self._pages(
            IndexName=SCAN_INDEX,
            KeyConditionExpression="#ipk = :partition",
            ExpressionAttributeNames={"#ipk": SCAN_INDEX_PK},
            ExpressionAttributeValues={":partition": {"S": partition}},
        )

    def _pages(self, **request: Any) -> Iterator[Item]:
        request["TableName"] = self.name
        if self.page_size is not None:
            request["Limit"] = self.page_size
        while True:
            with self._errors("Query"):
                page = self.client.query(**request)
            for found in page.get("Items", []):
                yield _from_attributes(found)
            last = page.get("LastEvaluatedKey")
            if not last:
                return
            request["ExclusiveStartKey"] = last

    def batch_put(self, items: Sequence[Item]) -> None:
        # one batch must not name a key twice: the last write of a key wins, as in sequence
        latest = {(item[PK], item[SK]): item for item in items}
        self._batch_write([{"PutRequest": {"Item": _to_attributes(i)}} for i in latest.values()])

    def batch_delete(self, keys: Sequence[tuple[str, str]]) -> None:
        unique = dict.fromkeys(keys)
        self._batch_write([{"DeleteRequest": {"Key": self._key(pk, sk)}} for pk, sk in unique])

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        written = 0
        for chunk in chunked(requests, BATCH_WRITE_LIMIT):
            pending: list[Any] = list(chunk)
            for attempt in range(self.max_attempts):
                if attempt:
                    self._sleep(self._backoff(attempt))
                with self._errors("BatchWriteItem"):
                    response = self.client.batch_write_item(RequestItems={self.name: pending})
                pending = list(response.get("UnprocessedItems", {}).get(self.name, []))
                if not pending:
                    break
            if pending:
                unwritten = len(requests) - written - len(chunk) + len(pending)
                raise StoreError(
                    f"DynamoDB BatchWriteItem left {unwritten} of {len(requests)} items "
                    f"unwritten after {self.max_attempts} attempts (throttled)"
                )
            written += len(chunk)

    def _backoff(self, attempt: int) -> float:
        """Full jitter: a random wait up to base * 2**(attempt - 1), capped."""
        ceiling = min(self.backoff_cap, self.backoff_base * (1 << (attempt - 1)))
        return self._random() * ceiling


def create_table(client: DynamoDBClient, name: str, *, template_path: Path | None = None) -> bool:
    """Create the table as template.yaml defines it; False when it exists already.

    Waits until the table is ACTIVE, then makes sure TTL and point-in-time recovery are
    as the template says (also on an existing table, so an interrupted init completes).
    """
    definition = table_definition(template_path)
    ttl_attribute = definition.pop(TTL_KEY)
    point_in_time_recovery = definition.pop(PITR_KEY)
    created = True
    with _translated(client, name, "CreateTable"):
        try:
            client.create_table(TableName=name, **definition)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceInUseException":
                raise
            created = False  # it exists already (perhaps still being created)
    with _translated(client, name, "DescribeTable"):
        try:
            client.get_waiter("table_exists").wait(
                TableName=name, WaiterConfig={"Delay": 2, "MaxAttempts": 90}
            )
        except WaiterError as exc:
            raise StoreError(f"table {name!r} did not become ACTIVE: {exc}") from None
    if ttl_attribute:
        with _translated(client, name, "DescribeTimeToLive"):
            status = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if status.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            with _translated(client, name, "UpdateTimeToLive"):
                client.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_attribute},
                )
    if point_in_time_recovery:
        with _translated(client, name, "UpdateContinuousBackups"):
            client.update_continuous_backups(
                TableName=name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
    return created


def dynamo_client() -> DynamoDBClient:
    """A DynamoDB client from the standard AWS settings (AWS_DEFAULT_REGION, AWS_ENDPOINT_URL…)."""
    try:
        return boto3.client("dynamodb")
    except NoRegionError:
        raise StoreError(
            "no AWS region: set AWS_DEFAULT_REGION or use a profile with a region"
        ) from None
    except BotoCoreError as exc:
        raise StoreError(f"cannot configure DynamoDB: {exc}") from None


def dynamo_store(table_name: str, *, client: DynamoDBClient | None = None) -> TableStore:
    """The `Store` on the named DynamoDB table."""
    return TableStore(DynamoTable(client or dynamo_client(), table_name))
