"""The skeleton the queue workers share (the scan and the digest workers, STYLE.md 10): read
every record of an SQS batch, hand the readable ones to the work, and answer with partial
batch failures through the powertools batch processor.

A record that cannot be read is rejected, logged with its reason and not retried (it is
deleted with the batch); a record whose work raises returns to the queue alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from micromoments.observability import MetricUnit, logger, metrics

_Request = TypeVar("_Request")


def process_batch(
    event: dict[str, Any],
    context: LambdaContext | None,
    read: Callable[[str], _Request],
    unreadable: tuple[type[BaseException], ...],
    work: Callable[[Mapping[str, _Request]], Callable[[_Request], None]],
) -> dict[str, Any]:
    """``read`` parses a body (raising one of ``unreadable``); ``work`` gets every readable
    request by message id (so a batch's I/O may overlap) and returns what to do for each
    record, raising to send that record back to the queue."""
    requests: dict[str, _Request] = {}
    for record in event.get("Records", []):
        try:
            requests[record["messageId"]] = read(record.get("body", ""))
        except unreadable as exc:
            logger.error("rejected malformed message", message_id=record.get("messageId"),
                         reason=str(exc))  # fmt: skip
            metrics.add_metric(name="MalformedMessages", unit=MetricUnit.Count, value=1)
    handle = work(requests)

    def record_handler(record: SQSRecord) -> None:
        request = requests.get(record.message_id)
        if request is not None:  # None: malformed, logged above, deleted, never retried
            handle(request)

    processor = BatchProcessor(event_type=EventType.SQS)
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)
