"""The weekly digests, after the runs: dispatched, queued and sent through SES (moto's)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from micromoments.clock import Clock, wall_clock
from micromoments.local.demo.pipeline import Progress, scheduled_time
from micromoments.local.queue_drain import LocalQueue, drain
from micromoments.local.runtime import LocalRuntime

if TYPE_CHECKING:
    from micromoments.adapters.table import TableStore


def send_digests(
    runtime: LocalRuntime,
    store: TableStore,
    emails: Sequence[str],
    outbox: Path,
    progress: Progress,
    clock: Clock = wall_clock,
) -> dict[str, Any]:
    """The weekly digest, after the runs: the digest dispatch handler queues whoever's send
    time has come, the demo queues the others for their current week (so everyone's digest
    goes out on any day), and the digest queue is drained into the send handler. Mail goes
    through SES (moto's) and into ``outbox`` as .eml and .html. What became of it, from
    SES's own count and the digest records."""
    import boto3

    from micromoments import wiring
    from micromoments.adapters.mail import OutboxMailer
    from micromoments.domain.digest import DigestState
    from micromoments.domain.digest_request import DigestRequest
    from micromoments.handlers import digest as digest_handlers
    from micromoments.local.serve import DEFAULT_PORT
    from micromoments.services.digest import current_week, due_people

    started = time.perf_counter()
    runtime.use_environment(
        {
            "MICROMOMENTS_OUTBOX_DIR": str(outbox.resolve()),
            "MICROMOMENTS_PUBLIC_BASE_URL": f"http://127.0.0.1:{DEFAULT_PORT}",
            "MICROMOMENTS_SENDER_ADDRESS": runtime.sender,
        }
    )
    ses, sqs = boto3.client("ses"), boto3.client("sqs")
    ses_before = int(ses.get_send_quota()["SentLast24Hours"])
    outbox_before = len(OutboxMailer(outbox).messages())

    now = clock()
    hour = now.replace(minute=0, second=0, microsecond=0)
    weeks = dict(due_people(store, hour))  # what the dispatch handler is about to queue
    event = {"kind": "digest", "scheduled_time": scheduled_time(hour)}
    answer = runtime.invoke(digest_handlers.dispatch_handler, event, function="micromoments-digest")
    dispatched = int(answer.get("enqueued", 0))
    others = [DigestRequest(e, current_week(store, e, now)) for e in emails if e not in weeks]
    if others:
        wiring.digest_queue().send(others)
    weeks.update((request.person, request.iso_week) for request in others)
    settings = store.get_settings()
    send_time = settings.digest_send if settings else "Fri 15:00"
    note = (
        f" (+{len(others)} queued by the demo: their send time, {send_time} local, has not "
        "come yet this week)"
        if others
        else ""
    )
    progress(f"weekly digests: dispatch queued {dispatched}{note}")

    digest_queue = LocalQueue(sqs, runtime.digest_queue_url)

    def send_at_clock(event: dict[str, Any], context: Any) -> Any:
        deps = dataclasses.replace(digest_handlers.SendDeps.real(), now=clock)
        return digest_handlers.send_handler(event, context, deps=deps)

    def handler(event: dict[str, Any]) -> Any:
        return runtime.invoke(send_at_clock, event, function="micromoments-digest-send")

    deliveries = drain(digest_queue, handler, expected=len(weeks))
    failed_messages = sum(len(delivery.failed) for delivery in deliveries)

    records = {email: store.get_digest(email, week) for email, week in weeks.items()}
    marked = sum(1 for r in records.values() if r is not None and r.state is DigestState.SENT)
    unsent = sum(1 for r in records.values() if r is None)
    left = digest_queue.depth()
    sent = int(ses.get_send_quota()["SentLast24Hours"]) - ses_before
    report = {
        "sent": sent,
        "quiet": marked - sent,
        "skipped": unsent - left,
        "failed": left,
        "dispatched": dispatched,
        "queued_by_demo": len(others),
        "in_outbox": len(OutboxMailer(outbox).messages()) - outbox_before,
        "failed_messages": failed_messages,
    }
    progress(
        f"  done in {time.perf_counter() - started:.1f} s: {report['sent']} sent through SES "
        f"and written to {outbox}, {report['quiet']} quiet weeks (no email), "
        f"{report['skipped']} skipped, {report['failed']} failed"
    )
    return report
