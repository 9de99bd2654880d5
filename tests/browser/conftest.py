"""The opt-in site in a real browser: Debian's Chromium driven by Playwright (Python).

One site for the whole package (torn down before the other test folders run): the local
stand-ins (`LocalRuntime`: moto's server, the Calendar server), a small synthetic
organisation seeded and scanned once, so its people have holds on their calendars, and
`SiteServer` serving the real web handler on a free loopback port with its scan worker.

Chromium is the one Debian installs (``/usr/bin/chromium``); Playwright downloads
nothing. Without it every test here fails, naming the fix: never a silent skip.

Every page a test visits is checked (one ``h1``, no heading level skipped) and kept as a
full-page screenshot in ``test-artifacts/browser/<test>-<step>.png``.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from micromoments import wiring
from micromoments.adapters.mail import OutboxMailer
from micromoments.adapters.table import TableStore
from micromoments.local.runtime import LocalRuntime
from micromoments.local.serve import SiteServer, queue_everyone, seed_organisation, sign_in_link
from micromoments.local.synthetic import SyntheticOrg

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PEOPLE = 15
TAG = "micromoments"  # the private extended property on every event micromoments placed


def quiet(_: str) -> None:
    return


@dataclass
class Site:
    runtime: LocalRuntime
    server: SiteServer
    org: SyntheticOrg
    outbox: Path
    taken: set[str] = field(default_factory=set)
    links: set[str] = field(default_factory=set)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def store(self) -> TableStore:
        return wiring.store()

    def future_holds(self, email: str) -> list[dict[str, Any]]:
        """Events on the person's calendar that micromoments placed and that start later
        than now (cancelled ones left out)."""
        now = datetime.now(UTC)
        found = []
        for event in self.runtime.calendar.events(email, include_cancelled=False):
            private = (event.get("extendedProperties") or {}).get("private") or {}
            start = (event.get("start") or {}).get("dateTime")
            if private.get(TAG) == "1" and start and datetime.fromisoformat(start) > now:
                found.append(event)
        return found

    def take(self, *, with_future_holds: bool = False) -> str:
        """A seeded person no other test has used (each has its own state and rate
        limits), optionally one with future holds on their calendar."""
        for synthetic in self.org.people:
            email = synthetic.email
            if email in self.taken:
                continue
            if with_future_holds and not self.future_holds(email):
                continue
            self.taken.add(email)
            return email
        raise AssertionError("no seeded person left for this test: raise PEOPLE")

    def link(self, email: str) -> str:
        """The sign-in link of the newest email to ``email``: a new one each time."""
        message = OutboxMailer(self.outbox).latest(email)
        assert message is not None, f"no email to {email} in {self.outbox}"
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        link = sign_in_link(body.get_content())
        assert link is not None, "the email holds no sign-in link"
        assert link not in self.links, "no new sign-in email arrived"
        self.links.add(link)
        return link


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In this folder, the tests that do not use the shared Playwright run first: a module
    that starts its own (Playwright's sync API allows one at a time) then never overlaps
    the shared one, which lives until the folder's last test. Other tests keep their
    places."""
    here = Path(__file__).parent
    slots = [i for i, item in enumerate(items) if item.path.is_relative_to(here)]
    ours = [items[i] for i in slots]
    ours.sort(key=lambda item: "playwright" in getattr(item, "fixturenames", ()))
    for slot, item in zip(slots, ours, strict=True):
        items[slot] = item


def _require_chromium() -> None:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: the browser tests drive Debian's "
            "Chromium and download no browser. Install it with "
            "`sudo apt-get install -y chromium` (or run `make browser-deps`).",
            pytrace=False,
        )


@pytest.fixture(scope="package")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    _require_chromium()
    outbox = tmp_path_factory.mktemp("site") / "outbox"
    with LocalRuntime() as runtime:
        org = seed_organisation(runtime, people=PEOPLE, progress=quiet)
        queued = queue_everyone(runtime)
        with SiteServer(runtime, outbox=outbox, out=None, progress=quiet) as server:
            server.drain(expected=queued)
            yield Site(runtime, server, org, outbox)


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    _require_chromium()
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    try:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    except Exception as exc:
        pytest.fail(f"Chromium at {CHROMIUM} did not start: {exc}", pytrace=False)
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture(scope="package")
def artifacts(request: pytest.FixtureRequest) -> Path:
    """test-artifacts/browser/, emptied once per run."""
    directory = request.config.rootpath / "test-artifacts" / "browser"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return directory


@pytest.fixture
def context(browser: Browser, site: Site) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookies) per test."""
    ctx = browser.new_context(base_url=site.url)
    ctx.set_default_timeout(10_000)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


class Shots:
    """``shots(page, "step")``: the page's headings checked, then a full-page screenshot
    as ``<test>-<step>.png``."""

    def __init__(self, directory: Path, test: str) -> None:
        self.directory = directory
        self.test = re.sub(r"[^A-Za-z0-9_.-]+", "-", test.removeprefix("test_")).strip("-")
        self.taken: list[Path] = []

    def __call__(self, page: Page, step: str) -> Path:
        assert_headings_in_order(page)
        path = self.directory / f"{self.test}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path


@pytest.fixture
def shots(artifacts: Path, request: pytest.FixtureRequest) -> Shots:
    return Shots(artifacts, request.node.name)


def assert_headings_in_order(page: Page) -> None:
    """One h1, first; no heading level skipped on the way down."""
    levels: list[int] = page.eval_on_selector_all(
        "h1, h2, h3, h4, h5, h6", "hs => hs.map(h => Number(h.tagName[1]))"
    )
    where = page.url
    assert levels, f"{where}: no heading"
    assert levels[0] == 1 and levels.count(1) == 1, f"{where}: headings {levels}"
    for before, after in pairwise(levels):
        assert after <= before + 1, f"{where}: h{before} then h{after} skips a level"


def sign_in(page: Page, site: Site, email: str, shots: Shots) -> None:
    """Ask for a link on the home page, open the emailed link, press the button."""
    page.goto("/")
    expect(page.locator("h1")).to_have_text("Room to breathe, and to connect")
    shots(page, "home")
    page.get_by_label("Work email address").fill(email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.locator("h1")).to_have_text("Check your email")
    shots(page, "check-email")
    page.goto(site.link(email))
    expect(page.locator("h1")).to_have_text("Sign in to micromoments")
    shots(page, "sign-in-button")
    page.get_by_role("button", name=f"Sign in as {email}").click()
    expect(page).to_have_url(f"{site.url}/preferences")
    expect(page.locator("h1")).to_have_text("Your preferences")
