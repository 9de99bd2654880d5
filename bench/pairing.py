"""Benchmark: coffee-chat pairing rounds of a large org, slot search included.

The org (default): 100 teams of 100 people (10,000) plus 200 small teams of 3-9 people
(seeded sizes, about 1,200 more), coffee pooled per team (``CoffeePool.TEAM``): 300
pools. ``people`` in the report is every candidate, the small teams' people included.
About 5% of people asked to meet other teams (``across_teams``; in team pools that only
adds the same cost to every partner) and about 3% keep a don't-pair list of 1-3 people of
their own pool (never all of the others), so the blocks are really exercised.

Calendars. Each team works in one region of two or three IANA zones (Berlin/London/New
York, Berlin/London/Helsinki, New York/Chicago/Los Angeles, Kolkata/Berlin/London,
Tokyo/Singapore/Sydney), each member in one of them, with working hours drawn from a few
variants (9-17, 8-16, 10-18, a four-day week, a lunch break); a team whose variants leave
no common half hour in some week gets narrower variants (``teams_with_narrowed_hours``).
Cross-zone overlaps are small: two hours a day between Berlin and New York in winter.
Every week is generated afresh from the seed: 3-7 meetings of 15-90 minutes a local
workday (7-11 for 20% of people, 10-14 for 10%), for 8% of people one unavailable day and
for 15% one overloaded day; coffee length 20 minutes (15 or 30 for 15% each). The weeks
start on Monday 2025-02-24 (``--start``), so the eight default rounds cross the US (9
March) and EU (30 March) daylight saving changes and Sydney's end of it (6 April).

"Every calendar has a free overlap", by construction: each team and week has one quiet
half hour on the 5-minute grid, drawn inside the intersection of every member's working
hours, that no member's meeting touches and no member's unavailable day covers; so any
pair or trio of a team has a common slot. It is checked again on the built views, per
member and week (``free_overlap_failures``, must be 0). A consequence: no slot search of a
pair or trio of one team can come back empty (``slot_searches_without_slot`` stays 0), so the
partner retries and the leftover pass of `form_groups` are not exercised here; the people
left unpaired are the ones don't-pair lists leave without a partner in a team of three
(``paired_share_of_possible`` divides by the most any grouping could pair, blocks counted).

Timed, per round: ``history_weights`` over every history entry so far plus ``plan_round``
over the whole org in one call, with ``slot_finder(views, within=week)``: every slot search
happens inside the timed section (through a thin wrapper that counts the empty ones). Not
timed: generating the week and building each person's `SlotView` (a Lambda would read those
from the Store and the Calendar API). ``plan_round_seconds`` and ``history_seconds`` give the
two parts. The garbage collector is run and frozen before each round, as in bench/planner.py
(without the freeze a round measured the same, about 0.69 s).

Checked after each round, independently of the pairing code where it matters:

- premature repeats: `premature_repeats` per pool with ``can_meet`` = the same slot search
  (an avoiding split only counts when its groups really have a common slot);
- block violations: a group with two members of whom either has the other on their
  don't-pair list (from `Candidate.blocked`); ``pool_violations``: a group mixing teams,
  or a person in two groups;
- slot violations: a group whose slot is not inside every member's working intervals, or
  touches a member's busy time or excluded day, or is off the week, the 5-minute grid or
  the shortest chosen coffee length;
- paired share: people in a group / people whose pool has two or more members;
  ``paired_share`` is the lowest of the rounds (``paired_share_all_rounds`` the total).

    python bench/pairing.py                 # a readable summary
    python bench/pairing.py --json          # one JSON object on stdout, progress on stderr
    python bench/pairing.py --people-per-team 20 --teams 5 --small-pools 10 --rounds 3

Targets (the issue): under 5 s a round; 0 premature repeats; 0 block violations; at least
95% paired where every calendar has a free overlap.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import combinations
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from micromoments.domain.free_slots import align_down, align_up, working_intervals
from micromoments.domain.intervals import Interval, intersect
from micromoments.domain.pairing import (
    Candidate,
    PairingHistoryEntry,
    PairingOutcome,
    PairingRound,
    Slot,
    SlotFinder,
    SlotView,
    history_entries,
    history_weights,
    plan_round,
    pools,
    premature_repeats,
    slot_finder,
    slot_view,
)
from micromoments.domain.people import pseudonym
from micromoments.domain.settings import CoffeePool
from micromoments.domain.working_hours import WorkingHours, local_instant

TARGET_SECONDS = 5.0
TARGET_PAIRED_SHARE = 0.95
DEFAULT_START = date(2025, 2, 24)  # a Monday
KEY = b"micromoments-bench-pairing"
QUIET = 30 * 60  # the team's guaranteed common free time, as long as the longest coffee
WEEK = 7 * 86_400

REGIONS: tuple[tuple[str, ...], ...] = (
    ("Europe/Berlin", "Europe/London", "America/New_York"),
    ("Europe/Berlin", "Europe/London", "Europe/Helsinki"),
    ("America/New_York", "America/Chicago", "America/Los_Angeles"),
    ("Asia/Kolkata", "Europe/Berlin", "Europe/London"),
    ("Asia/Tokyo", "Asia/Singapore", "Australia/Sydney"),
)
NINE_TO_FIVE = "Mon-Fri 09:00-17:00"
# (spec, weight); the narrower lists are the fall-backs of a team without a common half hour
HOURS_TIERS: tuple[tuple[tuple[str, int], ...], ...] = (
    (
        (NINE_TO_FIVE, 70),
        ("Mon-Fri 08:00-16:00", 8),
        ("Mon-Fri 10:00-18:00", 8),
        ("Mon-Thu 09:00-17:30", 6),
        ("Mon-Fri 09:00-12:30, Mon-Fri 13:30-17:00", 8),
    ),
    (
        (NINE_TO_FIVE, 80),
        ("Mon-Thu 09:00-17:30", 10),
        ("Mon-Fri 09:00-12:30, Mon-Fri 13:30-17:00", 10),
    ),
    ((NINE_TO_FIVE, 1),),
)
DENSITY = (((3, 7), 70), ((7, 11), 20), ((10, 14), 10))  # meetings a workday, weight
MEETING_MINUTES = (15, 30, 30, 30, 45, 60, 60, 90)
COFFEE_MINUTES = ((20, 70), (15, 15), (30, 15))
ACROSS_SHARE = 0.05
BLOCK_SHARE = 0.03
UNAVAILABLE_SHARE = 0.08
OVERLOADED_SHARE = 0.15

_T = TypeVar("_T")

_hours_cache: dict[str, WorkingHours] = {}
_zone_cache: dict[str, ZoneInfo] = {}


def hours_of(spec: str) -> WorkingHours:
    if spec not in _hours_cache:
        _hours_cache[spec] = WorkingHours.parse(spec)
    return _hours_cache[spec]


def zone_of(name: str) -> ZoneInfo:
    if name not in _zone_cache:
        _zone_cache[name] = ZoneInfo(name)
    return _zone_cache[name]


@dataclass(slots=True)
class Member:
    candidate: Candidate
    team: str
    zone: str
    hours: str
    density: tuple[int, int]
    minutes: int


@dataclass(slots=True)
class Org:
    members: list[Member]
    teams: dict[str, list[Member]]
    narrowed: int  # teams whose hour variants had to be narrowed


@dataclass(slots=True)
class Week:
    monday: date
    within: Interval
    views: dict[str, SlotView]
    quiet: dict[str, Interval]  # team -> its guaranteed common free half hour
    overlap_failures: int  # member-weeks where that half hour is not free after all

    @property
    def iso_week(self) -> str:
        year, week, _ = self.monday.isocalendar()
        return f"{year}-W{week:02d}"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    began_all = time.perf_counter()
    start = args.start - timedelta(days=args.start.weekday())
    mondays = [start + timedelta(weeks=w) for w in range(args.rounds)]
    _progress(
        f"org: {args.teams} teams of {args.people_per_team} + {args.small_pools} small pools "
        f"of 3-9, seed {args.seed}"
    )
    org = build_org(args.teams, args.people_per_team, args.small_pools, args.seed, mondays)
    people = [m.candidate for m in org.members]
    by_id = {m.candidate.id: m for m in org.members}
    pool_list = pools(people, CoffeePool.TEAM)
    pairable = sum(len(p) for p in pool_list if len(p) >= 2)
    possible = sum(_most_groupable(p) for p in pool_list)
    _progress(f"org: {len(people)} people in {len(pool_list)} pools")

    entries: list[PairingHistoryEntry] = []
    rounds: list[dict[str, Any]] = []
    for number, monday in enumerate(mondays):
        began = time.perf_counter()
        week = build_week(org, monday, args.seed)
        generated = time.perf_counter() - began
        finder = Counting(slot_finder(week.views, within=week.within))
        gc.collect()
        gc.freeze()  # the week's views are input, not garbage of the round (as bench/planner)
        try:
            t0 = time.perf_counter()
            history = history_weights(entries)
            t1 = time.perf_counter()
            outcome = plan_round(
                people, CoffeePool.TEAM, history, slot_finder=finder, seed=args.seed * 100 + number
            )
            t2 = time.perf_counter()
        finally:
            gc.unfreeze()
        checks = check_round(outcome, pool_list, history, week, by_id)
        created = datetime.combine(monday, datetime.min.time(), UTC)
        entries.extend(history_entries(PairingRound(week.iso_week, outcome.groups, created)))
        row = {
            "iso_week": week.iso_week,
            "seconds": round(t2 - t0, 3),
            "plan_round_seconds": round(t2 - t1, 3),
            "history_seconds": round(t1 - t0, 3),
            "history_entries": len(entries),
            "slot_searches": outcome.slot_searches,
            "slot_searches_without_slot": finder.misses,
            "groups": len(outcome.groups),
            "generate_seconds": round(generated, 2),
            "free_overlap_failures": week.overlap_failures,
            **checks,
            "paired_share": checks["paired"] / pairable if pairable else 1.0,
            "paired_share_of_possible": checks["paired"] / possible if possible else 1.0,
        }
        rounds.append(row)
        _progress(
            f"round {number + 1}/{len(mondays)} {week.iso_week}: {row['seconds']:.2f} s "
            f"({outcome.slot_searches} slot searches), {checks['paired']}/{pairable} paired, "
            f"{checks['premature_repeats']} premature repeats, "
            f"{checks['block_violations']} block violations, "
            f"{checks['slot_violations']} slot violations (week generated in {generated:.1f} s)"
        )
        del week, finder, outcome

    doc = report(args, org, pool_list, pairable, possible, rounds, mondays)
    doc["total_seconds"] = round(time.perf_counter() - began_all, 1)
    if args.json:
        print(json.dumps(doc))
    else:
        _print_summary(doc)
    return 0


class Counting:
    """A slot finder that counts the searches that found nothing."""

    def __init__(self, find: SlotFinder) -> None:
        self.find = find
        self.misses = 0

    def __call__(self, members: tuple[str, ...]) -> Slot | None:
        slot = self.find(members)
        self.misses += slot is None
        return slot


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument("--teams", type=_count, default=100, help="large teams (default 100)")
    parser.add_argument(
        "--people-per-team", type=_count, default=100, help="people per large team (default 100)"
    )
    parser.add_argument(
        "--small-pools", type=_count, default=200, help="small teams of 3-9 people (default 200)"
    )
    parser.add_argument("--rounds", type=_positive, default=8, help="weekly rounds (default 8)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the org and calendars")
    parser.add_argument(
        "--start",
        type=date.fromisoformat,
        default=DEFAULT_START,
        help="a date in the first week (its Monday is used; default 2025-02-24)",
    )
    return parser.parse_args(argv)


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _progress(message: str) -> None:
    print(f"bench pairing: {message}", file=sys.stderr, flush=True)


def _weighted(rng: random.Random, options: Sequence[tuple[_T, int]]) -> _T:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


# --------------------------------------------------------------------------------------------
# The org and its weeks
# --------------------------------------------------------------------------------------------


def build_org(
    teams: int, per_team: int, small_pools: int, seed: int, mondays: Sequence[date]
) -> Org:
    rng = random.Random(f"bench-pairing-org:{seed}")
    sizes = [(f"team-{t:03d}", per_team) for t in range(teams)]
    sizes += [(f"small-{s:03d}", rng.randint(3, 9)) for s in range(small_pools)]
    members: list[Member] = []
    by_team: dict[str, list[Member]] = {}
    narrowed = 0
    serial = 0
    for team, size in sizes:
        if size == 0:
            continue
        region = rng.choice(REGIONS)
        ids = [pseudonym(KEY, f"p{serial + i:06d}@bench.example") for i in range(size)]
        serial += size
        zones = [rng.choice(region) for _ in ids]
        for tier, variants in enumerate(HOURS_TIERS):
            hours = [_weighted(rng, variants) for _ in ids]
            if all(_quiet_options(zones, hours, m) for m in mondays):
                narrowed += tier > 0
                break
        else:  # pragma: no cover - every region overlaps at nine to five
            raise SystemExit(f"{team}: no common half hour in region {region}")
        team_members: list[Member] = []
        for i, pid in enumerate(ids):
            blocked: frozenset[str] = frozenset()
            if size > 2 and rng.random() < BLOCK_SHARE:
                others = [o for o in ids if o != pid]
                # never every other member: each keeps a partner their own list allows
                blocked = frozenset(rng.sample(others, min(rng.randint(1, 3), size - 2)))
            candidate = Candidate(
                id=pid, team=team, across_teams=rng.random() < ACROSS_SHARE, blocked=blocked
            )
            team_members.append(
                Member(
                    candidate=candidate,
                    team=team,
                    zone=zones[i],
                    hours=hours[i],
                    density=_weighted(rng, DENSITY),
                    minutes=_weighted(rng, COFFEE_MINUTES),
                )
            )
        by_team[team] = team_members
        members.extend(team_members)
    return Org(members, by_team, narrowed)


def _within(monday: date) -> Interval:
    lo = int(datetime.combine(monday, datetime.min.time(), UTC).timestamp())
    return (lo, lo + WEEK)


def _quiet_options(zones: Sequence[str], hours: Sequence[str], monday: date) -> list[Interval]:
    """The team's common working intervals of that week with room for a quiet half hour."""
    within = _within(monday)
    common: list[Interval] | None = None
    for zone, spec in sorted(set(zip(zones, hours, strict=True))):
        mine = working_intervals(hours_of(spec), zone_of(zone), within)
        common = mine if common is None else intersect(common, mine)
    return [(s, e) for s, e in common or [] if align_down(e - QUIET) >= align_up(s)]


