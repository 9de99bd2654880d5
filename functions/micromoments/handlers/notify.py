"""Push notifications at `POST /calendar/notify`, from Google (X-Goog-* headers) or Graph (a
JSON body, `domain.graph_push`), each verified; at most one scan a person a minute queued.
No calendar credential. Google gets 204, Graph 202, forged or not; malformed 400, nothing done;
Graph's ``?validationToken=`` is echoed before anything is read. Store or queue failure: 500."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from micromoments import wiring
from micromoments.config import NotifySettings, config
from micromoments.domain.graph_push import MalformedNotification, notifications_of, validation_token
from micromoments.observability import count, logger, metrics, tracer
from micromoments.ports import ScanQueue, Store
from micromoments.services.notify import Verdict, receive_all

NO_CONTENT: dict[str, Any] = {"statusCode": 204, "headers": {}, "body": ""}
PLAIN = {"Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"}


@dataclass(frozen=True, slots=True)
class NotifyDeps:
    store: Store
    queue: ScanQueue

    @classmethod
    def real(cls) -> NotifyDeps:
        with wiring.building(NotifySettings):
            return cls(wiring.store(), wiring.scan_queue())


def run(event: dict[str, Any], now: datetime, deps: NotifyDeps | None = None) -> dict[str, Any]:
    raw, query = event.get("headers"), event.get("queryStringParameters")
    headers = {str(k).lower(): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
    try:
        echo = validation_token(query if isinstance(query, dict) else {})
        if echo is not None:  # Graph validates a new subscription: echo, nothing else
            return {"statusCode": 200, "headers": PLAIN, "body": echo}
        notifications = notifications_of(headers, _body(event))
    except MalformedNotification:
        count("PushMalformed")
        return {**NO_CONTENT, "statusCode": 400}
    deps, window = deps or NotifyDeps.real(), config().push_window
    for verdict in receive_all(notifications, deps.store, deps.queue, now, window):
        _record(verdict)
    return {**NO_CONTENT, "statusCode": 202 if notifications[0].resource_id is None else 204}


def _body(event: dict[str, Any]) -> bytes:
    text = event.get("body") or ""
    try:
        if event.get("isBase64Encoded"):
            return base64.b64decode(str(text), validate=True)
        return str(text).encode("utf-8", "surrogatepass")
    except (binascii.Error, ValueError):
        raise MalformedNotification("the body is not base64") from None


def _record(verdict: Verdict) -> None:
    count("PushDropped" if verdict.forged else "PushVerified")
    (logger.warning if verdict.forged else logger.info)("push notification", verdict=verdict.value)


# Requests carry channel tokens: neither the event nor errors go into logs or traces.
@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def handler(
    event: dict[str, Any], context: LambdaContext, deps: NotifyDeps | None = None
) -> dict[str, Any]:
    return run(event, datetime.now(UTC), deps)
