"""Google Calendar: the `CalendarGateway` over google-api-python-client.

What it does (DESIGN.md "Google access and its blast radius", "State"):

- **Who it acts for.** Every call names a person (their address is the calendarId and,
  with a key, the delegation subject). The gateway asks the Store for that person's status
  and refuses (`SubjectRefused`) anyone who is not ``active``; a ``leaving`` person allows
  reads and deletes of events the Store records as ours. Nobody's event is ever patched or
  deleted unless the Store records it as ours.
- **Auth.** With a service-account key or, keyless, a workload identity federation
  credential configuration (`adapters.google_access`): domain-wide delegation with the
  three narrow `SCOPES`, one credential per subject, cached for the gateway's life. Token fetches go
  through a counting request (``counters.oauth_round_trips``, kept apart from
  ``round_trips``). ``invalid_grant`` -> `SubjectSuspended`; ``unauthorized_client`` (and an
  ``invalid_grant`` about the signed JWT itself, which every subject would get) ->
  `DelegationMisconfigured`. Without a key: ``Authorization: Bearer <calendar_api_token>``
  when one is set, else no auth, plus the header ``X-Goog-User: <address>`` naming the
  subject (the local server needs it for ``users/me/settings``); that header is never sent
  when a key is configured.
- **Requests.** The discovery document shipped with the library is parsed once per
  gateway; every request runs over a per-subject transport with a timeout. Batches go to
  ``<root of calendar_api_url>batch/calendar/v3`` with at most 50 calls each; parts that
  fail with 429, 403 rate limits, 5xx or a timeout are retried by us with exponential
  backoff and full jitter, up to ``max_attempts``; other 4xx fail at once.
- **Sync.** A full sync lists ``singleEvents=false`` from ``full_from`` with no end bound,
  page by page (a generator over page tokens); the sync token is the last page's. A delta
  sends the token; 410 falls back to a clean full sync.
- **Push.** `watch` opens an ``events.watch`` channel for an active person (the
  ``calendar.events.owned`` scope covers it); `stop_channel` stops one for a person of any
  status, and a 404 means Google no longer knows the channel. Both retry like every call: a
  watch whose first attempt was applied unseen answers ``channelIdNotUnique`` on the retry
  (the caller opens another channel; the lost one expires by itself).
- **Normalisation.** `normalise` keeps only what the mirror may keep: times, zone, busy,
  kind, declined, status, recurrence and our tags — never titles, descriptions, locations
  or other people's addresses.
"""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from http.client import HTTPException
from typing import TYPE_CHECKING, Any, TypeVar

import google_auth_httplib2  # type: ignore[import-untyped]
import httplib2  # type: ignore[import-untyped]
from google.auth.exceptions import RefreshError, TransportError
from googleapiclient.discovery import build  # type: ignore[import-untyped]
from googleapiclient.errors import BatchError, HttpError  # type: ignore[import-untyped]
from googleapiclient.http import BatchHttpRequest  # type: ignore[import-untyped]

from micromoments.adapters.google_access import GoogleAccess, google_access
from micromoments.config import Config
from micromoments.domain.calendar import EventKind, classify, same_address, zone
from micromoments.domain.errors import UnknownTimeZone
from micromoments.domain.holds import (
    HOLD_DESCRIPTIONS,
    HOLD_TITLES,
    PERSONAL_KINDS,
    Hold,
    HoldKind,
    conversation_prompt,
)
from micromoments.domain.journal import WriteOp
from micromoments.domain.mirror import MirrorEvent
from micromoments.domain.people import PersonStatus
from micromoments.ports import (
    CalendarCounters,
    CalendarError,
    CalendarWrite,
    DelegationMisconfigured,
    SubjectRefused,
    SubjectSuspended,
    SyncResult,
    WatchChannel,
    WriteResult,
)

if TYPE_CHECKING:
    from google.auth.credentials import Credentials
    from mypy_boto3_secretsmanager import SecretsManagerClient

