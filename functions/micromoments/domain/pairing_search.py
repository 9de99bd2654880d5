"""Forming coffee groups in one pool (`form_groups`): exact for small pools, greedy with
partner trades for larger ones; and how a round is measured (`premature_repeats`)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from itertools import combinations

from micromoments.domain.coffee_slots import Slot, SlotFinder
from micromoments.domain.pairing_pool import (
    NO_PARTNER,
    NO_SLOT,
    Candidate,
    PairingOutcome,
    Unpaired,
)
from micromoments.domain.pairing_records import PairingGroup

_REPEAT = 1_000_000  # any repeat costs more than every other preference together
_SAME_TEAM = 1_000  # same team while one of the two asked to meet other teams
_WINDOW = 48  # candidate partners looked at per person in a large pool
_TRIES = 8  # slot searches per person before they wait for the leftover pass
_EXACT_UP_TO = 9  # pools this small are solved exactly


def form_groups(
    pool: Sequence[Candidate],
    history: Mapping[str, Mapping[str, int]],
    *,
    slot_finder: SlotFinder,
    seed: int,
) -> PairingOutcome:
    """Pairs for one pool (one group of three when the count is odd), each with a slot.

    Rules, in order: nobody is grouped with someone they block or who blocks them; every
    group has a common slot (``slot_finder`` gets the sorted member pseudonyms and is asked
    lazily, once per group); as many people as possible are grouped; no repeat while a
    partner never met is available (exact for pools of up to nine, and for larger pools no
    repeat that trading partners with another group would avoid); people who asked to meet
    other teams meet other teams first. Deterministic for a seed, whatever the input order.

    Larger pools: greedy over a seeded order, most constrained people first, each taking
    the cheapest of up to ``_WINDOW`` free candidates that has a common slot (at most
    ``_TRIES`` slot searches each); a leftover pass; the odd person joins the cheapest pair
    that has a slot for three; then partner trades remove every avoidable repeat.
    """
    search = _Search(pool, history, slot_finder, seed)
    if len(search.ids) <= _EXACT_UP_TO:
        groups, left = search.exact()
    else:
        groups, left = search.greedy()
    return search.outcome(groups, left)


class _Search:
    def __init__(
        self,
        pool: Sequence[Candidate],
        history: Mapping[str, Mapping[str, int]],
        slot_finder: SlotFinder,
        seed: int,
    ) -> None:
        people = sorted({c.id: c for c in pool}.values(), key=lambda c: c.id)
        self.ids = [c.id for c in people]
        index = {pid: i for i, pid in enumerate(self.ids)}
        self.rng = random.Random(f"micromoments-pairing:{seed}")
        n = len(people)
        self.blocked: list[set[int]] = [set() for _ in range(n)]
        for i, c in enumerate(people):
            for other in c.blocked:
                j = index.get(other)
                if j is not None and j != i:
                    self.blocked[i].add(j)
                    self.blocked[j].add(i)
        self.met: list[dict[int, int]] = [{} for _ in range(n)]
        for i, pid in enumerate(self.ids):
            for partner, weight in history.get(pid, {}).items():
                j = index.get(partner)
                if j is not None and j != i and weight > 0:
                    w = max(weight, self.met[i].get(j, 0))
                    self.met[i][j] = w
                    self.met[j][i] = w
        self.team = [c.team for c in people]
        self.across = [c.across_teams for c in people]
        self.finder = slot_finder
        self.slots: dict[tuple[int, ...], Slot | None] = {}
        self.calls = 0

    # -- costs and checks --------------------------------------------------------------

    def cost(self, i: int, j: int) -> int:
        w = self.met[i].get(j, 0)
        c = _REPEAT + w if w else 0
        if (self.across[i] or self.across[j]) and self.team[i] == self.team[j]:
            c += _SAME_TEAM
        return c

    def group_cost(self, group: Sequence[int]) -> int:
        return sum(self.cost(a, b) for a, b in combinations(group, 2))

    def repeats(self, group: Sequence[int]) -> int:
        return sum(1 for a, b in combinations(group, 2) if b in self.met[a])

    def allowed(self, group: Sequence[int]) -> bool:
        return all(b not in self.blocked[a] for a, b in combinations(group, 2))

    def slot(self, group: Sequence[int]) -> Slot | None:
        key = tuple(sorted(group))
        if key in self.slots:
            return self.slots[key]
        self.calls += 1
        found = self.finder(tuple(self.ids[i] for i in key))
        self.slots[key] = found
        return found

    # -- small pools: exact ------------------------------------------------------------

    def exact(self) -> tuple[list[list[int]], list[int]]:
        n = len(self.ids)
        pair_ok = {
            (a, b): self.allowed((a, b)) and self.slot((a, b)) is not None
            for a, b in combinations(range(n), 2)
        }
        for k in range(n - 1):
            found: list[tuple[int, int, float, list[list[int]]]] = []
            for left in combinations(range(n), k):
                members = [i for i in range(n) if i not in left]
                for grouping in _perfect(members, lambda a, b: pair_ok[(a, b)]):
                    reps = sum(self.repeats(g) for g in grouping)
                    cost = sum(self.group_cost(g) for g in grouping)
                    found.append((reps, cost, self.rng.random(), grouping))
            found.sort(key=lambda item: item[:3])
            for *_, grouping in found:
                if all(len(g) == 2 or self.slot(g) is not None for g in grouping):
                    grouped = {i for g in grouping for i in g}
                    return grouping, [i for i in range(n) if i not in grouped]
        return [], list(range(n))

    # -- larger pools: greedy, then trades ---------------------------------------------

    def greedy(self) -> tuple[list[list[int]], list[int]]:
        n = len(self.ids)
        order = list(range(n))
        self.rng.shuffle(order)
        rank = [0] * n
        for r, i in enumerate(order):
            rank[i] = r
        # most constrained first: blocks and past partners leave fewer good choices
        order.sort(key=lambda i: -(len(self.blocked[i]) + len(self.met[i])))
        groups: list[list[int]] = []
        free = self._match(order, rank, groups, window=_WINDOW, tries=_TRIES)
        if len(free) > 1:
            free = self._match(free, rank, groups, window=4 * _WINDOW, tries=4 * _TRIES)
        if free and groups:
            free = self._trio(free, groups)
        self._trade(groups)
        return groups, free

    def _match(
        self, order: list[int], rank: list[int], groups: list[list[int]], *, window: int, tries: int
    ) -> list[int]:
        """Pair people of ``order`` among themselves; the ones left, in order."""
        free = list(order)
        where = {p: k for k, p in enumerate(free)}

        def take(p: int) -> None:
            k = where.pop(p)
            last = free.pop()
            if last != p:
                free[k] = last
                where[last] = k

        for p in order:
            if p not in where:
                continue
            if len(free) < 2:
                break
            if len(free) - 1 <= 2 * window:
                pool = [q for q in free if q != p]
            else:
                pool = [free[k] for k in self.rng.sample(range(len(free)), window + 1)]
                pool = [q for q in pool if q != p][:window]
            blocked = self.blocked[p]
            options = sorted(
                (q for q in pool if q not in blocked), key=lambda q: (self.cost(p, q), rank[q])
            )
            for q in options[:tries]:
                if self.slot((p, q)) is not None:
                    groups.append([p, q])
                    take(p)
                    take(q)
                    break
        return [p for p in order if p in where]

    def _trio(self, free: list[int], groups: list[list[int]]) -> list[int]:
        """The first of ``free`` that can join a pair as its third member does so."""
        pairs = [k for k, g in enumerate(groups) if len(g) == 2]
        if len(pairs) < len(groups):
            return free  # one group of three per pool at most
        for u in free[:3]:
            look = pairs if len(pairs) <= 2 * _WINDOW else self.rng.sample(pairs, 2 * _WINDOW)
            options = sorted(
                (k for k in look if self.allowed((u, *groups[k]))),
                key=lambda k: (self.group_cost((u, *groups[k])), k),
            )
            for k in options[:_TRIES]:
                if self.slot((u, *groups[k])) is not None:
                    groups[k] = [*groups[k], u]
                    return [p for p in free if p != u]
        return free

    def _trade(self, groups: list[list[int]]) -> None:
        """Trade partners between two groups while that lowers the repeats; ends since each
        trade lowers the total."""
        changed = True
        while changed:
            changed = False
            for k in range(len(groups)):
                if not self.repeats(groups[k]):
                    continue
                for m in range(len(groups)):
                    if m == k:
                        continue
                    better = self._better_split(groups[k], groups[m])
                    if better is not None:
                        groups[k], groups[m] = better
                        changed = True
                        break

    def _better_split(self, g1: list[int], g2: list[int]) -> tuple[list[int], list[int]] | None:
        """The cheapest other split of two groups with fewer repeats and a slot for both."""
        now = self.repeats(g1) + self.repeats(g2)
        options = sorted(
            (self.repeats(a) + self.repeats(b), self.group_cost(a) + self.group_cost(b), a, b)
            for a, b in _splits(g1, g2)
            if self.allowed(a) and self.allowed(b)
        )
        for reps, _, a, b in options:
            if reps >= now:
                break
            if self.slot(a) is not None and self.slot(b) is not None:
                return a, b
        return None

    # -- result ------------------------------------------------------------------------

    def outcome(self, groups: list[list[int]], left: list[int]) -> PairingOutcome:
        made: list[PairingGroup] = []
        for g in groups:
            slot = self.slot(g)
            assert slot is not None  # every group was formed with its slot
            made.append(
                PairingGroup(
                    members=tuple(sorted(self.ids[i] for i in g)),
                    start=datetime.fromtimestamp(slot[0], UTC),
                    end=datetime.fromtimestamp(slot[1], UTC),
                )
            )
        made.sort(key=lambda g: g.members)
        reason = NO_PARTNER if len(self.ids) < 2 else NO_SLOT
        unpaired = [Unpaired(self.ids[i], reason) for i in left]
        return PairingOutcome(
            tuple(made), tuple(sorted(unpaired, key=lambda u: u.person)), self.calls
        )


def _perfect(
    members: list[int], pair_ok: Callable[[int, int], bool], trio_used: bool = False
) -> Iterator[list[list[int]]]:
    """Every split of ``members`` into pairs of allowed partners (one trio when odd)."""
    if not members:
        yield []
        return
    first, rest = members[0], members[1:]
    if len(rest) % 2 == 1 or not trio_used:
        for x, j in enumerate(rest):
            if not pair_ok(first, j):
                continue
            remaining = rest[:x] + rest[x + 1 :]
            if len(remaining) % 2 == 1 and trio_used:
                continue
            for tail in _perfect(remaining, pair_ok, trio_used):
                yield [[first, j], *tail]
    if not trio_used and len(members) % 2 == 1:
        for x, y in combinations(range(len(rest)), 2):
            j, k = rest[x], rest[y]
            if pair_ok(first, j) and pair_ok(first, k) and pair_ok(j, k):
                remaining = [r for z, r in enumerate(rest) if z not in (x, y)]
                for tail in _perfect(remaining, pair_ok, True):
                    yield [[first, j, k], *tail]


def _splits(g1: Sequence[int], g2: Sequence[int]) -> Iterator[tuple[list[int], list[int]]]:
    """The other ways to split the members of two groups into groups of the same sizes."""
    everyone = sorted([*g1, *g2])
    original = {frozenset(g1), frozenset(g2)}
    seen: set[frozenset[int]] = set()
    for a in combinations(everyone, len(g1)):
        b = [p for p in everyone if p not in a]
        key = frozenset(a)
        if key in seen or {key, frozenset(b)} == original:
            continue
        seen.add(key)
        yield list(a), b


# --------------------------------------------------------------------------------------------
# Measuring a round (for tests and the bench)
# --------------------------------------------------------------------------------------------


def premature_repeats(
    groups: Sequence[Sequence[str]],
    pool: Sequence[Candidate],
    history: Mapping[str, Mapping[str, int]],
    *,
    can_meet: Callable[[tuple[str, ...]], bool] | None = None,
) -> int:
    """Repeats a round should not have had.

    A repeat is two members of one group who met before. In a pool of ten or more: the
    repeats that trading partners with one other group of the round would have avoided (the
    two groups, split differently into groups of the same sizes, all allowed and able to
    meet, with fewer repeats in all, and the two apart). In a pool of nine or fewer: how many
    more repeats the round has than the fewest of any valid grouping that groups at least as
    many people. ``can_meet`` (sorted pseudonyms -> has a common slot) defaults to always.
    """
    search = _Search(pool, history, lambda ids: (0, 1), 0)
    index = {pid: i for i, pid in enumerate(search.ids)}
    rounds = [[index[p] for p in g] for g in groups if len(g) > 1]

    def meets(group: Sequence[int]) -> bool:
        if not search.allowed(group):
            return False
        return can_meet is None or can_meet(tuple(sorted(search.ids[i] for i in group)))

    if len(search.ids) <= _EXACT_UP_TO:
        n = len(search.ids)
        have = sum(search.repeats(g) for g in rounds)
        covered = sum(len(g) for g in rounds)
        pair_ok = {(a, b): meets((a, b)) for a, b in combinations(range(n), 2)}
        fewest: int | None = None
        for k in range(n - covered + 1):
            for left in combinations(range(n), k):
                members = [i for i in range(n) if i not in left]
                for grouping in _perfect(members, lambda a, b: pair_ok[(a, b)]):
                    if all(len(g) == 2 or meets(g) for g in grouping):
                        reps = sum(search.repeats(g) for g in grouping)
                        fewest = reps if fewest is None else min(fewest, reps)
        return max(0, have - fewest) if fewest is not None else have
    count = 0
    for k, g1 in enumerate(rounds):
        for a, b in combinations(g1, 2):
            if b not in search.met[a]:
                continue
            for m, g2 in enumerate(rounds):
                if m == k:
                    continue
                now = search.repeats(g1) + search.repeats(g2)
                if any(
                    search.repeats(x) + search.repeats(y) < now
                    and not ({a, b} <= set(x) or {a, b} <= set(y))
                    and meets(x)
                    and meets(y)
                    for x, y in _splits(g1, g2)
                ):
                    count += 1
                    break
    return count
