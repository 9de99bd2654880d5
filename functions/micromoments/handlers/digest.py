"""The hourly digest dispatch (EventBridge Scheduler): the people whose local time has
reached the org's send time and who have no digest for that week -> the digest queue, in
batches of 10. The queue's consumer is `handlers.digest_send` (deployed as this module's
``send_handler``). Logs and metrics carry counts, never addresses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from micromoments import wiring
from micromoments.config import DigestDispatchSettings
from micromoments.handlers.digest_send import SendDeps, send_batch
from micromoments.handlers.digest_send import handler as send_handler
from micromoments.observability import count, logger, metrics, tracer
from micromoments.ports import DigestQueue, Store
from micromoments.scheduler_event import scheduled_time
from micromoments.services.digest import dispatch_digests

__all__ = ["DispatchDeps", "SendDeps", "dispatch", "dispatch_handler", "send_batch", "send_handler"]


@dataclass(frozen=True, slots=True)
class DispatchDeps:
    store: Store
    queue: DigestQueue
    ready: bool = True  # the site's URL and the sender are set: an email can carry its links

    @classmethod
    def real(cls) -> DispatchDeps:
        with wiring.building(DigestDispatchSettings) as settings:
            return cls(wiring.store(), wiring.digest_queue(), settings.ready)


def dispatch(now: datetime, deps: DispatchDeps) -> dict[str, Any]:
    if not deps.ready:
        # The first deploy has no site URL yet (template.yaml, PublicBaseUrl): no email
        # could carry its unsubscribe link, so nobody is queued until it is set.
        logger.warning(
            "digests wait for MICROMOMENTS_PUBLIC_BASE_URL and MICROMOMENTS_SENDER_ADDRESS"
        )
        return {"people_seen": 0, "enqueued": 0, "batches": 0, "waiting": True}
    report = dispatch_digests(deps.store, deps.queue, now=now)
    count("DigestsDispatched", report.enqueued)
    logger.info("digests dispatched", extra=report.to_json())
    return report.to_json()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def dispatch_handler(event: Any, context: LambdaContext, deps: DispatchDeps | None = None) -> Any:
    return dispatch(scheduled_time(event), deps or DispatchDeps.real())
