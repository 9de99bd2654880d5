"""The weekly digest's two functions.

`dispatch_handler` (hourly, EventBridge Scheduler): the people whose local time has reached
the org's send time and who have no digest for that week -> the digest queue, in batches
of 10. `send_handler` (the digest queue's consumer, partial batch failures): each person's
email, at most once per week. A malformed message is rejected, logged and not retried; a
refused send releases the week's claim and returns that message alone to the queue.

Logs and metrics carry counts and keyed hashes (`domain.access.person_ref`), never addresses.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from micromoments import wiring
from micromoments.config import ConfigError, config
from micromoments.domain.access import person_ref
from micromoments.domain.digest_request import DigestRequest, MalformedDigestRequest
from micromoments.handlers.scheduled import scheduled_time
from micromoments.observability import MetricUnit, logger, metrics, tracer
from micromoments.ports import MailError
from micromoments.services.digest import SendOutcome, dispatch_digests, send_digest

processor = BatchProcessor(event_type=EventType.SQS)

_METRICS = {
    SendOutcome.SENT: "DigestsSent",
    SendOutcome.SKIPPED_QUIET: "DigestsQuiet",
    SendOutcome.SKIPPED_NOT_OPTED_IN: "DigestsSkipped",
    SendOutcome.SKIPPED_EMAIL_OFF: "DigestsSkipped",
    SendOutcome.ALREADY_CLAIMED: "DigestsAlreadyClaimed",
}


class DigestFailed(Exception):
    """This person's digest was not sent; the message goes back to the queue."""


def _sending_settings() -> tuple[str, str] | None:
    settings = config()
    if not settings.public_base_url or not settings.sender_address:
        return None
    return settings.public_base_url, settings.sender_address


def dispatch(now: datetime) -> dict[str, Any]:
    if _sending_settings() is None:
        # The first deploy has no site URL yet (template.yaml, PublicBaseUrl): no email
        # could carry its unsubscribe link, so nobody is queued until it is set.
        logger.warning(
            "digests wait for MICROMOMENTS_PUBLIC_BASE_URL and MICROMOMENTS_SENDER_ADDRESS"
        )
        return {"people_seen": 0, "enqueued": 0, "batches": 0, "waiting": True}
    report = dispatch_digests(wiring.store(), wiring.digest_queue(), now=now)
    metrics.add_metric(name="DigestsDispatched", unit=MetricUnit.Count, value=report.enqueued)
    logger.info("digests dispatched", extra=report.to_json())
    return report.to_json()


def send_batch(event: dict[str, Any], context: LambdaContext | None) -> dict[str, Any]:
    sending = _sending_settings()
    if sending is None:
        raise ConfigError(
            "MICROMOMENTS_PUBLIC_BASE_URL and MICROMOMENTS_SENDER_ADDRESS must be set to "
            "send digests"
        )
    base_url, sender = sending
    master_key = wiring.master_key()
    if master_key is None:
        raise ConfigError(
            "MICROMOMENTS_SIGNING_KEY_SECRET is not set: unsubscribe links are signed with it"
        )
    requests: dict[str, DigestRequest] = {}
    for record in event.get("Records", []):
        try:
            requests[record["messageId"]] = DigestRequest.from_body(record.get("body", ""))
        except (MalformedDigestRequest, RecursionError) as exc:  # (nested past json's limit)
            logger.error("rejected malformed message", message_id=record.get("messageId"),
                         reason=str(exc))  # fmt: skip
            metrics.add_metric(name="MalformedMessages", unit=MetricUnit.Count, value=1)
    store, mailer = wiring.store(), wiring.mailer()
    now = datetime.now(UTC)
    outcomes: Counter[str] = Counter()

    def record_handler(record: SQSRecord) -> None:
        request = requests.get(record.message_id)
        if request is None:
            return  # malformed: logged above, deleted, never retried
        try:
            outcome = send_digest(
                store,
                mailer,
                email=request.person,
                label=request.iso_week,
                now=now,
                master_key=master_key,
                base_url=base_url,
                sender=sender,
            )
        except Exception as exc:
            # the exception's text may name the person: log its type only
            error = type(exc).__name__
            logger.error("digest not sent", person_hash=person_ref(master_key, request.person),
                         week=request.iso_week, error=error)  # fmt: skip
            metrics.add_metric(name="DigestErrors", unit=MetricUnit.Count, value=1)
            outcomes["failed"] += 1
            if isinstance(exc, MailError):
                raise DigestFailed("the mailer refused the message") from None
            raise DigestFailed(error) from None
        outcomes[outcome.value] += 1
        metrics.add_metric(name=_METRICS[outcome], unit=MetricUnit.Count, value=1)

    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    logger.info("digests handled", extra={"outcomes": dict(sorted(outcomes.items()))})
    return dict(response)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def dispatch_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dispatch(scheduled_time(event))


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def send_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return send_batch(event, context)
