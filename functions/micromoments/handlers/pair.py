"""The weekly pairing: coffee pairs and team drop-ins for the coming week, recorded as
planned holds on their organisers, whose scans are queued to place them. A rerun (the
Scheduler's retry) continues the saved round. Logs and metrics carry counts only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from micromoments import wiring
from micromoments.config import PairSettings
from micromoments.observability import count, logger, metrics, tracer
from micromoments.ports import CalendarGateway, ScanQueue, Store
from micromoments.scheduler_event import scheduled_time
from micromoments.services.pair import pair_week


@dataclass(frozen=True, slots=True)
class PairDeps:
    store: Store
    calendar: CalendarGateway
    queue: ScanQueue
    master_key: bytes  # pairing keeps people as pseudonyms

    @classmethod
    def real(cls) -> PairDeps:
        with wiring.building(PairSettings):
            return cls(wiring.store(), wiring.default_calendar_gateway(), wiring.scan_queue(),
                       wiring.signing_key())  # fmt: skip


def run(now: datetime, deps: PairDeps) -> dict[str, Any]:
    report = pair_week(deps.store, deps.calendar, now=now, master_key=deps.master_key,
                       queue=deps.queue)  # fmt: skip
    count("CoffeePairs", report.pairs)
    count("CoffeeTrios", report.trios)
    count("Watercoolers", report.watercoolers)
    count("CoffeeUnpaired", sum(report.unpaired.values()))
    logger.info("paired", extra=report.to_json())
    return report.to_json()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def handler(event: dict[str, Any], context: LambdaContext, deps: PairDeps | None = None) -> Any:
    return run(scheduled_time(event), deps or PairDeps.real())
