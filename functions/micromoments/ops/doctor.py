"""Use case: check a deployment (or the local stand-ins) before trusting it (docs/deploy.md).

Each check is a small function over injected clients that returns one or more `Check`
results: ``ok``, ``fail`` or ``skip`` with one line of detail. `run_doctor` runs them in
order and never raises: whatever goes wrong inside a check (an AWS error, a refused token,
a missing setting) becomes that check's ``fail``. The command prints the results.

What is checked: the table (ACTIVE, keys, the ``scannable`` index, TTL, point-in-time
recovery), the org settings, the scan and digest queues and their dead-letter queues, the
dispatch, pair and digest schedules and their dead-letter queue, the SES identity of the
sender, the signing key, the push channels (renewed on schedule; one live channel for each
active person and none for anyone else: `channel_checks`), and Google: which access the
Google secret configures (a service-account key, or keyless: workload identity federation
and ``signJwt``), a delegated token for one opted-in person with exactly the three narrow
scopes, then ``settings.get timezone`` as that person through the gateway; with
google_access oauth or both, the OAuth client's secret and the KMS key that seals people's
grants. On a Microsoft org (``calendar_provider`` microsoft) Graph instead of Google
(`graph_checks`): the access policy refuses a mailbox outside the group (``--outside
ADDRESS``), every active person's mailbox answers, and no opted-out person's does; the push
channels are skipped there. With the stack's outputs (``--stack NAME``): the HTTP API's
health route answers 200 at the site URL, and its ``$default`` stage has default throttling.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from micromoments.config import DEFAULT_CALENDAR_API_URL, Config
from micromoments.domain.settings import CalendarProvider
from micromoments.ops.aws_checks import (
    check_api_throttling,
    check_health,
    check_org_settings,
    check_queue,
    check_schedules,
    check_sender_identity,
    check_signing_key,
    check_table,
    http_status,
)
from micromoments.ops.channel_checks import check_channels
from micromoments.ops.check_results import Check, DoctorReport, Status, describe_error, fail, skip
from micromoments.ops.google_checks import (
    NARROW_SCOPES,
    check_calendar_settings,
    check_delegation,
    check_google_access,
    check_oauth_client,
    pick_subject,
)
from micromoments.ops.graph_checks import check_graph
from micromoments.ports import CalendarGateway, Store
from micromoments.services.org import org_settings

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
    "check_channels",
    "check_delegation",
    "check_google_access",
    "check_graph",
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

DEFAULT_SCHEDULE_PREFIX = "micromoments"


@dataclass(frozen=True, slots=True)
class Target:
    """What to check: the settings, plus what `Config` does not hold."""

    config: Config
    sender_address: str | None = None
    schedule_prefix: str = DEFAULT_SCHEDULE_PREFIX
    site_url: str | None = None  # the stack's SiteUrl
    http_api_id: str | None = None  # the stack's HttpApiId
    outside: str | None = None  # Microsoft 365: a mailbox outside the group (--outside)


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
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)


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

    if have_table:
        push_on = settings.notify_address is not None
        dispatch = report.status_of("dispatch schedule")
        try:
            add(check_channels(clients.store(), clients.clock(), push_on=push_on,
                               dispatch=dispatch))  # fmt: skip
        except Exception as exc:
            why = f"cannot read people and channels: {describe_error(exc)}"
            add([fail("channel renewal", why), fail("channels and people", why)])
    else:
        add([skip("channel renewal", "no table"), skip("channels and people", "no table")])

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

    org = org_settings(clients.store()) if have_table else None
    if org is not None and org.calendar_provider is CalendarProvider.MICROSOFT:
        add([skip("google access", "calendar_provider is microsoft: Google is not used")])
        add(_guarded("access policy", lambda: check_graph(
            clients.store(), clients.gateway, target.outside)))  # fmt: skip
    else:
        add(_google(settings, clients, have_table))
    access = org.google_access.value if org is not None else "delegation"
    if access != "delegation" or settings.google_oauth_client_secret:  # else nothing to say
        add(_guarded("oauth client", lambda: check_oauth_client(
            clients.secretsmanager(), settings.google_oauth_client_secret, access,
            settings.grant_key_id,
        )))  # fmt: skip
    if target.site_url or target.http_api_id:  # known from the stack's outputs
        add(_http_api(target, clients))
    return report


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
