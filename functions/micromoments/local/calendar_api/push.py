"""Push notifications of the local Calendar server: watch channels and their delivery.

Google's behaviour (Calendar API guide "Push notifications", reference ``events.watch`` and
``channels.stop``): a watch request names a channel ``id`` (at most 64 characters), ``type``
``web_hook`` (or ``webhook``), an ``address`` and optionally a ``token`` (at most 256
characters), an ``expiration`` (Unix milliseconds) and ``params.ttl`` (seconds, default
604800). The answer is the channel with ``resourceId`` (opaque, the same for every channel
on that calendar's events), ``resourceUri`` and ``expiration``. Google then POSTs a ``sync``
message (message number 1) and an ``exists`` message on every change of the calendar's
events, with no body and the headers ``X-Goog-Channel-ID``, ``X-Goog-Channel-Token`` (when
set), ``X-Goog-Channel-Expiration`` (human-readable), ``X-Goog-Resource-ID``,
``X-Goog-Resource-URI``, ``X-Goog-Resource-State`` and ``X-Goog-Message-Number``
(increasing per channel, not necessarily by one). A receiver answers 200, 201, 202, 204 or
102; 500, 502, 503 and 504 are retried with exponential backoff; anything else is a failed
message. Channels are not renewed: they expire, or ``channels.stop`` (``id`` and
``resourceId``) ends them; an unknown channel answers 404.

Local differences (docs/decisions.md): an ``http`` address is allowed for loopback hosts
only, and the server delivers to loopback hosts only (an ``https`` address elsewhere is
refused at watch time, so no test ever sends traffic off the machine); a lifetime past
`MAX_TTL_S` is cut to it; message numbers go up by one (drops leave gaps). Delivery runs on
one sender thread, so a slow receiver never holds up the API, and the knobs (`PushKnobs`)
drop, duplicate, delay or reorder ``exists`` messages, seeded; the ``sync`` message is
always sent at once.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import http.client
import ipaddress
import itertools
import random
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

from micromoments.local.calendar_api.errors import ApiError, invalid, required

DEFAULT_TTL_S = 604_800  # Google's default lifetime of a Calendar channel (one week)
MAX_TTL_S = 604_800  # the local server's cap (see the module doc)
CHANNEL_ID = re.compile(r"^[A-Za-z0-9_\-+/=]{1,64}$")
TOKEN_MAX = 256
CHANNEL_TYPES = frozenset({"web_hook", "webhook"})
ACCEPTED = frozenset({102, 200, 201, 202, 204})
RETRIED = frozenset({500, 502, 503, 504})
USER_AGENT = "APIs-Google (local Calendar server)"


@dataclass(frozen=True, slots=True)
class PushKnobs:
    """Faults of delivery, for tests; each rate is a probability in [0, 1], rolled per
    ``exists`` message from the server's seeded generator (three rolls a message, whatever
    the rates, so a seed gives the same fate to the same message).

    ``drop_rate``: the message is never sent (its number is used up, leaving a gap).
    ``duplicate_rate``: the message is sent twice, same number. ``reorder_rate``: the message
    is held back and sent right after the channel's next message (or after ``reorder_hold_ms``
    with nothing else to send). ``delay_ms``: every message waits this long before sending.
    ``retries``: how often a 5xx answer or an unreachable receiver is retried
    (``retry_base_ms`` doubled each time).
    """

    drop_rate: float = 0.0
    duplicate_rate: float = 0.0
    reorder_rate: float = 0.0
    delay_ms: float = 0.0
    reorder_hold_ms: float = 1000.0
    retries: int = 3
    retry_base_ms: float = 50.0
    timeout_s: float = 5.0

    def __post_init__(self) -> None:
        for name in ("drop_rate", "duplicate_rate", "reorder_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {value}")
        for name in ("delay_ms", "reorder_hold_ms", "retry_base_ms", "timeout_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.retries < 0:
            raise ValueError("retries must not be negative")


@dataclass(slots=True)
class _Channel:
    id: str
    resource_id: str
    resource_uri: str
    calendar: str  # the calendar's key (lower-cased email)
    address: str
    token: str | None
    expiration_ms: int
    last_number: int = 0
    stopped: bool = False


@dataclass(frozen=True, slots=True)
class Delivery:
    """What became of one message. ``outcome``: ``delivered`` (an accepted status),
    ``failed`` (another status, or retries used up; ``status`` None: unreachable),
    ``dropped`` (by the knob), ``cancelled`` (the channel was stopped or expired first)."""

    channel_id: str
    number: int
    state: str
    outcome: str
    status: int | None = None
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class _Message:
    channel_id: str
    number: int
    state: str
    address: str
    headers: tuple[tuple[str, str], ...]
    channel: _Channel = field(compare=False, repr=False)  # the very channel (ids are reused)


def resource_id_of(calendar_key: str) -> str:
    """The opaque id of a calendar's events collection (stable, the same for every channel)."""
    digest = hashlib.sha1(f"events|{calendar_key}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Channels:
    """Every watch channel of the server and the sender thread that delivers messages.

    `watch` and `stop` run on request threads; `changed` is called after a change of
    calendars; nothing here takes the server's lock, and the sender never blocks a caller.
    """

    def __init__(
        self,
        *,
        seed: int,
        knobs: PushKnobs,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.knobs = knobs
        self.deliveries: list[Delivery] = []
        self._clock = clock
        self._rng = random.Random(seed)
        self._cond = threading.Condition()
        self._channels: dict[str, _Channel] = {}
        self._queue: list[tuple[float, int, _Message]] = []
        self._held: dict[str, tuple[float, _Message]] = {}
        self._order = itertools.count()
        self._busy = False
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="calendar-push", daemon=True)
        self._thread.start()

    def shutdown(self) -> None:
        thread = self._thread
        if thread is None:
            return
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        thread.join(timeout=5)
        self._thread = None

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Release held messages and wait until every queued message is settled (for tests);
        False if that took longer than ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._release_held(force=True)
            self._cond.notify_all()
            while self._queue or self._busy or self._held:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    # -- the API -----------------------------------------------------------------------------

    def watch(
        self, calendar_key: str, calendar_id: str, body: Mapping[str, Any], base_url: str
    ) -> dict[str, Any]:
        """Open a channel on a calendar's events (``calendar_id`` as the request named it);
        returns Google's answer and queues the ``sync`` message."""
        channel_id = str(body.get("id") or "")
        if not channel_id:
            raise required("Missing channel id.", location="resource.id")
        if not CHANNEL_ID.match(channel_id):
            raise invalid(
                "Invalid channel id: at most 64 characters of A-Z a-z 0-9 - _ + / =.",
                location="resource.id",
            )
        kind = body.get("type")
        if not kind:
            raise required("Missing channel type.", location="resource.type")
        if str(kind).lower() not in CHANNEL_TYPES:
            raise invalid(f"Invalid channel type: {kind}", location="resource.type")
        address = _check_address(str(body.get("address") or ""))
        token = body.get("token")
        if token is not None and len(str(token)) > TOKEN_MAX:
            raise invalid(
                f"Channel token too long (at most {TOKEN_MAX} characters).",
                location="resource.token",
            )
        now_ms = int(self._clock() * 1000)
        expiration_ms = now_ms + _ttl_s(body.get("params")) * 1000
        if body.get("expiration") is not None:
            wanted = int(str(body["expiration"]))
            if wanted <= now_ms:
                raise invalid(
                    "Channel expiration must be in the future.", location="resource.expiration"
                )
            expiration_ms = min(expiration_ms, wanted)
        expiration_ms = min(expiration_ms, now_ms + MAX_TTL_S * 1000)
        resource_id = resource_id_of(calendar_key)
        resource_uri = (
            f"{base_url}calendars/{urllib.parse.quote(calendar_id, safe='')}/events?alt=json"
        )
        channel = _Channel(
            id=channel_id,
            resource_id=resource_id,
            resource_uri=resource_uri,
            calendar=calendar_key,
            address=address,
            token=None if token is None else str(token),
            expiration_ms=expiration_ms,
        )
        with self._cond:
            existing = self._channels.get(channel_id)
            if existing is not None and self._live(existing, now_ms):
                raise ApiError(400, f"Channel id {channel_id} not unique", "channelIdNotUnique")
            self._channels[channel_id] = channel
            self._enqueue(self._message(channel, "sync"), knobs=False)
        answer: dict[str, Any] = {
            "kind": "api#channel",
            "id": channel_id,
            "resourceId": resource_id,
            "resourceUri": resource_uri,
            "expiration": str(expiration_ms),
        }
        if channel.token is not None:
            answer["token"] = channel.token
        return answer

    def stop(self, body: Mapping[str, Any]) -> None:
        channel_id = str(body.get("id") or "")
        resource_id = str(body.get("resourceId") or "")
        if not channel_id:
            raise required("Missing channel id.", location="resource.id")
        if not resource_id:
            raise required("Missing resource id.", location="resource.resourceId")
        with self._cond:
            channel = self._channels.get(channel_id)
            if (
                channel is None
                or channel.resource_id != resource_id
                or not self._live(channel, int(self._clock() * 1000))
            ):
                raise ApiError(
                    404, f"Channel '{channel_id}' not found for project 'local'", "notFound"
                )
            channel.stopped = True
            del self._channels[channel_id]

    def changed(self, calendar_keys: Iterable[str]) -> None:
        """The events of these calendars changed: an ``exists`` message on every live channel
        watching one of them."""
        keys = set(calendar_keys)
        if not keys:
            return
        now_ms = int(self._clock() * 1000)
        with self._cond:
            for channel in list(self._channels.values()):
                if channel.calendar not in keys:
                    continue
                if not self._live(channel, now_ms):
                    del self._channels[channel.id]
                    continue
                self._enqueue(self._message(channel, "exists"), knobs=True)

    def live_channels(self, calendar_key: str | None = None) -> list[str]:
        """Ids of the unexpired, unstopped channels (of one calendar)."""
        now_ms = int(self._clock() * 1000)
        with self._cond:
            return [
                c.id
                for c in self._channels.values()
                if self._live(c, now_ms) and (calendar_key is None or c.calendar == calendar_key)
            ]

    # -- queueing (under the condition's lock) ----------------------------------------------

    @staticmethod
    def _live(channel: _Channel, now_ms: int) -> bool:
        return not channel.stopped and channel.expiration_ms > now_ms

    def _message(self, channel: _Channel, state: str) -> _Message:
        channel.last_number += 1
        headers = [
            ("X-Goog-Channel-ID", channel.id),
            ("X-Goog-Channel-Expiration", formatdate(channel.expiration_ms / 1000, usegmt=True)),
            ("X-Goog-Resource-ID", channel.resource_id),
            ("X-Goog-Resource-URI", channel.resource_uri),
            ("X-Goog-Resource-State", state),
            ("X-Goog-Message-Number", str(channel.last_number)),
        ]
        if channel.token is not None:
            headers.insert(1, ("X-Goog-Channel-Token", channel.token))
        return _Message(
            channel.id, channel.last_number, state, channel.address, tuple(headers), channel
        )

    def _enqueue(self, message: _Message, *, knobs: bool) -> None:
        knob = self.knobs
        due = time.monotonic() + (knob.delay_ms / 1000 if knobs else 0.0)
        if not knobs:
            self._push(due, message)
            return
        drop, duplicate, reorder = (self._rng.random() for _ in range(3))
        if drop < knob.drop_rate:
            self.deliveries.append(_fate(message, "dropped"))
            self._cond.notify_all()
            return
        copies = 2 if duplicate < knob.duplicate_rate else 1
        held = self._held.pop(message.channel_id, None)
        if reorder < knob.reorder_rate and held is None:
            self._held[message.channel_id] = (due, message)
            for _ in range(copies - 1):
                self._push(due, message)
            self._cond.notify_all()
            return
        for _ in range(copies):
            self._push(due, message)
        if held is not None:
            self._push(max(due, held[0]), held[1])

    def _push(self, due: float, message: _Message) -> None:
        heapq.heappush(self._queue, (due, next(self._order), message))
        self._cond.notify_all()

    def _release_held(self, *, force: bool) -> None:
        if not self._held:
            return
        limit = time.monotonic() - self.knobs.reorder_hold_ms / 1000
        for channel_id, (due, message) in list(self._held.items()):
            if force or due <= limit:
                del self._held[channel_id]
                self._push(due, message)

    # -- the sender thread -------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            with self._cond:
                message = self._next()
                if message is None:
                    continue
                channel = self._channels.get(message.channel_id)
                live = channel is message.channel and self._live(
                    message.channel, int(self._clock() * 1000)
                )
                self._busy = True
            delivery = _fate(message, "cancelled")
            try:
                if live:
                    delivery = self._send(message)
            finally:
                with self._cond:
                    self.deliveries.append(delivery)
                    self._busy = False
                    self._cond.notify_all()

    def _next(self) -> _Message | None:
        """The next due message, or None after waiting a little (called with the lock)."""
        self._release_held(force=False)
        now = time.monotonic()
        if self._queue and self._queue[0][0] <= now:
            return heapq.heappop(self._queue)[2]
        waits = [0.05]
        if self._queue:
            waits.append(self._queue[0][0] - now)
        self._cond.wait(max(0.0, min(waits)))
        return None

    def _send(self, message: _Message) -> Delivery:
        knob = self.knobs
        attempts = 0
        status: int | None = None
        while True:
            attempts += 1
            status = _post(message, knob.timeout_s)
            if status in ACCEPTED:
                return _fate(message, "delivered", status, attempts)
            retry = status is None or status in RETRIED
            if not retry or attempts > knob.retries:
                return _fate(message, "failed", status, attempts)
            if self._stopping.wait(knob.retry_base_ms / 1000 * 2 ** (attempts - 1)):
                return _fate(message, "cancelled", status, attempts)


def _fate(
    message: _Message, outcome: str, status: int | None = None, attempts: int = 0
) -> Delivery:
    return Delivery(message.channel_id, message.number, message.state, outcome, status, attempts)


def _post(message: _Message, timeout_s: float) -> int | None:
    """POST one message (no body); the receiver's status, or None if it could not be reached."""
    parts = urllib.parse.urlsplit(message.address)
    connection_type = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_type(parts.hostname or "", parts.port, timeout=timeout_s)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = dict(message.headers)
    headers["User-Agent"] = USER_AGENT
    headers["Content-Length"] = "0"
    try:
        connection.request("POST", path, body=b"", headers=headers)
        response = connection.getresponse()
        response.read()
        return int(response.status)
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def _check_address(address: str) -> str:
    if not address:
        raise required("Missing channel address.", location="resource.address")
    parts = urllib.parse.urlsplit(address)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise invalid(f"Invalid channel address: {address}", location="resource.address")
    loopback = is_loopback(host)
    if parts.scheme != "https" and not loopback:
        raise ApiError(400, f"WebHook callback must be HTTPS: {address}", "push.webhookUrlNotHttps")
    if not loopback:
        raise ApiError(
            400,
            f"Unauthorized WebHook callback channel: {address} (the local server delivers to "
            "loopback addresses only)",
            "push.webhookUrlUnauthorized",
        )
    return address


def _ttl_s(params: Any) -> int:
    if not isinstance(params, Mapping) or params.get("ttl") is None:
        return DEFAULT_TTL_S
    text = str(params["ttl"]).strip()
    if not text.isdigit() or int(text) < 1:
        raise invalid(f"Invalid ttl value for channel {text}", location="resource.params.ttl")
    return min(int(text), MAX_TTL_S)
