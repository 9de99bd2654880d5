"""Leaving, in Chromium: opting out (the removal scan the site queues runs on the site's
scan worker and takes the future holds off the local Calendar server), leaving and
deleting with JavaScript off (the confirmations are plain forms), and the weekly email's
one-click unsubscribe."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect

from micromoments import wiring
from micromoments.domain.people import PersonStatus
from micromoments.services.links import personal_links

from .conftest import Shots, Site, sign_in

pytestmark = pytest.mark.e2e

REMOVAL_TIMEOUT_S = 30


def test_opt_out_removes_the_future_holds_once_the_queued_scan_ran(
    page: Page, site: Site, shots: Shots
) -> None:
    email = site.take(with_future_holds=True)
    before = len(site.future_holds(email))
    assert before > 0
    sign_in(page, site, email, shots)
    shots(page, "preferences")

    page.get_by_role("button", name="Opt out and remove my future holds").click()
    expect(page.locator("h1")).to_have_text("Opt out of micromoments?")
    shots(page, "confirm")
    page.get_by_role("button", name="Yes, opt out and remove my future holds").click()
    expect(page.locator("h1")).to_have_text("You are out")
    shots(page, "out")

    deadline = time.monotonic() + REMOVAL_TIMEOUT_S
    while site.future_holds(email) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = site.future_holds(email)
    assert not left, f"{len(left)} of {before} future holds still on the calendar"
    while time.monotonic() < deadline:
        person = site.store.get_person(email)
        if person is not None and person.status is PersonStatus.OPTED_OUT:
            break
        time.sleep(0.2)
    person = site.store.get_person(email)
    assert person is not None and person.status is PersonStatus.OPTED_OUT

    page.goto("/preferences")  # opting out ended the session
    expect(page).to_have_url(f"{site.url}/")
    shots(page, "signed-out")


def _wait_for(site: Site, email: str, status: PersonStatus) -> None:
    deadline = time.monotonic() + REMOVAL_TIMEOUT_S
    while time.monotonic() < deadline:
        person = site.store.get_person(email)
        if person is not None and person.status is status:
            return
        time.sleep(0.2)
    person = site.store.get_person(email)
    raise AssertionError(f"{email} is {person.status if person else 'gone'}, not {status}")


def test_without_javascript_leave_then_sign_in_again_and_delete_everything(
    browser: Browser, site: Site, shots: Shots
) -> None:
    email = site.take()
    context = browser.new_context(base_url=site.url, java_script_enabled=False)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        sign_in(page, site, email, shots)
        page.get_by_role("button", name="Opt out and remove my future holds").click()
        expect(page.locator("h1")).to_have_text("Opt out of micromoments?")
        shots(page, "confirm-opt-out")
        page.get_by_role("link", name="No, back to my preferences").click()  # changes nothing
        expect(page.locator("h1")).to_have_text("Your preferences")
        person = site.store.get_person(email)
        assert person is not None and person.status is PersonStatus.ACTIVE
        page.get_by_role("button", name="Opt out and remove my future holds").click()
        page.get_by_role("button", name="Yes, opt out and remove my future holds").click()
        expect(page.locator("h1")).to_have_text("You are out")
        _wait_for(site, email, PersonStatus.OPTED_OUT)

        # signed in again, an opted-out person may opt in again or delete their data
        sign_in(page, site, email, shots)
        expect(page.get_by_text("You opted out")).to_be_visible()
        expect(page.get_by_role("button", name="Opt in with these preferences")).to_be_visible()
        shots(page, "opted-out")
        page.get_by_role("button", name="Delete my data").click()
        expect(page.locator("h1")).to_have_text("Delete your data?")
        shots(page, "confirm-delete")
        page.get_by_role("button", name="Yes, delete my data").click()
        expect(page.locator("h1")).to_have_text("Your data is erased")
        shots(page, "erased")
        assert site.store.get_person(email) is None
        page.goto("/preferences")  # signed out
        expect(page).to_have_url(f"{site.url}/")
    finally:
        context.close()


def test_unsubscribe_in_one_click(
    page: Page, playwright: Playwright, site: Site, shots: Shots
) -> None:
    email = site.take()
    sign_in(page, site, email, shots)
    weekly = page.get_by_label("A short weekly email about my own week")
    weekly.check()
    page.get_by_role("button", name="Save my preferences").click()  # writes the alias
    expect(page.get_by_role("status")).to_contain_text("Saved.")
    page.context.clear_cookies()  # the email is opened anywhere, signed in or not

    master_key = wiring.master_key()
    assert master_key is not None
    # as the weekly email would carry it, issued now (the site runs on the wall clock)
    links = personal_links(site.store, email, master_key, datetime.now(UTC), record=False)
    token = links.unsubscribe
    confirm = page.goto(f"/unsubscribe?token={token}")
    assert confirm is not None and confirm.status == 200
    expect(page.locator("h1")).to_have_text("Stop the weekly email?")
    expect(page.get_by_text(email)).to_be_visible()
    assert _weekly_email(site, email) is True  # opening the link changes nothing
    shots(page, "confirm")
    page.get_by_role("button", name="Stop the weekly email").click()
    expect(page.locator("h1")).to_have_text("You will get no more weekly emails")
    shots(page, "done")
    assert _weekly_email(site, email) is False

    # A mail client's one-click POST (RFC 8058): no cookies, no CSRF token.
    person = site.store.get_person(email)
    assert person is not None
    subscribed = person.preferences.model_copy(update={"weekly_email": True})
    site.store.update_person(person.model_copy(update={"preferences": subscribed}))
    client = playwright.request.new_context(base_url=site.url)
    try:
        answer = client.post(f"/unsubscribe?token={token}", form={"List-Unsubscribe": "One-Click"})
        assert answer.status == 200
        assert _weekly_email(site, email) is False
        forged = client.post(
            f"/unsubscribe?token={token[:-2]}xx", form={"List-Unsubscribe": "One-Click"}
        )
        assert forged.status == 400
    finally:
        client.dispose()

    refused = page.goto(f"/unsubscribe?token={token[:-2]}xx")
    assert refused is not None and refused.status == 400
    expect(page.locator("h1")).to_have_text("This link does not work")
    shots(page, "forged")


def _weekly_email(site: Site, email: str) -> bool:
    person = site.store.get_person(email)
    assert person is not None
    return person.preferences.weekly_email
