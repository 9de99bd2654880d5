"""Working hours as the preferences form asks for them: the organisation's, the same
start and end on chosen days, or a start and end for each day (both empty: a day off).

Stored as `WorkingHours` (per day, DESIGN.md "Day metrics"). A day stored with a break
(``Mon 09:00-12:00, Mon 13:00-17:00``, from the operator's CLI or an import) shows as its
first start and last end; sent back unchanged it keeps its break. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from micromoments.domain.working_hours import DAY_NAMES, DayRanges, WorkingHours

DAY_WORDS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MODES = ("org", "same", "days")

# field -> "one" (a single value) or "many" (checkboxes)
HOURS_FIELDS: Mapping[str, str] = {
    "hours_mode": "one",
    "same_start": "one",
    "same_end": "one",
    "same_days": "many",
    **{f"start_{day}": "one" for day in DAY_NAMES},
    **{f"end_{day}": "one" for day in DAY_NAMES},
}
# "09:00" as <input type="time"> sends it; "9:00" typed where that input is a text box
_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})", re.ASCII)
_MIDNIGHT = 24 * 60
_EXAMPLE = "Write times like 09:00 and 17:30."


class _Bad(Exception):
    pass


def _minute(text: str, *, end: bool) -> int:
    match = _TIME.fullmatch(text)
    if not match:
        raise _Bad
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise _Bad
    minute = hours * 60 + minutes
    if end and minute == 0:
        return _MIDNIGHT  # "until 00:00" is until midnight
    if not end and minute == _MIDNIGHT:
        raise _Bad
    return minute


def _clock(minute: int) -> str:
    return f"{minute // 60 % 24:02d}:{minute % 60:02d}"


def _range(start: str, end: str, what: str) -> tuple[int, int]:
    """(start, end) minutes of one row of the form, or `_Bad` with the reason."""
    if not start or not end:
        raise _Bad(f"Give {what} a start and an end time.")
    try:
        first, last = _minute(start, end=False), _minute(end, end=True)
    except _Bad:
        raise _Bad(f"{what[0].upper()}{what[1:]}: {_EXAMPLE}") from None
    if last <= first:
        raise _Bad(f"{what[0].upper()}{what[1:]} ends before it starts.")
    return first, last


def read_hours(
    values: Mapping[str, Any], current: WorkingHours | None
) -> tuple[WorkingHours | None, dict[str, str]]:
    """The working hours the form asks for (``None``: the organisation's), or the errors
    by field. ``values`` holds each field of `HOURS_FIELDS` stripped (a list for "many")."""
    mode = values.get("hours_mode") or "org"  # as before the choice: empty follows the org
    if mode not in MODES:
        return None, {"hours_mode": "Choose your organisation's hours, the same every day, "
                                    "or hours for each day."}  # fmt: skip
    if mode == "org":
        return None, {}
    errors: dict[str, str] = {}
    wanted: list[tuple[int, int] | None] = [None] * len(DAY_NAMES)
    if mode == "same":
        days: Sequence[str] = values.get("same_days", ())
        if set(days) - set(DAY_NAMES):
            errors["same_days"] = "Choose days of the week."
        elif not days:
            errors["same_days"] = "Choose at least one working day."
        try:
            rng = _range(values.get("same_start", ""), values.get("same_end", ""), "your day")
            for index, day in enumerate(DAY_NAMES):
                wanted[index] = rng if day in days else None
        except _Bad as exc:
            errors["same_start"] = str(exc)
    else:
        for index, day in enumerate(DAY_NAMES):
            start, end = values.get(f"start_{day}", ""), values.get(f"end_{day}", "")
            if not start and not end:
                continue  # a day off
            try:
                wanted[index] = _range(start, end, DAY_WORDS[index])
            except _Bad as exc:
                errors[f"start_{day}"] = str(exc)
        if not errors and not any(wanted):
            errors["hours_mode"] = (
                "Give hours for at least one day, or choose your organisation's hours."
            )
    if errors:
        return None, errors
    before = current.days if current else ((),) * len(DAY_NAMES)
    per_day: list[DayRanges] = []
    for wish, kept in zip(wanted, before, strict=True):
        if wish is None:
            per_day.append(())
        elif kept and (kept[0][0], kept[-1][1]) == wish:
            per_day.append(kept)  # unchanged: a stored break stays
        else:
            per_day.append((wish,))
    d = per_day
    return WorkingHours((d[0], d[1], d[2], d[3], d[4], d[5], d[6])), {}


def hours_values(hours: WorkingHours | None, org: WorkingHours) -> dict[str, Any]:
    """What the form shows for stored hours (the organisation's fill in the rows when the
    person follows them, so choosing "the same every day" starts from them)."""
    shown = hours or org
    envelopes = [(r[0][0], r[-1][1]) if r else None for r in shown.days]
    working = [e for e in envelopes if e]
    same = len(set(working)) == 1 and all(len(r) <= 1 for r in shown.days)
    values: dict[str, Any] = {
        "hours_mode": "org" if hours is None else ("same" if same else "days"),
        "same_start": _clock(working[0][0]) if working else "09:00",
        "same_end": _clock(working[0][1]) if working else "17:00",
        "same_days": {DAY_NAMES[i] for i, e in enumerate(envelopes) if e},
        "hours_breaks": [DAY_WORDS[i] for i, r in enumerate(shown.days) if len(r) > 1],
    }
    for index, day in enumerate(DAY_NAMES):
        envelope = envelopes[index]
        values[f"start_{day}"] = _clock(envelope[0]) if envelope else ""
        values[f"end_{day}"] = _clock(envelope[1]) if envelope else ""
    return values
