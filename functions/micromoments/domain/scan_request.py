"""The message that asks for one person's scan (the scan queue's body)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

from micromoments.domain.errors import DomainError
from micromoments.domain.people import validate_email


class ScanReason(StrEnum):
    HOURLY = "hourly"  # every hour of a workday: before push, and where none (Microsoft 365)
    SAFETY = "safety"  # the daily safety scan, in the person's morning
    DUE = "due"  # time-driven work is due (a hold's time came, a scan left work over)
    OPT_IN = "opt_in"
    OPT_OUT = "opt_out"
    PAIRING = "pairing"  # an organiser of the week's new coffee chats or drop-ins
    PUSH = "push"  # a verified change notification on the person's calendar
    PREFERENCES = "preferences"  # the person changed their preferences on the site


class MalformedMessage(DomainError):
    """A queue message that is not a scan request: rejected, logged, never retried."""


@dataclass(frozen=True, slots=True)
class ScanRequest:
    person: str
    reason: ScanReason = ScanReason.HOURLY

    def to_body(self) -> str:
        return json.dumps({"person": self.person, "reason": self.reason.value})

    @classmethod
    def from_body(cls, body: str) -> ScanRequest:
        try:
            data = json.loads(body)
        except (TypeError, ValueError, RecursionError):  # nested past the decoder's limit
            raise MalformedMessage("the message body is not JSON") from None
        if not isinstance(data, dict) or set(data) - {"person", "reason"}:
            raise MalformedMessage("expected an object with 'person' and 'reason'")
        person = data.get("person")
        if not isinstance(person, str):
            raise MalformedMessage("'person' must be an email address")
        try:
            email = validate_email(person)
            reason = ScanReason(data.get("reason", ScanReason.HOURLY.value))
        except (DomainError, ValueError) as exc:
            raise MalformedMessage(str(exc)) from None
        return cls(email, reason)
