"""The iCalendar adapter: .ics files in, normalised `CalendarEvent` occurrences out.

Parsing is icalendar's, recurrence expansion (RRULE, RDATE, EXDATE, RECURRENCE-ID moved or
cancelled instances) is recurring-ical-events', and Google's ``X-WR-TIMEZONE`` convention
is applied with x-wr-timezone. What this module adds is the contract of DESIGN.md
"Calendar semantics": every date-time made timezone-aware (``TZID`` by IANA name, Windows
name, Outlook display name or the file's own ``VTIMEZONE``; ``Z`` as UTC; floating times in
the calendar's zone), one event per occurrence (a start with no end is a zero-length event,
a whole day for a date), the calendar's zone (`calendar_zone`: declared, else the one its
events are written in), and the facts the metrics need (busy, cancelled, declined, kind).
A single bad event is skipped with an `IcsWarning`, and so is a malformed part the
analysis never reads (an alarm, a free/busy block, a zone we know by name); a file that is
not a calendar raises `CalendarFileError`. Titles, descriptions, locations and addresses
never leave this module.

`expand` is shared with the Google adapter, which builds an ``icalendar.Calendar`` of
VEVENTs from Google's events and lets the same code expand the recurrences.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path

import icalendar
import recurring_ical_events
import x_wr_timezone
from icalendar.prop import vBroken, vDDDLists

from micromoments.adapters.ics_events import BadEvent, Preparer, Series, property_values, to_event
from micromoments.adapters.ics_findings import (
    CalendarFileError,
    CalendarZone,
    IcsWarning,
    ParsedCalendar,
)
from micromoments.adapters.ics_parsing import decode, parse, unused_part_warnings
from micromoments.adapters.ics_zones import ZoneResolver, calendar_zone, declared_zone
from micromoments.adapters.recurrence import (
    check_window,
    iso,
    one_line,
    prop,
    sort_key,
)
from micromoments.domain.calendar import CalendarEvent, zone
from micromoments.domain.holds import (
    HOLD_DESCRIPTIONS,
    HOLD_TITLES,
    Hold,
    hold_uid,
)

__all__ = [
    "CalendarFileError",
    "CalendarZone",
    "IcsWarning",
    "ParsedCalendar",
    "calendar_zone",
    "expand",
    "load_calendar",
    "read_calendar",
    "write_holds",
]


# -- reading ---------------------------------------------------------------------------


def load_calendar(
    path: str | Path,
    *,
    me: str,
    start: datetime,
    end: datetime,
    floating_tz: tzinfo | None = None,
) -> ParsedCalendar:
    """Read an .ics file and expand its events overlapping ``[start, end)``.

    Any problem with the file as a whole is a `CalendarFileError` naming the path.
    """
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise CalendarFileError(f"{name}: cannot read the file ({reason})") from exc
    try:
        return read_calendar(data, me=me, start=start, end=end, floating_tz=floating_tz)
    except CalendarFileError as exc:
        raise CalendarFileError(f"{name}: {exc}") from exc


def read_calendar(
    data: bytes | str,
    *,
    me: str,
    start: datetime,
    end: datetime,
    floating_tz: tzinfo | None = None,
) -> ParsedCalendar:
    """Parse iCalendar data and expand its events overlapping ``[start, end)``.

    ``me`` is the calendar owner's address: it decides declined invitations and whether an
    event has other participants. Floating times (no ``TZID``, no ``Z``) are read in the
    calendar's ``X-WR-TIMEZONE`` if it has one, else in ``floating_tz``, else in the zone
    its events are written in (`calendar_zone`), else in UTC.
    """
    check_window(start, end)
    calendar = parse(decode(data))
    found = calendar_zone(calendar)
    events, problems = expand(calendar, me=me, start=start, end=end, floating_tz=floating_tz)
    return ParsedCalendar(
        events=events,
        warnings=[*unused_part_warnings(calendar), *problems],
        timezone=found.name if found else None,
        zone=found,
    )


# -- expansion -------------------------------------------------------------------------


def expand(
    calendar: icalendar.Calendar,
    *,
    me: str,
    start: datetime,
    end: datetime,
    floating_tz: tzinfo | None = None,
) -> tuple[list[CalendarEvent], list[IcsWarning]]:
    """Every occurrence of the calendar's VEVENTs overlapping ``[start, end)``.

    Moved and cancelled instances (``RECURRENCE-ID``, ``EXDATE``) win over the rule. An
    event that cannot be analysed is left out with an `IcsWarning`; the calendar passed in
    is not changed. Occurrences are sorted by start, then uid.
    """
    check_window(start, end)
    if str(calendar.get("CALSCALE", "GREGORIAN")).strip().upper() != "GREGORIAN":
        raise CalendarFileError("only Gregorian calendars are supported")
    problems: list[IcsWarning] = []
    declared = str(calendar.get("X-WR-TIMEZONE") or "").strip()
    found = declared_zone(calendar)
    own_zone = found[1] if found else None
    if declared and own_zone is None:
        problems.append(IcsWarning("", f"unknown X-WR-TIMEZONE {declared!r} ignored"))
    # Floating times are the calendar's local times: its declared zone, the one asked for,
    # else the zone its events are written in.
    floating = own_zone or floating_tz
    if floating is None:
        inferred = calendar_zone(calendar)
        floating = zone(inferred.name) if inferred else UTC
    prepare = Preparer(ZoneResolver(calendar), floating)

    good: list[Series] = []
    for one in _collect(calendar, prepare):
        if one.problem is not None:
            problems.append(IcsWarning(one.uid, f"skipped: {one.problem}"))
            continue
        problems.extend(IcsWarning(one.uid, note) for note in one.notes or ())
        if one.masters or one.exceptions:
            good.append(one)

    window_end = end.astimezone(start.tzinfo)
    try:
        occurrences = _between(good, own_zone, start, window_end)
    except Exception:  # a series the library cannot expand: find it and keep the others
        occurrences = []
        for one in good:
            try:
                occurrences.extend(_between([one], own_zone, start, window_end))
            except Exception as exc:
                problems.append(IcsWarning(one.uid, f"skipped: cannot expand it ({one_line(exc)})"))

    events: list[CalendarEvent] = []
    for one, component in occurrences:
        try:
            events.append(to_event(one, component, me))
        except Exception as exc:  # one odd occurrence never stops the analysis
            problems.append(IcsWarning(one.uid, f"one occurrence skipped ({one_line(exc)})"))
    events.sort(key=sort_key)
    return events, problems


def _collect(calendar: icalendar.Calendar, prepare: Preparer) -> list[Series]:
    """Group the VEVENTs by UID, each one prepared or marked with its problem."""
    series: dict[str, Series] = {}
    for index, found in enumerate(calendar.walk("VEVENT")):
        uid = str(prop(found, "UID") or "").strip()
        component = found
        if not uid:  # RFC 5545 requires one; hand-written files forget it
            uid = f"no-uid-{index}"
            component = found.copy()
            component["UID"] = uid
        one = series.get(uid)
        if one is None:
            one = series[uid] = Series(uid=uid, masters=[], exceptions=[])
        is_exception = prop(component, "RECURRENCE-ID") is not None
        if is_exception or "RRULE" in component or "RDATE" in component:
            one.recurring = True
        try:
            prepared = prepare(component)
        except BadEvent as exc:
            if is_exception:
                _skip_instance(one, component, str(exc), prepare)
            elif one.problem is None:
                one.problem = str(exc)
            continue
        (one.exceptions if is_exception else one.masters).append(prepared)
    for one in series.values():
        if one.excluded and one.masters:
            # The rule must not bring back the slot of a moved instance we skipped.
            master = one.masters[0].copy()
            master["EXDATE"] = [*property_values(prop(master, "EXDATE")), vDDDLists(one.excluded)]
            one.masters[0] = master
    return list(series.values())


def _skip_instance(
    one: Series, component: icalendar.Component, problem: str, prepare: Preparer
) -> None:
    """A moved instance that cannot be analysed is skipped, and its slot with it."""
    value = prop(component, "RECURRENCE-ID")
    when = ""
    with_slot = False
    if not isinstance(value, vBroken | list) and isinstance(value.dt, date):
        try:
            original = prepare.aware(value.dt, value.params.get("TZID"))
        except BadEvent:
            pass
        else:
            one.excluded = [*(one.excluded or []), original]
            when = f" (originally at {iso(original)})"
            with_slot = True
    note = f"one occurrence{when} skipped: {problem}"
    if not with_slot:
        note += " (its original slot may still be shown)"
    one.notes = [*(one.notes or []), note]


def _between(
    series: Iterable[Series], own_zone: tzinfo | None, start: datetime, end: datetime
) -> list[tuple[Series, icalendar.Component]]:
    by_uid: dict[str, Series] = {}
    calendar = icalendar.Calendar()
    for one in series:
        by_uid[one.uid] = one
        for component in (*one.masters, *one.exceptions):
            calendar.add_component(component)
    if own_zone is not None:
        # Google writes UTC times but means the calendar's zone: a weekly 09:00 stays 09:00
        # local across a DST change.
        calendar = x_wr_timezone.to_standard(calendar, timezone=own_zone)
    query = recurring_ical_events.of(calendar)
    return [(by_uid[str(component["UID"])], component) for component in query.between(start, end)]


# -- writing holds ---------------------------------------------------------------------

PRODID = "-//micromoments//EN"


def write_holds(holds: Sequence[Hold], *, person: str) -> bytes:
    """An .ics file of ``person``'s holds, ready to import into their calendar.

    The output depends only on the holds (``DTSTAMP`` is each hold's start), so the same
    holds give the same bytes. The person's address is not written into the file.
    """
    if not person.strip():
        raise ValueError("person must not be empty")
    calendar = icalendar.Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")
    calendar.add("METHOD", "PUBLISH")
    for hold in sorted(holds, key=lambda h: (h.start, h.id)):
        if hold.start.tzinfo is None or hold.end.tzinfo is None:
            raise ValueError(f"hold {hold.id} has a naive start or end")
        begin = hold.start.astimezone(UTC)
        event = icalendar.Event()
        event.add("UID", hold_uid(hold.id, hold.kind))
        event.add("DTSTAMP", begin)
        event.add("DTSTART", begin)
        event.add("DTEND", hold.end.astimezone(UTC))
        event.add("SUMMARY", HOLD_TITLES[hold.kind])
        event.add(
            "DESCRIPTION",
            f"{HOLD_DESCRIPTIONS[hold.kind]} "
            "Placed by micromoments; move or delete it as you like.",
        )
        event.add("TRANSP", "OPAQUE" if hold.busy else "TRANSPARENT")
        event.add("X-MICROSOFT-CDO-BUSYSTATUS", "BUSY" if hold.busy else "FREE")
        event.add("X-MICROMOMENTS-HOLD-ID", hold.id)
        event.add("X-MICROMOMENTS-KIND", hold.kind.value)
        calendar.add_component(event)
    data: bytes = calendar.to_ical()
    return data
