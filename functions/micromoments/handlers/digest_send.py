"""The digest queue's consumer (partial batch failures, `queue_batch`): each person's weekly
email, at most once a week; a refused send releases the claim and returns alone to the queue."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from micromoments import clock, wiring
from micromoments.config import DigestSendSettings
from micromoments.domain.access import person_ref
from micromoments.domain.digest_request import DigestRequest, MalformedDigestRequest
from micromoments.observability import count, logger, metrics, tracer
from micromoments.ports import Mailer, MailError, Store
from micromoments.queue_batch import process_batch
from micromoments.services.digest import SendOutcome, send_digest

_METRICS = {
    SendOutcome.SENT: "DigestsSent",
    SendOutcome.SKIPPED_QUIET: "DigestsQuiet",
    SendOutcome.SKIPPED_NOT_OPTED_IN: "DigestsSkipped",
    SendOutcome.SKIPPED_EMAIL_OFF: "DigestsSkipped",
    SendOutcome.ALREADY_CLAIMED: "DigestsAlreadyClaimed",
}


class DigestFailed(Exception):
    """This person's digest was not sent; the message goes back to the queue."""


@dataclass(frozen=True, slots=True)
class SendDeps:
    store: Store
    mailer: Mailer
    master_key: bytes
    base_url: str
    sender: str
    now: clock.Clock = clock.wall_clock  # when they go out (the demo passes its simulated week's)

    @classmethod
    def real(cls) -> SendDeps:
        with wiring.building(DigestSendSettings) as settings:
            return cls(wiring.store(), wiring.mailer(), wiring.signing_key(),
                       settings.public_base_url, settings.sender_address)  # fmt: skip


def send_batch(event: dict[str, Any], context: Any, deps: SendDeps) -> dict[str, Any]:
    now, outcomes = deps.now(), Counter[str]()

    def send(request: DigestRequest) -> None:
        try:
            outcome = send_digest(deps.store, deps.mailer, email=request.person,
                                  label=request.iso_week, now=now, master_key=deps.master_key,
                                  base_url=deps.base_url, sender=deps.sender)  # fmt: skip
        except Exception as exc:
            error = type(exc).__name__  # the exception's text may name the person
            logger.error("digest not sent", person_hash=person_ref(deps.master_key, request.person),
                         week=request.iso_week, error=error)  # fmt: skip
            count("DigestErrors")
            outcomes["failed"] += 1
            refused = isinstance(exc, MailError)
            raise DigestFailed("the mailer refused the message" if refused else error) from None
        outcomes[outcome.value] += 1
        count(_METRICS[outcome])

    unreadable = (MalformedDigestRequest, RecursionError)  # (nested past json's limit)
    response = process_batch(event, context, DigestRequest.from_body, unreadable, lambda _: send)
    logger.info("digests handled", extra={"outcomes": dict(sorted(outcomes.items()))})
    return response


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def handler(event: dict[str, Any], context: LambdaContext, deps: SendDeps | None = None) -> Any:
    return send_batch(event, context, deps or SendDeps.real())
