"""Org settings: one validated item per deployment (DESIGN.md "One deployment").

`OrgSettings.updated` takes ``KEY=VALUE`` style strings, as ``micromoments org set`` does,
and raises `InvalidSetting` naming the key; a failed update changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    field_validator,
)

from micromoments.domain.addresses import canonical_domain
from micromoments.domain.calendar import zone
from micromoments.domain.errors import DomainError, InvalidSetting
from micromoments.domain.grants import GoogleAccessMode
from micromoments.domain.working_hours import DAY_NAMES, DEFAULT_WORKING_HOURS, WorkingHours


def _working_hours(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return WorkingHours.parse(value)
        except DomainError as exc:
            raise ValueError(str(exc)) from None
    return value


def _string_list(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


WorkingHoursField = Annotated[
    WorkingHours,
    BeforeValidator(_working_hours),
    PlainSerializer(str, return_type=str),
]

_DIGEST_SEND = re.compile(r"^(?P<day>[A-Z][a-z]{2}) (?P<h>[01]\d|2[0-3]):(?P<m>[0-5]\d)$")


class CoffeePool(StrEnum):
    ORG = "org"
    TEAM = "team"


class CalendarProvider(StrEnum):
    """Where the org's calendars live (DESIGN.md "One deployment, one organisation")."""

    GOOGLE = "google"
    MICROSOFT = "microsoft"


class OrgSettings(BaseModel):
    """Every org-wide setting, with DESIGN.md's names and defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    allowed_domains: Annotated[tuple[str, ...], BeforeValidator(_string_list)] = ()
    timezone: str = "UTC"
    working_hours: WorkingHoursField = DEFAULT_WORKING_HOURS
    meeting_minutes_max: int = Field(300, ge=1, le=1440)
    back_to_back_minutes_max: int = Field(120, ge=1, le=1440)
    back_to_back_meetings_max: int = Field(3, ge=2, le=100)
    after_hours_minutes_max: int = Field(60, ge=1, le=1440)
    holds_per_week: int = Field(5, ge=0, le=50)
    social_per_week: int = Field(2, ge=0, le=7)
    coffee_per_week: int = Field(1, ge=0, le=7)
    watercooler_per_week: int = Field(1, ge=0, le=7)
    flex_free_minutes: int = Field(60, ge=0, le=1440)
    coffee_pool: CoffeePool = CoffeePool.ORG
    digest_send: str = "Fri 15:00"
    planning_weeks: int = Field(2, ge=1, le=8)
    paused: bool = False
    # how the functions reach calendars: delegation, each person's own grant, or both
    # (docs/google-access.md)
    google_access: GoogleAccessMode = GoogleAccessMode.DELEGATION
    calendar_provider: CalendarProvider = CalendarProvider.GOOGLE

    @field_validator("allowed_domains")
    @classmethod
    def _check_domains(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        # the form addresses are compared in (an internationalised name as its A-label)
        try:
            return tuple(dict.fromkeys(canonical_domain(d) for d in value))
        except DomainError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            zone(value)
        except DomainError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("digest_send")
    @classmethod
    def _check_digest_send(cls, value: str) -> str:
        match = _DIGEST_SEND.match(value.strip())
        if not match or match["day"] not in DAY_NAMES:
            raise ValueError("expected a weekday and a time, e.g. 'Fri 15:00'")
        return value.strip()

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(cls.model_fields)

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> OrgSettings:
        """Settings from a stored mapping; unknown keys and bad values raise `InvalidSetting`."""
        try:
            return cls.model_validate(dict(item))
        except ValidationError as exc:
            raise InvalidSetting(explain(exc)) from None

    def updated(self, changes: Mapping[str, Any]) -> OrgSettings:
        """A copy with ``changes`` applied and validated as a whole."""
        unknown = sorted(set(changes) - set(self.keys()))
        if unknown:
            raise InvalidSetting(
                f"unknown setting {unknown[0]!r}; known settings: {', '.join(self.keys())}"
            )
        data = self.to_item()
        data.update(changes)
        return self.from_item(data)

    def to_item(self) -> dict[str, Any]:
        """A JSON-ready mapping: working hours as their text, domains as a list."""
        data = self.model_dump(mode="json")
        data["allowed_domains"] = list(self.allowed_domains)
        return data

    def allows(self, email: str) -> bool:
        """Whether an address belongs to one of the org's allowed domains."""
        _, _, domain = email.strip().lower().rpartition("@")  # canonical addresses
        return bool(domain) and domain in self.allowed_domains

    @property
    def digest_weekday(self) -> int:
        return DAY_NAMES.index(self.digest_send[:3])

    @property
    def digest_minute(self) -> int:
        hours, minutes = self.digest_send[4:].split(":")
        return int(hours) * 60 + int(minutes)


def explain(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "value"
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown setting"
        parts.append(f"{where}: {message}")
    return "; ".join(parts)
