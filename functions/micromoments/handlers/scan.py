"""The scan worker: an SQS consumer with partial batch failures (powertools batch
processor). The people of one batch are scanned with their I/O overlapping; a malformed
message is rejected, logged and not retried; a failed person returns to the queue alone."""

from __future__ import annotations

import uuid
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
from micromoments.config import config
from micromoments.domain.access import person_ref
from micromoments.domain.scan_request import MalformedMessage, ScanRequest
from micromoments.observability import MetricUnit, logger, metrics, tracer
from micromoments.ports import DelegationMisconfigured
from micromoments.services.scan import ScanReport, scan_people

processor = BatchProcessor(event_type=EventType.SQS)


class ScanFailed(Exception):
    """This person's scan failed; the message goes back to the queue."""


def scan_batch(event: dict[str, Any], context: LambdaContext | None) -> dict[str, Any]:
    requests: dict[str, ScanRequest] = {}
    for record in event.get("Records", []):
        try:
            requests[record["messageId"]] = ScanRequest.from_body(record.get("body", ""))
        except MalformedMessage as exc:
            logger.error("rejected malformed message", message_id=record.get("messageId"),
                         reason=str(exc))  # fmt: skip
            metrics.add_metric(name="MalformedMessages", unit=MetricUnit.Count, value=1)
    emails = list(dict.fromkeys(request.person for request in requests.values()))
    calendar = wiring.default_calendar_gateway()
    master_key = wiring.master_key()
    requests_before = calendar.counters.requests
    outcomes = scan_people(
        emails,
        store=wiring.store(),
        calendar=calendar,
        now=datetime.now(UTC),
        owner=getattr(context, "aws_request_id", None) or uuid.uuid4().hex,
        master_key=master_key,
        push_address=config().notify_address,
    )

    # per-person counters overlap when scans run side by side: count the batch as a whole
    used = calendar.counters.requests - requests_before
    metrics.add_metric(name="GoogleRequests", unit=MetricUnit.Count, value=used)
    for outcome in outcomes.values():
        if isinstance(outcome, DelegationMisconfigured):
            # Not one person's problem: fail the whole batch loudly (the Errors alarm), mark nobody.
            logger.error("domain-wide delegation is misconfigured", error=type(outcome).__name__)
            raise outcome

    def record_handler(record: SQSRecord) -> None:
        request = requests.get(record.message_id)
        if request is None:
            return  # malformed: logged above, deleted, never retried
        outcome = outcomes[request.person]
        if isinstance(outcome, BaseException):
            # the exception's text may name the person: log its type only
            logger.error("scan failed", extra={**_person_field(master_key, request.person),
                         "error": type(outcome).__name__})  # fmt: skip
            metrics.add_metric(name="ScanErrors", unit=MetricUnit.Count, value=1)
            raise ScanFailed(type(outcome).__name__)
        if outcome.outcome == "scanned":
            _record(outcome)
        if outcome.failed_writes:
            raise ScanFailed(f"{outcome.failed_writes} calendar writes still pending")

    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)


def _record(report: ScanReport) -> None:
    metrics.add_metric(name="PeopleScanned", unit=MetricUnit.Count, value=1)
    for kind, count in report.holds.items():
        if count:
            metrics.add_metric(name=f"Holds{kind.title()}", unit=MetricUnit.Count, value=count)


def _person_field(master_key: bytes | None, email: str) -> dict[str, str]:
    """A keyed hash that tells people apart in the logs (none without the signing key: an
    unkeyed hash of a guessable address is as good as the address)."""
    return {"person_hash": person_ref(master_key, email)} if master_key else {}


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return scan_batch(event, context)
