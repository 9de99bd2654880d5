"""Ports: the Protocols every outside system is reached through.

Services depend on these; adapters implement them (`adapters.memory` and
`adapters.memory_calendar` for unit tests, `adapters.dynamo` and
`adapters.google_calendar` deployed); `wiring` builds the deployed ones.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

# The ports only name these types (annotations are not evaluated, STYLE.md 2): importing
# them here would load every domain module, pairing and digests included, into every
# function that reaches a port.
if TYPE_CHECKING:
    from email.message import EmailMessage

    from micromoments.domain.access import Session, SignInToken
    from micromoments.domain.day_load import DayLoad
    from micromoments.domain.digest_record import DigestRecord
    from micromoments.domain.digest_request import DigestRequest
    from micromoments.domain.grants import SealedGrant
    from micromoments.domain.holds import Hold
    from micromoments.domain.journal import JournalEntry, WriteOp
    from micromoments.domain.lease import Lease
    from micromoments.domain.mirror import MirrorEvent, SyncState
    from micromoments.domain.pairing import PairingHistoryEntry, PairingRound
    from micromoments.domain.people import Person, PersonStatus
    from micromoments.domain.push import PushChannel
    from micromoments.domain.scan_request import ScanRequest
    from micromoments.domain.settings import OrgSettings


class Unavailable(Exception):
    """A backing service (the table, a queue, a secret) could not be reached or refused the
    request (one clear line): what the site answers 503 to and the CLI prints."""


class StoreError(Unavailable):
    """The Store could not be reached or refused the request (one clear line)."""


class PersonNotFound(StoreError):
    """No person with that address is stored."""


class Store(Protocol):
    """Everything the system knows between runs, in one table (DESIGN.md "State").

    Every create is conditional: ``create_*`` returns False when the item exists already.
    Expiry of tokens, sessions and leases is checked in code; TTL only cleans up.
    """

    # -- the org -------------------------------------------------------------------
    def get_settings(self) -> OrgSettings | None: ...
    def create_settings(self, settings: OrgSettings) -> bool: ...
    def put_settings(self, settings: OrgSettings) -> None: ...

    # -- people --------------------------------------------------------------------
    def create_person(self, person: Person) -> bool: ...
    def get_person(self, email: str) -> Person | None: ...
    def update_person(self, person: Person, *, expected_status: PersonStatus | None = None) -> bool:
        """Replace the profile; with ``expected_status``, only if the stored status is that.

        Raises `PersonNotFound` when there is no such person; returns False when the
        condition failed.
        """
        ...

    def list_people(self) -> Iterator[Person]: ...

    # -- people's own Google grants (sealed; docs/google-access.md) -----------------
    def put_grant(self, grant: SealedGrant) -> None: ...
    def get_grant(self, email: str) -> SealedGrant | None: ...
    def delete_grant(self, email: str) -> None: ...
    def create_connect_attempt(self, state_hash: str, session_hash: str, expires: datetime) -> bool:
        """The OAuth ``state`` of a connect, bound to the session that started it."""
        ...

    def take_connect_attempt(self, state_hash: str) -> tuple[str, datetime] | None:
        """Session hash and expiry of a connect attempt, deleted as it is read (once)."""
        ...

    def scannable_people(self) -> Iterator[str]:
        """Addresses of people whose status is active or leaving (the sparse index)."""
        ...

    def request_erasure(self, email: str) -> None: ...
    def erasure_requested(self, email: str) -> bool: ...
    def erase_person(self, email: str) -> int:
        """Delete every item of an ``opted_out`` person; returns how many were deleted."""
        ...

    def erase_address(self, email: str) -> bool:
        """Delete what is stored under an address that has no profile (sign-in tokens,
        sessions, alias items, their pointers, the sign-in generation). True when nothing
        is left under the address; False, deleting nothing, when it has a profile."""
        ...

    # -- sync state and the event mirror ---------------------------------------------
    def get_sync(self, email: str) -> SyncState | None: ...
    def put_sync(self, email: str, state: SyncState) -> None: ...
    def replace_sync(self, email: str, before: SyncState, after: SyncState) -> bool:
        """Put ``after`` only if the stored token and quiet time are still ``before``'s."""
        ...

    def scan_head(self, email: str) -> tuple[Person | None, SyncState | None]:
        """Profile and sync state in one eventually consistent read (the quick path)."""
        ...

    def mirror(self, email: str) -> list[MirrorEvent]: ...
    def update_mirror(
        self, email: str, upserts: Sequence[MirrorEvent], deletes: Sequence[str] = ()
    ) -> None: ...
    def replace_mirror(self, email: str, events: Sequence[MirrorEvent]) -> None: ...

    # -- day loads ---------------------------------------------------------------------
    def day_loads(self, email: str, first: date, last: date) -> list[DayLoad]: ...
    def put_day_loads(self, email: str, loads: Sequence[DayLoad]) -> None: ...

    # -- holds and the write journal -------------------------------------------------
    def holds(self, email: str) -> list[Hold]: ...
    def put_hold(self, email: str, hold: Hold) -> None: ...
    def put_holds(self, email: str, holds: Sequence[Hold]) -> None:
        """Several hold records in batch writes."""
        ...

    def create_hold(self, email: str, hold: Hold) -> bool:
        """Record a hold unless one with its id is recorded already (a planned shared hold)."""
        ...

    def add_journal(self, email: str, entry: JournalEntry) -> bool: ...
    def pending_journal(self, email: str) -> list[JournalEntry]: ...
    def mark_applied(self, email: str, entry: JournalEntry) -> None: ...
    def mark_all_applied(self, email: str, entries: Sequence[JournalEntry]) -> None:
        """Mark several journal entries applied, in batch writes."""
        ...

    # -- the weekly digest ---------------------------------------------------------------
    def claim_digest(self, email: str, iso_week: str, now: datetime) -> bool: ...
    def mark_digest_sent(self, email: str, iso_week: str, now: datetime) -> None: ...
    def get_digest(self, email: str, iso_week: str) -> DigestRecord | None: ...
    def release_digest(self, email: str, iso_week: str) -> None:
        """Drop a claim that is still ``claimed`` (the email was not sent), so a retry may
        claim the week again; a ``sent`` record is left alone."""
        ...

    # -- the scan lease ----------------------------------------------------------------
    def acquire_lease(self, lease: Lease, now: datetime) -> bool:
        """Take the person's lease if nobody holds it or the holder's lease expired."""
        ...

    def release_lease(self, lease: Lease) -> None: ...

    # -- coffee pairing --------------------------------------------------------------
    def create_round(self, pairing_round: PairingRound) -> bool: ...
    def get_round(self, iso_week: str) -> PairingRound | None: ...
    def add_pairing_history(self, entries: Sequence[PairingHistoryEntry]) -> None: ...
    def pairing_history(self, pseudonym: str) -> list[PairingHistoryEntry]: ...
    def purge_pairing_history(self, pseudonym: str) -> int: ...
    def purge_pseudonym(self, pseudonym: str) -> int: ...
    def put_aliases(self, aliases: Mapping[str, str]) -> None:
        """Record ``pseudonym -> address`` for members of shared events (erased with them)."""
        ...

    def address_of(self, alias: str) -> str | None:
        """The address behind a member's pseudonym; None once they are erased."""
        ...

    # -- push channels ---------------------------------------------------------------
    def put_channel(self, channel: PushChannel) -> None: ...
    def get_channel(self, channel_id: str) -> PushChannel | None: ...
    def channels(self, email: str) -> list[PushChannel]:
        """The channels stored for a person (live or not)."""
        ...

    def delete_channel(self, channel: PushChannel) -> None: ...
    def claim_push_scan(self, email: str, window: str, expires_at: datetime) -> bool:
        """Record that a push scan of the person was asked for in a window; False when
        one was already (a burst of notifications is one scan)."""
        ...

    def release_push_scan(self, email: str, window: str) -> None:
        """Drop a claim whose scan could not be enqueued, so a retry may claim again."""
        ...

    # -- sign-in tokens and sessions ---------------------------------------------------
    def create_sign_in_token(self, token: SignInToken) -> bool:
        """Store a token under its address's current sign-in generation (one is made when
        the address has none); the token is valid only while that generation is current."""
        ...

    def peek_sign_in_token(self, token_hash: str, now: datetime) -> SignInToken | None:
        """A valid token, unchanged (a page may show whom it signs in; mail scanners
        prefetch links, so looking must not use it up)."""
        ...

    def consume_sign_in_token(self, token_hash: str, now: datetime) -> SignInToken | None:
        """Mark a valid token used and return it (with its generation); None if missing,
        used, expired or of an ended generation."""
        ...

    def create_session(self, session: Session) -> bool:
        """Store a session under the generation it carries (its token's): a session of an
        ended generation is never valid, even one created after the end."""
        ...

    def end_sessions(self, email: str) -> None:
        """Sign the address out everywhere: its sign-in generation ends, so every session
        and unused sign-in link of it stops working at once; their items are deleted."""
        ...

    def session_current(self, session: Session) -> bool:
        """Whether the session's generation is still its address's current one (checked
        again by a change that must not outlive a sign-out, after it read the profile)."""
        ...

    def rate_count(self, key: str, window: str) -> int:
        """How many requests a rate-limit key (a keyed hash) counted in a window."""
        ...

    def take(self, key: str, window: str, expires_at: datetime, limit: int) -> bool:
        """Count one request against a rate-limit key in a window unless it already counted
        ``limit`` there; False (and nothing counted) when it had."""
        ...

    # -- emailed links (unsubscribe, opt out) ------------------------------------------
    def link_generation(self, address_hash: str) -> int:
        """The generation of a person's emailed links (0 until an erasure bumps it)."""
        ...

    def bump_link_generation(self, address_hash: str, at: datetime, keep_until: datetime) -> int:
        """Start a new generation (at least ``at`` in epoch seconds, and above the current
        one), so links issued before are refused; the record is kept until ``keep_until``."""
        ...

    def get_session(self, session_hash: str, now: datetime) -> Session | None:
        """The session if it is unexpired at ``now`` and of the current generation."""
        ...

    def touch_session(self, session_hash: str, now: datetime) -> None: ...
    def delete_session(self, session_hash: str) -> None: ...


