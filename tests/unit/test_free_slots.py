from datetime import date, datetime
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from micromoments.domain.free_slots import (
    Availability,
    common_free_slots,
    fit,
    free_slots,
    working_intervals,
)
from micromoments.domain.working_hours import WorkingHours

MIN = 60
intervals = st.lists(
    st.tuples(st.integers(0, 200), st.integers(1, 60)).map(
        lambda t: (t[0] * MIN, (t[0] + t[1]) * MIN)
    ),
    max_size=8,
)
people = st.lists(st.tuples(intervals, intervals), min_size=1, max_size=5)


@given(people, st.integers(1, 30))
def test_common_slots_equal_minute_by_minute(
    spec: list[tuple[list[tuple[int, int]], list[tuple[int, int]]]], minimum: int
) -> None:
    within = (0, 260 * MIN)
    group = [Availability(working=w, busy=b) for w, b in spec]
    got = common_free_slots(group, within=within, minimum=minimum * MIN)

    def free_at(m: int) -> bool:
        t = m * MIN
        return all(
            any(s <= t < e for s, e in p.working) and not any(s <= t < e for s, e in p.busy)
            for p in group
        )

    expected = []
    start = None
    for m in range(261):
        if m < 260 and free_at(m):
            start = m if start is None else start
        elif start is not None:
            if m - start >= minimum:
                expected.append((start * MIN, m * MIN))
            start = None
    assert got == expected
    if len(group) == 1:
        assert free_slots(group[0], within=within, minimum=minimum * MIN) == expected


def test_common_slot_across_time_zones() -> None:
    hours = WorkingHours.parse("Mon-Fri 09:00-17:00")
    day = (int(datetime(2026, 11, 24, tzinfo=ZoneInfo("UTC")).timestamp()),) * 2
    within = (day[0], day[0] + 86400)
    berlin = working_intervals(hours, ZoneInfo("Europe/Berlin"), within)
    new_york = working_intervals(hours, ZoneInfo("America/New_York"), within)
    slots = common_free_slots(
        [Availability(berlin, []), Availability(new_york, [])], within=within, minimum=60
    )
    # 09:00-17:00 Berlin (08-16 UTC) meets 09:00-17:00 New York (14-22 UTC) at 14-16 UTC
    start = datetime.fromtimestamp(slots[0][0], ZoneInfo("UTC"))
    end = datetime.fromtimestamp(slots[0][1], ZoneInfo("UTC"))
    assert (start.hour, end.hour, start.date()) == (14, 16, date(2026, 11, 24))
    assert len(slots) == 1


def test_fit_aligns_to_five_minutes_and_prefers_anchor() -> None:
    free = [(0, 3600), (7200, 14400)]
    assert fit(free, 600, earliest=61) == (300, 900)
    assert fit(free, 600, earliest=0, anchor=10000) == (10200, 10800)
    assert fit(free, 7201, earliest=0) is None
