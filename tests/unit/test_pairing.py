"""Coffee pairing: rotation, blocks, odd counts, slots across zones, load awareness."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from itertools import combinations
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from micromoments.domain.free_slots import working_intervals
from micromoments.domain.holds import Hold, HoldKind, HoldStatus
from micromoments.domain.intervals import intersect
from micromoments.domain.pairing import (
    NO_PARTNER,
    NO_SLOT,
    Candidate,
    PairingGroup,
    PairingOutcome,
    PairingRound,
    Slot,
    common_slot,
    form_groups,
    history_entries,
    history_weights,
    plan_round,
    pools,
    premature_repeats,
    slot_finder,
    slot_view,
    unmet,
)
from micromoments.domain.settings import CoffeePool
from micromoments.domain.working_hours import WorkingHours

History = dict[str, dict[str, int]]
NINE_TO_FIVE = WorkingHours.parse("Mon-Fri 09:00-17:00")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
WEEK = (
    int(datetime(2025, 1, 13, tzinfo=UTC).timestamp()),  # Monday
    int(datetime(2025, 1, 18, tzinfo=UTC).timestamp()),
)


def pid(n: int) -> str:
    return f"{n:064x}"


def always(members: tuple[str, ...]) -> Slot | None:
    return (0, 1200)


def people(n: int, *, teams: int = 1, across: bool = False) -> list[Candidate]:
    return [Candidate(id=pid(i), team=f"t{i % teams}", across_teams=across) for i in range(n)]


def groups_of(outcome: PairingOutcome) -> list[tuple[str, ...]]:
    return [g.members for g in outcome.groups]


def remember(history: History, groups: Sequence[Sequence[str]]) -> None:
    for g in groups:
        for a, b in combinations(g, 2):
            history.setdefault(a, {})[b] = history.get(a, {}).get(b, 0) + 1
            history.setdefault(b, {})[a] = history.get(b, {}).get(a, 0) + 1


def met(history: Mapping[str, Mapping[str, int]], a: str, b: str) -> bool:
    return history.get(a, {}).get(b, 0) > 0


# -- rotation --------------------------------------------------------------------------------


def test_rotation_over_many_weeks_has_no_premature_repeat() -> None:
    for size in (*range(2, 11), 13, 40):
        pool = people(size, teams=3)
        history: History = {}
        for week in range(10):
            outcome = form_groups(pool, history, slot_finder=always, seed=week)
            groups = groups_of(outcome)
            assert premature_repeats(groups, pool, history) == 0, (size, week)
            assert sum(len(g) for g in groups) == size if size > 1 else not groups
            remember(history, groups)


def test_nobody_meets_again_while_an_unmet_partner_remains() -> None:
    pool = people(10)
    history: History = {}
    seen: set[frozenset[str]] = set()
    for week in range(3):  # ten people can meet three new partners in three weeks
        groups = groups_of(form_groups(pool, history, slot_finder=always, seed=week))
        for g in groups:
            for a, b in combinations(g, 2):
                assert frozenset((a, b)) not in seen, week
        for g in groups:
            seen.update(frozenset(p) for p in combinations(g, 2))
        remember(history, groups)


def test_small_pool_repeat_goes_to_least_met_pair() -> None:
    a, b, c, d = (pid(i) for i in range(4))
    pool = [Candidate(id=x) for x in (a, b, c, d)]
    # everyone met everyone; (a, b) and (c, d) met least
    history: History = {}
    remember(history, [(a, b), (c, d), (a, c), (b, d), (a, c), (b, d), (a, d), (b, c)])
    remember(history, [(a, d), (b, c)])
    groups = groups_of(form_groups(pool, history, slot_finder=always, seed=1))
    assert sorted(groups) == [(a, b), (c, d)]


def test_premature_repeats_counts_an_avoidable_repeat() -> None:
    pool = people(12)
    ids = [c.id for c in pool]
    history: History = {}
    remember(history, [(ids[0], ids[1])])
    bad = [(ids[0], ids[1]), *[(ids[i], ids[i + 1]) for i in range(2, 12, 2)]]
    assert premature_repeats(bad, pool, history) == 1
    small = pool[:4]
    assert premature_repeats([(ids[0], ids[1]), (ids[2], ids[3])], small, history) == 1
    assert premature_repeats([(ids[0], ids[2]), (ids[1], ids[3])], small, history) == 0


# -- odd counts, teams, pools ----------------------------------------------------------------


def test_odd_pool_has_exactly_one_group_of_three() -> None:
    for size in (3, 5, 7, 9, 11, 41):
        groups = groups_of(form_groups(people(size), {}, slot_finder=always, seed=3))
        assert sorted(len(g) for g in groups) == [2] * ((size - 3) // 2) + [3]
        assert len({p for g in groups for p in g}) == size


def test_single_person_is_unpaired_with_a_reason() -> None:
    outcome = form_groups(people(1), {}, slot_finder=always, seed=0)
    assert not outcome.groups
    assert [u.reason for u in outcome.unpaired] == [NO_PARTNER]


def test_people_who_asked_meet_other_teams_first() -> None:
    for size in (8, 40):
        pool = people(size, teams=2, across=True)
        team = {c.id: c.team for c in pool}
        for g in groups_of(form_groups(pool, {}, slot_finder=always, seed=5)):
            assert len({team[p] for p in g}) == 2


def test_team_pools_never_mix_teams() -> None:
    pool = people(30, teams=4)
    team = {c.id: c.team for c in pool}
    assert [len(p) for p in pools(pool, CoffeePool.TEAM)] == [8, 8, 7, 7]
    assert len(pools(pool, CoffeePool.ORG)) == 1
    outcome = plan_round(pool, CoffeePool.TEAM, {}, slot_finder=always, seed=2)
    for g in groups_of(outcome):
        assert len({team[p] for p in g}) == 1
    assert not outcome.unpaired


# -- blocks ----------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 16),
    st.lists(st.tuples(st.integers(0, 15), st.integers(0, 15)), max_size=40),
    st.integers(0, 1000),
)
def test_blocks_are_never_violated_and_never_told(
    size: int, blocks: list[tuple[int, int]], seed: int
) -> None:
    blocked: dict[int, set[str]] = {}
    for a, b in blocks:
        if a < size and b < size and a != b:
            blocked.setdefault(a, set()).add(pid(b))
    pool = [Candidate(id=pid(i), blocked=frozenset(blocked.get(i, ()))) for i in range(size)]
    history: History = {}
    for week in range(3):
        outcome = form_groups(pool, history, slot_finder=always, seed=seed + week)
        for g in outcome.groups:
            for x, y in combinations(g.members, 2):
                assert y not in blocked.get(int(x, 16), ())
                assert x not in blocked.get(int(y, 16), ())
        for u in outcome.unpaired:
            assert u.reason in (NO_SLOT, NO_PARTNER)
            assert "block" not in u.reason and "pair list" not in u.reason
            assert all(c.id not in u.reason for c in pool)
        remember(history, groups_of(outcome))


# -- no common slot --------------------------------------------------------------------------


def test_no_slot_tries_another_partner_first() -> None:
    a, b, c, d = (pid(i) for i in range(4))
    pool = [Candidate(id=x) for x in (a, b, c, d)]
    history: History = {}
    remember(history, [(a, c), (a, d), (b, c), (b, d)])  # (a, b) is the only fresh pair
    asked: list[tuple[str, ...]] = []

    def finder(members: tuple[str, ...]) -> Slot | None:
        asked.append(members)
        return None if members == (a, b) else (0, 1200)

    groups = groups_of(form_groups(pool, history, slot_finder=finder, seed=0))
    assert (a, b) in asked
    assert len(groups) == 2 and (a, b) not in groups


def test_no_slot_with_anyone_leaves_a_person_unpaired_with_the_reason() -> None:
    for size in (4, 12):
        pool = people(size)
        loner = pool[0].id
        asked: list[tuple[str, ...]] = []

        def finder(
            members: tuple[str, ...], loner: str = loner, asked: list[tuple[str, ...]] = asked
        ) -> Slot | None:
            asked.append(members)
            return None if loner in members else (0, 1200)

        outcome = form_groups(pool, {}, slot_finder=finder, seed=0)
        assert [(u.person, u.reason) for u in outcome.unpaired] == [(loner, NO_SLOT)]
        assert sum(loner in m and len(m) == 2 for m in asked) > 1  # several partners tried
        assert sum(len(g) for g in groups_of(outcome)) == size - 1


# -- slots -----------------------------------------------------------------------------------


def test_berlin_and_new_york_meet_inside_the_overlap_only() -> None:
    berlin = slot_view(hours=NINE_TO_FIVE, tz=BERLIN, within=WEEK)
    new_york = slot_view(hours=NINE_TO_FIVE, tz=NEW_YORK, within=WEEK)
    slot = common_slot([berlin, new_york], within=WEEK)
    assert slot is not None
    overlap = intersect(
        working_intervals(NINE_TO_FIVE, BERLIN, WEEK),
        working_intervals(NINE_TO_FIVE, NEW_YORK, WEEK),
    )
    assert any(s <= slot[0] and slot[1] <= e for s, e in overlap)
    start = datetime.fromtimestamp(slot[0], UTC)
    assert (start.hour, start.minute) == (14, 0)  # 09:00 in New York, 15:00 in Berlin
    assert slot[1] - slot[0] == 20 * 60


def test_busy_time_holds_and_excluded_days_are_avoided() -> None:
    monday = datetime(2025, 1, 13, 9, tzinfo=BERLIN)
    social = Hold(
        id="mmabcde",
        kind=HoldKind.SOCIAL,
        start=datetime(2025, 1, 14, 10, tzinfo=BERLIN),
        end=datetime(2025, 1, 14, 10, 30, tzinfo=BERLIN),
        busy=False,
        day=date(2025, 1, 14),
    )
    first = slot_view(hours=NINE_TO_FIVE, tz=BERLIN, within=WEEK, holds=[social])
    second = slot_view(
        hours=NINE_TO_FIVE,
        tz=BERLIN,
        within=WEEK,
        busy=[(int(monday.timestamp()), int(monday.timestamp()) + 3600)],
        unavailable_days=[date(2025, 1, 13)],
    )
    slot = common_slot([first, second], within=WEEK)
    assert slot is not None
    start = datetime.fromtimestamp(slot[0], BERLIN)
    assert start.date() == date(2025, 1, 15) and start.hour == 9  # not Mon, not Tue


def test_load_aware_prefers_an_overloaded_day() -> None:
    calm = slot_view(hours=NINE_TO_FIVE, tz=BERLIN, within=WEEK, minutes=30)
    busy = slot_view(
        hours=NINE_TO_FIVE,
        tz=NEW_YORK,
        within=WEEK,
        overloaded_days=[date(2025, 1, 16)],
        minutes=15,
    )
    slot = common_slot([calm, busy], within=WEEK)
    assert slot is not None
    assert datetime.fromtimestamp(slot[0], NEW_YORK).date() == date(2025, 1, 16)
    assert slot[1] - slot[0] == 15 * 60  # the shortest coffee any member chose
    assert slot[0] % 300 == 0


def test_slot_finder_feeds_form_groups() -> None:
    pool = people(5)
    views = {c.id: slot_view(hours=NINE_TO_FIVE, tz=BERLIN, within=WEEK) for c in pool}
    find = slot_finder(views, within=WEEK, earliest=WEEK[0] + 86_400, spread=False)
    outcome = form_groups(pool, {}, slot_finder=find, seed=0)
    assert len(outcome.groups) == 2 and not outcome.unpaired
    for g in outcome.groups:
        assert g.start is not None and g.start.date() == date(2025, 1, 14)


def test_a_weeks_chats_fan_out_over_its_days_near_midday() -> None:
    pool = people(40)
    views = {c.id: slot_view(hours=NINE_TO_FIVE, tz=BERLIN, within=WEEK) for c in pool}
    outcome = form_groups(pool, {}, slot_finder=slot_finder(views, within=WEEK), seed=0)
    assert len(outcome.groups) == 20
    starts = [g.start.astimezone(BERLIN) for g in outcome.groups if g.start is not None]
    days = Counter(start.date() for start in starts)
    assert len(days) == 5 and max(days.values()) < 10  # Monday to Friday, none crowded
    assert {(start.hour, start.minute) for start in starts} == {(13, 0)}  # mid working day
    again = form_groups(pool, {}, slot_finder=slot_finder(views, within=WEEK), seed=0)
    assert again.groups == outcome.groups  # drawn from the members: deterministic
    # Berlin with New York: the middle of their two-hour overlap
    berlin = slot_view(hours=NINE_TO_FIVE, tz=BERLIN, within=WEEK)
    new_york = slot_view(hours=NINE_TO_FIVE, tz=NEW_YORK, within=WEEK)
    slot = common_slot([berlin, new_york], within=WEEK, spread=3)
    assert slot is not None
    start = datetime.fromtimestamp(slot[0], BERLIN)
    assert (start.hour, start.minute) == (16, 0)  # the middle of 15:00-17:00 Berlin


# -- determinism and history -----------------------------------------------------------------


def test_same_seed_same_round_whatever_the_input_order() -> None:
    pool = people(57, teams=5, across=True)
    history: History = {}
    remember(history, [(pool[i].id, pool[i + 1].id) for i in range(0, 50, 2)])
    shuffled = list(pool)
    random.Random(9).shuffle(shuffled)
    one = form_groups(pool, history, slot_finder=always, seed=11)
    two = form_groups(shuffled, history, slot_finder=always, seed=11)
    assert one == two


def test_history_entries_round_trip_to_weights() -> None:
    a, b, c = pid(1), pid(2), pid(3)
    when = datetime(2025, 1, 10, tzinfo=UTC)
    outcome = form_groups([Candidate(a), Candidate(b)], {}, slot_finder=always, seed=0)
    entries = history_entries(PairingRound("2025-W02", outcome.groups, when))
    entries += history_entries(PairingRound("2025-W03", outcome.groups, when))
    weights = history_weights(entries)
    assert weights[a][b] == weights[b][a] > 0
    assert c not in weights
    once = history_weights(entries[:2])
    assert once[a][b] < weights[a][b]  # meeting twice weighs more than once
    recent = history_weights(
        [
            *entries[:2],
            *history_entries(PairingRound("2025-W03", (PairingGroup((a, c), when, when),), when)),
        ]
    )
    assert recent[a][b] < recent[a][c]  # and a recent meeting more than an old one


def test_large_org_pool_is_fast_and_fully_paired() -> None:
    pool = people(4001, teams=40, across=True)
    history: History = {}
    for week in range(2):
        outcome = form_groups(pool, history, slot_finder=always, seed=week)
        groups = groups_of(outcome)
        assert sum(len(g) for g in groups) == 4001 and not outcome.unpaired
        assert sum(len(g) == 3 for g in groups) == 1
        assert premature_repeats(groups, pool, history) == 0
        remember(history, groups)


def test_the_hold_status_sets_are_defined_once_and_named_for_what_they_mean() -> None:
    from micromoments.domain import digest, holds, pairing, reconcile, shared
    from micromoments.services import pair, people

    s = HoldStatus
    expected = {
        holds.ON_CALENDAR: {s.PLACED, s.MOVED, s.ADOPTED},
        holds.UPCOMING: {s.PLANNED, s.PLACED, s.MOVED, s.ADOPTED},
        holds.REACHED_CALENDAR: {s.PLACED, s.MOVED, s.ADOPTED, s.KEPT},
        holds.STANDING: set(s) - {s.REMOVED, s.DISMISSED, s.DECLINED},
    }
    for defined, meant in expected.items():
        assert set(defined) == meant
    copies = [(pairing, "_LIVE_HOLDS"), (pair, "LIVE"), (digest, "_LIVE"), (shared, "LIVE")]
    for module, name in [*copies, (reconcile, "LIVE"), (people, "LIVE_HOLDS")]:
        assert not hasattr(module, name), (module.__name__, name)


MINUTE = 60


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.lists(st.tuples(st.integers(0, 5 * 24 * 60), st.integers(5, 240)), max_size=25),
        min_size=2,
        max_size=3,
    ),
    st.one_of(st.none(), st.integers(0, 1000)),
)
def test_a_coffee_slot_keeps_ten_minutes_from_every_member_s_meetings(
    meetings: list[list[tuple[int, int]]], spread: int | None
) -> None:
    views = [
        slot_view(
            hours=NINE_TO_FIVE,
            tz=BERLIN,
            within=WEEK,
            meetings=[(WEEK[0] + s * MINUTE, WEEK[0] + (s + n) * MINUTE) for s, n in member],
        )
        for member in meetings
    ]
    slot = common_slot(views, within=WEEK, spread=spread)
    if slot is None:
        return
    for member in meetings:
        for s, n in member:
            start, end = WEEK[0] + s * MINUTE, WEEK[0] + (s + n) * MINUTE
            assert slot[1] + 10 * MINUTE <= start or end + 10 * MINUTE <= slot[0], (slot, s, n)


def test_a_coffee_chat_does_not_end_where_a_run_begins() -> None:
    """Free only 09:00-10:00 before a 10:00-12:35 run: 09:40-10:00 would lengthen it."""
    monday = datetime(2025, 1, 13, tzinfo=BERLIN)

    def at(hour: int, minute: int = 0) -> int:
        return int(monday.replace(hour=hour, minute=minute).timestamp())

    day = (at(0), at(23, 59))
    views = [
        slot_view(
            hours=NINE_TO_FIVE,
            tz=BERLIN,
            within=day,
            meetings=[(at(10), at(11)), (at(11), at(12, 35))],
            busy=[(at(12, 35), at(17))],
        )
        for _ in range(2)
    ]
    slot = common_slot(views, within=day, spread=0)  # anchored mid-day: as late as it goes
    assert slot == (at(9, 30), at(9, 50))


def test_unmet_names_the_shared_kinds_a_round_gave_a_member_nothing_of() -> None:
    start = datetime(2025, 1, 14, 10, tzinfo=UTC)
    end = datetime(2025, 1, 14, 10, 20, tzinfo=UTC)
    water = HoldKind.WATERCOOLER
    pairing_round = PairingRound(
        "2025-W03",
        (
            PairingGroup(("a", "b"), start, end),
            PairingGroup(("c",), reason=NO_PARTNER),  # unpaired: no slot
            PairingGroup(("d", "e"), reason=NO_SLOT),
            PairingGroup(("a", "c"), start, end, kind=water, team="t"),
        ),
        created_at=start,
    )
    assert unmet(pairing_round, "a") == frozenset()
    assert unmet(pairing_round, "b") == {water}
    assert unmet(pairing_round, "c") == {HoldKind.COFFEE}
    assert unmet(pairing_round, "d") == {HoldKind.COFFEE, water}
    assert unmet(pairing_round, "someone who joined later") == {HoldKind.COFFEE, water}
