"""The org's calendars on the Graph server (`local.graph_api`): Graph event resources
read as `SeenEvent`.

Our holds are recognised by their single-value extended properties: a personal hold by
our private property set (`PROPERTY_SET`, on the organiser's event only); a shared one
(coffee, watercooler) by its tags in PS_PUBLIC_STRINGS, which travel with the meeting to
each attendee's own copy (its own event id, ``isOrganizer`` false), or, on the organiser's
event, by the private set as the gateway wrote shared holds before it used the public one
(the shared-holds contract of issue 19). Copies are matched to their event by the hold id
in those tags. A person answers an invitation on their copy (`GraphServer.respond`, when
the server delivers copies).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from micromoments.adapters.graph_calendar.events import (
    HOLD_ID_PROPERTY,
    SHARED_HOLD_ID_PROPERTY,
    SHARED_TAGS_PROPERTY,
    TAGS_PROPERTY,
    graph_moment,
    iana_zone,
    mapping,
    mappings,
)
from micromoments.local.demo.calendars import SHARED_KINDS, SeenEvent, Tally

if TYPE_CHECKING:
    from micromoments.local.graph_api import GraphServer
    from micromoments.local.synthetic import SyntheticOrg

# Our tags as the mailboxes hold them: shared holds' in PS_PUBLIC_STRINGS (copied to the
# guests' copies), personal holds' in our private property set.
SHARED_HOLD_ID = SHARED_HOLD_ID_PROPERTY.lower()
SHARED_TAGS = SHARED_TAGS_PROPERTY.lower()
PRIVATE_HOLD_ID = HOLD_ID_PROPERTY.lower()
PRIVATE_TAGS = TAGS_PROPERTY.lower()


class GraphCalendars:
    """`OrgCalendars` on the Graph server: each mailbox's own events, attendee copies
    among them."""

    provider = "microsoft"
    server_name = "Graph API"
    requests_name = "Graph requests"

    def __init__(self, server: GraphServer) -> None:
        self.server = server

    @property
    def url(self) -> str:
        return self.server.base_url

    def seed_org(self, org: SyntheticOrg) -> None:
        self.server.seed_org(org)

    def live_events(self, email: str) -> list[SeenEvent]:
        return [
            seen(resource, email)
            for resource in self.server.events(email)
            if resource.get("isCancelled") is not True
        ]

    def delete_hold(self, email: str, hold_id: str) -> bool:
        """The person deletes the hold's event in Outlook (a delta shows it removed)."""
        for event in self.live_events(email):
            if event.organised_here and event.hold_id == hold_id:
                self.server.remove(email, event.event_id)
                return True
        return False

    def respond(self, guest: str, event: SeenEvent, response: str) -> bool:
        """On ``guest``'s copy of the event (none: False)."""
        if guest.lower() not in self.server.mailboxes:
            return False
        copy = next(
            (
                e
                for e in self.live_events(guest)
                if not e.organised_here and e.hold_id is not None and e.hold_id == event.hold_id
            ),
            None,
        )
        if copy is None:
            return False
        self.server.respond(guest, copy.event_id, response)
        return True

    def tally(self) -> Tally:
        counters = self.server.counters
        return Tally(len(self.server.write_log), counters.requests, counters.oauth_round_trips)


def seen(resource: Mapping[str, Any], email: str) -> SeenEvent:
    from micromoments.domain.calendar import same_address

    properties = {
        str(p.get("id") or "").lower(): str(p.get("value") or "")
        for p in mappings(resource.get("singleValueExtendedProperties"))
    }
    here = resource.get("isOrganizer") is True
    # the private set is believed on the organiser's own event only
    private_id = (properties.get(PRIVATE_HOLD_ID) or None) if here else None
    shared_id = properties.get(SHARED_HOLD_ID) or None
    kind = _kind(properties.get(SHARED_TAGS)) if shared_id else None
    if kind is None and private_id:
        kind = _kind(properties.get(PRIVATE_TAGS))
    attendees = mappings(resource.get("attendees"))
    addresses = tuple(str(mapping(a.get("emailAddress")).get("address") or "") for a in attendees)
    responses = tuple(_response(mapping(a.get("status"))) for a in attendees)
    organiser = str(
        mapping(mapping(resource.get("organizer")).get("emailAddress")).get("address") or email
    )
    own = _response(mapping(resource.get("responseStatus")))
    declined = own == "declined" or any(
        same_address(a, email) and r == "declined"
        for a, r in zip(addresses, responses, strict=True)
    )
    start, end = _times(resource)
    return SeenEvent(
        event_id=str(resource["id"]),
        start=start,
        end=end,
        organiser=organiser,
        organised_here=here,
        ours=here and bool(private_id or shared_id),
        hold_id=shared_id or private_id,
        shared_kind=kind,
        attendees=addresses,
        responses=responses,
        declined_here=declined,
    )


def _kind(tags: str | None) -> str | None:
    kind = (tags or "").partition(";")[0]
    return kind if kind in SHARED_KINDS else None


def _response(status: Mapping[str, Any]) -> str | None:
    response = status.get("response")
    return response if isinstance(response, str) else None


def _times(resource: Mapping[str, Any]) -> tuple[datetime | None, datetime | None]:
    """Start and end on the event's own clock (its time zone's), None when all-day."""
    if resource.get("isAllDay") is True:
        return None, None
    found: list[datetime | None] = []
    for name in ("start", "end"):
        field = mapping(resource.get(name))
        moment = graph_moment(field, all_day=False)
        zone_name = iana_zone(str(field.get("timeZone") or "UTC")) or "UTC"
        found.append(
            moment.astimezone(zoneinfo.ZoneInfo(zone_name))
            if isinstance(moment, datetime)
            else None
        )
    return found[0], found[1]
