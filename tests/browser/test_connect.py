"""Connecting one's own Google Calendar, in Chromium (per-person OAuth): sign in, press
"Connect Google Calendar", allow on the local Calendar server's consent page, land back
opted in while the first scan (queued by the callback) runs on the person's own grant;
then opt out, and the grant is revoked at the Calendar server once the removal scan ran.

The shared site runs with google_access ``both`` for this test (delegation for everyone
else), on the OAuth client and KMS key `LocalRuntime.enable_oauth` adds."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from micromoments.domain.people import PersonStatus

from .conftest import Shots, Site, sign_in

pytestmark = pytest.mark.e2e

NEWCOMER = "newcomer.oauth@example.com"
TIMEOUT_S = 30


@pytest.fixture
def oauth_site(site: Site) -> Iterator[Site]:
    site.runtime.enable_oauth()
    site.runtime.allow_redirect(site.url + "/connect/callback")
    site.runtime.calendar.add_calendar(NEWCOMER, timezone="Asia/Kolkata")
    settings = site.store.get_settings()
    assert settings is not None
    site.store.put_settings(settings.updated({"google_access": "both"}))
    try:
        yield site
    finally:
        site.store.put_settings(settings)


def _until(check: object, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {TIMEOUT_S} s: {what}")


def test_connect_consent_opted_in_scanned_then_opt_out_revokes(
    page: Page, oauth_site: Site, shots: Shots
) -> None:
    site, consent = oauth_site, oauth_site.runtime.calendar.consent
    sign_in(page, site, NEWCOMER, shots)
    shots(page, "not-in-yet")

    page.get_by_role("link", name="Connect Google Calendar").click()
    expect(page.locator("h1")).to_have_text("micromoments wants to access your Google Account")
    expect(page.get_by_label("Google account")).to_have_value(NEWCOMER)  # the login hint
    shots(page, "consent")
    page.get_by_role("button", name="Allow").click()

    expect(page).to_have_url(f"{site.url}/preferences")
    expect(page.get_by_text("You are in.")).to_be_visible()
    shots(page, "connected")
    assert site.store.get_grant(NEWCOMER) is not None

    def scanned() -> bool:  # the queued first scan ran, on the person's own grant
        person = site.store.get_person(NEWCOMER)
        return (
            bool(consent.refreshes.get(NEWCOMER))
            and person is not None
            and (person.timezone == "Asia/Kolkata")
        )

    _until(scanned, "the first scan on the person's grant")
    assert consent.revocations == []

    page.get_by_role("button", name="Opt out and remove my future holds").click()
    page.get_by_role("button", name="Yes, opt out and remove my future holds").click()
    expect(page.locator("h1")).to_have_text("You are out")
    shots(page, "out")

    def revoked() -> bool:
        person = site.store.get_person(NEWCOMER)
        return (
            [r.subject for r in consent.revocations] == [NEWCOMER]
            and site.store.get_grant(NEWCOMER) is None
            and person is not None
            and person.status is PersonStatus.OPTED_OUT
        )

    _until(revoked, "the grant revoked at the Calendar server after the removal scan")
    assert consent.grants_of(NEWCOMER) == 0
