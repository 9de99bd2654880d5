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
    from micromoments.adapters.table import TableStore
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
    and only ever patches or deletes events the Store records as ours."""
    from micromoments.adapters.google_calendar import GoogleCalendarGateway, load_key_info

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

    key_info = load_key_info(settings.google_key_secret) if settings.google_key_secret else None
    return GoogleCalendarGateway(
        settings,
        status_of=status_of,
        read_status_of=read_status_of,
        ours=ours,
        key_info=key_info,
        batching=batching,
    )


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
