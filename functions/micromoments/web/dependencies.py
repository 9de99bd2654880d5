"""What the site's routes work with: the `Services` the handler was given (tests pass fakes:
`handlers.web.handler(event, context, deps=...)`), else built from the site's settings and
`wiring` (STYLE.md 14, 15)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from micromoments import wiring
from micromoments.config import Config, SiteSettings, function_settings

if TYPE_CHECKING:
    from micromoments.adapters.google_oauth import OAuthClient
    from micromoments.adapters.token_vault import TokenVault
    from micromoments.ports import Mailer, ScanQueue, Store


@dataclass(frozen=True, slots=True)
class Services:
    """What the site works with."""

    store: Store
    mailer: Mailer
    queue: ScanQueue
    master_key: bytes
    base_url: str
    sender: str
    now: Callable[[], datetime]
    sign_in_per_source_per_hour: int = 500  # MICROMOMENTS_SIGN_IN_PER_SOURCE_PER_HOUR
    # per-person OAuth: tests give them; deployed, the connect routes read them when used
    oauth: OAuthClient | None = None
    vault: TokenVault | None = None


def services(settings: Config | None = None) -> Services:
    """The deployed site's: its settings are checked first (a missing one is one
    `ConfigError` line, which the site answers with 503)."""
    site = function_settings(SiteSettings, settings)
    return Services(
        store=wiring.store(),
        mailer=wiring.mailer(),
        queue=wiring.scan_queue(),
        master_key=wiring.signing_key(),
        base_url=site.public_base_url,
        sender=site.sender_address,
        now=lambda: datetime.now(UTC),
        sign_in_per_source_per_hour=site.sign_in_per_source_per_hour,
    )


_given: ContextVar[Services | None] = ContextVar("micromoments_services", default=None)


@contextmanager
def given(deps: Services | None) -> Iterator[None]:
    """Within the block, `current` answers ``deps`` (None: the deployed `services`)."""
    token = _given.set(deps)
    try:
        yield
    finally:
        _given.reset(token)


def current() -> Services:
    """The request's dependencies, looked up when a route needs them (so a page that needs
    none, like /health, works on a site whose settings are incomplete)."""
    return _given.get() or services()
