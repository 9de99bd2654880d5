"""What reading an .ics file finds: its events and warnings (`ParsedCalendar`, `IcsWarning`),
its zone (`CalendarZone`), the error for a file that is not a calendar, and the malformed
properties of a component."""

from __future__ import annotations

from dataclasses import dataclass

import icalendar

from micromoments.domain.calendar import CalendarEvent
from micromoments.domain.errors import DomainError


class CalendarFileError(DomainError):
    """The data is not a readable iCalendar file. The message is one line."""


@dataclass(frozen=True)
class IcsWarning:
    """One event (by UID) or the calendar itself (empty UID) was partly or wholly skipped."""

    uid: str
    message: str


@dataclass(frozen=True)
class ParsedCalendar:
    """The occurrences of a calendar inside a window, what was skipped, and its time zone.

    ``timezone`` is the IANA name of the calendar's zone (`CalendarZone`); ``None`` when
    the file does not say. ``zone`` says where it came from.
    """

    events: list[CalendarEvent]
    warnings: list[IcsWarning]
    timezone: str | None
    zone: CalendarZone | None = None


@dataclass(frozen=True)
class CalendarZone:
    """The zone a calendar is in, and how we know: ``source`` is ``X-WR-TIMEZONE`` (the
    calendar says so), ``TZID`` (the zone most of its events are written in) or
    ``VTIMEZONE`` (the only zone it defines); ``written`` is the name as the file has it
    (an IANA, Windows or Outlook display name)."""

    name: str
    source: str
    written: str


def broken_properties(component: icalendar.Component) -> list[str]:
    """The malformed properties of a component and its parts, by name."""
    names: list[str] = []
    for part in component.walk():
        names += [str(name or "a line") for name, _ in part.errors]
    return list(dict.fromkeys(names))
