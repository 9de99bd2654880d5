"""The opt-in site through its Lambda handler, on fakes: the in-memory Store, a mailer that
keeps messages, a list for the scan queue. Requests go in as API Gateway v2 events
(`local.web_bridge`), as deployed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from micromoments.adapters.mail import MemoryMailer
from micromoments.adapters.memory import MemoryTable
from micromoments.adapters.table import TableStore
from micromoments.domain.access import never_pair_key, pseudonym_key
from micromoments.domain.holds import Hold, HoldKind, HoldStatus, personal_hold_id
from micromoments.domain.people import Person, PersonStatus, pseudonym
from micromoments.domain.scan_request import ScanReason, ScanRequest
from micromoments.domain.settings import OrgSettings
from micromoments.handlers import web
from micromoments.local.web_bridge import HttpResponse, call
from micromoments.services.links import PersonalLinks, personal_links
from micromoments.services.preferences import leave
from micromoments.web import dependencies
from micromoments.web.dependencies import Services

KEY = b"w" * 32
ANA = "ana@example.com"
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@dataclass
class ListQueue:
    sent: list[ScanRequest] = field(default_factory=list)

    def send(self, requests: list[ScanRequest]) -> None:
        self.sent.extend(requests)


class Browser:
    """Keeps cookies like a browser; sends forms like one, to the `site` fixture's site."""

    site: ClassVar[Site]

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def request(self, method: str, target: str, form: dict[str, str | list[str]] | None = None,
                *, source_ip: str = "127.0.0.1") -> HttpResponse:  # fmt: skip
        parts = urlsplit(target)
        headers = [("host", "localhost"), ("user-agent", "test")]
        if self.cookies:
            headers.append(("cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items())))
        body = b""
        if form is not None:
            headers.append(("content-type", "application/x-www-form-urlencoded"))
            body = urlencode(form, doseq=True).encode()
        response = call(self.site.handler, method, parts.path, query=parts.query,
                        headers=headers, body=body, source_ip=source_ip)  # fmt: skip
        for cookie in response.set_cookies:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in cookie or not value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return response

    def get(self, target: str) -> HttpResponse:
        return self.request("GET", target)

    def post(self, target: str, form: dict[str, str | list[str]] | None = None) -> HttpResponse:
        return self.request("POST", target, form or {})


@dataclass
class Site:
    store: TableStore
    mailer: MemoryMailer
    queue: ListQueue
    clock: list[datetime]
    deps: Services  # what the web function is given (a test may swap it for another)

    def handler(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """The web function with this site's fakes passed in."""
        answer: dict[str, Any] = web.handler(event, context, deps=self.deps)
        return answer

    def link(self, to: str = ANA, route: str = "auth") -> str:
        message = self.mailer.latest(to)
        assert message is not None
        body = message.get_body(("plain",))
        assert body is not None
        found = re.search(rf"https?://\S+/{route}\?token=\S+", body.get_content())
        assert found is not None
        return found.group(0)

    def links(self, email: str = ANA, at: datetime = NOW) -> PersonalLinks:
        """The tokens of an email sent to ``email`` at ``at``."""
        return personal_links(self.store, email, KEY, at, record=True)


@pytest.fixture
def site(monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "1")
    store = TableStore(MemoryTable())
    store.create_settings(OrgSettings(timezone="Europe/Berlin", allowed_domains=("example.com",)))
    mailer = MemoryMailer()
    queue = ListQueue()
    clock = [NOW]
    deps = Services(store, mailer, queue, KEY, "https://mm.example.com", "mm@example.com",
                    lambda: clock[0])  # fmt: skip
    found = Site(store, mailer, queue, clock, deps)
    monkeypatch.setattr(Browser, "site", found, raising=False)
    yield found


def csrf(response: HttpResponse) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', response.text)
    assert found is not None, response.text[:500]
    return found.group(1)


def sign_in(site: Site, browser: Browser, email: str = ANA) -> HttpResponse:
    home = browser.get("/")
    browser.post("/login", {"csrf": csrf(home), "email": email})
    link = urlsplit(site.link(email))
    page = browser.get(f"/auth?{link.query}")
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token is not None
    return browser.post("/auth", {"csrf": csrf(page), "token": token.group(1)})


PREFERENCES = {
    "moments": ["breather", "coffee"],
    "breather_minutes": "10",
    "social_minutes": "20",
    "coffee_minutes": "30",
    "holds_per_week": "3",
    "part_of_day": "afternoon",
    "hours_mode": "days",
    **{f"start_{d}": "09:00" for d in ("Mon", "Tue", "Wed", "Thu", "Fri")},
    **{f"end_{d}": "17:30" for d in ("Mon", "Tue", "Wed", "Thu")},
    "end_Fri": "13:00",
    "timezone": "America/New_York",
    "quiet_days": ["Wed"],
    "weekly_email": "on",
    "dont_pair_add": "ben@example.com\ncleo@example.com",
}


def test_every_response_has_the_security_headers(site: Site) -> None:
    for path in ("/", "/privacy", "/nope", "/auth?token=x", "/health", "/preferences"):
        response = Browser().get(path)
        csp = response.header("Content-Security-Policy") or ""
        for part in ("default-src 'self'", "object-src 'none'", "base-uri 'none'",
                     "frame-ancestors 'none'"):  # fmt: skip
            assert part in csp, path
        assert response.header("Strict-Transport-Security"), path
        assert response.header("X-Content-Type-Options") == "nosniff", path
        assert response.header("Referrer-Policy"), path


def test_sign_in_opt_in_and_change_preferences(site: Site) -> None:
    browser = Browser()
    signed = sign_in(site, browser)
    assert signed.status == 303 and signed.header("Location") == "/preferences"
    cookie = next(c for c in signed.set_cookies if c.startswith("__Host-mm_session="))
    for attribute in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert attribute in cookie
    page = browser.get("/preferences")
    assert page.status == 200 and "not opted in yet" in page.text
    assert site.store.get_person(ANA) is None  # nothing stored before the form is saved

    saved = browser.post("/preferences", {"csrf": csrf(page), **PREFERENCES})
    assert saved.status == 200 and "You are in" in saved.text
    person = site.store.get_person(ANA)
    assert person is not None and person.status is PersonStatus.ACTIVE
    prefs = person.preferences
    assert {k.value for k in prefs.moments} == {"breather", "coffee"}
    assert (prefs.breather_minutes, prefs.coffee_minutes, prefs.holds_per_week) == (10, 30, 3)
    assert str(prefs.working_hours) == "Mon-Thu 09:00-17:30, Fri 09:00-13:00"
    assert prefs.timezone == "America/New_York" and prefs.quiet_days == {2}
    assert len(prefs.dont_pair) == 2 and "@" not in repr(prefs.dont_pair)
    assert site.queue.sent == [ScanRequest(ANA, ScanReason.OPT_IN)]
    assert "It holds 2 entries" in saved.text and "ben@example.com" not in saved.text

    again = browser.post("/preferences", {"csrf": csrf(saved), **PREFERENCES, "weekly_email": ""})
    assert "Saved" in again.text and len(site.queue.sent) == 1  # no second first scan
    person = site.store.get_person(ANA)
    assert person is not None and person.preferences.weekly_email is False
    cleared = browser.post("/preferences/dont-pair/clear", {"csrf": csrf(again)})
    person = site.store.get_person(ANA)
    assert person is not None and person.preferences.dont_pair == frozenset()
    assert "It holds 0 entries" in cleared.text


def test_an_invalid_form_shows_each_error_and_stores_nothing(site: Site) -> None:
    browser = Browser()
    sign_in(site, browser)
    page = browser.get("/preferences")
    bad = {**PREFERENCES, "start_Mon": "9-5", "timezone": "Mars/Olympus",
           "holds_per_week": "-1"}  # fmt: skip
    answer = browser.post("/preferences", {"csrf": csrf(page), **bad})
    assert answer.status == 400
    for name in ("start_Mon", "timezone", "holds_per_week"):
        assert f'id="{name}-error"' in answer.text
    assert 'value="9-5"' in answer.text  # what was typed is shown again
    assert site.store.get_person(ANA) is None and site.queue.sent == []


def test_get_auth_changes_nothing_and_tokens_work_once(site: Site) -> None:
    browser = Browser()
    home = browser.get("/")
    browser.post("/login", {"csrf": csrf(home), "email": ANA})
    link = urlsplit(site.link())
    for _ in range(3):  # a mail scanner prefetching the link
        assert "Sign in as ana@example.com" in Browser().get(f"/auth?{link.query}").text
    page = browser.get(f"/auth?{link.query}")
    token = link.query.split("=", 1)[1]
    assert browser.post("/auth", {"csrf": csrf(page), "token": token}).status == 303
    replay = Browser()
    replay_page = replay.get("/")
    replayed = replay.post("/auth", {"csrf": csrf(replay_page), "token": token})
    assert replayed.status == 400 and "no longer works" in replayed.text
    assert "no longer works" in Browser().get(f"/auth?{link.query}").text


def test_forged_and_expired_tokens_get_a_friendly_page(site: Site) -> None:
    browser = Browser()
    page = browser.get("/")
    forged = browser.post("/auth", {"csrf": csrf(page), "token": "A" * 43})
    assert forged.status == 400 and "Send me a new link" in forged.text
    browser.post("/login", {"csrf": csrf(page), "email": ANA})
    link = urlsplit(site.link())
    site.clock[0] = NOW + timedelta(minutes=16)
    assert "no longer works" in browser.get(f"/auth?{link.query}").text


def test_the_login_answer_is_the_same_for_any_address(site: Site) -> None:
    answers = set()
    for address in (ANA, "nobody@example.com", "eve@elsewhere.org"):
        browser = Browser()
        page = browser.get("/")
        response = browser.post("/login", {"csrf": csrf(page), "email": address})
        answers.add((response.status, response.text))
    assert len(answers) == 1
    assert [m["To"] for m in site.mailer.sent] == [ANA, "nobody@example.com"]


def test_sign_in_links_are_rate_limited_per_address(site: Site) -> None:
    for _ in range(8):
        browser = Browser()
        page = browser.get("/")
        browser.post("/login", {"csrf": csrf(page), "email": ANA})
    assert len(site.mailer.sent) == 5


def test_csrf_is_required_on_every_state_changing_form(site: Site) -> None:
    browser = Browser()
    sign_in(site, browser)
    page = browser.get("/preferences")
    for path in ("/preferences", "/preferences/dont-pair/clear", "/optout",
                 "/delete-my-data", "/logout", "/logout/everywhere"):  # fmt: skip
        refused = browser.post(path, {"csrf": "0" * 64, **PREFERENCES, "confirm": "yes"})
        assert refused.status == 403, path
    assert site.store.get_person(ANA) is None
    stranger = Browser()
    stranger.get("/")
    assert stranger.post("/login", {"csrf": csrf(page), "email": ANA}).status == 403


def test_opt_out_queues_the_removal_and_ends_the_session(site: Site) -> None:
    browser = Browser()
    sign_in(site, browser)
    page = browser.get("/preferences")
    saved = browser.post("/preferences", {"csrf": csrf(page), **PREFERENCES})
    left = browser.post("/optout", {"csrf": csrf(saved), "confirm": "yes"})
    assert left.status == 200 and "You are out" in left.text
    person = site.store.get_person(ANA)
    assert person is not None and person.status in (PersonStatus.LEAVING, PersonStatus.OPTED_OUT)
    assert browser.get("/preferences").status == 303  # signed out


def test_delete_my_data_erases_once_nothing_is_left(site: Site) -> None:
    browser = Browser()
    sign_in(site, browser)
    page = browser.get("/preferences")
    saved = browser.post("/preferences", {"csrf": csrf(page), **PREFERENCES})
    gone = browser.post("/delete-my-data", {"csrf": csrf(saved), "confirm": "yes"})
    assert gone.status == 200 and "35 days" in gone.text
    assert "Your data is erased" in gone.text
    assert site.store.get_person(ANA) is None  # no hold was placed yet: erased at once


def test_one_click_unsubscribe(site: Site) -> None:
    browser = Browser()
    sign_in(site, browser)
    page = browser.get("/preferences")
    browser.post("/preferences", {"csrf": csrf(page), **PREFERENCES})
    token = site.links().unsubscribe
    stranger = Browser()  # a mail client: no session, no CSRF token
    confirm = stranger.get(f"/unsubscribe?token={token}")
    person = site.store.get_person(ANA)
    assert confirm.status == 200 and person is not None and person.preferences.weekly_email
    done = stranger.post(f"/unsubscribe?token={token}", {"List-Unsubscribe": "One-Click"})
    person = site.store.get_person(ANA)
    assert done.status == 200 and person is not None and not person.preferences.weekly_email
    forged = stranger.post(f"/unsubscribe?token={token[:-1]}{'1' if token[-1] == '0' else '0'}", {})
    assert forged.status == 400


def test_logout_ends_the_session(site: Site) -> None:
    browser = Browser()
    sign_in(site, browser)
    page = browser.get("/preferences")
    assert browser.post("/logout", {"csrf": csrf(page)}).status == 303
    assert browser.get("/preferences").status == 303


# -- leaving ends every session; a confirmation first ----------------------------------------


def unused_link(site: Site, email: str = ANA) -> str:
    """A sign-in link asked for and never opened (the query of its URL)."""
    browser = Browser()
    home = browser.get("/")
    browser.post("/login", {"csrf": csrf(home), "email": email})
    return urlsplit(site.link(email)).query


def opted_in(site: Site) -> tuple[Browser, HttpResponse]:
    browser = Browser()
    sign_in(site, browser)
    page = browser.get("/preferences")
    saved = browser.post("/preferences", {"csrf": csrf(page), **PREFERENCES})
    assert saved.status == 200
    return browser, saved


def future_hold(site: Site) -> None:
    """A placed hold later this week: erasure then waits for the removal scan."""
    day = NOW.date() + timedelta(days=1)
    start = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=11)
    site.store.put_hold(ANA, Hold(personal_hold_id(ANA, HoldKind.BREATHER, day),
                                  HoldKind.BREATHER, start, start + timedelta(minutes=10),
                                  True, day, status=HoldStatus.PLACED))  # fmt: skip


def stored_about(site: Site, email: str = ANA) -> list[dict[str, object]]:
    table = site.store.table
    assert isinstance(table, MemoryTable)
    return [item for item in table.items() if email in repr(item)]


def test_leaving_asks_for_a_confirmation_that_works_without_javascript(site: Site) -> None:
    browser, saved = opted_in(site)
    # the preferences page only links to the confirmations (plain GET forms)
    assert '<form method="get" action="/optout/confirm">' in saved.text
    assert '<form method="get" action="/delete-my-data/confirm">' in saved.text
    assert 'action="/optout"' not in saved.text and 'action="/delete-my-data"' not in saved.text
    for action, heading in (("/optout", "Opt out of micromoments?"),
                            ("/delete-my-data", "Delete your data?")):  # fmt: skip
        confirm = browser.get(f"{action}/confirm")
        assert confirm.status == 200 and heading in confirm.text
        assert f'<form method="post" action="{action}">' in confirm.text
        assert '<input type="hidden" name="confirm" value="yes">' in confirm.text
        # a POST without the confirmation shows the confirmation and changes nothing
        unconfirmed = browser.post(action, {"csrf": csrf(confirm)})
        assert unconfirmed.status == 200 and heading in unconfirmed.text
        person = site.store.get_person(ANA)
        assert person is not None and person.status is PersonStatus.ACTIVE
        assert site.queue.sent == [ScanRequest(ANA, ScanReason.OPT_IN)]
        assert browser.get("/preferences").status == 200  # still signed in
    assert Browser().get("/optout/confirm").status == 303  # signed out: back to the start
    confirm = browser.get("/optout/confirm")
    left = browser.post("/optout", {"csrf": csrf(confirm), "confirm": "yes"})
    assert left.status == 200 and "You are out" in left.text


def test_opting_out_ends_every_session_and_every_unused_link(site: Site) -> None:
    browser, saved = opted_in(site)
    elsewhere = Browser()
    sign_in(site, elsewhere)
    stale = elsewhere.get("/preferences")
    link = unused_link(site)
    browser.post("/optout", {"csrf": csrf(saved), "confirm": "yes"})

    assert elsewhere.get("/preferences").status == 303
    again = elsewhere.post("/preferences", {"csrf": csrf(stale), **PREFERENCES})
    assert again.status == 303  # the stale session cannot opt the person back in
    person = site.store.get_person(ANA)
    assert person is not None and person.status is not PersonStatus.ACTIVE
    assert ScanRequest(ANA, ScanReason.OPT_IN) not in site.queue.sent[1:]
    assert "no longer works" in Browser().get(f"/auth?{link}").text
    # signing in anew works
    fresh = Browser()
    assert sign_in(site, fresh).status == 303 and fresh.get("/preferences").status == 200


def test_opting_out_before_ever_opting_in_still_ends_every_session(site: Site) -> None:
    browser = Browser()
    sign_in(site, browser)
    elsewhere = Browser()
    sign_in(site, elsewhere)
    confirm = browser.get("/optout/confirm")
    left = browser.post("/optout", {"csrf": csrf(confirm), "confirm": "yes"})
    assert left.status == 200 and "signed out everywhere" in left.text
    assert elsewhere.get("/preferences").status == 303
    assert site.store.get_person(ANA) is None and site.queue.sent == []


def test_a_save_that_reads_the_profile_after_an_opt_out_does_not_opt_back_in(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session was checked before the opt-out; the save reads the profile after it."""
    opted_in(site)
    elsewhere = Browser()
    sign_in(site, elsewhere)
    page = elsewhere.get("/preferences")
    read_profile = site.store.get_person
    opt_out_first = [True]

    def opt_out_then_read(email: str) -> Person | None:
        if opt_out_first.pop() if opt_out_first else False:
            leave(site.store, site.queue, email=ANA, now=NOW)
        return read_profile(email)

    monkeypatch.setattr(site.store, "get_person", opt_out_then_read)
    answer = elsewhere.post("/preferences", {"csrf": csrf(page), **PREFERENCES})
    assert answer.status == 400 and "signed out" in answer.text
    person = read_profile(ANA)
    assert person is not None and person.status is PersonStatus.OPTED_OUT
    assert site.queue.sent == [ScanRequest(ANA, ScanReason.OPT_IN)]


def test_deleting_data_ends_every_session_while_the_holds_are_removed(site: Site) -> None:
    browser, saved = opted_in(site)
    future_hold(site)
    elsewhere = Browser()
    sign_in(site, elsewhere)
    link = unused_link(site)
    gone = browser.post("/delete-my-data", {"csrf": csrf(saved), "confirm": "yes"})
    assert gone.status == 200 and "Your data is being deleted" in gone.text
    assert "has been erased" not in gone.text
    person = site.store.get_person(ANA)
    assert person is not None and person.status is PersonStatus.LEAVING  # waits for the scan
    assert browser.get("/preferences").status == 303
    assert elsewhere.get("/preferences").status == 303
    assert "no longer works" in Browser().get(f"/auth?{link}").text


def test_sign_out_everywhere_ends_every_session_and_unused_link(site: Site) -> None:
    browser, saved = opted_in(site)
    assert '<form method="post" action="/logout/everywhere">' in saved.text
    elsewhere = Browser()
    sign_in(site, elsewhere)
    link = unused_link(site)
    out = browser.post("/logout/everywhere", {"csrf": csrf(saved)})
    assert out.status == 200 and "signed out everywhere" in out.text
    assert "__Host-mm_session" not in browser.cookies
    assert browser.get("/preferences").status == 303
    assert elsewhere.get("/preferences").status == 303
    assert "no longer works" in Browser().get(f"/auth?{link}").text
    person = site.store.get_person(ANA)  # nothing else changed
    assert person is not None and person.status is PersonStatus.ACTIVE
    fresh = Browser()
    sign_in(site, fresh)
    assert fresh.get("/preferences").status == 200


def test_deleting_data_without_a_profile_removes_every_token_session_and_alias(
    site: Site,
) -> None:
    browser = Browser()
    sign_in(site, browser)
    page = browser.get("/preferences")
    assert "not opted in yet" in page.text
    elsewhere = Browser()
    sign_in(site, elsewhere)
    unused_link(site)
    site.store.put_aliases({pseudonym(pseudonym_key(KEY), ANA): ANA})  # left from before
    assert stored_about(site)
    confirm = browser.get("/delete-my-data/confirm")
    gone = browser.post("/delete-my-data", {"csrf": csrf(confirm), "confirm": "yes"})
    assert gone.status == 200 and "has been erased" in gone.text
    assert stored_about(site) == []
    assert elsewhere.get("/preferences").status == 303


def test_an_opted_out_person_can_delete_their_data_or_opt_in_again(site: Site) -> None:
    browser, saved = opted_in(site)
    browser.post("/optout", {"csrf": csrf(saved), "confirm": "yes"})
    person = site.store.get_person(ANA)
    assert person is not None and person.status is PersonStatus.OPTED_OUT

    back = Browser()
    sign_in(site, back)
    page = back.get("/preferences")
    assert "You opted out" in page.text and "not opted in yet" not in page.text
    assert "Opt in with these preferences" in page.text
    assert '<form method="get" action="/delete-my-data/confirm">' in page.text
    assert "Delete my data" in page.text
    assert 'action="/optout/confirm"' not in page.text  # already out
    confirm = back.get("/delete-my-data/confirm")
    gone = back.post("/delete-my-data", {"csrf": csrf(confirm), "confirm": "yes"})
    assert gone.status == 200 and "has been erased" in gone.text
    assert site.store.get_person(ANA) is None and stored_about(site) == []


# -- odd requests: clear answers, never a 500 ------------------------------------------------


@pytest.mark.parametrize("holds", ["²", "٣", "３", "1²", "¹⁰", "߁"])
def test_unicode_digits_in_the_number_field_are_a_clear_error(site: Site, holds: str) -> None:
    browser = Browser()
    sign_in(site, browser)
    page = browser.get("/preferences")
    answer = browser.post("/preferences", {"csrf": csrf(page), **PREFERENCES,
                                           "holds_per_week": holds})  # fmt: skip
    assert answer.status == 400 and 'id="holds_per_week-error"' in answer.text
    assert site.store.get_person(ANA) is None and site.queue.sent == []


def test_unicode_digits_in_working_hours_are_a_clear_error(site: Site) -> None:
    browser = Browser()
    sign_in(site, browser)
    page = browser.get("/preferences")
    answer = browser.post("/preferences", {"csrf": csrf(page), **PREFERENCES,
                                           "start_Tue": "٠٩:٠٠"})  # fmt: skip
    assert answer.status == 400 and 'id="start_Tue-error"' in answer.text
    assert site.store.get_person(ANA) is None


def test_an_unforeseen_error_is_the_error_page_with_the_security_headers(
    site: Site, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    browser = Browser()
    sign_in(site, browser)
    caplog.clear()

    def broken() -> None:
        raise RuntimeError(f"settings of {ANA} unreadable")

    monkeypatch.setattr(site.store, "get_settings", broken)
    answer = browser.get("/preferences")
    assert answer.status == 500 and "Something went wrong" in answer.text
    for header in ("Content-Security-Policy", "Strict-Transport-Security",
                   "X-Content-Type-Options", "Referrer-Policy"):  # fmt: skip
        assert answer.header(header), header
    assert "Traceback" not in answer.text and ANA not in answer.text
    logged = repr([vars(record) for record in caplog.records])
    assert "RuntimeError" in logged and "web/preferences.py" in logged and ANA not in logged


@pytest.mark.parametrize("content_type", ["application/json", "multipart/form-data; boundary=x",
                                          "text/plain", ""])  # fmt: skip
def test_form_posts_must_be_urlencoded(site: Site, content_type: str) -> None:
    browser, saved = opted_in(site)
    before = site.store.get_person(ANA)
    body = urlencode({"csrf": csrf(saved), **PREFERENCES, "holds_per_week": "1"}, doseq=True)
    headers = [("host", "localhost"),
               ("cookie", "; ".join(f"{k}={v}" for k, v in browser.cookies.items()))]  # fmt: skip
    if content_type:
        headers.append(("content-type", content_type))
    for path in ("/preferences", "/optout", "/delete-my-data", "/logout/everywhere", "/login"):
        answer = call(site.handler, "POST", path, headers=headers, body=body.encode())
        assert answer.status == 415, (path, answer.status)
        assert answer.header("Content-Security-Policy"), path
        assert "Nothing was changed" in answer.text
    assert site.store.get_person(ANA) == before
    assert browser.get("/preferences").status == 200


def test_a_charset_on_a_urlencoded_form_is_fine_and_one_click_takes_multipart(
    site: Site,
) -> None:
    browser, saved = opted_in(site)
    body = urlencode({"csrf": csrf(saved), **PREFERENCES, "holds_per_week": "1"}, doseq=True)
    headers = [("host", "localhost"),
               ("content-type", "application/x-www-form-urlencoded; charset=UTF-8"),
               ("cookie", "; ".join(f"{k}={v}" for k, v in browser.cookies.items()))]  # fmt: skip
    answer = call(site.handler, "POST", "/preferences", headers=headers, body=body.encode())
    person = site.store.get_person(ANA)
    assert answer.status == 200 and person is not None and person.preferences.holds_per_week == 1
    # RFC 8058 lets mail clients send the one-click POST as multipart/form-data
    token = site.links().unsubscribe
    multipart = (b'--x\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\n'
                 b"One-Click\r\n--x--\r\n")  # fmt: skip
    done = call(site.handler, "POST", "/unsubscribe", query=urlencode({"token": token}),
                headers=[("content-type", "multipart/form-data; boundary=x")],
                body=multipart)  # fmt: skip
    person = site.store.get_person(ANA)
    assert done.status == 200 and person is not None and not person.preferences.weekly_email


def test_unknown_methods_get_405_with_allow_and_head_works(site: Site) -> None:
    for method, path, allow in (("PUT", "/preferences", "GET, HEAD, POST"),
                                ("DELETE", "/optout", "POST"),
                                ("PATCH", "/", "GET, HEAD"),
                                ("OPTIONS", "/login", "POST"),
                                ("GET", "/logout/everywhere", "POST")):  # fmt: skip
        answer = call(site.handler, method, path, headers=[("host", "localhost")])
        assert answer.status == 405, (method, path, answer.status)
        assert answer.header("Allow") == allow, (method, path)
        assert answer.header("Content-Security-Policy"), (method, path)
    assert call(site.handler, "PUT", "/nope").status == 404
    head = call(site.handler, "HEAD", "/privacy")
    assert head.status == 200 and head.body == b"" and head.header("Content-Security-Policy")


# -- every field, invalid values: never a 500, nothing stored --------------------------------

FIELD_NAMES = [*sorted(PREFERENCES), "same_start", "same_end", "same_days", "csrf", "unknown_field"]
NASTY = st.one_of(
    st.text(max_size=80),
    st.sampled_from(["", " ", "-1", "0", "999999999999", "1e3", "NaN", "on", "off", "Mon",
                     "Mon-Fri 25:00-26:00", "Europe/Nowhere", "../../etc/passwd",
                     "<script>alert(1)</script>", "ben@", "a" * 3000, "\x00", "é" * 40]),
)  # fmt: skip


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(FIELD_NAMES), values=st.lists(NASTY, min_size=0, max_size=3))
def test_invalid_values_in_any_field_never_500_and_store_nothing(
    site: Site, field: str, values: list[str]
) -> None:
    browser = site_browser(site)
    page = browser.get("/preferences")
    before = site.store.get_person(ANA)
    form: dict[str, str | list[str]] = {"csrf": csrf(page), **PREFERENCES}
    if field in ("moments", "quiet_days", "same_days"):
        form[field] = values
    elif values:
        form[field] = values if len(values) > 1 else values[0]
    else:
        form.pop(field, None)
    answer = browser.post("/preferences", form)
    assert answer.status in (200, 400, 403), answer.text[:300]
    assert "Traceback" not in answer.text
    if answer.status != 200:
        assert site.store.get_person(ANA) == before
        assert "Nothing was" in answer.text or "nothing was" in answer.text.lower()


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(["/", "/login", "/auth", "/preferences", "/optout", "/unsubscribe",
                          "/leave", "/delete-my-data", "/logout", "/nope"]),
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
    query=st.text(max_size=60),
    body=st.binary(max_size=300),
    cookie=st.text(max_size=80),
)  # fmt: skip
def test_arbitrary_requests_never_500(
    site: Site, path: str, method: str, query: str, body: bytes, cookie: str
) -> None:
    from urllib.parse import quote

    headers = [("host", "localhost"), ("content-type", "application/x-www-form-urlencoded"),
               ("cookie", cookie)]  # fmt: skip
    answer = call(site.handler, method, path, query=quote(query, safe="=&"), headers=headers,
                  body=body)  # fmt: skip
    assert answer.status < 500 or answer.status == 503, (answer.status, answer.text[:300])
    assert site.store.get_person(ANA) is None


_BROWSERS: dict[int, Browser] = {}


def site_browser(site: Site) -> Browser:
    """One signed-in browser per site (hypothesis runs many examples on one fixture)."""
    browser = _BROWSERS.get(id(site))
    if browser is None or browser.get("/preferences").status != 200:
        browser = Browser()
        sign_in(site, browser)
        _BROWSERS[id(site)] = browser
    return browser


# -- sign-in rate limits: nobody can spend someone else's allowance -------------------------


def ask_link(email: str = ANA, source: str = "192.0.2.10") -> HttpResponse:
    browser = Browser()
    page = browser.get("/")
    return browser.request("POST", "/login", {"csrf": csrf(page), "email": email},
                           source_ip=source)  # fmt: skip


def sent_to(site: Site, email: str = ANA) -> int:
    return sum(1 for message in site.mailer.sent if message["To"] == email)


def test_a_stranger_cannot_spend_someone_elses_sign_in_allowance(site: Site) -> None:
    for _ in range(12):  # from the stranger's own address
        ask_link(ANA, source="203.0.113.9")
    assert sent_to(site) == 5  # the stranger's allowance for ANA, from that source
    ask_link(ANA, source="198.51.100.7")  # Ana herself, from her own network
    assert sent_to(site) == 6


def test_every_source_together_meets_a_higher_ceiling_per_address(site: Site) -> None:
    for n in range(30):  # a stranger with many sources
        ask_link(ANA, source=f"203.0.113.{n + 1}")
    assert sent_to(site) == 20  # the mailbox is not flooded


def test_an_ipv6_host_counts_as_its_64(site: Site) -> None:
    for n in range(8):
        ask_link(ANA, source=f"2001:db8:1:2::{n + 1:x}")
    assert sent_to(site) == 5


def test_refused_sign_in_requests_count_against_nothing(site: Site) -> None:
    for _ in range(30):  # 5 sent, 25 refused: they must not eat the source's allowance
        ask_link(ANA, source="192.0.2.50")
    ask_link("ben@example.com", source="192.0.2.50")
    assert sent_to(site) == 5 and sent_to(site, "ben@example.com") == 1


def test_a_whole_office_behind_one_nat_signs_in_on_rollout_day(site: Site) -> None:
    people = [f"person{n}@example.com" for n in range(60)]
    for email in people:
        ask_link(email, source="192.0.2.1")
    assert all(sent_to(site, email) == 1 for email in people)


def test_the_per_source_limit_is_the_deployments_setting(site: Site) -> None:
    deps = site.deps
    tight = Services(deps.store, deps.mailer, deps.queue, KEY, deps.base_url, deps.sender,
                     deps.now, sign_in_per_source_per_hour=3)  # fmt: skip
    site.deps = tight
    for n in range(5):
        ask_link(f"p{n}@example.com", source="192.0.2.1")
    assert len(site.mailer.sent) == 3


@pytest.mark.parametrize("bad", ["0", "-5", "lots", "\u00b2", "\u0665\u0660\u0660", "10000000"])
def test_the_per_source_setting_is_validated_once_with_a_clear_line(bad: str) -> None:
    from micromoments.config import Config, ConfigError

    assert Config.from_environ({}).sign_in_per_source_per_hour == 500
    assert (
        Config.from_environ({"MICROMOMENTS_SIGN_IN_PER_SOURCE_PER_HOUR": "2000"})
        .sign_in_per_source_per_hour
        == 2000
    )  # fmt: skip
    with pytest.raises(ConfigError, match=r"^MICROMOMENTS_SIGN_IN_PER_SOURCE_PER_HOUR: "):
        Config.from_environ({"MICROMOMENTS_SIGN_IN_PER_SOURCE_PER_HOUR": bad})


def test_the_site_takes_the_per_source_limit_from_its_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from micromoments import wiring
    from micromoments.config import Config

    settings = Config(public_base_url="https://mm.example.com", sender_address="mm@example.com",
                      sign_in_per_source_per_hour=7, table_name="t", signing_key_secret="k",
                      scan_queue_url="https://sqs.example/q")  # fmt: skip
    # the deployed builder itself, with wiring's adapters left out (nothing is sent)
    monkeypatch.setattr(wiring, "master_key", lambda: KEY)
    for name in ("store", "mailer", "scan_queue"):
        monkeypatch.setattr(wiring, name, lambda: None)
    assert dependencies.services(settings).sign_in_per_source_per_hour == 7


def test_rate_limit_keys_are_keyed_hashes(site: Site) -> None:
    def rate_keys() -> set[str]:
        items = site.store.table._items  # type: ignore[attr-defined]
        return {pk for pk, _ in items if pk.startswith("RATE#")}

    ask_link(ANA, source="192.0.2.77")
    first = rate_keys()
    assert len(first) == 3
    for key in first:
        assert "ana" not in key and "192.0.2" not in key
    deps = site.deps
    other = Services(deps.store, deps.mailer, deps.queue, b"o" * 32, deps.base_url,
                     deps.sender, deps.now)  # fmt: skip
    site.deps = other
    ask_link(ANA, source="192.0.2.77")
    assert rate_keys() - first and len(rate_keys()) == 6  # another key: other hashes


# -- leaving without signing in: the opt-out link of every email -----------------------------


def opted_in_quietly(site: Site) -> Browser:
    """Opted in, with the first scan's request already taken off the queue."""
    browser, _saved = opted_in(site)
    site.queue.sent.clear()
    return browser


def test_every_sign_in_email_has_an_opt_out_link_that_works_without_signing_in(
    site: Site,
) -> None:
    opted_in_quietly(site)
    for n in range(25):  # a stranger locks Ana out of signing in for the hour
        ask_link(ANA, source=f"203.0.113.{n + 1}")
    before = sent_to(site)
    ask_link(ANA, source="198.51.100.7")
    assert sent_to(site) == before  # no sign-in link for her now
    leave = urlsplit(site.link(ANA, route="leave"))  # but an earlier email's way out works
    stranger = Browser()  # no session, no CSRF token
    confirm = stranger.get(f"/leave?{leave.query}")
    person = site.store.get_person(ANA)
    assert confirm.status == 200 and "Opt me out" in confirm.text
    assert person is not None and person.status is PersonStatus.ACTIVE  # GET changes nothing
    done = stranger.post(f"/leave?{leave.query}", {})
    person = site.store.get_person(ANA)
    assert done.status == 200 and "You are out" in done.text
    # no hold was placed yet, so out at once; else leaving, and the removal scan queued
    assert person is not None and person.status is PersonStatus.OPTED_OUT
    assert "out already" in stranger.get(f"/leave?{leave.query}").text
    assert stranger.post(f"/leave?{leave.query}", {}).status == 200  # idempotent


def test_a_sign_in_email_to_a_newcomer_has_an_opt_out_link_too(site: Site) -> None:
    ask_link("newcomer@example.com")
    leave = urlsplit(site.link("newcomer@example.com", route="leave"))
    answer = Browser().get(f"/leave?{leave.query}")
    assert answer.status == 400 and "nothing to change" in answer.text
    assert site.store.address_of(pseudonym(pseudonym_key(KEY), "newcomer@example.com")) is None


def test_an_unsubscribe_token_never_opts_out(site: Site) -> None:
    opted_in_quietly(site)
    links = site.links()
    assert Browser().post(f"/leave?token={links.unsubscribe}", {}).status == 400
    assert Browser().post(f"/unsubscribe?token={links.opt_out}", {}).status == 400
    person = site.store.get_person(ANA)
    assert person is not None and person.status is PersonStatus.ACTIVE
    assert person.preferences.weekly_email


# -- emailed links expire and die with erasure -----------------------------------------------


def test_emailed_links_work_for_90_days(site: Site) -> None:
    opted_in_quietly(site)
    links = site.links(at=NOW)
    site.clock[0] = NOW + timedelta(days=89, hours=23)
    assert Browser().get(f"/unsubscribe?token={links.unsubscribe}").status == 200
    site.clock[0] = NOW + timedelta(days=90)
    for route, token in (("unsubscribe", links.unsubscribe), ("leave", links.opt_out)):
        answer = Browser().post(f"/{route}?token={token}", {})
        assert answer.status == 400 and "has expired" in answer.text, route
    person = site.store.get_person(ANA)
    assert person is not None and person.status is PersonStatus.ACTIVE
    assert person.preferences.weekly_email


def test_emailed_links_die_with_erasure(site: Site) -> None:
    browser = opted_in_quietly(site)
    old = site.links(at=NOW)
    page = browser.get("/preferences")
    browser.post("/delete-my-data", {"csrf": csrf(page), "confirm": "yes"})
    assert site.store.get_person(ANA) is None
    site.clock[0] = NOW + timedelta(days=1)
    opted_in_quietly(site)  # Ana comes back: the same alias resolves to her again
    for route, token in (("unsubscribe", old.unsubscribe), ("leave", old.opt_out)):
        answer = Browser().post(f"/{route}?token={token}", {})
        assert answer.status == 400 and "has been erased" in answer.text, route
    person = site.store.get_person(ANA)
    assert person is not None and person.status is PersonStatus.ACTIVE
    assert person.preferences.weekly_email
    fresh = site.links(at=NOW + timedelta(days=1))
    assert Browser().post(f"/unsubscribe?token={fresh.unsubscribe}", {}).status == 200


def test_links_of_the_first_format_get_a_page_offering_sign_in(site: Site) -> None:
    import hashlib
    import hmac

    from micromoments.domain.access import derive_key

    opted_in_quietly(site)
    alias = pseudonym(pseudonym_key(KEY), ANA)
    mac = hmac.new(derive_key(KEY, "unsubscribe"), alias.encode(), hashlib.sha256).hexdigest()
    answer = Browser().post(f"/unsubscribe?token={alias}.{mac}", {})
    assert answer.status == 400 and "older email" in answer.text and 'href="/"' in answer.text
    person = site.store.get_person(ANA)
    assert person is not None and person.preferences.weekly_email


# -- one identity per mailbox ---------------------------------------------------------------


def test_sign_in_uses_the_canonical_address(site: Site) -> None:
    ask_link("  Ana+Calendar@EXAMPLE.com ")
    assert [m["To"] for m in site.mailer.sent] == [ANA]


def test_sign_in_refuses_lookalike_addresses_with_the_reason(site: Site) -> None:
    for lookalike in ("\uff41na@example.com", "\u0430na@example.com", "not an address"):
        answer = ask_link(lookalike)
        assert answer.status == 400 and 'id="email-error"' in answer.text, lookalike
    assert "looks like" in ask_link("\uff41na@example.com").text
    assert site.mailer.sent == []


def test_the_never_pair_list_keeps_one_pseudonym_per_mailbox(site: Site) -> None:
    browser = Browser()
    sign_in(site, browser)
    page = browser.get("/preferences")
    form = {**PREFERENCES, "dont_pair_add": "ben@example.com\nBen+work@Example.com"}
    browser.post("/preferences", {"csrf": csrf(page), **form})
    person = site.store.get_person(ANA)
    assert person is not None
    assert person.preferences.dont_pair == {pseudonym(never_pair_key(KEY), "ben@example.com")}
    again = browser.get("/preferences")
    lookalike = {**PREFERENCES, "dont_pair_add": "b\u0435n@example.com"}  # Cyrillic е
    refused = browser.post("/preferences", {"csrf": csrf(again), **lookalike})
    assert refused.status == 400 and "CYRILLIC SMALL LETTER IE" in refused.text


def test_a_queue_or_secret_failure_is_no_store_error_yet_answers_the_same_503() -> None:
    from micromoments.adapters.secrets import SecretError
    from micromoments.adapters.sqs import QueueError
    from micromoments.ports import StoreError, Unavailable
    from micromoments.web.app import unavailable

    assert not issubclass(QueueError, StoreError) and not issubclass(SecretError, StoreError)
    for error in (QueueError("q"), SecretError("s"), StoreError("t")):
        assert isinstance(error, Unavailable)
        answer = unavailable(error)
        assert answer.status_code == 503
        assert "micromoments could not reach its storage. Nothing was changed." in str(answer.body)


def test_a_change_that_reaches_the_holds_queues_a_scan_and_the_email_setting_does_not(
    site: Site,
) -> None:
    """Push brings calendar changes, not preference changes: a new quiet day is replanned
    at once (the unchanged calendar would otherwise take the quick path until the next
    morning's scan); turning the weekly email off changes no hold and queues nothing."""
    browser, saved = opted_in(site)
    assert site.queue.sent == [ScanRequest(ANA, ScanReason.OPT_IN)]
    quiet = browser.post("/preferences", {"csrf": csrf(saved), **PREFERENCES, "quiet_days": "Thu"})
    assert quiet.status == 200
    assert site.queue.sent[1:] == [ScanRequest(ANA, ScanReason.PREFERENCES)]
    mail = browser.post(
        "/preferences",
        {"csrf": csrf(quiet), **PREFERENCES, "quiet_days": "Thu", "weekly_email": ""},
    )
    assert mail.status == 200 and len(site.queue.sent) == 2


def test_a_saved_change_names_the_holds_it_takes_off_and_a_bad_zone_changes_nothing(
    site: Site,
) -> None:
    browser, saved = opted_in(site)  # quiet on Wednesdays, in New York
    thursday = NOW.date() + timedelta(days=8)
    for n, hour in enumerate((15, 19)):  # 10:00 and 14:00 in New York
        start = datetime.combine(thursday, datetime.min.time(), UTC) + timedelta(hours=hour)
        site.store.put_hold(ANA, Hold(personal_hold_id(ANA, HoldKind.BREATHER, thursday, n),
                                      HoldKind.BREATHER, start, start + timedelta(minutes=10),
                                      True, thursday, status=HoldStatus.PLACED))  # fmt: skip
    before = site.store.get_person(ANA)
    bad = browser.post("/preferences", {"csrf": csrf(saved), **PREFERENCES, "quiet_days": "Thu",
                                        "timezone": "Mars/Olympus"})  # fmt: skip
    assert bad.status == 400 and "is not a time zone we know" in bad.text
    assert site.store.get_person(ANA) == before and len(site.queue.sent) == 1

    quiet = browser.post("/preferences", {"csrf": csrf(bad), **PREFERENCES, "quiet_days": "Thu"})
    assert quiet.status == 200
    assert (
        "Thursday is now quiet: 2 holds on Thu 3 Dec will be removed within the hour." in quiet.text
    )
    assert "Wednesday is no longer quiet" in quiet.text
    assert site.queue.sent[1:] == [ScanRequest(ANA, ScanReason.PREFERENCES)]
    same = browser.post("/preferences", {"csrf": csrf(quiet), **PREFERENCES, "quiet_days": "Thu"})
    assert "Saved. Nothing changed." in same.text and len(site.queue.sent) == 2
