"""Graph event resources, pure: reading one into the mirror's `MirrorEvent` (never
subjects, bodies, locations or other people's addresses), writing a hold as one, our tags
as single-value extended properties, and Windows time-zone names.

DESIGN's calendar semantics on Graph's fields: ``isCancelled`` is cancelled;
``responseStatus.response == "declined"`` is declined; ``showAs`` ``free`` is transparent,
``oof`` out of office, ``workingElsewhere`` a working location (ignored), ``tentative``,
``busy`` and ``unknown`` busy; ``isAllDay`` makes the event's dates all-day; another
participant is an attendee (not a room or equipment) or an organiser other than the person
(``isOrganizer`` false). A calendar view expands recurring series on the server, so an
``occurrence`` or ``exception`` is one event of its own and a ``seriesMaster`` (never in a
calendar view) is skipped. An attendee's copy of a shared hold (Exchange gives every
attendee their own event, carrying the organiser's PS_PUBLIC_STRINGS properties) reads as
that hold.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from micromoments.domain.calendar import classify, same_address
from micromoments.domain.holds import HOLD_TITLES, PERSONAL_KINDS, SHARED_KINDS, Hold, HoldKind
from micromoments.domain.intervals import clip, union
from micromoments.domain.mirror import MirrorEvent

# Our property set (a GUID of our own) and the two properties on every personal hold: they
# stay on the person's own event.
PROPERTY_SET = "{6b3f0d0e-5b2a-4c59-9a8e-6d1c7a4e2f10}"
HOLD_ID_PROPERTY = f"String {PROPERTY_SET} Name mm_hold_id"
TAGS_PROPERTY = f"String {PROPERTY_SET} Name mm_tags"
# Shared holds (coffee, watercooler) carry the same two in PS_PUBLIC_STRINGS, the set
# Exchange copies to the attendees' copies of a meeting inside the organisation.
SHARED_PROPERTY_SET = "{00020329-0000-0000-C000-000000000046}"
SHARED_HOLD_ID_PROPERTY = f"String {SHARED_PROPERTY_SET} Name mm_hold_id"
SHARED_TAGS_PROPERTY = f"String {SHARED_PROPERTY_SET} Name mm_tags"
TRANSACTION_PREFIX = "micromoments:"
_ALL_TAGS = (HOLD_ID_PROPERTY, TAGS_PROPERTY, SHARED_HOLD_ID_PROPERTY, SHARED_TAGS_PROPERTY)
EXPAND_TAGS = (
    "singleValueExtendedProperties($filter="
    + " or ".join(f"id eq '{prop}'" for prop in _ALL_TAGS)
    + ")"
)
_SHARED_TITLES = frozenset(HOLD_TITLES[kind] for kind in SHARED_KINDS)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# -- time zones ------------------------------------------------------------------------------


def iana_zone(name: str | None) -> str | None:
    """The IANA zone of a Windows zone name (CLDR's mapping, as icalendar ships it) or of
    an IANA name Graph echoed; None when unknown."""
    if not name:
        return None
    if name == "UTC":
        return "UTC"  # Graph's own default, and CLDR's "Etc/UTC"
    mapped = WINDOWS_TO_OLSON.get(name, name)
    try:
        zoneinfo.ZoneInfo(mapped)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        return None
    return str(mapped)


@cache
def _windows_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for windows, iana in sorted(WINDOWS_TO_OLSON.items()):
        names.setdefault(iana, windows)
    return names


def windows_zone(iana: str) -> str | None:
    """A Windows zone name for an IANA zone (CLDR's ``001`` territory where several map
    to it); None when Windows has none (write in UTC then)."""
    return "UTC" if iana in ("UTC", "Etc/UTC") else _windows_names().get(iana)


def graph_moment(field: Mapping[str, Any], *, all_day: bool) -> datetime | date | None:
    """A ``dateTimeTimeZone`` as an aware UTC date-time, or its date when ``all_day``."""
    text = field.get("dateTime")
    if not isinstance(text, str) or not text:
        return None
    moment = datetime.fromisoformat(text[:26] if "." in text else text)
    if all_day:
        return moment.date()
    if moment.tzinfo is None:
        zone_name = iana_zone(str(field.get("timeZone") or "UTC")) or "UTC"
        moment = moment.replace(tzinfo=zoneinfo.ZoneInfo(zone_name))
    return moment.astimezone(UTC)


# -- Graph event -> mirror (pure) ------------------------------------------------------------


def mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def mappings(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _address(person: Mapping[str, Any]) -> str:
    return str(mapping(person.get("emailAddress")).get("address") or "")


def hold_tags(resource: Mapping[str, Any]) -> tuple[str, str | None] | None:
    """(hold id, kind) of one of our events, from its extended properties: on an event the
    person organises, our private tags or the shared ones; on an attendee's copy of a
    meeting, only shared tags naming a shared kind (coffee, watercooler): an invitation
    cannot make a foreign event one of the person's own holds."""
    values = {
        str(p.get("id") or "").lower(): str(p.get("value") or "")
        for p in mappings(resource.get("singleValueExtendedProperties"))
    }
    organised = resource.get("isOrganizer") is True
    sets = ((HOLD_ID_PROPERTY, TAGS_PROPERTY),) if organised else ()
    for hold_property, tags_property in (*sets, (SHARED_HOLD_ID_PROPERTY, SHARED_TAGS_PROPERTY)):
        hold_id = values.get(hold_property.lower())
        if not hold_id:
            continue
        kind = values.get(tags_property.lower(), "").partition(";")[0]
        known = kind in HoldKind._value2member_map_
        if organised:
            return hold_id, kind if known else None
        if known and HoldKind(kind) in SHARED_KINDS:
            return hold_id, kind
    return None


def is_copy(resource: Mapping[str, Any]) -> bool:
    """An attendee's copy of someone else's meeting (never written to: its organiser's
    scan manages it)."""
    return resource.get("isOrganizer") is False


def maybe_ours(resource: Mapping[str, Any]) -> bool:
    """Whether a delta item may be one of our holds (then its tags are read: a delta never
    carries extended properties): one the person organises whose ``transactionId`` is
    ours, or any they organise when the item does not show its ``transactionId`` (Graph
    documents no ``$select`` for a delta, so we do not count on the property); an
    invitation when it may be a copy of a shared hold: its subject is a shared hold's
    title, or it allows no new time proposals as ours do (the subject is only compared,
    never kept)."""
    if resource.get("isOrganizer") is not True:
        return is_copy(resource) and (
            resource.get("subject") in _SHARED_TITLES
            or resource.get("allowNewTimeProposals") is False
        )
    if "transactionId" not in resource:
        return True
    return str(resource.get("transactionId") or "").startswith(TRANSACTION_PREFIX)


def normalise(resource: Mapping[str, Any], email: str) -> MirrorEvent | None:
    """A Graph event as the mirror keeps it (for the person ``email``); None for a series
    master, which a calendar view never holds (its occurrences are events of their own)."""
    if resource.get("type") == "seriesMaster":
        return None
    all_day = resource.get("isAllDay") is True
    begin = graph_moment(mapping(resource.get("start")), all_day=all_day) or EPOCH
    finish = graph_moment(mapping(resource.get("end")), all_day=all_day) or begin
    if isinstance(finish, datetime) != isinstance(begin, datetime) or finish < begin:
        finish = begin
    show_as = str(resource.get("showAs") or "busy")
    organiser = resource.get("isOrganizer") is True
    declined = mapping(resource.get("responseStatus")).get("response") == "declined"
    others = False
    declines = 0
    for attendee in mappings(resource.get("attendees")):
        if same_address(_address(attendee), email):
            continue
        if attendee.get("type") != "resource":  # rooms and equipment are not people
            others = True
            declines += mapping(attendee.get("status")).get("response") == "declined"
    organizer_address = _address(mapping(resource.get("organizer")))
    if not organiser and organizer_address and not same_address(organizer_address, email):
        others = True
    hold = hold_tags(resource)
    kind = classify(
        all_day=all_day,
        out_of_office=show_as == "oof",
        working_location=show_as == "workingElsewhere",
        ours=hold is not None,
        other_participants=others,
    )
    change_key = resource.get("changeKey")
    return MirrorEvent(
        id=str(resource["id"]),
        start=begin,
        end=finish,
        kind=kind,
        busy=show_as not in ("free", "workingElsewhere"),
        declined=declined,
        cancelled=resource.get("isCancelled") is True,
        start_zone=iana_zone(str(resource.get("originalStartTimeZone") or "")),
        hold_id=hold[0] if hold else None,
        hold_kind=hold[1] if hold else None,
        etag=str(change_key) if change_key else None,
        declines=declines if hold is not None else 0,
    )


def removed(event_id: str) -> MirrorEvent:
    """A delta's ``@removed`` item: cancelled, with no times (the mirror drops it)."""
    return MirrorEvent(
        id=event_id, start=EPOCH, end=EPOCH, kind=classify(all_day=False), cancelled=True
    )


BUSY_STATUSES = frozenset({"busy", "tentative", "oof", "unknown"})


def busy_intervals(
    schedule: Mapping[str, Any], start: datetime, end: datetime
) -> list[tuple[datetime, datetime]] | None:
    """The busy time of one ``scheduleInformation`` in ``[start, end)``, as the port
    promises it and Google's freeBusy gives it: sorted, disjoint UTC intervals cut to the
    period (Graph lists each item with its event's own times, an all-day one from midnight
    to midnight); None when the schedule has an error. Busy are the statuses DESIGN counts
    as busy time (``busy``, ``tentative``, ``oof``, and ``unknown`` to be safe); ``free``
    (transparent) and ``workingElsewhere`` (a working location) are not."""
    if schedule.get("error"):
        return None
    spans: list[tuple[int, int]] = []
    for item in mappings(schedule.get("scheduleItems")):
        if str(item.get("status") or "").lower() not in BUSY_STATUSES:
            continue
        begin = graph_moment(mapping(item.get("start")), all_day=False)
        finish = graph_moment(mapping(item.get("end")), all_day=False)
        if isinstance(begin, datetime) and isinstance(finish, datetime):
            spans.append((int(begin.timestamp()), int(finish.timestamp())))
    period = clip(union(spans), int(start.timestamp()), int(end.timestamp()))
    return [(datetime.fromtimestamp(s, UTC), datetime.fromtimestamp(e, UTC)) for s, e in period]


# -- hold -> Graph event (pure) --------------------------------------------------------------


def graph_time(moment: datetime) -> dict[str, str]:
    """An aware date-time as Graph takes it: local wall time and a Windows zone name."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a hold's start and end must be timezone-aware")
    windows = windows_zone(str(getattr(moment.tzinfo, "key", "") or ""))
    if windows is None:
        return {
            "dateTime": moment.astimezone(UTC).replace(tzinfo=None).isoformat(),
            "timeZone": "UTC",
        }
    return {"dateTime": moment.replace(tzinfo=None).isoformat(), "timeZone": windows}


def tag_properties_of(shared: bool) -> tuple[str, str]:
    """The ids of the hold-id and tags properties: PS_PUBLIC_STRINGS for a shared hold
    (they travel to the attendees' copies), our private set for a personal one."""
    if shared:
        return SHARED_HOLD_ID_PROPERTY, SHARED_TAGS_PROPERTY
    return HOLD_ID_PROPERTY, TAGS_PROPERTY


def _shared_kind(kind: str) -> bool:
    return kind in HoldKind._value2member_map_ and HoldKind(kind) in SHARED_KINDS


def tag_properties(hold: Hold) -> list[dict[str, str]]:
    scope = "private" if hold.kind in PERSONAL_KINDS else "shared"
    hold_property, tags_property = tag_properties_of(hold.shared)
    return [
        {"id": hold_property, "value": hold.id},
        {"id": tags_property, "value": f"{hold.kind.value};{hold.generation};{scope}"},
    ]


def known_properties(hold_id: str, kind: str) -> dict[str, Any]:
    """The extended properties of one of our events whose tags are known already (what
    `hold_tags` reads: the hold id and the kind, in the set a hold of that kind uses)."""
    hold_property, tags_property = tag_properties_of(_shared_kind(kind))
    return {
        "singleValueExtendedProperties": [
            {"id": hold_property, "value": hold_id},
            {"id": tags_property, "value": f"{kind};"},
        ]
    }


def _attendees(guests: Sequence[str]) -> list[dict[str, Any]]:
    return [{"emailAddress": {"address": a}, "type": "required"} for a in guests]


def create_body(hold: Hold, description: str, guests: Sequence[str] = ()) -> dict[str, Any]:
    """The event to create for ``hold`` (idempotent through its ``transactionId``)."""
    body: dict[str, Any] = {
        "subject": HOLD_TITLES[hold.kind],
        "body": {"contentType": "text", "content": description},
        "start": graph_time(hold.start),
        "end": graph_time(hold.end),
        "showAs": "busy" if hold.busy else "free",
        "isReminderOn": False,
        "transactionId": TRANSACTION_PREFIX + hold.id,
        "singleValueExtendedProperties": tag_properties(hold),
    }
    if hold.shared:
        body["attendees"] = _attendees(guests)
        body["allowNewTimeProposals"] = False
    return body


def patch_body(
    hold: Hold, *, attendees: bool = False, guests: Sequence[str] = ()
) -> dict[str, Any]:
    """Time and busy/free; the guest list only when ``attendees`` (a member left)."""
    body: dict[str, Any] = {
        "start": graph_time(hold.start),
        "end": graph_time(hold.end),
        "showAs": "busy" if hold.busy else "free",
    }
    if attendees and hold.shared:
        body["attendees"] = _attendees(guests)
    return body


# -- sync tokens ----------------------------------------------------------------------------


def token_parts(token: str) -> tuple[str, datetime | None, str]:
    """A sync token's view end, when its link came (None in an older token) and the link."""
    view_end, _, rest = token.partition("|")
    issued, found, link = rest.partition("|")
    if not found or issued.startswith(("http", "users/")):
        return view_end, None, rest
    try:
        return view_end, datetime.fromisoformat(issued), link
    except ValueError:
        return view_end, None, link
