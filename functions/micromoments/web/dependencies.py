"""What the site's routes work with, built once a request from the settings and `wiring`;
tests replace `services` to pass fakes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from micromoments import wiring
from micromoments.config import ConfigError, config

if TYPE_CHECKING:
    from micromoments.ports import Mailer, ScanQueue, Store


@dataclass(frozen=True, slots=True)
class Services:
    """What the site works with; tests replace `services` to pass fakes."""

    store: Store
    mailer: Mailer
    queue: ScanQueue
    master_key: bytes
    base_url: str
    sender: str
    now: Callable[[], datetime]
    sign_in_per_source_per_hour: int = 500  # MICROMOMENTS_SIGN_IN_PER_SOURCE_PER_HOUR


def services() -> Services:
    settings = config()
    key = wiring.master_key()
    if key is None:
        raise ConfigError("MICROMOMENTS_SIGNING_KEY_SECRET is not set: the site needs its keys")
    if not settings.public_base_url or not settings.sender_address:
        raise ConfigError(
            "MICROMOMENTS_PUBLIC_BASE_URL and MICROMOMENTS_SENDER_ADDRESS must be set"
        )
    return Services(
        store=wiring.store(),
        mailer=wiring.mailer(),
        queue=wiring.scan_queue(),
        master_key=key,
        base_url=settings.public_base_url,
        sender=settings.sender_address,
        now=lambda: datetime.now(UTC),
        sign_in_per_source_per_hour=settings.sign_in_per_source_per_hour,
    )


def current() -> Services:
    """The request's dependencies, looked up at call time so a test's replacement of
    `services` reaches every route."""
    return services()
