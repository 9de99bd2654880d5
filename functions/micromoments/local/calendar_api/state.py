"""The calendars of the local Calendar API server and Google's semantics on them.

Everything here runs under the server's lock and knows nothing of HTTP: listing (full,
paged, incremental with sync tokens, expanded into single events), get, insert, patch,
update, delete (kept as cancelled), instances, freeBusy, and the propagation of an
organiser's event to the calendars of its attendees that this server holds.
"""

from __future__ import annotations

import base64
import copy
import re
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from micromoments.local.calendar_api import recurrence, times
from micromoments.local.calendar_api.errors import (
    ApiError,
    deleted,
    duplicate,
    full_sync_required,
    invalid,
    not_found,
    required,
    time_range_empty,
)

EVENT_ID = re.compile(r"^[0-9a-v]{5,1024}$")
DEFAULT_PAGE = 250
MAX_PAGE = 2500
MAX_FREEBUSY_ITEMS = 50
_PAGES_KEPT = 2000

# Fields a client cannot change with insert/patch/update: Google keeps its own values.
_READ_ONLY = (
    "kind",
    "etag",
    "id",
    "created",
    "updated",
    "htmlLink",
    "creator",
    "organizer",
    "recurringEventId",
    "originalStartTime",
    "iCalUID",
)
_SYNC_EXCLUSIVE = (
    "timeMin",
    "timeMax",
    "orderBy",
    "iCalUID",
    "privateExtendedProperty",
    "sharedExtendedProperty",
    "q",
    "updatedMin",
)


def same_address(a: str, b: str) -> bool:
    return a.strip().lower().removeprefix("mailto:") == b.strip().lower().removeprefix("mailto:")


def tags(resource: Mapping[str, Any]) -> dict[str, str]:
    """``extendedProperties.private`` and ``.shared`` merged (shared wins on a clash)."""
    props = resource.get("extendedProperties") or {}
    merged: dict[str, str] = {}
    merged.update(props.get("private") or {})
    merged.update(props.get("shared") or {})
    return merged


def is_cancelled(resource: Mapping[str, Any]) -> bool:
    return resource.get("status") == "cancelled"


def declined_by(resource: Mapping[str, Any], email: str) -> bool:
    for attendee in resource.get("attendees") or ():
        mine = attendee.get("self") or same_address(str(attendee.get("email", "")), email)
        if mine and attendee.get("responseStatus") == "declined":
            return True
    return False


def merge_patch(target: Any, patch: Any) -> Any:
    """Google's patch semantics: objects merge recursively, arrays and scalars replace,
    null removes a field."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _strip_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_nulls(v) for v in value]
    return value


def _mark_self(resource: dict[str, Any], email: str) -> None:
    """Google's ``self`` flags for the calendar the copy lives on."""
    for key in ("organizer", "creator"):
        person = resource.get(key)
        if isinstance(person, dict) and "email" in person:
            if same_address(str(person["email"]), email):
                person["self"] = True
            else:
                person.pop("self", None)
    organizer = (resource.get("organizer") or {}).get("email", "")
    for attendee in resource.get("attendees") or ():
        if not isinstance(attendee, dict):
            continue
        address = str(attendee.get("email", ""))
        if same_address(address, email):
            attendee["self"] = True
        else:
            attendee.pop("self", None)
        if organizer and same_address(address, organizer):
            attendee["organizer"] = True


@dataclass(slots=True)
class Calendar:
    """One person's primary calendar."""

    email: str
    timezone: str
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    seqs: dict[str, int] = field(default_factory=dict)  # event id -> change number
    epoch: int = 0  # bumped to invalidate every sync token of this calendar
    last_seq: int = 0


