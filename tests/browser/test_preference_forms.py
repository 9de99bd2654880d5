"""The preferences form in Chromium (issue 17, "The site's forms fit people"): working
hours per day or the same every day, quiet days as toggles, a searchable time zone with
the browser's suggested, each change confirmed from the person's live holds; at 320 and
1280 px, with a label on every control, no serious or critical axe-core finding, and the
whole form working with JavaScript off."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from micromoments.domain.holds import HoldKind, HoldStatus

from .conftest import Shots, Site, sign_in

pytestmark = pytest.mark.e2e

CONTROLS = "input:not([type=hidden]), select, textarea"
UNLABELLED = f"""() => [...document.querySelectorAll("{CONTROLS}")]
    .filter(el => ![...el.labels].some(label => label.textContent.trim()))
    .map(el => el.outerHTML.slice(0, 120))"""
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
QUIET = "Quiet days (no holds)"


def serious_findings(page: Page) -> list[dict[str, Any]]:
    response = Axe().run(page).response
    assert response["passes"], "axe-core checked nothing"
    violations: list[dict[str, Any]] = response["violations"]
    return [
        {"id": v["id"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in violations
        if v.get("impact") in ("serious", "critical")
    ]


def test_the_form_at_1280_and_320_px_labelled_and_without_serious_axe_findings(
    browser: Browser, site: Site, shots: Shots
) -> None:
    context = browser.new_context(base_url=site.url, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        sign_in(page, site, site.take(), shots)
        for width in (1280, 320):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto("/preferences")
            for mode in ("The same every day", "Different hours each day"):
                page.get_by_label(mode).check()  # the script shows that way's rows
                scroll = page.evaluate("document.scrollingElement.scrollWidth")
                assert scroll <= width, f"{scroll} px wide at a {width} px viewport ({mode})"
                assert page.evaluate(UNLABELLED) == []
                assert serious_findings(page) == []
            quiet = page.get_by_role("group", name=QUIET)
            expect(quiet.get_by_role("checkbox")).to_have_count(7)
            for day in DAYS:
                expect(quiet.get_by_label(day, exact=True)).to_be_attached()
            shots(page, f"{width}px")
    finally:
        context.close()


def _live_personal_holds(site: Site, email: str) -> list[Any]:
    now = datetime.now(UTC)
    return [
        h
        for h in site.store.holds(email)
        if h.kind in (HoldKind.BREATHER, HoldKind.SOCIAL)
        and h.status in (HoldStatus.PLACED, HoldStatus.MOVED)
        and h.end > now
    ]


def _expected(weekday: int, holds: list[Any]) -> str:
    days = sorted({h.day for h in holds})
    named = [f"{d:%a} {d.day} {d:%b}" for d in days]
    listed = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"
    noun = "hold" if len(holds) == 1 else "holds"
    return (
        f"{DAYS[weekday]} is now quiet: {len(holds)} {noun} on {listed} "
        "will be removed within the hour."
    )


def test_a_new_quiet_day_is_confirmed_with_the_holds_it_takes_off(
    browser: Browser, site: Site, shots: Shots
) -> None:
    email = site.take(with_future_holds=True)
    person = site.store.get_person(email)
    assert person is not None
    holds = [
        h
        for h in _live_personal_holds(site, email)
        if h.day.weekday() not in person.preferences.quiet_days
    ]
    assert holds, "the seeded person has no breather or social time ahead"
    weekday, _ = Counter(h.day.weekday() for h in holds).most_common(1)[0]
    on_day = [h for h in holds if h.day.weekday() == weekday]

    context = browser.new_context(base_url=site.url, timezone_id="Asia/Tokyo")
    try:
        page = context.new_page()
        sign_in(page, site, email, shots)
        suggestion = page.get_by_role("button", name="Use Asia/Tokyo")
        expect(suggestion).to_be_visible()  # the browser's zone, offered, not chosen
        expect(page.get_by_label("Time zone")).not_to_have_value("Asia/Tokyo")
        page.get_by_role("group", name=QUIET).get_by_label(DAYS[weekday], exact=True).check()
        shots(page, "quiet-day-ticked")
        page.get_by_role("button", name="Save my preferences").click()
        status = page.get_by_role("status")
        expect(status).to_contain_text(_expected(weekday, on_day))
        shots(page, "confirmed")
        expect(
            page.get_by_role("group", name=QUIET).get_by_label(DAYS[weekday], exact=True)
        ).to_be_checked()
    finally:
        context.close()
    stored = site.store.get_person(email)
    assert stored is not None and weekday in stored.preferences.quiet_days
    site.server.drain()  # the scan the change queued: the day's holds come off
    left = [h for h in _live_personal_holds(site, email) if h.day.weekday() == weekday]
    assert left == []


def test_the_form_works_without_javascript(browser: Browser, site: Site, shots: Shots) -> None:
    email = site.take()
    context = browser.new_context(
        base_url=site.url, java_script_enabled=False, viewport={"width": 320, "height": 800}
    )
    try:
        page = context.new_page()
        sign_in(page, site, email, shots)
        expect(page.get_by_label("Monday from")).to_be_visible()  # every way shown at once
        expect(page.get_by_text("This browser is set to")).to_be_hidden()

        page.get_by_label("The same every day").check()
        page.get_by_label("From", exact=True).fill("08:30")
        page.get_by_label("to", exact=True).fill("16:30")
        same_days = page.get_by_role("group", name="On these days")
        for day in DAYS:
            box = same_days.get_by_label(day, exact=True)
            box.set_checked(day in ("Monday", "Tuesday", "Thursday"))
        page.get_by_label("Time zone").fill("Mars/Olympus")
        page.get_by_role("button", name="Save my preferences").click()
        expect(page.get_by_role("alert")).to_contain_text("Nothing was saved")
        expect(page.get_by_text("'Mars/Olympus' is not a time zone we know")).to_be_visible()
        shots(page, "bad-zone")
        person = site.store.get_person(email)
        assert person is not None and person.preferences.timezone != "Mars/Olympus"

        expect(page.get_by_label("From", exact=True)).to_have_value("08:30")  # kept
        page.get_by_label("Time zone").fill("Europe/Lisbon")
        page.get_by_role("button", name="Save my preferences").click()
        status = page.get_by_role("status")
        expect(status).to_contain_text("Your time zone is now Europe/Lisbon.")
        expect(status).to_contain_text(
            "Your working hours are now Mon-Tue 08:30-16:30, Thu 08:30-16:30"
        )
        shots(page, "saved")
    finally:
        context.close()
    person = site.store.get_person(email)
    assert person is not None
    assert str(person.preferences.working_hours) == "Mon-Tue 08:30-16:30, Thu 08:30-16:30"
    assert person.preferences.timezone == "Europe/Lisbon"
