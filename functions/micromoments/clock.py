"""The time the handlers act at: the wall clock deployed; the demo passes its own (the
simulated week of `local.demo.week`) through the handlers' dependencies."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def wall_clock() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)
