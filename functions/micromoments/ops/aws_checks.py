"""The doctor's checks of the AWS resources: the table, the org settings, the queues and
their dead-letter queues, the schedules, the SES identity, the signing key, and the HTTP
API (health route, throttling)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from micromoments.adapters.table import (
    PK,
    SCAN_INDEX,
    SCAN_INDEX_PK,
    SCAN_INDEX_SK,
    SK,
    TTL_ATTRIBUTE,
)
from micromoments.ops.check_results import Check, Status, describe_error, error_code, fail, ok, skip
from micromoments.ports import Store

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_scheduler import EventBridgeSchedulerClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sesv2 import SESV2Client
    from mypy_boto3_sqs import SQSClient

_MISSING_QUEUE = frozenset({"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"})


# -- the table ---------------------------------------------------------------------------


def check_table(dynamodb: DynamoDBClient, name: str) -> list[Check]:
    """The table is ACTIVE with the keys and index the code relies on, TTL on
    ``expires_at`` and point-in-time recovery on (as template.yaml defines it)."""
    try:
        table = dynamodb.describe_table(TableName=name)["Table"]
    except Exception as exc:
        if error_code(exc) == "ResourceNotFoundException":
            reason = f"{name} does not exist: deploy the stack, or run `micromoments init`"
        else:
            reason = f"{name}: {describe_error(exc)}"
        why = "no table to look at"
        return [fail("table", reason), skip("table ttl", why), skip("point-in-time recovery", why)]
    return [_table_shape(name, table), _table_ttl(dynamodb, name), _table_pitr(dynamodb, name)]


def _keys(schema: Any) -> dict[str, str]:
    return {str(k.get("KeyType")): str(k.get("AttributeName")) for k in schema or ()}


def _table_shape(name: str, table: Mapping[str, Any]) -> Check:
    status = table.get("TableStatus")
    if status != "ACTIVE":
        return fail("table", f"{name} is {status}, not ACTIVE")
    if _keys(table.get("KeySchema")) != {"HASH": PK, "RANGE": SK}:
        return fail("table", f"{name} is not keyed {PK}/{SK}: is it micromoments' table?")
    indexes = {i.get("IndexName"): i for i in table.get("GlobalSecondaryIndexes") or ()}
    index = indexes.get(SCAN_INDEX)
    if index is None:
        return fail("table", f"{name} has no `{SCAN_INDEX}` index")
    if _keys(index.get("KeySchema")) != {"HASH": SCAN_INDEX_PK, "RANGE": SCAN_INDEX_SK}:
        return fail(
            "table", f"the `{SCAN_INDEX}` index is not keyed {SCAN_INDEX_PK}/{SCAN_INDEX_SK}"
        )
    index_status = index.get("IndexStatus", "ACTIVE")
    if index_status != "ACTIVE":
        return fail("table", f"the `{SCAN_INDEX}` index is {index_status}, not ACTIVE")
    return ok("table", f"{name} is ACTIVE, keyed {PK}/{SK}, with the `{SCAN_INDEX}` index")


def _table_ttl(dynamodb: DynamoDBClient, name: str) -> Check:
    try:
        ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    except Exception as exc:
        return fail("table ttl", describe_error(exc))
    status, attribute = ttl.get("TimeToLiveStatus"), ttl.get("AttributeName")
    if status not in ("ENABLED", "ENABLING") or attribute != TTL_ATTRIBUTE:
        return fail(
            "table ttl",
            f"TTL is {status or 'DISABLED'} on {attribute or 'no attribute'}; "
            f"expected ENABLED on `{TTL_ATTRIBUTE}` (sign-in tokens and old data expire by it)",
        )
    return ok("table ttl", f"{status} on `{attribute}`")


def _table_pitr(dynamodb: DynamoDBClient, name: str) -> Check:
    try:
        backups = dynamodb.describe_continuous_backups(TableName=name)
    except Exception as exc:
        return fail("point-in-time recovery", describe_error(exc))
    description = backups["ContinuousBackupsDescription"]
    pitr = description.get("PointInTimeRecoveryDescription") or {}
    status = pitr.get("PointInTimeRecoveryStatus", "DISABLED")
    if status != "ENABLED":
        return fail("point-in-time recovery", f"{status}; template.yaml turns it on")
    return ok("point-in-time recovery", "ENABLED")


def check_org_settings(store: Store) -> Check:
    settings = store.get_settings()
    if settings is None:
        return fail("org settings", "missing: run `micromoments init`")
    domains = ", ".join(settings.allowed_domains) or "none yet (no one can opt in)"
    paused = "; PAUSED: no calendar writes" if settings.paused else ""
    return ok("org settings", f"time zone {settings.timezone}; allowed domains {domains}{paused}")


# -- queues and schedules ----------------------------------------------------------------


def _queue_by_arn(sqs: SQSClient, arn: str) -> tuple[str, dict[str, str]]:
    """The URL and attributes of the queue an ARN names (arn:aws:sqs:region:account:name)."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[2] != "sqs":
        raise ValueError(f"{arn!r} is not an SQS queue ARN")
    url = sqs.get_queue_url(QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    values = {str(k): str(v) for k, v in (attributes.get("Attributes") or {}).items()}
    return url, values


def _dead_letter_check(name: str, sqs: SQSClient, arn: str) -> Check:
    queue = arn.rsplit(":", 1)[-1]
    try:
        _, attributes = _queue_by_arn(sqs, arn)
    except Exception as exc:
        if error_code(exc) in _MISSING_QUEUE:
            return fail(name, f"{queue} does not exist")
        return fail(name, f"{queue}: {describe_error(exc)}")
    waiting = int(attributes.get("ApproximateNumberOfMessages", "0") or 0)
    if waiting:
        return ok(name, f"{queue} exists; {waiting} failed messages to read (deploy.md, redrive)")
    return ok(name, f"{queue} exists and is empty")


def check_queue(sqs: SQSClient, label: str, url: str, setting: str) -> list[Check]:
    """The ``label`` queue (scan, digest) exists, and its redrive policy names a dead-letter
    queue that does. ``setting`` names where its URL comes from, for the failure line."""
    name, dead_name = f"{label} queue", f"{label} dead-letter queue"
    try:
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    except Exception as exc:
        if error_code(exc) in _MISSING_QUEUE:
            reason = f"{url} does not exist: check {setting}"
        else:
            reason = f"{url}: {describe_error(exc)}"
        return [fail(name, reason), skip(dead_name, f"no {label} queue")]
    values = attributes.get("Attributes") or {}
    waiting = values.get("ApproximateNumberOfMessages", "0")
    in_flight = values.get("ApproximateNumberOfMessagesNotVisible", "0")
    queue_name = url.rstrip("/").rsplit("/", 1)[-1]
    queue = ok(name, f"{queue_name} exists; {waiting} waiting, {in_flight} in flight")
    text = values.get("RedrivePolicy")
    if not text:
        return [
            queue,
            fail(dead_name, f"no redrive policy: a failing {label} message would retry forever"),
        ]
    try:
        policy = json.loads(text)
        arn = str(policy["deadLetterTargetArn"])
        receives = policy.get("maxReceiveCount")
    except (ValueError, KeyError, TypeError):
        return [queue, fail(dead_name, f"unreadable redrive policy {text!r}")]
    dead = _dead_letter_check(dead_name, sqs, arn)
    if dead.status is Status.OK:
        dead = ok(dead.name, f"{dead.detail}; after {receives} receives")
    return [queue, dead]


def _schedules(scheduler: EventBridgeSchedulerClient, prefix: str) -> Iterator[Mapping[str, Any]]:
    token: str | None = None
    while True:
        page = (
            scheduler.list_schedules(NamePrefix=prefix, NextToken=token)
            if token
            else scheduler.list_schedules(NamePrefix=prefix)
        )
        yield from page.get("Schedules") or ()
        token = page.get("NextToken")
        if not token:
            return


# The schedules of template.yaml: ``<prefix>-<function>``, each targeting the function of
# the same name; what a disabled one stops.
SCHEDULES = (
    ("dispatch", "no hourly scans are queued"),
    ("pair", "no weekly coffee chats or watercoolers are paired"),
    ("digest", "no weekly emails are queued"),
)
SCHEDULE_DEAD_LETTER = "schedule dead-letter queue"


def check_schedules(
    scheduler: EventBridgeSchedulerClient, sqs: SQSClient, prefix: str
) -> list[Check]:
    """Each schedule of `SCHEDULES` exists as ``<prefix>-<name>``, is enabled and targets
    the function of the same name; then their dead-letter queue (one check: template.yaml
    gives them one): every schedule has one, and it exists."""
    found = {str(s.get("Name")): s for s in _schedules(scheduler, prefix)}
    if not found:
        why = (
            f"no EventBridge Scheduler schedule is named {prefix}*; the local stand-ins have "
            "none of these (deployed, pass --schedule-prefix <stack name>)"
        )
        return [skip(f"{name} schedule", why) for name, _ in SCHEDULES] + [
            skip(SCHEDULE_DEAD_LETTER, "no schedule")
        ]
    checks: list[Check] = []
    dead_letters: set[str] = set()  # the schedules' dead-letter queue ARNs
    without: list[str] = []  # schedules with none
    for name, stops in SCHEDULES:
        expected = f"{prefix}-{name}"
        summary = found.get(expected)
        if summary is None:
            others = ", ".join(sorted(found))
            checks.append(fail(f"{name} schedule", f"no schedule {expected} (found: {others})"))
            continue
        group = str(summary.get("GroupName") or "default")
        schedule = scheduler.get_schedule(Name=expected, GroupName=group)
        checks.append(_schedule_check(f"{name} schedule", expected, schedule, stops))
        target = schedule.get("Target") or {}
        arn = (target.get("DeadLetterConfig") or {}).get("Arn")
        if arn:
            dead_letters.add(str(arn))
        else:
            without.append(expected)
    if without:
        checks.append(fail(SCHEDULE_DEAD_LETTER, f"{', '.join(without)}: no dead-letter queue"))
    elif not dead_letters:
        checks.append(skip(SCHEDULE_DEAD_LETTER, "no schedule"))
    else:
        queues = [_dead_letter_check(SCHEDULE_DEAD_LETTER, sqs, a) for a in sorted(dead_letters)]
        failed = [q for q in queues if q.status is not Status.OK]
        details = "; ".join(q.detail for q in queues)
        checks.append(failed[0] if failed else ok(SCHEDULE_DEAD_LETTER, details))
    return checks


def _schedule_check(name: str, expected: str, schedule: Mapping[str, Any], stops: str) -> Check:
    target = schedule.get("Target") or {}
    arn = str(target.get("Arn", ""))
    parts = arn.split(":")
    function = parts[6] if len(parts) > 6 and parts[2] == "lambda" else None
    if schedule.get("State") != "ENABLED":
        return fail(name, f"{expected} is {schedule.get('State')}: {stops}")
    if function != expected:
        return fail(name, f"{expected} targets {arn or 'nothing'}, not the function {expected}")
    when = schedule.get("ScheduleExpression", "?")
    zone = schedule.get("ScheduleExpressionTimezone", "UTC")
    return ok(name, f"{expected} is ENABLED, {when} ({zone}), targets {function}")


# -- email and secrets -------------------------------------------------------------------


def check_sender_identity(sesv2: SESV2Client, address: str) -> Check:
    """The sender address, or its domain, is an SES identity verified for sending."""
    name = "SES identity"
    domain = address.rpartition("@")[2].lower()
    for identity in dict.fromkeys((address, domain)):
        try:
            found = sesv2.get_email_identity(EmailIdentity=identity)
        except Exception as exc:
            if error_code(exc) == "NotFoundException":
                continue
            return fail(name, f"{identity}: {describe_error(exc)}")
        status = found.get("VerificationStatus")
        if found.get("VerifiedForSendingStatus") or status == "SUCCESS":
            return ok(name, f"{identity} is verified for sending {address}")
        return fail(
            name,
            f"{identity} is not verified yet ({status or 'PENDING'}): publish its DKIM "
            "CNAME records (deploy.md step 2)",
        )
    return fail(name, f"neither {address} nor {domain} is an SES identity (deploy.md step 2)")


def check_signing_key(secrets: SecretsManagerClient, secret_id: str) -> Check:
    from micromoments.adapters.secrets import read_master_key

    key = read_master_key(secret_id, client=secrets)
    return ok("signing key", f"{secret_id} is readable ({len(key)} bytes)")


# -- Google ------------------------------------------------------------------------------


def http_status(url: str, timeout: float = 10) -> int:
    """GET ``url``; its HTTP status (an error status too)."""
    import urllib.error
    import urllib.request

    if not url.startswith(("https://", "http://")):
        raise ValueError(f"{url!r} is not an http(s) URL")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def check_health(fetch: Callable[[str], int], site_url: str) -> Check:
    url = site_url.rstrip("/") + "/health"
    status = fetch(url)
    if status == 200:
        return ok("health route", f"GET {url} answered 200")
    return fail("health route", f"GET {url} answered {status}, not 200")


def check_api_throttling(apigatewayv2: Any, api_id: str) -> Check:
    stage = apigatewayv2.get_stage(ApiId=api_id, StageName="$default")
    route = stage.get("DefaultRouteSettings") or {}
    burst, rate = route.get("ThrottlingBurstLimit"), route.get("ThrottlingRateLimit")
    if not burst or not rate:
        return fail(
            "API throttling",
            f"the $default stage of {api_id} has no default throttling (burst {burst}, "
            f"rate {rate}): one caller could run up the functions' concurrency",
        )
    return ok("API throttling", f"$default stage of {api_id}: burst {burst}, rate {rate}/s")
