"""Per-person OAuth end to end below the site: a grant got through the local server's
consent flow over HTTP, sealed with moto's KMS, used by the real gateway for scans; revoked
by the person (needs_reconnect, nothing written), and revoked by us when they leave."""

from __future__ import annotations

import secrets
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import httplib2
import pytest
from moto import mock_aws

from micromoments.adapters.google_calendar import GoogleCalendarGateway
from micromoments.adapters.google_oauth import (
    OAuthClient,
    authorization_url,
    exchange_code,
    owns_calendar,
)
from micromoments.adapters.memory import MemoryTable
from micromoments.adapters.personal_grants import PersonalGrants
from micromoments.adapters.table import TableStore
from micromoments.adapters.token_vault import TokenVault
from micromoments.config import Config
from micromoments.domain.grants import GoogleAccessMode
from micromoments.domain.people import Person, PersonStatus
from micromoments.domain.settings import OrgSettings
from micromoments.local.calendar_api import CalendarServer
from micromoments.local.calendar_api.consent import s256
from micromoments.ports import CalendarError
from micromoments.services.scan import scan_person

pytestmark = pytest.mark.integration

ANA = "ana@example.com"
BEN = "ben@example.com"
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # Monday 08:00 in Berlin
REDIRECT = "http://127.0.0.1:9/connect/callback"


def meeting(event_id: str, hour: int) -> dict[str, Any]:
    start = datetime(2026, 11, 23, hour, tzinfo=BERLIN)
    return {
        "id": event_id,
        "status": "confirmed",
        "start": {"dateTime": start.isoformat(), "timeZone": "Europe/Berlin"},
        "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
        "organizer": {"email": BEN},
        "attendees": [
            {"email": ANA, "self": True, "responseStatus": "accepted"},
            {"email": BEN, "responseStatus": "accepted"},
        ],
    }


@dataclass
class World:
    server: CalendarServer
    store: TableStore
    client: OAuthClient
    vault: TokenVault
    mode: GoogleAccessMode = GoogleAccessMode.OAUTH

    def gateway(self) -> GoogleCalendarGateway:
        def status_of(email: str) -> PersonStatus | None:
            person = self.store.get_person(email)
            return person.status if person else None

        grants = PersonalGrants(self.store, self.vault, self.client, lambda: self.mode)
        return GoogleCalendarGateway(
            Config(calendar_api_url=self.server.base_url, google_token_uri=self.server.token_uri),
            status_of=status_of,
            ours=lambda email: {h.id for h in self.store.holds(email)},
            key_info=self.server.service_account_key(),
            grants=grants,
            sleep=lambda _: None,
        )

    def connect(self, email: str, *, account: str | None = None) -> None:
        """The consent flow over HTTP as the site drives it, then the grant sealed."""
        verifier = secrets.token_urlsafe(48)
        url = authorization_url(
            self.client, redirect_uri=REDIRECT, state="st", challenge=s256(verifier),
            login_hint=email,
        )  # fmt: skip
        http = httplib2.Http(timeout=5)
        http.follow_redirects = False
        page, _ = http.request(url)
        assert page.status == 200
        form = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
        form.update(account=account or email, decision="allow")
        response, _ = http.request(
            self.server.authorize_uri, "POST", body=urllib.parse.urlencode(form),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )  # fmt: skip
        code = urllib.parse.parse_qs(urllib.parse.urlsplit(response["location"]).query)["code"]
        grant = exchange_code(self.client, code=code[0], verifier=verifier, redirect_uri=REDIRECT)
        assert owns_calendar(self.client, grant.access_token, email)
        self.store.put_grant(self.vault.seal(email, grant.refresh_token, grant.scopes, NOW))

    def scan(self, gateway: Any, when: datetime = NOW) -> Any:
        return scan_person(ANA, store=self.store, calendar=gateway, now=when, owner="w")


@pytest.fixture
def world() -> Iterator[World]:
    with mock_aws(), CalendarServer(require_auth=True) as server:
        kms = boto3.client("kms", region_name="eu-west-1")
        key = kms.create_key()["KeyMetadata"]["KeyId"]
        server.add_calendar(ANA, timezone="Europe/Berlin")
        server.add_calendar(BEN, timezone="Europe/Berlin")
        server.seed(ANA, [meeting(f"m{h}", h) for h in (9, 10, 11, 13, 14, 15)])
        registered = server.oauth_client(REDIRECT)
        client = OAuthClient(
            registered.client_id, registered.client_secret, server.token_uri,
            server.authorize_uri, server.revoke_uri, server.base_url,
        )  # fmt: skip
        store = TableStore(MemoryTable())
        store.create_settings(OrgSettings(timezone="Europe/Berlin", google_access="oauth"))
        store.create_person(Person(email=ANA))
        yield World(server, store, client, TokenVault(key, kms))


def ana_writes(server: CalendarServer) -> int:
    return sum(1 for w in server.write_log if w.calendar == ANA)


