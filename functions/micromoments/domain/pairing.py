"""Coffee pairing. For now: the records a round and the pairing history keep.

People appear only as keyed pseudonyms (HMAC of the address, `people.pseudonym`), so the
history can be kept without addresses and purged when a person's data is erased.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class PairingGroup:
    """Two (or, with an odd count, three) pseudonyms and the slot found for them."""

    members: tuple[str, ...]
    start: datetime | None = None
    end: datetime | None = None
    reason: str | None = None  # why no slot was found, when none was


@dataclass(frozen=True, slots=True)
class PairingRound:
    iso_week: str
    groups: tuple[PairingGroup, ...]
    created_at: datetime
    status: str = "planned"


@dataclass(frozen=True, slots=True)
class PairingHistoryEntry:
    person: str  # pseudonym
    partner: str  # pseudonym
    iso_week: str
    kinds: tuple[str, ...] = field(default=("coffee",))
