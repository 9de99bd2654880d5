"""The pool a pairing round forms groups from: the candidates (pseudonyms, never addresses)
and the round's outcome, groups and who stays unpaired (`pairing_search` forms them)."""

from __future__ import annotations

from dataclasses import dataclass

from micromoments.domain.pairing_records import PairingGroup

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
