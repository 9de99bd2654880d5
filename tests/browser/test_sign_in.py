"""Signing in from the emailed link, changing preferences, forged and replayed links,
signing out: in Chromium, against the real web handler."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import Shots, Site, sign_in

pytestmark = pytest.mark.e2e

WORKING_HOURS = "Mon-Thu 09:00-17:30, Fri 09:00-13:00"


def test_sign_in_from_the_emailed_link_and_change_preferences(
    page: Page, site: Site, shots: Shots
) -> None:
    email = site.take()
    sign_in(page, site, email, shots)
    expect(page.get_by_text("You are in.")).to_be_visible()  # seeded people are opted in
    shots(page, "preferences")

    social = page.get_by_label("Unstructured social time")
    wednesday = page.get_by_role("group", name="Quiet days (no holds)").get_by_label("Wednesday")
    expect(social).to_be_checked()
    expect(wednesday).not_to_be_checked()
    social.uncheck()
    wednesday.check()
    page.get_by_label("Different hours each day").check()
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"):
        page.get_by_label(f"{day} from").fill("09:00")
        page.get_by_label(f"{day} to").fill("13:00" if day == "Friday" else "17:30")
    for day in ("Saturday", "Sunday"):
        page.get_by_label(f"{day} from").fill("")
        page.get_by_label(f"{day} to").fill("")
    page.get_by_label("Breather length").select_option("10")
    page.get_by_role("button", name="Save my preferences").click()
    expect(page.get_by_role("status")).to_contain_text("Social time is off:")
    shots(page, "saved")

    page.reload()
    expect(page.get_by_label("Unstructured social time")).not_to_be_checked()
    quiet = page.get_by_role("group", name="Quiet days (no holds)")
    expect(quiet.get_by_label("Wednesday")).to_be_checked()
    expect(page.get_by_label("Different hours each day")).to_be_checked()
    expect(page.get_by_label("Friday to")).to_have_value("13:00")
    expect(page.get_by_label("Breather length")).to_have_value("10")
    shots(page, "reloaded")

    person = site.store.get_person(email)
    assert person is not None
    prefs = person.preferences
    assert "social" not in {kind.value for kind in prefs.moments}
    assert prefs.quiet_days == {2} and prefs.breather_minutes == 10
    assert str(prefs.working_hours) == WORKING_HOURS


def test_a_forged_link_gets_a_friendly_page_with_a_new_link_button(
    page: Page, site: Site, shots: Shots
) -> None:
    for step, token in (("short", "forged"), ("plausible", "A" * 43)):
        answer = page.goto(f"/auth?token={token}")
        assert answer is not None and answer.status == 400
        expect(page.locator("h1")).to_have_text("This link no longer works")
        shots(page, f"forged-{step}")
    page.get_by_role("link", name="Send me a new link").click()
    expect(page).to_have_url(f"{site.url}/")
    expect(page.get_by_label("Work email address")).to_be_visible()
    shots(page, "new-link")


def test_a_replayed_link_gets_a_friendly_page(
    page: Page, browser: Browser, site: Site, shots: Shots
) -> None:
    email = site.take()
    page.goto("/")
    page.get_by_label("Work email address").fill(email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.locator("h1")).to_have_text("Check your email")
    link = site.link(email)

    # Someone else opens the same link before it is used (a forwarded email, say).
    other = browser.new_context(base_url=site.url)
    try:
        replay = other.new_page()
        replay.goto(link)
        expect(replay.get_by_role("button", name=f"Sign in as {email}")).to_be_visible()

        page.goto(link)
        page.get_by_role("button", name=f"Sign in as {email}").click()
        expect(page).to_have_url(f"{site.url}/preferences")
        shots(page, "first-use")

        with replay.expect_response(lambda r: r.request.method == "POST") as posted:
            replay.get_by_role("button", name=f"Sign in as {email}").click()
        assert posted.value.status == 400
        expect(replay.locator("h1")).to_have_text("This link no longer works")
        shots(replay, "replayed-button")
        assert not [c for c in other.cookies() if c["name"] == "__Host-mm_session"]
    finally:
        other.close()

    again = page.goto(link)  # the used link, opened again
    assert again is not None and again.status == 400
    expect(page.locator("h1")).to_have_text("This link no longer works")
    shots(page, "replayed-link")


def test_sign_out_goes_back_to_the_start(page: Page, site: Site, shots: Shots) -> None:
    email = site.take()
    sign_in(page, site, email, shots)
    assert [c for c in page.context.cookies() if c["name"] == "__Host-mm_session"]
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page).to_have_url(f"{site.url}/")
    expect(page.get_by_label("Work email address")).to_be_visible()
    shots(page, "signed-out")
    assert not [c for c in page.context.cookies() if c["name"] == "__Host-mm_session"]

    page.goto("/preferences")
    expect(page).to_have_url(f"{site.url}/")  # redirected: no session any more
    expect(page.locator("h1")).to_have_text("Room to breathe, and to connect")
    shots(page, "preferences-redirects")