def test_scans_act_with_the_persons_own_grant(world: World) -> None:
    world.connect(ANA)
    gateway = world.gateway()
    report = world.scan(gateway)
    assert report.outcome == "scanned"
    assert ana_writes(world.server) > 0
    # the delegation key was never used: only the person's refresh token
    assert world.server.counters.by_auth.get("token", 0) == 1 + 1  # exchange, one refresh


def test_with_oauth_and_no_grant_the_person_needs_to_reconnect(world: World) -> None:
    report = world.scan(world.gateway())
    assert report.outcome == "needs_reconnect"
    assert ana_writes(world.server) == 0


def test_with_both_a_person_without_a_grant_goes_through_delegation(world: World) -> None:
    world.mode = GoogleAccessMode.BOTH
    assert world.scan(world.gateway()).outcome == "scanned"
    assert ana_writes(world.server) > 0


def test_a_grant_revoked_during_a_scan_means_needs_reconnect_and_nothing_written(
    world: World,
) -> None:
    world.connect(ANA)
    gateway = world.gateway()
    assert world.scan(gateway).outcome == "scanned"
    before = ana_writes(world.server)
    holds = {h.id: h.status for h in world.store.holds(ANA)}
    assert world.server.consent.revoke_person(ANA) == 1  # in their Google Account

    report = world.scan(gateway, NOW + timedelta(days=1))

    assert report.outcome == "needs_reconnect"
    person = world.store.get_person(ANA)
    assert person is not None and person.status is PersonStatus.NEEDS_RECONNECT
    assert ana_writes(world.server) == before
    assert {h.id: h.status for h in world.store.holds(ANA)} == holds
    # reconnecting brings the same gateway back with the new grant
    world.connect(ANA)
    world.store.update_person(person.model_copy(update={"status": PersonStatus.ACTIVE}))
    assert world.scan(gateway, NOW + timedelta(days=1)).outcome == "scanned"


def test_opting_out_revokes_the_grant_at_google_and_deletes_it(world: World) -> None:
    world.connect(ANA)
    gateway = world.gateway()
    world.scan(gateway)
    person = world.store.get_person(ANA)
    assert person is not None
    world.store.update_person(person.model_copy(update={"status": PersonStatus.LEAVING}))
    report = world.scan(gateway, NOW + timedelta(minutes=30))
    assert report.status == "opted_out"
    assert [r.subject for r in world.server.consent.revocations] == [ANA]
    assert world.server.consent.grants_of(ANA) == 0
    assert world.store.get_grant(ANA) is None


def test_a_sealed_grant_that_will_not_open_fails_the_scan_without_the_token(
    world: World,
) -> None:
    world.connect(ANA)
    sealed = world.store.get_grant(ANA)
    assert sealed is not None
    world.store.put_grant(replace(sealed, ciphertext=sealed.ciphertext[:-1] + b"x"))
    with pytest.raises(CalendarError, match="does not open"):
        world.scan(world.gateway())


def test_a_delegation_deployment_never_reads_its_empty_oauth_client_secret(world: World) -> None:
    """The stack names the OAuth client's secret (created empty) and the grant key for the
    scan function everywhere: with google_access delegation nobody has a grant, so the
    secret is never read and scans run on delegation."""
    import json

    from micromoments.wiring import calendar_gateway

    secrets = boto3.client("secretsmanager", region_name="eu-west-1")
    secrets.create_secret(Name="mm/google-oauth-client")  # no value, as the stack leaves it
    secrets.create_secret(Name="mm/google-key",
                          SecretString=json.dumps(world.server.service_account_key()))  # fmt: skip
    settings = world.store.get_settings()
    assert settings is not None
    world.store.put_settings(settings.updated({"google_access": "delegation"}))
    config = Config(
        calendar_api_url=world.server.base_url, google_token_uri=world.server.token_uri,
        google_key_secret="mm/google-key", google_oauth_client_secret="mm/google-oauth-client",
        grant_key_id=world.vault.key_id,
    )  # fmt: skip
    gateway = calendar_gateway(config, table=world.store)
    assert world.scan(gateway).outcome == "scanned"
    assert ana_writes(world.server) > 0


@pytest.mark.parametrize("mode", [GoogleAccessMode.BOTH, GoogleAccessMode.OAUTH])
def test_choosing_credentials_reads_google_access_once_a_subject(mode: GoogleAccessMode) -> None:
    from micromoments.adapters.google_calendar.delegation import credentials_of
    from micromoments.ports import GrantRevoked

    reads: list[GoogleAccessMode] = []

    def read_mode() -> GoogleAccessMode:
        reads.append(mode)
        return mode

    store = TableStore(MemoryTable())
    vault = TokenVault("unused: nobody here has a grant")
    grants = PersonalGrants(store, vault, lambda: pytest.fail("no grant, no client"), read_mode)
    if mode is GoogleAccessMode.OAUTH:
        with pytest.raises(GrantRevoked):
            credentials_of("ana@example.com", grants, None)
    else:
        assert credentials_of("ana@example.com", grants, None) == (None, False)
    assert len(reads) == 1
