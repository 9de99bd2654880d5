"""A change notification from Google or Graph -> at most one scan of its person per window.

Every notification is verified against the Store (docs/decisions.md "Push notifications"):
its channel id must be one we opened and stored, its token must hash to that channel's
stored hash (compared in constant time) and its resource id must be the one Google gave
that channel on that person's calendar (Graph names none of ours: its subscription id and
client state are checked, `domain.graph_push`). Anything else is dropped: the verdict says
why, for a metric, and the caller answers it like any other (no detail to a forger). A
`sync` message changes nothing. A verified `exists` claims the person's push window in the
Store (a conditional write); the first claim reads the person and, when they are active,
enqueues one scan, delayed to the window's end, so it sees every change notified in the
window; later ones in the window are counted only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from micromoments.domain.people import PersonStatus
from micromoments.domain.push import PUSH_WINDOW, Notification, ResourceState, push_window
from micromoments.domain.scan_request import ScanReason, ScanRequest
from micromoments.ports import ScanQueue, Store

_KEEP_CLAIM = timedelta(hours=1)  # the claim's TTL after its window (clean-up only)
MAX_HEADER = 256  # longer ids or tokens are not ours: dropped before any Store read


class Verdict(StrEnum):
    SCAN_QUEUED = "scan_queued"
    DEDUPLICATED = "deduplicated"  # a scan for this window is queued already
    SYNC = "sync"  # the channel's first message: nothing to do
    IGNORED_STATE = "ignored_state"  # a verified message of another state
    UNKNOWN_CHANNEL = "unknown_channel"
    WRONG_TOKEN = "wrong_token"
    WRONG_RESOURCE = "wrong_resource"
    EXPIRED_CHANNEL = "expired_channel"
    INACTIVE_PERSON = "inactive_person"  # the channel's person is no longer active

    @property
    def forged(self) -> bool:
        return self in _DROPPED


_DROPPED = frozenset(
    {
        Verdict.UNKNOWN_CHANNEL,
        Verdict.WRONG_TOKEN,
        Verdict.WRONG_RESOURCE,
        Verdict.EXPIRED_CHANNEL,
        Verdict.INACTIVE_PERSON,
    }
)


def receive(
    notification: Notification,
    *,
    store: Store,
    queue: ScanQueue,
    now: datetime,
    window_length: timedelta = PUSH_WINDOW,
) -> Verdict:
    """Verify one notification and enqueue its person's scan when due.

    Raises only when the Store or the queue failed (the caller answers 5xx, so Google
    retries); a claim whose scan could not be enqueued is released first.
    """
    channel_id = notification.channel_id
    if not channel_id or len(channel_id) > MAX_HEADER or len(notification.token) > MAX_HEADER:
        return Verdict.UNKNOWN_CHANNEL
    channel = store.get_channel(channel_id)
    if channel is None:
        return Verdict.UNKNOWN_CHANNEL
    token_ok = channel.accepts(notification.token, channel.resource_id)
    if not token_ok:
        return Verdict.WRONG_TOKEN
    if not channel.accepts(notification.token, notification.resource_id):
        return Verdict.WRONG_RESOURCE
    if not channel.live(now):
        return Verdict.EXPIRED_CHANNEL
    if notification.state == ResourceState.SYNC:
        return Verdict.SYNC
    if notification.state != ResourceState.EXISTS:
        return Verdict.IGNORED_STATE
    window, window_end = push_window(now, window_length)
    if not store.claim_push_scan(channel.person, window, window_end + _KEEP_CLAIM):
        return Verdict.DEDUPLICATED
    person = store.get_person(channel.person)
    if person is None or person.status is not PersonStatus.ACTIVE:
        return Verdict.INACTIVE_PERSON  # the claim stays: the window's others read nothing
    delay = max(0, min(900, round((window_end - now).total_seconds())))
    try:
        queue.send([ScanRequest(channel.person, ScanReason.PUSH)], delay_seconds=delay)
    except BaseException:
        store.release_push_scan(channel.person, window)
        raise
    return Verdict.SCAN_QUEUED


def receive_all(
    notifications: Sequence[Notification],
    store: Store,
    queue: ScanQueue,
    now: datetime,
    window_length: timedelta = PUSH_WINDOW,
) -> list[Verdict]:
    """`receive` each of a request's notifications (Graph sends several a POST), in order;
    a Store or queue failure raises at once (the sender retries the whole request, and the
    claims already made deduplicate what it repeats)."""
    return [
        receive(n, store=store, queue=queue, now=now, window_length=window_length)
        for n in notifications
    ]
