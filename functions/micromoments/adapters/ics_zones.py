"""Time zones of an .ics file: an IANA zone by IANA, Windows or Outlook display name, the
calendar's declared or dominant zone (`calendar_zone`), and the resolver of each TZID."""

from __future__ import annotations

from collections import Counter
from datetime import tzinfo
from typing import Any

import icalendar
from icalendar.timezone import tzp
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from micromoments.adapters.ics_findings import CalendarZone, broken_properties
from micromoments.adapters.recurrence import (
    prop,
)
from micromoments.adapters.windows_zone_names import iana_zone_for_display_name
from micromoments.domain.calendar import zone
from micromoments.domain.errors import UnknownTimeZone


def iana(name: str) -> tuple[str, tzinfo] | None:
    """An IANA zone by its name, its Windows name or its Windows display name (as Outlook
    and Exchange write them)."""
    cleaned = name.strip().strip('"').strip()
    for candidate in (
        cleaned,
        WINDOWS_TO_OLSON.get(cleaned),
        iana_zone_for_display_name(cleaned),
    ):
        if candidate:
            try:
                return candidate, zone(candidate)
            except UnknownTimeZone:
                continue
    return None


def declared_zone(calendar: icalendar.Calendar) -> tuple[str, tzinfo] | None:
    """The calendar-wide zone (``X-WR-TIMEZONE``), the one that changes how times are read."""
    declared = str(calendar.get("X-WR-TIMEZONE") or "").strip()
    return iana(declared) if declared else None


def calendar_zone(calendar: icalendar.Calendar) -> CalendarZone | None:
    """The zone the calendar is in: its ``X-WR-TIMEZONE`` (when it names a zone we know);
    else the zone most of its events' start and end times are written in (a ``TZID``
    naming an IANA, Windows or Outlook display zone; the first written on a tie); else the
    zone of its only ``VTIMEZONE``."""
    declared = str(calendar.get("X-WR-TIMEZONE") or "").strip()
    found = iana(declared) if declared else None
    if found is not None:
        return CalendarZone(found[0], "X-WR-TIMEZONE", declared)
    used: Counter[str] = Counter()
    for event in calendar.walk("VEVENT"):
        for name in ("DTSTART", "DTEND"):
            value = prop(event, name)
            tzid = getattr(value, "params", {}).get("TZID") if value is not None else None
            if tzid and not isinstance(value, list):
                used[str(tzid).strip()] += 1
    for tzid, _ in used.most_common():
        found = iana(tzid)
        if found is not None:
            return CalendarZone(found[0], "TZID", tzid)
    timezones = calendar.walk("VTIMEZONE")
    if len(timezones) == 1:
        tzid = str(timezones[0].get("TZID", "")).strip()
        found = iana(tzid)
        if found is not None:
            return CalendarZone(found[0], "VTIMEZONE", tzid)
    return None


class ZoneResolver:
    """Turns a ``TZID`` into a tzinfo: IANA name, Windows name, then the file's VTIMEZONE.

    The file's own VTIMEZONE definitions are built here rather than taken from icalendar's
    process-wide cache, so two files using the same custom name do not leak into each other.
    """

    def __init__(self, calendar: icalendar.Calendar) -> None:
        self._blocks: dict[str, Any] = {}
        for block in calendar.walk("VTIMEZONE"):
            tzid = str(block.get("TZID", "")).strip()
            if tzid:
                self._blocks.setdefault(tzid, block)
        self._cache: dict[str, tzinfo | None] = {}

    def __call__(self, tzid: str) -> tzinfo | None:
        if tzid not in self._cache:
            self._cache[tzid] = self._resolve(tzid)
        return self._cache[tzid]

    def _resolve(self, tzid: str) -> tzinfo | None:
        found = iana(tzid)
        if found is not None:
            return found[1]
        block = self._blocks.get(tzid.strip())
        if block is not None and not broken_properties(block):
            try:
                built: tzinfo = tzp.create_timezone(block)
            except Exception:  # a broken VTIMEZONE: the events using it are reported
                return None
            return built
        if tzid.startswith("/"):
            # A "globally unique" TZID such as /freeassociation.sourceforge.net/Europe/Berlin.
            parts = tzid.strip("/").split("/")
            for first in range(1, len(parts)):
                found = iana("/".join(parts[first:]))
                if found is not None:
                    return found[1]
        return None
