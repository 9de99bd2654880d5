"""Expanding a recurring Google event (a master with ``recurrence`` lines) into the original
start times of its instances, as Google does: on the wall clock of the start's
``timeZone`` (so a weekly 10:00 stays 10:00 across a DST change), minus EXDATEs, plus
RDATEs. Instance ids are ``<masterId>_<YYYYMMDDTHHMMSSZ>`` (timed) or
``<masterId>_<YYYYMMDD>`` (all-day). The rules are evaluated by python-dateutil."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from dateutil import rrule as _rrule  # type: ignore[import-untyped, unused-ignore]

from micromoments.local.calendar_api import times

# Without timeMax, an unbounded series is expanded this far past today (or its start).
HORIZON = timedelta(days=730)
# At most this many instances per series and request.
INSTANCE_LIMIT = 5000


@dataclass(frozen=True, slots=True)
class Series:
    """A parsed recurring master."""

    timed: bool
    zone: str  # the zone the rule runs in
    start: datetime | date  # the master's start: aware in ``zone``, or a date
    duration: timedelta  # for all-day series a whole number of days
    rules: Any  # dateutil rruleset over aware datetimes (timed) or naive midnights

    def end_of(self, original: datetime | date) -> datetime | date:
        return original + self.duration

    def bounds(self, original: datetime | date, calendar_zone: str) -> tuple[datetime, datetime]:
        start = times.instant(original, calendar_zone)
        end = times.instant(self.end_of(original), calendar_zone)
        return start, end


def series_of(master: dict[str, Any], calendar_zone: str) -> Series:
    """The series of a master event; ValueError if its times or rules are malformed."""
    return _series(
        json.dumps(master.get("start"), sort_keys=True),
        json.dumps(master.get("end"), sort_keys=True),
        tuple(str(line) for line in master.get("recurrence") or ()),
        calendar_zone,
    )


@lru_cache(maxsize=4096)
def _series(start_json: str, end_json: str, lines: tuple[str, ...], calendar_zone: str) -> Series:
    start_value = json.loads(start_json)
    end_value = json.loads(end_json)
    zone_name = times.series_zone(start_value, calendar_zone)
    start = times.event_time(start_value, zone_name)
    end = times.event_time(end_value, zone_name)
    if isinstance(start, datetime):
        if not isinstance(end, datetime):
            raise ValueError("start and end must both be dates or both be date-times")
        local_start = start.astimezone(times.zone(zone_name))
        dtstart: Any = local_start
        duration = end - start
        timed = True
        series_start: datetime | date = local_start
    else:
        if isinstance(end, datetime):
            raise ValueError("start and end must both be dates or both be date-times")
        dtstart = datetime.combine(start, time())
        duration = timedelta(days=(end - start).days)
        timed = False
        series_start = start
    rules = _rrule.rruleset()
    has_rule = False
    for line in lines:
        name, params, values = _split_line(line)
        if name in ("RRULE", "EXRULE"):
            rule = _rrule.rrulestr(
                "RRULE:" + _normalise_rule(values, timed, zone_name), dtstart=dtstart
            )
            if name == "RRULE":
                rules.rrule(rule)
                has_rule = True
            else:
                rules.exrule(rule)
        elif name in ("EXDATE", "RDATE"):
            for value in values.split(","):
                when = _parse_when(value.strip(), params, timed, zone_name, dtstart)
                if name == "EXDATE":
                    rules.exdate(when)
                else:
                    rules.rdate(when)
                    has_rule = True
        else:
            raise ValueError(f"unsupported recurrence line {line!r}")
    if not has_rule:
        raise ValueError("a recurrence needs an RRULE or RDATE")
    rules.rdate(dtstart)  # the master's own start is always an instance
    return Series(timed=timed, zone=zone_name, start=series_start, duration=duration, rules=rules)


def validate(master: dict[str, Any], calendar_zone: str) -> None:
    """ValueError if the master's recurrence cannot be expanded."""
    series = series_of(master, calendar_zone)
    originals(series, None, None, calendar_zone, limit=1)


def _split_line(line: str) -> tuple[str, dict[str, str], str]:
    head, sep, values = line.partition(":")
    if not sep:
        raise ValueError(f"malformed recurrence line {line!r}")
    name, *raw_params = head.split(";")
    params: dict[str, str] = {}
    for raw in raw_params:
        key, eq, value = raw.partition("=")
        if not eq:
            raise ValueError(f"malformed recurrence line {line!r}")
        params[key.upper()] = value
    return name.upper(), params, values


