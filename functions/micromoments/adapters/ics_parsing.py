"""Reading .ics text: decoding the bytes, parsing tolerantly (a malformed part the analysis
never reads is a warning, not a failure), and merging several VCALENDARs."""

from __future__ import annotations

import codecs
import re
import warnings

import icalendar
from icalendar.cal.alarm import Alarm
from icalendar.cal.availability import Availability
from icalendar.cal.available import Available
from icalendar.cal.component_factory import ComponentFactory
from icalendar.cal.free_busy import FreeBusy
from icalendar.cal.journal import Journal
from icalendar.cal.timezone import Timezone, TimezoneDaylight, TimezoneStandard
from icalendar.cal.todo import Todo

from micromoments.adapters.ics_findings import CalendarFileError, IcsWarning, broken_properties
from micromoments.adapters.ics_zones import iana
from micromoments.adapters.recurrence import (
    one_line,
    prop,
)

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_BEGIN_VCALENDAR = re.compile(r"^BEGIN:VCALENDAR\s*$", re.IGNORECASE | re.MULTILINE)


def decode(data: bytes | str) -> str:
    if isinstance(data, str):
        text = data
    else:
        if not data.strip():
            raise CalendarFileError("the file is empty")
        try:
            if data.startswith(_UTF16_BOMS):
                text = data.decode("utf-16")
            else:
                text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CalendarFileError("not an iCalendar file: it is not UTF-8 text") from exc
    if not text.strip():
        raise CalendarFileError("the file is empty")
    if "\x00" in text:
        raise CalendarFileError("not an iCalendar file: it contains binary data")
    return text


# The parts of a file the analysis never reads. icalendar refuses a whole file for one
# malformed property in them; parsed like VEVENTs instead (a bad property is kept as
# vBroken and noted in ``errors``), a fault there is a warning (`unused_part_warnings`).
_UNUSED_PARTS = (
    Alarm,
    FreeBusy,
    Todo,
    Journal,
    Available,
    Availability,
    Timezone,
    TimezoneStandard,
    TimezoneDaylight,
)


def _tolerant_factory() -> ComponentFactory:
    factory = ComponentFactory()
    for part in _UNUSED_PARTS:
        factory.add_component_class(
            type(f"Tolerant{part.__name__}", (part,), {"ignore_exceptions": True})
        )
    return factory


class _TolerantCalendar(icalendar.Calendar):
    """Parses a VCALENDAR whose unused parts may carry malformed properties."""

    _components_factory = _tolerant_factory()


def parse(text: str) -> icalendar.Calendar:
    if not _BEGIN_VCALENDAR.search(text):
        raise CalendarFileError("not an iCalendar file: no BEGIN:VCALENDAR")
    try:
        with warnings.catch_warnings():
            # icalendar warns when it guesses a vendor-prefixed TZID; we resolve TZIDs ourselves.
            warnings.simplefilter("ignore")
            components = _TolerantCalendar.from_ical(text, multiple=True)
    except Exception as exc:  # icalendar raises ValueError and friends on malformed input
        raise CalendarFileError(f"malformed iCalendar data: {one_line(exc)}") from exc
    calendars = [c for c in components if isinstance(c, icalendar.Calendar)]
    if not calendars:
        raise CalendarFileError(
            "malformed iCalendar data: the VCALENDAR is never closed (is the file cut short?)"
        )
    if len(calendars) == 1:
        return calendars[0]
    # Some tools concatenate calendars into one file: read them as one.
    merged = calendars[0].copy()
    for calendar in calendars:
        for component in calendar.subcomponents:
            merged.add_component(component)
    return merged


def unused_part_warnings(calendar: icalendar.Calendar) -> list[IcsWarning]:
    """A warning for each malformed part the analysis does not use (an alarm, a to-do, a
    free/busy block, a time zone definition), which was read past."""
    found: list[IcsWarning] = []
    for event in calendar.walk("VEVENT"):
        for part in event.subcomponents:
            if bad := broken_properties(part):
                uid = str(prop(event, "UID") or "").strip()
                found.append(
                    IcsWarning(uid, f"its {part.name} has a malformed {', '.join(bad)}: ignored")
                )
    for part in calendar.subcomponents:
        if part.name == "VEVENT" or not (bad := broken_properties(part)):
            continue
        what = f"a {part.name}"
        if part.name == "VTIMEZONE":
            tzid = str(part.get("TZID", "")).strip()
            what = f"the VTIMEZONE {tzid!r}"
            if iana(tzid) is not None:
                note = "the zone of that name is used"
            else:
                note = "events in that zone are skipped"
        else:
            note = "ignored (the analysis does not use it)"
        found.append(IcsWarning("", f"{what} has a malformed {', '.join(bad)}: {note}"))
    return found
