"""People, their status and their preferences (every choice the web form offers)."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    field_validator,
)

from micromoments.domain.calendar import normalise_address, zone
from micromoments.domain.errors import DomainError, InvalidSetting
from micromoments.domain.holds import HoldKind
from micromoments.domain.settings import OrgSettings, WorkingHoursField, _string_list, explain
from micromoments.domain.working_hours import DAY_NAMES, WorkingHours

_EMAIL = re.compile(r"^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9-]+(\.[a-z0-9-]+)+$")
_PSEUDONYM = re.compile(r"^[0-9a-f]{64}$")


class PersonStatus(StrEnum):
    ACTIVE = "active"
    LEAVING = "leaving"
    OPTED_OUT = "opted_out"
    SUSPENDED = "suspended"
    # the person's own Google grant was revoked or expired: no scans until they reconnect
    NEEDS_RECONNECT = "needs_reconnect"


class PartOfDay(StrEnum):
    ANY = "any"
    MORNING = "morning"
    MIDDAY = "midday"
    AFTERNOON = "afternoon"


# Local minute ranges of each part of the day, intersected with working hours when planning.
PART_OF_DAY_MINUTES = {
    PartOfDay.ANY: (0, 24 * 60),
    PartOfDay.MORNING: (0, 12 * 60),
    PartOfDay.MIDDAY: (11 * 60 + 30, 14 * 60),
    PartOfDay.AFTERNOON: (13 * 60, 24 * 60),
}


def validate_email(address: str) -> str:
    """The address normalised (lowercase, no ``mailto:``), or `InvalidSetting`."""
    value = normalise_address(address) if isinstance(address, str) else ""
    if not _EMAIL.match(value) or len(value) > 254:
        raise InvalidSetting(f"{address!r} is not an email address")
    return value


def pseudonym(key: bytes, address: str) -> str:
    """A keyed pseudonym of an address (HMAC-SHA256): stored instead of the address."""
    return hmac.new(key, normalise_address(address).encode(), hashlib.sha256).hexdigest()


def _weekdays(value: Any) -> Any:
    items = _string_list(value) if isinstance(value, str) else value
    if isinstance(items, Iterable) and not isinstance(items, (str, bytes)):
        out = []
        for item in items:
            if isinstance(item, str):
                names = {n.lower(): i for i, n in enumerate(DAY_NAMES)}
                if item.strip().lower()[:3] not in names or len(item.strip()) not in (
                    3,
                    6,
                    7,
                    8,
                    9,
                ):
                    raise ValueError(f"unknown day {item!r}")
                out.append(names[item.strip().lower()[:3]])
            else:
                out.append(item)
        return frozenset(out)
    return value


Weekdays = Annotated[
    frozenset[Annotated[int, Field(ge=0, le=6)]],
    BeforeValidator(_weekdays),
    PlainSerializer(lambda days: [DAY_NAMES[d] for d in sorted(days)], return_type=list[str]),
]
Kinds = Annotated[
    frozenset[HoldKind],
    BeforeValidator(_string_list),
    PlainSerializer(lambda kinds: sorted(k.value for k in kinds), return_type=list[str]),
]
Pseudonyms = Annotated[
    frozenset[str],
    PlainSerializer(sorted, return_type=list[str]),
]


class Preferences(BaseModel):
    """A person's choices. ``None`` means "the org default"."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    moments: Kinds = frozenset(HoldKind)
    breather_minutes: int = Field(15, ge=10, le=15)
    social_minutes: int = Field(30, ge=15, le=30)
    coffee_minutes: int = Field(20, ge=15, le=30)
    holds_per_week: int | None = Field(None, ge=0, le=50)
    part_of_day: PartOfDay = PartOfDay.ANY
    working_hours: WorkingHoursField | None = None
    timezone: str | None = None
    quiet_days: Weekdays = frozenset()
    weekly_email: bool = True
    coffee_across_teams: bool = False
    dont_pair: Pseudonyms = frozenset()

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                zone(value)
            except DomainError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("dont_pair")
    @classmethod
    def _check_pseudonyms(cls, value: frozenset[str]) -> frozenset[str]:
        for item in value:
            if not _PSEUDONYM.match(item):
                raise ValueError("the don't-pair list holds pseudonyms only, never addresses")
        return value

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Preferences:
        try:
            return cls.model_validate(dict(item))
        except ValidationError as exc:
            raise InvalidSetting(explain(exc)) from None

    def to_item(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def wants(self, kind: HoldKind) -> bool:
        return kind in self.moments

    def with_dont_pair(self, key: bytes, addresses: Iterable[str]) -> Preferences:
        """Add addresses to the don't-pair list, keeping only their pseudonyms."""
        added = {pseudonym(key, validate_email(a)) for a in addresses}
        return self.model_copy(update={"dont_pair": self.dont_pair | added})


class Person(BaseModel):
    """An opted-in (or leaving, or former) member of the organisation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    email: str
    status: PersonStatus = PersonStatus.ACTIVE
    team: str | None = None
    timezone: str | None = None  # read from Google; the person's choice wins
    preferences: Preferences = Preferences()

    @field_validator("email")
    @classmethod
    def _check_email(cls, value: str) -> str:
        try:
            return validate_email(value)
        except DomainError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str | None) -> str | None:
        return Preferences._check_timezone(value)

    def zone_name(self, org_default: str) -> str:
        return self.preferences.timezone or self.timezone or org_default

    def zone(self, settings: OrgSettings) -> ZoneInfo:
        """The person's time zone: their choice, else Google's, else the org's; the org's
        too when theirs is not one this runtime knows (the one fallback for a bad zone)."""
        try:
            return zone(self.zone_name(settings.timezone))
        except DomainError:
            return zone(settings.timezone)

    def hours(self, org_default: WorkingHours) -> WorkingHours:
        return self.preferences.working_hours or org_default


def first_name(address: str) -> str:
    """The first name an address starts with, as a colleague would greet them:
    ``ana.silva2@example.com`` -> ``Ana``, ``jean-luc_picard@…`` -> ``Jean-Luc``. Never
    stored: shown to the person's coffee partner, who had it on their own calendar."""
    local = address.partition("@")[0].partition("+")[0]
    head = re.split(r"[._]", local, maxsplit=1)[0].rstrip("0123456789")
    return "-".join(part[:1].upper() + part[1:].lower() for part in head.split("-"))
