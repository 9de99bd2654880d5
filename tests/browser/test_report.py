"""The demo's report (``index.html``) in Chromium, as people see it on a phone (320 px)
and a laptop (1280 px): every hold is a labelled block with an accessible name (text, not
only a colour), nothing scrolls sideways, a day that got its breather no longer reads as
overloaded, and axe-core finds no serious or critical violation.

The report is the real one: ``micromoments demo`` run once, in its own process (it starts
and stops its own stand-ins), on a small organisation."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from .conftest import Shots

pytestmark = pytest.mark.e2e

PEOPLE = 10
WIDTHS = (320, 1280)
HOLD_NAMES = r"^(Breather|Social time|Coffee chat|Team drop-in) \d\d:\d\d–\d\d:\d\d$"
BAD = {"serious", "critical"}
MAIN = "import sys; from micromoments.cli import main; sys.exit(main(sys.argv[1:]))"


@dataclass
class Report:
    index: Path
    summary: dict[str, Any]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    out = tmp_path_factory.mktemp("report") / "demo-out"
    done = subprocess.run(
        [sys.executable, "-c", MAIN, "demo", "--people", str(PEOPLE), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return Report(out / "index.html", summary)


@pytest.fixture(params=WIDTHS, ids=[f"{width}px" for width in WIDTHS])
def report_page(request: pytest.FixtureRequest, browser: Browser, report: Report) -> Iterator[Page]:
    width: int = request.param
    context = browser.new_context(viewport={"width": width, "height": 800})
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto(report.index.as_uri())
        yield page
    finally:
        context.close()


def test_every_hold_is_a_labelled_block(report_page: Page, report: Report, shots: Shots) -> None:
    page = report_page
    expect(page.locator("h1")).to_contain_text("Room to breathe")
    holds = page.locator("li.hold")
    assert holds.count() > PEOPLE  # breathers, social time, coffee chats, drop-ins
    texts = holds.evaluate_all("els => els.map(el => el.textContent.trim())")
    assert all(texts), texts
    for index in range(holds.count()):
        hold = holds.nth(index)
        expect(hold).to_have_accessible_name(re.compile(HOLD_NAMES))
        # readable without colour: an icon and a visible label, on screen
        assert hold.locator("svg.icon").count() == 1
        expect(hold.locator(".label")).to_be_visible()
    # one card per person, each with one week of seven days
    assert page.locator("article.person").count() == PEOPLE
    assert page.locator("article.person .day").count() == 7 * PEOPLE
    shots(page, "report")


def test_nothing_scrolls_sideways(report_page: Page) -> None:
    page = report_page
    sizes = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
    )
    assert sizes["scroll"] <= sizes["inner"], sizes
    # the engineering figures, opened, fit too
    page.locator("details.engineering summary").click()
    sizes = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
    )
    assert sizes["scroll"] <= sizes["inner"], sizes


def test_relief_is_visible(report_page: Page) -> None:
    """A day that got a breather says so, and never "no breather"; the organisation's
    summary comes first and the engineering figures are collapsed at the end."""
    page = report_page
    relieved = page.locator(".day:has(li.hold.breather)")
    assert relieved.count() > 0
    for index in range(relieved.count()):
        day = relieved.nth(index)
        expect(day.locator(".badge")).not_to_contain_text("no breather")
    sections = page.eval_on_selector_all(
        "main > section, main > nav", "els => els.map(e => e.className || e.tagName)"
    )
    assert sections[0] == "org", sections
    assert page.locator("details.engineering").get_attribute("open") is None
    expect(page.locator("details.engineering summary")).to_contain_text("Store writes")
    expect(page.locator("nav#people a")).not_to_have_count(0)


def test_no_serious_or_critical_axe_violations(report_page: Page) -> None:
    page = report_page
    page.locator("details.engineering summary").click()  # check the collapsed part too
    response = Axe().run(page).response
    assert len(response["passes"]) > 10  # axe ran its rules on the report
    violations = response["violations"]
    bad = [
        (v["id"], v["impact"], [node["target"] for node in v["nodes"][:3]])
        for v in violations
        if v.get("impact") in BAD
    ]
    assert not bad, bad