# -- Google Calendar -------------------------------------------------------------------------


class CalendarError(Exception):
    """A Calendar API call failed after its retries (one clear line)."""


class SubjectRefused(CalendarError):
    """The gateway will not act for this person (status not active; leaving: reads and
    deletes of our own events only)."""


class SubjectSuspended(CalendarError):
    """Google answered ``invalid_grant`` for this subject while others succeed: the
    account is suspended or gone. The person is marked so and skipped."""


class GrantRevoked(SubjectSuspended):
    """The person's own Google grant (per-person OAuth) answered ``invalid_grant``: they
    revoked it, or it expired. The person becomes ``needs_reconnect`` until they connect
    again; nothing is written."""


class DelegationMisconfigured(CalendarError):
    """Google answered ``unauthorized_client``: domain-wide delegation is not set up.
    Fails the whole batch loudly and marks nobody."""


@dataclass(frozen=True, slots=True)
class SyncResult:
    """One sync of a person's calendar.

    ``full`` is True for a full sync (no token yet, or Google answered 410): ``events`` is
    then the whole calendar from ``full_from`` on and the mirror is replaced. Otherwise
    ``events`` holds only what changed, cancelled ones included (see `mirror_changes`).
    ``token`` is the ``nextSyncToken`` of the last page.
    """

    events: list[MirrorEvent]
    token: str
    full: bool


