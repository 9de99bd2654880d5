"""Expanding the event mirror into occurrences, with the code that expands .ics files.

The mirror (DESIGN.md "State") keeps Google's events as Google sends them with
``singleEvents=false``: single events, recurring masters (RFC 5545 ``RRULE``/``EXDATE``/
``RDATE`` lines and the zone the start was written in) and exception instances (moved or
cancelled occurrences, marked by ``recurring_event_id`` and ``original_start``).
`expand_mirror` turns them into one `CalendarEvent` per occurrence overlapping a window.

The expansion itself is recurring-ical-events', exactly as for an .ics file
(`adapters.ics`): each series becomes VEVENTs sharing a UID, the master with its rule in
its own zone (a weekly 09:00 stays 09:00 local across DST), each moved instance a VEVENT
with ``RECURRENCE-ID``, each cancelled instance an ``EXDATE`` of the master. What an
occurrence *is* (kind, busy, declined, cancelled, our hold tags) is not derived again: it is
carried over from the mirror event, the master's for generated occurrences and the
exception's own for moved instances.

Rules, the same as the ICS adapter's where both apply:

- uid of an occurrence of a recurring series: ``<master id>/<original start, ISO, UTC>``
  (a date for all-day series); uid of a single event: its id.
- A cancelled single event or master is returned with ``cancelled=True`` (it never counts);
  a cancelled exception instance removes its occurrence; an exception whose master is not in
  the mirror is a standalone occurrence (dropped when cancelled).
- A master without ``start_zone`` is expanded in the offset of its start (UTC).
- A master whose recurrence lines cannot be read is kept as its first occurrence only, with
  a warning in the log: the day loads stay conservative rather than failing the scan.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Any

import icalendar
import recurring_ical_events
from icalendar.prop import vBroken, vDDDLists

from micromoments.adapters.recurrence import check_window, occurrence_uid, one_line, prop, sort_key
from micromoments.domain.calendar import CalendarEvent, zone
from micromoments.domain.errors import UnknownTimeZone
from micromoments.domain.mirror import MirrorEvent

__all__ = ["expand_mirror", "occurrence_uid"]

_LOG = logging.getLogger(__name__)

# The properties a Google ``recurrence`` line may carry (RFC 5545 3.8.5).
_RECURRENCE_NAMES = ("RRULE", "EXRULE", "RDATE", "EXDATE")
# Each VEVENT carries the index of the mirror event it was built from.
_INDEX = "X-MICROMOMENTS-MIRROR-INDEX"


@dataclass
class _Series:
    master: MirrorEvent | None = None
    exceptions: list[MirrorEvent] = field(default_factory=list)


def expand_mirror(
    events: Sequence[MirrorEvent], *, start: datetime, end: datetime
) -> list[CalendarEvent]:
    """Every occurrence of the mirror's events overlapping ``[start, end)``, sorted by start
    then uid. Timed occurrences have UTC bounds; all-day ones keep their dates."""
    check_window(start, end)
    series: dict[str, _Series] = {}
    singles: list[MirrorEvent] = []
    for event in events:
        if event.recurring_event_id is not None:
            series.setdefault(event.recurring_event_id, _Series()).exceptions.append(event)
        elif event.recurrence:
            series.setdefault(event.id, _Series()).master = event
        else:
            singles.append(event)

    by_index: list[tuple[MirrorEvent, str | None]] = []  # (source, series id or None)
    calendar = icalendar.Calendar()
    calendar.add("PRODID", "-//micromoments//mirror//EN")
    calendar.add("VERSION", "2.0")

    def add(component: icalendar.Event, source: MirrorEvent, series_id: str | None) -> None:
        component.add(_INDEX, str(len(by_index)))
        by_index.append((source, series_id))
        calendar.add_component(component)

    # Timed single events need no recurrence engine: they are most of a calendar, and
    # building a VEVENT for each is what an expansion would otherwise spend its time on.
    direct: list[CalendarEvent] = []
    for single in singles:
        if isinstance(single.start, datetime) and isinstance(single.end, datetime):
            occurrence = _timed_single(single, start, end)
            if occurrence is not None:
                direct.append(occurrence)
        else:
            add(_vevent(single, uid=single.id), single, None)
    for series_id, one in series.items():
        master = one.master
        master_zone = _zone_of(master) if master is not None else None
        component = None
        if master is not None:
            component = _vevent(master, uid=series_id, in_zone=master_zone)
            if not _add_recurrence(component, master, master_zone):
                # The rule cannot be read: keep the first occurrence only, as a single event.
                add(_vevent(master, uid=master.id, in_zone=master_zone), master, None)
                component = None
        if master is None or component is None:
            for orphan in one.exceptions:
                if not orphan.cancelled:
                    uid = occurrence_uid(series_id, orphan.original_start or orphan.start)
                    add(_vevent(orphan, uid=uid), orphan, None)
            continue
        removed: list[date | datetime] = []
        for exception in one.exceptions:
            original = _like(exception.original_start or exception.start, master, master_zone)
            if exception.cancelled:
                removed.append(original)
                continue
            moved = _vevent(exception, uid=series_id)
            moved.add("RECURRENCE-ID", original)
            add(moved, exception, series_id)
        if removed:
            component.add("EXDATE", removed)
        add(component, master, series_id)

    window_end = end.astimezone(start.tzinfo)
    occurrences = recurring_ical_events.of(calendar).between(start, window_end)
    result = [_to_event(component, by_index) for component in occurrences] + direct
    result.sort(key=sort_key)
    return result


def _timed_single(event: MirrorEvent, start: datetime, end: datetime) -> CalendarEvent | None:
    """A timed, non-recurring event as its one occurrence, if it overlaps ``[start, end)``
    (an event of no length counts where it starts), with UTC bounds."""
    assert isinstance(event.start, datetime) and isinstance(event.end, datetime)
    begin = _aware(event.start, None).astimezone(UTC)
    finish = max(_aware(event.end, None).astimezone(UTC), begin)
    inside = begin < end and (finish > start or (finish == begin and begin >= start))
    if not inside:
        return None
    return event.occurrence(start=begin, end=finish)


def _zone_of(event: MirrorEvent) -> tzinfo | None:
    if event.start_zone is None or not isinstance(event.start, datetime):
        return None
    try:
        return zone(event.start_zone)
    except UnknownTimeZone:
        _LOG.warning("event %s: unknown time zone %r, expanded in UTC", event.id, event.start_zone)
        return None


def _aware(value: datetime, in_zone: tzinfo | None) -> datetime:
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(in_zone) if in_zone is not None else aware


def _like(value: date | datetime, master: MirrorEvent, in_zone: tzinfo | None) -> date | datetime:
    """``value`` as the same type as the master's start: a date or an aware date-time."""
    model = master.start
    if isinstance(model, datetime):
        if isinstance(value, datetime):
            return _aware(value, in_zone)
        return _aware(datetime.combine(value, model.timetz()), in_zone)
    return value.date() if isinstance(value, datetime) else value


