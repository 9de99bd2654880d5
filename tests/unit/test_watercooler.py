"""Team watercooler: the drop-in slot most members can make, inside the working-hours overlap."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micromoments.domain.free_slots import SLOT_ALIGNMENT_SECONDS, align_up
from micromoments.domain.holds import Hold, HoldKind
from micromoments.domain.intervals import Interval, covers, subtract, union
from micromoments.domain.pairing import SlotView, slot_view
from micromoments.domain.watercooler import DropIn, drop_in_slot, working_overlap
from micromoments.domain.working_hours import WorkingHours

NINE_TO_FIVE = WorkingHours.parse("Mon-Fri 09:00-17:00")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
MONDAY = int(datetime(2025, 1, 13, tzinfo=UTC).timestamp())
WEEK = (MONDAY, int(datetime(2025, 1, 18, tzinfo=UTC).timestamp()))
HOUR = 3600
DAY = 86_400
WORKDAY = (MONDAY + 9 * HOUR, MONDAY + 17 * HOUR)  # Monday 09-17 UTC


def at(hour: int, minute: int = 0) -> int:
    return MONDAY + hour * HOUR + minute * 60


def free_during(*windows: Interval) -> SlotView:
    """A member working Monday 09-17 UTC and busy all of it except ``windows``."""
    return SlotView(working=(WORKDAY,), busy=tuple(subtract([WORKDAY], union(windows))))


def utc(instant: datetime) -> tuple[int, int, int]:
    return instant.day, instant.hour, instant.minute


# -- the slot --------------------------------------------------------------------------------


def test_picks_the_slot_where_most_members_are_free() -> None:
    views = {
        "a": free_during((at(10), at(11)), (at(14), at(15))),
        "b": free_during((at(10), at(11)), (at(14), at(15))),
        "c": free_during((at(14), at(15))),
        "d": free_during(),
    }
    drop_in = drop_in_slot(views, within=WEEK)
    assert drop_in == DropIn(
        start=datetime.fromtimestamp(at(14), UTC),
        end=datetime.fromtimestamp(at(14, 15), UTC),
        free=("a", "b", "c"),
    )
    assert drop_in.slot == (at(14), at(14, 15))


def test_the_earliest_slot_wins_a_tie_on_the_five_minute_grid() -> None:
    views = {
        "d": free_during((at(14), at(15))),
        "c": free_during((at(14), at(15))),
        "b": free_during((at(10, 2), at(11))),
        "a": free_during((at(10, 2), at(11))),
    }
    drop_in = drop_in_slot(views, within=WEEK)
    assert drop_in is not None
    assert drop_in.slot == (at(10, 5), at(10, 20))
    assert drop_in.free == ("a", "b")
    later = drop_in_slot(views, within=WEEK, earliest=at(10, 50))
    assert later is not None and later.slot[0] == at(14) and later.free == ("c", "d")


def test_the_length_is_the_asked_minutes() -> None:
    views = {"a": free_during((at(10), at(10, 20))), "b": free_during((at(10), at(11)))}
    drop_in = drop_in_slot(views, within=WEEK)
    assert drop_in is not None and drop_in.slot == (at(10), at(10, 15))
    assert drop_in_slot(views, within=WEEK, minutes=25) is None
    with pytest.raises(ValueError):
        drop_in_slot(views, within=WEEK, minutes=0)


def test_only_inside_the_working_hours_overlap() -> None:
    berlin = slot_view(hours=NINE_TO_FIVE, tz=BERLIN, within=WEEK)
    new_york = slot_view(hours=NINE_TO_FIVE, tz=NEW_YORK, within=WEEK)
    # 15:00-17:00 in Berlin, 09:00-11:00 in New York: 14:00-16:00 UTC in winter
    overlap = working_overlap({"b": berlin, "n": new_york}, WEEK)
    assert overlap == [(at(14) + d * DAY, at(16) + d * DAY) for d in range(5)]
    # New York is busy all week, so two Berliners are the most that can come: still only
    # inside the overlap, never at 08:00 UTC (09:00 in Berlin), when both are free already
    swamped = slot_view(hours=NINE_TO_FIVE, tz=NEW_YORK, within=WEEK, busy=[WEEK])
    views = {"b1": berlin, "b2": berlin, "ny": swamped}
    drop_in = drop_in_slot(views, within=WEEK)
    assert drop_in is not None
    assert utc(drop_in.start) == (13, 14, 0)
    assert drop_in.free == ("b1", "b2")
    late = drop_in_slot(views, within=WEEK, earliest=at(15, 50))
    assert late is not None and utc(late.start) == (14, 14, 0)  # 15:50 + 15 min > 16:00


def test_fewer_than_two_free_means_no_drop_in() -> None:
    apart = {"a": free_during((at(10), at(11))), "b": free_during((at(14), at(15)))}
    assert drop_in_slot(apart, within=WEEK) is None
    assert drop_in_slot({"a": free_during((at(10), at(11)))}, within=WEEK) is None
    assert drop_in_slot({}, within=WEEK) is None
    disjoint = {
        "a": SlotView(working=((at(9), at(12)),)),
        "b": SlotView(working=((at(13), at(17)),)),
    }
    assert working_overlap(disjoint, WEEK) == []
    assert drop_in_slot(disjoint, within=WEEK) is None


def test_a_day_with_a_social_kind_hold_does_not_count_the_member() -> None:
    social = Hold(
        id="mmabcde",
        kind=HoldKind.SOCIAL,
        start=datetime(2025, 1, 13, 16, tzinfo=BERLIN),
        end=datetime(2025, 1, 13, 16, 30, tzinfo=BERLIN),
        busy=False,
        day=date(2025, 1, 13),
    )
    held = slot_view(hours=NINE_TO_FIVE, tz=BERLIN, within=WEEK, holds=[social])
    plain = slot_view(hours=NINE_TO_FIVE, tz=BERLIN, within=WEEK)
    # Monday 09:00 Berlin only two of three are free; Tuesday 09:00 all three are
    drop_in = drop_in_slot({"a": held, "b": plain, "c": plain}, within=WEEK)
    assert drop_in is not None
    assert drop_in.start == datetime(2025, 1, 14, 9, tzinfo=BERLIN)
    assert drop_in.free == ("a", "b", "c")
    # with two members, Monday has nobody to meet the one free member
    pair = drop_in_slot({"a": held, "b": plain}, within=WEEK)
    assert pair is not None and pair.start.date() == date(2025, 1, 14)


# -- against a brute-force oracle ------------------------------------------------------------

SPAN = (MONDAY, MONDAY + DAY)


def spans(lo: int, hi: int, longest: int) -> st.SearchStrategy[Interval]:
    return st.tuples(st.integers(lo, hi), st.integers(60, longest)).map(
        lambda p: (p[0], p[0] + p[1])
    )


# most members share a working day (so the overlap is wide), some have odd hours; busy time
# and excluded stretches are dense enough that often no slot suits everyone
workday = st.tuples(st.integers(at(6), at(9)), st.integers(at(15), at(19)))
odd_hours = spans(SPAN[0], SPAN[1], 14 * HOUR)
hours = st.integers(0, 9).flatmap(lambda k: odd_hours if k == 0 else workday)
views_strategy = st.dictionaries(
    st.sampled_from("abcdef"),
    st.builds(
        lambda working, busy, excluded: SlotView(
            working=tuple(union(working)), busy=tuple(busy), excluded=tuple(excluded)
        ),
        st.lists(hours, min_size=1, max_size=2),
        st.lists(spans(at(5), at(19), 4 * HOUR), min_size=1, max_size=8),
        st.lists(spans(SPAN[0] - HOUR, SPAN[1], 8 * HOUR), max_size=1),
    ),
    min_size=2,
    max_size=6,
)


def oracle(
    views: dict[str, SlotView], within: Interval, minutes: int, earliest: int | None
) -> tuple[Interval, tuple[str, ...]] | None:
    """Every grid start, every member: the most free members, the earliest start."""
    length = minutes * 60
    lo = within[0] if earliest is None else max(within[0], earliest)
    best: tuple[Interval, tuple[str, ...]] | None = None
    t = align_up(lo)
    while t + length <= within[1]:
        slot = [(t, t + length)]
        if all(covers(union(v.working), slot) for v in views.values()):
            free = tuple(
                sorted(
                    m
                    for m, v in views.items()
                    if not any(s < t + length and t < e for s, e in [*v.busy, *v.excluded])
                )
            )
            if len(free) >= 2 and (best is None or len(free) > len(best[1])):
                best = ((t, t + length), free)
        t += SLOT_ALIGNMENT_SECONDS
    return best


@settings(max_examples=300)
@given(
    views_strategy,
    st.sampled_from([5, 7, 15, 30]),
    st.none() | st.integers(SPAN[0] - HOUR, SPAN[1]),
    st.integers(0, 4 * HOUR),
    st.integers(0, 4 * HOUR),
)
def test_matches_a_brute_force_oracle(
    views: dict[str, SlotView], minutes: int, earliest: int | None, cut_lo: int, cut_hi: int
) -> None:
    within = (SPAN[0] + cut_lo, SPAN[1] - cut_hi)
    drop_in = drop_in_slot(views, within=within, minutes=minutes, earliest=earliest)
    expected = oracle(views, within, minutes, earliest)
    got = None if drop_in is None else (drop_in.slot, drop_in.free)
    assert got == expected


def test_a_drop_in_never_sits_right_before_or_after_a_meeting() -> None:
    """Free 09:35-09:50 between a focus block and a run of meetings: too close to the run
    for a drop-in (it keeps 10 minutes clear of meetings), so none that morning; a member
    whose meeting ends 5 minutes before the only slot the others can make is not counted
    free there."""
    monday = (at(0), at(24))
    blocked = {
        name: slot_view(
            hours=NINE_TO_FIVE,
            tz=UTC,
            within=monday,
            busy=[(at(9), at(9, 35))],
            meetings=[(at(9, 50), at(17))],
        )
        for name in ("a", "b")
    }
    assert drop_in_slot(blocked, within=monday) is None
    views = {
        name: slot_view(
            hours=NINE_TO_FIVE, tz=UTC, within=monday, busy=[(at(9), at(14)), (at(14, 15), at(17))]
        )
        for name in ("a", "b")
    } | {
        "c": slot_view(
            hours=NINE_TO_FIVE,
            tz=UTC,
            within=monday,
            busy=[(at(9), at(13, 30))],
            meetings=[(at(13, 30), at(13, 55))],
        ),
    }
    drop_in = drop_in_slot(views, within=monday)
    assert drop_in is not None and drop_in.slot == (at(14), at(14, 15))
    assert drop_in.free == ("a", "b")
