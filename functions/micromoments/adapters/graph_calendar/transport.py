"""Plain HTTP to Microsoft Graph through `requests`: the client-credentials token (the app
authenticated by its client secret or a certificate's client assertion, `credentials`;
cached until a minute before it expires; a 401 fetches a new one once), counted round trips, and
retries of 429 (after its ``Retry-After``), 5xx and network errors with backoff, for single
calls and for the requests of a ``$batch``."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import requests

from micromoments.adapters.graph_calendar.credentials import AppCredential, ClientSecret
from micromoments.ports import CalendarCounters, CalendarError

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
BATCH_REQUESTS = 20  # Graph's limit for one $batch
_BACKOFF_BASE_S = 0.5
_BACKOFF_CAP_S = 32.0
_RETRY_AFTER_CAP_S = 120.0
_PREFER = 'outlook.timezone="UTC"'


@dataclass(frozen=True, slots=True)
class Answer:
    """One HTTP answer (of a call, or of one request of a batch); status 0: no answer."""

    status: int
    body: Any = None
    retry_after: float | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def transient(self) -> bool:
        return self.status in (0, 408, 429) or self.status >= 500

    @property
    def code(self) -> str:
        """Graph's ``error.code`` (or an OAuth ``error``), "" when none."""
        error = self.body.get("error") if isinstance(self.body, Mapping) else None
        if isinstance(error, Mapping):
            return str(error.get("code") or "")
        return str(error or "")

    def describe(self) -> str:
        return f"{self.status} {self.code or self.message}".strip()


@dataclass(frozen=True, slots=True)
class Call:
    """One Graph request: method, URL relative to the API base (``users/…``), body."""

    method: str
    url: str
    body: Any = None


class GraphApiError(CalendarError):
    """A call failed for good (``status``: the HTTP status; 0 for no answer)."""

    def __init__(self, what: str, answer: Answer) -> None:
        super().__init__(f"{what}: {answer.describe()}")
        self.status = answer.status
        self.code = answer.code
        self.answer = answer


def method_name(call: Call) -> str:
    """What a call is, for the counters: ``GET calendarView/delta``, ``POST events``,
    ``PATCH events/{id}``, ``GET mailboxSettings``, ``DELETE subscriptions/{id}``…"""
    path = call.url.split("?")[0]
    if path.startswith("http"):
        path = path.split("/users/", 1)[-1]
        path = "users/" + path
    parts = path.split("/")[2:] if path.startswith("users/") else path.split("/")
    if len(parts) == 2 and parts[0] in ("events", "subscriptions"):
        parts = [parts[0], "{id}"]
    return f"{call.method} {'/'.join(parts)}"


def _retry_after(headers: Mapping[str, Any]) -> float | None:
    value = next((v for k, v in headers.items() if str(k).lower() == "retry-after"), None)
    try:
        return min(_RETRY_AFTER_CAP_S, max(0.0, float(value))) if value is not None else None
    except (TypeError, ValueError):
        return None