@dataclass(slots=True)
class _Page:
    email: str
    items: list[dict[str, Any]]
    sync_token: str | None
    time_zone: str
    page_size: int


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One single event or instance in a time window."""

    resource: dict[str, Any]
    start: datetime
    end: datetime


class Calendars:
    """Every calendar of the server and the operations of the API on them."""

    def __init__(self) -> None:
        self._calendars: dict[str, Calendar] = {}
        self._seq = 0
        self._pages: OrderedDict[str, _Page] = OrderedDict()
        self._page_counter = 0
        self.changed: set[str] = set()  # keys of calendars whose events changed (drained)

    # -- calendars ---------------------------------------------------------------------------

    def add(self, email: str, timezone: str) -> Calendar:
        if not times.is_zone(timezone):
            raise ValueError(f"unknown time zone {timezone!r}")
        key = email.strip().lower()
        found = self._calendars.get(key)
        if found is None:
            found = self._calendars[key] = Calendar(email=email.strip(), timezone=timezone)
        else:
            found.timezone = timezone
        return found

    def find(self, calendar_id: str) -> Calendar | None:
        return self._calendars.get(calendar_id.strip().lower())

    def require(self, calendar_id: str) -> Calendar:
        found = self.find(calendar_id)
        if found is None:
            raise not_found()
        return found

    def invalidate(self, email: str) -> None:
        self.require(email).epoch += 1

    def drain_changed(self) -> set[str]:
        """Keys of the calendars whose events changed since the last call."""
        changed, self.changed = self.changed, set()
        return changed

    # -- storing -----------------------------------------------------------------------------

    def _touch(self, cal: Calendar, resource: dict[str, Any], *, stamp: bool = True) -> None:
        self._seq += 1
        self.changed.add(cal.email.lower())
        cal.last_seq = self._seq
        cal.seqs[resource["id"]] = self._seq
        resource["etag"] = f'"{3_180_000_000_000_000 + self._seq}"'
        if stamp:
            resource["updated"] = times.stamp(times.now())
        cal.events.pop(resource["id"], None)  # re-insert: dict order follows change order
        cal.events[resource["id"]] = resource

    def seed(self, cal: Calendar, events: Iterable[Mapping[str, Any]]) -> None:
        """Store raw resources as they are, adding only kind, etag, updated and status when
        missing."""
        for raw in events:
            if not raw.get("id"):
                raise ValueError("seeded events need an id")
            resource = copy.deepcopy(dict(raw))
            resource.setdefault("kind", "calendar#event")
            resource.setdefault("status", "confirmed")
            etag = resource.get("etag")
            self._touch(cal, resource, stamp="updated" not in resource)
            if etag:
                resource["etag"] = etag

    def respond(self, email: str, event_id: str, response_status: str) -> int:
        """Set ``email``'s responseStatus on every copy of the event; returns copies changed."""
        changed = 0
        for cal in self._calendars.values():
            resource = cal.events.get(event_id)
            if resource is None:
                continue
            attendees = []
            hit = False
            for attendee in resource.get("attendees") or ():
                if same_address(str(attendee.get("email", "")), email):
                    attendee = {**attendee, "responseStatus": response_status}  # noqa: PLW2901
                    hit = True
                attendees.append(attendee)
            if hit:
                resource["attendees"] = attendees  # copy on write (see `_render`)
                self._touch(cal, resource)
                changed += 1
        return changed

    # -- reading -----------------------------------------------------------------------------

    def get(self, cal: Calendar, event_id: str) -> dict[str, Any]:
        found = cal.events.get(event_id)
        if found is None:
            found = self._materialize(cal, event_id)
        if found is None:
            raise not_found()
        return copy.deepcopy(found)

    def peek(self, cal: Calendar | None, event_id: str | None) -> dict[str, Any] | None:
        """The stored (or materialisable) event, for the write log; no error."""
        if cal is None or not event_id:
            return None
        return cal.events.get(event_id) or self._materialize(cal, event_id)

    def list_events(self, cal: Calendar, params: Mapping[str, Any]) -> dict[str, Any]:
        page_token = params.get("pageToken")
        if page_token:
            return self._next_page(cal, str(page_token))
        single = bool(params.get("singleEvents", False))
        show_deleted = bool(params.get("showDeleted", False))
        sync_token = params.get("syncToken")
        time_zone = str(params.get("timeZone") or cal.timezone)
        if params.get("orderBy") == "startTime" and not single:
            raise invalid("The requested ordering is not available for the particular query.")
        if sync_token:
            for name in _SYNC_EXCLUSIVE:
                if params.get(name) is not None:
                    raise invalid(f"Sync token cannot be used with {name}.", location=name)
            since = self._decode_sync(cal, str(sync_token))
            items = self._changes(cal, since, single)
        else:
            lo = times.parse_date_time(params["timeMin"]) if params.get("timeMin") else None
            hi = times.parse_date_time(params["timeMax"]) if params.get("timeMax") else None
            if lo is not None and hi is not None and hi <= lo:
                raise time_range_empty("timeMax")
            updated_min = (
                times.parse_date_time(params["updatedMin"]) if params.get("updatedMin") else None
            )
            include_cancelled = show_deleted or updated_min is not None
            if single:
                items = [
                    self._render(o.resource)
                    for o in self.occurrences(cal, lo, hi, include_cancelled=include_cancelled)
                ]
            else:
                items = self._masters_view(cal, lo, hi, include_cancelled)
            items = _filter(items, params, updated_min)
            if params.get("orderBy") == "updated":
                items.sort(key=lambda item: str(item.get("updated", "")))
        max_attendees = params.get("maxAttendees")
        if max_attendees:
            items = [_cap_attendees(item, int(max_attendees)) for item in items]
        page_size = min(int(params.get("maxResults") or DEFAULT_PAGE), MAX_PAGE)
        return self._page(
            _Page(
                email=cal.email,
                items=items,
                sync_token=self._encode_sync(cal),
                time_zone=time_zone,
                page_size=page_size,
            )
        )

    def instances(self, cal: Calendar, event_id: str, params: Mapping[str, Any]) -> dict[str, Any]:
        page_token = params.get("pageToken")
        if page_token:
            return self._next_page(cal, str(page_token))
        master = cal.events.get(event_id)
        if master is None or not master.get("recurrence"):
            raise not_found()
        if is_cancelled(master):
            raise deleted()
        lo = times.parse_date_time(params["timeMin"]) if params.get("timeMin") else None
        hi = times.parse_date_time(params["timeMax"]) if params.get("timeMax") else None
        show_deleted = bool(params.get("showDeleted", False))
        items = [
            self._render(o.resource)
            for o in self.occurrences(cal, lo, hi, include_cancelled=show_deleted)
            if o.resource.get("recurringEventId") == event_id
        ]
        if params.get("originalStart"):
            wanted = recurrence.original_key({"dateTime": params["originalStart"]}, cal.timezone)
            items = [
                i
                for i in items
                if recurrence.original_key(i.get("originalStartTime"), cal.timezone) == wanted
            ]
        page_size = min(int(params.get("maxResults") or DEFAULT_PAGE), MAX_PAGE)
        return self._page(
            _Page(
                email=cal.email,
                items=items,
                sync_token=None,
                time_zone=str(params.get("timeZone") or cal.timezone),
                page_size=page_size,
            )
        )

    def occurrences(
        self,
        cal: Calendar,
        lo: datetime | None,
        hi: datetime | None,
        *,
        include_cancelled: bool,
    ) -> list[Occurrence]:
        """Single events and recurrence instances overlapping ``[lo, hi)``, by start:
        generated instances yield to exceptions (moved or cancelled) and EXDATEs."""
        masters: dict[str, dict[str, Any]] = {}
        exceptions: dict[str, set[str]] = {}
        for resource in cal.events.values():
            if resource.get("recurrence") and not resource.get("recurringEventId"):
                masters[resource["id"]] = resource
        for resource in cal.events.values():
            master_id = resource.get("recurringEventId")
            if master_id in masters:
                zone_name = times.series_zone(masters[master_id].get("start"), cal.timezone)
                key = recurrence.original_key(resource.get("originalStartTime"), zone_name)
                if key is not None:
                    exceptions.setdefault(master_id, set()).add(key)
        out: list[Occurrence] = []
        for resource in cal.events.values():
            master_id = resource.get("recurringEventId")
            if resource["id"] in masters:
                if is_cancelled(resource):
                    continue
                out.extend(self._expand(cal, resource, lo, hi, exceptions.get(resource["id"])))
                continue
            cancelled = is_cancelled(resource) or (
                master_id in masters and is_cancelled(masters[master_id])
            )
            if cancelled and not include_cancelled:
                continue
            bounds = _bounds(resource, cal.timezone)
            if bounds is None:
                continue
            start, end = bounds
            if _overlaps(start, end, lo, hi):
                out.append(Occurrence(resource, start, end))
        out.sort(key=lambda o: o.start)
        return out

    def _expand(
        self,
        cal: Calendar,
        master: dict[str, Any],
        lo: datetime | None,
        hi: datetime | None,
        skip: set[str] | None,
    ) -> list[Occurrence]:
        try:
            series = recurrence.series_of(master, cal.timezone)
            originals = recurrence.originals(series, lo, hi, cal.timezone)
        except ValueError:
            return []
        out: list[Occurrence] = []
        for original in originals:
            if skip and recurrence.suffix(original) in skip:
                continue
            instance = _instance(master, original, series)
            start, end = series.bounds(original, cal.timezone)
            out.append(Occurrence(instance, start, end))
        return out

    def _masters_view(
        self, cal: Calendar, lo: datetime | None, hi: datetime | None, include_cancelled: bool
    ) -> list[dict[str, Any]]:
        """``singleEvents=false``: singles, masters and exceptions as stored. Cancelled
        exceptions are listed even without showDeleted, as Google does."""
        out: list[dict[str, Any]] = []
        exception_bounds: dict[str, list[tuple[datetime, datetime]]] = {}
        for resource in cal.events.values():
            master_id = resource.get("recurringEventId")
            if master_id and not is_cancelled(resource):
                found = _bounds(resource, cal.timezone)
                if found is not None:
                    exception_bounds.setdefault(str(master_id), []).append(found)
        for resource in cal.events.values():
            cancelled = is_cancelled(resource)
            exception = bool(resource.get("recurringEventId"))
            if cancelled and not include_cancelled and not exception:
                continue
            if lo is not None or hi is not None:
                if resource.get("recurrence") and not exception:
                    try:
                        series = recurrence.series_of(resource, cal.timezone)
                        hit = bool(recurrence.originals(series, lo, hi, cal.timezone, limit=1))
                    except ValueError:
                        hit = False
                    # A series whose instances in the window are all exceptions is listed too.
                    hit = hit or any(
                        _overlaps(start, end, lo, hi)
                        for start, end in exception_bounds.get(resource["id"], ())
                    )
                    if not hit:
                        continue
                else:
                    bounds = _bounds(resource, cal.timezone)
                    if bounds is None or not _overlaps(bounds[0], bounds[1], lo, hi):
                        continue
            out.append(self._render(resource))
        return out

    def _changes(self, cal: Calendar, since: int, single: bool) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        changed = [r for r in cal.events.values() if cal.seqs.get(r["id"], 0) > since]
        for resource in changed:
            if single and resource.get("recurrence") and not is_cancelled(resource):
                skip = self._exception_keys(cal, resource)
                for o in self._expand(cal, resource, None, None, skip):
                    out.append(self._render(o.resource))
                continue
            out.append(self._render(resource))
        return out

    @staticmethod
    def _exception_keys(cal: Calendar, master: Mapping[str, Any]) -> set[str]:
        zone_name = times.series_zone(master.get("start"), cal.timezone)
        keys: set[str] = set()
        for resource in cal.events.values():
            if resource.get("recurringEventId") == master["id"]:
                key = recurrence.original_key(resource.get("originalStartTime"), zone_name)
                if key is not None:
                    keys.add(key)
        return keys

    @staticmethod
    def _render(resource: Mapping[str, Any]) -> dict[str, Any]:
        """A listed event; a cancelled one in Google's minimal form.

        A shallow copy: stored resources are only ever changed at their top level or
        replaced (copy on write below it), so a listed copy stays intact while it is
        serialised outside the lock or kept for a later page."""
        if is_cancelled(resource):
            minimal: dict[str, Any] = {
                "kind": "calendar#event",
                "etag": resource.get("etag", ""),
                "id": resource["id"],
                "status": "cancelled",
            }
            for key in ("recurringEventId", "originalStartTime"):
                if key in resource:
                    minimal[key] = resource[key]
            return minimal
        return dict(resource)

    # -- paging and sync tokens -----------------------------------------------------------

    def _page(self, page: _Page) -> dict[str, Any]:
        head, rest = page.items[: page.page_size], page.items[page.page_size :]
        body: dict[str, Any] = {
            "kind": "calendar#events",
            "etag": f'"p{self._seq}"',
            "summary": page.email,
            "updated": times.stamp(times.now()),
            "timeZone": page.time_zone,
            "accessRole": "owner",
            "defaultReminders": [],
            "items": head,
        }
        if rest:
            self._page_counter += 1
            token = base64.urlsafe_b64encode(
                f"page:{self._page_counter}:{uuid.uuid4().hex}".encode()
            ).decode()
            self._pages[token] = _Page(
                email=page.email,
                items=rest,
                sync_token=page.sync_token,
                time_zone=page.time_zone,
                page_size=page.page_size,
            )
            while len(self._pages) > _PAGES_KEPT:
                self._pages.popitem(last=False)
            body["nextPageToken"] = token
        elif page.sync_token is not None:
            body["nextSyncToken"] = page.sync_token
        return body

    def _next_page(self, cal: Calendar, token: str) -> dict[str, Any]:
        page = self._pages.get(token)
        if page is None or not same_address(page.email, cal.email):
            raise invalid("Invalid page token value.", location="pageToken")
        return self._page(page)

    @staticmethod
    def _encode_sync(cal: Calendar) -> str:
        raw = f"{cal.email.lower()}|{cal.epoch}|{cal.last_seq}".encode()
        return "CP" + base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @staticmethod
    def _decode_sync(cal: Calendar, token: str) -> int:
        try:
            if not token.startswith("CP"):
                raise ValueError(token)
            body = token[2:]
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
            email, epoch, seq = raw.rsplit("|", 2)
            since = int(seq)
        except ValueError as error:
            raise full_sync_required() from error
        if email != cal.email.lower() or int(epoch) != cal.epoch or since > cal.last_seq:
            raise full_sync_required()
        return since

    # -- writing -----------------------------------------------------------------------------

    def insert(self, cal: Calendar, body: Mapping[str, Any]) -> dict[str, Any]:
        event_id = body.get("id")
        if event_id is not None:
            _check_id(str(event_id))
            if event_id in cal.events:
                raise duplicate()
        else:
            event_id = uuid.uuid4().hex
        resource: dict[str, Any] = _strip_nulls(copy.deepcopy(dict(body)))
        check_times(resource, cal.timezone, creating=True)
        now = times.stamp(times.now())
        for key in ("kind", "etag", "created", "updated", "htmlLink", "creator", "organizer"):
            resource.pop(key, None)
        resource.pop("recurringEventId", None)
        resource.pop("originalStartTime", None)
        resource["kind"] = "calendar#event"
        resource["id"] = event_id
        resource.setdefault("status", "confirmed")
        resource["created"] = now
        resource["htmlLink"] = f"https://www.google.com/calendar/event?eid={event_id}"
        resource["creator"] = {"email": cal.email, "self": True}
        resource["organizer"] = {"email": cal.email, "self": True}
        resource.setdefault("iCalUID", f"{event_id}@google.com")
        resource.setdefault("sequence", 0)
        resource.setdefault("reminders", {"useDefault": True})
        resource.setdefault("eventType", "default")
        _mark_self(resource, cal.email)
        self._commit(cal, resource, None)
        return copy.deepcopy(resource)

    def patch(
        self, cal: Calendar, event_id: str, body: Mapping[str, Any], *, replace: bool = False
    ) -> dict[str, Any]:
        existing = cal.events.get(event_id)
        if existing is None:
            existing = self._materialize(cal, event_id)
        if existing is None:
            raise not_found()
        before = copy.deepcopy(existing)
        new_type = body.get("eventType")
        if new_type is not None and new_type != existing.get("eventType", "default"):
            raise invalid("The event type cannot be changed.", location="eventType")
        if replace:
            merged: dict[str, Any] = _strip_nulls(copy.deepcopy(dict(body)))
        else:
            merged = merge_patch(copy.deepcopy(existing), body)
        for key in _READ_ONLY:
            if key in existing:
                merged[key] = copy.deepcopy(existing[key])
            else:
                merged.pop(key, None)
        if replace:
            merged.setdefault("status", existing.get("status", "confirmed"))
            merged.setdefault("eventType", existing.get("eventType", "default"))
        check_times(merged, cal.timezone, creating=replace)
        if merged.get("start") != existing.get("start") or merged.get("end") != existing.get("end"):
            merged["sequence"] = int(existing.get("sequence", 0)) + 1
        _mark_self(merged, cal.email)
        self._commit(cal, merged, before)
        return copy.deepcopy(merged)

    def delete(self, cal: Calendar, event_id: str) -> None:
        existing = cal.events.get(event_id)
        if existing is None:
            existing = self._materialize(cal, event_id)
            if existing is None:
                raise not_found()
        elif is_cancelled(existing):
            raise deleted()
        before = copy.deepcopy(existing)
        existing["status"] = "cancelled"
        self._commit(cal, existing, before)
        if existing.get("recurrence"):
            for other in list(cal.events.values()):
                if other.get("recurringEventId") == event_id and not is_cancelled(other):
                    prior = copy.deepcopy(other)
                    other["status"] = "cancelled"
                    self._commit(cal, other, prior)

    def _commit(
        self, cal: Calendar, resource: dict[str, Any], before: dict[str, Any] | None
    ) -> None:
        self._touch(cal, resource)
        self._propagate(cal, resource, before)

    def _propagate(
        self, cal: Calendar, after: dict[str, Any], before: dict[str, Any] | None
    ) -> None:
        """An organiser's change reaches the copies on its attendees' calendars (those this
        server holds), as Google does inside one Workspace domain: their copies share the
        id and the shared properties, keep their own private ones; an attendee removed from
        the list, or a cancelled event, leaves a cancelled copy."""
        organizer = str((after.get("organizer") or {}).get("email", cal.email))
        if not same_address(organizer, cal.email):
            return

        def guests(resource: Mapping[str, Any] | None) -> set[str]:
            if resource is None or is_cancelled(resource):
                return set()
            return {
                str(a.get("email", "")).strip().lower()
                for a in resource.get("attendees") or ()
                if a.get("email") and not same_address(str(a["email"]), cal.email)
            }

        now_guests = guests(after)
        for email in now_guests | guests(before):
            target = self._calendars.get(email)
            if target is None or target is cal:
                continue
            existing = target.events.get(after["id"])
            if email in now_guests:
                replica = copy.deepcopy(after)
                private = ((existing or {}).get("extendedProperties") or {}).get("private")
                shared = (after.get("extendedProperties") or {}).get("shared")
                props: dict[str, Any] = {}
                if shared:
                    props["shared"] = copy.deepcopy(shared)
                if private:
                    props["private"] = copy.deepcopy(private)
                if props:
                    replica["extendedProperties"] = props
                else:
                    replica.pop("extendedProperties", None)
                _mark_self(replica, target.email)
                self._touch(target, replica)
            elif existing is not None and not is_cancelled(existing):
                existing["status"] = "cancelled"
                self._touch(target, existing)

    def _materialize(self, cal: Calendar, event_id: str) -> dict[str, Any] | None:
        """An instance ``<masterId>_<suffix>`` of a stored master that is not stored itself."""
        master_id, sep, wanted = event_id.rpartition("_")
        if not sep:
            return None
        master = cal.events.get(master_id)
        if master is None or not master.get("recurrence") or is_cancelled(master):
            return None
        try:
            series = recurrence.series_of(master, cal.timezone)
            if series.timed:
                at = datetime.strptime(wanted, "%Y%m%dT%H%M%SZ").replace(tzinfo=times.zone("UTC"))
            else:
                day = date(int(wanted[:4]), int(wanted[4:6]), int(wanted[6:8]))
                at = times.instant(day, cal.timezone)
            candidates = recurrence.originals(series, at, at + timedelta(seconds=1), cal.timezone)
        except ValueError:
            return None
        for original in candidates:
            if recurrence.suffix(original) == wanted:
                return copy.deepcopy(_instance(master, original, series))
        return None

    # -- freeBusy ----------------------------------------------------------------------------

    def free_busy(
        self,
        body: Mapping[str, Any],
        resolve: Callable[[str], Calendar | None] | None = None,
    ) -> dict[str, Any]:
        if not body.get("timeMin"):
            raise required("Missing timeMin parameter.", location="timeMin")
        if not body.get("timeMax"):
            raise required("Missing timeMax parameter.", location="timeMax")
        try:
            lo = times.parse_date_time(str(body["timeMin"]))
            hi = times.parse_date_time(str(body["timeMax"]))
        except ValueError as error:
            raise invalid(str(error)) from error
        if hi <= lo:
            raise time_range_empty("timeMax")
        items = body.get("items") or []
        if len(items) > MAX_FREEBUSY_ITEMS:
            raise ApiError(
                400, "Too many calendars requested (at most 50).",
                "tooManyCalendarsRequested", domain="calendar",
            )  # fmt: skip
        zone_name = str(body.get("timeZone") or "UTC")
        if not times.is_zone(zone_name):
            raise invalid("Invalid time zone.", location="timeZone")

        def shown(instant: datetime) -> str:
            if zone_name == "UTC":
                return times.format_utc(instant)
            return times.format_in(instant, zone_name)

        calendars: dict[str, Any] = {}
        for item in items:
            calendar_id = str(item.get("id", ""))
            cal = resolve(calendar_id) if resolve is not None else self.find(calendar_id)
            if cal is None:
                calendars[calendar_id] = {
                    "errors": [{"domain": "global", "reason": "notFound"}],
                    "busy": [],
                }
                continue
            spans: list[tuple[datetime, datetime]] = []
            for o in self.occurrences(cal, lo, hi, include_cancelled=False):
                r = o.resource
                if r.get("transparency") == "transparent":
                    continue
                if r.get("eventType") == "workingLocation":
                    continue
                if declined_by(r, cal.email):
                    continue
                spans.append((max(o.start, lo), min(o.end, hi)))
            calendars[calendar_id] = {
                "busy": [{"start": shown(s), "end": shown(e)} for s, e in _union(spans)]
            }
        return {
            "kind": "calendar#freeBusy",
            "timeMin": shown(lo),
            "timeMax": shown(hi),
            "calendars": calendars,
        }


