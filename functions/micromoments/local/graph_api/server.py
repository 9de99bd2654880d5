"""`GraphServer`: a stateful Microsoft Graph stand-in for calendars, on a loopback port.

Serves what the Graph gateway sends: the OAuth client-credentials grant at
``/{tenant}/oauth2/v2.0/token``, and under ``/v1.0/``: ``users/{id}/calendarView/delta``
(paged with ``@odata.nextLink``, closed with ``@odata.deltaLink``; removals as
``@removed``), ``users/{id}/events`` (create with ``transactionId`` idempotency, list with
an extended-property ``$filter``), ``users/{id}/events/{id}`` (get, patch, delete),
``users/{id}/calendar/getSchedule``, ``users/{id}/mailboxSettings`` (and its ``/timeZone``)
and ``$batch`` (20 requests at most). Knobs: ``throttle_rate`` (429 with ``Retry-After``),
``fault_rate`` (503 or 500), both seeded, a faulted write never applied; ``lost_reply_rate``
(a write is applied, then answered 503, as when a connection drops); `expire_delta_links`
makes every delta link of a mailbox answer 410 ``SyncStateNotFound``; ``access_policy`` (a
set of addresses, or None for none) is an Exchange application access policy: a call for any
other mailbox on the server answers 403 ``ErrorAccessDenied``. ``/subscriptions``: change
notifications on a mailbox's events (`subscriptions`; `subscriptions.wait_idle` in tests).
"""

from __future__ import annotations

import json
import random
import re
import secrets
import threading
import time
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from micromoments.local.graph_api import assertions, meetings, routes
from micromoments.local.graph_api.state import GraphError, Mailbox
from micromoments.local.graph_api.subscriptions import Subscriptions

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment
    from cryptography.x509 import Certificate

    from micromoments.adapters.graph_calendar import GraphTransport
    from micromoments.local.synthetic import SyntheticOrg, SyntheticPerson

API_PREFIX = "/v1.0/"
MAX_BATCH = 20
_TOKEN_PATH = re.compile(r"^/([A-Za-z0-9.-]+)/oauth2/v2\.0/token$")
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
ACCESS_POLICY_REFUSAL = (
    "Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy "
    "settings."
)


@dataclass(frozen=True, slots=True)
class GraphWrite:
    """One create, patch or delete the server received (``method``: create, patch or
    delete), and the status it was given (a write whose answer was lost: its real one)."""

    method: str
    mailbox: str
    event_id: str | None
    status: int


@dataclass(slots=True)
class GraphCounters:
    """``requests``: API calls (each request of a batch is one); ``round_trips``: HTTP
    requests to the API (a batch is one); ``oauth_round_trips``: token requests."""

    requests: int = 0
    round_trips: int = 0
    oauth_round_trips: int = 0
    by_status: dict[int, int] = field(default_factory=dict)

    def reset(self) -> None:
        self.requests = self.round_trips = self.oauth_round_trips = 0
        self.by_status.clear()


