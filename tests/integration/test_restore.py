"""infra/restore.py against moto: a point-in-time restore into the stack's own table.

moto's RestoreTableToPointInTime copies the table as it is now (it keeps no history), so
the tests stand in for that one call: the scratch table gets the items the table held at
the chosen time. Everything else (stack outputs, the table, the functions' concurrency)
is moto's.
"""

from __future__ import annotations

import importlib.util
import io
import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from micromoments.adapters.dynamo import create_table

ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"
STACK = "moments-prod"
TABLE = "moments-prod-Table-ABC123"
FUNCTIONS = {
    "DispatchFunctionName": "moments-prod-dispatch",
    "ScanFunctionName": "moments-prod-scan",
    "PairFunctionName": "moments-prod-pair",
    "DigestDispatchFunctionName": "moments-prod-digest",
    "DigestSendFunctionName": "moments-prod-digest-send",
    "WebFunctionName": "moments-prod-web",
}
THEN = [  # the table at the time to restore
    {"pk": {"S": "PERSON#a"}, "sk": {"S": "PROFILE"}, "status": {"S": "active"}},
    {"pk": {"S": "PERSON#b"}, "sk": {"S": "PROFILE"}, "status": {"S": "active"}},
]
NOW = [  # after a bad change: b opted out by mistake, c appeared
    {"pk": {"S": "PERSON#a"}, "sk": {"S": "PROFILE"}, "status": {"S": "active"}},
    {"pk": {"S": "PERSON#b"}, "sk": {"S": "PROFILE"}, "status": {"S": "opted_out"}},
    {"pk": {"S": "PERSON#c"}, "sk": {"S": "PROFILE"}, "status": {"S": "active"}},
]


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("restore", ROOT / "infra" / "restore.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


restore_script = load_script()


class PointInTime:
    """A session whose DynamoDB client restores `THEN` (moto keeps no history)."""

    def __init__(self, session: boto3.session.Session) -> None:
        self.session = session
        self.paused_during_restore: list[int | None] = []

    def client(self, name: str) -> Any:
        client = self.session.client(name)
        if name != "dynamodb":
            return client
        outer = self

        class Client:
            def __getattr__(self, attribute: str) -> Any:
                return getattr(client, attribute)

            def restore_table_to_point_in_time(self, **kwargs: Any) -> None:
                functions = outer.session.client("lambda")
                outer.paused_during_restore = [
                    functions.get_function_concurrency(FunctionName=f).get(
                        "ReservedConcurrentExecutions"
                    )
                    for f in FUNCTIONS.values()
                ]
                create_table(client, kwargs["TargetTableName"])
                for item in THEN:
                    client.put_item(TableName=kwargs["TargetTableName"], Item=item)

        return Client()


@pytest.fixture
def stack() -> Iterator[boto3.session.Session]:
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        dynamodb = session.client("dynamodb")
        create_table(dynamodb, TABLE)
        for item in NOW:
            dynamodb.put_item(TableName=TABLE, Item=item)
        role = session.client("iam").create_role(
            RoleName="fn",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("handler.py", "def handler(event, context):\n    return None\n")
        for name in FUNCTIONS.values():
            session.client("lambda").create_function(
                FunctionName=name,
                Runtime="python3.12",
                Role=role,
                Handler="handler.handler",
                Code={"ZipFile": code.getvalue()},
            )
        outputs = {"TableName": TABLE, **FUNCTIONS}
        template = {
            "Resources": {"Placeholder": {"Type": "AWS::SQS::Queue"}},
            "Outputs": {key: {"Value": value} for key, value in outputs.items()},
        }
        session.client("cloudformation").create_stack(
            StackName=STACK, TemplateBody=json.dumps(template)
        )
        yield session


def table_items(session: boto3.session.Session, table: str) -> list[dict[str, Any]]:
    found = session.client("dynamodb").scan(TableName=table)["Items"]
    return sorted(found, key=lambda item: item["pk"]["S"])


def concurrency(session: boto3.session.Session) -> list[int | None]:
    functions = session.client("lambda")
    return [
        functions.get_function_concurrency(FunctionName=f).get("ReservedConcurrentExecutions")
        for f in FUNCTIONS.values()
    ]


def a_restorable_time(session: boto3.session.Session) -> datetime:
    backups = session.client("dynamodb").describe_continuous_backups(TableName=TABLE)
    pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    latest: datetime = pitr["LatestRestorableDateTime"]
    return latest.astimezone(UTC)


def test_restore_puts_the_stacks_own_table_back_with_the_functions_paused(
    stack: boto3.session.Session,
) -> None:
    session = PointInTime(stack)
    when = a_restorable_time(stack)
    done = restore_script.restore(session, STACK, when, apply=True)
    assert table_items(stack, TABLE) == sorted(THEN, key=lambda item: item["pk"]["S"])
    assert session.paused_during_restore == [0] * len(FUNCTIONS)
    assert concurrency(stack) == [None] * len(FUNCTIONS)  # resumed
    # The scratch table is gone; the stack's table is the one that holds the data.
    assert stack.client("dynamodb").list_tables()["TableNames"] == [TABLE]
    assert any("1 deleted" in line for line in done)


def test_without_yes_nothing_changes(stack: boto3.session.Session) -> None:
    when = a_restorable_time(stack)
    lines = restore_script.restore(PointInTime(stack), STACK, when, apply=False)
    assert all(line.startswith("would ") for line in lines)
    assert table_items(stack, TABLE) == sorted(NOW, key=lambda item: item["pk"]["S"])
    assert concurrency(stack) == [None] * len(FUNCTIONS)


def test_a_time_outside_the_window_is_refused_before_anything_changes(
    stack: boto3.session.Session,
) -> None:
    later = a_restorable_time(stack) + timedelta(days=2)
    with pytest.raises(restore_script.RestoreError, match="outside"):
        restore_script.restore(PointInTime(stack), STACK, later, apply=True)
    assert table_items(stack, TABLE) == sorted(NOW, key=lambda item: item["pk"]["S"])
    assert concurrency(stack) == [None] * len(FUNCTIONS)
    assert stack.client("dynamodb").list_tables()["TableNames"] == [TABLE]


@pytest.mark.parametrize("text", ["2026-12-01T09:00:00", "yesterday"])
def test_a_time_without_a_zone_or_not_a_time_is_refused(text: str) -> None:
    with pytest.raises(restore_script.RestoreError, match="--to"):
        restore_script.parse_time(text)
    assert restore_script.parse_time("2026-12-01T09:00:00Z") == datetime(2026, 12, 1, 9, tzinfo=UTC)


def test_an_unknown_stack_is_refused(stack: boto3.session.Session) -> None:
    with pytest.raises(restore_script.RestoreError, match="no stack"):
        restore_script.restore(
            PointInTime(stack), "nope", datetime(2026, 12, 1, tzinfo=UTC), apply=True
        )