class GraphTransport:
    """HTTP to one Graph tenant as one app registration: its ``credential`` (a
    `ClientCertificate` or `ClientSecret`), or ``client_secret`` for short."""

    def __init__(
        self,
        *,
        api_url: str,
        authority: str,
        tenant: str,
        client_id: str,
        client_secret: str | None = None,
        credential: AppCredential | None = None,
        counters: CalendarCounters,
        timeout_s: float = 10,
        max_attempts: int = 6,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        page_size: int = 100,
    ) -> None:
        self.api_url = api_url if api_url.endswith("/") else api_url + "/"
        self._token_url = f"{authority.rstrip('/')}/{tenant}/oauth2/v2.0/token"
        if (credential is None) == (client_secret is None):
            raise TypeError("give the app's credential or its client_secret, not both")
        self._client_id = client_id
        self._credential = credential or ClientSecret(str(client_secret))
        self.counters = counters
        self._timeout_s = timeout_s
        self.max_attempts = max_attempts
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._page_size = page_size
        self._session = requests.Session()
        self._lock = threading.Lock()
        self._token: tuple[str, float] | None = None

    # -- auth ----------------------------------------------------------------------------

    def _access_token(self, *, fresh: bool = False) -> str:
        with self._lock:
            if not fresh and self._token is not None and self._token[1] > time.monotonic():
                return self._token[0]
            self.counters.oauth_round_trips += 1
            form = {
                "grant_type": "client_credentials",
                "client_id": self._client_id,
                "scope": GRAPH_SCOPE,
                **self._credential.form(self._client_id, self._token_url),
            }
            try:
                reply = self._session.post(self._token_url, data=form, timeout=self._timeout_s)
                data = reply.json()
            except (requests.RequestException, ValueError) as exc:
                raise CalendarError(f"Graph token: {type(exc).__name__}") from None
            if reply.status_code != 200 or not data.get("access_token"):
                raise CalendarError(f"Graph token: {reply.status_code} {data.get('error', '')}")
            lifetime = max(60.0, float(data.get("expires_in") or 3599) - 60)
            self._token = (str(data["access_token"]), time.monotonic() + lifetime)
            return self._token[0]

    # -- one HTTP request ------------------------------------------------------------------

    def _send(self, call: Call, *, inner: Sequence[Call] = ()) -> Answer:
        """One round trip (a ``$batch`` of ``inner`` calls, else one call), with one fresh
        token after a 401."""
        url = call.url if call.url.startswith("http") else self.api_url + call.url
        for fresh in (False, True):
            headers = {
                "Authorization": f"Bearer {self._access_token(fresh=fresh)}",
                "Prefer": f"{_PREFER}, odata.maxpagesize={self._page_size}",
            }
            with self._lock:
                self.counters.round_trips += 1
                for counted in inner or (call,):
                    self.counters.requests += 1
                    key = method_name(counted)
                    self.counters.by_method[key] = self.counters.by_method.get(key, 0) + 1
            try:
                reply = self._session.request(
                    call.method, url, json=call.body, headers=headers, timeout=self._timeout_s
                )
            except requests.RequestException as exc:
                return Answer(0, message=type(exc).__name__)
            if reply.status_code == 401 and not fresh:
                continue
            try:
                body = reply.json() if reply.content else None
            except ValueError:
                body = None
            return Answer(reply.status_code, body, _retry_after(reply.headers))
        raise AssertionError("unreachable")  # pragma: no cover

    def pause(self, attempt: int, answers: Sequence[Answer]) -> None:
        """Wait before another attempt: the longest ``Retry-After`` asked for, else full
        jitter up to base * 2^(attempt-1), capped."""
        asked = [a.retry_after for a in answers if a.retry_after is not None]
        if asked:
            self._sleep(max(asked))
        else:
            self._sleep(
                self._rng.uniform(0, min(_BACKOFF_CAP_S, _BACKOFF_BASE_S * 2 ** (attempt - 1)))
            )

    def call(self, call: Call) -> Answer:
        """One call, retried while it fails transiently; the last answer otherwise."""
        attempt = 1
        while True:
            answer = self._send(call)
            if not answer.transient or attempt >= self.max_attempts:
                return answer
            self.pause(attempt, [answer])
            attempt += 1

    def require(self, call: Call, what: str) -> Any:
        answer = self.call(call)
        if not answer.ok:
            raise GraphApiError(what, answer)
        return answer.body

    # -- $batch ----------------------------------------------------------------------------

    def batch(self, calls: Sequence[Call]) -> list[tuple[Answer, int]]:
        """Every call through ``$batch`` (20 a round trip), each retried while it fails
        transiently; (its last answer, attempts) in order."""
        results: dict[int, tuple[Answer, int]] = {}
        pending = list(range(len(calls)))
        attempt = 1
        while pending:
            answers: dict[int, Answer] = {}
            for first in range(0, len(pending), BATCH_REQUESTS):
                chunk = pending[first : first + BATCH_REQUESTS]
                answers.update(self._batch_once([(i, calls[i]) for i in chunk]))
            retry = [i for i in pending if answers[i].transient and attempt < self.max_attempts]
            for i in pending:
                if i not in retry:
                    results[i] = (answers[i], attempt)
            if retry:
                self.pause(attempt, [answers[i] for i in retry])
                attempt += 1
            pending = retry
        return [results[i] for i in range(len(calls))]

    def _batch_once(self, calls: Sequence[tuple[int, Call]]) -> dict[int, Answer]:
        body = {
            "requests": [
                {
                    "id": str(i),
                    "method": call.method,
                    "url": "/" + call.url,
                    "headers": {"Content-Type": "application/json", "Prefer": _PREFER},
                    **({"body": call.body} if call.body is not None else {}),
                }
                for i, call in calls
            ]
        }
        whole = self._send(Call("POST", "$batch", body), inner=[call for _, call in calls])
        if not whole.ok:  # the batch as a whole failed: each request may be tried again
            return {i: whole for i, _ in calls}
        found: dict[int, Answer] = {}
        responses = whole.body.get("responses") if isinstance(whole.body, Mapping) else None
        for part in responses if isinstance(responses, list) else []:
            if isinstance(part, Mapping) and str(part.get("id", "")).isdigit():
                headers = part.get("headers")
                found[int(part["id"])] = Answer(
                    int(part.get("status") or 0),
                    part.get("body"),
                    _retry_after(headers if isinstance(headers, Mapping) else {}),
                )
        return {i: found.get(i, Answer(0, message="no answer in the batch")) for i, _ in calls}
