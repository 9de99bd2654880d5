"""Cross-site request forgery, in Chromium: a form whose CSRF token was tampered with is
refused with a 403 page and changes nothing."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from micromoments.domain.people import PersonStatus

from .conftest import Shots, Site, sign_in

pytestmark = pytest.mark.e2e

FORGED = "0" * 64


def _tamper(page: Page, form_action: str) -> None:
    page.evaluate(
        """([action, forged]) => {
            const input = document.querySelector(`form[action="${action}"] input[name=csrf]`);
            input.value = forged;
        }""",
        [form_action, FORGED],
    )


def _submit(page: Page, button: str) -> int:
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name=button, exact=True).click()
    return posted.value.status


def test_a_tampered_csrf_token_is_refused_and_changes_nothing(
    page: Page, site: Site, shots: Shots
) -> None:
    email = site.take()
    sign_in(page, site, email, shots)
    before = site.store.get_person(email)
    assert before is not None and before.status is PersonStatus.ACTIVE

    page.get_by_label("Holds per week at most").fill("2")
    page.get_by_label("Unstructured social time").set_checked(
        not page.get_by_label("Unstructured social time").is_checked()
    )
    _tamper(page, "/preferences")
    assert _submit(page, "Save my preferences") == 403
    expect(page.locator("h1")).to_have_text("This form has expired")
    expect(page.get_by_text("Nothing was changed.")).to_be_visible()
    shots(page, "preferences-refused")
    assert site.store.get_person(email) == before

    page.goto("/optout/confirm")
    _tamper(page, "/optout")
    assert _submit(page, "Yes, opt out and remove my future holds") == 403
    shots(page, "optout-refused")
    assert site.store.get_person(email) == before

    page.goto("/preferences")
    _tamper(page, "/logout")
    assert _submit(page, "Sign out") == 403
    page.goto("/preferences")  # still signed in
    expect(page.locator("h1")).to_have_text("Your preferences")

    page.context.clear_cookies()
    page.goto("/")
    page.get_by_label("Work email address").fill(email)
    _tamper(page, "/login")
    assert _submit(page, "Email me a sign-in link") == 403
    shots(page, "login-refused")