# --- helpers ---------------------------------------------------------------------------------


def _check_id(event_id: str) -> None:
    if not EVENT_ID.match(event_id):
        raise invalid("Invalid resource id value.", location="id")


def check_times(resource: Mapping[str, Any], calendar_zone: str, *, creating: bool) -> None:
    """Start and end as Google checks them (400 with Google's messages)."""
    values: dict[str, datetime | date] = {}
    for name in ("start", "end"):
        value = resource.get(name)
        if value is None:
            if creating:
                raise required(f"Missing {name} time.", location=name)
            continue
        if not isinstance(value, dict):
            raise invalid(f"Invalid {name} time.", location=name)
        has_date, has_time = bool(value.get("date")), bool(value.get("dateTime"))
        if has_date == has_time:
            raise invalid(f"Invalid {name} time.", location=name)
        zone_name = value.get("timeZone")
        if zone_name is not None and not times.is_zone(str(zone_name)):
            raise invalid(f"Invalid time zone definition for {name} time.", location=name)
        if has_time and not zone_name and not times.has_offset(str(value["dateTime"])):
            raise invalid(f"Missing time zone definition for {name} time.", location=name)
        try:
            values[name] = times.event_time(value, calendar_zone)
        except ValueError as error:
            raise invalid(f"Invalid {name} time.", location=name) from error
    if "start" in values and "end" in values:
        start, end = values["start"], values["end"]
        if isinstance(start, datetime) != isinstance(end, datetime):
            raise invalid("Start and end times must either both be date or both be dateTime.")
        if isinstance(start, datetime) and isinstance(end, datetime):
            if end < start:
                raise time_range_empty("end")
        elif end <= start:
            raise time_range_empty("end")
    if resource.get("recurrence"):
        start_value = resource.get("start") or {}
        if start_value.get("dateTime") and not start_value.get("timeZone"):
            raise invalid("Missing time zone definition for start time.", location="start")
        try:
            recurrence.validate(dict(resource), calendar_zone)
        except (ValueError, TypeError) as error:
            raise invalid("Invalid recurrence rule.", location="recurrence") from error


