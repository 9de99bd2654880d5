"""The mailboxes of the local Microsoft Graph server: events with a change sequence (for
``calendarView/delta``), tombstones of deleted events, and what one event looks like."""

from __future__ import annotations

import base64
import copy
import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

SHOW_AS = ("free", "tentative", "busy", "oof", "workingElsewhere", "unknown")
EVENT_TYPES = ("singleInstance", "occurrence", "exception", "seriesMaster")
_STAMP = "2024-01-01T00:00:00Z"


class GraphError(Exception):
    """An error answer: HTTP status, Graph's ``error.code`` and a message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


def invalid(message: str) -> GraphError:
    return GraphError(400, "ErrorInvalidRequest", message)


def zone_known(name: str) -> bool:
    """Graph takes a Windows zone name or an IANA one in ``timeZone``."""
    import zoneinfo

    if name in WINDOWS_TO_OLSON or name == "UTC":
        return True
    try:
        zoneinfo.ZoneInfo(name)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        return False
    return True


def instant(field_value: Any, what: str, *, all_day: bool = False) -> datetime:
    """A ``dateTimeTimeZone`` as an aware UTC date-time (an all-day one: midnight UTC of
    its date, as all-day events float); 400 when malformed."""
    import zoneinfo

    if not isinstance(field_value, Mapping):
        raise invalid(f"{what} must be a dateTimeTimeZone object")
    text, zone_name = field_value.get("dateTime"), field_value.get("timeZone") or "UTC"
    if not isinstance(text, str) or not isinstance(zone_name, str) or not zone_known(zone_name):
        raise invalid(f"{what}: dateTime and a known timeZone are required")
    try:
        moment = datetime.fromisoformat(text[:26] if "." in text else text)
    except ValueError:
        raise invalid(f"{what}: bad dateTime {text!r}") from None
    if all_day:
        if moment.time() != datetime.min.time():
            raise invalid(f"{what}: an all-day event starts and ends at midnight")
        return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    if moment.tzinfo is None:
        iana = WINDOWS_TO_OLSON.get(zone_name, zone_name)
        moment = moment.replace(tzinfo=zoneinfo.ZoneInfo(iana))
    return moment.astimezone(UTC)


def graph_time(moment: datetime) -> dict[str, str]:
    """How Graph writes a time when asked for UTC (``Prefer: outlook.timezone="UTC"``)."""
    return {
        "dateTime": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000"),
        "timeZone": "UTC",
    }


@dataclass(slots=True)
class StoredEvent:
    resource: dict[str, Any]
    start: datetime
    end: datetime
    seq: int
    deleted: bool = False
    delivered: bool = False  # a meeting created through the API: its copies are kept in step


@dataclass(slots=True)
class Mailbox:
    email: str
    timezone: str = "UTC"  # a Windows name, as mailboxSettings writes it
    events: dict[str, StoredEvent] = field(default_factory=dict)
    seq: int = 0
    delta_epoch: int = 0  # bumped to expire every delta link of the mailbox

    def bump(self) -> int:
        self.seq += 1
        return self.seq

    def live(self) -> Iterator[StoredEvent]:
        return (e for e in self.events.values() if not e.deleted)

    def by_transaction(self, transaction_id: str) -> StoredEvent | None:
        for event in self.live():
            if event.resource.get("transactionId") == transaction_id:
                return event
        return None


_counter = itertools.count(1)


def new_event_id(email: str) -> str:
    """An id shaped like Graph's (opaque base64 with capitals and ``=``)."""
    raw = f"AAMkA{email}:{next(_counter):08d}".encode()
    return base64.urlsafe_b64encode(raw).decode()


def normalised(body: Mapping[str, Any], email: str, event_id: str, seq: int) -> StoredEvent:
    """A created event as stored: validated, with server fields filled in."""
    resource = copy.deepcopy(dict(body))
    start = instant(resource.get("start"), "start", all_day=bool(resource.get("isAllDay")))
    end = instant(resource.get("end"), "end", all_day=bool(resource.get("isAllDay")))
    if end < start:
        raise invalid("end must not be before start")
    show_as = resource.setdefault("showAs", "busy")
    if show_as not in SHOW_AS:
        raise invalid(f"showAs must be one of {', '.join(SHOW_AS)}")
    event_type = resource.setdefault("type", "singleInstance")
    if event_type not in EVENT_TYPES:
        raise invalid(f"type must be one of {', '.join(EVENT_TYPES)}")
    check_properties(resource.get("singleValueExtendedProperties"))
    resource.setdefault("isAllDay", False)
    resource.setdefault("isCancelled", False)
    resource.setdefault("isOrganizer", True)
    resource.setdefault(
        "organizer", {"emailAddress": {"address": email}} if resource["isOrganizer"] else {}
    )
    resource.setdefault(
        "responseStatus",
        {"response": "organizer" if resource["isOrganizer"] else "none", "time": _STAMP},
    )
    resource.setdefault("attendees", [])
    resource.setdefault("transactionId", None)  # Graph shows it, null when not given
    resource.setdefault("originalStartTimeZone", resource["start"].get("timeZone", "UTC"))
    resource.setdefault("originalEndTimeZone", resource["end"].get("timeZone", "UTC"))
    resource["id"] = event_id
    resource["changeKey"] = f"ck{seq}"
    resource["@odata.etag"] = f'W/"ck{seq}"'
    resource.setdefault("createdDateTime", _STAMP)
    resource["lastModifiedDateTime"] = _STAMP
    return StoredEvent(resource=resource, start=start, end=end, seq=seq)


def check_properties(properties: Any) -> None:
    if properties is None:
        return
    if not isinstance(properties, list) or not all(
        isinstance(p, Mapping) and isinstance(p.get("id"), str) and isinstance(p.get("value"), str)
        for p in properties
    ):
        raise invalid("singleValueExtendedProperties must be a list of {id, value} strings")
    for prop in properties:
        kind, _, rest = str(prop["id"]).partition(" ")
        if kind != "String" or " Name " not in rest:
            raise invalid(f"extended property id {prop['id']!r}: expected 'String {{guid}} Name x'")


def merge_properties(old: list[dict[str, str]], new: list[dict[str, str]]) -> list[dict[str, str]]:
    merged = {p["id"].lower(): dict(p) for p in old}
    merged.update({p["id"].lower(): dict(p) for p in new})
    return list(merged.values())


def public(event: StoredEvent, *, expand: frozenset[str] | None = None) -> dict[str, Any]:
    """The event as Graph answers it (in UTC); extended properties only when expanded
    (``expand``: the property ids asked for, lowercase, or ``*`` for all)."""
    resource = copy.deepcopy(event.resource)
    properties = resource.pop("singleValueExtendedProperties", None) or []
    if event.resource.get("isAllDay"):
        start = {"dateTime": event.start.strftime("%Y-%m-%dT00:00:00.0000000"), "timeZone": "UTC"}
        end = {"dateTime": event.end.strftime("%Y-%m-%dT00:00:00.0000000"), "timeZone": "UTC"}
    else:
        start, end = graph_time(event.start), graph_time(event.end)
    resource["start"], resource["end"] = start, end
    if expand is not None:
        chosen = [p for p in properties if "*" in expand or p["id"].lower() in expand]
        if chosen:
            resource["singleValueExtendedProperties"] = chosen
    return resource
