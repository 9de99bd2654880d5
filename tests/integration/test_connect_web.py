"""Connecting one's own Google Calendar through the site (per-person OAuth): the site's
handler on the in-memory Store, the local Calendar server's consent and token endpoints
over HTTP, moto's KMS. Every refusal changes nothing."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import replace

import boto3
import httplib2
import pytest
from moto import mock_aws

from micromoments.adapters.google_oauth import OAuthClient
from micromoments.adapters.token_vault import TokenVault
from micromoments.domain.people import Person, PersonStatus
from micromoments.domain.scan_request import ScanReason
from micromoments.local.calendar_api import CalendarServer
from micromoments.local.web_bridge import HttpResponse
from tests.unit.test_web import ANA, PREFERENCES, Browser, Site, csrf, sign_in, site

pytestmark = pytest.mark.integration
__all__ = ["site"]  # the fixture

BEN = "ben@example.com"
CALLBACK = "https://mm.example.com/connect/callback"


@pytest.fixture
def google(site: Site) -> Iterator[CalendarServer]:
    with mock_aws(), CalendarServer(require_auth=True) as server:
        server.add_calendar(ANA)
        server.add_calendar(BEN)
        kms = boto3.client("kms", region_name="eu-west-1")
        key = kms.create_key()["KeyMetadata"]["KeyId"]
        registered = server.oauth_client(CALLBACK)
        client = OAuthClient(registered.client_id, registered.client_secret, server.token_uri,
                             server.authorize_uri, server.revoke_uri, server.base_url)  # fmt: skip
        site.deps = replace(site.deps, oauth=client, vault=TokenVault(key, kms))
        settings = site.store.get_settings()
        assert settings is not None
        site.store.put_settings(settings.updated({"google_access": "oauth"}))
        yield server


def start(browser: Browser) -> str:
    """From the preferences page to Google's consent page: its URL."""
    page = browser.get("/preferences")
    link = re.search(r'href="(/connect/start\?csrf=[0-9a-f]+)"', page.text)
    assert link is not None, page.text[:800]
    answer = browser.get(link.group(1))
    location = answer.header("location")
    assert answer.status == 303 and location is not None
    return location


def consent(server: CalendarServer, url: str, account: str = ANA) -> str:
    """Google's consent page, approved as ``account``: the site's callback URL."""
    http = httplib2.Http(timeout=5)
    http.follow_redirects = False
    page, body = http.request(url)
    assert page.status == 200 and b">Allow</button>" in body
    form = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    form.update(account=account, decision="allow")
    form_type = {"content-type": "application/x-www-form-urlencoded"}
    body = urllib.parse.urlencode(form)
    answer, _ = http.request(server.authorize_uri, "POST", body=body, headers=form_type)
    assert answer.status == 302
    location: str = answer["location"]
    assert location.startswith(CALLBACK + "?")
    return location


def back(browser: Browser, callback: str) -> HttpResponse:
    return browser.get(callback.removeprefix("https://mm.example.com"))


def test_connect_opts_in_with_a_sealed_grant_and_queues_the_first_scan(
    site: Site, google: CalendarServer
) -> None:
    browser = Browser()
    sign_in(site, browser)
    url = start(browser)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert url.startswith(google.authorize_uri)
    assert query["login_hint"] == ANA
    assert query["access_type"] == "offline"
    assert query["code_challenge_method"] == "S256"
    # the three narrow calendar scopes and nothing else: no openid, no email
    assert sorted(query["scope"].split(" ")) == [
        "https://www.googleapis.com/auth/calendar.events.freebusy",
        "https://www.googleapis.com/auth/calendar.events.owned",
        "https://www.googleapis.com/auth/calendar.settings.readonly",
    ]
    answer = back(browser, consent(google, url))
    assert (answer.status, answer.header("location")) == (303, "/preferences")
    person = site.store.get_person(ANA)
    assert person is not None and person.status is PersonStatus.ACTIVE
    assert [(r.person, r.reason) for r in site.queue.sent] == [(ANA, ScanReason.OPT_IN)]
    assert site.store.get_grant(ANA) is not None
    (token,) = google.consent.refresh_tokens()
    assert token not in str(site.store.table.items())  # type: ignore[attr-defined]
    assert "You are in." in browser.get("/preferences").text


