#!/usr/bin/env python3
"""Restore a micromoments stack's table to a point in time, in place.

    python infra/restore.py --stack micromoments-prod --to 2026-12-01T09:00:00Z
    python infra/restore.py --stack micromoments-prod --to 2026-12-01T09:00:00Z --yes

NEEDS A REAL AWS ACCOUNT (credentials allowed to read the stack, restore and write the
table, and change the functions' concurrency); tests/integration/test_restore.py runs it
against moto. Without --yes it only says what it would do.

DynamoDB restores a point in time only into a NEW table, and the stack's table keeps its
name, its ARN, its deletion protection and its place in the stack (the roles name it). So:

1. pause the stack's functions (reserved concurrency 0: the schedules' and queues'
   invocations are throttled and retried, the site answers 5xx);
2. restore the point in time into a scratch table, <table>-restore-<time>;
3. make the stack's table hold exactly the scratch table's items (delete the items the
   scratch table lacks, put every item it has);
4. delete the scratch table (--keep-copy keeps it), and resume the functions.

The secrets are not touched: the signing key and the Google credentials are what they
were, so sessions, unsubscribe links and pairing pseudonyms stay valid. If a step fails
the functions stay paused and the script says how to resume them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3

FUNCTION_OUTPUTS = (
    "DispatchFunctionName",
    "ScanFunctionName",
    "PairFunctionName",
    "DigestDispatchFunctionName",
    "DigestSendFunctionName",
    "WebFunctionName",
)


class RestoreError(Exception):
    """Refused before anything changed, or failed on the way (the message says which)."""


def stack_outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    try:
        [described] = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except cloudformation.exceptions.ClientError as exc:
        raise RestoreError(f"no stack {stack!r} here: {exc}") from None
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def parse_time(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise RestoreError(f"--to {text!r} is not an ISO 8601 time") from None
    if when.tzinfo is None:
        raise RestoreError(f"--to {text!r} has no time zone; add Z for UTC")
    return when.astimezone(UTC)


def check_window(dynamodb: Any, table: str, when: datetime) -> None:
    backups = dynamodb.describe_continuous_backups(TableName=table)
    pitr = backups["ContinuousBackupsDescription"].get("PointInTimeRecoveryDescription", {})
    if pitr.get("PointInTimeRecoveryStatus") != "ENABLED":
        raise RestoreError(f"point-in-time recovery is not enabled on {table}")
    earliest = pitr.get("EarliestRestorableDateTime")
    latest = pitr.get("LatestRestorableDateTime")
    if (earliest and when < earliest) or (latest and when > latest):
        raise RestoreError(
            f"{when.isoformat()} is outside {table}'s restorable window "
            f"({earliest.isoformat() if earliest else '?'} to "
            f"{latest.isoformat() if latest else '?'})"
        )


def key_names(dynamodb: Any, table: str) -> list[str]:
    schema = dynamodb.describe_table(TableName=table)["Table"]["KeySchema"]
    return [k["AttributeName"] for k in schema]


def items(dynamodb: Any, table: str) -> Iterator[dict[str, Any]]:
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        yield from page["Items"]


def _write(dynamodb: Any, table: str, requests: list[dict[str, Any]]) -> None:
    """BatchWriteItem in 25s, resending what DynamoDB leaves unprocessed."""
    for start in range(0, len(requests), 25):
        pending: dict[str, Any] = {table: requests[start : start + 25]}
        while pending.get(table):
            answer = dynamodb.batch_write_item(RequestItems=pending)
            pending = answer.get("UnprocessedItems") or {}


def sync_items(dynamodb: Any, source: str, target: str) -> tuple[int, int]:
    """Make `target` hold exactly `source`'s items; (items put, items deleted)."""
    keys = key_names(dynamodb, target)
    wanted = list(items(dynamodb, source))
    wanted_keys = {tuple(repr(i[k]) for k in keys) for i in wanted}
    extra = [
        {k: i[k] for k in keys}
        for i in items(dynamodb, target)
        if tuple(repr(i[k]) for k in keys) not in wanted_keys
    ]
    _write(dynamodb, target, [{"DeleteRequest": {"Key": key}} for key in extra])
    _write(dynamodb, target, [{"PutRequest": {"Item": item}} for item in wanted])
    return len(wanted), len(extra)


def pause(lambda_client: Any, functions: list[str]) -> None:
    for name in functions:
        lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)


def resume(lambda_client: Any, functions: list[str]) -> None:
    for name in functions:
        lambda_client.delete_function_concurrency(FunctionName=name)


def restore(
    session: Any, stack: str, when: datetime, *, apply: bool, keep_copy: bool = False
) -> list[str]:
    """Restore `stack`'s table to `when`; the lines of what was (or would be) done."""
    dynamodb = session.client("dynamodb")
    lambda_client = session.client("lambda")
    outputs = stack_outputs(session.client("cloudformation"), stack)
    table = outputs.get("TableName")
    missing = [name for name in ("TableName", *FUNCTION_OUTPUTS) if name not in outputs]
    if missing or not table:
        raise RestoreError(f"stack {stack} has no output {', '.join(missing)}")
    functions = [outputs[name] for name in FUNCTION_OUTPUTS]
    check_window(dynamodb, table, when)
    scratch = f"{table}-restore-{when.strftime('%Y%m%dT%H%M%SZ')}"
    plan = [
        f"pause {', '.join(functions)} (reserved concurrency 0)",
        f"restore {table} as of {when.isoformat()} into {scratch}",
        f"make {table} hold exactly {scratch}'s items",
        f"keep {scratch}" if keep_copy else f"delete {scratch}",
        f"resume {', '.join(functions)}",
    ]
    if not apply:
        return ["would " + line for line in plan]
    done: list[str] = []
    pause(lambda_client, functions)
    done.append(plan[0])
    try:
        dynamodb.restore_table_to_point_in_time(
            SourceTableName=table,
            TargetTableName=scratch,
            RestoreDateTime=when,
            BillingModeOverride="PAY_PER_REQUEST",
        )
        dynamodb.get_waiter("table_exists").wait(
            TableName=scratch, WaiterConfig={"Delay": 10, "MaxAttempts": 360}
        )
        done.append(plan[1])
        put, deleted = sync_items(dynamodb, scratch, table)
        done.append(f"{plan[2]}: {put} put, {deleted} deleted")
        if not keep_copy:
            dynamodb.delete_table(TableName=scratch)
        done.append(plan[3])
    except Exception as exc:
        resume_command = " && ".join(
            f"aws lambda delete-function-concurrency --function-name {f}" for f in functions
        )
        raise RestoreError(
            f"{type(exc).__name__}: {exc}\ndone so far: {'; '.join(done)}\n"
            f"the functions stay paused; once {table} is right, resume them: {resume_command}"
        ) from None
    resume(lambda_client, functions)
    done.append(plan[4])
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", required=True, help="the stack's name")
    parser.add_argument("--to", required=True, help="the time to restore, e.g. 2026-12-01T09:00Z")
    parser.add_argument("--region", help="the stack's region (default: your profile's)")
    parser.add_argument("--keep-copy", action="store_true", help="keep the scratch table")
    parser.add_argument("--yes", action="store_true", help="do it (without: only say what)")
    args = parser.parse_args(argv)
    try:
        session = boto3.session.Session(region_name=args.region)
        lines = restore(
            session, args.stack, parse_time(args.to), apply=args.yes, keep_copy=args.keep_copy
        )
    except RestoreError as exc:
        print(f"restore: {exc}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
