"""What the two readers of recurring events share: the ICS adapter (`adapters.ics`, .ics
files) and the mirror expansion (`adapters.mirror_expansion`, Google's events), both built
on icalendar and recurring-ical-events.

The occurrence uid scheme, the order of expanded events, the window check, one-line error
texts and untyped property access.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import icalendar

from micromoments.domain.calendar import CalendarEvent

__all__ = ["check_window", "iso", "occurrence_uid", "one_line", "prop", "sort_key"]


def one_line(exc: BaseException) -> str:
    """An error's text on one printable line of at most 120 characters."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= 120 else text[:117] + "..."


def check_window(start: datetime, end: datetime) -> None:
    """Refuse an expansion window that is naive or empty."""
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("start must be timezone-aware")
    if end.tzinfo is None or end.utcoffset() is None:
        raise ValueError("end must be timezone-aware")
    if end <= start:
        raise ValueError("end must be after start")


def prop(component: icalendar.Component, name: str) -> Any:
    """A property's value, untyped: icalendar's union of value types is too wide to narrow."""
    return component.get(name)


def iso(value: date | datetime) -> str:
    """An instant in UTC, or a date, as ISO 8601."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value.isoformat()


def occurrence_uid(series_id: str, original_start: date | datetime) -> str:
    """The uid of one occurrence of a recurring series: ``<series id>/<original start, ISO,
    UTC>`` (a date for an all-day series)."""
    return f"{series_id}/{iso(original_start)}"


def sort_key(event: CalendarEvent) -> tuple[datetime, str]:
    """Expanded events in order of start (an all-day event at midnight UTC), then uid."""
    begin = event.start
    if not isinstance(begin, datetime):
        begin = datetime.combine(begin, time(0), UTC)
    return begin, event.uid
