"""The composition root: builds the real adapters once per process (STYLE.md 4).

Handlers and commands ask here for a port (`ports.Store`, `CalendarGateway`, `ScanQueue`,
`DigestQueue`, `Mailer`) and never see the concrete adapter; services take ports as
arguments, and handlers take their dependencies as an argument, so tests pass fakes.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, TypeVar

from micromoments.config import Config, FunctionSettings, config, function_settings

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from micromoments.adapters.google_oauth import OAuthClient
    from micromoments.adapters.personal_grants import PersonalGrants
    from micromoments.adapters.table import TableStore
    from micromoments.adapters.token_vault import TokenVault
    from micromoments.domain.mirror import MirrorEvent
    from micromoments.domain.people import PersonStatus
    from micromoments.ports import CalendarGateway, DigestQueue, Mailer, ScanQueue, Store

_Needs = TypeVar("_Needs", bound=FunctionSettings)
_cold = [True]  # until a function first builds its dependencies


@contextmanager
def building(needs: type[_Needs]) -> Iterator[_Needs]:
    """Around a handler building its dependencies from the caches below: first its settings,
    checked (`function_settings`), given to the block. The first time, at the cold start,
    what the process imported and what the building allocates stays for the process's life:
    it is frozen (`gc.freeze`) rather than walked again by every full collection, and the
    collector waits while it is built (what building allocates is mostly kept anyway).
    Later, nothing is built and nothing else happens (docs/decisions.md "Cold starts")."""
    settings = function_settings(needs)
    if not _cold:
        yield settings
        return
    _cold.clear()
    gc.freeze()
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield settings
    finally:
        gc.freeze()
        if collecting:
            gc.enable()


@cache
def store() -> Store:
    """The Store on the function's DynamoDB table."""
    from micromoments.adapters.dynamo import dynamo_store

    return dynamo_store(config().require_table())


def table_store() -> TableStore:
    """`store` as the concrete single-table adapter: for the operator commands and the
    local runtime, which look at the table itself (never a handler)."""
    from micromoments.adapters.table import TableStore

    found = store()
    if not isinstance(found, TableStore):  # pragma: no cover - store() builds one
        raise TypeError("the Store is not the single-table adapter")
    return found


def calendar_gateway(
    settings: Config | None = None, *, table: Store | None = None, batching: bool = True
) -> CalendarGateway:
    """A gateway whose blast radius the Store bounds: it acts only for opted-in people
    and only ever patches or deletes events the Store records as ours. The org's
    ``calendar_provider`` picks Google Calendar or Microsoft Graph."""
    from micromoments.adapters.google_calendar import GoogleCalendarGateway, load_key_info
    from micromoments.domain.settings import CalendarProvider

    settings = settings or config()
    records = table or store()

    def status_of(email: str) -> PersonStatus | None:
        person = records.get_person(email)
        return person.status if person else None

    def read_status_of(email: str) -> PersonStatus | None:
        person, _ = records.scan_head(email)  # eventually consistent: half a unit
        return person.status if person else None

    def ours(email: str) -> set[str]:
        return {hold.id for hold in records.holds(email)}

    org = records.get_settings()
    if org is not None and org.calendar_provider is CalendarProvider.MICROSOFT:
        return graph_gateway(
            settings,
            status_of=status_of,
            read_status_of=read_status_of,
            ours=ours,
            mirrored_holds=lambda email: [e for e in records.mirror(email) if e.hold_id],
        )
    key_info = load_key_info(settings.google_key_secret) if settings.google_key_secret else None
    return GoogleCalendarGateway(
        settings,
        status_of=status_of,
        read_status_of=read_status_of,
        ours=ours,
        key_info=key_info,
        grants=personal_grants(settings, records),
        batching=batching,
    )


def graph_gateway(
    settings: Config,
    *,
    status_of: Callable[[str], PersonStatus | None],
    read_status_of: Callable[[str], PersonStatus | None],
    ours: Callable[[str], set[str]],
    mirrored_holds: Callable[[str], Sequence[MirrorEvent]],
) -> CalendarGateway:
    """The Microsoft Graph gateway of the app registration the settings name, with the
    credential its secret holds (a certificate or a client secret)."""
    from micromoments.adapters.graph_calendar import (
        GraphCalendarGateway,
        GraphTransport,
        read_graph_credential,
    )
    from micromoments.config import ConfigError
    from micromoments.ports import CalendarCounters

    if not (settings.graph_tenant_id and settings.graph_client_id and settings.graph_secret):
        raise ConfigError(
            "calendar_provider is microsoft: set MICROMOMENTS_GRAPH_TENANT_ID, "
            "MICROMOMENTS_GRAPH_CLIENT_ID and MICROMOMENTS_GRAPH_SECRET"
        )
    transport = GraphTransport(
        api_url=settings.graph_api_url,
        authority=settings.graph_authority,
        tenant=settings.graph_tenant_id,
        client_id=settings.graph_client_id,
        credential=read_graph_credential(settings.graph_secret),
        counters=CalendarCounters(),
    )
    return GraphCalendarGateway(
        transport,
        status_of=status_of,
        read_status_of=read_status_of,
        ours=ours,
        mirrored_holds=mirrored_holds,
    )


