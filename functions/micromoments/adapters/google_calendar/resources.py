"""Google event resources: reading one into the mirror's `MirrorEvent` (pure; never titles,
descriptions, locations or other people's addresses), writing a hold as one, and the busy
intervals of a freeBusy answer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from micromoments.domain.calendar import classify, same_address, zone
from micromoments.domain.errors import UnknownTimeZone
from micromoments.domain.holds import (
    HOLD_DESCRIPTIONS,
    HOLD_TITLES,
    PERSONAL_KINDS,
    Hold,
    HoldKind,
    conversation_prompt,
)
from micromoments.domain.journal import WriteOp
from micromoments.domain.mirror import MirrorEvent
from micromoments.ports import CalendarWrite

# Start and end of a cancelled event whose resource does not say when it was (incremental
# sync sends only id and status for some deletions); such events leave the mirror at once.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TAG = "micromoments"


def rfc3339(moment: datetime) -> str:
    """An aware date-time as RFC 3339 in UTC (``…Z``)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a timezone-aware date-time is required")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# -- Google event -> mirror (pure) -----------------------------------------------------------


def normalise(resource: Mapping[str, Any], email: str) -> MirrorEvent:
    """A Google event resource as the mirror keeps it (for the person ``email``).

    A cancelled resource may be minimal (incremental sync sends only ``id`` and ``status``,
    with ``recurringEventId`` and ``originalStartTime`` for a deleted occurrence): its start
    and end are then the original start of the occurrence, or `EPOCH` for an event that is
    not an instance (the mirror drops it, see `mirror_changes`).
    """
    event_id = str(resource["id"])
    cancelled = resource.get("status") == "cancelled"
    start_field = mapping(resource.get("start"))
    original_field = mapping(resource.get("originalStartTime"))
    original = moment(original_field)
    begin = moment(start_field)
    finish = moment(mapping(resource.get("end")))
    if begin is None:
        begin = original if original is not None else EPOCH
    if finish is None or isinstance(finish, datetime) != isinstance(begin, datetime):
        finish = begin
    if finish < begin:  # same type, checked above
        finish = begin
    all_day = not isinstance(begin, datetime)

    event_type = str(resource.get("eventType") or "default")
    out_of_office = event_type == "outOfOffice"
    working_location = event_type == "workingLocation"
    busy = out_of_office or (not working_location and resource.get("transparency") != "transparent")

    declined = False
    others = False
    declines = 0
    for attendee in mappings(resource.get("attendees")):
        if _is_self(attendee, email):
            declined = declined or attendee.get("responseStatus") == "declined"
        elif not attendee.get("resource"):
            others = True  # rooms and equipment are not people
            declines += attendee.get("responseStatus") == "declined"
    organizer = mapping(resource.get("organizer"))
    if organizer and not _is_self(organizer, email) and organizer.get("email"):
        others = True

    hold = _hold_tags(resource)
    kind = classify(
        all_day=all_day,
        out_of_office=out_of_office,
        working_location=working_location,
        ours=hold is not None,
        other_participants=others,
    )
    _zone_name = start_field.get("timeZone") or original_field.get("timeZone")
    recurring_event_id = resource.get("recurringEventId")
    return MirrorEvent(
        id=event_id,
        start=begin,
        end=finish,
        kind=kind,
        busy=busy,
        declined=declined,
        cancelled=cancelled,
        start_zone=str(_zone_name) if _zone_name else None,
        recurrence=tuple(str(line) for line in resource.get("recurrence") or ()),
        recurring_event_id=str(recurring_event_id) if recurring_event_id else None,
        original_start=original,
        hold_id=hold[0] if hold else None,
        hold_kind=hold[1] if hold else None,
        etag=str(resource["etag"]) if resource.get("etag") else None,
        declines=declines if hold is not None else 0,
    )


def mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def mappings(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _is_self(person: Mapping[str, Any], email: str) -> bool:
    return person.get("self") is True or same_address(str(person.get("email") or ""), email)


def moment(field: Mapping[str, Any]) -> datetime | date | None:
    """``{"dateTime": …, "timeZone": …}`` as an aware UTC date-time, ``{"date": …}`` as a date."""
    if field.get("dateTime"):
        moment = datetime.fromisoformat(str(field["dateTime"]))
        if moment.tzinfo is None:
            try:
                moment = moment.replace(tzinfo=zone(str(field.get("timeZone") or "UTC")))
            except UnknownTimeZone:
                moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    if field.get("date"):
        return date.fromisoformat(str(field["date"]))
    return None


def _hold_tags(resource: Mapping[str, Any]) -> tuple[str, str | None] | None:
    """(hold id, kind) of one of our events, from its private or shared tags."""
    properties = mapping(resource.get("extendedProperties"))
    for scope in ("private", "shared"):
        tags = mapping(properties.get(scope))
        # Tags are only believed on an event whose id is the hold id they name: anyone can
        # send an invitation carrying our tags, nobody else can create our ids on this calendar.
        if tags.get(_TAG) == "1" and str(tags.get("mm_hold_id") or "") == str(resource["id"]):
            kind = str(tags.get("mm_kind") or "")
            return str(resource["id"]), kind if kind in HoldKind._value2member_map_ else None
    return None


# -- hold -> Google event (pure) -------------------------------------------------------------


def _when(moment: datetime, timezone: str) -> dict[str, str]:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a hold's start and end must be timezone-aware")
    return {"dateTime": moment.isoformat(), "timeZone": timezone}


def hold_body(
    hold: Hold, timezone: str, organiser: str | None = None, guests: Sequence[str] = ()
) -> dict[str, Any]:
    """The event to insert for ``hold``, written in ``timezone`` (an IANA name).

    Personal holds carry private tags. Shared kinds (coffee, watercooler) carry shared tags,
    so every attendee's scan recognises them, and invite ``guests`` (the addresses behind
    ``hold.attendees``) with the ``organiser`` (whose calendar it is) as accepted.
    """
    scope = "private" if hold.kind in PERSONAL_KINDS else "shared"
    body: dict[str, Any] = {
        "id": hold.id,
        "summary": HOLD_TITLES[hold.kind],
        "description": hold_description(hold),
        "start": _when(hold.start, timezone),
        "end": _when(hold.end, timezone),
        "transparency": "opaque" if hold.busy else "transparent",
        "extendedProperties": {
            scope: {
                _TAG: "1",
                "mm_hold_id": hold.id,
                "mm_kind": hold.kind.value,
                "mm_generation": str(hold.generation),
            }
        },
        "reminders": {"useDefault": False},
    }
    if hold.shared:
        body["attendees"] = _attendees(organiser, guests)
        body["guestsCanModify"] = False
        body["guestsCanInviteOthers"] = False
    return body


def hold_description(hold: Hold) -> str:
    """What the event says. A coffee chat says who suggested it and offers an opener."""
    if hold.kind is HoldKind.COFFEE:
        everyone = "both of you" if len(hold.attendees) <= 1 else "all three of you"
        return (
            f"micromoments suggested this coffee chat for {everyone}: 20 minutes to talk about "
            f"anything but work, if you like. An opener: {conversation_prompt(hold.id)} "
            "Can't make it? Decline, and nobody is asked to find another time this week."
        )
    if hold.kind is HoldKind.WATERCOOLER:
        return (
            "micromoments suggested this team drop-in for the time most of you are free. "
            "No agenda: come by if you can, leave when you like."
        )
    return (
        f"{HOLD_DESCRIPTIONS[hold.kind]} Placed by micromoments: "
        "you may move or delete it as you like."
    )


def _attendees(organiser: str | None, guests: Sequence[str]) -> list[dict[str, Any]]:
    people: list[dict[str, Any]] = []
    if organiser:
        people.append({"email": organiser, "responseStatus": "accepted"})
    people += [{"email": address} for address in guests]
    return people


def hold_patch_body(
    hold: Hold,
    timezone: str,
    *,
    organiser: str | None = None,
    attendees: bool = False,
    guests: Sequence[str] = (),
) -> dict[str, Any]:
    """What a patch changes: the time and busy/free, and the guest list when ``attendees``
    (a member left). Otherwise the guest list is left alone, so nobody's answer is reset."""
    body: dict[str, Any] = {
        "start": _when(hold.start, timezone),
        "end": _when(hold.end, timezone),
        "transparency": "opaque" if hold.busy else "transparent",
    }
    if attendees and hold.shared:
        body["attendees"] = _attendees(organiser, guests)
    return body


def _send_updates(hold: Hold) -> str:
    return "none" if hold.kind in PERSONAL_KINDS else "all"


def _zone_name(moment: datetime) -> str:
    key = getattr(moment.tzinfo, "key", None)
    return str(key) if key else "UTC"


def busy_intervals(calendar: Any) -> list[tuple[datetime, datetime]] | None:
    if not isinstance(calendar, Mapping) or calendar.get("errors"):
        return None
    intervals: list[tuple[datetime, datetime]] = []
    for busy in mappings(calendar.get("busy")):
        begin = moment({"dateTime": busy.get("start")})
        finish = moment({"dateTime": busy.get("end")})
        if isinstance(begin, datetime) and isinstance(finish, datetime) and finish > begin:
            intervals.append((begin, finish))
    return intervals


def write_request(events: Any, email: str, write: CalendarWrite) -> Any:
    """The events.insert/patch/delete request (not yet sent) that makes ``write`` for ``email``."""
    hold = write.hold
    send_updates = _send_updates(hold)
    if write.op is WriteOp.INSERT:
        body = hold_body(hold, _zone_name(hold.start), email, write.guests)
        return events.insert(calendarId=email, body=body, sendUpdates=send_updates)
    if write.op is WriteOp.PATCH:
        body = hold_patch_body(
            hold,
            _zone_name(hold.start),
            organiser=email,
            attendees=write.attendees_changed,
            guests=write.guests,
        )
        return events.patch(calendarId=email, eventId=hold.id, body=body, sendUpdates=send_updates)
    return events.delete(calendarId=email, eventId=hold.id, sendUpdates=send_updates)
