"""RFC 3339 times and Google ``EventDateTime`` values."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_DATE_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$"
)
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; ValueError if unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {name!r}") from error


def is_zone(name: str) -> bool:
    try:
        zone(name)
    except ValueError:
        return False
    return True


def is_date_time(value: str) -> bool:
    """Whether ``value`` is an RFC 3339 date-time (the offset may be missing)."""
    match = _DATE_TIME.match(value)
    if match is None:
        return False
    try:
        _build(match, None)
    except ValueError:
        return False
    return True


def has_offset(value: str) -> bool:
    match = _DATE_TIME.match(value)
    return match is not None and match.group(8) is not None


def is_date(value: str) -> bool:
    try:
        parse_date(value)
    except ValueError:
        return False
    return True


def parse_date(value: str) -> date:
    if _DATE.match(value) is None:
        raise ValueError(f"not a date: {value!r}")
    return date.fromisoformat(value)


def parse_date_time(value: str, default_zone: str | None = None) -> datetime:
    """An aware datetime; a value without offset is read in ``default_zone`` (else error)."""
    match = _DATE_TIME.match(value)
    if match is None:
        raise ValueError(f"not an RFC 3339 date-time: {value!r}")
    if match.group(8) is None and default_zone is None:
        raise ValueError(f"no time zone offset in {value!r}")
    return _build(match, default_zone)


def _build(match: re.Match[str], default_zone: str | None) -> datetime:
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    fraction = match.group(7)
    micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
    offset = match.group(8)
    if offset is None:
        tz: Any = zone(default_zone) if default_zone else UTC
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    if offset in ("Z", "z"):
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)
    sign = 1 if offset[0] == "+" else -1
    delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
    wall = datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)
    return wall - sign * delta


def format_utc(instant: datetime) -> str:
    """``2026-03-30T08:00:00Z`` (milliseconds only when present)."""
    value = instant.astimezone(UTC)
    if value.microsecond:
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def format_in(instant: datetime, zone_name: str) -> str:
    """``2026-03-30T10:00:00+02:00``: the instant on the wall clock of ``zone_name``."""
    value = instant.astimezone(zone(zone_name)).replace(microsecond=0)
    return value.isoformat()


def stamp(instant: datetime) -> str:
    """Google's ``updated``/``created`` form, with milliseconds: ``…T08:00:00.000Z``."""
    value = instant.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def now() -> datetime:
    return datetime.now(UTC)


def event_time(value: Any, calendar_zone: str) -> datetime | date:
    """An ``EventDateTime`` as an aware datetime (``dateTime``) or a date (``date``)."""
    if not isinstance(value, dict):
        raise ValueError("not an EventDateTime")
    if value.get("dateTime"):
        zone_name = value.get("timeZone") or None
        return _cached_date_time(str(value["dateTime"]), str(zone_name) if zone_name else None)
    if value.get("date"):
        return _cached_date(str(value["date"]))
    raise ValueError("EventDateTime without date or dateTime")


@lru_cache(maxsize=65536)
def _cached_date_time(value: str, zone_name: str | None) -> datetime:
    return parse_date_time(value, zone_name)


@lru_cache(maxsize=8192)
def _cached_date(value: str) -> date:
    return parse_date(value)


def instant(value: datetime | date, calendar_zone: str) -> datetime:
    """A datetime as is; a date as local midnight in the calendar's zone."""
    if isinstance(value, datetime):
        return value
    return datetime(value.year, value.month, value.day, tzinfo=zone(calendar_zone))


def series_zone(value: Any, calendar_zone: str) -> str:
    """The zone a recurrence is expanded in: the start's ``timeZone``, else the calendar's."""
    if isinstance(value, dict) and value.get("timeZone") and is_zone(str(value["timeZone"])):
        return str(value["timeZone"])
    return calendar_zone
