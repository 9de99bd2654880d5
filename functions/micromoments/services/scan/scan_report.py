"""What one scan did: the report the scan worker, the operator commands and the benchmarks
read."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ScanFailed(Exception):
    """This person's scan failed: the message goes back to the queue."""


class ScanOutcome(StrEnum):
    """How one scan ended (its value is what reports and ``--json`` print)."""

    SCANNED = "scanned"
    SKIPPED = "skipped"  # not opted in
    BUSY = "busy"  # another scan holds the lease
    SUSPENDED = "suspended"  # Google refused the account
    DRY_RUN = "dry-run"
    NEEDS_RECONNECT = "needs_reconnect"  # the person's own grant was revoked: just now


@dataclass(slots=True)
class ScanReport:
    """What one scan did. ``outcome``: scanned, skipped (not opted in), busy (another scan
    holds the lease), suspended (Google refused the account), or dry-run. ``quick``: scanned
    by the quick path (an empty delta, nothing due: nothing else read or written).

    ``google_requests`` and ``round_trips`` are the gateway's counters over the scan: exact
    for a scan on its own, but scans overlapping on one gateway (`scan_people`) see each
    other's calls, so batch totals are taken around the whole batch instead."""

    person: str
    outcome: ScanOutcome
    status: str = ""
    overloaded_days: int = 0
    holds: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("placed", "moved", "removed", "kept", "dismissed", "adopted"), 0
        )
    )
    failed_writes: int = 0
    google_requests: int = 0
    round_trips: int = 0
    quick: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "person": self.person,
            "outcome": str(self.outcome),
            "status": self.status,
            "overloaded_days": self.overloaded_days,
            "holds": dict(self.holds),
            "failed_writes": self.failed_writes,
            "google_requests": self.google_requests,
            "round_trips": self.round_trips,
            "quick": self.quick,
        }