def build_week(org: Org, monday: date, seed: int) -> Week:
    """Every member's `SlotView` of that week, from calendars generated for it."""
    rng = random.Random(f"bench-pairing-week:{seed}:{monday.isoformat()}")
    within = _within(monday)
    views: dict[str, SlotView] = {}
    quiet: dict[str, Interval] = {}
    failures = 0
    days = [monday + timedelta(days=d) for d in range(-1, 8)]  # local weeks reach past UTC's
    for team, members in org.teams.items():
        options = _quiet_options([m.zone for m in members], [m.hours for m in members], monday)
        s, e = rng.choice(options)
        first = align_up(s)
        begin = first + 300 * rng.randint(0, (align_down(e - QUIET) - first) // 300)
        q = (begin, begin + QUIET)
        quiet[team] = q
        for m in members:
            hours, tz = hours_of(m.hours), zone_of(m.zone)
            workdays = [
                d
                for d in days
                if hours.is_workday(d)
                and local_instant(d, 0, tz) < within[1]
                and local_instant(d + timedelta(days=1), 0, tz) > within[0]
            ]
            busy: list[Interval] = []
            for d in workdays:
                ranges = hours.local_ranges(d)
                for _ in range(rng.randint(*m.density)):
                    lo, hi = rng.choice(ranges)
                    start = lo + 15 * rng.randint(0, max(0, (hi - lo - 15) // 15))
                    meeting = (
                        local_instant(d, start, tz),
                        local_instant(d, start + rng.choice(MEETING_MINUTES), tz),
                    )
                    if meeting[0] < q[1] and q[0] < meeting[1]:
                        continue  # the team keeps its quiet half hour
                    busy.append(meeting)
            quiet_days = {
                datetime.fromtimestamp(q[0], tz).date(),
                datetime.fromtimestamp(q[1] - 1, tz).date(),
            }
            unavailable = []
            if rng.random() < UNAVAILABLE_SHARE:
                allowed = [d for d in workdays if d not in quiet_days]
                if allowed:
                    unavailable.append(rng.choice(allowed))
            overloaded = [rng.choice(workdays)] if rng.random() < OVERLOADED_SHARE else []
            view = slot_view(
                hours=hours,
                tz=tz,
                within=within,
                busy=busy,
                unavailable_days=unavailable,
                overloaded_days=overloaded,
                minutes=m.minutes,
            )
            views[m.candidate.id] = view
            failures += not _free_in(view, q)
    return Week(monday, within, views, quiet, failures)


def _free_in(view: SlotView, slot: Interval) -> bool:
    """True when ``slot`` lies inside one working interval and touches no busy or excluded
    time of the view (checked here without the pairing code's own slot search)."""
    a, b = slot
    if not any(s <= a and b <= e for s, e in view.working):
        return False
    return not any(s < b and a < e for s, e in (*view.busy, *view.excluded))


# --------------------------------------------------------------------------------------------
# Checking a round
# --------------------------------------------------------------------------------------------


def check_round(
    outcome: PairingOutcome,
    pool_list: Sequence[Sequence[Candidate]],
    history: dict[str, dict[str, int]],
    week: Week,
    by_id: dict[str, Member],
) -> dict[str, Any]:
    finder = slot_finder(week.views, within=week.within)
    met: dict[tuple[str, ...], bool] = {}

    def can_meet(members: tuple[str, ...]) -> bool:
        if members not in met:
            met[members] = finder(members) is not None
        return met[members]

    blocks = slot_bad = pool_bad = cross_zone = 0
    repeats: Counter[str] = Counter()
    seen: set[str] = set()
    by_team: dict[str, list[tuple[str, ...]]] = {}
    sizes = {pool[0].team: len(pool) for pool in pool_list}
    for g in outcome.groups:
        members = g.members
        for a, b in combinations(members, 2):
            if b in by_id[a].candidate.blocked or a in by_id[b].candidate.blocked:
                blocks += 1
                break
        teams = {by_id[p].team for p in members}
        if len(teams) != 1 or seen.intersection(members) or len(members) not in (2, 3):
            pool_bad += 1
        big = "pools_of_10_or_more" if sizes[by_id[members[0]].team] >= 10 else "small_pools"
        repeats[big] += sum(1 for a, b in combinations(members, 2) if history.get(a, {}).get(b))
        cross_zone += len({by_id[p].zone for p in members}) > 1
        seen.update(members)
        by_team.setdefault(by_id[members[0]].team, []).append(members)
        slot_bad += not _slot_ok(g.start, g.end, [week.views[p] for p in members], week.within)
    premature = 0
    for pool in pool_list:
        groups = by_team.get(pool[0].team or "", [])
        premature += premature_repeats(groups, pool, history, can_meet=can_meet)
    reasons = Counter(u.reason for u in outcome.unpaired)
    unpaired_in = Counter(sizes[by_id[u.person].team] for u in outcome.unpaired)
    return {
        "paired": len(seen),
        "unpaired": len(outcome.unpaired),
        "unpaired_reasons": dict(sorted(reasons.items())),
        "unpaired_by_pool_size": {str(k): v for k, v in sorted(unpaired_in.items())},
        "cross_zone_groups": cross_zone,
        "repeats": dict(sorted(repeats.items())),
        "premature_repeats": premature,
        "block_violations": blocks,
        "pool_violations": pool_bad,
        "slot_violations": slot_bad,
    }


def _most_groupable(pool: Sequence[Candidate]) -> int:
    """The most people of a pool any grouping (pairs, at most one trio) can group with the
    don't-pair lists alone: exact up to nine people; ten or more are taken as everyone (a
    few lists of at most three names cannot keep anyone of so many without a partner)."""
    n = len(pool)
    if n < 2:
        return 0
    if n >= 10:
        return n
    ids = [c.id for c in pool]
    ok = {
        (i, j): ids[j] not in pool[i].blocked and ids[i] not in pool[j].blocked
        for i, j in combinations(range(n), 2)
    }

    def best(rest: tuple[int, ...], trio: bool) -> int:
        if len(rest) < 2:
            return 0
        first, others = rest[0], rest[1:]
        most = best(others, trio)  # the first stays out
        for x, j in enumerate(others):
            if not ok[(first, j)]:
                continue
            after = others[:x] + others[x + 1 :]
            most = max(most, 2 + best(after, trio))
            if not trio:
                for y in range(x + 1, len(others)):
                    k = others[y]
                    if ok[(first, k)] and ok[(j, k)]:
                        left = tuple(o for z, o in enumerate(others) if z not in (x, y))
                        most = max(most, 3 + best(left, True))
        return most

    return best(tuple(range(n)), False)


def _slot_ok(
    start: datetime | None, end: datetime | None, views: Sequence[SlotView], within: Interval
) -> bool:
    if start is None or end is None:
        return False
    slot = (int(start.timestamp()), int(end.timestamp()))
    length = min(v.minutes for v in views) * 60
    if slot[1] - slot[0] != length or slot[0] % 300 or not within[0] <= slot[0] < within[1]:
        return False
    return all(_free_in(v, slot) for v in views)


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------


def report(
    args: argparse.Namespace,
    org: Org,
    pool_list: Sequence[Sequence[Candidate]],
    pairable: int,
    possible: int,
    rounds: list[dict[str, Any]],
    mondays: Sequence[date],
) -> dict[str, Any]:
    people = len(org.members)
    sizes = [len(p) for p in pool_list]
    seconds = [r["seconds"] for r in rounds]
    max_seconds = max(seconds)
    premature = sum(r["premature_repeats"] for r in rounds)
    blocks = sum(r["block_violations"] for r in rounds)
    slots = sum(r["slot_violations"] for r in rounds)
    pool_bad = sum(r["pool_violations"] for r in rounds)
    overlap_failures = sum(r["free_overlap_failures"] for r in rounds)
    share = min(r["paired_share"] for r in rounds)
    share_all = sum(r["paired"] for r in rounds) / (pairable * len(rounds)) if pairable else 1.0
    share_possible = min(r["paired_share_of_possible"] for r in rounds)
    searches = [r["slot_searches"] for r in rounds]
    size = f"{people} people, {len(pool_list)} pools, {len(rounds)} rounds"
    rows: list[dict[str, Any]] = [
        {
            "what": "pairing round (history weights + plan_round, slot search included), "
            "slowest round",
            "size": size,
            "result": f"{max_seconds:.2f} s",
            "target": f"< {TARGET_SECONDS:g} s",
            "met": max_seconds < TARGET_SECONDS,
        },
        {
            "what": "premature repeats, all rounds",
            "size": size,
            "result": premature,
            "target": "0",
            "met": premature == 0,
        },
        {
            "what": "block violations, all rounds",
            "size": size,
            "result": blocks,
            "target": "0",
            "met": blocks == 0,
        },
        {
            "what": "paired share, lowest round (every calendar has a free overlap)",
            "size": size,
            "result": f"{share:.2%}",
            "target": f">= {TARGET_PAIRED_SHARE:.0%}",
            "met": share >= TARGET_PAIRED_SHARE and overlap_failures == 0,
        },
        {
            "what": "slots not free for every member, all rounds",
            "size": size,
            "result": slots,
            "target": "0",
            "met": slots == 0,
        },
    ]
    return {
        "benchmark": "pairing",
        "what": "coffee pairing rounds (history_weights + plan_round per round, CoffeePool.TEAM, "
        "slot search included)",
        "people": people,
        "rounds": len(rounds),
        "max_seconds_per_round": max_seconds,
        "premature_repeats": premature,
        "block_violations": blocks,
        "paired_share": round(share, 5),
        "paired_share_all_rounds": round(share_all, 5),
        "paired_share_of_possible": round(share_possible, 5),
        "slot_violations": slots,
        "pool_violations": pool_bad,
        "free_overlap_failures": overlap_failures,
        "every_calendar_has_a_free_overlap": overlap_failures == 0,
        "seconds_per_round": seconds,
        "slot_searches": sum(searches),
        "slot_searches_per_round": searches,
        "slot_searches_without_slot": sum(r["slot_searches_without_slot"] for r in rounds),
        "plan_round_seconds": [r["plan_round_seconds"] for r in rounds],
        "history_seconds": [r["history_seconds"] for r in rounds],
        "targets": {
            "max_seconds_per_round": f"< {TARGET_SECONDS:g}",
            "premature_repeats": 0,
            "block_violations": 0,
            "paired_share": f">= {TARGET_PAIRED_SHARE}",
        },
        "org": {
            "teams": args.teams,
            "people_per_team": args.people_per_team,
            "small_pools": args.small_pools,
            "small_pool_people": people - args.teams * args.people_per_team,
            "pools": len(pool_list),
            "pool_sizes": dict(sorted(Counter(sizes).items())),
            "pairable_people": pairable,
            "groupable_with_dont_pair_lists": possible,
            "across_teams": sum(m.candidate.across_teams for m in org.members),
            "with_dont_pair_list": sum(bool(m.candidate.blocked) for m in org.members),
            "zones": dict(sorted(Counter(m.zone for m in org.members).items())),
            "hours": dict(sorted(Counter(m.hours for m in org.members).items())),
            "teams_with_narrowed_hours": org.narrowed,
            "seed": args.seed,
            "weeks": [m.isoformat() for m in mondays],
        },
        "per_round": rounds,
        "machine": _machine(),
        "date": datetime.now(UTC).date().isoformat(),
        "rows": rows,
    }


def _machine() -> dict[str, Any]:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": cpus,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
    }


def _print_summary(doc: dict[str, Any]) -> None:
    org = doc["org"]
    print(
        f"pairing benchmark, {doc['date']}, {doc['machine']['platform']}: {doc['people']} people "
        f"({org['teams']} x {org['people_per_team']} + {org['small_pool_people']} in "
        f"{org['small_pools']} small pools), {org['pools']} pools, {doc['rounds']} rounds"
    )
    header = f"{'week':>9} {'seconds':>8} {'searches':>9} {'paired':>8} {'premature':>10}"
    print(header)
    print("-" * len(header))
    for r in doc["per_round"]:
        print(
            f"{r['iso_week']:>9} {r['seconds']:>8.2f} {r['slot_searches']:>9} "
            f"{r['paired_share']:>8.2%} {r['premature_repeats']:>10}"
        )
    for row in doc["rows"]:
        verdict = {True: "met", False: "MISSED"}.get(row["met"], "")
        print(f"{row['what']}: {row['result']} (target {row['target']}) {verdict}")


if __name__ == "__main__":
    raise SystemExit(main())
