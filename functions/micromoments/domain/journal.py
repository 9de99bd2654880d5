"""The write journal: every Calendar insert, patch and delete is recorded before it is sent.

A crash between journal and apply is resolved by the next scan: a pending insert is
re-sent only after a GET of its id shows it missing; a pending patch or delete is checked
against the calendar and completed (DESIGN.md "Holds", Safety).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from micromoments.domain.holds import Hold


class WriteOp(StrEnum):
    INSERT = "insert"
    PATCH = "patch"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One intended Calendar write. ``seq`` orders the entries of one hold."""

    hold_id: str
    seq: int
    op: WriteOp
    hold: Hold
    written_at: datetime
    applied: bool = False

    @property
    def key(self) -> str:
        return f"{self.hold_id}#{self.seq:06d}"
