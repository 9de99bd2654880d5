"""A synthetic person's calendar as Google event resources.

A recurring series becomes one master (``recurrence``: an RRULE bounded by UNTIL at its last
generated occurrence, and an EXDATE for each occurrence the rule gives but the generator
skipped) plus an exception instance for every occurrence that differs from the master
(moved, or another response or transparency). Other events are single events. This follows
`micromoments.local.synthetic.collapse_series`, as `to_ics` does, so both exports describe
the same occurrences.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

from micromoments.local.calendar_api import times
from micromoments.local.calendar_api.state import same_address
from micromoments.local.synthetic import (
    ACCEPTED,
    DECLINED,
    FOCUS_TIME,
    NEEDS_ACTION,
    OUT_OF_OFFICE,
    TENTATIVE,
    WORKING_LOCATION,
    Series,
    SyntheticEvent,
    SyntheticPerson,
    collapse_series,
)

_RESPONSE = {
    ACCEPTED: "accepted",
    TENTATIVE: "tentative",
    NEEDS_ACTION: "needsAction",
    DECLINED: "declined",
}
# A fixed stamp keeps the seeded resources deterministic.
_STAMP = "2024-01-01T00:00:00.000Z"


def event_id_for(uid: str) -> str:
    """The Google event id of a synthetic uid: lowercase base32hex of its bytes (a valid
    id of at least 5 characters, the same on every calendar that shares the uid)."""
    return base64.b32hexencode(uid.encode()).decode().rstrip("=").lower()


def google_events(person: SyntheticPerson) -> list[dict[str, Any]]:
    """The person's calendar as stored Google resources."""
    me = person.email
    out: list[dict[str, Any]] = []
    singles, series = collapse_series(person.events)
    for event in singles:
        out.append(_resource(event, me, event_id_for(event.uid), event.uid))
    for collapsed in series:
        out.extend(_series(collapsed, me))
    return out


def _zone_name(value: datetime) -> str:
    key = getattr(value.tzinfo, "key", None)
    return str(key) if key else "UTC"


def _time(value: datetime | date, zone_name: str | None = None) -> dict[str, str]:
    if isinstance(value, datetime):
        name = zone_name or _zone_name(value)
        return {"dateTime": times.format_in(value, name), "timeZone": name}
    return {"date": value.isoformat()}


def _resource(
    event: SyntheticEvent,
    me: str,
    event_id: str,
    ical_uid: str,
    *,
    start: datetime | date | None = None,
    end: datetime | date | None = None,
) -> dict[str, Any]:
    begin = event.start if start is None else start
    finish = event.end if end is None else end
    zone_name = _zone_name(begin) if isinstance(begin, datetime) else None
    resource: dict[str, Any] = {
        "kind": "calendar#event",
        "id": event_id,
        "status": "confirmed",
        "htmlLink": f"https://www.google.com/calendar/event?eid={event_id}",
        "created": _STAMP,
        "updated": _STAMP,
        "summary": event.summary,
        "creator": _person(event.organizer, me),
        "organizer": _person(event.organizer, me),
        "start": _time(begin, zone_name),
        "end": _time(finish, zone_name),
        "iCalUID": f"{ical_uid}@synthetic.micromoments",
        "sequence": 0,
        "reminders": {"useDefault": True},
        "eventType": event.event_type,
    }
    if event.transparent:
        resource["transparency"] = "transparent"
    if event.attendees:
        resource["attendees"] = [
            _attendee(address, status, event.organizer, me) for address, status in event.attendees
        ]
    if event.event_type == OUT_OF_OFFICE:
        resource["outOfOfficeProperties"] = {"autoDeclineMode": "declineNone"}
    elif event.event_type == FOCUS_TIME:
        resource["focusTimeProperties"] = {
            "autoDeclineMode": "declineNone",
            "chatStatus": "doNotDisturb",
        }
    elif event.event_type == WORKING_LOCATION:
        resource["workingLocationProperties"] = {"type": "homeOffice", "homeOffice": {}}
        resource["visibility"] = "public"
    return resource


def _person(address: str, me: str) -> dict[str, Any]:
    found: dict[str, Any] = {"email": address}
    if same_address(address, me):
        found["self"] = True
    return found


def _attendee(address: str, status: str, organizer: str, me: str) -> dict[str, Any]:
    found: dict[str, Any] = {"email": address, "responseStatus": _RESPONSE.get(status, status)}
    if same_address(address, organizer):
        found["organizer"] = True
    if same_address(address, me):
        found["self"] = True
    return found


def _series(series: Series, me: str) -> Iterator[dict[str, Any]]:
    anchor, until, duration = series.anchor, series.until, series.duration
    zone_name = _zone_name(anchor)
    master_id = event_id_for(series.uid)
    model = series.model
    master = _resource(model, me, master_id, series.uid, start=anchor, end=anchor + duration)
    master["start"] = _time(anchor, zone_name)
    master["end"] = _time(anchor + duration, zone_name)
    lines = [f"RRULE:{series.rule};UNTIL={until.astimezone(UTC):%Y%m%dT%H%M%SZ}"]
    if series.skipped:
        lines.append(
            f"EXDATE;TZID={zone_name}:"
            + ",".join(f"{when.astimezone(anchor.tzinfo):%Y%m%dT%H%M%S}" for when in series.skipped)
        )
    master["recurrence"] = lines
    yield master
    for event in series.exceptions:
        assert event.original_start is not None
        original = event.original_start
        instance = _resource(
            event,
            me,
            f"{master_id}_{original.astimezone(UTC):%Y%m%dT%H%M%SZ}",
            series.uid,
        )
        instance["start"] = _time(event.start, zone_name)
        instance["end"] = _time(event.end, zone_name)
        instance["recurringEventId"] = master_id
        instance["originalStartTime"] = _time(original, zone_name)
        yield instance
