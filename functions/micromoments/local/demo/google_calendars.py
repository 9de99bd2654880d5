"""The org's calendars on the Calendar API server (`local.calendar_api`): Google event
resources read as `SeenEvent` (our private or shared tags, kinds, times and addresses).
The raw-resource helpers are also the push measurement's (`push`, Google only)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from micromoments.local.demo.calendars import SHARED_KINDS, SeenEvent, Tally

if TYPE_CHECKING:
    from micromoments.local.calendar_api import CalendarServer
    from micromoments.local.synthetic import SyntheticOrg


class GoogleCalendars:
    """`OrgCalendars` on the Calendar API server: an attendee's copy of a shared event is
    the organiser's event (same id) on their calendar."""

    provider = "google"
    server_name = "Calendar API"
    requests_name = "Google requests"

    def __init__(self, server: CalendarServer) -> None:
        self.server = server

    @property
    def url(self) -> str:
        return self.server.root_url

    def seed_org(self, org: SyntheticOrg) -> None:
        self.server.seed_org(org)

    def live_events(self, email: str) -> list[SeenEvent]:
        return [seen(r, email) for r in self.server.events(email, include_cancelled=False)]

    def delete_hold(self, email: str, hold_id: str) -> bool:
        """Our events carry the hold's id as their own: cancelled, as a deletion shows."""
        for resource in self.server.events(email, include_cancelled=False):
            if resource.get("id") == hold_id:
                self.server.seed(email, [{**resource, "status": "cancelled"}])
                return True
        return False

    def respond(self, guest: str, event: SeenEvent, response: str) -> bool:
        self.server.respond(guest, event.event_id, response)
        return True

    def tally(self) -> Tally:
        counters = self.server.counters
        return Tally(len(self.server.write_log), counters.requests, counters.oauth_round_trips)


def seen(resource: dict[str, Any], email: str) -> SeenEvent:
    from micromoments.local.calendar_api.state import declined_by

    tags = resource.get("extendedProperties", {})
    tagged = any(
        isinstance(group, dict) and group.get("micromoments") == "1" for group in tags.values()
    )
    shared = shared_kind(resource)
    attendees = [a for a in resource.get("attendees", []) or [] if isinstance(a, dict)]
    organizer = resource.get("organizer") or {}
    here = organised_here(resource, email)
    start, end = event_times(resource) or (None, None)
    return SeenEvent(
        event_id=str(resource["id"]),
        start=start,
        end=end,
        organiser=str(organizer.get("email", email)) if isinstance(organizer, dict) else email,
        organised_here=here,
        ours=here and tagged,
        hold_id=None if shared is None else str(resource["id"]),  # the id its tags name
        shared_kind=shared,
        attendees=tuple(str(a.get("email", "")) for a in attendees),
        responses=tuple(
            s if isinstance(s := a.get("responseStatus"), str) else None for a in attendees
        ),
        declined_here=declined_by(resource, email),
    )


def organised_here(resource: dict[str, Any], email: str) -> bool:
    from micromoments.domain.calendar import same_address

    organiser = resource.get("organizer")
    address = organiser.get("email") if isinstance(organiser, dict) else None
    return not isinstance(address, str) or same_address(address, email)


def shared_kind(resource: dict[str, Any]) -> str | None:
    """``coffee`` or ``watercooler`` for a live shared event of ours (by its shared tags,
    believed only on an event whose id they name), else None."""
    if resource.get("status") == "cancelled":
        return None
    properties = resource.get("extendedProperties")
    shared = properties.get("shared") if isinstance(properties, dict) else None
    if not isinstance(shared, dict) or shared.get("micromoments") != "1":
        return None
    if shared.get("mm_hold_id") != resource.get("id"):
        return None
    kind = shared.get("mm_kind")
    return kind if kind in SHARED_KINDS else None


def event_times(resource: dict[str, Any]) -> tuple[datetime, datetime] | None:
    try:
        start = datetime.fromisoformat(resource["start"]["dateTime"])
        end = datetime.fromisoformat(resource["end"]["dateTime"])
    except (KeyError, TypeError, ValueError):
        return None
    return start, end
