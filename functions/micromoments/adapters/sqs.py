"""SQS: the scan queue and the digest queue. SendMessageBatch takes 10 messages; failed
entries are retried with backoff, and what still fails is an error (the dispatch is retried
by its schedule)."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from micromoments.ports import Unavailable

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

SQS_BATCH = 10
ATTEMPTS = 5


class QueueError(Unavailable):
    """Messages could not be enqueued (one clear line)."""


class QueueMessage(Protocol):
    """A request with a JSON body: `ScanRequest`, `DigestRequest`."""

    def to_body(self) -> str: ...


class SqsQueue:
    """One queue's sender; ``noun`` names its messages in errors."""

    noun = "messages"

    def __init__(
        self,
        url: str,
        *,
        client: SQSClient | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url
        self.client = client or boto3.client("sqs")
        self._sleep = sleep

    def send(self, requests: Sequence[QueueMessage], *, delay_seconds: int = 0) -> None:
        """Enqueue; ``delay_seconds`` (0-900, SQS's DelaySeconds) holds them back."""
        if not 0 <= delay_seconds <= 900:
            raise ValueError("SQS delays messages by 0 to 900 seconds")
        for start in range(0, len(requests), SQS_BATCH):
            self._send_batch(list(requests[start : start + SQS_BATCH]), delay_seconds)

    def _send_batch(self, requests: list[QueueMessage], delay_seconds: int = 0) -> None:
        pending: list[SendMessageBatchRequestEntryTypeDef] = [
            {"Id": uuid.uuid4().hex, "MessageBody": request.to_body()} for request in requests
        ]
        if delay_seconds:
            for entry in pending:
                entry["DelaySeconds"] = delay_seconds
        for attempt in range(ATTEMPTS):
            try:
                answer = self.client.send_message_batch(QueueUrl=self.url, Entries=pending)
            except ClientError as exc:
                error = exc.response.get("Error", {})
                code, message = error.get("Code", "Error"), error.get("Message", "")
                raise QueueError(f"SQS SendMessageBatch failed: {code}: {message}") from None
            except BotoCoreError as exc:
                raise QueueError(f"cannot reach SQS: {exc}") from None
            failed = {entry["Id"] for entry in answer.get("Failed", [])}
            pending = [entry for entry in pending if entry["Id"] in failed]
            if not pending:
                return
            self._sleep(min(2.0, 0.05 * 2**attempt) * random.random())
        raise QueueError(f"{len(pending)} {self.noun} could not be enqueued")


class SqsScanQueue(SqsQueue):
    noun = "scan requests"


class SqsDigestQueue(SqsQueue):
    noun = "digest requests"
