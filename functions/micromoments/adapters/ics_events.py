"""One VEVENT of an .ics file: checking its time properties (`Preparer`), grouping a series
(`Series`), and turning an occurrence into a `CalendarEvent` (never titles, descriptions,
locations or addresses)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

import icalendar
from icalendar.prop import vBroken, vDDDLists, vDDDTypes

from micromoments.adapters.recurrence import (
    occurrence_uid,
    prop,
)
from micromoments.domain.calendar import CalendarEvent, classify, same_address
from micromoments.domain.holds import (
    HoldKind,
    hold_uid,
    parse_hold_uid,
)

# -- preparing one VEVENT --------------------------------------------------------------


class BadEvent(Exception):
    """Why one VEVENT cannot be analysed."""


_TIME_PROPERTIES = ("DTSTART", "DTEND", "RECURRENCE-ID")
_LIST_PROPERTIES = ("EXDATE", "RDATE")
_CHECKED_PROPERTIES = (*_TIME_PROPERTIES, *_LIST_PROPERTIES, "DURATION", "RRULE")
_SINGLE_PROPERTIES = (*_TIME_PROPERTIES, "DURATION")  # at most once in an event
_TOO_FREQUENT = frozenset({"SECONDLY", "MINUTELY"})


def property_values(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _per_day(rule: Any) -> int:
    """How many occurrences an RRULE can make in one day, from its time lists."""
    hourly = any(str(f).upper() == "HOURLY" for f in rule.get("FREQ", []))
    hours = len(set(rule.get("BYHOUR", []))) or (24 if hourly else 1)
    minutes = len(set(rule.get("BYMINUTE", []))) or 1
    return hours * minutes * (len(set(rule.get("BYSECOND", []))) or 1)


class Preparer:
    """Makes a copy of a VEVENT whose date-times are all timezone-aware, or says why not."""

    def __init__(self, resolve: Callable[[str], tzinfo | None], floating: tzinfo) -> None:
        self._resolve = resolve
        self._floating = floating

    def __call__(self, component: icalendar.Component) -> icalendar.Component:
        for name in _CHECKED_PROPERTIES:
            if any(isinstance(v, vBroken) for v in property_values(prop(component, name))):
                raise BadEvent(f"unreadable {name}")
        for name in _SINGLE_PROPERTIES:
            if isinstance(prop(component, name), list):
                raise BadEvent(f"more than one {name}")
        for name in _TIME_PROPERTIES:
            if not isinstance(getattr(prop(component, name), "dt", date.min), date):
                raise BadEvent(f"unreadable {name}")  # a period or a duration, not a time
        if prop(component, "DTSTART") is None:
            raise BadEvent("an event with no start (no DTSTART)")
        duration = prop(component, "DURATION")
        if duration is not None and not isinstance(duration.dt, timedelta):
            raise BadEvent("unreadable DURATION")
        for rule in property_values(prop(component, "RRULE")):
            if any(str(f).upper() in _TOO_FREQUENT for f in rule.get("FREQ", [])):
                raise BadEvent("it recurs more often than hourly")
            if any(not isinstance(n, int) or n < 1 for n in rule.get("INTERVAL", [])):
                raise BadEvent("its RRULE has an INTERVAL below 1")  # (0 repeats one instant)
            if _per_day(rule) > 24:  # BYMINUTE/BYSECOND lists make a minutely rule hourly
                raise BadEvent("it recurs more often than hourly")
        prepared = component.copy()
        for name in _TIME_PROPERTIES:
            value = prop(component, name)
            if value is not None:
                prepared[name] = vDDDTypes(self.aware(value.dt, value.params.get("TZID")))
        for name in _LIST_PROPERTIES:
            if name in component:
                prepared[name] = [
                    self._aware_list(v) for v in property_values(prop(component, name))
                ]
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
                raise BadEvent(f"unknown time zone {str(tzid)!r}")
            value = value.replace(tzinfo=zone_info)
        elif value.tzinfo is None:
            value = value.replace(tzinfo=self._floating)
        try:
            value.astimezone(UTC)
        except OverflowError:  # e.g. 0001-01-01 00:00 in a zone east of UTC
            raise BadEvent(f"a time outside the calendar ({value.isoformat()})") from None
        return value

    @staticmethod
    def _check_span(event: icalendar.Component) -> None:
        begin = prop(event, "DTSTART").dt
        if "DTEND" in event:
            finish = prop(event, "DTEND").dt
            if isinstance(begin, datetime) != isinstance(finish, datetime):
                raise BadEvent("DTSTART and DTEND mix a date and a date-time")
            if finish < begin:
                raise BadEvent("it ends before it starts (DTEND before DTSTART)")
        elif "DURATION" in event and prop(event, "DURATION").dt < timedelta(0):
            raise BadEvent("it ends before it starts (negative DURATION)")
        # No end and no duration: a date-time start is a zero-length event, a date start
        # lasts that day (RFC 5545 3.6.1); the expansion gives both their end.


@dataclass
class Series:
    """The VEVENTs sharing one UID: the rule (or single event) and its moved instances."""

    uid: str
    masters: list[icalendar.Component]
    exceptions: list[icalendar.Component]
    recurring: bool = False
    problem: str | None = None
    notes: list[str] | None = None
    excluded: list[date | datetime] | None = None


_ROOMS = frozenset({"ROOM", "RESOURCE"})


def to_event(one: Series, component: icalendar.Component, me: str) -> CalendarEvent:
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
    for attendee in property_values(prop(component, "ATTENDEE")):
        if _is_me(attendee, me):
            declined = declined or _param(attendee, "PARTSTAT") == "DECLINED"
        elif str(attendee).strip() and _param(attendee, "CUTYPE") not in _ROOMS:
            others = True  # rooms and equipment are not people
    for organizer in property_values(prop(component, "ORGANIZER")):
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
