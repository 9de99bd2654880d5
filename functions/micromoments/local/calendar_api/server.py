"""`CalendarServer`: a stateful Google Calendar v3 stand-in on a loopback port.

It serves the HTTP google-api-python-client sends (plain requests and multipart batches)
google-auth's JWT bearer grant and, for keyless access, the STS token exchange and the IAM
Credentials methods (`federation`), checks requests against the discovery document shipped
in google-api-python-client, and can add latency, faults and per-user rate limits. Watch
channels (``events.watch``, ``channels.stop``) get push notifications (`push`).
"""

from __future__ import annotations

import copy
import html
import json
import random
import threading
import time
import urllib.parse
import uuid
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from types import TracebackType
from typing import TYPE_CHECKING, Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from micromoments.local.calendar_api import consent, discovery, federation, oauth, push
from micromoments.local.calendar_api.aws_signature import AwsCaller
from micromoments.local.calendar_api.errors import ApiError, invalid, not_found
from micromoments.local.calendar_api.state import Calendar, Calendars, same_address, tags
from micromoments.local.calendar_api.synthetic_events import google_events

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from micromoments.local.synthetic import SyntheticOrg, SyntheticPerson

API_PREFIX = "/calendar/v3/"
BATCH_PATH = "/batch/calendar/v3"
TOKEN_PATH = "/token"
MAX_BATCH_PARTS = 50
# Fault kinds: HTTP answers Google gives under load, and a response slower than the client.
FAULT_KINDS = ("429", "403", "500", "503", "timeout")
_WRITES = {
    "events.insert": "insert",
    "events.patch": "patch",
    "events.update": "update",
    "events.delete": "delete",
}
_SETTINGS_DEFAULTS = {
    "locale": "en",
    "weekStart": "1",
    "format24HourTime": "true",
    "dateFieldOrder": "DMY",
    "defaultEventLength": "60",
    "hideWeekends": "false",
    "showDeclinedEvents": "true",
}
_REASONS = {
    200: "OK",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    410: "Gone",
    429: "Too Many Requests",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
}


@dataclass(frozen=True, slots=True)
class WriteRecord:
    """One insert, patch, update or delete the server received (applied or not).

    ``before`` is the target's ``extendedProperties`` (private and shared merged) just
    before the write, ``{}`` if it had none, None if no such event existed.
    """

    method: str
    calendar: str
    event_id: str
    before: dict[str, str] | None
    status: int


@dataclass(slots=True)
class ServerCounters:
    """What the server received. ``requests`` counts API calls as Google's quota does (each
    part of a batch is one); ``round_trips`` counts HTTP requests to the API (a batch is
    one); ``oauth_round_trips`` counts requests to get a token: the token endpoint, and for
    keyless access STS, ``generateAccessToken`` and ``signJwt`` (``by_auth`` by endpoint)."""

    requests: int = 0
    round_trips: int = 0
    oauth_round_trips: int = 0
    by_method: dict[str, int] = field(default_factory=dict)
    by_auth: dict[str, int] = field(default_factory=dict)
    by_status: dict[int, int] = field(default_factory=dict)

    def reset(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, dict):
                value.clear()
            else:
                setattr(self, item.name, 0)

    def snapshot(self) -> ServerCounters:
        return copy.deepcopy(self)


@dataclass(frozen=True, slots=True)
class _Principal:
    """Who a request acts for: ``subject`` is whose calendar ``primary`` and ``users/me``
    mean; ``scopes`` None means unrestricted (static token or no auth)."""

    subject: str | None
    scopes: frozenset[str] | None
    delegated: bool


@dataclass(frozen=True, slots=True)
class _Reply:
    status: int
    body: bytes
    content_type: str = "application/json; charset=UTF-8"


def _json_reply(status: int, payload: Any) -> _Reply:
    return _Reply(status, json.dumps(payload).encode())


def _error_reply(error: ApiError) -> _Reply:
    return _json_reply(error.code, error.body())


class _QuietHandler(WSGIRequestHandler):
    """No log line per request."""

    def log(self, type: str, message: str, *args: Any) -> None:
        return


