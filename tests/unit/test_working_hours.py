from datetime import date
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from micromoments.domain.errors import InvalidWorkingHours
from micromoments.domain.working_hours import DAY_NAMES, WorkingHours


def test_default_grammar() -> None:
    hours = WorkingHours.parse("Mon-Fri 09:00-17:00")
    assert hours.days[0] == ((540, 1020),)
    assert hours.days[5] == ()
    assert str(hours) == "Mon-Fri 09:00-17:00"


def test_two_items_print_canonically() -> None:
    hours = WorkingHours.parse("fri 09:00-13:00,  Mon-Thu 09:00-17:30")
    assert str(hours) == "Mon-Thu 09:00-17:30, Fri 09:00-13:00"


def test_wrapping_range_and_split_shift() -> None:
    hours = WorkingHours.parse("Sun-Thu 08:00-12:00, Sun-Thu 13:00-16:00")
    assert hours.days[6] == ((480, 720), (780, 960))
    assert hours.days[4] == ()
    assert WorkingHours.parse(str(hours)) == hours


def test_end_of_day_24_00() -> None:
    hours = WorkingHours.parse("Sat 18:00-24:00")
    start, end = hours.intervals(date(2026, 11, 28), ZoneInfo("UTC"))[0]
    assert end - start == 6 * 3600


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("", "empty"),
        ("Mon-Fri", "cannot read"),
        ("Mon-Fry 09:00-17:00", "unknown day"),
        ("Mon-Fri 17:00-09:00", "ends before it starts"),
        ("Mon-Fri 09:00-25:00", "bad time"),
        ("Mon-Fri 09:60-17:00", "bad time"),
        ("Mon 09:00-12:00, Mon 11:00-13:00", "overlap"),
        ("24:00-10:00", "cannot read"),
    ],
)
def test_bad_specs_name_the_problem(spec: str, fragment: str) -> None:
    with pytest.raises(InvalidWorkingHours, match=fragment):
        WorkingHours.parse(spec)


def test_dst_day_keeps_wall_clock() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    hours = WorkingHours.parse("Mon-Sun 09:00-17:00")
    before = hours.intervals(date(2026, 3, 28), berlin)[0]
    after = hours.intervals(date(2026, 3, 29), berlin)[0]
    # 09:00 local is 08:00 UTC before the change and 07:00 UTC after it
    assert (after[0] - before[0]) == 23 * 3600


ranges = st.lists(st.tuples(st.integers(0, 23 * 60), st.integers(1, 120)), min_size=1, max_size=3)


@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6), ranges), min_size=1, max_size=4))
def test_print_then_parse_round_trips(items: list[tuple[int, int, list[tuple[int, int]]]]) -> None:
    # build a non-overlapping spec per day, then check parse(str(x)) == x
    per_day: dict[int, list[tuple[int, int]]] = {}
    parts = []
    for first, last, rngs in items:
        for start, length in rngs:
            end = min(start + length, 24 * 60)
            day = first
            days = []
            while True:
                days.append(day)
                if day == last:
                    break
                day = (day + 1) % 7
            if any(s < end and start < e for d in days for s, e in per_day.get(d, [])):
                continue
            for d in days:
                per_day.setdefault(d, []).append((start, end))
            clock = f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"
            parts.append(f"{DAY_NAMES[first]}-{DAY_NAMES[last]} {clock}")
    if not parts:
        return
    hours = WorkingHours.parse(", ".join(parts))
    assert WorkingHours.parse(str(hours)) == hours
