"""What EventBridge Scheduler sends the scheduled handlers (dispatch, pair, digest): the
scheduled time, so a retried invocation stands for the moment it was meant for."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from micromoments.observability import logger

# A scheduled time outside these years came from no schedule (and week arithmetic on it
# could overflow): it is ignored like an unreadable one.
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def scheduled_time(event: Any) -> datetime:
    """The event's ``scheduled_time`` in UTC, else now (logged when one was unusable)."""
    value = event.get("scheduled_time") if isinstance(event, dict) else None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            logger.warning("ignored an unreadable scheduled_time")
        else:
            if moment.tzinfo is not None:
                try:
                    moment = moment.astimezone(UTC)
                except OverflowError:  # at the very edge of the calendar
                    pass
                else:
                    if _EARLIEST <= moment < _LATEST:
                        return moment
                logger.warning("ignored a scheduled_time no schedule can have")
    return datetime.now(UTC)
