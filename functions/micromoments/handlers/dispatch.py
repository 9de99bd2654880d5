"""The hourly dispatch: the scans time requires (the daily safety scan in each person's
morning, time-driven work due, opt-outs to finish; none at night in the person's zone) ->
the scan queue, in batches of 10 (`services.due_scans`). Never talks to Google (it cannot:
no key, no client).

The day and hour are the Scheduler's ``scheduled_time`` (a retry stands for the hour it was
meant for), never the wall clock unless the event carries none."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from micromoments import wiring
from micromoments.config import DispatchSettings
from micromoments.observability import count, logger, metrics, tracer
from micromoments.ports import ScanQueue, Store
from micromoments.scheduler_event import scheduled_time
from micromoments.services.due_scans import send_due_scans


@dataclass(frozen=True, slots=True)
class DispatchDeps:
    store: Store
    queue: ScanQueue

    @classmethod
    def real(cls) -> DispatchDeps:
        with wiring.building(DispatchSettings):
            return cls(wiring.store(), wiring.scan_queue())


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def handler(event: dict[str, Any], context: LambdaContext, deps: DispatchDeps | None = None) -> Any:
    deps = deps or DispatchDeps.real()
    report = send_due_scans(deps.store, deps.queue, now=scheduled_time(event))
    count("PeopleDispatched", report.enqueued)
    logger.info("dispatched", extra=report.to_json())
    return report.to_json()
