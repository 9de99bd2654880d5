"""The records of coffee pairing: a round's groups and the pairing history it leaves, the
candidates a round pairs (pseudonyms, never addresses), and a round's outcome."""

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


NO_PARTNER = "no other opted-in person in the pool this week"
NO_SLOT = "no common free slot with an available partner this week"


@dataclass(frozen=True, slots=True)
class Candidate:
    """One opted-in person as pairing sees them: a pseudonym, never an address."""

    id: str  # pseudonym
    team: str | None = None
    across_teams: bool = False  # prefers to meet people of other teams
    blocked: frozenset[str] = frozenset()  # never paired with these (either side blocks)


@dataclass(frozen=True, slots=True)
class Unpaired:
    person: str  # pseudonym
    reason: str  # never names anyone, never says a don't-pair list played a part


@dataclass(frozen=True, slots=True)
class PairingOutcome:
    """Groups with their slot (members sorted), and who stays unpaired and why."""

    groups: tuple[PairingGroup, ...]
    unpaired: tuple[Unpaired, ...]
    slot_searches: int = 0  # calls made to the slot finder (a measure, not a result)