__all__ = [
    "BATCH_CALLS",
    "FREEBUSY_CALENDARS",
    "PAGE_SIZE",
    "SCOPES",
    "SUBJECT_HEADER",
    "GoogleCalendarGateway",
    "batch_url",
    "chunked",
    "hold_body",
    "hold_patch_body",
    "load_key_info",
    "normalise",
]

SCOPES = (
    "https://www.googleapis.com/auth/calendar.events.owned",
    "https://www.googleapis.com/auth/calendar.events.freebusy",
    "https://www.googleapis.com/auth/calendar.settings.readonly",
)
PAGE_SIZE = 250  # events per page of events.list (Google's default and a fixed size)
BATCH_CALLS = 50  # calls per batch request (Google's limit for Calendar)
FREEBUSY_CALENDARS = 50  # calendars per freeBusy query (Google's calendarExpansionMax)
SUBJECT_HEADER = "X-Goog-User"  # names the subject; only without a key (see module doc)
# Start and end of a cancelled event whose resource does not say when it was (incremental
# sync sends only id and status for some deletions); such events leave the mirror at once.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_BACKOFF_BASE_S = 0.5
_BACKOFF_CAP_S = 32.0
_RATE_LIMITS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
_TAG = "micromoments"
_READERS = frozenset({PersonStatus.ACTIVE, PersonStatus.LEAVING})
_FREEBUSY_ASKERS = 3  # people tried in turn to ask a freeBusy query as

T = TypeVar("T")


# -- small helpers ---------------------------------------------------------------------------


def chunked(items: Sequence[T], size: int) -> Iterator[list[T]]:
    """``items`` in consecutive lists of at most ``size`` (STYLE.md 8)."""
    if size < 1:
        raise ValueError("size must be at least 1")
    for first in range(0, len(items), size):
        yield list(items[first : first + size])


def batch_url(api_url: str) -> str:
    """The batch endpoint of a Calendar API base URL, as Google composes it.

    ``https://www.googleapis.com/calendar/v3/`` -> ``https://www.googleapis.com/batch/calendar/v3``;
    a base URL not ending in ``calendar/v3/`` is taken as the root itself.
    """
    base = api_url if api_url.endswith("/") else api_url + "/"
    root = base[: -len("calendar/v3/")] if base.endswith("/calendar/v3/") else base
    return root + "batch/calendar/v3"


