"""The weekly pairing: coffee pairs and team drop-ins for the coming week, recorded as
planned holds on their organisers, whose scans are queued to place them. A rerun (the
Scheduler's retry) continues the saved round. Logs and metrics carry counts only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from micromoments import wiring
from micromoments.config import ConfigError
from micromoments.observability import MetricUnit, logger, metrics, tracer
from micromoments.services.pair import pair_week


def run(now: datetime) -> dict[str, Any]:
    master_key = wiring.master_key()
    if master_key is None:
        raise ConfigError("MICROMOMENTS_SIGNING_KEY_SECRET is not set: pairing needs pseudonyms")
    report = pair_week(
        wiring.store(),
        wiring.default_calendar_gateway(),
        now=now,
        master_key=master_key,
        queue=wiring.scan_queue(),
    )
    metrics.add_metric(name="CoffeePairs", unit=MetricUnit.Count, value=report.pairs)
    metrics.add_metric(name="CoffeeTrios", unit=MetricUnit.Count, value=report.trios)
    metrics.add_metric(name="Watercoolers", unit=MetricUnit.Count, value=report.watercoolers)
    unpaired = sum(report.unpaired.values())
    metrics.add_metric(name="CoffeeUnpaired", unit=MetricUnit.Count, value=unpaired)
    logger.info("paired", extra=report.to_json())
    return report.to_json()


# A scheduled time outside these years came from no schedule (and week arithmetic on it
# could overflow): it is ignored like an unreadable one.
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def scheduled_time(event: dict[str, Any]) -> datetime:
    """The Scheduler's scheduled time (a retry pairs the week it stands for), else now."""
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


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run(scheduled_time(event))
