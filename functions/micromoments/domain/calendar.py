"""Normalised calendar events: what every adapter produces and every metric reads.

An adapter (ICS file, Google Calendar mirror, synthetic organisation) turns its source into
`CalendarEvent` instances, one per occurrence, with recurrences already expanded. The kind
of an event is decided once, by the adapter, following DESIGN.md "Calendar semantics":
a meeting has at least one other participant, a solo block has none, our own holds are
recognised by their tag. Nothing here keeps titles, descriptions or addresses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from micromoments.domain.errors import UnknownTimeZone


class EventKind(StrEnum):
    """What an event is, for the purpose of the metrics."""

    MEETING = "meeting"
    SOLO = "solo"
    OUT_OF_OFFICE = "out_of_office"
    ALL_DAY = "all_day"
    WORKING_LOCATION = "working_location"
    HOLD = "hold"


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """One occurrence of an event on a person's calendar.

    Timed events carry timezone-aware ``datetime`` bounds; all-day events carry ``date``
    bounds with an exclusive end, as in iCalendar and Google. ``hold_kind`` and ``hold_id``
    are set only on our own holds (kind ``HOLD``).
    """

    uid: str
    start: datetime | date
    end: datetime | date
    kind: EventKind
    busy: bool = True
    declined: bool = False
    cancelled: bool = False
    hold_id: str | None = None
    hold_kind: str | None = None

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)

    @property
    def counts(self) -> bool:
        """An event counts only if it is not cancelled and the person has not declined it."""
        return not self.cancelled and not self.declined


def classify(
    *,
    all_day: bool,
    out_of_office: bool = False,
    working_location: bool = False,
    ours: bool = False,
    other_participants: bool = False,
) -> EventKind:
    """The kind of an event from the facts an adapter reads off it."""
    if ours:
        return EventKind.HOLD
    if working_location:
        return EventKind.WORKING_LOCATION
    if out_of_office:
        return EventKind.OUT_OF_OFFICE
    if all_day:
        return EventKind.ALL_DAY
    return EventKind.MEETING if other_participants else EventKind.SOLO


def same_address(a: str | None, b: str | None) -> bool:
    """Compare two calendar addresses case-insensitively, ignoring a ``mailto:`` prefix."""
    if not a or not b:
        return False
    return normalise_address(a) == normalise_address(b)


def normalise_address(address: str) -> str:
    value = address.strip()
    if value[:7].lower() == "mailto:":
        value = value[7:]
    return value.strip().lower()


def zone(name: str) -> ZoneInfo:
    """The IANA zone of that name, or `UnknownTimeZone`."""
    try:
        if not name or name != name.strip() or ".." in name or name.startswith("/"):
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise UnknownTimeZone(f"unknown time zone {name!r}") from exc
