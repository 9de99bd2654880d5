"""The local server's per-person OAuth endpoints over real HTTP: the consent page, the
authorization-code grant with PKCE, the refresh-token grant and revocation."""

from __future__ import annotations

import json
import secrets
import urllib.parse
from collections.abc import Iterator
from typing import Any

import httplib2
import pytest
from google.auth import jwt

from micromoments.local.calendar_api import CalendarServer
from micromoments.local.calendar_api.consent import OAuthClient, s256

pytestmark = pytest.mark.integration

ALICE = "alice@example.com"
BOB = "bob@example.com"
REDIRECT = "http://127.0.0.1:9/oauth/callback"
SCOPES = (
    "https://www.googleapis.com/auth/calendar.events.owned "
    "https://www.googleapis.com/auth/calendar.events.freebusy "
    "https://www.googleapis.com/auth/calendar.settings.readonly"
)


@pytest.fixture
def server() -> Iterator[CalendarServer]:
    with CalendarServer(require_auth=True) as running:
        running.add_calendar(ALICE, timezone="Europe/Berlin")
        running.add_calendar(BOB)
        yield running


def _http() -> httplib2.Http:
    http = httplib2.Http(timeout=5)
    http.follow_redirects = False
    return http


def _post(url: str, form: dict[str, str]) -> tuple[int, dict[str, str], str]:
    response, body = _http().request(
        url,
        "POST",
        body=urllib.parse.urlencode(form),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    return int(response.status), dict(response), body.decode()


def _authorize(
    client: OAuthClient, verifier: str, *, state: str = "s1", account: str = ALICE, **extra: str
) -> dict[str, str]:
    return {
        "client_id": client.client_id,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": SCOPES,
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
        "state": state,
        "login_hint": ALICE,
        "access_type": "offline",
        "account": account,
        **extra,
    }


def _code(server: CalendarServer, client: OAuthClient, verifier: str, **extra: str) -> str:
    status, headers, _ = _post(
        server.authorize_uri, {**_authorize(client, verifier, **extra), "decision": "allow"}
    )
    assert status == 302
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(headers["location"]).query)
    assert query["state"] == [extra.get("state", "s1")]
    return query["code"][0]


def _exchange(server: CalendarServer, client: OAuthClient, **form: str) -> tuple[int, Any]:
    status, _, body = _post(
        server.token_uri,
        {
            "grant_type": "authorization_code",
            "client_id": client.client_id,
            "client_secret": client.client_secret,
            "redirect_uri": REDIRECT,
            **form,
        },
    )
    return status, json.loads(body)


def _events_status(server: CalendarServer, token: str, calendar: str = ALICE) -> int:
    response, _ = _http().request(
        f"{server.base_url}calendars/{calendar}/events?maxResults=1",
        headers={"authorization": f"Bearer {token}"},
    )
    return int(response.status)


def test_the_consent_page_shows_the_account_and_the_scopes(server: CalendarServer) -> None:
    client = server.oauth_client(REDIRECT)
    query = {k: v for k, v in _authorize(client, "v" * 43).items() if k != "account"}
    response, body = _http().request(server.authorize_uri + "?" + urllib.parse.urlencode(query))
    page = body.decode()
    assert response.status == 200
    assert f'value="{ALICE}"' in page
    assert "calendar.events.owned" in page
    assert ">Allow</button>" in page


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"code_challenge_method": "plain"}, "PKCE"),
        ({"code_challenge": ""}, "PKCE"),
        ({"scope": "https://www.googleapis.com/auth/calendar"}, "invalid_scope"),
        ({"redirect_uri": "http://127.0.0.1:9/elsewhere"}, "redirect_uri_mismatch"),
    ],
)
def test_a_bad_authorization_request_gets_an_error_page(
    server: CalendarServer, change: dict[str, str], error: str
) -> None:
    client = server.oauth_client(REDIRECT)
    query = {**_authorize(client, "v" * 43), **change}
    response, body = _http().request(server.authorize_uri + "?" + urllib.parse.urlencode(query))
    assert response.status == 400
    assert error in body.decode()


