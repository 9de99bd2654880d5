"""An SQS queue drained into a handler, as the Lambda event source does it.

`deliver` receives up to 10 messages, hands them to the handler as one SQS event, deletes
those the handler did not report in ``batchItemFailures`` and puts the failed ones back
on the queue at once (visibility 0), as a retry; the queue's redrive policy ends a
poisoned message. `drain` repeats that until the queue is empty, within a budget that
leaves room for every retry before redrive. The demo (scans and digests) and
``micromoments serve`` (scans) drain their queues through here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from micromoments.local.runtime import sqs_record

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

SQS_BATCH = 10  # messages per receive, as the event source's batch size

Handler = Callable[[dict[str, Any]], Mapping[str, Any]]  # an SQS event -> the handler's answer


class LocalQueue:
    """One queue on (moto's) SQS: its client, URL and ARN. ``lock``, when given, keeps
    deliveries to one at a time (moto's SQS is not safe for concurrent receives)."""

    def __init__(self, client: SQSClient, url: str, *, lock: threading.Lock | None = None) -> None:
        self.client = client
        self.url = url
        self.arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.lock = lock

    def depth(self) -> int:
        """The messages waiting (ApproximateNumberOfMessages)."""
        attributes = self.client.get_queue_attributes(
            QueueUrl=self.url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes.get("ApproximateNumberOfMessages", "0"))


@dataclass(frozen=True)
class Delivery:
    """One batch handed to the handler: the messages and the ids it reported failed."""

    messages: list[MessageTypeDef]
    failed: frozenset[str]

    @property
    def succeeded(self) -> list[MessageTypeDef]:
        return [m for m in self.messages if m["MessageId"] not in self.failed]


def deliver(queue: LocalQueue, handler: Handler) -> Delivery | None:
    """One receive (up to 10 messages) through the handler; None when the queue is empty."""
    with queue.lock if queue.lock is not None else nullcontext():
        client, url = queue.client, queue.url
        messages = client.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=SQS_BATCH,
            WaitTimeSeconds=0,
            AttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return None
        messages = list(messages)
        response = handler({"Records": [sqs_record(m, queue.arn) for m in messages]})
        failed = frozenset(item["itemIdentifier"] for item in response.get("batchItemFailures", []))
        delivery = Delivery(messages, failed)
        succeeded = delivery.succeeded
        if succeeded:
            client.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(succeeded)
                ],
            )
        for message in messages:
            if message["MessageId"] in failed:  # back to the queue at once, as a retry
                client.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
        return delivery


def drain(
    queue: LocalQueue,
    handler: Handler,
    *,
    expected: int = 0,
    on_batch: Callable[[Delivery], None] | None = None,
) -> list[Delivery]:
    """Deliver batches until the queue is empty; the batches. ``expected`` (the messages
    queued) sizes the budget of receives, with room for a poisoned message's retries."""
    budget = 10 + 6 * (max(expected, 1) // SQS_BATCH + 1)
    deliveries: list[Delivery] = []
    for _ in range(budget):
        delivery = deliver(queue, handler)
        if delivery is None:
            break
        deliveries.append(delivery)
        if on_batch is not None:
            on_batch(delivery)
    return deliveries