def test_another_google_account_is_refused_and_its_grant_revoked(
    site: Site, google: CalendarServer
) -> None:
    browser = Browser()
    sign_in(site, browser)
    answer = back(browser, consent(google, start(browser), account=BEN))
    assert answer.status == 400
    assert "The Google account you chose is not the one of ana@example.com" in answer.text
    assert site.store.get_grant(ANA) is None and site.store.get_grant(BEN) is None
    assert site.store.get_person(ANA) is None
    assert site.queue.sent == []
    assert [r.subject for r in google.consent.revocations] == [BEN]


def test_when_google_cannot_say_whose_calendar_it_is_nothing_is_kept(
    site: Site, google: CalendarServer
) -> None:
    assert site.deps.oauth is not None  # no Calendar API answers on port 9
    site.deps = replace(
        site.deps, oauth=replace(site.deps.oauth, calendar_api_url="http://127.0.0.1:9/")
    )
    browser = Browser()
    sign_in(site, browser)
    answer = back(browser, consent(google, start(browser)))
    assert answer.status == 400 and "could not confirm the account" in answer.text
    assert site.store.get_grant(ANA) is None and site.store.get_person(ANA) is None
    assert site.queue.sent == []
    assert [r.subject for r in google.consent.revocations] == [ANA]


def test_a_replayed_a_forged_and_another_sessions_state_are_refused(
    site: Site, google: CalendarServer
) -> None:
    browser = Browser()
    sign_in(site, browser)
    callback = consent(google, start(browser))
    # another sign-in of the same person cannot finish this browser's connect
    other = Browser()
    sign_in(site, other)
    stolen = back(other, callback)
    assert stolen.status == 400 and "not valid" in stolen.text
    assert site.store.get_person(ANA) is None
    # the state was spent by that attempt: the right browser cannot use it either now
    assert back(browser, callback).status == 400
    # a fresh one works once; the same callback again (a replay) changes nothing
    callback = consent(google, start(browser))
    assert back(browser, callback).status == 303
    sent = list(site.queue.sent)
    replay = back(browser, callback)
    assert replay.status == 400 and "used already" in replay.text
    assert site.queue.sent == sent
    forged = re.sub(r"state=[^&]+", "state=forged-state-value", callback)
    assert back(browser, forged).status == 400


def test_starting_needs_the_pages_token_and_a_session(site: Site, google: CalendarServer) -> None:
    browser = Browser()
    assert browser.get("/connect/start?csrf=00").header("location") == "/"
    sign_in(site, browser)
    assert browser.get("/connect/start?csrf=00").status == 403
    assert browser.get("/connect/start").status == 403


def test_with_oauth_the_form_cannot_opt_in_without_connecting(
    site: Site, google: CalendarServer
) -> None:
    browser = Browser()
    sign_in(site, browser)
    page = browser.get("/preferences")
    assert "Connect Google Calendar" in page.text
    assert "Opt in with these preferences" not in page.text
    answer = browser.post("/preferences", {**PREFERENCES, "csrf": csrf(page)})
    assert answer.status == 400 and "connect your Google Calendar first" in answer.text
    assert site.store.get_person(ANA) is None and site.queue.sent == []


def test_with_delegation_there_is_nothing_to_connect(site: Site, google: CalendarServer) -> None:
    settings = site.store.get_settings()
    assert settings is not None
    site.store.put_settings(settings.updated({"google_access": "delegation"}))
    browser = Browser()
    sign_in(site, browser)
    page = browser.get("/preferences")
    assert "Connect Google Calendar" not in page.text
    token = csrf(page)
    answer = browser.get(f"/connect/start?csrf={token}")
    assert answer.status == 400


def test_a_person_waiting_to_reconnect_connects_again(site: Site, google: CalendarServer) -> None:
    site.store.create_person(Person(email=ANA, status=PersonStatus.NEEDS_RECONNECT))
    browser = Browser()
    sign_in(site, browser)
    assert "Nothing is placed until you connect again" in browser.get("/preferences").text
    assert back(browser, consent(google, start(browser))).status == 303
    person = site.store.get_person(ANA)
    assert person is not None and person.status is PersonStatus.ACTIVE
