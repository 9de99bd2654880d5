"""The message that asks for one person's weekly digest (the digest queue's body)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date

from micromoments.domain.errors import DomainError
from micromoments.domain.people import validate_email

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class MalformedDigestRequest(DomainError):
    """A digest-queue message that is not a digest request: rejected, logged, never retried."""


def parse_week(text: str) -> str:
    """``2026-W48`` as given, or `DomainError` when it is not an ISO week."""
    match = _WEEK.match(text.strip()) if isinstance(text, str) else None
    try:
        if match is None:
            raise ValueError(text)
        date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise DomainError(f"{text!r} is not an ISO week like 2026-W48") from None
    return f"{match[1]}-W{match[2]}"


@dataclass(frozen=True, slots=True)
class DigestRequest:
    """The digest queue's message: whose digest, for which ISO week (their local one)."""

    person: str
    iso_week: str

    def to_body(self) -> str:
        return json.dumps({"person": self.person, "week": self.iso_week})

    @classmethod
    def from_body(cls, body: str) -> DigestRequest:
        try:
            data = json.loads(body)
        except (TypeError, ValueError):
            raise MalformedDigestRequest("the message body is not JSON") from None
        if not isinstance(data, dict) or set(data) != {"person", "week"}:
            raise MalformedDigestRequest("expected an object with 'person' and 'week'")
        person, week = data["person"], data["week"]
        if not isinstance(person, str) or not isinstance(week, str):
            raise MalformedDigestRequest("'person' and 'week' must be strings")
        try:
            return cls(validate_email(person), parse_week(week))
        except DomainError as exc:
            raise MalformedDigestRequest(str(exc)) from None