def _vevent(event: MirrorEvent, *, uid: str, in_zone: tzinfo | None = None) -> icalendar.Event:
    """A VEVENT with the event's times; every other fact stays on the `MirrorEvent`."""
    component = icalendar.Event()
    component.add("UID", uid)
    begin, finish = event.start, event.end
    if isinstance(begin, datetime) and isinstance(finish, datetime):
        zone_info = in_zone if in_zone is not None else _zone_of(event)
        begin, finish = _aware(begin, zone_info), _aware(finish, zone_info)
    elif isinstance(begin, datetime) or isinstance(finish, datetime):
        # Never written by the adapters; read it as the dates it touches.
        begin = begin.date() if isinstance(begin, datetime) else begin
        finish = finish.date() if isinstance(finish, datetime) else finish
    component.add("DTSTART", begin)
    component.add("DTEND", max(finish, begin))
    return component


def _add_recurrence(
    component: icalendar.Event, master: MirrorEvent, in_zone: tzinfo | None
) -> bool:
    """Copy the master's recurrence lines onto the VEVENT; False when they are unreadable."""
    lines: list[str] = []
    for line in master.recurrence:
        text = line.strip()
        name = text.split(":", 1)[0].split(";", 1)[0].upper()
        if name not in _RECURRENCE_NAMES or "\n" in text or "\r" in text:
            _LOG.warning("event %s: recurrence line ignored: %r", master.id, text[:80])
            continue
        lines.append(text)
    if not lines:
        return False
    try:
        parsed = icalendar.Event.from_ical(
            "BEGIN:VEVENT\r\n" + "\r\n".join(lines) + "\r\nEND:VEVENT"
        )
    except Exception as exc:  # icalendar raises ValueError and friends on malformed input
        _LOG.warning("event %s: unreadable recurrence (%s)", master.id, one_line(exc))
        return False
    for name, value in parsed.items():
        values = value if isinstance(value, list) else [value]
        if any(isinstance(v, vBroken) for v in values):
            _LOG.warning("event %s: unreadable %s", master.id, name)
            return False
        if name in ("EXDATE", "RDATE"):
            values = [_aware_list(v, master.start, in_zone) for v in values]
        component[name] = values if len(values) > 1 else values[0]
    return "RRULE" in component or "RDATE" in component


def _aware_list(value: vDDDLists, model: date | datetime, in_zone: tzinfo | None) -> vDDDLists:
    """EXDATE/RDATE values of a timed series as aware date-times (floating ones in the
    master's zone)."""
    if not isinstance(model, datetime):
        return value
    dts: list[Any] = []
    changed = False
    for item in value.dts:
        dt = item.dt
        if isinstance(dt, datetime) and dt.tzinfo is None:
            dt = dt.replace(tzinfo=in_zone or UTC)
            changed = True
        dts.append(dt)
    return vDDDLists(dts) if changed else value


def _to_event(
    component: icalendar.Component, by_index: list[tuple[MirrorEvent, str | None]]
) -> CalendarEvent:
    source, series_id = by_index[int(str(prop(component, _INDEX)))]
    begin: date | datetime = prop(component, "DTSTART").dt
    finish: date | datetime = prop(component, "DTEND").dt
    if isinstance(begin, datetime) and isinstance(finish, datetime):
        begin, finish = begin.astimezone(UTC), finish.astimezone(UTC)
    if series_id is None:
        uid = source.id if source.recurring_event_id is None else str(component["UID"])
    else:
        original = prop(component, "RECURRENCE-ID")
        uid = occurrence_uid(series_id, original.dt if original is not None else begin)
    return source.occurrence(uid=uid, start=begin, end=finish)
