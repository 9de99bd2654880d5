"""The per-person scan lease: one scan at a time, expiring with the function timeout."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Lease:
    person: str
    owner: str
    expires_at: datetime

    def held_at(self, now: datetime) -> bool:
        return now < self.expires_at