@dataclass(frozen=True, slots=True)
class CalendarWrite:
    """One insert, patch (time and busy/free; the guest list too when ``attendees_changed``)
    or delete of a hold on a person's calendar. ``guests``: the addresses behind a shared
    hold's attendees (the Store keeps pseudonyms; the scan resolves them for the write)."""

    op: WriteOp
    hold: Hold
    attendees_changed: bool = False
    guests: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What became of one write. ``status``: ``ok``; ``conflict`` (409: the id exists,
    e.g. kept as cancelled after a delete); ``gone`` (404/410 on patch or delete);
    ``failed`` (after retries; ``message`` says why). ``retried``: the write was sent more
    than once, so an earlier copy may still be applied after this answer."""

    hold_id: str
    op: WriteOp
    status: str
    etag: str | None = None
    message: str = ""
    retried: bool = False


@dataclass(slots=True)
class CalendarCounters:
    """What a gateway sent: Google requests (each call in a batch counts, as the quota
    counts them), HTTP round trips and OAuth token round trips."""

    requests: int = 0
    round_trips: int = 0
    oauth_round_trips: int = 0
    by_method: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WatchChannel:
    """A push channel on a person's events (``events.watch``; on Graph a subscription,
    whose id is the channel's): Google's ``resourceId`` (needed to stop it) and when it
    expires."""

    id: str
    resource_id: str
    resource_uri: str
    expiration: datetime


class CalendarGateway(Protocol):
    """A person's Google calendar, addressed by their email as calendarId."""

    counters: CalendarCounters

    def sync(self, email: str, token: str | None, *, full_from: datetime) -> SyncResult:
        """Full sync (``token`` None: from ``full_from``, no end bound, singleEvents=false)
        or a delta; a 410 on the token falls back to a clean full sync."""
        ...

    def timezone(self, email: str) -> str:
        """The calendar's time zone (``settings.get('timezone')``)."""
        ...

    def get_event(self, email: str, event_id: str) -> MirrorEvent | None:
        """One event by id (a cancelled one too); None when the id is unknown."""
        ...

    def write(self, email: str, writes: Sequence[CalendarWrite]) -> list[WriteResult]:
        """Apply writes in batch requests of at most 50 calls, one result per write."""
        ...

    def free_busy(
        self, emails: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, list[tuple[datetime, datetime]] | None]:
        """Busy intervals per calendar (None where that calendar failed), 50 a request:
        sorted, disjoint UTC intervals cut to ``[start, end)``, of the events DESIGN counts
        as busy (not cancelled, not declined, not free, not a working location; all-day
        ones on the calendar's own dates), as Google's freeBusy answers."""
        ...

    def watch(
        self, email: str, channel_id: str, token: str, address: str, ttl: timedelta
    ) -> WatchChannel:
        """Open a push channel on the person's events: Google POSTs to ``address`` (with
        ``token`` in ``X-Goog-Channel-Token``) on every change until the channel expires,
        ``ttl`` from now at most. Only for an active person."""
        ...

    def stop_channel(self, email: str, channel_id: str, resource_id: str) -> bool:
        """Stop a channel opened for ``email`` (any status: stopping only narrows access);
        False when Google no longer knows it (stopped or expired already)."""
        ...

    def revoke_grant(self, email: str) -> bool:
        """Revoke the person's own Google grant (per-person OAuth) at Google and forget it;
        False when they have none (delegation reaches them, or nothing does)."""
        ...


# -- outbound email --------------------------------------------------------------------------


class MailError(Exception):
    """A message could not be sent (one clear line; never the body)."""


class Mailer(Protocol):
    """Outbound email: sign-in links and the weekly digest."""

    def send(self, message: EmailMessage) -> str:
        """Send one fully formed MIME message (From, To, Subject and any headers set by the
        caller); return the provider's message id. Raises MailError (one clear line) on
        failure."""
        ...


# -- work queues -----------------------------------------------------------------------------


class ScanQueue(Protocol):
    """The scan queue: one message a person to scan."""

    def send(self, requests: list[ScanRequest], *, delay_seconds: int = 0) -> None:
        """Enqueue scan requests (at most 10 per call, as SQS SendMessageBatch takes);
        ``delay_seconds`` (0-900) holds them back, as a push scan waits for its minute."""
        ...


class DigestQueue(Protocol):
    """The digest queue: one message a person and ISO week to email."""

    def send(self, requests: list[DigestRequest]) -> None:
        """Enqueue digest requests (at most 10 per call, as SQS SendMessageBatch takes)."""
        ...