def rfc3339(moment: datetime) -> str:
    """An aware date-time as RFC 3339 in UTC (``…Z``)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a timezone-aware date-time is required")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def load_key_info(secret_id: str, client: SecretsManagerClient | None = None) -> dict[str, Any]:
    """The JSON the Google secret in Secrets Manager holds under ``secret_id``: a
    service-account key or a keyless credential configuration (`google_access`)."""
    from micromoments.adapters.google_access import read_access_info

    return read_access_info(secret_id, client)


# -- Google event -> mirror (pure) -----------------------------------------------------------


def normalise(resource: Mapping[str, Any], email: str) -> MirrorEvent:
    """A Google event resource as the mirror keeps it (for the person ``email``).

    A cancelled resource may be minimal (incremental sync sends only ``id`` and ``status``,
    with ``recurringEventId`` and ``originalStartTime`` for a deleted occurrence): its start
    and end are then the original start of the occurrence, or `EPOCH` for an event that is
    not an instance (the mirror drops it, see `mirror_changes`).
    """
    event_id = str(resource["id"])
    cancelled = resource.get("status") == "cancelled"
    start_field = _mapping(resource.get("start"))
    original_field = _mapping(resource.get("originalStartTime"))
    original = _moment(original_field)
    begin = _moment(start_field)
    finish = _moment(_mapping(resource.get("end")))
    if begin is None:
        begin = original if original is not None else EPOCH
    if finish is None or isinstance(finish, datetime) != isinstance(begin, datetime):
        finish = begin
    if finish < begin:  # same type, checked above
        finish = begin
    all_day = not isinstance(begin, datetime)

    event_type = str(resource.get("eventType") or "default")
    out_of_office = event_type == "outOfOffice"
    working_location = event_type == "workingLocation"
    busy = out_of_office or (not working_location and resource.get("transparency") != "transparent")

    declined = False
    others = False
    declines = 0
    for attendee in _mappings(resource.get("attendees")):
        if _is_self(attendee, email):
            declined = declined or attendee.get("responseStatus") == "declined"
        elif not attendee.get("resource"):
            others = True  # rooms and equipment are not people
            declines += attendee.get("responseStatus") == "declined"
    organizer = _mapping(resource.get("organizer"))
    if organizer and not _is_self(organizer, email) and organizer.get("email"):
        others = True

    hold = _hold_tags(resource)
    kind = classify(
        all_day=all_day,
        out_of_office=out_of_office,
        working_location=working_location,
        ours=hold is not None,
        other_participants=others,
    )
    zone_name = start_field.get("timeZone") or original_field.get("timeZone")
    recurring_event_id = resource.get("recurringEventId")
    return MirrorEvent(
        id=event_id,
        start=begin,
        end=finish,
        kind=kind,
        busy=busy,
        declined=declined,
        cancelled=cancelled,
        start_zone=str(zone_name) if zone_name else None,
        recurrence=tuple(str(line) for line in resource.get("recurrence") or ()),
        recurring_event_id=str(recurring_event_id) if recurring_event_id else None,
        original_start=original,
        hold_id=hold[0] if hold else None,
        hold_kind=hold[1] if hold else None,
        etag=str(resource["etag"]) if resource.get("etag") else None,
        declines=declines if hold is not None else 0,
    )


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _mappings(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _is_self(person: Mapping[str, Any], email: str) -> bool:
    return person.get("self") is True or same_address(str(person.get("email") or ""), email)


def _moment(field: Mapping[str, Any]) -> datetime | date | None:
    """``{"dateTime": …, "timeZone": …}`` as an aware UTC date-time, ``{"date": …}`` as a date."""
    if field.get("dateTime"):
        moment = datetime.fromisoformat(str(field["dateTime"]))
        if moment.tzinfo is None:
            try:
                moment = moment.replace(tzinfo=zone(str(field.get("timeZone") or "UTC")))
            except UnknownTimeZone:
                moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    if field.get("date"):
        return date.fromisoformat(str(field["date"]))
    return None


def _hold_tags(resource: Mapping[str, Any]) -> tuple[str, str | None] | None:
    """(hold id, kind) of one of our events, from its private or shared tags."""
    properties = _mapping(resource.get("extendedProperties"))
    for scope in ("private", "shared"):
        tags = _mapping(properties.get(scope))
        # Tags are only believed on an event whose id is the hold id they name: anyone can
        # send an invitation carrying our tags, nobody else can create our ids on this calendar.
        if tags.get(_TAG) == "1" and str(tags.get("mm_hold_id") or "") == str(resource["id"]):
            kind = str(tags.get("mm_kind") or "")
            return str(resource["id"]), kind if kind in HoldKind._value2member_map_ else None
    return None


# -- hold -> Google event (pure) -------------------------------------------------------------


def _when(moment: datetime, timezone: str) -> dict[str, str]:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a hold's start and end must be timezone-aware")
    return {"dateTime": moment.isoformat(), "timeZone": timezone}


def hold_body(
    hold: Hold, timezone: str, organiser: str | None = None, guests: Sequence[str] = ()
) -> dict[str, Any]:
    """The event to insert for ``hold``, written in ``timezone`` (an IANA name).

    Personal holds carry private tags. Shared kinds (coffee, watercooler) carry shared tags,
    so every attendee's scan recognises them, and invite ``guests`` (the addresses behind
    ``hold.attendees``) with the ``organiser`` (whose calendar it is) as accepted.
    """
    scope = "private" if hold.kind in PERSONAL_KINDS else "shared"
    body: dict[str, Any] = {
        "id": hold.id,
        "summary": HOLD_TITLES[hold.kind],
        "description": hold_description(hold),
        "start": _when(hold.start, timezone),
        "end": _when(hold.end, timezone),
        "transparency": "opaque" if hold.busy else "transparent",
        "extendedProperties": {
            scope: {
                _TAG: "1",
                "mm_hold_id": hold.id,
                "mm_kind": hold.kind.value,
                "mm_generation": str(hold.generation),
            }
        },
        "reminders": {"useDefault": False},
    }
    if hold.shared:
        body["attendees"] = _attendees(organiser, guests)
        body["guestsCanModify"] = False
        body["guestsCanInviteOthers"] = False
    return body


def hold_description(hold: Hold) -> str:
    """What the event says. A coffee chat says who suggested it and offers an opener."""
    if hold.kind is HoldKind.COFFEE:
        everyone = "both of you" if len(hold.attendees) <= 1 else "all three of you"
        return (
            f"micromoments suggested this coffee chat for {everyone}: 20 minutes to talk about "
            f"anything but work, if you like. An opener: {conversation_prompt(hold.id)} "
            "Can't make it? Decline, and nobody is asked to find another time this week."
        )
    if hold.kind is HoldKind.WATERCOOLER:
        return (
            "micromoments suggested this team drop-in for the time most of you are free. "
            "No agenda: come by if you can, leave when you like."
        )
    return (
        f"{HOLD_DESCRIPTIONS[hold.kind]} Placed by micromoments: "
        "you may move or delete it as you like."
    )


def _attendees(organiser: str | None, guests: Sequence[str]) -> list[dict[str, Any]]:
    people: list[dict[str, Any]] = []
    if organiser:
        people.append({"email": organiser, "responseStatus": "accepted"})
    people += [{"email": address} for address in guests]
    return people


def hold_patch_body(
    hold: Hold,
    timezone: str,
    *,
    organiser: str | None = None,
    attendees: bool = False,
    guests: Sequence[str] = (),
) -> dict[str, Any]:
    """What a patch changes: the time and busy/free, and the guest list when ``attendees``
    (a member left). Otherwise the guest list is left alone, so nobody's answer is reset."""
    body: dict[str, Any] = {
        "start": _when(hold.start, timezone),
        "end": _when(hold.end, timezone),
        "transparency": "opaque" if hold.busy else "transparent",
    }
    if attendees and hold.shared:
        body["attendees"] = _attendees(organiser, guests)
    return body


