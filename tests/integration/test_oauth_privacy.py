"""A privacy scan of per-person OAuth: connect through the site, scans on the person's own
grant, the grant revoked by the person (needs_reconnect, the reconnect email), all with
tracing recorded and logs captured. No refresh token and no access token the Calendar
server ever gave appears in clear in any Store item, log line, trace or email."""

from __future__ import annotations

import json

import pytest

from micromoments.adapters.google_calendar import GoogleCalendarGateway
from micromoments.adapters.personal_grants import PersonalGrants
from micromoments.config import Config
from micromoments.domain.grants import GoogleAccessMode
from micromoments.domain.people import PersonStatus
from micromoments.domain.scan_request import ScanReason, ScanRequest
from micromoments.local.calendar_api import CalendarServer
from micromoments.observability import tracer
from tests.integration.test_connect_web import back, consent, google, start
from tests.unit.test_trace_secrets import Context, RecordingProvider, sqs_record
from tests.unit.test_web import ANA, KEY, Browser, Site, sign_in, site

pytestmark = pytest.mark.integration
__all__ = ["google", "site"]  # the fixtures


def _gateway(site: Site, server: CalendarServer) -> GoogleCalendarGateway:
    assert site.deps.oauth is not None and site.deps.vault is not None

    def status_of(email: str) -> PersonStatus | None:
        person = site.store.get_person(email)
        return person.status if person else None

    grants = PersonalGrants(site.store, site.deps.vault, site.deps.oauth,
                            lambda: GoogleAccessMode.OAUTH)  # fmt: skip
    return GoogleCalendarGateway(
        Config(calendar_api_url=server.base_url, google_token_uri=server.token_uri),
        status_of=status_of, ours=lambda e: {h.id for h in site.store.holds(e)},
        grants=grants, sleep=lambda _: None,
    )  # fmt: skip


def test_no_token_in_clear_in_items_logs_traces_or_mail(
    site: Site, google: CalendarServer, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from micromoments.handlers import scan
    from micromoments.services.reconnect import ask_to_reconnect

    provider = RecordingProvider()
    monkeypatch.setattr(tracer, "provider", provider)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "0")
    browser = Browser()
    sign_in(site, browser)
    assert back(browser, consent(google, start(browser))).status == 303

    def reconnect(email: str) -> None:
        ask_to_reconnect(email, store=site.store, mailer=site.mailer, master_key=KEY,
                         base_url=site.deps.base_url, sender=site.deps.sender,
                         now=site.clock[0])  # fmt: skip

    deps = scan.ScanDeps(site.store, _gateway(site, google), KEY, reconnect=reconnect)
    body = ScanRequest(ANA, ScanReason.OPT_IN).to_body()
    scan.handler({"Records": [sqs_record(body)]}, Context(), deps=deps)  # type: ignore[arg-type]
    assert google.consent.refreshes.get(ANA) == 1  # scanned on the person's own grant
    google.consent.revoke_person(ANA)
    google.expire_access_tokens()
    scan.handler({"Records": [sqs_record(body)]}, Context(), deps=deps)  # type: ignore[arg-type]
    person = site.store.get_person(ANA)
    assert person is not None and person.status is PersonStatus.NEEDS_RECONNECT

    tokens = list(google.consent.issued)
    assert len(tokens) >= 3  # the refresh token, the exchange's and the scan's access tokens
    logs = capsys.readouterr()
    mail = "".join(m.as_string() for m in site.mailer.sent)  # type: ignore[attr-defined]
    places = {
        "items": json.dumps(site.store.table.items(), default=repr),  # type: ignore[attr-defined]
        "logs": logs.out + logs.err,
        "traces": provider.recorded.text(),
        "mail": mail,
    }
    assert places["traces"] and places["logs"] and "Reconnect" in mail
    for where, text in places.items():
        leaked = [t for t in tokens if t in text]
        assert leaked == [], f"a token in clear in the {where}"
        assert "1//0local-" not in text and "ya29.local-" not in text, where
