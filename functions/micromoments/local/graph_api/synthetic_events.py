"""A synthetic person's calendar as Microsoft Graph events, as a calendar view shows it:
every occurrence of a series is an event of its own (``occurrence``, or ``exception`` when
moved), single events are ``singleInstance``. Times are written in the event's zone by its
Windows name (UTC where Windows has none); all-day events float (midnight, UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from micromoments.adapters.graph_calendar.events import windows_zone
from micromoments.domain.calendar import same_address
from micromoments.local.synthetic import (
    ACCEPTED,
    DECLINED,
    OUT_OF_OFFICE,
    TENTATIVE,
    WORKING_LOCATION,
    SyntheticEvent,
    SyntheticPerson,
)

_RESPONSE = {ACCEPTED: "accepted", TENTATIVE: "tentativelyAccepted", DECLINED: "declined"}


def _when(value: datetime | date) -> dict[str, str]:
    if not isinstance(value, datetime):
        return {"dateTime": f"{value.isoformat()}T00:00:00", "timeZone": "UTC"}
    windows = windows_zone(str(getattr(value.tzinfo, "key", "") or ""))
    if windows is None:
        return {
            "dateTime": value.astimezone(UTC).replace(tzinfo=None).isoformat(),
            "timeZone": "UTC",
        }
    return {"dateTime": value.replace(tzinfo=None).isoformat(), "timeZone": windows}


def _show_as(event: SyntheticEvent, mine: str | None) -> str:
    if event.event_type == OUT_OF_OFFICE:
        return "oof"
    if event.event_type == WORKING_LOCATION:
        return "workingElsewhere"
    if event.transparent:
        return "free"
    return "tentative" if mine == TENTATIVE else "busy"


def _response(organiser: bool, mine: str | None) -> str:
    if organiser and mine != DECLINED:  # the generator may have an organiser decline
        return "organizer"
    return _RESPONSE.get(mine or "", "notResponded")


def graph_event(event: SyntheticEvent, me: str) -> dict[str, Any]:
    """One occurrence as a Graph event on ``me``'s calendar."""
    organiser = same_address(event.organizer, me)
    mine = event.partstat(me)
    if event.series_uid is None:
        kind = "singleInstance"
    else:
        moved = event.original_start is not None and event.original_start != event.start
        kind = "exception" if moved else "occurrence"
    start_zone = _when(event.start)["timeZone"]
    return {
        "subject": event.summary,
        "type": kind,
        "isAllDay": not isinstance(event.start, datetime),
        "start": _when(event.start),
        "end": _when(event.end),
        "originalStartTimeZone": start_zone,
        "showAs": _show_as(event, mine),
        "isOrganizer": organiser,
        "organizer": {"emailAddress": {"address": event.organizer}},
        "responseStatus": {"response": _response(organiser, mine)},
        "attendees": [
            {
                "emailAddress": {"address": address},
                "type": "required",
                "status": {"response": _RESPONSE.get(status, "none")},
            }
            for address, status in event.attendees
        ],
        "iCalUId": f"{event.uid}@synthetic.micromoments",
    }


def graph_events(person: SyntheticPerson) -> list[dict[str, Any]]:
    """The person's calendar as Graph events."""
    return [graph_event(event, person.email) for event in person.events]
