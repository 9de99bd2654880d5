"""A digest record per person and week makes sending a weekly digest exactly-once-ish:
claimed (a conditional create) before sending, marked sent after (docs/decisions.md
"Weekly digest"). What the Store keeps, apart from `digest`, which computes the digest
itself: the Store is in every function, the digest's numbers only in the digest's."""

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
