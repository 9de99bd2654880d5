"""The `GoogleCalendarGateway`: the `CalendarGateway` over Google Calendar v3 (see the package
docstring for what it does)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

import httplib2  # type: ignore[import-untyped]
from googleapiclient.discovery import build  # type: ignore[import-untyped]
from googleapiclient.errors import BatchError, HttpError  # type: ignore[import-untyped]

from micromoments.adapters.google_access import GoogleAccess, google_access
from micromoments.adapters.google_calendar.calls import (
    NETWORK_ERRORS,
    Batch,
    CalendarApiError,
    Failure,
    Outcome,
    batch_url,
    chunked,
    failure_of,
    write_result,
)
from micromoments.adapters.google_calendar.delegation import SCOPES, SubjectHttp, credentials_of
from micromoments.adapters.google_calendar.resources import (
    EPOCH,
    busy_intervals,
    mapping,
    mappings,
    normalise,
    rfc3339,
    write_request,
)
from micromoments.config import Config
from micromoments.domain.calendar import EventKind
from micromoments.domain.journal import WriteOp
from micromoments.domain.mirror import MirrorEvent
from micromoments.domain.people import PersonStatus
from micromoments.ports import (
    CalendarCounters,
    CalendarError,
    CalendarWrite,
    SubjectRefused,
    SubjectSuspended,
    SyncResult,
    WatchChannel,
    WriteResult,
)

if TYPE_CHECKING:
    from micromoments.adapters.personal_grants import PersonalGrants

PAGE_SIZE = 250  # events per page of events.list (Google's default and a fixed size)
BATCH_CALLS = 50  # calls per batch request (Google's limit for Calendar)
FREEBUSY_CALENDARS = 50  # calendars per freeBusy query (Google's calendarExpansionMax)

_BACKOFF_BASE_S, _BACKOFF_CAP_S = 0.5, 32.0  # full jitter: a pause up to base * 2^n, capped
_READERS = frozenset({PersonStatus.ACTIVE, PersonStatus.LEAVING})
_FREEBUSY_ASKERS = 3  # people tried in turn to ask a freeBusy query as


class GoogleCalendarGateway:
    """The `CalendarGateway` on Google Calendar v3 (or any server speaking it).

    Thread-safe for different people at once (one transport per subject, counters under a
    lock); calls for one person are serialised by that person's transport.
    """

    def __init__(
        self,
        config: Config,
        *,
        status_of: Callable[[str], PersonStatus | None],
        ours: Callable[[str], set[str]],
        read_status_of: Callable[[str], PersonStatus | None] | None = None,
        key_info: Mapping[str, Any] | None = None,
        grants: PersonalGrants | None = None,
        batching: bool = True,
        timeout_s: float = 10,
        max_attempts: int = 6,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.counters = CalendarCounters()
        self._status_of = status_of
        # reads may check a status read eventually consistent (half the price; at most a
        # second stale): a read harms no calendar, and writes always check ``status_of``
        self._read_status_of = read_status_of or status_of
        self._ours = ours
        self._batching = batching
        self._timeout_s = timeout_s
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._static_token = config.calendar_api_token
        self._batch_uri = batch_url(config.calendar_api_url)
        self._lock = threading.Lock()
        self._transports: dict[str, SubjectHttp] = {}
        self._grants = grants
        self.access: GoogleAccess | None = None
        if key_info is not None:
            try:
                self.access = google_access(
                    key_info, token_uri=config.google_token_uri, scopes=SCOPES
                )
            except ValueError as exc:
                raise CalendarError(str(exc)) from None
        self._service = build(
            "calendar",
            "v3",
            http=httplib2.Http(timeout=timeout_s),
            static_discovery=True,
            cache_discovery=False,
            client_options={"api_endpoint": config.calendar_api_url},
        )
        # Resource objects are built from the discovery document on every access: once here.
        self._events = self._service.events()
        self._settings = self._service.settings()
        self._freebusy = self._service.freebusy()
        self._channels = self._service.channels()

    # -- counters ------------------------------------------------------------------------

    def _count_request(self, method: str) -> None:
        with self._lock:
            self.counters.requests += 1
            self.counters.by_method[method] = self.counters.by_method.get(method, 0) + 1

    def _count_round_trip(self) -> None:
        with self._lock:
            self.counters.round_trips += 1

    def _count_oauth_round_trip(self) -> None:
        with self._lock:
            self.counters.oauth_round_trips += 1

    # -- who we act for ------------------------------------------------------------------

    def _status(self, email: str, *, reading: bool = False) -> PersonStatus:
        status = (self._read_status_of if reading else self._status_of)(email)
        if status is None:
            raise SubjectRefused(f"{email}: not a known person")
        return status

    def _allow_read(self, email: str) -> None:
        status = self._status(email, reading=True)
        if status not in _READERS:
            raise SubjectRefused(f"{email}: status is {status.value}; no calendar access")

    def _allow_writes(self, email: str, writes: Sequence[CalendarWrite]) -> None:
        status = self._status(email)
        if status not in _READERS:
            raise SubjectRefused(f"{email}: status is {status.value}; no calendar access")
        ours: set[str] | None = None
        for write in writes:
            if write.op is WriteOp.INSERT:
                if status is PersonStatus.LEAVING:
                    raise SubjectRefused(f"{email}: leaving; no new events")
                continue
            if ours is None:
                ours = self._ours(email)
            if write.hold.id not in ours:
                raise SubjectRefused(
                    f"{email}: event {write.hold.id} is not recorded as ours; no {write.op.value}"
                )
            if status is PersonStatus.LEAVING and write.op is not WriteOp.DELETE:
                raise SubjectRefused(f"{email}: leaving; only deletes of our events")

    def _allow_watch(self, email: str) -> None:
        status = self._status(email)
        if status is not PersonStatus.ACTIVE:
            raise SubjectRefused(f"{email}: status is {status.value}; no new channels")

    def _transport(self, email: str) -> SubjectHttp:
        subject = email.strip().lower()
        with self._lock:  # built outside the lock: a grant is read from the Store
            if subject in self._transports:
                return self._transports[subject]
        credentials = credentials_of(subject, self._grants, self.access)  # and whether own
        transport = SubjectHttp(self, subject, *credentials, timeout_s=self._timeout_s)
        with self._lock:
            return self._transports.setdefault(subject, transport)

    def forget_transport(self, email: str) -> None:
        with self._lock:  # the next call builds it anew (with a new grant)
            self._transports.pop(email.strip().lower(), None)

    def revoke_grant(self, email: str) -> bool:
        self.forget_transport(email)
        return self._grants.revoke(email.strip().lower()) if self._grants is not None else False

    # -- sending ---------------------------------------------------------------------------

    def _backoff(self, attempt: int) -> None:
        """Full jitter: a random pause up to base * 2^(attempt-1), capped."""
        ceiling = min(_BACKOFF_CAP_S, _BACKOFF_BASE_S * 2 ** (attempt - 1))
        self._sleep(self._rng.uniform(0, ceiling))

    def _send_one(self, transport: SubjectHttp, request: Any) -> Outcome:
        """Send one call; a 401 (expired or revoked token) fetches a new token and sends the
        call once more."""
        for retry_401 in (transport.refreshable, False):
            self._count_request(str(request.methodId))
            try:
                return Outcome(response=request.execute(http=transport))
            except HttpError as exc:
                if retry_401 and int(exc.resp.status) == 401:
                    transport.refresh()
                    continue
                return Outcome(failure=failure_of(exc))
            except NETWORK_ERRORS as exc:
                return Outcome(failure=failure_of(exc))
        raise AssertionError("unreachable")  # pragma: no cover

    def _call(self, transport: SubjectHttp, make_request: Callable[[], Any]) -> Any:
        """One call, retried while it fails transiently; `CalendarApiError` otherwise."""
        attempt = 1
        while True:
            request = make_request()
            outcome = self._send_one(transport, request)
            if outcome.failure is None:
                return outcome.response
            if not outcome.failure.transient or attempt >= self._max_attempts:
                raise CalendarApiError(str(request.methodId), outcome.failure)
            self._backoff(attempt)
            attempt += 1

    def _send_batch(
        self, transport: SubjectHttp, requests: Sequence[tuple[int, Any]]
    ) -> dict[int, Outcome]:
        outcomes: dict[int, Outcome] = {}

        def collect(request_id: str, response: Any, exception: BaseException | None) -> None:
            failure = failure_of(exception) if exception is not None else None
            outcomes[int(request_id)] = Outcome(response=response, failure=failure)

        batch = Batch(callback=collect, batch_uri=self._batch_uri, on_redo=self._count_request)
        for key, request in requests:
            batch.add(request, request_id=str(key))
            self._count_request(str(request.methodId))
        try:
            batch.execute(http=transport)
        except (HttpError, BatchError, KeyError, *NETWORK_ERRORS) as exc:
            whole = failure_of(exc)  # the batch as a whole failed: every part may be retried
            outcomes = {key: outcomes.get(key, Outcome(failure=whole)) for key, _ in requests}
        for key, _ in requests:
            outcomes.setdefault(
                key,
                Outcome(failure=Failure(None, "missing", "no answer in the batch", True)),
            )
        return outcomes

    # -- CalendarGateway -------------------------------------------------------------------

    def sync(self, email: str, token: str | None, *, full_from: datetime) -> SyncResult:
        self._allow_read(email)
        transport = self._transport(email)
        if token is not None:
            try:
                events, next_token = self._list(transport, email, {"syncToken": token})
            except CalendarApiError as exc:
                if exc.status != 410:
                    raise
            else:
                return SyncResult(events=events, token=next_token, full=False)
        params = {"timeMin": rfc3339(full_from), "showDeleted": False}
        events, next_token = self._list(transport, email, params)
        return SyncResult(events=events, token=next_token, full=True)

    def _list(
        self, transport: SubjectHttp, email: str, params: Mapping[str, Any]
    ) -> tuple[list[MirrorEvent], str]:
        events: list[MirrorEvent] = []
        last: Mapping[str, Any] = {}
        for page in self._pages(transport, email, params):
            events.extend(normalise(item, email) for item in mappings(page.get("items")))
            last = page
        token = last.get("nextSyncToken")
        if not token:
            raise CalendarError(f"events.list for {email}: the last page has no nextSyncToken")
        return events, str(token)

    def _pages(
        self, transport: SubjectHttp, email: str, params: Mapping[str, Any]
    ) -> Iterator[Mapping[str, Any]]:
        """The pages of one events.list, following page tokens (STYLE.md 7)."""
        page_token: str | None = None
        while True:
            query = {
                "calendarId": email,
                "singleEvents": False,
                "maxResults": PAGE_SIZE,
                **params,
                **({"pageToken": page_token} if page_token else {}),
            }
            page = self._call(transport, partial(self._events.list, **query))
            yield mapping(page)
            page_token = mapping(page).get("nextPageToken")
            if not page_token:
                return

    def timezone(self, email: str) -> str:
        self._allow_read(email)
        setting = self._call(
            self._transport(email),
            lambda: self._settings.get(setting="timezone"),
        )
        value = mapping(setting).get("value")
        if not value:
            raise CalendarError(f"settings.get timezone for {email}: no value")
        return str(value)

    def get_event(self, email: str, event_id: str) -> MirrorEvent | None:
        self._allow_read(email)
        try:
            resource = self._call(
                self._transport(email),
                lambda: self._events.get(calendarId=email, eventId=event_id),
            )
        except CalendarApiError as exc:
            if exc.status == 404:
                return None
            if exc.status == 410:  # deleted: kept by Google as cancelled
                return MirrorEvent(
                    id=event_id, start=EPOCH, end=EPOCH, kind=EventKind.SOLO, cancelled=True
                )
            raise
        return normalise(mapping(resource), email)

    def write(self, email: str, writes: Sequence[CalendarWrite]) -> list[WriteResult]:
        self._allow_writes(email, writes)
        transport = self._transport(email)
        results: dict[int, WriteResult] = {}
        pending = list(range(len(writes)))
        attempt = 1
        while pending:
            outcomes: dict[int, Outcome] = {}
            if self._batching:
                for chunk in chunked(pending, BATCH_CALLS):
                    requests = [(i, write_request(self._events, email, writes[i])) for i in chunk]
                    outcomes.update(self._send_batch(transport, requests))
            else:
                for i in pending:
                    outcomes[i] = self._send_one(
                        transport, write_request(self._events, email, writes[i])
                    )
            retry: list[int] = []
            for i in pending:
                outcome = outcomes[i]
                failure = outcome.failure
                if failure is not None and failure.transient and attempt < self._max_attempts:
                    retry.append(i)
                else:
                    results[i] = write_result(writes[i], outcome, attempt)
            if retry:
                self._backoff(attempt)
                attempt += 1
            pending = retry
        return [results[i] for i in range(len(writes))]

    def free_busy(
        self,
        emails: Sequence[str],
        start: datetime,
        end: datetime,
        *,
        subject: str | None = None,
    ) -> dict[str, list[tuple[datetime, datetime]] | None]:
        """Busy intervals per calendar (None where that calendar failed), 50 a request.

        The query is sent as ``subject`` when given, else as the first person of each chunk
        the gateway may act for (the next one if that account turns out suspended).
        """
        result: dict[str, list[tuple[datetime, datetime]] | None] = {}
        for chunk in chunked(list(dict.fromkeys(emails)), FREEBUSY_CALENDARS):
            body = {
                "timeMin": rfc3339(start),
                "timeMax": rfc3339(end),
                "items": [{"id": email} for email in chunk],
            }
            answer = self._free_busy_as(subject, chunk, body)
            calendars = mapping(mapping(answer).get("calendars"))
            for email in chunk:
                result[email] = busy_intervals(calendars.get(email))
        return result

    def _free_busy_as(
        self, subject: str | None, chunk: Sequence[str], body: Mapping[str, Any]
    ) -> Any:
        if subject is not None:
            askers = [subject]
        else:
            askers = [e for e in chunk if self._status_of(e) in _READERS][:_FREEBUSY_ASKERS]
            if not askers:
                raise SubjectRefused("freeBusy: none of these people may be acted for")
        for number, asker in enumerate(askers, start=1):
            self._allow_read(asker)
            try:
                return self._call(self._transport(asker), partial(self._freebusy.query, body=body))
            except SubjectSuspended:
                if number == len(askers):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def watch(
        self, email: str, channel_id: str, token: str, address: str, ttl: timedelta
    ) -> WatchChannel:
        self._allow_watch(email)
        seconds = int(ttl.total_seconds())
        if seconds < 1:
            raise ValueError("a channel's ttl must be at least one second")
        body = {
            "id": channel_id,
            "type": "web_hook",
            "address": address,
            "token": token,
            "params": {"ttl": str(seconds)},
        }
        answer = mapping(
            self._call(
                self._transport(email), partial(self._events.watch, calendarId=email, body=body)
            )
        )
        resource_id, expiration = answer.get("resourceId"), answer.get("expiration")
        if not resource_id or not str(expiration or "").isdigit():
            raise CalendarError(f"events.watch for {email}: no resourceId or expiration")
        return WatchChannel(
            id=str(answer.get("id") or channel_id),
            resource_id=str(resource_id),
            resource_uri=str(answer.get("resourceUri") or ""),
            expiration=datetime.fromtimestamp(int(str(expiration)) / 1000, tz=UTC),
        )

    def stop_channel(self, email: str, channel_id: str, resource_id: str) -> bool:
        body = {"id": channel_id, "resourceId": resource_id}
        try:
            self._call(self._transport(email), partial(self._channels.stop, body=body))
        except CalendarApiError as exc:
            if exc.status == 404:
                return False
            raise
        return True
