"""The `GraphCalendarGateway`: the `CalendarGateway` over Microsoft Graph (see the package
docstring for what it does)."""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from micromoments.adapters.google_calendar.resources import hold_description
from micromoments.adapters.graph_calendar.events import (
    EXPAND_TAGS,
    busy_intervals,
    create_body,
    iana_zone,
    is_copy,
    known_properties,
    mapping,
    mappings,
    maybe_ours,
    normalise,
    patch_body,
    removed,
    tag_properties_of,
    token_parts,
)
from micromoments.adapters.graph_calendar.subscriptions import subscribe, unsubscribe
from micromoments.adapters.graph_calendar.transport import (
    Answer,
    Call,
    GraphApiError,
    GraphTransport,
)
from micromoments.domain.holds import SHARED_KINDS
from micromoments.domain.journal import WriteOp
from micromoments.domain.mirror import MirrorEvent
from micromoments.domain.people import PersonStatus
from micromoments.ports import (
    CalendarError,
    CalendarWrite,
    SubjectRefused,
    SubjectSuspended,
    SyncResult,
    WatchChannel,
    WriteResult,
)

WINDOW_DAYS = 180  # a delta round's calendar view: full_from to this many days after it
RENEW_DAYS = 60  # a stored round whose view ends sooner than this after full_from is renewed
SCHEDULES = 20  # schedules per getSchedule request
KEEP_LINK = timedelta(hours=20)  # an empty delta round keeps a stored link younger than this
_READERS = frozenset({PersonStatus.ACTIVE, PersonStatus.LEAVING})
_NO_MAILBOX = frozenset({"ErrorInvalidUser", "MailboxNotEnabledForRESTAPI"})


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _shared_kind(kind: str | None) -> bool:
    return any(kind == k.value for k in SHARED_KINDS)


def _user(email: str) -> str:
    return "users/" + urllib.parse.quote(email.strip().lower(), safe="@")


