"""Use case: analyse and plan one person's exported calendar (.ics), with no cloud at all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from micromoments.adapters.ics import CalendarZone, IcsWarning, load_calendar
from micromoments.domain.calendar import zone
from micromoments.domain.errors import DomainError
from micromoments.domain.people import Person, Preferences, validate_email
from micromoments.domain.planner import CalendarPlan, plan_calendar, week_start
from micromoments.domain.settings import OrgSettings
from micromoments.domain.working_hours import WorkingHours

MAX_DAYS = 366


class InvalidWindow(DomainError):
    """The requested window of days is empty or too long."""


@dataclass(frozen=True, slots=True)
class FileAnalysis:
    """The plan, the file's warnings, and ``zone_note``: how the zone was chosen when the
    file does not declare one (None when ``--tz`` or ``X-WR-TIMEZONE`` said)."""

    plan: CalendarPlan
    warnings: list[IcsWarning]
    zone_note: str | None = None


def analyse_calendar_file(
    path: str | Path,
    *,
    me: str,
    now: datetime,
    timezone: str | None = None,
    start: date | None = None,
    days: int | None = None,
    working_hours: WorkingHours | None = None,
    settings: OrgSettings | None = None,
) -> FileAnalysis:
    """Day loads and planned holds for the person ``me`` on the calendar at ``path``.

    The zone is ``timezone`` if given, else the calendar's own (X-WR-TIMEZONE, else the
    zone its events are written in, else its only VTIMEZONE: `adapters.ics.calendar_zone`),
    else the org default. ``start`` defaults to today in that zone and ``days`` to the end of the
    planning window; ``now`` is when planning happens (nothing is placed before it).
    """
    email = validate_email(me)
    settings = settings or OrgSettings()
    if days is not None and not 1 <= days <= MAX_DAYS:
        raise InvalidWindow(f"--days must be between 1 and {MAX_DAYS}, not {days}")
    if timezone is not None:
        zone(timezone)
    if now.tzinfo is None:
        raise InvalidWindow("--now needs a UTC offset, e.g. 2026-11-23T08:00:00+01:00")

    # Read generously (whole ISO weeks around the window, a day either side for zones),
    # so that holds already in the same weeks count against the weekly caps.
    probe_zone = zone(timezone or settings.timezone)
    first_guess = start or now.astimezone(probe_zone).date()
    span = days if days is not None else 7 * (settings.planning_weeks + 1)
    read_from = week_start(first_guess) - timedelta(days=1)
    read_to = week_start(first_guess + timedelta(days=span)) + timedelta(days=8)
    utc = zone("UTC")
    parsed = load_calendar(
        path,
        me=email,
        start=datetime.combine(read_from, time(), tzinfo=utc),
        end=datetime.combine(read_to, time(), tzinfo=utc),
        floating_tz=zone(timezone) if timezone else None,
    )
    zone_name = timezone or parsed.timezone or settings.timezone
    preferences = Preferences(working_hours=working_hours, timezone=zone_name)
    person = Person(email=email, preferences=preferences)
    plan = plan_calendar(person, parsed.events, settings, now=now, first=start, days=days)
    note = None if timezone else _zone_note(parsed.zone, zone_name)
    return FileAnalysis(plan=plan, warnings=list(parsed.warnings), zone_note=note)


def _zone_note(found: CalendarZone | None, zone_name: str) -> str | None:
    """How the zone was chosen, when the file does not declare it."""
    if found is None:
        return f"time zone {zone_name}: the file names none (--tz chooses one)"
    if found.source == "X-WR-TIMEZONE":
        return None
    written = f" ({found.written!r})" if found.written != found.name else ""
    how = (
        "the zone its events are written in"
        if found.source == "TZID"
        else "the only zone the file defines"
    )
    return (
        f"time zone {found.name}: {how}{written}; the file names no calendar-wide zone we "
        "know (--tz chooses another)"
    )
