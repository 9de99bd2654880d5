"""Change notifications of the local Graph server: subscriptions and their delivery.

Graph's behaviour (reference "Create subscription", "Receive change notifications through
webhooks"): ``POST /subscriptions`` takes ``changeType`` (some of ``created``, ``updated``,
``deleted``), ``notificationUrl``, ``resource`` (here ``users/{id}/events``), an
``expirationDateTime`` no more than 10080 minutes on for Outlook events, and an optional
``clientState`` (128 characters at most). Before answering, Graph validates the URL: it
POSTs ``?validationToken=…`` (``text/plain``) and needs a 200 echoing the token as plain
text within 10 seconds, else the subscription is refused (400 ``ValidationError``). It then
POSTs ``{"value": [...]}`` on every change of the mailbox's events, each item with the
``subscriptionId``, ``clientState``, ``changeType``, ``resource``
(``Users/{object id}/Events/{id}``), ``resourceData``, ``subscriptionExpirationDateTime``
and ``tenantId``; a 2xx answer is a delivery, 5xx and no answer are retried. ``PATCH
/subscriptions/{id}`` renews, ``DELETE`` ends one (404 once unknown or expired), ``GET``
lists them.

Local differences: notification URLs must be on a loopback host (``http`` allowed there),
so no test sends traffic off the machine; one item a POST; the mailbox's object id is a
stable UUID made from its address; no lifecycle notifications; throttling and fault knobs
do not apply to subscriptions. Delivery runs on one sender thread (`wait_idle` for tests).
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
import urllib.parse
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from micromoments.local.calendar_api.push import is_loopback
from micromoments.local.graph_api.state import GraphError, Mailbox, invalid

MAX_MINUTES = 10080  # Outlook events: the longest a subscription may run
CLIENT_STATE_MAX = 128
CHANGE_TYPES = frozenset({"created", "updated", "deleted"})
VALIDATION_TIMEOUT_S = 10.0
_RESOURCE = re.compile(r"^/?users/([^/]+)/events$", re.IGNORECASE)
_NOT_FOUND = "The object was not found."
_REFUSED = (
    "Subscription validation request failed. Notification endpoint must respond with 200 OK "
    "to validation request."
)

Reply = tuple[int, Any, dict[str, str]]


@dataclass(slots=True)
class Subscription:
    id: str
    mailbox: str  # the mailbox's key (lower-cased address)
    resource: str
    changes: frozenset[str]
    url: str
    client_state: str | None
    expiration: float  # Unix seconds

    def shown(self, tenant: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "resource": self.resource,
            "applicationId": "00000000-0000-0000-0000-000000000000",
            "changeType": ",".join(sorted(self.changes)),
            "clientState": self.client_state,
            "notificationUrl": self.url,
            "expirationDateTime": _stamp(self.expiration),
            "tenantId": tenant,
        }


@dataclass(frozen=True, slots=True)
class Delivery:
    """What became of one notification: ``delivered`` (a 2xx), ``failed`` (another status or
    retries used up; ``status`` None: unreachable) or ``cancelled`` (the subscription ended)."""

    subscription_id: str
    change: str
    event_id: str
    outcome: str
    status: int | None = None


@dataclass(slots=True)
class _Note:
    subscription: Subscription
    change: str
    event_id: str


def object_id(email: str) -> str:
    """The mailbox owner's object id, as Graph names users in notifications."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"mailbox:{email.lower()}"))


def _stamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