def _send_updates(hold: Hold) -> str:
    return "none" if hold.kind in PERSONAL_KINDS else "all"


def _zone_name(moment: datetime) -> str:
    key = getattr(moment.tzinfo, "key", None)
    return str(key) if key else "UTC"


# -- transport -------------------------------------------------------------------------------


class _Transient(Exception):
    """A failure worth retrying (token endpoint unavailable, connection reset, …)."""


class _TokenRequest(google_auth_httplib2.Request):  # type: ignore[misc]
    """google-auth's httplib2 request, counting each token round trip."""

    def __init__(self, http: Any, on_round_trip: Callable[[], None]) -> None:
        super().__init__(http)
        self._on_round_trip = on_round_trip

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: Any = None,
        headers: Any = None,
        timeout: Any = None,
        **kwargs: Any,
    ) -> Any:
        self._on_round_trip()
        return super().__call__(url, method=method, body=body, headers=headers, **kwargs)


def _refresh_failure(exc: RefreshError, subject: str) -> Exception:
    data = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], Mapping) else {}
    text = str(exc.args[0]) if exc.args else str(exc)
    code = str(data.get("error") or text.split(":", 1)[0]).strip()
    description = str(data.get("error_description") or text)
    if code == "unauthorized_client":
        return DelegationMisconfigured(
            f"domain-wide delegation refused the service account ({code}): "
            "check the client id and scopes in the Admin console"
        )
    if code == "invalid_grant":
        if "jwt" in description.lower():
            # The signed assertion itself is refused (revoked key, clock skew): every subject
            # would get this, so no person is to blame.
            return DelegationMisconfigured(
                f"the token endpoint refused our signed JWT: {description}"
            )
        return SubjectSuspended(f"{subject}: invalid_grant ({description})")
    if getattr(exc, "retryable", False):
        return _Transient(f"token refresh for {subject} failed: {text}")
    return CalendarError(f"token refresh for {subject} failed: {text}")


