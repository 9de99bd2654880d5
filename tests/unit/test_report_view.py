"""The demo report's view of a person (`micromoments.local.demo.report`) and its page
(`page.render_html`): what changed in sentences, a day relieved by a breather no longer
reads as overloaded, the reason a heavy day got nothing, and every hold a labelled block."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pytest

from micromoments.domain.day_load import DayLoad
from micromoments.local.demo.page import care_table, render_html
from micromoments.local.demo.picture import Block, Picture
from micromoments.local.demo.report import person_view, why_no_breather, why_no_social

MONDAY = date(2026, 3, 2)
THURSDAY = date(2026, 3, 5)
NINE_TO_FIVE = (9 * 60, 17 * 60)


def _load(day: date, *, overloaded: bool = True, run: int = 255) -> DayLoad:
    return DayLoad(
        date=day,
        available=True,
        meeting_minutes=run + 60,
        after_hours_meeting_minutes=0,
        longest_back_to_back_minutes=run,
        back_to_back_meetings=4 if run else 0,
        focus_minutes=60,
        overloaded=overloaded,
        reasons=("back_to_back",) if overloaded else (),
    )


def _picture(**changes: object) -> Picture:
    """Thursday: meetings back to back 10:00-14:15 and a 15-minute breather at 14:15."""
    picture = Picture(
        email="ada.lovelace@example.com",
        team="Platform",
        timezone="Europe/Berlin",
        monday=MONDAY,
        working=[NINE_TO_FIVE] * 5 + [None, None],
        loads={THURSDAY: _load(THURSDAY)},
        all_day={},
        calendar=[
            Block("meeting", 3, 600, 660),
            Block("meeting", 3, 660, 720),
            Block("meeting", 3, 720, 800),
            Block("meeting", 3, 800, 855),
        ],
        holds=[Block("breather", 3, 855, 870)],
        quiet_days=frozenset(),
        holds_cap=5,
        today=MONDAY,
        runs={3: (600, 855)},
    )
    return replace(picture, **changes)  # type: ignore[arg-type]


def test_what_changed_reads_as_a_sentence() -> None:
    view = person_view(_picture(), None)
    assert view.changes == [
        "Thu: 4 h 15 min of meetings back to back → a 15-minute breather at 14:15"
    ]
    assert view.name == "Ada Lovelace" and view.zone == "Europe/Berlin"


def test_a_day_with_its_breather_no_longer_reads_as_overloaded() -> None:
    thursday = person_view(_picture(), None).days[3]
    assert thursday.state == "relieved"
    assert "no breather" not in thursday.badge and "overloaded" not in thursday.badge
    [hold] = thursday.holds
    assert (hold.text, hold.until) == ("Breather 14:15", "–14:30")
    without = person_view(_picture(holds=[]), None).days[3]
    assert without.state == "overloaded" and "no breather" in without.badge


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"quiet_days": frozenset({3})}, "one of their quiet days"),
        ({"today": date(2026, 3, 6)}, "the day had passed"),
        ({"wants": frozenset({"social"})}, "chose not to have breathers"),
        ({"runs": {}}, "no back-to-back run"),
        (
            {"holds": [Block("social", d, 700, 730) for d in range(5)]},
            "weekly cap",
        ),
        (
            {"calendar": [Block("meeting", 3, 600, 855), Block("meeting", 3, 860, 960)]},
            "no free 10 minutes in the hour after 14:15",
        ),
    ],
)
def test_why_a_heavy_day_got_no_breather(changes: dict[str, object], reason: str) -> None:
    picture = _picture(**({"holds": []} | changes))
    assert reason in why_no_breather(picture, THURSDAY, 3)
    days = [why for why in person_view(picture, None).unmet if why.startswith("Thu")]
    assert [reason in why for why in days] == [True]


def test_the_page_labels_every_hold_and_escapes_what_it_shows() -> None:
    summary = {
        "people": 1,
        "teams": 1,
        "time_zones": ["Europe/Berlin"],
        "week_shown": MONDAY.isoformat(),
        "runs": [],
        "holds": {"breather": 1},
        "connection": {"iso_week": "2026-W10", "pairs": 1, "trios": 0, "watercoolers": 0},
        "care": {"breather_coverage": 1.0, "runs_lengthened_by_holds": 2,
                 "targets": {"breather_coverage": 0.9, "runs_lengthened_by_holds": 0}},
    }  # fmt: skip
    picture = _picture(team="<script>x</script>")
    page = render_html(summary, [picture])
    assert "<script>x" not in page and "&lt;script&gt;x" in page
    assert "coffee chat planned for the week of 2 March" in page
    holds = re.findall(r'<li class="hold breather"[^>]*>(.*?)</li>', page)
    assert (
        len(holds) == 1
        and 'Breather 14:15<span class="until">–14:30<' in holds[0]
        and "<svg" in holds[0]
    )
    assert page.index("The organisation this week") < page.index("Engineering figures")
    assert re.search(r"<details class=\"engineering\">", page)  # collapsed: no "open"


def test_care_figures_are_shown_generically_from_their_targets() -> None:
    rows = care_table(
        {
            "breather_coverage": 0.93,
            "runs_lengthened_by_holds": 2,
            "personal_social_share": 0.95,
            "targets": {
                "breather_coverage": 0.9,
                "runs_lengthened_by_holds": 0,
                "personal_social_share": 0.9,
            },
        }
    )
    assert [(row["name"], row["value"], row["met"]) for row in rows] == [
        ("Breather coverage", "93%", True),
        ("Runs lengthened by holds", "2", False),
        ("Personal social share", "95%", True),
    ]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({}, "although a working day had room for it"),
        ({"quiet_days": frozenset(range(5))}, "no working day left"),
        ({"holds": [Block("breather", d, 855, 870) for d in range(5)]}, "weekly cap"),
        (
            {"calendar": [Block("meeting", d, 9 * 60, 17 * 60) for d in range(5)]},
            "no free 15 minutes on a working day",
        ),
    ],
)
def test_why_someone_who_wants_social_time_has_none(
    changes: dict[str, object], reason: str
) -> None:
    picture = _picture(**changes)
    why = why_no_social(picture)
    assert why is not None and why.startswith("No social time this week") and reason in why
    assert why in person_view(picture, None).unmet


def test_social_time_or_not_wanting_any_needs_no_reason() -> None:
    assert why_no_social(_picture(holds=[Block("coffee", 2, 600, 620)])) is None
    assert why_no_social(_picture(wants=frozenset({"breather"}))) is None