class GraphCalendarGateway:
    """The `CalendarGateway` on Microsoft Graph (or the local stand-in), app-only.

    The sync token is ``<end of the view>|<when the link came>|<deltaLink>`` (older tokens
    lack the middle part). Graph answers every delta round with a new link, even one that
    brought nothing: a round with no change keeps the stored token while its link is younger
    than `KEEP_LINK`, so an unchanged rescan writes nothing, and a quiet calendar's link is
    still renewed once a day (Exchange may drop old links; an expired one is a full resync).
    Graph ids are not ours to choose,
    so a hold is found by its ``mm_hold_id`` extended property; ids met in a sync are kept
    for the gateway's life (``graph_ids``), so the writes that follow need no lookup.
    ``mirrored_holds`` gives the holds the Store's mirror holds for a person (their Graph
    ids): a write to one needs no lookup either, and a delta's ``@removed`` of one (the
    person deleted it in Outlook) comes back as that hold, cancelled, so the scan sees it
    dismissed as on Google.

    An attendee's copy of a shared hold (Exchange gives each attendee their own event, with
    the PS_PUBLIC_STRINGS tags) reads as that hold, as the Google gateway reads the shared
    event on an attendee's calendar; it is never a write's target: neither the ids met in
    a sync nor a lookup by hold id ever name a copy (the organiser's scan manages it).
    """

    def __init__(
        self,
        transport: GraphTransport,
        *,
        status_of: Callable[[str], PersonStatus | None],
        ours: Callable[[str], set[str]],
        read_status_of: Callable[[str], PersonStatus | None] | None = None,
        mirrored_holds: Callable[[str], Sequence[MirrorEvent]] | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._http = transport
        self._now = now
        self.counters = transport.counters
        self._status_of = status_of
        self._read_status_of = read_status_of or status_of
        self._ours = ours
        self._mirrored_holds = mirrored_holds or (lambda email: ())
        self._lock = threading.Lock()
        self.graph_ids: dict[tuple[str, str], str] = {}  # (person, hold id) -> Graph id
        self._tags: dict[tuple[str, str], tuple[str, str]] = {}  # (person, Graph id) -> tags

    # -- who we act for (as the Google gateway) --------------------------------------------

    def _allow_read(self, email: str) -> None:
        status = self._read_status_of(email)
        if status not in _READERS:
            raise SubjectRefused(f"{email}: not an opted-in person; no calendar access")

    def _allow_writes(self, email: str, writes: Sequence[CalendarWrite]) -> None:
        status = self._status_of(email)
        if status not in _READERS:
            raise SubjectRefused(f"{email}: not an opted-in person; no calendar access")
        ours = None
        for write in writes:
            if write.op is WriteOp.INSERT:
                if status is PersonStatus.LEAVING:
                    raise SubjectRefused(f"{email}: leaving; no new events")
                continue
            ours = self._ours(email) if ours is None else ours
            if write.hold.id not in ours:
                raise SubjectRefused(
                    f"{email}: event {write.hold.id} is not recorded as ours; no {write.op.value}"
                )
            if status is PersonStatus.LEAVING and write.op is not WriteOp.DELETE:
                raise SubjectRefused(f"{email}: leaving; only deletes of our events")

    def _require(self, email: str, call: Call, what: str) -> Any:
        """A call for ``email``'s mailbox; Graph's "no such mailbox" is `SubjectSuspended`
        (the account is gone or has no Exchange mailbox: the person is marked, not retried)."""
        try:
            return self._http.require(call, f"{what} for {email}")
        except GraphApiError as exc:
            if exc.status == 404 and exc.code in _NO_MAILBOX:
                raise SubjectSuspended(f"{email}: no mailbox ({exc.code})") from None
            raise

    # -- sync --------------------------------------------------------------------------------

    def sync(self, email: str, token: str | None, *, full_from: datetime) -> SyncResult:
        self._allow_read(email)
        if token is not None:
            view_end, issued, link = token_parts(token)
            try:
                renew = datetime.fromisoformat(view_end) < full_from + timedelta(days=RENEW_DAYS)
            except (ValueError, TypeError):  # not a token of ours: start afresh
                renew = True
            if not renew and link.startswith(self._http.api_url):
                try:
                    events, next_link = self._round(email, link)
                except GraphApiError as exc:
                    if exc.status != 410:
                        raise
                else:
                    now = self._now()
                    if not events and issued is not None and now - issued < KEEP_LINK:
                        return SyncResult(events=[], token=token, full=False)
                    return SyncResult(
                        events=events, token=f"{view_end}|{_stamp(now)}|{next_link}", full=False
                    )
        end = full_from + timedelta(days=WINDOW_DAYS)
        query = urllib.parse.urlencode(
            {"startDateTime": _stamp(full_from), "endDateTime": _stamp(end)}
        )
        events, next_link = self._round(email, f"{_user(email)}/calendarView/delta?{query}")
        token = f"{_stamp(end)}|{_stamp(self._now())}|{next_link}"
        return SyncResult(events=events, token=token, full=True)

    def _round(self, email: str, url: str) -> tuple[list[MirrorEvent], str]:
        """One delta round from ``url``, following next links to the delta link."""
        items: list[Mapping[str, Any]] = []
        while True:
            if not url.startswith(("users/", self._http.api_url)):
                raise CalendarError(f"calendarView/delta for {email}: a link off the API")
            page = mapping(self._require(email, Call("GET", url), "calendarView/delta"))
            items += mappings(page.get("value"))
            if page.get("@odata.deltaLink"):
                return self._events(email, items), str(page["@odata.deltaLink"])
            url = str(page.get("@odata.nextLink") or "")
            if not url:
                raise CalendarError(f"calendarView/delta for {email}: no next or delta link")

    def _events(self, email: str, items: Sequence[Mapping[str, Any]]) -> list[MirrorEvent]:
        """Items as mirror events; the tags of those that may be ours read in batches."""
        changed = [i for i in items if "@removed" not in i and i.get("id")]
        candidates = [str(i["id"]) for i in changed if maybe_ours(i)]
        tagged = self._known_tags(email, candidates)
        tagged.update(self._with_tags(email, [i for i in candidates if i not in tagged]))
        known: dict[str, MirrorEvent] | None = None
        events: list[MirrorEvent] = []
        for item in items:
            if "@removed" in item:
                if known is None:
                    known = {e.id: e for e in self._mirrored_holds(email) if e.hold_id}
                event_id = str(item.get("id") or "")
                hold = known.get(event_id)
                events.append(replace(hold, cancelled=True) if hold else removed(event_id))
                continue
            properties = tagged.get(str(item.get("id")))
            resource = item if properties is None else {**item, **properties}
            event = normalise(resource, email)
            if event is not None:
                events.append(event)
                self._remember(email, event, copy=is_copy(item))
        return events

    def _known_tags(self, email: str, ids: Sequence[str]) -> dict[str, Mapping[str, Any]]:
        """The tags of events whose tags were read or written before (by this gateway, or
        as the Store's mirror holds them): an event's extended properties never change
        after we create it, and nobody but us writes them, so they need no second read."""
        if not ids:
            return {}
        with self._lock:
            known = {
                i: self._tags[(email.lower(), i)] for i in ids if (email.lower(), i) in self._tags
            }
        if len(known) < len(ids):
            for event in self._mirrored_holds(email):
                if event.id in ids and event.hold_id is not None and event.id not in known:
                    known[event.id] = (event.hold_id, event.hold_kind or "")
        return {i: known_properties(*tags) for i, tags in known.items()}

    def _with_tags(self, email: str, ids: Sequence[str]) -> dict[str, Mapping[str, Any]]:
        calls = [
            Call(
                "GET",
                f"{_user(email)}/events/{urllib.parse.quote(i, safe='')}?$expand={EXPAND_TAGS}",
            )
            for i in ids
        ]
        found: dict[str, Mapping[str, Any]] = {}
        for event_id, (answer, _) in zip(ids, self._http.batch(calls), strict=True):
            if answer.ok:
                found[event_id] = mapping(answer.body)
            elif answer.status != 404:  # gone since the delta: the next delta says so
                raise GraphApiError(f"events.get for {email}", answer)
        return {
            i: {"singleValueExtendedProperties": r.get("singleValueExtendedProperties")}
            for i, r in found.items()
        }

    def _remember(self, email: str, event: MirrorEvent, *, copy: bool = False) -> None:
        """Tags of an event read (no second read); its Graph id as the hold's write target
        unless it is an attendee's copy."""
        if event.hold_id is not None:
            with self._lock:
                self._tags[(email.lower(), event.id)] = (event.hold_id, event.hold_kind or "")
                if not copy:
                    self.graph_ids[(email.lower(), event.hold_id)] = event.id

    # -- reads ---------------------------------------------------------------------------------

    def timezone(self, email: str) -> str:
        self._allow_read(email)
        body = self._require(
            email, Call("GET", f"{_user(email)}/mailboxSettings"), "mailboxSettings"
        )
        name = mapping(body).get("timeZone")
        zone = iana_zone(str(name or ""))
        if zone is None:
            raise CalendarError(f"mailboxSettings for {email}: unknown time zone {name!r}")
        return zone

    def _lookup(self, email: str, hold_id: str, *, shared: bool) -> Call:
        """Our event with that hold id, by the property of its set (a shared hold's one
        also finds attendees' copies, which `_found` passes over)."""
        value = hold_id.replace("'", "''")
        condition = (
            "singleValueExtendedProperties/any("
            f"ep: ep/id eq '{tag_properties_of(shared)[0]}' and ep/value eq '{value}')"
        )
        query = urllib.parse.urlencode({"$filter": condition, "$expand": EXPAND_TAGS})
        return Call("GET", f"{_user(email)}/events?{query}")

    def _found(self, email: str, answer: Answer, what: str) -> MirrorEvent | None:
        if not answer.ok:
            raise GraphApiError(what, answer)
        for item in mappings(mapping(answer.body).get("value")):
            if is_copy(item):
                continue  # an attendee's copy: its organiser's, never ours to write
            event = normalise(item, email)
            if event is not None and event.hold_id is not None:
                self._remember(email, event)
                return event
        return None

    def get_event(self, email: str, event_id: str) -> MirrorEvent | None:
        """One of the person's own events by its hold id (Graph deletes for good: None once
        deleted). The kind is unknown here, so both property sets are asked, in one batch."""
        self._allow_read(email)
        calls = [self._lookup(email, event_id, shared=shared) for shared in (False, True)]
        for answer, _ in self._http.batch(calls):
            found = self._found(email, answer, "events.find")
            if found is not None:
                return found
        return None

    # -- writes ----------------------------------------------------------------------------

    def _graph_ids(self, email: str, holds: Mapping[str, bool]) -> dict[str, str | None]:
        """The Graph ids of the person's own events of ``holds`` (hold id -> shared): met
        in this gateway's syncs and writes, else (a personal hold) the Store's mirror, else
        found by a lookup. A mirrored shared hold may be an attendee's copy (the mirror does
        not say who organises it), so a shared one is never taken from the mirror."""
        hold_ids = list(holds)
        known: dict[str, str | None] = {}
        with self._lock:
            for hold_id in hold_ids:
                if (email.lower(), hold_id) in self.graph_ids:
                    known[hold_id] = self.graph_ids[(email.lower(), hold_id)]
        if len(known) < len(set(hold_ids)):
            for mirrored in self._mirrored_holds(email):
                mirrored_id = mirrored.hold_id
                if (
                    mirrored_id is not None
                    and mirrored_id in holds
                    and not holds[mirrored_id]
                    and not mirrored.cancelled
                    and not _shared_kind(mirrored.hold_kind)
                ):
                    known.setdefault(mirrored_id, mirrored.id)
        missing = [h for h in hold_ids if h not in known]
        answers = self._http.batch([self._lookup(email, h, shared=holds[h]) for h in missing])
        for hold_id, (answer, _) in zip(missing, answers, strict=True):
            event = self._found(email, answer, f"events.find for {email}")
            known[hold_id] = event.id if event is not None else None
        return known

    def write(self, email: str, writes: Sequence[CalendarWrite]) -> list[WriteResult]:
        self._allow_writes(email, writes)
        targets = self._graph_ids(
            email, {w.hold.id: w.hold.shared for w in writes if w.op is not WriteOp.INSERT}
        )
        calls: list[tuple[int, Call]] = []
        results: dict[int, WriteResult] = {}
        for i, write in enumerate(writes):
            hold = write.hold
            if write.op is WriteOp.INSERT:
                body = create_body(hold, hold_description(hold), write.guests)
                calls.append((i, Call("POST", f"{_user(email)}/events", body)))
                continue
            graph_id = targets.get(hold.id)
            if graph_id is None:
                results[i] = WriteResult(hold.id, write.op, "gone", message="no such event")
                continue
            url = f"{_user(email)}/events/{urllib.parse.quote(graph_id, safe='')}"
            if write.op is WriteOp.PATCH:
                body = patch_body(hold, attendees=write.attendees_changed, guests=write.guests)
                calls.append((i, Call("PATCH", url, body)))
            else:
                calls.append((i, Call("DELETE", url)))
        answers = self._http.batch([call for _, call in calls])
        for (i, _), (answer, attempts) in zip(calls, answers, strict=True):
            results[i] = self._result(email, writes[i], answer, attempts)
        return [results[i] for i in range(len(writes))]

    def _result(
        self, email: str, write: CalendarWrite, answer: Answer, attempts: int
    ) -> WriteResult:
        hold_id, op = write.hold.id, write.op
        if answer.ok:
            body = mapping(answer.body)
            if op is WriteOp.DELETE:
                with self._lock:
                    self.graph_ids.pop((email.lower(), hold_id), None)
            elif body.get("id"):
                with self._lock:
                    self.graph_ids[(email.lower(), hold_id)] = str(body["id"])
                    self._tags[(email.lower(), str(body["id"]))] = (hold_id, write.hold.kind.value)
            etag = body.get("changeKey")
            return WriteResult(
                hold_id, op, "ok", etag=str(etag) if etag else None, retried=attempts > 1
            )
        if answer.status in (404, 410) and op is not WriteOp.INSERT:
            return WriteResult(hold_id, op, "gone", message=answer.describe())
        prefix = f"gave up after {attempts} attempts: " if answer.transient else ""
        return WriteResult(hold_id, op, "failed", message=prefix + answer.describe())

    # -- free/busy and push ----------------------------------------------------------------

    def free_busy(
        self, emails: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, list[tuple[datetime, datetime]] | None]:
        """Busy intervals per person through ``getSchedule`` (20 a request), asked as the
        first person of each chunk the gateway may read for: cut to the period, merged,
        and only the busy statuses (`busy_intervals`), as Google's freeBusy answers."""
        result: dict[str, list[tuple[datetime, datetime]] | None] = {}
        unique = list(dict.fromkeys(emails))
        for first in range(0, len(unique), SCHEDULES):
            chunk = unique[first : first + SCHEDULES]
            asker = next((e for e in chunk if self._status_of(e) in _READERS), None)
            if asker is None:
                raise SubjectRefused("getSchedule: none of these people may be acted for")
            body = {
                "schedules": chunk,
                "startTime": {"dateTime": _stamp(start)[:-1], "timeZone": "UTC"},
                "endTime": {"dateTime": _stamp(end)[:-1], "timeZone": "UTC"},
                "availabilityViewInterval": 15,
            }
            answer = self._http.require(
                Call("POST", f"{_user(asker)}/calendar/getSchedule", body), "getSchedule"
            )
            schedules = {
                str(s.get("scheduleId") or "").lower(): s
                for s in mappings(mapping(answer).get("value"))
            }
            for email in chunk:
                found = schedules.get(email.lower())
                result[email] = busy_intervals(found, start, end) if found is not None else None
        return result

    def watch(
        self, email: str, channel_id: str, token: str, address: str, ttl: timedelta
    ) -> WatchChannel:
        """A Graph subscription (`subscriptions`); Graph's id names it, not ``channel_id``."""
        status, now = self._status_of(email), self._now()
        return subscribe(self._http, email, status, token=token, address=address, ttl=ttl, now=now)

    def stop_channel(self, email: str, channel_id: str, resource_id: str) -> bool:
        return unsubscribe(self._http, email, channel_id)

    def revoke_grant(self, email: str) -> bool:
        """Graph is reached with the app's own credentials (app-only access): nobody has a
        grant of their own to revoke."""
        return False

    # -- the doctor's access checks ----------------------------------------------------------

    def mailbox_access(self, emails: Sequence[str]) -> list[Answer]:
        """Graph's answer to one read of each mailbox's time zone (``$batch``, transient
        failures retried), whoever they are: the doctor asks whether Exchange's access
        policy refuses people outside the group, so the opted-in fence is not applied here.
        Reads only the time zone, never events; nothing is raised for a refusal."""
        calls = [Call("GET", f"{_user(email)}/mailboxSettings/timeZone") for email in emails]
        return [answer for answer, _ in self._http.batch(calls)]
