"""Push channels on a person's calendar and the notifications sent on them (Google, Graph).

A channel is opened by the scan (`services.scan.channels`) with a fresh random token; the
Store keeps only the token's hash, so a leaked table cannot forge notifications. A
notification is trusted only when its channel id is stored, its token hashes to the stored
hash (compared in constant time) and its resource id is the one Google gave that channel.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

CHANNEL_TTL = timedelta(days=7)  # what we ask for; Google may give less
# Open a new channel when the live one has less left: three days carry a channel over a
# weekend, when only notified scans run (a lapse then loses notifications until Monday).
RENEW_BEFORE = timedelta(days=3)
PUSH_WINDOW = timedelta(minutes=1)  # notifications of one person in a window: one scan
# (the default of MICROMOMENTS_PUSH_WINDOW_SECONDS; the demo shortens it)


class ResourceState(StrEnum):
    SYNC = "sync"  # the channel was opened: nothing changed
    EXISTS = "exists"  # the watched events changed
    NOT_EXISTS = "not_exists"


@dataclass(frozen=True, slots=True)
class PushChannel:
    """A channel we opened on ``person``'s events, as the Store keeps it."""

    id: str
    person: str
    resource_id: str
    token_hash: str
    expiration: datetime

    def live(self, now: datetime) -> bool:
        return self.expiration > now

    def due_for_renewal(self, now: datetime) -> bool:
        return self.expiration - now < RENEW_BEFORE

    def accepts(self, token: str, resource_id: str | None) -> bool:
        """Whether a notification's token and resource id are this channel's (None: the
        provider names no resource id of ours, as Graph; the token is checked alone)."""
        token_ok = hmac.compare_digest(token_hash(token), self.token_hash)
        if resource_id is None:
            return token_ok
        return token_ok and hmac.compare_digest(resource_id, self.resource_id)


@dataclass(frozen=True, slots=True)
class Notification:
    """The headers of one push message (Google sends no body), or one item of a Graph
    notification (`domain.graph_push`: no resource id of ours, so ``resource_id`` None)."""

    channel_id: str
    token: str
    resource_id: str | None
    state: str
    message_number: int | None = None

    @classmethod
    def from_headers(cls, headers: dict[str, str]) -> Notification:
        """Read the X-Goog-* headers (names case-insensitive); missing ones read as ""."""
        lower = {name.lower(): value for name, value in headers.items()}
        number = lower.get("x-goog-message-number", "")
        return cls(
            channel_id=lower.get("x-goog-channel-id", ""),
            token=lower.get("x-goog-channel-token", ""),
            resource_id=lower.get("x-goog-resource-id", ""),
            state=lower.get("x-goog-resource-state", ""),
            message_number=int(number) if number.isascii() and number.isdigit() else None,
        )


def new_channel_id() -> str:
    return f"mm-{uuid.uuid4().hex}"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def push_window(now: datetime, length: timedelta = PUSH_WINDOW) -> tuple[str, datetime]:
    """The dedup window ``now`` falls in: its key and its end (when its scan may start).
    Windows of ``length`` (whole seconds, at least one) are aligned on the Unix epoch."""
    seconds = int(length.total_seconds())
    if seconds < 1:
        raise ValueError("a push window is at least one second")
    start = int(now.timestamp()) // seconds * seconds
    end = datetime.fromtimestamp(start + seconds, UTC)
    return str(start), end