class CalendarServer:
    """A Google Calendar v3 server for tests, benchmarks and the demo.

    Knobs: ``latency_ms`` (sleep per HTTP round trip; once per batch), ``fault_rate``
    (seeded: a faulted call or batch part answers 429, 403 rateLimitExceeded, 500, 503, or
    503 after ``timeout_s`` seconds; a faulted write is never applied),
    ``apply_then_fail_rate`` (a successful write answers 503 anyway), ``batch_fault_rate``
    (the whole batch request fails), ``token_fault_rate`` (the token endpoint answers 503),
    ``per_user_per_minute`` (403 userRateLimitExceeded past that many calls per subject in a
    rolling minute), ``require_auth`` (401 without a token this server issued or one of
    ``static_tokens``).

    Delegation: `service_account_key` hands out a key; `credential_configuration` sets up
    keyless access instead (or as well), whose ``token_fault_rate`` faults answer 503 too.

    ``users/me`` is the subject of a delegated access token; with a static token or none,
    the ``X-Goog-User`` header names it (else 400).

    Push: ``events.watch`` opens a channel on a calendar's events and the server POSTs a
    ``sync`` message, then ``exists`` on every change of those events, to the channel's
    (loopback) address from a sender thread (`push`); ``push_knobs`` drop, duplicate, delay
    or reorder those messages, seeded by ``seed``; ``clock`` (epoch seconds) is the time
    channels expire by. `push` holds the channels and the log of deliveries.
    """

    def __init__(
        self,
        *,
        latency_ms: float = 0,
        fault_rate: float = 0.0,
        seed: int = 0,
        per_user_per_minute: int | None = None,
        require_auth: bool = False,
        timeout_s: float = 2.0,
        apply_then_fail_rate: float = 0.0,
        batch_fault_rate: float = 0.0,
        token_fault_rate: float = 0.0,
        fault_kinds: Sequence[str] = FAULT_KINDS,
        static_tokens: Iterable[str] = (),
        host: str = "127.0.0.1",
        port: int = 0,
        push_knobs: push.PushKnobs | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        unknown = set(fault_kinds) - set(FAULT_KINDS)
        if unknown or not fault_kinds:
            raise ValueError(f"fault kinds must be some of {FAULT_KINDS}")
        self.latency_ms = latency_ms
        self.fault_rate = fault_rate
        self.per_user_per_minute = per_user_per_minute
        self.require_auth = require_auth
        self.timeout_s = timeout_s
        self.apply_then_fail_rate = apply_then_fail_rate
        self.batch_fault_rate = batch_fault_rate
        self.token_fault_rate = token_fault_rate
        self.fault_kinds = tuple(fault_kinds)
        self.static_tokens = set(static_tokens)
        self.write_log: list[WriteRecord] = []
        self.counters = ServerCounters()
        self._host = host
        self._port = port
        self._lock = threading.RLock()
        self._rng = random.Random(seed)
        self._calendars = Calendars()
        self._tokens: dict[str, oauth.AccessToken] = {}
        self._suspended: set[str] = set()
        self._misconfigured = False
        self._key: oauth.ServiceAccountKey | None = None
        self._federation: federation.Federation | None = None
        self._recent: dict[str, deque[float]] = {}
        self._stopping = threading.Event()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.push = push.Channels(seed=seed, knobs=push_knobs or push.PushKnobs(), clock=clock)
        # per-person OAuth: the authorization, code and refresh grants, revocation
        self.consent = consent.Consent(
            issue=self._issue_user_token,
            forget=self._forget_tokens,
            known=self._known_account,
            clock=time.time,
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> CalendarServer:
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = make_server(
            self._host, self._port, self._wsgi, threaded=True, request_handler=_QuietHandler
        )
        server = self._server
        self._thread = threading.Thread(
            target=lambda: server.serve_forever(poll_interval=0.05),
            name=f"calendar-api:{self.port}",
            daemon=True,
        )
        self._thread.start()
        self.push.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        self.push.shutdown()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> CalendarServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the Calendar server is not started")
        return int(self._server.server_port)

    @property
    def root_url(self) -> str:
        return f"http://{self._host}:{self.port}/"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/calendar/v3/``, the API base as discovery composes it."""
        return self.root_url + API_PREFIX.lstrip("/")

    @property
    def batch_url(self) -> str:
        return self.root_url + BATCH_PATH.lstrip("/")

    @property
    def token_uri(self) -> str:
        return self.root_url + TOKEN_PATH.lstrip("/")

    @property
    def authorize_uri(self) -> str:
        return self.root_url + consent.AUTHORIZE_PATH.lstrip("/")

    @property
    def revoke_uri(self) -> str:
        return self.root_url + consent.REVOKE_PATH.lstrip("/")

    def oauth_client(self, *redirect_uris: str) -> consent.OAuthClient:
        """A new OAuth client (web application) allowed to redirect to ``redirect_uris``."""
        return self.consent.register_client(*redirect_uris)

    # -- data and knobs ----------------------------------------------------------------------

    def add_calendar(self, email: str, *, timezone: str = "UTC") -> None:
        with self._lock:
            self._calendars.add(email, timezone)

    def seed(self, email: str, events: Iterable[dict[str, Any]]) -> None:
        """Store raw Google event resources as they are (ids required); the calendar is
        added (UTC) if missing. Only kind, etag, updated and status are filled in."""
        with self._lock:
            cal = self._calendars.find(email) or self._calendars.add(email, "UTC")
            self._calendars.seed(cal, events)
        self._publish_changes()

    def seed_synthetic(self, person: SyntheticPerson) -> None:
        """Add the person's calendar (in their zone) with their synthetic events."""
        self.add_calendar(person.email, timezone=person.person.timezone or "UTC")
        self.seed(person.email, google_events(person))

    def seed_org(self, org: SyntheticOrg) -> None:
        for person in org.people:
            self.seed_synthetic(person)

    def events(self, email: str, *, include_cancelled: bool = True) -> list[dict[str, Any]]:
        """The stored resources of a calendar, in change order."""
        with self._lock:
            cal = self._calendars.find(email)
            if cal is None:
                raise KeyError(email)
            return [
                copy.deepcopy(r)
                for r in cal.events.values()
                if include_cancelled or r.get("status") != "cancelled"
            ]

    def event(self, email: str, event_id: str) -> dict[str, Any] | None:
        """One stored resource of a calendar (cancelled included), or None."""
        with self._lock:
            cal = self._calendars.find(email)
            if cal is None:
                raise KeyError(email)
            found = cal.events.get(event_id)
            return None if found is None else copy.deepcopy(found)

    def invalidate_sync_tokens(self, email: str) -> None:
        """Every sync token of this calendar answers 410 from now on."""
        with self._lock:
            if self._calendars.find(email) is None:
                raise KeyError(email)
            self._calendars.invalidate(email)

    def respond(self, email: str, event_id: str, response_status: str) -> None:
        """``email`` answers an invitation: its responseStatus on every copy of the event."""
        with self._lock:
            self._calendars.respond(email, event_id, response_status)
        self._publish_changes()

    def suspend(self, email: str) -> None:
        """Grants for this subject answer ``invalid_grant`` (suspended or deleted account)."""
        with self._lock:
            self._suspended.add(email.strip().lower())
            for token, grant in list(self._tokens.items()):
                if grant.subject and same_address(grant.subject, email):
                    del self._tokens[token]

    def unsuspend(self, email: str) -> None:
        with self._lock:
            self._suspended.discard(email.strip().lower())

    def misconfigure_delegation(self, misconfigured: bool = True) -> None:
        """Every grant answers ``unauthorized_client`` (delegation not set up)."""
        with self._lock:
            self._misconfigured = misconfigured

    def expire_access_tokens(self) -> None:
        """Forget every issued access token: the next call answers 401."""
        with self._lock:
            self._tokens.clear()

    def set_fault_rate(self, rate: float) -> None:
        with self._lock:
            self.fault_rate = rate

    def set_push_knobs(self, **changes: Any) -> None:
        """Change delivery knobs from now on (fields of `push.PushKnobs`)."""
        self.push.knobs = replace(self.push.knobs, **changes)

    def _publish_changes(self) -> None:
        """An ``exists`` message for every watched calendar whose events changed."""
        with self._lock:
            changed = self._calendars.drain_changed()
        self.push.changed(changed)

    def service_account_key(self) -> dict[str, str]:
        """A service-account JSON key whose token_uri is this server (generated once)."""
        with self._lock:
            if self._key is None:
                self._key = oauth.generate_key()
            return self._key.info(self.token_uri)

    def credential_configuration(
        self, callers: Iterable[AwsCaller], *, aws_account: str
    ) -> dict[str, Any]:
        """Keyless access (generated once): a workload identity pool whose AWS provider
        trusts ``aws_account``, where ``callers`` are the AWS credentials of its roles; the
        service account (the same one `service_account_key` is a key of) lets the pool
        impersonate it and may sign JWTs with its Google-managed key. Returns the credential
        configuration ``gcloud`` would write, with every URL on this server."""
        with self._lock:
            if self._federation is None:
                self._federation = federation.Federation(
                    service_account=oauth.SERVICE_ACCOUNT_EMAIL,
                    managed_key=oauth.generate_key(),
                    aws_account=aws_account,
                )
            self._federation.callers.update({c.access_key_id: c for c in callers})
            return self._federation.configuration(self.root_url)

    @property
    def federation(self) -> federation.Federation:
        """The keyless setup (`credential_configuration` first), to switch grants off."""
        if self._federation is None:
            raise RuntimeError("no credential configuration was made")
        return self._federation

    # -- WSGI --------------------------------------------------------------------------------

    def _wsgi(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        target = str(environ.get("RAW_URI") or request.full_path)
        path = target.partition("?")[0]
        if path == TOKEN_PATH:
            self._count_auth("token")
            self._delay()
            reply = self._token(request)
        elif path in (consent.AUTHORIZE_PATH, consent.REVOKE_PATH):
            self._count_auth(path.rpartition("/")[2])
            return self._consent(request, path)(environ, start_response)
        elif path == federation.STS_PATH or path.startswith(federation.IAM_PREFIX):
            self._count_auth("sts" if path == federation.STS_PATH else path.rpartition(":")[2])
            self._delay()
            reply = self._keyless(request, path)
        else:
            with self._lock:
                self.counters.round_trips += 1
            self._delay()
            if path == BATCH_PATH:
                reply = self._batch(request)
            else:
                body = request.get_data()
                headers = {k.lower(): v for k, v in request.headers.items()}
                reply = self._api(request.method, target, headers, body)
        response = Response(reply.body, status=reply.status, content_type=reply.content_type)
        return response(environ, start_response)

    def _count_auth(self, endpoint: str) -> None:
        with self._lock:
            self.counters.oauth_round_trips += 1
            self.counters.by_auth[endpoint] = self.counters.by_auth.get(endpoint, 0) + 1

    def _delay(self) -> None:
        if self.latency_ms > 0:
            self._stopping.wait(self.latency_ms / 1000)

    # -- one API call ------------------------------------------------------------------------

    def _api(
        self, http_method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> _Reply:
        path, _, query_string = target.partition("?")
        with self._lock:
            self.counters.requests += 1
        reply, name = self._api_inner(http_method, path, query_string, headers, body)
        self._publish_changes()
        with self._lock:
            self.counters.by_method[name] = self.counters.by_method.get(name, 0) + 1
            self.counters.by_status[reply.status] = self.counters.by_status.get(reply.status, 0) + 1
        return reply

    def _api_inner(
        self,
        http_method: str,
        path: str,
        query_string: str,
        headers: Mapping[str, str],
        body: bytes,
    ) -> tuple[_Reply, str]:
        if not path.startswith(API_PREFIX):
            return _error_reply(not_found()), "unknown"
        relative = path[len(API_PREFIX) :]
        found = discovery.match(http_method, relative)
        if found is None:
            if discovery.path_exists(relative):
                return _error_reply(ApiError(405, "Method Not Allowed", "httpMethodNotAllowed")), (
                    "unknown"
                )
            return _error_reply(not_found()), "unknown"
        route, path_params = found
        name = route.method_id.removeprefix("calendar.")
        write = _WRITES.get(name)
        attempt = _Attempt(self, write, path_params, body)
        try:
            principal = self._authenticate(headers)
            attempt.principal = principal
            self._check_scope(principal, route)
            self._rate_limit(principal, path_params)
            fault = self._roll(self.fault_rate)
            if fault is not None:
                return attempt.done(self._fault(fault)), name
            params = discovery.parse_params(
                route, urllib.parse.parse_qs(query_string, keep_blank_values=True)
            )
            payload: Any = None
            request_schema = route.description.get("request")
            if request_schema is not None:
                payload = _parse_json(body)
                discovery.validate_body(request_schema["$ref"], payload, route.method_id)
            status, result = self._dispatch(name, principal, path_params, params, payload, attempt)
        except ApiError as error:
            return attempt.done(_error_reply(error)), name
        if write is not None and status < 300 and self._chance(self.apply_then_fail_rate):
            return attempt.done(_error_reply(_backend_error(503))), name
        if status == 204:
            return attempt.done(_Reply(204, b"", "text/plain")), name
        if params.get("fields") and isinstance(result, dict):
            result = discovery.select_fields(result, str(params["fields"]))
        return attempt.done(_json_reply(status, result)), name

    def _dispatch(
        self,
        name: str,
        principal: _Principal,
        path_params: Mapping[str, str],
        params: Mapping[str, Any],
        payload: Any,
        attempt: _Attempt,
    ) -> tuple[int, Any]:
        calendars = self._calendars
        with self._lock:
            if name == "freebusy.query":
                return 200, calendars.free_busy(
                    payload, resolve=lambda cid: self._resolve(principal, cid, own_only=False)
                )
            if name == "settings.get":
                return 200, self._setting(principal, path_params["setting"])
            if name == "channels.stop":
                self.push.stop(payload)
                return 204, None
            cal = self._calendar(principal, path_params["calendarId"])
            if name == "events.watch":
                return 200, self.push.watch(
                    cal.email.lower(), path_params["calendarId"], payload, self.base_url
                )
            if name == "calendars.get":
                return 200, _calendar_resource(cal)
            if name == "events.list":
                return 200, calendars.list_events(cal, params)
            if name == "events.instances":
                return 200, calendars.instances(cal, path_params["eventId"], params)
            if name == "events.get":
                return 200, calendars.get(cal, path_params["eventId"])
            if name == "events.insert":
                attempt.observe(cal, payload.get("id"))
                result = calendars.insert(cal, payload)
                attempt.event_id = str(result["id"])
                return 200, result
            if name in ("events.patch", "events.update"):
                attempt.observe(cal, path_params["eventId"])
                return 200, calendars.patch(
                    cal, path_params["eventId"], payload, replace=name == "events.update"
                )
            if name == "events.delete":
                attempt.observe(cal, path_params["eventId"])
                calendars.delete(cal, path_params["eventId"])
                return 204, None
        raise ApiError(501, f"{name} is not implemented by the local server.", "notImplemented")

    # -- identity ----------------------------------------------------------------------------

    def _authenticate(self, headers: Mapping[str, str]) -> _Principal:
        named = headers.get("x-goog-user") or None
        authorization = headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token:
            with self._lock:
                grant = self._tokens.get(token)
            if grant is not None:
                if grant.expires_at < time.time():
                    raise _unauthenticated()
                return _Principal(grant.subject, grant.scopes, delegated=True)
            if token in self.static_tokens or not self.require_auth:
                return _Principal(named, None, delegated=False)
            raise _unauthenticated()
        if self.require_auth:
            raise _unauthenticated()
        return _Principal(named, None, delegated=False)

    @staticmethod
    def _check_scope(principal: _Principal, route: discovery.Route) -> None:
        if principal.scopes is None:
            return
        if not principal.scopes & set(route.description.get("scopes", ())):
            raise ApiError(
                403, "Request had insufficient authentication scopes.",
                "insufficientPermissions",
            )  # fmt: skip

    def _resolve(
        self, principal: _Principal, calendar_id: str, *, own_only: bool
    ) -> Calendar | None:
        if calendar_id == "primary":
            if principal.subject is None:
                return None
            calendar_id = principal.subject
        cal = self._calendars.find(calendar_id)
        if cal is None:
            return None
        if (
            own_only
            and principal.delegated
            and not (principal.subject and same_address(principal.subject, cal.email))
        ):
            return None  # delegation reaches the subject's own calendar only
        return cal

    def _calendar(self, principal: _Principal, calendar_id: str) -> Calendar:
        cal = self._resolve(principal, calendar_id, own_only=True)
        if cal is None:
            raise not_found()
        return cal

    def _setting(self, principal: _Principal, setting: str) -> dict[str, str]:
        if principal.subject is None:
            raise invalid(
                "users/me needs a delegated access token or an X-Goog-User header naming "
                "the calendar (local server).",
                location="X-Goog-User",
            )
        cal = self._calendars.require(principal.subject)
        if setting == "timezone":
            value = cal.timezone
        elif setting in _SETTINGS_DEFAULTS:
            value = _SETTINGS_DEFAULTS[setting]
        else:
            raise not_found()
        return {
            "kind": "calendar#setting",
            "etag": f'"{zlib.crc32(f"{cal.email}|{setting}|{value}".encode())}"',
            "id": setting,
            "value": value,
        }

    # -- rate limits and faults ----------------------------------------------------------

    def _rate_limit(self, principal: _Principal, path_params: Mapping[str, str]) -> None:
        limit = self.per_user_per_minute
        if limit is None:
            return
        subject = (principal.subject or path_params.get("calendarId") or "anonymous").lower()
        now = time.monotonic()
        with self._lock:
            recent = self._recent.setdefault(subject, deque())
            while recent and recent[0] <= now - 60:
                recent.popleft()
            if len(recent) >= limit:
                raise ApiError(
                    403, "User Rate Limit Exceeded", "userRateLimitExceeded",
                    domain="usageLimits",
                )  # fmt: skip
            recent.append(now)

    def _chance(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._lock:
            return self._rng.random() < rate

    def _roll(self, rate: float) -> str | None:
        if rate <= 0:
            return None
        with self._lock:
            if self._rng.random() >= rate:
                return None
            return self._rng.choice(self.fault_kinds)

    def _fault(self, kind: str) -> _Reply:
        if kind == "429":
            return _error_reply(
                ApiError(429, "Rate Limit Exceeded", "rateLimitExceeded", domain="usageLimits")
            )
        if kind == "403":
            return _error_reply(
                ApiError(403, "Rate Limit Exceeded", "rateLimitExceeded", domain="usageLimits")
            )
        if kind == "500":
            return _error_reply(_backend_error(500))
        if kind == "timeout":
            self._stopping.wait(self.timeout_s)
        return _error_reply(_backend_error(503))

    # -- batch -------------------------------------------------------------------------------

    def _batch(self, request: Request) -> _Reply:
        if request.method != "POST":
            return _error_reply(ApiError(405, "Method Not Allowed", "httpMethodNotAllowed"))
        mimetype, options = request.mimetype, request.mimetype_params
        boundary = options.get("boundary")
        if mimetype != "multipart/mixed" or not boundary:
            return _error_reply(invalid("A batch request must be multipart/mixed."))
        try:
            parts = _split_multipart(request.get_data(), boundary.encode())
        except ValueError as error:
            return _error_reply(invalid(f"Malformed batch request: {error}"))
        if len(parts) > MAX_BATCH_PARTS:
            return _error_reply(
                invalid(f"Too many requests in a batch (at most {MAX_BATCH_PARTS}).")
            )
        fault = self._roll(self.batch_fault_rate)
        if fault is not None:
            return self._fault(fault)
        outer_auth = request.headers.get("authorization")
        out_boundary = "batch_" + uuid.uuid4().hex
        chunks: list[bytes] = []
        for part_headers, payload in parts:
            content_id = part_headers.get("content-id", "")
            try:
                method, target, headers, body = _parse_inner(payload)
            except ValueError as error:
                reply = _error_reply(invalid(f"Malformed batch part: {error}"))
            else:
                if "authorization" not in headers and outer_auth:
                    headers["authorization"] = outer_auth
                reply = self._api(method, target, headers, body)
            response_id = (
                f"<response-{content_id[1:-1]}>"
                if content_id.startswith("<") and content_id.endswith(">")
                else f"<response-{content_id}>"
            )
            reason = _REASONS.get(reply.status, "Unknown")
            inner = (
                f"HTTP/1.1 {reply.status} {reason}\r\n"
                f"Content-Type: {reply.content_type}\r\n"
                f"Content-Length: {len(reply.body)}\r\n\r\n"
            ).encode() + reply.body
            chunks.append(
                f"--{out_boundary}\r\nContent-Type: application/http\r\n"
                f"Content-ID: {response_id}\r\n\r\n".encode()
                + inner
                + b"\r\n"
            )
        chunks.append(f"--{out_boundary}--\r\n".encode())
        return _Reply(200, b"".join(chunks), f"multipart/mixed; boundary={out_boundary}")

    # -- keyless access ----------------------------------------------------------------------

    def _keyless(self, request: Request, path: str) -> _Reply:
        if request.method != "POST":
            return _json_reply(405, {"error": "invalid_request"})
        if self._chance(self.token_fault_rate):
            return _json_reply(503, {"error": {"code": 503, "status": "UNAVAILABLE"}})
        keyless = self._federation
        if keyless is None:
            return _error_reply(not_found())
        now = time.time()
        if path == federation.STS_PATH:
            answer = keyless.exchange({k: str(v) for k, v in request.form.items()}, now)
        else:
            authorization = request.headers.get("authorization", "")
            answer = keyless.iam(path, authorization, request.get_data(), now)
        return _json_reply(answer.status, answer.payload)

    # -- token endpoint --------------------------------------------------------------------

    def _consent(self, request: Request, path: str) -> Response:
        """The authorization endpoint (GET: the consent page; POST: the decision, a
        redirect) and the revocation endpoint."""
        if path == consent.REVOKE_PATH:
            if request.method != "POST":
                return Response(status=405)
            token = str(request.form.get("token") or request.args.get("token") or "")
            if self.consent.revoke(token):
                return Response("{}", status=200, content_type="application/json")
            body = json.dumps({"error": "invalid_token", "error_description": "Bad Request"})
            return Response(body, status=400, content_type="application/json")
        try:
            if request.method == "POST":
                location = self.consent.decide(request.form.to_dict())
                return Response(status=302, headers={"Location": location})
            page = self.consent.page(self.consent.authorization(request.args.to_dict()))
        except consent.ConsentError as error:
            text = f"<!doctype html><title>Error</title><h1>{html.escape(str(error))}</h1>"
            return Response(text, status=400, content_type="text/html; charset=utf-8")
        return Response(page, status=200, content_type="text/html; charset=utf-8")

    def _issue_user_token(self, subject: str, scopes: frozenset[str]) -> str:
        token = oauth.new_token()
        with self._lock:
            self._tokens[token] = oauth.AccessToken(
                subject=subject, scopes=scopes, expires_at=time.time() + oauth.TOKEN_LIFETIME_S
            )
        return token

    def _forget_tokens(self, tokens: set[str]) -> None:
        with self._lock:
            for token in tokens:
                self._tokens.pop(token, None)

    def _known_account(self, address: str) -> bool:
        with self._lock:
            return (
                self._calendars.find(address) is not None
                and address.strip().lower() not in self._suspended
            )

    def _token(self, request: Request) -> _Reply:
        if request.method != "POST":
            return _json_reply(405, {"error": "invalid_request"})
        if self._chance(self.token_fault_rate):
            return _json_reply(
                503,
                {"error": "temporarily_unavailable", "error_description": "Try again later."},
            )
        form = request.form
        if form.get("grant_type") in (consent.AUTHORIZATION_CODE, consent.REFRESH_TOKEN):
            try:
                return _json_reply(200, self.consent.grant(form.to_dict()))
            except oauth.GrantError as error:
                return _json_reply(error.status, error.body())
        if form.get("grant_type") != oauth.JWT_BEARER:
            return _json_reply(
                400,
                {"error": "unsupported_grant_type", "error_description": "Invalid grant_type."},
            )
        assertion = str(form.get("assertion", ""))
        with self._lock:
            keys = [self._key] if self._key is not None else []
            if self._federation is not None:
                keys.append(self._federation.managed_key)
        key = oauth.key_for(assertion, keys)
        if key is None:
            return _json_reply(400, {"error": "invalid_grant", "error_description": "No key."})
        try:
            claims = oauth.verify_assertion(assertion, key, self.token_uri, time.time())
            with self._lock:
                if self._misconfigured:
                    raise oauth.GrantError(
                        "unauthorized_client",
                        "Client is unauthorized to retrieve access tokens using this method, "
                        "or client not authorized for any of the scopes requested.",
                    )
                scopes = oauth.requested_scopes(claims)
                subject = claims.get("sub")
                if subject is not None:
                    subject = str(subject)
                    if (
                        self._calendars.find(subject) is None
                        or subject.strip().lower() in self._suspended
                    ):
                        raise oauth.GrantError("invalid_grant", "Invalid email or User ID")
                token = oauth.new_token()
                self._tokens[token] = oauth.AccessToken(
                    subject=subject,
                    scopes=scopes,
                    expires_at=time.time() + oauth.TOKEN_LIFETIME_S,
                )
        except oauth.GrantError as error:
            return _json_reply(error.status, error.body())
        return _json_reply(
            200,
            {
                "access_token": token,
                "expires_in": oauth.TOKEN_LIFETIME_S,
                "token_type": "Bearer",
            },
        )


class _Attempt:
    """Records one write call in the write log, whatever its outcome."""

    def __init__(
        self,
        server: CalendarServer,
        write: str | None,
        path_params: Mapping[str, str],
        body: bytes,
    ) -> None:
        self.server = server
        self.write = write
        self.principal: _Principal | None = None
        self.calendar_id = path_params.get("calendarId", "")
        self.event_id = path_params.get("eventId", "")
        self.before: dict[str, str] | None = None
        self.observed = False
        if write == "insert" and not self.event_id:
            try:
                parsed = json.loads(body or b"{}")
                if isinstance(parsed, dict) and isinstance(parsed.get("id"), str):
                    self.event_id = parsed["id"]
            except ValueError:
                pass

    def observe(self, cal: Calendar | None, event_id: str | None) -> None:
        """Take the target's tags right before the write (called under the lock)."""
        self.observed = True
        if cal is not None:
            self.calendar_id = cal.email
        found = self.server._calendars.peek(cal, event_id)
        self.before = None if found is None else tags(found)

    def done(self, reply: _Reply) -> _Reply:
        if self.write is None:
            return reply
        server = self.server
        with server._lock:
            if not self.observed:
                cal = None
                if self.principal is not None:
                    cal = server._resolve(self.principal, self.calendar_id, own_only=False)
                else:
                    cal = server._calendars.find(self.calendar_id)
                self.observe(cal, self.event_id or None)
            server.write_log.append(
                WriteRecord(
                    method=self.write,
                    calendar=self.calendar_id,
                    event_id=self.event_id,
                    before=self.before,
                    status=reply.status,
                )
            )
        return reply


# --- helpers ---------------------------------------------------------------------------------


def _unauthenticated() -> ApiError:
    return ApiError(
        401,
        "Request had invalid authentication credentials. Expected OAuth 2 access token, "
        "login cookie or other valid authentication credential.",
        "authError",
        location="Authorization",
        location_type="header",
    )


def _backend_error(code: int) -> ApiError:
    if code == 503:
        return ApiError(503, "The service is currently unavailable.", "backendError")
    return ApiError(code, "Backend Error", "backendError")


def _parse_json(body: bytes) -> Any:
    if not body.strip():
        return {}
    try:
        return json.loads(body)
    except ValueError as error:
        raise ApiError(400, "Parse Error", "parseError") from error


def _calendar_resource(cal: Calendar) -> dict[str, Any]:
    return {
        "kind": "calendar#calendar",
        "etag": f'"{cal.last_seq}"',
        "id": cal.email,
        "summary": cal.email,
        "timeZone": cal.timezone,
        "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]},
    }


def _split_multipart(body: bytes, boundary: bytes) -> list[tuple[dict[str, str], bytes]]:
    """The parts of a multipart body: (headers lower-cased, payload)."""
    delimiter = b"--" + boundary
    segments = body.split(delimiter)
    if len(segments) < 2:
        raise ValueError("no boundary found")
    parts: list[tuple[dict[str, str], bytes]] = []
    for raw in segments[1:]:
        if raw.startswith(b"--"):
            break
        segment = raw
        if segment.startswith(b"\r\n"):
            segment = segment[2:]
        elif segment.startswith(b"\n"):
            segment = segment[1:]
        if segment.endswith(b"\r\n"):
            segment = segment[:-2]
        elif segment.endswith(b"\n"):
            segment = segment[:-1]
        head, payload = _split_head(segment)
        parts.append((_headers(head), payload))
    return parts


def _split_head(data: bytes) -> tuple[bytes, bytes]:
    candidates = [
        (index, len(sep)) for sep in (b"\r\n\r\n", b"\n\n") if (index := data.find(sep)) >= 0
    ]
    if not candidates:
        return data, b""
    index, size = min(candidates)
    return data[:index], data[index + size :]


def _headers(head: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in head.decode("utf-8", "replace").splitlines():
        name, sep, value = line.partition(":")
        if sep:
            out[name.strip().lower()] = value.strip()
    return out


def _parse_inner(payload: bytes) -> tuple[str, str, dict[str, str], bytes]:
    """An ``application/http`` part: request line, headers, body."""
    line_end = payload.find(b"\n")
    if line_end < 0:
        raise ValueError("no request line")
    request_line = payload[:line_end].decode("utf-8", "replace").strip()
    pieces = request_line.split(" ")
    if len(pieces) < 2:
        raise ValueError(f"bad request line {request_line!r}")
    method, target = pieces[0].upper(), pieces[1]
    rest = payload[line_end + 1 :]
    if rest.startswith((b"\r\n", b"\n")):  # no headers at all
        head, body = b"", rest.lstrip(b"\r\n")
    else:
        head, body = _split_head(rest)
    headers = _headers(head)
    length = headers.get("content-length")
    if length is not None and length.isdigit():
        body = body[: int(length)]
    if target.startswith(("http://", "https://")):
        parsed = urllib.parse.urlsplit(target)
        target = parsed.path + (f"?{parsed.query}" if parsed.query else "")
    return method, target, headers, body
