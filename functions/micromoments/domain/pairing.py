"""Coffee pairing: who is in the pools, each member's free time (`SlotView`), the groups
and their common slots, and the records a round and the pairing history keep.

People appear only as keyed pseudonyms (HMAC of the address, `people.pseudonym`), so the
history can be kept without addresses and purged when a person's data is erased. A round
names people by the key their alias items resolve (the scan needs the addresses); the
never-pair lists and the history use keys of their own (`domain.access`), so no stored
item resolves them.

The records live in `pairing_records`, the slot search in `coffee_slots`, forming the groups
of one pool in `pairing_search`; their public names are importable from here too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import permutations

from micromoments.domain.coffee_slots import (
    Slot,
    SlotFinder,
    SlotView,
    common_slot,
    slot_finder,
    slot_view,
)
from micromoments.domain.holds import HoldKind
from micromoments.domain.pairing_pool import (
    NO_PARTNER,
    NO_SLOT,
    Candidate,
    PairingOutcome,
    Unpaired,
)
from micromoments.domain.pairing_records import (
    PairingGroup,
    PairingHistoryEntry,
    PairingRound,
    unmet,
)
from micromoments.domain.pairing_search import form_groups, premature_repeats
from micromoments.domain.people import Person, PersonStatus, pseudonym
from micromoments.domain.settings import CoffeePool

__all__ = [
    "NO_PARTNER",
    "NO_SLOT",
    "Candidate",
    "PairingGroup",
    "PairingHistoryEntry",
    "PairingOutcome",
    "PairingRound",
    "Slot",
    "SlotFinder",
    "SlotView",
    "Unpaired",
    "candidates",
    "common_slot",
    "form_groups",
    "history_entries",
    "history_weights",
    "plan_round",
    "pools",
    "premature_repeats",
    "slot_finder",
    "slot_view",
    "unmet",
    "wants_coffee",
]


# --------------------------------------------------------------------------------------------
# Who can be paired, and in which pool
# --------------------------------------------------------------------------------------------


def wants_coffee(person: Person) -> bool:
    return person.status is PersonStatus.ACTIVE and person.preferences.wants(HoldKind.COFFEE)


def candidates(
    people: Iterable[Person], key: bytes, never_pair: bytes | None = None
) -> list[Candidate]:
    """The people who opted in to coffee chats, as pseudonymous candidates (``key``: the
    round's pseudonyms). Never-pair lists name people under their own key (``never_pair``):
    an entry naming someone of the pool becomes that candidate's id; an entry stored under
    ``key`` before the lists had a key of their own is already one."""
    wanted = [p for p in people if wants_coffee(p)]
    ids = {p.email: pseudonym(key, p.email) for p in wanted}
    named = {pseudonym(never_pair, e): i for e, i in ids.items()} if never_pair else {}
    return [
        Candidate(
            id=ids[p.email],
            team=p.team,
            across_teams=p.preferences.coffee_across_teams,
            blocked=frozenset(named.get(entry, entry) for entry in p.preferences.dont_pair),
        )
        for p in wanted
    ]


def pools(people: Iterable[Candidate], coffee_pool: CoffeePool) -> list[list[Candidate]]:
    """The whole org as one pool, or one pool per team (people without a team share one).

    Pools and their members come sorted, so the input order never changes a round.
    """
    everyone = sorted(people, key=lambda c: c.id)
    if coffee_pool is CoffeePool.ORG:
        return [everyone] if everyone else []
    by_team: dict[str, list[Candidate]] = {}
    for c in everyone:
        by_team.setdefault(c.team or "", []).append(c)
    return [by_team[team] for team in sorted(by_team)]


def history_weights(entries: Iterable[PairingHistoryEntry]) -> dict[str, dict[str, int]]:
    """Pairing history as ``pseudonym -> partner -> weight`` (0 or absent: never met).

    The weight grows with the times met and, among equal counts, with how recent the last
    meeting was, so a forced repeat goes to the pair that met least, longest ago.
    """
    rows = list(entries)
    weeks = {w: i + 1 for i, w in enumerate(sorted({e.iso_week for e in rows}))}
    span = len(weeks) + 1
    met: dict[tuple[str, str], set[int]] = {}
    for e in rows:
        if e.person != e.partner:  # an entry may be stored once per direction
            pair = (min(e.person, e.partner), max(e.person, e.partner))
            met.setdefault(pair, set()).add(weeks[e.iso_week])
    out: dict[str, dict[str, int]] = {}
    for (a, b), when in met.items():
        weight = len(when) * span + max(when)
        out.setdefault(a, {})[b] = weight
        out.setdefault(b, {})[a] = weight
    return out


def history_entries(round_: PairingRound) -> list[PairingHistoryEntry]:
    """One entry per direction for every pair of members of every group that has a slot."""
    out: list[PairingHistoryEntry] = []
    for group in round_.groups:
        if group.start is None:
            continue
        for a, b in permutations(group.members, 2):
            out.append(PairingHistoryEntry(person=a, partner=b, iso_week=round_.iso_week))
    return out


# --------------------------------------------------------------------------------------------
# Forming the groups of a round (one pool: `pairing_search.form_groups`)
# --------------------------------------------------------------------------------------------


def plan_round(
    people: Iterable[Candidate],
    coffee_pool: CoffeePool,
    history: Mapping[str, Mapping[str, int]],
    *,
    slot_finder: SlotFinder,
    seed: int,
) -> PairingOutcome:
    """`form_groups` over every pool of the org, each with its own seed derived from ``seed``."""
    groups: list[PairingGroup] = []
    unpaired: list[Unpaired] = []
    searches = 0
    for number, pool in enumerate(pools(people, coffee_pool)):
        outcome = form_groups(
            pool, history, slot_finder=slot_finder, seed=seed * 1_000_003 + number
        )
        groups.extend(outcome.groups)
        unpaired.extend(outcome.unpaired)
        searches += outcome.slot_searches
    return PairingOutcome(tuple(groups), tuple(unpaired), searches)
