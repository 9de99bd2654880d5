"""What the Calendar server holds after the runs: our events, shared events and their
copies on the attendees' calendars (by tags, kinds and times, never titles)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from micromoments.domain.holds import HoldKind

if TYPE_CHECKING:
    from micromoments.local.calendar_api import CalendarServer

SHARED_KINDS = (HoldKind.COFFEE.value, HoldKind.WATERCOOLER.value)


def organised_here(resource: dict[str, Any], email: str) -> bool:
    from micromoments.domain.calendar import same_address

    organiser = resource.get("organizer")
    address = organiser.get("email") if isinstance(organiser, dict) else None
    return not isinstance(address, str) or same_address(address, email)


def holds_on_calendar(server: CalendarServer, email: str, after: datetime | None = None) -> int:
    """Our events on this calendar that it organises (a shared event's copies on its
    attendees' calendars are not holds of theirs); with ``after``, those ending later."""
    count = 0
    for event in server.events(email, include_cancelled=False):
        if after is not None and (times := event_times(event)) is not None and times[1] <= after:
            continue
        tags = event.get("extendedProperties", {})
        if organised_here(event, email) and any(
            isinstance(group, dict) and group.get("micromoments") == "1" for group in tags.values()
        ):
            count += 1
    return count


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


def attendee_addresses(resource: dict[str, Any], organiser: str) -> list[str]:
    from micromoments.domain.calendar import same_address

    return [
        str(a["email"]).strip().lower()
        for a in resource.get("attendees") or ()
        if isinstance(a, dict) and a.get("email") and not same_address(str(a["email"]), organiser)
    ]


def shared_copies(server: CalendarServer, email: str) -> list[tuple[str, datetime, datetime]]:
    """The shared events on this calendar that someone else organises (live, not declined):
    kind, start and end."""
    from micromoments.local.calendar_api.state import declined_by

    copies: list[tuple[str, datetime, datetime]] = []
    for resource in server.events(email, include_cancelled=False):
        kind = shared_kind(resource)
        times = event_times(resource)
        if kind is None or times is None or organised_here(resource, email):
            continue
        if not declined_by(resource, email):
            copies.append((kind, *times))
    return copies
