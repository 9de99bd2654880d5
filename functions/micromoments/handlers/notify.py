"""Calendar push notifications, behind the HTTP API (`POST /calendar/notify`): verify the
X-Goog-* headers and enqueue at most one scan of the person per minute. This function reads
the table and sends to the scan queue; it never holds the Google key. Every answer is 204
with no body, forged or not (Google retries only 5xx; a forger learns nothing); a Store or
queue failure raises, so API Gateway answers 500 and Google retries. Logs and metrics carry
verdicts and counts only, never an id, token or address."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from micromoments import wiring
from micromoments.config import NotifySettings, config
from micromoments.domain.push import Notification
from micromoments.observability import count, logger, metrics, tracer
from micromoments.ports import ScanQueue, Store
from micromoments.services.notify import receive

NO_CONTENT: dict[str, Any] = {"statusCode": 204, "headers": {}, "body": ""}


@dataclass(frozen=True, slots=True)
class NotifyDeps:
    store: Store
    queue: ScanQueue

    @classmethod
    def real(cls) -> NotifyDeps:
        with wiring.building(NotifySettings):
            return cls(wiring.store(), wiring.scan_queue())


def run(event: dict[str, Any], now: datetime, deps: NotifyDeps | None = None) -> dict[str, Any]:
    deps = deps or NotifyDeps.real()
    headers = event.get("headers") or {}
    notification = Notification.from_headers(
        {str(k): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {}
    )
    window = config().push_window
    verdict = receive(
        notification, store=deps.store, queue=deps.queue, now=now, window_length=window
    )
    if verdict.forged:
        count("PushDropped")
        logger.warning("push notification dropped", verdict=verdict.value)
    else:
        count("PushVerified")
        logger.info("push notification", verdict=verdict.value)
    return dict(NO_CONTENT)


# Requests carry channel tokens: neither the event nor errors go into logs or traces.
@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def handler(
    event: dict[str, Any], context: LambdaContext, deps: NotifyDeps | None = None
) -> dict[str, Any]:
    return run(event, datetime.now(UTC), deps)