def test_code_grant_with_pkce_gives_a_refresh_token_for_the_own_calendar_only(
    server: CalendarServer,
) -> None:
    client = server.oauth_client(REDIRECT)
    verifier = secrets.token_urlsafe(48)
    status, answer = _exchange(
        server, client, code=_code(server, client, verifier), code_verifier=verifier
    )
    assert status == 200
    assert "id_token" not in answer  # no openid scope asked for
    assert set(answer["scope"].split()) == set(SCOPES.split())
    # as Google answers with calendar.events.owned: the owner 200, anyone else 404
    assert _events_status(server, answer["access_token"]) == 200
    assert _events_status(server, answer["access_token"], BOB) == 404
    assert _events_status(server, answer["access_token"], "primary") == 200

    status, refreshed = _post(
        server.token_uri,
        {
            "grant_type": "refresh_token",
            "refresh_token": answer["refresh_token"],
            "client_id": client.client_id,
            "client_secret": client.client_secret,
        },
    )[::2]
    assert status == 200
    assert "id_token" not in json.loads(refreshed)


def test_asking_openid_email_too_gives_an_id_token_with_the_address(
    server: CalendarServer,
) -> None:
    client = server.oauth_client(REDIRECT)
    verifier = secrets.token_urlsafe(48)
    code = _code(server, client, verifier, scope=SCOPES + " openid email")
    status, answer = _exchange(server, client, code=code, code_verifier=verifier)
    assert status == 200
    claims = jwt.decode(answer["id_token"], verify=False)
    assert (claims["email"], claims["aud"], claims["email_verified"]) == (
        ALICE,
        client.client_id,
        True,
    )


def test_a_code_is_good_once_and_only_with_its_verifier(server: CalendarServer) -> None:
    client = server.oauth_client(REDIRECT)
    verifier = secrets.token_urlsafe(48)
    code = _code(server, client, verifier)
    assert _exchange(server, client, code=code) == (
        400,
        {"error": "invalid_grant", "error_description": "Missing code verifier."},
    )
    assert _exchange(server, client, code=code, code_verifier=secrets.token_urlsafe(48))[1][
        "error_description"
    ] == ("Invalid code verifier.")
    status, answer = _exchange(server, client, code=code, code_verifier=verifier)
    assert status == 200
    replay = _exchange(server, client, code=code, code_verifier=verifier)
    assert replay[1]["error"] == "invalid_grant"
    # the replay revoked what the code gave
    assert _events_status(server, answer["access_token"]) == 401
    assert server.consent.grants_of(ALICE) == 0


def test_revoking_the_refresh_token_ends_the_grant(server: CalendarServer) -> None:
    client = server.oauth_client(REDIRECT)
    verifier = secrets.token_urlsafe(48)
    _, answer = _exchange(
        server, client, code=_code(server, client, verifier), code_verifier=verifier
    )
    status, _, _ = _post(server.revoke_uri, {"token": answer["refresh_token"]})
    assert status == 200
    assert _events_status(server, answer["access_token"]) == 401
    status, _, body = _post(
        server.token_uri,
        {
            "grant_type": "refresh_token",
            "refresh_token": answer["refresh_token"],
            "client_id": client.client_id,
            "client_secret": client.client_secret,
        },
    )
    assert (status, json.loads(body)["error"]) == (400, "invalid_grant")
    assert [r.subject for r in server.consent.revocations] == [ALICE]
    assert _post(server.revoke_uri, {"token": answer["refresh_token"]})[0] == 400


def test_an_unknown_account_cannot_consent(server: CalendarServer) -> None:
    client = server.oauth_client(REDIRECT)
    form = {**_authorize(client, "v" * 43, account="nobody@example.com"), "decision": "allow"}
    status, _, body = _post(server.authorize_uri, form)
    assert status == 400
    assert "Could not find that Google Account" in body


def test_cancel_redirects_with_access_denied(server: CalendarServer) -> None:
    client = server.oauth_client(REDIRECT)
    status, headers, _ = _post(
        server.authorize_uri, {**_authorize(client, "v" * 43), "decision": "deny"}
    )
    assert status == 302
    assert "error=access_denied" in headers["location"]
    assert "state=s1" in headers["location"]