class _QuietHandler(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:
        pass


class GraphServer:
    """A Microsoft Graph calendar server for tests and the demo (see the module docstring).

    ``tenant``, ``client_id`` and ``client_secret`` are what the token endpoint accepts, or a
    client assertion signed by one of the ``certificates`` (PEM; `register_certificate`);
    every API call needs a bearer token it issued. ``page_size`` is the default page of a
    delta round (``Prefer: odata.maxpagesize=N`` lowers it). ``retry_after_s`` is the
    ``Retry-After`` of a throttled answer.
    """

    def __init__(
        self,
        *,
        tenant: str = "contoso.onmicrosoft.com",
        client_id: str = "micromoments-local",
        client_secret: str = "local-secret",
        certificates: Iterable[str] = (),
        throttle_rate: float = 0.0,
        fault_rate: float = 0.0,
        lost_reply_rate: float = 0.0,
        retry_after_s: int = 2,
        page_size: int = 50,
        access_policy: Iterable[str] | None = None,
        seed: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.tenant = tenant
        self.client_id = client_id
        self.client_secret = client_secret
        self.throttle_rate = throttle_rate
        self.fault_rate = fault_rate
        self.lost_reply_rate = lost_reply_rate
        self.retry_after_s = retry_after_s
        self.page_size = page_size
        self.access_policy: frozenset[str] | None = None
        self.counters = GraphCounters()
        self.write_log: list[GraphWrite] = []
        self.mailboxes: dict[str, Mailbox] = {}
        self.rounds = routes.Rounds()
        self.subscriptions = Subscriptions(tenant=tenant)
        self._tokens: set[str] = set()
        self._certificates: dict[str, Certificate] = {}
        self._assertion_ids: set[str] = set()
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self.set_access_policy(access_policy)
        for certificate_pem in certificates:
            self.register_certificate(certificate_pem)
        self._host, self._port = host, port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> GraphServer:
        if self._server is None:
            self._server = make_server(
                self._host, self._port, self._wsgi, threaded=True, request_handler=_QuietHandler
            )
            server = self._server
            self._thread = threading.Thread(
                target=lambda: server.serve_forever(poll_interval=0.05),
                name=f"graph-api:{self.port}",
                daemon=True,
            )
            self._thread.start()
            self.subscriptions.start()
        return self

    def stop(self) -> None:
        self.subscriptions.shutdown()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = self._thread = None

    def __enter__(self) -> GraphServer:
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
            raise RuntimeError("the Graph server is not started")
        return int(self._server.server_port)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1.0/``, the API base."""
        return f"http://{self._host}:{self.port}{API_PREFIX}"

    @property
    def authority(self) -> str:
        """``http://127.0.0.1:PORT/``: token requests go to ``{authority}{tenant}/oauth2/…``."""
        return f"http://{self._host}:{self.port}/"

    def transport(self, **options: Any) -> GraphTransport:
        """A `GraphTransport` for this server's app with its client secret, as `wiring`
        builds one deployed; ``options`` add or override its arguments (``sleep``,
        ``max_attempts``, another ``client_secret``...)."""
        from micromoments.adapters.graph_calendar import GraphTransport
        from micromoments.ports import CalendarCounters

        arguments: dict[str, Any] = {
            "api_url": self.base_url,
            "authority": self.authority,
            "tenant": self.tenant,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "counters": CalendarCounters(),
        }
        return GraphTransport(**{**arguments, **options})

    # -- data and knobs ----------------------------------------------------------------------

    def add_mailbox(self, email: str, *, timezone: str = "UTC") -> None:
        """A mailbox whose ``mailboxSettings.timeZone`` is ``timezone`` (a Windows name)."""
        with self._lock:
            self.mailboxes.setdefault(email.lower(), Mailbox(email.lower(), timezone))

    def seed(self, email: str, events: Iterable[Mapping[str, Any]]) -> list[str]:
        """Store events as if created in the mailbox (validated); their ids, in order."""
        with self._lock:
            self.add_mailbox(email)
            mailbox = self.mailboxes[email.lower()]
            with self.subscriptions.watching(self.mailboxes):
                return [routes.create(mailbox, event)[1]["id"] for event in events]

    def seed_synthetic(self, person: SyntheticPerson) -> None:
        """Add the person's mailbox (their zone by its Windows name) with their events."""
        from micromoments.adapters.graph_calendar.events import windows_zone
        from micromoments.local.graph_api.synthetic_events import graph_events

        zone_name = windows_zone(person.person.timezone or "UTC") or "UTC"
        self.add_mailbox(person.email, timezone=zone_name)
        self.seed(person.email, graph_events(person))

    def seed_org(self, org: SyntheticOrg) -> None:
        for person in org.people:
            self.seed_synthetic(person)

    def events(self, email: str) -> list[dict[str, Any]]:
        """The live events of a mailbox as stored (extended properties included)."""
        with self._lock:
            return [dict(e.resource) for e in self.mailboxes[email.lower()].live()]

    def change(self, email: str, event_id: str, changes: Mapping[str, Any]) -> None:
        """Change an event as its owner would (in Outlook): it appears in the next delta
        (an organiser's meeting update reaches the attendees' copies, see `meetings`)."""
        with self._lock, self.subscriptions.watching(self.mailboxes):
            meetings.patch(self.mailboxes, self.mailboxes[email.lower()], event_id, changes)

    def remove(self, email: str, event_id: str) -> None:
        with self._lock, self.subscriptions.watching(self.mailboxes):
            meetings.delete(self.mailboxes, self.mailboxes[email.lower()], event_id)

    def respond(self, email: str, event_id: str, response: str) -> None:
        """``email`` answers (accepted, declined, tentativelyAccepted) the meeting whose
        copy in their mailbox is ``event_id``; the organiser's attendee status follows."""
        with self._lock, self.subscriptions.watching(self.mailboxes):
            meetings.respond(self.mailboxes, email, event_id, response)

    def expire_delta_links(self, email: str) -> None:
        """Every delta and next link of the mailbox now answers 410 SyncStateNotFound."""
        with self._lock:
            self.mailboxes[email.lower()].delta_epoch += 1

    def set_access_policy(self, addresses: Iterable[str] | None) -> None:
        """Restrict the app to these mailboxes, as an application access policy scoped to
        a group of them does (None: no policy, every mailbox is open to the app)."""
        with self._lock:
            self.access_policy = (
                None if addresses is None else frozenset(a.strip().lower() for a in addresses)
            )

    def _refused(self, parts: list[str], body: Any) -> bool:
        """Whether the policy refuses a call for the mailbox ``users/{id}/…`` (or, for
        getSchedule, for any mailbox on the server among the schedules asked about)."""
        if self.access_policy is None:
            return False
        asked = [parts[1].lower()]
        if parts[2:] == ["calendar", "getSchedule"] and isinstance(body, Mapping):
            schedules = body.get("schedules")
            asked += [str(s).lower() for s in schedules] if isinstance(schedules, list) else []
        return any(a in self.mailboxes and a not in self.access_policy for a in asked)

    # -- WSGI --------------------------------------------------------------------------------

    def _wsgi(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        target = str(environ.get("RAW_URI") or request.full_path)
        path, _, query = target.partition("?")
        headers = {k.lower(): v for k, v in request.headers.items()}
        token_path = _TOKEN_PATH.match(path)
        if token_path:
            with self._lock:
                self.counters.oauth_round_trips += 1
            status, body, extra = self._token(token_path.group(1), request)
        else:
            with self._lock:
                self.counters.round_trips += 1
            status, body, extra = self._top(request.method, path, query, headers, request)
        response = Response(
            "" if body is None else json.dumps(body),
            status=status,
            content_type="application/json",
            headers=extra,
        )
        return response(environ, start_response)

    def register_certificate(self, certificate_pem: str) -> str:
        """Upload a certificate's public part to the app (as in Entra's *Certificates &
        secrets*): client assertions it verifies are accepted. Its ``x5t``."""
        x5t, certificate = assertions.load_certificate(certificate_pem)
        with self._lock:
            self._certificates[x5t] = certificate
        return x5t

    def _token(self, tenant: str, request: Request) -> tuple[int, Any, dict[str, str]]:
        form = request.form
        if tenant != self.tenant:
            return 400, {"error": "invalid_request", "error_description": "unknown tenant"}, {}
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}, {}
        if form.get("scope") != GRAPH_SCOPE:
            return 400, {"error": "invalid_scope"}, {}
        if "client_assertion" in form or "client_assertion_type" in form:
            if "client_secret" in form:
                why = "a client secret and a client assertion: send one"
                return 400, {"error": "invalid_request", "error_description": why}, {}
            if form.get("client_assertion_type") != assertions.ASSERTION_TYPE:
                why = "client_assertion_type must be jwt-bearer"
                return 400, {"error": "invalid_request", "error_description": why}, {}
            with self._lock:
                refused = assertions.refusal(
                    str(form.get("client_assertion") or ""),
                    certificates=self._certificates,
                    client_id=self.client_id,
                    audience=f"{self.authority}{tenant}/oauth2/v2.0/token",
                    now=time.time(),
                    seen=self._assertion_ids,
                )
            if form.get("client_id") != self.client_id or refused is not None:
                why = refused or "unknown client_id"
                return 401, {"error": "invalid_client", "error_description": why}, {}
        elif form.get("client_id") != self.client_id or not secrets.compare_digest(
            str(form.get("client_secret") or ""), self.client_secret
        ):
            return 401, {"error": "invalid_client"}, {}
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens.add(token)
        return 200, {"token_type": "Bearer", "expires_in": 3599, "access_token": token}, {}

    def expire_tokens(self) -> None:
        """Every access token issued so far is refused (401) from now on."""
        with self._lock:
            self._tokens.clear()

    def _top(
        self, method: str, path: str, query: str, headers: Mapping[str, str], request: Request
    ) -> tuple[int, Any, dict[str, str]]:
        auth = headers.get("authorization", "")
        with self._lock:
            known = auth.startswith("Bearer ") and auth[7:] in self._tokens
        if not known:
            return _error(GraphError(401, "InvalidAuthenticationToken", "no valid token"))
        if not path.startswith(API_PREFIX):
            return _error(GraphError(404, "ResourceNotFound", "unknown path"))
        relative = path[len(API_PREFIX) :]
        try:
            body = json.loads(request.get_data() or b"null")
        except ValueError:
            return _error(GraphError(400, "BadRequest", "the body is not JSON"))
        if relative == "$batch" and method == "POST":
            return self._batch(body)
        return self._call(method, relative, query, headers, body)

    def _batch(self, body: Any) -> tuple[int, Any, dict[str, str]]:
        requests = body.get("requests") if isinstance(body, Mapping) else None
        if not isinstance(requests, list) or not requests:
            return _error(GraphError(400, "BadRequest", "a batch needs a list of requests"))
        if len(requests) > MAX_BATCH:
            return _error(
                GraphError(400, "BadRequest", f"a batch holds at most {MAX_BATCH} requests")
            )
        ids = [r.get("id") for r in requests if isinstance(r, Mapping)]
        if len(ids) != len(requests) or len(set(ids)) != len(ids):
            return _error(GraphError(400, "BadRequest", "every request needs a unique id"))
        answers = []
        for part in requests:
            url = str(part.get("url") or "").lstrip("/")
            relative, _, query = url.partition("?")
            headers = {str(k).lower(): str(v) for k, v in (part.get("headers") or {}).items()}
            status, answer, extra = self._call(
                str(part.get("method") or "GET"), relative, query, headers, part.get("body")
            )
            answers.append({"id": part["id"], "status": status, "headers": extra, "body": answer})
        return 200, {"responses": answers}, {}

    def _call(
        self, method: str, relative: str, query: str, headers: Mapping[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if (
            relative.split("/", maxsplit=1)[0] == "subscriptions"
        ):  # no lock: validation waits on the URL
            with self._lock:
                self.counters.requests += 1
                known = set(self.mailboxes)
            return self.subscriptions.route(method, relative.split("/"), body, known.__contains__)
        with self._lock, self.subscriptions.watching(self.mailboxes):
            self.counters.requests += 1
            reply = self._faulted() or self._route(method, relative, query, headers, body)
            write = method in ("POST", "PATCH", "DELETE") and reply[0] < 300
            if write and self.lost_reply_rate and self._rng.random() < self.lost_reply_rate:
                reply = _error(GraphError(503, "ServiceNotAvailable", "applied, answer lost"))
            self.counters.by_status[reply[0]] = self.counters.by_status.get(reply[0], 0) + 1
            return reply

    def _faulted(self) -> tuple[int, Any, dict[str, str]] | None:
        if self.throttle_rate and self._rng.random() < self.throttle_rate:
            status, body, _ = _error(GraphError(429, "TooManyRequests", "throttled"))
            return status, body, {"Retry-After": str(self.retry_after_s)}
        if self.fault_rate and self._rng.random() < self.fault_rate:
            code = self._rng.choice((500, 503))
            return _error(GraphError(code, "ServiceNotAvailable", "try again"))
        return None

    def _route(
        self, method: str, relative: str, query: str, headers: Mapping[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        parts = [urllib.parse.unquote(p) for p in relative.strip("/").split("/")]
        if len(parts) < 3 or parts[0] != "users":
            return _error(GraphError(404, "ResourceNotFound", f"unknown resource {relative}"))
        mailbox = self.mailboxes.get(parts[1].lower())
        if mailbox is None:
            return _error(GraphError(404, "ErrorInvalidUser", "the mailbox is not found"))
        if self._refused(parts, body):
            return _error(GraphError(403, "ErrorAccessDenied", ACCESS_POLICY_REFUSAL))
        try:
            if parts[2:] == ["calendarView", "delta"] and method == "GET":
                page = self.rounds.page(mailbox, params, self.base_url, _page_size(headers, self))
                return 200, page, {}
            if parts[2:] == ["mailboxSettings"] and method == "GET":
                return 200, {"timeZone": mailbox.timezone}, {}
            if parts[2:] == ["mailboxSettings", "timeZone"] and method == "GET":
                return 200, {"value": mailbox.timezone}, {}
            if parts[2:] == ["calendar", "getSchedule"] and method == "POST":
                return 200, routes.schedule(self.mailboxes, body), {}
            if parts[2:] == ["events"] and method == "GET":
                return 200, routes.find(mailbox, params), {}
            if parts[2:] == ["events"] and method == "POST":
                created = meetings.create(self.mailboxes, mailbox, body)
                self.write_log.append(GraphWrite("create", mailbox.email, created["id"], 201))
                return 201, routes.shown(mailbox, created["id"], params), {}
            if len(parts) == 5 and parts[2] == "events" and method == "POST":
                return self._answer(mailbox, parts[3], parts[4], body)
            if len(parts) == 4 and parts[2] == "events":
                return self._one(mailbox, method, parts[3], params, body)
        except GraphError as exc:
            name = {"POST": "create", "PATCH": "patch", "DELETE": "delete"}.get(method)
            if name is not None and parts[2] == "events" and len(parts) <= 4:
                event_id = parts[3] if len(parts) == 4 else None
                self.write_log.append(GraphWrite(name, mailbox.email, event_id, exc.status))
            return _error(exc)
        return _error(GraphError(405, "MethodNotAllowed", f"{method} {relative}"))

    def _one(
        self, mailbox: Mailbox, method: str, event_id: str, params: Mapping[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if method == "GET":
            return 200, routes.shown(mailbox, event_id, params), {}
        if method == "PATCH":
            meetings.patch(self.mailboxes, mailbox, event_id, body)
            self.write_log.append(GraphWrite("patch", mailbox.email, event_id, 200))
            return 200, routes.shown(mailbox, event_id, params), {}
        if method == "DELETE":
            meetings.delete(self.mailboxes, mailbox, event_id)
            self.write_log.append(GraphWrite("delete", mailbox.email, event_id, 204))
            return 204, None, {}
        raise GraphError(405, "MethodNotAllowed", method)

    def _answer(
        self, mailbox: Mailbox, event_id: str, action: str, body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        """``POST …/events/{id}/accept`` (``decline``, ``tentativelyAccept``): 202."""
        response = _ANSWERS.get(action)
        if response is None:
            raise GraphError(404, "ResourceNotFound", f"unknown action {action}")
        send = not isinstance(body, Mapping) or body.get("sendResponse", True) is not False
        meetings.respond(self.mailboxes, mailbox.email, event_id, response, send=send)
        return 202, None, {}


_ANSWERS = {
    "accept": "accepted",
    "decline": "declined",
    "tentativelyAccept": "tentativelyAccepted",
}


def _page_size(headers: Mapping[str, str], server: GraphServer) -> int:
    match = re.search(r"odata\.maxpagesize=(\d+)", headers.get("prefer", ""))
    return max(1, min(int(match.group(1)), server.page_size)) if match else server.page_size


def _error(error: GraphError) -> tuple[int, Any, dict[str, str]]:
    return error.status, error.body(), {}