class _SubjectHttp:
    """An ``httplib2.Http`` look-alike acting for one subject: adds auth, counts, times out.

    It has no ``credentials`` attribute on purpose, so googleapiclient never refreshes
    tokens behind our back (uncounted, without timeout); tokens are fetched here.
    """

    def __init__(
        self,
        gateway: GoogleCalendarGateway,
        subject: str,
        credentials: Credentials | None,
        timeout_s: float,
    ) -> None:
        self._gateway = gateway
        self._subject = subject
        self._credentials = credentials
        self._http = httplib2.Http(timeout=timeout_s)
        self._token_request = _TokenRequest(
            httplib2.Http(timeout=timeout_s), gateway._count_oauth_round_trip
        )
        self._lock = threading.Lock()

    def refresh(self) -> None:
        """Fetch a new access token (only with a key)."""
        if self._credentials is None:
            return
        try:
            self._credentials.refresh(self._token_request)  # type: ignore[no-untyped-call]
        except RefreshError as exc:
            raise _refresh_failure(exc, self._subject) from None
        except TransportError as exc:
            raise _Transient(f"token endpoint unreachable: {exc}") from None

    def auth_headers(self) -> dict[str, str]:
        if self._credentials is not None:
            if not self._credentials.valid:
                self.refresh()
            return {"authorization": f"Bearer {self._credentials.token}"}
        headers = {SUBJECT_HEADER: self._subject}
        token = self._gateway._static_token
        if token:
            headers["authorization"] = f"Bearer {token}"
        return headers

    def request(
        self,
        uri: str,
        method: str = "GET",
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        redirections: int = httplib2.DEFAULT_MAX_REDIRECTS,
        connection_type: Any = None,
    ) -> tuple[Any, bytes]:
        with self._lock:
            sent = {**(headers or {}), **self.auth_headers()}
            self._gateway._count_round_trip()
            try:
                return self._http.request(uri, method, body=body, headers=sent)  # type: ignore[no-any-return]
            except (httplib2.HttpLib2Error, HTTPException) as exc:
                raise _Transient(f"{type(exc).__name__}: {exc}") from None

    @property
    def refreshable(self) -> bool:
        return self._credentials is not None


