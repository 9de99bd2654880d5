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

import codecs
import re
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

import icalendar
import recurring_ical_events
import x_wr_timezone
from icalendar.cal.alarm import Alarm
from icalendar.cal.availability import Availability
from icalendar.cal.available import Available
from icalendar.cal.component_factory import ComponentFactory
from icalendar.cal.free_busy import FreeBusy
from icalendar.cal.journal import Journal
from icalendar.cal.timezone import Timezone, TimezoneDaylight, TimezoneStandard
from icalendar.cal.todo import Todo
from icalendar.prop import vBroken, vDDDLists, vDDDTypes
from icalendar.timezone import tzp
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from micromoments.adapters.recurrence import (
    check_window,
    iso,
    occurrence_uid,
    one_line,
    prop,
    sort_key,
)
from micromoments.adapters.windows_zone_names import iana_zone_for_display_name
from micromoments.domain.calendar import CalendarEvent, classify, same_address, zone
from micromoments.domain.errors import DomainError, UnknownTimeZone
from micromoments.domain.holds import (
    HOLD_DESCRIPTIONS,
    HOLD_TITLES,
    Hold,
    HoldKind,
    hold_uid,
    parse_hold_uid,
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


# -- reading ---------------------------------------------------------------------------

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_BEGIN_VCALENDAR = re.compile(r"^BEGIN:VCALENDAR\s*$", re.IGNORECASE | re.MULTILINE)


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
    calendar = _parse(_decode(data))
    found = calendar_zone(calendar)
    events, problems = expand(calendar, me=me, start=start, end=end, floating_tz=floating_tz)
    return ParsedCalendar(
        events=events,
        warnings=[*_unused_part_warnings(calendar), *problems],
        timezone=found.name if found else None,
        zone=found,
    )


def _decode(data: bytes | str) -> str:
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
# vBroken and noted in ``errors``), a fault there is a warning (`_unused_part_warnings`).
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


def _parse(text: str) -> icalendar.Calendar:
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


def _broken(component: icalendar.Component) -> list[str]:
    """The malformed properties of a component and its parts, by name."""
    names: list[str] = []
    for part in component.walk():
        names += [str(name or "a line") for name, _ in part.errors]
    return list(dict.fromkeys(names))


def _unused_part_warnings(calendar: icalendar.Calendar) -> list[IcsWarning]:
    """A warning for each malformed part the analysis does not use (an alarm, a to-do, a
    free/busy block, a time zone definition), which was read past."""
    found: list[IcsWarning] = []
    for event in calendar.walk("VEVENT"):
        for part in event.subcomponents:
            if bad := _broken(part):
                uid = str(prop(event, "UID") or "").strip()
                found.append(
                    IcsWarning(uid, f"its {part.name} has a malformed {', '.join(bad)}: ignored")
                )
    for part in calendar.subcomponents:
        if part.name == "VEVENT" or not (bad := _broken(part)):
            continue
        what = f"a {part.name}"
        if part.name == "VTIMEZONE":
            tzid = str(part.get("TZID", "")).strip()
            what = f"the VTIMEZONE {tzid!r}"
            if _iana(tzid) is not None:
                note = "the zone of that name is used"
            else:
                note = "events in that zone are skipped"
        else:
            note = "ignored (the analysis does not use it)"
        found.append(IcsWarning("", f"{what} has a malformed {', '.join(bad)}: {note}"))
    return found


# -- time zones ------------------------------------------------------------------------


def _iana(name: str) -> tuple[str, tzinfo] | None:
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


def _declared_zone(calendar: icalendar.Calendar) -> tuple[str, tzinfo] | None:
    """The calendar-wide zone (``X-WR-TIMEZONE``), the one that changes how times are read."""
    declared = str(calendar.get("X-WR-TIMEZONE") or "").strip()
    return _iana(declared) if declared else None


def calendar_zone(calendar: icalendar.Calendar) -> CalendarZone | None:
    """The zone the calendar is in: its ``X-WR-TIMEZONE`` (when it names a zone we know);
    else the zone most of its events' start and end times are written in (a ``TZID``
    naming an IANA, Windows or Outlook display zone; the first written on a tie); else the
    zone of its only ``VTIMEZONE``."""
    declared = str(calendar.get("X-WR-TIMEZONE") or "").strip()
    found = _iana(declared) if declared else None
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
        found = _iana(tzid)
        if found is not None:
            return CalendarZone(found[0], "TZID", tzid)
    timezones = calendar.walk("VTIMEZONE")
    if len(timezones) == 1:
        tzid = str(timezones[0].get("TZID", "")).strip()
        found = _iana(tzid)
        if found is not None:
            return CalendarZone(found[0], "VTIMEZONE", tzid)
    return None


class _ZoneResolver:
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
        found = _iana(tzid)
        if found is not None:
            return found[1]
        block = self._blocks.get(tzid.strip())
        if block is not None and not _broken(block):
            try:
                built: tzinfo = tzp.create_timezone(block)
            except Exception:  # a broken VTIMEZONE: the events using it are reported
                return None
            return built
        if tzid.startswith("/"):
            # A "globally unique" TZID such as /freeassociation.sourceforge.net/Europe/Berlin.
            parts = tzid.strip("/").split("/")
            for first in range(1, len(parts)):
                found = _iana("/".join(parts[first:]))
                if found is not None:
                    return found[1]
        return None


# -- preparing one VEVENT --------------------------------------------------------------


class _BadEvent(Exception):
    """Why one VEVENT cannot be analysed."""


_TIME_PROPERTIES = ("DTSTART", "DTEND", "RECURRENCE-ID")
_LIST_PROPERTIES = ("EXDATE", "RDATE")
_CHECKED_PROPERTIES = (*_TIME_PROPERTIES, *_LIST_PROPERTIES, "DURATION", "RRULE")
_SINGLE_PROPERTIES = (*_TIME_PROPERTIES, "DURATION")  # at most once in an event
_TOO_FREQUENT = frozenset({"SECONDLY", "MINUTELY"})


def _values(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _per_day(rule: Any) -> int:
    """How many occurrences an RRULE can make in one day, from its time lists."""
    hourly = any(str(f).upper() == "HOURLY" for f in rule.get("FREQ", []))
    hours = len(set(rule.get("BYHOUR", []))) or (24 if hourly else 1)
    minutes = len(set(rule.get("BYMINUTE", []))) or 1
    return hours * minutes * (len(set(rule.get("BYSECOND", []))) or 1)


class _Preparer:
    """Makes a copy of a VEVENT whose date-times are all timezone-aware, or says why not."""

    def __init__(self, resolve: Callable[[str], tzinfo | None], floating: tzinfo) -> None:
        self._resolve = resolve
        self._floating = floating

    def __call__(self, component: icalendar.Component) -> icalendar.Component:
        for name in _CHECKED_PROPERTIES:
            if any(isinstance(v, vBroken) for v in _values(prop(component, name))):
                raise _BadEvent(f"unreadable {name}")
        for name in _SINGLE_PROPERTIES:
            if isinstance(prop(component, name), list):
                raise _BadEvent(f"more than one {name}")
        for name in _TIME_PROPERTIES:
            if not isinstance(getattr(prop(component, name), "dt", date.min), date):
                raise _BadEvent(f"unreadable {name}")  # a period or a duration, not a time
        if prop(component, "DTSTART") is None:
            raise _BadEvent("an event with no start (no DTSTART)")
        duration = prop(component, "DURATION")
        if duration is not None and not isinstance(duration.dt, timedelta):
            raise _BadEvent("unreadable DURATION")
        for rule in _values(prop(component, "RRULE")):
            if any(str(f).upper() in _TOO_FREQUENT for f in rule.get("FREQ", [])):
                raise _BadEvent("it recurs more often than hourly")
            if any(not isinstance(n, int) or n < 1 for n in rule.get("INTERVAL", [])):
                raise _BadEvent("its RRULE has an INTERVAL below 1")  # (0 repeats one instant)
            if _per_day(rule) > 24:  # BYMINUTE/BYSECOND lists make a minutely rule hourly
                raise _BadEvent("it recurs more often than hourly")
        prepared = component.copy()
        for name in _TIME_PROPERTIES:
            value = prop(component, name)
            if value is not None:
                prepared[name] = vDDDTypes(self.aware(value.dt, value.params.get("TZID")))
        for name in _LIST_PROPERTIES:
            if name in component:
                prepared[name] = [self._aware_list(v) for v in _values(prop(component, name))]
        self._check_span(prepared)
        return prepared

    def _aware_list(self, value: vDDDLists) -> vDDDLists:
        tzid = value.params.get("TZID")
        dts: list[Any] = []
        for item in value.dts:
            dt = item.dt
            item_tzid = item.params.get("TZID", tzid)
            if isinstance(dt, tuple):  # an RDATE period: (start, end or duration)
                dts.append(tuple(self.aware(part, item_tzid) for part in dt))
            else:
                dts.append(self.aware(dt, item_tzid))
        return vDDDLists(dts)

    def aware(self, value: Any, tzid: str | None) -> Any:
        if not isinstance(value, datetime):
            return value  # a date or a duration
        if tzid:
            zone_info = self._resolve(str(tzid))
            if zone_info is None:
                raise _BadEvent(f"unknown time zone {str(tzid)!r}")
            value = value.replace(tzinfo=zone_info)
        elif value.tzinfo is None:
            value = value.replace(tzinfo=self._floating)
        try:
            value.astimezone(UTC)
        except OverflowError:  # e.g. 0001-01-01 00:00 in a zone east of UTC
            raise _BadEvent(f"a time outside the calendar ({value.isoformat()})") from None
        return value

    @staticmethod
    def _check_span(event: icalendar.Component) -> None:
        begin = prop(event, "DTSTART").dt
        if "DTEND" in event:
            finish = prop(event, "DTEND").dt
            if isinstance(begin, datetime) != isinstance(finish, datetime):
                raise _BadEvent("DTSTART and DTEND mix a date and a date-time")
            if finish < begin:
                raise _BadEvent("it ends before it starts (DTEND before DTSTART)")
        elif "DURATION" in event and prop(event, "DURATION").dt < timedelta(0):
            raise _BadEvent("it ends before it starts (negative DURATION)")
        # No end and no duration: a date-time start is a zero-length event, a date start
        # lasts that day (RFC 5545 3.6.1); the expansion gives both their end.


# -- expansion -------------------------------------------------------------------------


@dataclass
class _Series:
    """The VEVENTs sharing one UID: the rule (or single event) and its moved instances."""

    uid: str
    masters: list[icalendar.Component]
    exceptions: list[icalendar.Component]
    recurring: bool = False
    problem: str | None = None
    notes: list[str] | None = None
    excluded: list[date | datetime] | None = None


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
    found = _declared_zone(calendar)
    own_zone = found[1] if found else None
    if declared and own_zone is None:
        problems.append(IcsWarning("", f"unknown X-WR-TIMEZONE {declared!r} ignored"))
    # Floating times are the calendar's local times: its declared zone, the one asked for,
    # else the zone its events are written in.
    floating = own_zone or floating_tz
    if floating is None:
        inferred = calendar_zone(calendar)
        floating = zone(inferred.name) if inferred else UTC
    prepare = _Preparer(_ZoneResolver(calendar), floating)

    good: list[_Series] = []
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
            events.append(_to_event(one, component, me))
        except Exception as exc:  # one odd occurrence never stops the analysis
            problems.append(IcsWarning(one.uid, f"one occurrence skipped ({one_line(exc)})"))
    events.sort(key=sort_key)
    return events, problems


def _collect(calendar: icalendar.Calendar, prepare: _Preparer) -> list[_Series]:
    """Group the VEVENTs by UID, each one prepared or marked with its problem."""
    series: dict[str, _Series] = {}
    for index, found in enumerate(calendar.walk("VEVENT")):
        uid = str(prop(found, "UID") or "").strip()
        component = found
        if not uid:  # RFC 5545 requires one; hand-written files forget it
            uid = f"no-uid-{index}"
            component = found.copy()
            component["UID"] = uid
        one = series.get(uid)
        if one is None:
            one = series[uid] = _Series(uid=uid, masters=[], exceptions=[])
        is_exception = prop(component, "RECURRENCE-ID") is not None
        if is_exception or "RRULE" in component or "RDATE" in component:
            one.recurring = True
        try:
            prepared = prepare(component)
        except _BadEvent as exc:
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
            master["EXDATE"] = [*_values(prop(master, "EXDATE")), vDDDLists(one.excluded)]
            one.masters[0] = master
    return list(series.values())


def _skip_instance(
    one: _Series, component: icalendar.Component, problem: str, prepare: _Preparer
) -> None:
    """A moved instance that cannot be analysed is skipped, and its slot with it."""
    value = prop(component, "RECURRENCE-ID")
    when = ""
    with_slot = False
    if not isinstance(value, vBroken | list) and isinstance(value.dt, date):
        try:
            original = prepare.aware(value.dt, value.params.get("TZID"))
        except _BadEvent:
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
    series: Iterable[_Series], own_zone: tzinfo | None, start: datetime, end: datetime
) -> list[tuple[_Series, icalendar.Component]]:
    by_uid: dict[str, _Series] = {}
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


_ROOMS = frozenset({"ROOM", "RESOURCE"})


def _to_event(one: _Series, component: icalendar.Component, me: str) -> CalendarEvent:
    begin: date | datetime = prop(component, "DTSTART").dt
    finish: date | datetime = prop(component, "DTEND").dt
    if (
        isinstance(begin, datetime)
        and isinstance(finish, datetime)
        and _flag(component, "X-MICROSOFT-CDO-ALLDAYEVENT")
        and begin.time() == time(0)
        and finish.time() == time(0)
        and finish > begin
    ):
        # Outlook's all-day events are sometimes written as midnight-to-midnight times.
        begin, finish = begin.date(), finish.date()
    if isinstance(begin, datetime) and isinstance(finish, datetime):
        begin, finish = begin.astimezone(UTC), finish.astimezone(UTC)
    all_day = not isinstance(begin, datetime)

    uid = one.uid
    if one.recurring:
        original = prop(component, "RECURRENCE-ID")
        uid = occurrence_uid(one.uid, original.dt if original is not None else begin)

    status = _text(component, "STATUS")
    busy_status = _text(component, "X-MICROSOFT-CDO-BUSYSTATUS")
    event_type = _text(component, "X-MICROMOMENTS-EVENT-TYPE") or _text(
        component, "X-GOOGLE-EVENT-TYPE"
    )
    out_of_office = busy_status == "OOF" or event_type == "OUTOFOFFICE"
    working_location = event_type == "WORKINGLOCATION"
    busy = out_of_office or (
        not working_location
        and _text(component, "TRANSP") != "TRANSPARENT"
        and busy_status != "FREE"
    )
    hold = _hold_identity(one.uid, component)

    others = False
    declined = False
    for attendee in _values(prop(component, "ATTENDEE")):
        if _is_me(attendee, me):
            declined = declined or _param(attendee, "PARTSTAT") == "DECLINED"
        elif str(attendee).strip() and _param(attendee, "CUTYPE") not in _ROOMS:
            others = True  # rooms and equipment are not people
    for organizer in _values(prop(component, "ORGANIZER")):
        if str(organizer).strip() and not _is_me(organizer, me):
            others = True

    kind = classify(
        all_day=all_day,
        out_of_office=out_of_office,
        working_location=working_location,
        ours=hold is not None,
        other_participants=others,
    )
    return CalendarEvent(
        uid=uid,
        start=begin,
        end=finish,
        kind=kind,
        busy=busy,
        declined=declined,
        cancelled=status == "CANCELLED",
        hold_id=hold[0] if hold else None,
        hold_kind=hold[1].value if hold else None,
    )


def _is_me(address: Any, me: str) -> bool:
    """Apple writes ``urn:uuid:`` addresses with the mail address in an EMAIL parameter."""
    params = getattr(address, "params", None) or {}
    return same_address(str(address), me) or same_address(str(params.get("EMAIL", "")), me)


def _hold_identity(uid: str, component: icalendar.Component) -> tuple[str, HoldKind] | None:
    """Our own hold: by its UID, or by our X- properties if a tool rewrote the UID."""
    parsed = parse_hold_uid(uid)
    if parsed is not None:
        return parsed
    hold_id = str(prop(component, "X-MICROMOMENTS-HOLD-ID") or "").strip()
    kind = str(prop(component, "X-MICROMOMENTS-KIND") or "").strip().lower()
    if hold_id and kind:
        try:
            return parse_hold_uid(hold_uid(hold_id, HoldKind(kind)))
        except ValueError:
            return None
    return None


def _text(component: icalendar.Component, name: str) -> str:
    value = prop(component, name)
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value).strip().upper() if value is not None else ""


def _flag(component: icalendar.Component, name: str) -> bool:
    return _text(component, name) == "TRUE"


def _param(value: Any, name: str) -> str:
    params = getattr(value, "params", None) or {}
    return str(params.get(name, "")).strip().upper()


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
