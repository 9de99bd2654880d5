"""Test data builders shared by the test files: holds, calendar events, mirror events.

Import as ``from tests.builders import hold, meeting`` (pytest puts the repository root on
``sys.path``: ``pythonpath`` in pyproject.toml). Every builder takes explicit days and times:
no test depends on today's date. A test file whose data differ only in defaults binds them
once (``functools.partial``) instead of writing its own builder.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from micromoments.domain.calendar import CalendarEvent, EventKind
from micromoments.domain.day_load import DayLoad
from micromoments.domain.holds import Hold, HoldKind, HoldStatus, personal_hold_id
from micromoments.domain.mirror import MirrorEvent

BERLIN = ZoneInfo("Europe/Berlin")
A_TUESDAY = date(2026, 3, 17)


def at(day: date, clock: str, tz: tzinfo = BERLIN) -> datetime:
    """``day`` at ``clock`` ("HH:MM") local time in ``tz``."""
    hour, minute = (int(part) for part in clock.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)


def hold(
    kind: HoldKind = HoldKind.BREATHER,
    day: date = A_TUESDAY,
    status: HoldStatus = HoldStatus.PLANNED,
    *,
    hold_id: str | None = None,
    owner: str | None = None,
    generation: int = 0,
    hour: int = 11,
    minute: int = 0,
    minutes: int = 15,
    tz: tzinfo = BERLIN,
    busy: bool | None = None,
    **changes: Any,
) -> Hold:
    """A hold of ``kind`` on ``day`` at ``hour:minute`` in ``tz``, ``minutes`` long.

    Its id: ``hold_id``; else the personal hold id of ``owner``; else one made of kind, day
    and status (unique within a test's week). ``busy``: breathers are busy, the others free,
    unless given. ``changes``: any other field of `Hold`.
    """
    start = datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)
    if hold_id is None:
        hold_id = (
            personal_hold_id(owner, kind, day, generation)
            if owner is not None
            else f"mm{kind.value}{day:%d}{status.value}"
        )
    return Hold(
        id=hold_id,
        kind=kind,
        start=start,
        end=start + timedelta(minutes=minutes),
        busy=kind is HoldKind.BREATHER if busy is None else busy,
        day=day,
        generation=generation,
        status=status,
        **changes,
    )


def day_load(
    day: date,
    meetings: int = 0,
    *,
    run: int = 0,
    run_meetings: int = 3,
    focus: int = 0,
    after: int = 0,
    overloaded: bool = False,
    available: bool = True,
) -> DayLoad:
    """A day's load: ``meetings`` minutes of meetings, ``after`` of them after hours, a
    longest run of ``run`` minutes (``run_meetings`` meetings), ``focus`` minutes of focus;
    an overloaded day for its meeting hours."""
    return DayLoad(
        date=day,
        available=available,
        meeting_minutes=meetings,
        after_hours_meeting_minutes=after,
        longest_back_to_back_minutes=run,
        back_to_back_meetings=run_meetings if run else 0,
        focus_minutes=focus,
        overloaded=overloaded,
        reasons=("meeting_hours",) if overloaded else (),
    )


def event(
    uid: str, start: datetime, end: datetime, kind: EventKind = EventKind.MEETING, **fields: Any
) -> CalendarEvent:
    """A calendar event (a meeting unless ``kind`` says otherwise)."""
    return CalendarEvent(uid=uid, start=start, end=end, kind=kind, **fields)


def meeting(
    day: date, start: str, end: str, kind: EventKind = EventKind.MEETING, tz: tzinfo = BERLIN
) -> CalendarEvent:
    """A meeting (or ``kind``) on ``day`` from ``start`` to ``end`` ("HH:MM", local)."""
    return event(f"{kind.value}-{day}-{start}", at(day, start, tz), at(day, end, tz), kind)


def mirror_event(
    event_id: str,
    start: datetime,
    end: datetime,
    kind: EventKind = EventKind.MEETING,
    **fields: Any,
) -> MirrorEvent:
    """An event as the mirror keeps it (a meeting unless ``kind`` says otherwise)."""
    return MirrorEvent(id=event_id, start=start, end=end, kind=kind, **fields)
