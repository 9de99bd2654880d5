"""The preferences form: what the web page shows and what a submitted form may change.

Every field is checked against an allow-list; a form with a field this module does not
know, or with a field given twice where one value is expected, is refused as a whole. A
valid form becomes a new `Preferences`; an invalid one gives an error per field and
changes nothing. Pure: the web handler renders and the people service stores.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from pydantic import ValidationError

from micromoments.domain.addresses import canonical_address
from micromoments.domain.calendar import zone
from micromoments.domain.errors import DomainError
from micromoments.domain.holds import HoldKind
from micromoments.domain.hours_form import HOURS_FIELDS, hours_values, read_hours
from micromoments.domain.people import PartOfDay, Preferences
from micromoments.domain.working_hours import DAY_NAMES, DEFAULT_WORKING_HOURS, WorkingHours

MAX_FIELD_LENGTH = 2000
MAX_DONT_PAIR_ADDED = 50

# field -> "one" (a single value) or "many" (checkboxes)
FIELDS: Mapping[str, str] = {
    "moments": "many",
    "breather_minutes": "one",
    "social_minutes": "one",
    "coffee_minutes": "one",
    "holds_per_week": "one",
    "part_of_day": "one",
    **HOURS_FIELDS,
    "timezone": "one",
    "quiet_days": "many",
    "weekly_email": "one",
    "coffee_across_teams": "one",
    "dont_pair_add": "one",
}
CHOICES: Mapping[str, Sequence[int]] = {
    "breather_minutes": (10, 15),
    "social_minutes": (15, 20, 30),
    "coffee_minutes": (15, 20, 30),
}
MAX_HOLDS_PER_WEEK = 10
# ASCII digits only: str.isdigit() and int() also take "²" (int() fails) or "٣" (int() is 3)
WHOLE_NUMBER = re.compile(r"[0-9]{1,3}")


# The regions of the IANA database whose zones the form lists (aliases like "US/Eastern" or
# "Etc/GMT+5" are taken when typed; "localtime" and "Factory" are files, not zones).
_REGIONS = ("Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia",
            "Europe", "Indian", "Pacific")  # fmt: skip
_NOT_ZONES = frozenset({"localtime", "Factory", "posixrules"})


@cache
def known_zones() -> frozenset[str]:
    """The IANA zones the form accepts."""
    return frozenset(available_timezones()) - _NOT_ZONES


@cache
def listed_zones() -> tuple[str, ...]:
    """The zones the form offers, sorted: each region's, and UTC."""
    return (*sorted(z for z in known_zones() if z.split("/")[0] in _REGIONS), "UTC")


class FormRefused(DomainError):
    """A form no page of ours produces (unknown or repeated fields): refused whole."""


@dataclass(frozen=True, slots=True)
class FormResult:
    preferences: Preferences | None
    errors: dict[str, str] = field(default_factory=dict)
    dont_pair_addresses: tuple[str, ...] = ()  # to be turned into pseudonyms by the caller


