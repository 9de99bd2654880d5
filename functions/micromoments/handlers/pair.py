"""The weekly pairing: coffee pairs and team drop-ins for the coming week, recorded as
planned holds on their organisers, whose scans are queued to place them. A rerun (the
Scheduler's retry) continues the saved round. Logs and metrics carry counts only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from micromoments import wiring
from micromoments.config import ConfigError
from micromoments.handlers.scheduled import scheduled_time
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


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run(scheduled_time(event))
