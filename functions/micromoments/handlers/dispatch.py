"""The hourly dispatch: the scans time requires (the daily safety scan in each person's
morning, time-driven work due, opt-outs to finish; none at night in the person's zone) ->
the scan queue, in batches of 10 (`services.dispatch`). Never talks to Google (it cannot:
no key, no client).

The day and hour are the Scheduler's ``scheduled_time`` (a retry stands for the hour it was
meant for), never the wall clock unless the event carries none."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from micromoments import wiring
from micromoments.handlers.scheduled import scheduled_time
from micromoments.observability import MetricUnit, logger, metrics, tracer
from micromoments.services.dispatch import dispatch


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = dispatch(wiring.store(), wiring.scan_queue(), now=scheduled_time(event))
    metrics.add_metric(name="PeopleDispatched", unit=MetricUnit.Count, value=report.enqueued)
    logger.info("dispatched", extra=report.to_json())
    return report.to_json()
