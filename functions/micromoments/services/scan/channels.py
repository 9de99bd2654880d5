"""The life of a person's push channel, run by their scan (which holds the Google access).

An active person keeps one live channel with more than `RENEW_BEFORE` left: the scan opens
one when none is stored, the stored one expired or is about to, and stops the ones it
replaces once the new one is stored (the two overlap, so no change goes unnotified). A
leaving person's channels are stopped and forgotten. A channel lost to an error (a failed
watch, a failed stop, an expiry) is noticed by the next scan and put right; a Calendar error
here never fails the scan, whose calendar work is done.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from micromoments.domain.push import (
    CHANNEL_TTL,
    PushChannel,
    new_channel_id,
    new_token,
    token_hash,
)
from micromoments.ports import CalendarError, CalendarGateway, Store


class ChannelOutcome(StrEnum):
    KEPT = "kept"
    OPENED = "opened"
    FAILED = "failed"  # Google refused or failed: the next scan tries again
    CLOSED = "closed"


def keep_channel(
    email: str, *, store: Store, calendar: CalendarGateway, address: str, now: datetime
) -> ChannelOutcome:
    """Make sure ``email`` has a live channel to ``address`` that does not expire soon."""
    stored = store.channels(email)
    if any(channel.live(now) and not channel.due_for_renewal(now) for channel in stored):
        return ChannelOutcome.KEPT
    token = new_token()
    try:
        watched = calendar.watch(email, new_channel_id(), token, address, CHANNEL_TTL)
    except CalendarError:
        return ChannelOutcome.FAILED
    store.put_channel(
        PushChannel(
            id=watched.id,
            person=email,
            resource_id=watched.resource_id,
            token_hash=token_hash(token),
            expiration=watched.expiration,
        )
    )
    for old in stored:
        _stop(old, store, calendar)
    return ChannelOutcome.OPENED


def close_channels(email: str, *, store: Store, calendar: CalendarGateway) -> ChannelOutcome:
    """Stop every channel stored for ``email`` and forget it (opt-out, erasure). One whose
    stop failed stays stored, so the next scan or the erasure tries again."""
    stored = store.channels(email)
    closed = [channel for channel in stored if _stop(channel, store, calendar)]
    return ChannelOutcome.CLOSED if len(closed) == len(stored) else ChannelOutcome.FAILED


def _stop(channel: PushChannel, store: Store, calendar: CalendarGateway) -> bool:
    """Stop one channel (Google no longer knowing it counts as stopped) and forget it."""
    try:
        calendar.stop_channel(channel.person, channel.id, channel.resource_id)
    except CalendarError:
        return False
    store.delete_channel(channel)
    return True
