"""Coffee pairing: who is in the pools, each member's free time (`SlotView`), the groups
and their common slots, and the records a round and the pairing history keep.

People appear only as keyed pseudonyms (HMAC of the address, `people.pseudonym`), so the
history can be kept without addresses and purged when a person's data is erased. A round
names people by the key their alias items resolve (the scan needs the addresses); the
never-pair lists and the history use keys of their own (`domain.access`), so no stored
item resolves them.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from itertools import combinations, permutations

from micromoments.domain.free_slots import Availability, common_free_slots, fit, working_intervals
from micromoments.domain.holds import SOCIAL_KINDS, STANDING, Hold, HoldKind, HoldStatus
from micromoments.domain.intervals import Interval, clip, intersect, union
from micromoments.domain.people import Person, PersonStatus, pseudonym
from micromoments.domain.settings import CoffeePool
from micromoments.domain.working_hours import WorkingHours, local_instant


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


@dataclass(frozen=True, slots=True)
class PairingHistoryEntry:
    person: str  # pseudonym
    partner: str  # pseudonym
    iso_week: str
    kinds: tuple[str, ...] = field(default=("coffee",))


# --------------------------------------------------------------------------------------------
# Who can be paired, and in which pool
# --------------------------------------------------------------------------------------------

Slot = Interval  # epoch seconds, half-open
SlotFinder = Callable[[tuple[str, ...]], Slot | None]

NO_PARTNER = "no other opted-in person in the pool this week"
NO_SLOT = "no common free slot with an available partner this week"

_REPEAT = 1_000_000  # any repeat costs more than every other preference together
_SAME_TEAM = 1_000  # same team while one of the two asked to meet other teams
_WINDOW = 48  # candidate partners looked at per person in a large pool
_TRIES = 8  # slot searches per person before they wait for the leftover pass
_EXACT_UP_TO = 9  # pools this small are solved exactly


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
# Common slots
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SlotView:
    """One member's week as the coffee slot search sees it (epoch seconds, sorted lists).

    ``working``: working hours in the member's own zone (`free_slots.working_intervals`);
    ``busy``: busy events and every hold; ``excluded``: whole local days a coffee chat may
    not land on (unavailable, or with a social-kind hold already); ``overloaded``: whole
    local days flagged overloaded, preferred; ``minutes``: the member's coffee length.
    """

    working: tuple[Interval, ...]
    busy: tuple[Interval, ...] = ()
    excluded: tuple[Interval, ...] = ()
    overloaded: tuple[Interval, ...] = ()
    minutes: int = 20


def _local_days(days: Iterable[date], tz: tzinfo) -> list[Interval]:
    return union(
        (local_instant(d, 0, tz), local_instant(d + timedelta(days=1), 0, tz)) for d in days
    )


def slot_view(
    *,
    hours: WorkingHours,
    tz: tzinfo,
    within: Interval,
    busy: Iterable[Interval] = (),
    holds: Iterable[Hold] = (),
    unavailable_days: Iterable[date] = (),
    overloaded_days: Iterable[date] = (),
    minutes: int = 20,
) -> SlotView:
    """A member's `SlotView` from their hours and zone, busy time, holds and day flags.

    Every live hold (planned, placed, kept, moved, adopted) counts as busy, free holds too;
    a day with a live social-kind hold, or a dismissed coffee chat, is excluded whole.
    """
    every = list(holds)
    live = [h for h in every if h.status in STANDING]
    taken = [(int(h.start.timestamp()), int(h.end.timestamp())) for h in live]
    social = {h.day for h in live if h.kind in SOCIAL_KINDS}
    social |= {
        h.day for h in every if h.kind is HoldKind.COFFEE and h.status is HoldStatus.DISMISSED
    }
    return SlotView(
        working=tuple(working_intervals(hours, tz, within)),
        busy=tuple(clip(union([*busy, *taken]), *within)),
        excluded=tuple(_local_days({*unavailable_days, *social}, tz)),
        overloaded=tuple(_local_days(overloaded_days, tz)),
        minutes=minutes,
    )


def common_slot(
    views: Sequence[SlotView],
    *,
    within: Interval,
    earliest: int | None = None,
    spread: int | None = None,
) -> Slot | None:
    """A slot free for every member, inside everyone's working hours, on nobody's excluded
    day, on the 5-minute grid, as long as the shortest coffee any member chose; a day where
    a member is overloaded wins over any other ("load-aware").

    Without ``spread``: the earliest such slot. With it (a number drawn from the group, see
    `slot_finder`): one of the days that have such a slot, picked by ``spread``, and on it
    the slot nearest the middle of the members' common working hours, so a week's chats
    fan out over its days instead of piling up on Monday morning.
    """
    if not views:
        return None
    length = min(v.minutes for v in views) * 60
    lo = within[0] if earliest is None else max(within[0], earliest)
    people = [Availability(working=v.working, busy=[*v.busy, *v.excluded]) for v in views]
    free = common_free_slots(people, within=(lo, within[1]), minimum=length)
    loaded = union(d for v in views for d in v.overloaded)
    if spread is None:
        return fit(intersect(free, loaded), length, earliest=lo) or fit(free, length, earliest=lo)
    hours = [Availability(working=v.working, busy=()) for v in views]
    days = common_free_slots(hours, within=(lo, within[1]), minimum=length)
    for preferred in (intersect(free, loaded), free):
        choices: list[Slot] = []
        for day in days:
            slot = fit(intersect(preferred, [day]), length, earliest=lo, anchor=sum(day) // 2)
            if slot is not None:
                choices.append(slot)
        if choices:
            return choices[spread % len(choices)]
    return None


def slot_finder(
    views: Mapping[str, SlotView],
    *,
    within: Interval,
    earliest: int | None = None,
    spread: bool = True,
) -> SlotFinder:
    """A ``slot_finder`` for `form_groups` over members' views keyed by pseudonym; with
    ``spread``, each group's day is drawn from its members (`common_slot`)."""

    def find(members: tuple[str, ...]) -> Slot | None:
        if any(m not in views for m in members):
            return None
        draw = None
        if spread:
            digest = hashlib.sha256("|".join(members).encode()).digest()
            draw = int.from_bytes(digest[:4], "big")
        return common_slot(
            [views[m] for m in members], within=within, earliest=earliest, spread=draw
        )

    return find


# --------------------------------------------------------------------------------------------
# Forming groups
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