def _bounds(resource: Mapping[str, Any], calendar_zone: str) -> tuple[datetime, datetime] | None:
    try:
        if resource.get("start") is None and resource.get("originalStartTime") is not None:
            at = times.instant(
                times.event_time(resource["originalStartTime"], calendar_zone), calendar_zone
            )
            return at, at
        start = times.event_time(resource.get("start"), calendar_zone)
        end = times.event_time(resource.get("end"), calendar_zone)
    except ValueError:
        return None
    return times.instant(start, calendar_zone), times.instant(end, calendar_zone)


def _overlaps(start: datetime, end: datetime, lo: datetime | None, hi: datetime | None) -> bool:
    """Google's window: timeMin bounds the end (exclusive), timeMax the start (exclusive)."""
    if lo is not None and end <= lo:
        return False
    return hi is None or start < hi


def _instance(
    master: Mapping[str, Any], original: datetime | date, series: recurrence.Series
) -> dict[str, Any]:
    instance = dict(master)
    instance.pop("recurrence", None)
    instance["id"] = f"{master['id']}_{recurrence.suffix(original)}"
    instance["recurringEventId"] = master["id"]
    instance["originalStartTime"] = recurrence.original_time(original, series.zone)
    end = series.end_of(original)
    if isinstance(original, datetime) and isinstance(end, datetime):
        instance["start"] = {
            "dateTime": times.format_in(original, series.zone),
            "timeZone": series.zone,
        }
        instance["end"] = {"dateTime": times.format_in(end, series.zone), "timeZone": series.zone}
    else:
        instance["start"] = {"date": original.isoformat()}
        instance["end"] = {"date": end.isoformat()}
    return instance