def _normalise_rule(rule: str, timed: bool, zone_name: str) -> str:
    """UNTIL in the form dateutil accepts: UTC for a timed series, a floating date-time for
    an all-day one (Google accepts a date, a floating or a UTC UNTIL)."""
    parts = []
    for part in rule.split(";"):
        key, _, value = part.partition("=")
        if key.upper() == "UNTIL":
            if timed:
                if re.fullmatch(r"\d{8}", value):
                    local = datetime.strptime(value, "%Y%m%d").replace(
                        hour=23, minute=59, second=59, tzinfo=times.zone(zone_name)
                    )
                    value = local.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
                elif re.fullmatch(r"\d{8}T\d{6}", value):
                    local = datetime.strptime(value, "%Y%m%dT%H%M%S").replace(
                        tzinfo=times.zone(zone_name)
                    )
                    value = local.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
            else:
                value = value[:8] + "T235959"
        parts.append(f"{key.upper()}={value}" if key else part)
    return ";".join(parts)


def _parse_when(
    value: str, params: dict[str, str], timed: bool, zone_name: str, dtstart: Any
) -> Any:
    if params.get("VALUE", "").upper() == "PERIOD":
        raise ValueError("PERIOD values are not supported")
    if re.fullmatch(r"\d{8}", value):
        day = date(int(value[:4]), int(value[4:6]), int(value[6:8]))
        if timed:
            return datetime.combine(day, dtstart.timetz())
        return datetime.combine(day, time())
    if re.fullmatch(r"\d{8}T\d{6}Z", value):
        when = datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        if timed:
            return when
        return datetime.combine(when.date(), time())
    if re.fullmatch(r"\d{8}T\d{6}", value):
        local = datetime.strptime(value, "%Y%m%dT%H%M%S").replace(
            tzinfo=times.zone(params.get("TZID", zone_name))
        )
        if not timed:
            return datetime.combine(local.date(), time())
        return local
    raise ValueError(f"malformed date in recurrence: {value!r}")


def originals(
    series: Series,
    lo: datetime | None,
    hi: datetime | None,
    calendar_zone: str,
    *,
    limit: int = INSTANCE_LIMIT,
) -> list[datetime | date]:
    """Original starts of the instances that overlap ``[lo, hi)`` (UTC instants), as aware
    datetimes in the series zone or as dates; without ``hi``, up to a horizon."""
    if hi is None:
        anchor = times.instant(series.start, calendar_zone)
        hi = max(times.now(), anchor) + HORIZON
    out: list[datetime | date] = []
    if series.timed:
        tz = times.zone(series.zone)
        first = (lo - series.duration).astimezone(tz) if lo is not None else None
        iterator = series.rules.xafter(first, inc=True) if first is not None else iter(series.rules)
        for when in iterator:
            if when >= hi:
                break
            start = when.astimezone(tz)
            if lo is not None and start + series.duration <= lo:
                continue
            out.append(start)
            if len(out) >= limit:
                break
        return out
    cal_tz = times.zone(calendar_zone)
    hi_naive = hi.astimezone(cal_tz).replace(tzinfo=None)
    first_naive = (
        (lo.astimezone(cal_tz).replace(tzinfo=None) - series.duration) if lo is not None else None
    )
    iterator = (
        series.rules.xafter(first_naive, inc=True)
        if first_naive is not None
        else iter(series.rules)
    )
    for when in iterator:
        if when >= hi_naive:
            break
        day = when.date()
        if lo is not None:
            end = times.instant(day + series.duration, calendar_zone)
            if end <= lo:
                continue
        out.append(day)
        if len(out) >= limit:
            break
    return out


def suffix(original: datetime | date) -> str:
    """The instance-id suffix Google uses for an original start."""
    if isinstance(original, datetime):
        return original.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return original.strftime("%Y%m%d")


def original_time(original: datetime | date, zone_name: str) -> dict[str, str]:
    """``originalStartTime`` of an instance."""
    if isinstance(original, datetime):
        return {"dateTime": times.format_in(original, zone_name), "timeZone": zone_name}
    return {"date": original.isoformat()}


def original_key(value: Any, zone_name: str) -> str | None:
    """The instance-id suffix of an ``originalStartTime`` value (None if malformed)."""
    try:
        when = times.event_time(value, zone_name)
    except ValueError:
        return None
    return suffix(when)
