"""Accessibility checks in Chromium: every form control has a label, headings go down one
level at a time (checked on every page by `shots`), the keyboard reaches and works the
forms with a visible focus outline, and nothing scrolls sideways at 320 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import Shots, Site, sign_in

pytestmark = pytest.mark.e2e

CONTROLS = "input:not([type=hidden]), select, textarea"
MAX_TABS = 15

UNLABELLED = f"""() => [...document.querySelectorAll("{CONTROLS}")]
    .filter(el => ![...el.labels].some(label => label.textContent.trim()))
    .map(el => el.outerHTML.slice(0, 120))"""

FOCUS = """() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    return {
        tag: el.tagName.toLowerCase(), id: el.id, name: el.getAttribute("name"),
        type: el.getAttribute("type"), focusVisible: el.matches(":focus-visible"),
        outlineStyle: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth),
    };
}"""


def test_every_control_has_a_label(page: Page, site: Site, shots: Shots) -> None:
    page.goto("/")
    assert page.evaluate(UNLABELLED) == []
    sign_in(page, site, site.take(), shots)
    assert page.locator(CONTROLS).count() > 10
    assert page.evaluate(UNLABELLED) == []
    buttons = page.eval_on_selector_all("button", "bs => bs.map(b => b.textContent.trim())")
    assert buttons and all(buttons), buttons
    shots(page, "preferences")


def _tab_to(page: Page, wanted: str) -> list[dict[str, object]]:
    """Press Tab until the element matching ``wanted`` has focus; every stop on the way
    must show a focus outline."""
    stops = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS)
        stops.append(focus)
        assert focus["focusVisible"], focus
        assert focus["outlineStyle"] != "none" and focus["outlineWidth"] >= 2, focus
        if page.evaluate("sel => document.activeElement.matches(sel)", wanted):
            return stops
    raise AssertionError(f"{MAX_TABS} presses of Tab never reached {wanted}: {stops}")


def test_the_keyboard_works_the_forms_with_a_visible_focus(
    page: Page, site: Site, shots: Shots
) -> None:
    email = site.take()
    page.goto("/")
    _tab_to(page, "#email")
    shots(page, "email-focused")
    page.keyboard.type(email)
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Check your email")

    page.goto(site.link(email))
    _tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Your preferences")

    page.goto("/preferences")  # focus starts at the top again
    stops = _tab_to(page, "input[name=moments]")
    first_control = stops[-1]
    assert first_control["type"] == "checkbox"
    checkbox = page.locator("input[name=moments]").first
    was = checkbox.is_checked()
    page.keyboard.press("Space")
    assert checkbox.is_checked() is not was
    shots(page, "checkbox-focused")


@pytest.mark.parametrize(
    "path", ["/", "/privacy", "/preferences"], ids=["home", "privacy", "preferences"]
)
def test_readable_at_320_px_without_sideways_scrolling(
    browser: Browser, site: Site, shots: Shots, path: str
) -> None:
    context = browser.new_context(base_url=site.url, viewport={"width": 320, "height": 640})
    try:
        page = context.new_page()
        if path == "/preferences":
            sign_in(page, site, site.take(), shots)
        page.goto(path)
        width = page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= 320, f"{path} is {width} px wide at a 320 px viewport"
        shots(page, "320px")
    finally:
        context.close()