def _filter(
    items: list[dict[str, Any]], params: Mapping[str, Any], updated_min: datetime | None
) -> list[dict[str, Any]]:
    out = items
    if params.get("iCalUID"):
        out = [i for i in out if i.get("iCalUID") == params["iCalUID"]]
    for name, kind in (
        ("privateExtendedProperty", "private"),
        ("sharedExtendedProperty", "shared"),
    ):
        for condition in params.get(name) or ():
            key, eq, value = str(condition).partition("=")
            if not eq:
                raise invalid(f"Invalid {name} value.", location=name)
            out = [
                i
                for i in out
                if ((i.get("extendedProperties") or {}).get(kind) or {}).get(key) == value
            ]
    event_types = params.get("eventTypes")
    if event_types:
        wanted = set(event_types)
        out = [i for i in out if i.get("eventType", "default") in wanted or is_cancelled(i)]
    if params.get("q"):
        needle = str(params["q"]).lower()
        out = [
            i
            for i in out
            if any(needle in str(i.get(k, "")).lower() for k in ("summary", "description"))
            or needle in str(i.get("location", "")).lower()
        ]
    if updated_min is not None:
        out = [
            i
            for i in out
            if "updated" not in i or times.parse_date_time(str(i["updated"])) >= updated_min
        ]
    return out


def _cap_attendees(item: dict[str, Any], limit: int) -> dict[str, Any]:
    attendees = item.get("attendees")
    if not attendees or len(attendees) <= limit:
        return item
    mine = [a for a in attendees if a.get("self")]
    others = [a for a in attendees if not a.get("self")]
    item["attendees"] = (mine + others)[:limit]
    item["attendeesOmitted"] = True
    return item


def _union(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    for start, end in sorted(spans):
        if end <= start:
            continue
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out
