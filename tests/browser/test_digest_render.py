"""The digest's HTML in a real browser (headless Chromium): no horizontal scrolling on a
375 px phone or an 800 px window, and full-page screenshots kept as test artifacts in
``test-artifacts/email/``. Self-contained: its own digest and browser fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from micromoments.domain.calendar import EventKind
from micromoments.domain.day_load import DayLoad
from micromoments.domain.digest import build_digest
from micromoments.domain.holds import HoldKind, HoldStatus
from micromoments.domain.mirror import MirrorEvent
from micromoments.email.digest import render_html
from tests import builders

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "email"
MONDAY = date(2026, 11, 23)
# A long address and a long token: the things most likely to push a narrow screen wide.
PERSON = "firstname.middlename.lastname.with-a-long-suffix@subsidiary.example-company.org"
TOKEN = "a" * 64 + "." + "f" * 64
LEAVE = "b" * 64 + "." + "e" * 64


def _load(day: date, minutes: int, *, overloaded: bool = False, available: bool = True) -> DayLoad:
    return DayLoad(
        date=day,
        available=available,
        meeting_minutes=minutes,
        after_hours_meeting_minutes=150 if overloaded else 0,
        longest_back_to_back_minutes=min(minutes, 200),
        back_to_back_meetings=3,
        focus_minutes=60,
        overloaded=overloaded,
        reasons=("after_hours",) if overloaded else (),
    )


_hold = partial(builders.hold, hour=12, tz=UTC, busy=False)


@pytest.fixture(scope="module")
def html() -> str:
    """A full week: every section filled, an overloaded day, a day away."""
    days = [MONDAY + timedelta(days=i) for i in range(14)]
    loads = [
        _load(days[0], 240),
        _load(days[1], 425, overloaded=True),
        _load(days[2], 0, available=False),
        _load(days[3], 385, overloaded=True),
        _load(days[4], 45),
        _load(days[8], 330),
        *(_load(MONDAY - timedelta(days=7 - i), 200) for i in range(5)),
    ]
    holds = [
        _hold(HoldKind.BREATHER, days[0], HoldStatus.KEPT, hold_id="b1"),
        _hold(HoldKind.BREATHER, days[1], HoldStatus.DISMISSED, hold_id="b2"),
        _hold(HoldKind.SOCIAL, days[4], HoldStatus.KEPT, hold_id="s1"),
        _hold(HoldKind.BREATHER, days[8], HoldStatus.PLANNED, hold_id="n1"),
    ]
    coffee_at = datetime(2026, 11, 25, 10, tzinfo=UTC)
    coffee = MirrorEvent(
        id="coffee1",
        start=coffee_at,
        end=coffee_at + timedelta(minutes=30),
        kind=EventKind.MEETING,
        hold_kind=HoldKind.COFFEE.value,
    )
    digest = build_digest(
        person=PERSON,
        timezone="America/Argentina/Buenos_Aires",
        label="2026-W48",
        loads=loads,
        holds=holds,
        shared=[coffee],
        now=datetime(2026, 11, 27, 18, tzinfo=UTC),
    )
    return render_html(
        digest, base_url="https://care.example.org", unsubscribe=TOKEN, opt_out=LEAVE
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.fail("Chromium is missing: run apt-get install -y chromium (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            yield browser
        finally:
            browser.close()


def test_the_html_is_under_100_kb(html: str) -> None:
    assert len(html.encode()) < 100_000


@pytest.mark.parametrize(("width", "height"), [(375, 800), (800, 1000)])
def test_the_digest_fits_the_screen(browser: Any, html: str, width: int, height: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        page.set_content(html, wait_until="load")
        scroll_width, inner_width = page.evaluate(
            "[document.scrollingElement.scrollWidth, window.innerWidth]"
        )
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"digest-{width}.png"), full_page=True)
        assert scroll_width <= inner_width, (scroll_width, inner_width)
        assert requests == [], "the email loads nothing from anywhere"
        rows = page.locator("caption + tbody > tr").count()
        assert rows == 7, "one bar per weekday"
        column = page.evaluate(
            "Math.max(...[...document.querySelectorAll('table')].map("
            "t => t.getBoundingClientRect().right))"
        )
        assert column <= inner_width
    finally:
        context.close()