class Subscriptions:
    """Every subscription of the server and the thread that delivers notifications.

    `route` runs on request threads without the server's lock (validation waits on the
    receiver); `watching` wraps a change of mailboxes under the server's lock and queues a
    notification for each changed event of a watched mailbox; the sender never blocks either.
    """

    def __init__(
        self, *, tenant: str, retries: int = 3, clock: Callable[[], float] = time.time
    ) -> None:
        self.tenant = tenant
        self.retries = retries
        self.deliveries: list[Delivery] = []
        self.validations: list[tuple[str, int | None]] = []  # (url, status) of each
        self._clock = clock
        self._subscriptions: dict[str, Subscription] = {}
        self._queue: deque[_Note] = deque()
        self._cond = threading.Condition()
        self._busy = False
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="graph-push", daemon=True)
            self._thread.start()

    def shutdown(self) -> None:
        if self._thread is not None:
            self._stopping.set()
            with self._cond:
                self._cond.notify_all()
            self._thread.join(timeout=5)
            self._thread = None

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until every queued notification is settled (for tests); False if that took
        longer than ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    def live(self, email: str | None = None) -> list[str]:
        """Ids of the unexpired subscriptions (of one mailbox)."""
        now = self._clock()
        with self._cond:
            return [
                s.id
                for s in self._subscriptions.values()
                if s.expiration > now and (email is None or s.mailbox == email.lower())
            ]

    # -- the API -----------------------------------------------------------------------------

    def route(
        self, method: str, parts: list[str], body: Any, known: Callable[[str], bool]
    ) -> Reply:
        """``/subscriptions`` (``parts`` of the path after ``v1.0/``); ``known`` tells
        whether a mailbox exists."""
        try:
            if parts == ["subscriptions"] and method == "POST":
                return 201, self._create(body, known).shown(self.tenant), {}
            if parts == ["subscriptions"] and method == "GET":
                now = self._clock()
                with self._cond:
                    found = [s for s in self._subscriptions.values() if s.expiration > now]
                return 200, {"value": [s.shown(self.tenant) for s in found]}, {}
            if len(parts) == 2 and method in ("GET", "PATCH", "DELETE"):
                return self._one(method, parts[1], body)
        except GraphError as exc:
            return exc.status, exc.body(), {}
        return 405, GraphError(405, "MethodNotAllowed", method).body(), {}

    def _create(self, body: Any, known: Callable[[str], bool]) -> Subscription:
        if not isinstance(body, Mapping):
            raise invalid("a subscription must be a JSON object")
        changes = frozenset(str(body.get("changeType") or "").split(","))
        if not changes <= CHANGE_TYPES:
            raise invalid("changeType must be some of created, updated, deleted")
        resource = str(body.get("resource") or "")
        match = _RESOURCE.match(resource)
        if match is None:
            raise invalid(f"unsupported resource {resource!r} (users/{{id}}/events here)")
        mailbox = urllib.parse.unquote(match.group(1)).lower()
        if not known(mailbox):
            raise GraphError(404, "ErrorInvalidUser", "the mailbox is not found")
        state = body.get("clientState")
        if state is not None and (not isinstance(state, str) or len(state) > CLIENT_STATE_MAX):
            raise invalid(f"clientState holds at most {CLIENT_STATE_MAX} characters")
        subscription = Subscription(
            id=str(uuid.uuid4()),
            mailbox=mailbox,
            resource=resource,
            changes=changes,
            url=_address(body.get("notificationUrl")),
            client_state=state,
            expiration=self._expiration(body),
        )
        if not self._validated(subscription.url):
            raise GraphError(400, "ValidationError", _REFUSED)
        with self._cond:
            self._subscriptions[subscription.id] = subscription
        return subscription

    def _expiration(self, body: Mapping[str, Any]) -> float:
        text = body.get("expirationDateTime")
        try:
            moment = datetime.fromisoformat(str(text))
        except ValueError:
            raise invalid("expirationDateTime is required (an ISO date-time)") from None
        seconds = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
        now = self._clock()
        if seconds <= now:
            raise invalid("Subscription expiration must be in the future.")
        if seconds > now + MAX_MINUTES * 60:
            raise invalid(
                f"Subscription expiration can only be {MAX_MINUTES} minutes in the future."
            )
        return seconds

    def _one(self, method: str, subscription_id: str, body: Any) -> Reply:
        with self._cond:
            found = self._subscriptions.get(subscription_id)
            if found is None or found.expiration <= self._clock():
                self._subscriptions.pop(subscription_id, None)
                raise GraphError(404, "ResourceNotFound", _NOT_FOUND)
            if method == "DELETE":
                del self._subscriptions[subscription_id]
                return 204, None, {}
        if method == "PATCH":
            expiration = self._expiration(body if isinstance(body, Mapping) else {})
            with self._cond:
                found.expiration = expiration
        return 200, found.shown(self.tenant), {}

    def _validated(self, url: str) -> bool:
        token = uuid.uuid4().hex + "+/ validation"
        separator = "&" if "?" in url else "?"
        target = f"{url}{separator}validationToken={urllib.parse.quote(token, safe='')}"
        status, text = _post(target, b"", "text/plain", VALIDATION_TIMEOUT_S)
        with self._cond:
            self.validations.append((url, status))
        return status == 200 and text == token.encode()

    # -- changes -----------------------------------------------------------------------------

    @contextmanager
    def watching(self, mailboxes: Mapping[str, Mailbox]) -> Iterator[None]:
        """Run a change of ``mailboxes`` (under the server's lock): every event of a watched
        mailbox whose sequence moved is notified (created, updated or deleted)."""
        now = self._clock()
        with self._cond:
            watched = {s.mailbox for s in self._subscriptions.values() if s.expiration > now}
        before = {
            email: (mailboxes[email].seq, set(mailboxes[email].events))
            for email in watched
            if email in mailboxes
        }
        try:
            yield
        finally:
            self._changed(mailboxes, before)

    def _changed(
        self, mailboxes: Mapping[str, Mailbox], before: Mapping[str, tuple[int, set[str]]]
    ) -> None:
        now = self._clock()
        for email, (seq, ids) in before.items():
            mailbox = mailboxes[email]
            if mailbox.seq == seq:
                continue
            changes = [
                ("deleted" if e.deleted else "updated" if i in ids else "created", i)
                for i, e in sorted(mailbox.events.items(), key=lambda item: item[1].seq)
                if e.seq > seq
            ]
            with self._cond:
                for subscription in list(self._subscriptions.values()):
                    if subscription.mailbox != email or subscription.expiration <= now:
                        continue
                    for change, event_id in changes:
                        if change in subscription.changes:
                            self._queue.append(_Note(subscription, change, event_id))
                self._cond.notify_all()

    # -- the sender thread -------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            with self._cond:
                if not self._queue:
                    self._cond.wait(0.05)
                    continue
                note = self._queue.popleft()
                subscription = note.subscription
                live = (
                    self._subscriptions.get(subscription.id) is subscription
                    and subscription.expiration > self._clock()
                )
                self._busy = True
            delivery = Delivery(subscription.id, note.change, note.event_id, "cancelled")
            try:
                if live:
                    delivery = self._send(note)
            finally:
                with self._cond:
                    self.deliveries.append(delivery)
                    self._busy = False
                    self._cond.notify_all()

    def _send(self, note: _Note) -> Delivery:
        subscription = note.subscription
        resource = f"Users/{object_id(subscription.mailbox)}/Events/{note.event_id}"
        item = {
            "subscriptionId": subscription.id,
            "subscriptionExpirationDateTime": _stamp(subscription.expiration),
            "changeType": note.change,
            "resource": resource,
            "resourceData": {
                "@odata.type": "#Microsoft.Graph.Event",
                "@odata.id": resource,
                "id": note.event_id,
            },
            "clientState": subscription.client_state,
            "tenantId": self.tenant,
        }
        body = json.dumps({"value": [item]}).encode()
        status: int | None = None
        for attempt in range(self.retries + 1):
            status, _ = _post(subscription.url, body, "application/json", 5.0)
            if status is not None and 200 <= status < 300:
                return Delivery(subscription.id, note.change, note.event_id, "delivered", status)
            if (status is not None and status < 500) or self._stopping.wait(0.05 * 2**attempt):
                break
        return Delivery(subscription.id, note.change, note.event_id, "failed", status)


def _address(value: Any) -> str:
    url = str(value or "")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid("notificationUrl must be an absolute http(s) URL")
    if parts.scheme != "https" and not is_loopback(parts.hostname):
        raise invalid("notificationUrl must be https")
    if not is_loopback(parts.hostname):
        raise invalid("the local Graph server notifies loopback addresses only")
    return url


def _post(url: str, body: bytes, content_type: str, timeout_s: float) -> tuple[int | None, bytes]:
    """POST ``body``; the receiver's status and answer, or (None, b"") if unreachable."""
    parts = urllib.parse.urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.hostname or "", parts.port, timeout=timeout_s)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {"Content-Type": content_type, "Content-Length": str(len(body))}
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        return int(response.status), response.read()
    except (OSError, http.client.HTTPException):
        return None, b""
    finally:
        connection.close()
