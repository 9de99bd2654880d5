"""The weekly digest. For now: the record of a digest claimed or sent for one ISO week."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class DigestState(StrEnum):
    CLAIMED = "claimed"
    SENT = "sent"


@dataclass(frozen=True, slots=True)
class DigestRecord:
    person: str
    iso_week: str  # "2026-W48"
    state: DigestState
    at: datetime