class _Batch(BatchHttpRequest):  # type: ignore[misc]
    """googleapiclient's batch, with the redo of 401 parts going through our counted token
    refresh (once per batch) and counted as requests."""

    def __init__(self, *, on_redo: Callable[[str], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_redo = on_redo
        self._refreshed = False

    def _refresh_and_apply_credentials(self, request: Any, http: Any) -> None:
        self._on_redo(str(request.methodId))
        if isinstance(http, _SubjectHttp):
            if not self._refreshed:
                http.refresh()
                self._refreshed = True
            request.headers.update(http.auth_headers())


# -- outcomes of calls -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Failure:
    status: int | None
    reason: str
    message: str
    transient: bool

    def describe(self) -> str:
        if self.status is None:
            return f"{self.reason}: {self.message}"
        return f"{self.status} {self.reason}: {self.message}"


@dataclass(frozen=True, slots=True)
class _Outcome:
    response: Any = None
    failure: _Failure | None = None


class CalendarApiError(CalendarError):
    """A call failed for good; ``status`` is the HTTP status (None: no answer)."""

    def __init__(self, method: str, failure: _Failure) -> None:
        super().__init__(f"{method}: {failure.describe()}")
        self.status = failure.status
        self.reason = failure.reason


_NETWORK_ERRORS = (_Transient, socket.timeout, TimeoutError, ConnectionError, OSError)


def _failure(exc: BaseException) -> _Failure:
    if isinstance(exc, HttpError):
        status = int(exc.resp.status)
        reason, message = _error_detail(exc.content)
        transient = (
            status in (408, 429) or status >= 500 or (status == 403 and reason in _RATE_LIMITS)
        )
        return _Failure(status, reason or "error", message or str(exc.reason), transient)
    if isinstance(exc, BatchError | KeyError):
        return _Failure(None, "badBatchResponse", str(exc), transient=True)
    text = " ".join(str(exc).split()) or type(exc).__name__
    return _Failure(None, "timeout" if "timed out" in text else "network", text, transient=True)


def _error_detail(content: Any) -> tuple[str, str]:
    try:
        data = json.loads(content.decode("utf-8") if isinstance(content, bytes) else content)
        error = data["error"]
        details = error.get("errors") or [{}]
        return str(details[0].get("reason") or error.get("status") or ""), str(
            error.get("message") or ""
        )
    except (ValueError, KeyError, TypeError, AttributeError, IndexError):
        return "", ""


# -- the gateway -----------------------------------------------------------------------------


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
        self._transports: dict[str, _SubjectHttp] = {}
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

    def _transport(self, email: str) -> _SubjectHttp:
        subject = email.strip().lower()
        with self._lock:
            transport = self._transports.get(subject)
            if transport is None:
                credentials = (
                    self.access.credentials_for(subject) if self.access is not None else None
                )
                transport = _SubjectHttp(self, subject, credentials, self._timeout_s)
                self._transports[subject] = transport
            return transport

    # -- sending ---------------------------------------------------------------------------

    def _backoff(self, attempt: int) -> None:
        """Full jitter: a random pause up to base * 2^(attempt-1), capped."""
        ceiling = min(_BACKOFF_CAP_S, _BACKOFF_BASE_S * 2 ** (attempt - 1))
        self._sleep(self._rng.uniform(0, ceiling))

    def _send_one(self, transport: _SubjectHttp, request: Any) -> _Outcome:
        """Send one call; a 401 (expired or revoked token) fetches a new token and sends the
        call once more."""
        for retry_401 in (transport.refreshable, False):
            self._count_request(str(request.methodId))
            try:
                return _Outcome(response=request.execute(http=transport))
            except HttpError as exc:
                if retry_401 and int(exc.resp.status) == 401:
                    transport.refresh()
                    continue
                return _Outcome(failure=_failure(exc))
            except _NETWORK_ERRORS as exc:
                return _Outcome(failure=_failure(exc))
        raise AssertionError("unreachable")  # pragma: no cover

    def _call(self, transport: _SubjectHttp, make_request: Callable[[], Any]) -> Any:
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
        self, transport: _SubjectHttp, requests: Sequence[tuple[int, Any]]
    ) -> dict[int, _Outcome]:
        outcomes: dict[int, _Outcome] = {}

        def collect(request_id: str, response: Any, exception: BaseException | None) -> None:
            failure = _failure(exception) if exception is not None else None
            outcomes[int(request_id)] = _Outcome(response=response, failure=failure)

        batch = _Batch(callback=collect, batch_uri=self._batch_uri, on_redo=self._count_request)
        for key, request in requests:
            batch.add(request, request_id=str(key))
            self._count_request(str(request.methodId))
        try:
            batch.execute(http=transport)
        except (HttpError, BatchError, KeyError, *_NETWORK_ERRORS) as exc:
            whole = _failure(exc)  # the batch as a whole failed: every part may be retried
            outcomes = {key: outcomes.get(key, _Outcome(failure=whole)) for key, _ in requests}
        for key, _ in requests:
            outcomes.setdefault(
                key,
                _Outcome(failure=_Failure(None, "missing", "no answer in the batch", True)),
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
        self, transport: _SubjectHttp, email: str, params: Mapping[str, Any]
    ) -> tuple[list[MirrorEvent], str]:
        events: list[MirrorEvent] = []
        last: Mapping[str, Any] = {}
        for page in self._pages(transport, email, params):
            events.extend(normalise(item, email) for item in _mappings(page.get("items")))
            last = page
        token = last.get("nextSyncToken")
        if not token:
            raise CalendarError(f"events.list for {email}: the last page has no nextSyncToken")
        return events, str(token)

    def _pages(
        self, transport: _SubjectHttp, email: str, params: Mapping[str, Any]
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
            yield _mapping(page)
            page_token = _mapping(page).get("nextPageToken")
            if not page_token:
                return

    def timezone(self, email: str) -> str:
        self._allow_read(email)
        setting = self._call(
            self._transport(email),
            lambda: self._settings.get(setting="timezone"),
        )
        value = _mapping(setting).get("value")
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
        return normalise(_mapping(resource), email)

    def write(self, email: str, writes: Sequence[CalendarWrite]) -> list[WriteResult]:
        self._allow_writes(email, writes)
        transport = self._transport(email)
        results: dict[int, WriteResult] = {}
        pending = list(range(len(writes)))
        attempt = 1
        while pending:
            outcomes: dict[int, _Outcome] = {}
            if self._batching:
                for chunk in chunked(pending, BATCH_CALLS):
                    requests = [(i, self._write_request(email, writes[i])) for i in chunk]
                    outcomes.update(self._send_batch(transport, requests))
            else:
                for i in pending:
                    outcomes[i] = self._send_one(transport, self._write_request(email, writes[i]))
            retry: list[int] = []
            for i in pending:
                outcome = outcomes[i]
                failure = outcome.failure
                if failure is not None and failure.transient and attempt < self._max_attempts:
                    retry.append(i)
                else:
                    results[i] = _write_result(writes[i], outcome, attempt)
            if retry:
                self._backoff(attempt)
                attempt += 1
            pending = retry
        return [results[i] for i in range(len(writes))]

    def _write_request(self, email: str, write: CalendarWrite) -> Any:
        hold = write.hold
        events = self._events
        send_updates = _send_updates(hold)
        if write.op is WriteOp.INSERT:
            body = hold_body(hold, _zone_name(hold.start), email, write.guests)
            return events.insert(calendarId=email, body=body, sendUpdates=send_updates)
        if write.op is WriteOp.PATCH:
            body = hold_patch_body(
                hold,
                _zone_name(hold.start),
                organiser=email,
                attendees=write.attendees_changed,
                guests=write.guests,
            )
            return events.patch(
                calendarId=email, eventId=hold.id, body=body, sendUpdates=send_updates
            )
        return events.delete(calendarId=email, eventId=hold.id, sendUpdates=send_updates)

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
            calendars = _mapping(_mapping(answer).get("calendars"))
            for email in chunk:
                result[email] = _busy_intervals(calendars.get(email))
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
        answer = _mapping(
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


def _busy_intervals(calendar: Any) -> list[tuple[datetime, datetime]] | None:
    if not isinstance(calendar, Mapping) or calendar.get("errors"):
        return None
    intervals: list[tuple[datetime, datetime]] = []
    for busy in _mappings(calendar.get("busy")):
        begin = _moment({"dateTime": busy.get("start")})
        finish = _moment({"dateTime": busy.get("end")})
        if isinstance(begin, datetime) and isinstance(finish, datetime) and finish > begin:
            intervals.append((begin, finish))
    return intervals


def _write_result(write: CalendarWrite, outcome: _Outcome, attempts: int) -> WriteResult:
    hold_id, op = write.hold.id, write.op
    failure = outcome.failure
    if failure is None:
        etag = _mapping(outcome.response).get("etag")
        return WriteResult(
            hold_id, op, "ok", etag=str(etag) if etag else None, retried=attempts > 1
        )
    if failure.status == 409:
        note = " (after a retry: the first attempt may have created it)" if attempts > 1 else ""
        return WriteResult(hold_id, op, "conflict", message=failure.describe() + note)
    if failure.status in (404, 410) and op is not WriteOp.INSERT:
        return WriteResult(hold_id, op, "gone", message=failure.describe())
    if failure.transient:
        message = f"gave up after {attempts} attempts: {failure.describe()}"
    else:
        message = failure.describe()
    return WriteResult(hold_id, op, "failed", message=message)