def read_form(
    form: Mapping[str, Sequence[str]],
    current: Preferences,
    *,
    allowed_domains: Sequence[str] = (),
) -> FormResult:
    """The preferences a submitted form asks for, or the errors by field.

    ``form`` maps field names to their submitted values (a checkbox left unticked is
    absent). ``csrf`` is the caller's business and may be present.
    """
    unknown = sorted(set(form) - set(FIELDS) - {"csrf"})
    if unknown:
        raise FormRefused(f"unexpected form fields: {', '.join(unknown[:5])}")
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    long_errors: dict[str, str] = {}
    for name, shape in FIELDS.items():
        given = list(form.get(name, ()))
        if shape == "one" and len(given) > 1:
            raise FormRefused(f"the field {name} was sent more than once")
        if any(len(v) > MAX_FIELD_LENGTH for v in given):
            long_errors[name] = "This value is too long."
            given = []
        values[name] = given if shape == "many" else (given[0].strip() if given else "")

    update: dict[str, Any] = {}
    kinds = {k.value for k in HoldKind}
    if set(values["moments"]) - kinds:
        errors["moments"] = "Choose among breathers, social time, coffee chats and watercoolers."
    else:
        update["moments"] = frozenset(HoldKind(v) for v in values["moments"])

    for name, options in CHOICES.items():
        text = values[name]
        if text not in {str(o) for o in options}:
            errors[name] = f"Choose {', '.join(map(str, options[:-1]))} or {options[-1]} minutes."
        else:
            update[name] = int(text)

    holds = values["holds_per_week"]
    if holds == "":
        update["holds_per_week"] = None
    elif WHOLE_NUMBER.fullmatch(holds) and int(holds) <= MAX_HOLDS_PER_WEEK:
        update["holds_per_week"] = int(holds)
    else:
        errors["holds_per_week"] = (
            f"Leave empty for the org's default, or a whole number from 0 to {MAX_HOLDS_PER_WEEK}."
        )

    try:
        update["part_of_day"] = PartOfDay(values["part_of_day"])
    except ValueError:
        errors["part_of_day"] = "Choose any time, morning, midday or afternoon."

    hours, hour_errors = read_hours(values, current.working_hours)
    errors.update(hour_errors)
    if not hour_errors:
        update["working_hours"] = hours

    tz = values["timezone"]
    if tz == "":
        update["timezone"] = None
    else:
        try:
            if tz not in known_zones() and tz != current.timezone:
                raise DomainError(tz)  # e.g. "localtime": a file, not a zone of the list
            zone(tz)
            update["timezone"] = tz
        except DomainError:
            errors["timezone"] = (
                f"{tz[:60]!r} is not a time zone we know. Choose one from the list, like "
                "Europe/Berlin, or leave it empty for your calendar's."
            )

    days = values["quiet_days"]
    if set(days) - set(DAY_NAMES):
        errors["quiet_days"] = "Choose days of the week."
    else:
        update["quiet_days"] = frozenset(DAY_NAMES.index(d) for d in days)

    for flag in ("weekly_email", "coffee_across_teams"):
        if values[flag] not in ("", "on"):
            errors[flag] = "Tick the box or leave it empty."
        else:
            update[flag] = values[flag] == "on"

    addresses: list[str] = []
    for raw in values["dont_pair_add"].replace(",", "\n").replace(";", "\n").split():
        try:
            address = canonical_address(raw)
        except DomainError as exc:
            errors["dont_pair_add"] = f"Write email addresses only, one per line: {exc}."
            break
        domain = address.rpartition("@")[2]
        if allowed_domains and domain not in allowed_domains:
            errors["dont_pair_add"] = "Only colleagues' addresses (your organisation's domains)."
            break
        addresses.append(address)
    if len(addresses) > MAX_DONT_PAIR_ADDED:
        errors["dont_pair_add"] = f"At most {MAX_DONT_PAIR_ADDED} addresses at a time."

    errors.update(long_errors)  # the reason that matters for a value that was too long
    if errors:
        return FormResult(None, errors)
    try:
        chosen = current.model_copy(update=update)
        chosen = Preferences.model_validate(chosen.model_dump())
    except ValidationError as exc:  # a rule of the model the checks above did not cover
        return FormResult(None, {"form": str(exc.errors()[0].get("msg", "invalid"))})
    return FormResult(chosen, {}, tuple(dict.fromkeys(addresses)))


def form_values(
    preferences: Preferences, org_hours: WorkingHours = DEFAULT_WORKING_HOURS
) -> dict[str, Any]:
    """What the form shows for stored preferences (the inverse of `read_form`)."""
    return {
        **hours_values(preferences.working_hours, org_hours),
        "moments": {k.value for k in preferences.moments},
        "breather_minutes": preferences.breather_minutes,
        "social_minutes": preferences.social_minutes,
        "coffee_minutes": preferences.coffee_minutes,
        "holds_per_week": "" if preferences.holds_per_week is None else preferences.holds_per_week,
        "part_of_day": preferences.part_of_day.value,
        "timezone": preferences.timezone or "",
        "quiet_days": {DAY_NAMES[d] for d in preferences.quiet_days},
        "weekly_email": preferences.weekly_email,
        "coffee_across_teams": preferences.coffee_across_teams,
        "dont_pair_count": len(preferences.dont_pair),
    }
