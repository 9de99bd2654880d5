"""Use case: check a deployment (or the local stand-ins) before trusting it (docs/deploy.md).

Each check is a small function over injected clients that returns one or more `Check`
results: ``ok``, ``fail`` or ``skip`` with one line of detail. `run_doctor` runs them in
order and never raises: whatever goes wrong inside a check (an AWS error, a refused token,
a missing setting) becomes that check's ``fail``. The command prints the results.

What is checked: the table (ACTIVE, keys, the ``scannable`` index, TTL, point-in-time
recovery), the org settings, the scan and digest queues and their dead-letter queues, the
dispatch, pair and digest schedules and their dead-letter queue, the SES identity of the
sender, the signing key, and
Google: which access the Google secret configures (a service-account key, or keyless:
workload identity federation and ``signJwt``), a delegated token for one opted-in person
with exactly the three narrow scopes, then ``settings.get timezone`` as that person through
the gateway. With the stack's outputs (``--stack NAME``): the HTTP API's health route
answers 200 at the site URL, and its ``$default`` stage has default throttling.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from typing import TYPE_CHECKING, Any

from micromoments.adapters.table import (
    PK,
    SCAN_INDEX,
    SCAN_INDEX_PK,
    SCAN_INDEX_SK,
    SK,
    TTL_ATTRIBUTE,
)
from micromoments.config import DEFAULT_CALENDAR_API_URL, Config
from micromoments.domain.people import PersonStatus
from micromoments.ports import CalendarGateway, Store

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_scheduler import EventBridgeSchedulerClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sesv2 import SESV2Client
    from mypy_boto3_sqs import SQSClient

__all__ = [
    "NARROW_SCOPES",
    "Check",
    "Clients",
    "DoctorReport",
    "Status",
    "Target",
    "check_api_throttling",
    "check_calendar_settings",
    "check_delegation",
    "check_google_access",
    "check_health",
    "check_org_settings",
    "check_queue",
    "check_schedules",
    "check_sender_identity",
    "check_signing_key",
    "check_table",
    "pick_subject",
    "run_doctor",
]

# Written out here on purpose, apart from the gateway's SCOPES: if someone broadens what
# the gateway asks for, the doctor says so (DESIGN.md "Google access and its blast radius").
NARROW_SCOPES = frozenset(
    "https://www.googleapis.com/auth/" + name
    for name in ("calendar.events.owned", "calendar.events.freebusy", "calendar.settings.readonly")
)
DEFAULT_SCHEDULE_PREFIX = "micromoments"
_MISSING_QUEUE = frozenset({"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"})


class Status(StrEnum):
    OK = "ok"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: Status
    detail: str

    def line(self) -> str:
        label = "FAIL" if self.status is Status.FAIL else self.status.value
        return f"{label:<4} {self.name}: {self.detail}"

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status.value, "detail": self.detail}


def ok(name: str, detail: str) -> Check:
    return Check(name, Status.OK, detail)


def fail(name: str, detail: str) -> Check:
    return Check(name, Status.FAIL, detail)


def skip(name: str, detail: str) -> Check:
    return Check(name, Status.SKIP, detail)


@dataclass(slots=True)
class DoctorReport:
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.status is not Status.FAIL for check in self.checks)

    def status_of(self, name: str) -> Status | None:
        return next((c.status for c in self.checks if c.name == name), None)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": [check.to_json() for check in self.checks]}


def describe_error(exc: BaseException) -> str:
    """One line for any failure: botocore's code and message, else the exception's text."""
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        error = response.get("Error") or {}
        code, message = error.get("Code", "Error"), error.get("Message", "")
        return f"{code}: {message}" if message else str(code)
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        return str((response.get("Error") or {}).get("Code", ""))
    return ""


# -- the table ---------------------------------------------------------------------------


def check_table(dynamodb: DynamoDBClient, name: str) -> list[Check]:
    """The table is ACTIVE with the keys and index the code relies on, TTL on
    ``expires_at`` and point-in-time recovery on (as template.yaml defines it)."""
    try:
        table = dynamodb.describe_table(TableName=name)["Table"]
    except Exception as exc:
        if _error_code(exc) == "ResourceNotFoundException":
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
        if _error_code(exc) in _MISSING_QUEUE:
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
        if _error_code(exc) in _MISSING_QUEUE:
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
            if _error_code(exc) == "NotFoundException":
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


def pick_subject(store: Store) -> str | None:
    """The first opted-in (``active``) person of the scannable index, if any."""
    for email in store.scannable_people():
        person = store.get_person(email)
        if person is not None and person.status is PersonStatus.ACTIVE:
            return person.email
    return None


class _Recording:
    """A google-auth transport request that keeps the last response (its body holds the
    token response's ``scope``, which the credentials object drops)."""

    def __init__(self, inner: Callable[..., Any]) -> None:
        self._inner = inner
        self.last: Any = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.last = self._inner(*args, **kwargs)
        return self.last


def _granted(response: Any) -> frozenset[str] | None:
    try:
        data = json.loads(response.data)
    except (AttributeError, TypeError, ValueError):
        return None
    scope = data.get("scope") if isinstance(data, dict) else None
    return frozenset(str(scope).split()) if scope else None


def _refusal(exc: BaseException) -> tuple[str, str]:
    """(error code, description) of a refused token request."""
    args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    data = args[1] if len(args) > 1 and isinstance(args[1], Mapping) else {}
    text = str(args[0]) if args else str(exc)
    code = str(data.get("error") or text.split(":", 1)[0]).strip()
    return code, str(data.get("error_description") or text)


def check_google_access(info: Mapping[str, Any], *, token_uri: str) -> Check:
    """Which way to Google the secret configures: a key, or keyless."""
    from micromoments.adapters.google_access import google_access
    from micromoments.adapters.google_calendar import SCOPES

    try:
        access = google_access(info, token_uri=token_uri, scopes=SCOPES)
    except ValueError as exc:
        return fail("google access", str(exc))
    return ok("google access", access.detail)


def check_delegation(
    key_info: Mapping[str, Any],
    subject: str,
    *,
    token_uri: str,
    request: Callable[..., Any],
    requested: tuple[str, ...] | None = None,
) -> list[Check]:
    """A delegated token for ``subject`` (the JWT bearer grant the scan function uses), and
    the scopes: exactly `NARROW_SCOPES` asked for and granted."""
    from google.auth.exceptions import RefreshError, TransportError

    from micromoments.adapters.google_access import google_access
    from micromoments.adapters.google_calendar import SCOPES
    from micromoments.ports import DelegationMisconfigured

    asked = tuple(requested if requested is not None else SCOPES)
    exchange, scopes = "token exchange", "scopes"
    broader, missing = sorted(set(asked) - NARROW_SCOPES), sorted(NARROW_SCOPES - set(asked))
    if broader or missing:
        # Never ask Google for more than we need, not even to test.
        return [
            skip(exchange, "not tried: the requested scopes are wrong"),
            fail(scopes, _scope_problem("requests", broader, missing)),
        ]
    try:
        access = google_access(key_info, token_uri=token_uri, scopes=asked)
    except ValueError as exc:
        return [fail(exchange, str(exc)), skip(scopes, "no token")]
    credentials = access.credentials_for(subject)
    recording = _Recording(request)
    try:
        credentials.refresh(recording)  # type: ignore[no-untyped-call]
    except DelegationMisconfigured as exc:
        return [fail(exchange, str(exc)), skip(scopes, "no token")]
    except RefreshError as exc:
        code, description = _refusal(exc)
        if code == "unauthorized_client":
            reason = (
                f"delegation refused the service account (unauthorized_client): in the Admin "
                f"console, the client ID {_client_id(key_info, access.service_account_email)} "
                "must be granted exactly the three scopes (deploy.md step 1)"
            )
        elif code == "invalid_scope":
            return [
                fail(exchange, f"invalid_scope: {description}"),
                fail(scopes, f"Google refused the scopes: {description}"),
            ]
        elif code == "invalid_grant" and "jwt" not in description.lower():
            reason = f"invalid_grant for {subject}: is the account suspended? ({description})"
        else:
            reason = f"{code}: {description}"
        return [fail(exchange, reason), skip(scopes, "no token")]
    except TransportError as exc:
        return [fail(exchange, f"{token_uri} unreachable: {exc}"), skip(scopes, "no token")]
    granted = _granted(recording.last)
    client, how = access.service_account_email, access.kind
    checks = [ok(exchange, f"{client} got a delegated token for {subject} ({how})")]
    shown = granted if granted is not None else frozenset(asked)
    broader, missing = sorted(shown - NARROW_SCOPES), sorted(NARROW_SCOPES - shown)
    if broader or missing:
        checks.append(fail(scopes, _scope_problem("grants", broader, missing)))
        return checks
    names = ", ".join(sorted(s.rsplit("/", 1)[-1] for s in shown))
    source = "granted" if granted is not None else "requested (the token response names none)"
    checks.append(ok(scopes, f"exactly the three, {source}: {names}"))
    return checks


def _client_id(info: Mapping[str, Any], email: str) -> str:
    """The service account's OAuth client ID (a key names it; keyless, gcloud tells)."""
    if info.get("client_id"):
        return str(info["client_id"])
    describe = f"gcloud iam service-accounts describe {email} --format='value(oauth2ClientId)'"
    return f"of {email} ({describe})"


def _scope_problem(verb: str, broader: list[str], missing: list[str]) -> str:
    parts = []
    if broader:
        parts.append(f"{verb} more than needed: {' '.join(broader)}")
    if missing:
        parts.append(f"lacks {' '.join(missing)}")
    return "; ".join(parts)


def check_calendar_settings(gateway: CalendarGateway, subject: str) -> Check:
    zone = gateway.timezone(subject)
    return ok("calendar settings", f"settings.get timezone as {subject}: {zone}")


# -- everything, in order -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """What to check: the settings, plus what `Config` does not hold."""

    config: Config
    sender_address: str | None = None
    schedule_prefix: str = DEFAULT_SCHEDULE_PREFIX
    site_url: str | None = None  # the stack's SiteUrl
    http_api_id: str | None = None  # the stack's HttpApiId


@dataclass(frozen=True, slots=True)
class Clients:
    """Factories, so that a check that is skipped builds no client, and a client that
    cannot be built (no region, say) fails only the checks that need it."""

    dynamodb: Callable[[], DynamoDBClient]
    sqs: Callable[[], SQSClient]
    scheduler: Callable[[], EventBridgeSchedulerClient]
    sesv2: Callable[[], SESV2Client]
    secretsmanager: Callable[[], SecretsManagerClient]
    store: Callable[[], Store]
    gateway: Callable[[], CalendarGateway]
    google_request: Callable[[], Callable[..., Any]]
    apigatewayv2: Callable[[], Any] | None = None
    fetch: Callable[[str], int] | None = None  # GET a URL, its HTTP status


def _guarded(name: str, run: Callable[[], Check | list[Check]]) -> list[Check]:
    try:
        result = run()
    except Exception as exc:
        return [fail(name, describe_error(exc))]
    return result if isinstance(result, list) else [result]


def run_doctor(target: Target, clients: Clients) -> DoctorReport:
    report = DoctorReport()
    add = report.checks.extend
    settings = target.config

    table = settings.table_name
    if table:
        add(_guarded("table", lambda: check_table(clients.dynamodb(), table)))
    else:
        add([fail("table", "MICROMOMENTS_TABLE_NAME is not set: name the table (TableName)")])
    have_table = report.status_of("table") is Status.OK
    if have_table:
        add(_guarded("org settings", lambda: check_org_settings(clients.store())))
    else:
        add([skip("org settings", "no table")])

    queues = (
        ("scan", settings.scan_queue_url, "MICROMOMENTS_SCAN_QUEUE_URL", "ScanQueueUrl"),
        ("digest", settings.digest_queue_url, "MICROMOMENTS_DIGEST_QUEUE_URL", "DigestQueueUrl"),
    )
    for label, url, variable, output in queues:
        setting = f"{variable} ({output})"
        if url:
            add(
                _guarded(
                    f"{label} queue",
                    partial(check_queue, clients.sqs(), label, url, setting),
                )
            )
        else:
            add([skip(f"{label} queue", f"{variable} is not set ({output})")])
    prefix = target.schedule_prefix
    add(
        _guarded(
            "schedules",
            lambda: check_schedules(clients.scheduler(), clients.sqs(), prefix),
        )
    )

    sender = target.sender_address
    if sender:
        add(_guarded("SES identity", lambda: check_sender_identity(clients.sesv2(), sender)))
    else:
        add([skip("SES identity", "MICROMOMENTS_SENDER_ADDRESS is not set (SenderAddress)")])
    signing = settings.signing_key_secret
    if signing:
        add(_guarded("signing key", lambda: check_signing_key(clients.secretsmanager(), signing)))
    else:
        why = "MICROMOMENTS_SIGNING_KEY_SECRET is not set (<stack>/signing-key)"
        add([skip("signing key", why)])

    add(_google(settings, clients, have_table))
    if target.site_url or target.http_api_id:  # known from the stack's outputs
        add(_http_api(target, clients))
    return report


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


def _http_api(target: Target, clients: Clients) -> list[Check]:
    checks: list[Check] = []
    site = target.site_url
    if site:
        fetch = clients.fetch or http_status
        checks += _guarded("health route", lambda: check_health(fetch, site))
    else:
        checks.append(skip("health route", "no site URL (--stack NAME, or SiteUrl)"))
    api_id = target.http_api_id
    if api_id and clients.apigatewayv2 is not None:
        factory = clients.apigatewayv2
        checks += _guarded("API throttling", lambda: check_api_throttling(factory(), api_id))
    else:
        checks.append(skip("API throttling", "no HTTP API id (--stack NAME, HttpApiId)"))
    return checks


def _google(settings: Config, clients: Clients, have_table: bool) -> list[Check]:
    names = ("token exchange", "scopes", "calendar settings")
    secret = settings.google_key_secret
    key_info: Mapping[str, Any] | None = None
    if secret:
        from micromoments.adapters.google_calendar import load_key_info

        try:
            key_info = load_key_info(secret, client=clients.secretsmanager())
        except Exception as exc:
            return [
                fail("google access", describe_error(exc)),
                *(skip(name, "no key or credential configuration") for name in names),
            ]
        access = [check_google_access(key_info, token_uri=settings.google_token_uri)]
        if access[0].status is Status.FAIL:
            return [*access, *(skip(name, "no usable Google access") for name in names)]
    else:
        access = [
            skip(
                "google access",
                "MICROMOMENTS_GOOGLE_KEY_SECRET is not set (<stack>/google-key): neither a "
                "key nor keyless",
            )
        ]
    if not have_table:
        return [*access, *(skip(name, "no table to find an opted-in person in") for name in names)]
    try:
        subject = pick_subject(clients.store())
    except Exception as exc:
        return [
            *access,
            fail(names[0], f"cannot read the scannable index: {describe_error(exc)}"),
        ]
    if subject is None:
        return [*access, *(skip(name, "nobody is opted in yet to act as") for name in names)]

    checks: list[Check] = [*access]
    if key_info is not None:
        info = key_info
        checks += _guarded(
            names[0],
            lambda: check_delegation(
                info,
                subject,
                token_uri=settings.google_token_uri,
                request=clients.google_request(),
            ),
        )
        if any(c.status is not Status.OK for c in checks if c.name == names[0]):
            return [*checks, skip(names[2], "no delegated token")]
    else:
        why = "MICROMOMENTS_GOOGLE_KEY_SECRET is not set (<stack>/google-key): no delegation"
        checks += [skip(names[0], why), skip(names[1], why)]
        if (
            settings.calendar_api_url == DEFAULT_CALENDAR_API_URL
            and not settings.calendar_api_token
        ):
            return [*checks, skip(names[2], "no credentials to call Google with")]
    checks += _guarded(names[2], lambda: check_calendar_settings(clients.gateway(), subject))
    return checks
