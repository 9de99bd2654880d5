"""The records of coffee pairing: a round's groups and the pairing history it leaves (what
the Store keeps and each scan reads; the pool a round pairs and its outcome are in
`pairing_pool`, which only the pairing loads)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from micromoments.domain.holds import HoldKind


@dataclass(frozen=True, slots=True)
class PairingGroup:
    """The members of one shared moment of a round, as sorted pseudonyms, and its slot.

    A coffee group is two people (three when a pool's count is odd); a watercooler group is
    the members of ``team`` free at the drop-in. The first member organises the event.
    """

    members: tuple[str, ...]
    start: datetime | None = None
    end: datetime | None = None
    reason: str | None = None  # why no slot was found, when none was
    kind: HoldKind = HoldKind.COFFEE
    team: str | None = None


@dataclass(frozen=True, slots=True)
class PairingRound:
    iso_week: str
    groups: tuple[PairingGroup, ...]
    created_at: datetime
    status: str = "planned"


def unmet(pairing_round: PairingRound, member: str) -> frozenset[HoldKind]:
    """The shared kinds (coffee, watercooler) the round gave ``member`` (a pseudonym) no
    moment of: they are in no group of that kind with a slot. The room a person's week kept
    for those is given back to their own social time (`planner`)."""
    met = {
        group.kind
        for group in pairing_round.groups
        if member in group.members and group.start is not None and len(group.members) >= 2
    }
    return frozenset({HoldKind.COFFEE, HoldKind.WATERCOOLER} - met)


@dataclass(frozen=True, slots=True)
class PairingHistoryEntry:
    person: str  # pseudonym
    partner: str  # pseudonym
    iso_week: str
    kinds: tuple[str, ...] = field(default=("coffee",))
