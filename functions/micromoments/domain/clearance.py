"""Clearance: a social-kind hold keeps at least 10 minutes from adjacent meetings, so it never
lengthens a back-to-back run (DESIGN.md "Holds"). A breather sits right after its run by
design and keeps no clearance.

A meeting joins a run when it starts at most ``BACK_TO_BACK_GAP_SECONDS`` (5 minutes) after
the run's end (`day_load`); a hold kept ``CLEARANCE_SECONDS`` away on both sides could not
join a run even if it were counted as a meeting, so the clearance is the larger of the two.

Every slot search for a social-kind hold (the planner's social time, the coffee slot search,
the watercooler drop-in, the organiser's scan moving a shared event, reconcile's check that
a hold still fits) treats the meetings ``near`` returns as busy: the rule lives here only.
"""

from __future__ import annotations

from collections.abc import Iterable

from micromoments.domain.day_load import BACK_TO_BACK_GAP_SECONDS
from micromoments.domain.holds import SOCIAL_KINDS, HoldKind
from micromoments.domain.intervals import Interval, union

CLEARANCE_MINUTES = 10  # DESIGN.md "Holds": a social-kind hold keeps 10 minutes from meetings
CLEARANCE_SECONDS = CLEARANCE_MINUTES * 60

if CLEARANCE_SECONDS <= BACK_TO_BACK_GAP_SECONDS:  # pragma: no cover - a constant's guard
    raise AssertionError("the clearance must exceed the back-to-back gap")


def keeps_clear(kind: HoldKind) -> bool:
    """Whether holds of ``kind`` keep the clearance: the social kinds, not breathers."""
    return kind in SOCIAL_KINDS


def near(meetings: Iterable[Interval]) -> list[Interval]:
    """The meetings widened by the clearance on both sides (sorted, disjoint): the time a
    social-kind hold may not touch."""
    return union((start - CLEARANCE_SECONDS, end + CLEARANCE_SECONDS) for start, end in meetings)


def too_close(slot: Interval, meetings: Iterable[Interval]) -> bool:
    """Whether ``slot`` overlaps a meeting or ends or starts less than the clearance from
    one (a gap of exactly ``CLEARANCE_MINUTES`` is clear)."""
    start, end = slot
    return any(s < end and start < e for s, e in near(meetings))
