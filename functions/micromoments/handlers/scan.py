"""The scan worker (SQS, `queue_batch`): a batch's people scanned side by side, failures alone."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from micromoments import clock, wiring
from micromoments.config import ScanSettings, config
from micromoments.domain.access import person_ref
from micromoments.domain.scan_request import MalformedMessage, ScanRequest
from micromoments.observability import count, logger, metrics, tracer
from micromoments.ports import CalendarGateway, DelegationMisconfigured, Store
from micromoments.queue_batch import process_batch
from micromoments.services.scan import ScanFailed, ScanOutcome, ScanReport, scan_people


@dataclass(frozen=True, slots=True)
class ScanDeps:
    store: Store
    calendar: CalendarGateway
    master_key: bytes | None = None  # keys log hashes and erasures when configured
    push_address: str | None = None  # the notify route: each scan keeps a channel open
    reconnect: Callable[[str], None] | None = None  # the email for a needs_reconnect person
    now: clock.Clock = clock.wall_clock  # when they run (the demo passes its simulated week's)

    @classmethod
    def real(cls) -> ScanDeps:
        with wiring.building(ScanSettings):
            return cls(wiring.store(), wiring.default_calendar_gateway(), wiring.master_key(),
                       config().notify_address, wiring.reconnect_asker())  # fmt: skip


def scan_batch(event: dict[str, Any], context: Any, deps: ScanDeps) -> dict[str, Any]:
    def work(requests: Mapping[str, ScanRequest]) -> Callable[[ScanRequest], None]:
        emails = list(dict.fromkeys(request.person for request in requests.values()))
        owner = getattr(context, "aws_request_id", None) or uuid.uuid4().hex
        before = deps.calendar.counters.requests
        outcomes = scan_people(emails, store=deps.store, calendar=deps.calendar, owner=owner,
                               now=deps.now(), master_key=deps.master_key,
                               push_address=deps.push_address)  # fmt: skip
        # per-person counters overlap when scans run side by side: count the batch as a whole
        count("GoogleRequests", deps.calendar.counters.requests - before)
        wrong = [o for o in outcomes.values() if isinstance(o, DelegationMisconfigured)]
        if wrong:  # fail the batch, mark nobody
            logger.error("domain-wide delegation is misconfigured", error=type(wrong[0]).__name__)
            raise wrong[0]
        return lambda request: _settle(outcomes[request.person], request.person, deps)

    return process_batch(event, context, ScanRequest.from_body, (MalformedMessage,), work)


def _settle(outcome: ScanReport | BaseException, email: str, deps: ScanDeps) -> None:
    if isinstance(outcome, BaseException):
        # its text may name the person: its type only, and a keyed hash (none without the key)
        who = {"person_hash": person_ref(deps.master_key, email)} if deps.master_key else {}
        logger.error("scan failed", extra={**who, "error": type(outcome).__name__})
        count("ScanErrors")
        raise ScanFailed(type(outcome).__name__)
    if outcome.outcome is ScanOutcome.SCANNED:
        count("PeopleScanned")
        for kind, held in ((k, n) for k, n in outcome.holds.items() if n):
            count(f"Holds{kind.title()}", held)
    if outcome.outcome is ScanOutcome.NEEDS_RECONNECT and deps.reconnect is not None:
        deps.reconnect(email)
    if outcome.failed_writes:
        raise ScanFailed(f"{outcome.failed_writes} calendar writes still pending")


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def handler(event: dict[str, Any], context: LambdaContext, deps: ScanDeps | None = None) -> Any:
    return scan_batch(event, context, deps or ScanDeps.real())