@cache
def oauth_client(settings: Config | None = None) -> OAuthClient | None:
    """The OAuth client people connect their own calendar with, when one is configured
    (read once per process; `SecretError` while the secret is still empty)."""
    settings = settings or config()
    if not settings.google_oauth_client_secret:
        return None
    from micromoments.adapters.google_oauth import read_oauth_client

    return read_oauth_client(
        settings.google_oauth_client_secret,
        token_uri=settings.google_token_uri,
        authorize_uri=settings.google_authorize_uri,
        revoke_uri=settings.google_revoke_uri,
        calendar_api_url=settings.calendar_api_url,
    )


@cache
def token_vault(settings: Config | None = None) -> TokenVault | None:
    settings = settings or config()
    if not settings.grant_key_id:
        return None
    from micromoments.adapters.token_vault import TokenVault

    return TokenVault(settings.grant_key_id)


def personal_grants(settings: Config, records: Store) -> PersonalGrants | None:
    """People's own grants (google_access oauth or both), when the OAuth client and the
    KMS key are named; the org's google_access is read again for every new person, the
    client's secret only once someone has a grant (a delegation deployment's is empty)."""
    vault = token_vault(settings)
    if vault is None or not settings.google_oauth_client_secret:
        return None
    from micromoments.adapters.personal_grants import PersonalGrants
    from micromoments.services.org import org_settings

    def client() -> OAuthClient:  # read when a grant is first met (cached once read)
        from micromoments.config import ConfigError

        found = oauth_client(settings)
        if found is None:  # pragma: no cover - the secret is named: reading it raises
            raise ConfigError("MICROMOMENTS_GOOGLE_OAUTH_CLIENT_SECRET is not set")
        return found

    return PersonalGrants(records, vault, client, lambda: org_settings(records).google_access)


def reconnect_asker() -> Callable[[str], None]:
    """The scan's email to a person who must connect again (`services.reconnect`): the email
    modules load when a scan first has someone to ask, not at the cold start (most scans
    never do)."""

    def ask(email: str) -> None:
        from micromoments.services.reconnect import reconnect_asker as asker

        asker()(email)

    return ask


@cache
def default_calendar_gateway() -> CalendarGateway:
    return calendar_gateway()


@cache
def master_key() -> bytes | None:
    """The signing master key when one is configured (erasure needs it for pseudonyms)."""
    secret = config().signing_key_secret
    if not secret:
        return None
    from micromoments.adapters.secrets import read_master_key

    return read_master_key(secret)


def signing_key() -> bytes:
    """The master key of a function whose settings require it (`master_key`, never None)."""
    from micromoments.config import ConfigError

    key = master_key()
    if key is None:
        raise ConfigError("MICROMOMENTS_SIGNING_KEY_SECRET is not set")
    return key


@cache
def scan_queue() -> ScanQueue:
    from micromoments.adapters.sqs import SqsScanQueue
    from micromoments.config import ConfigError

    url = config().scan_queue_url
    if not url:
        raise ConfigError("MICROMOMENTS_SCAN_QUEUE_URL is not set: name the scan queue")
    return SqsScanQueue(url)


@cache
def digest_queue() -> DigestQueue:
    from micromoments.adapters.sqs import SqsDigestQueue
    from micromoments.config import ConfigError

    url = config().digest_queue_url
    if not url:
        raise ConfigError("MICROMOMENTS_DIGEST_QUEUE_URL is not set: name the digest queue")
    return SqsDigestQueue(url)


@cache
def mailer() -> Mailer:
    """SES; with MICROMOMENTS_OUTBOX_DIR set (local runs), every message is also written
    there, so the demo and `serve` can show what was sent."""
    from micromoments.adapters.mail import OutboxMailer, SesMailer, TeeMailer

    outbox = config().outbox_dir
    if outbox is None:
        return SesMailer()
    return TeeMailer(SesMailer(), OutboxMailer(outbox))
