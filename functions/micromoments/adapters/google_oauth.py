"""Per-person OAuth with Google (docs/google-access.md, "Per-person OAuth"): the
authorization request, the code exchange, the refresh credentials and revocation.

- `authorization_url`: the authorization-code flow with PKCE (S256), ``access_type=offline``
  and ``prompt=consent`` (so a refresh token comes back on a reconnect too), the three
  narrow calendar `SCOPES` and nothing else, ``login_hint`` = the signed-in address, and
  the ``state``.
- `exchange_code`: the code and its verifier for a refresh token and an access token. Every
  calendar scope must have been granted (Google's consent screen lets a person untick
  some) and none other.
- `owns_calendar`: whether the access token reaches the events of the calendar named by an
  address. With ``calendar.events.owned`` only that calendar's owner gets 200; another
  account gets 404 (no access) or 403 (access, but not as owner). This is how the callback
  knows which account consented without asking for ``openid email``.
- `revoke`: Google's revocation endpoint; a token Google no longer knows counts as revoked.

No token is ever put in a message or a log line here.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from micromoments.adapters.google_scopes import SCOPES
from micromoments.config import (
    DEFAULT_CALENDAR_API_URL,
    DEFAULT_GOOGLE_AUTHORIZE_URI,
    DEFAULT_GOOGLE_REVOKE_URI,
)

Post = Callable[[str, Mapping[str, str]], tuple[int, bytes]]
Get = Callable[[str, Mapping[str, str]], tuple[int, bytes]]


class ConnectRefused(Exception):
    """The code exchange gave nothing we may keep; the message is safe to show."""


@dataclass(frozen=True, slots=True)
class OAuthClient:
    """The OAuth client (a web application) and Google's endpoints (the Calendar API's
    too: the callback asks it whose calendar a new grant reaches)."""

    client_id: str
    client_secret: str = field(repr=False)
    token_uri: str
    authorize_uri: str = DEFAULT_GOOGLE_AUTHORIZE_URI
    revoke_uri: str = DEFAULT_GOOGLE_REVOKE_URI
    calendar_api_url: str = DEFAULT_CALENDAR_API_URL


@dataclass(frozen=True, slots=True)
class ConnectedGrant:
    """What a successful exchange gives: the refresh token, an access token (to learn whose
    calendar it reaches, then dropped) and the scopes."""

    refresh_token: str = field(repr=False)
    access_token: str = field(repr=False)
    scopes: tuple[str, ...]


def http_post(url: str, form: Mapping[str, str]) -> tuple[int, bytes]:
    """A form POST (the token and revocation endpoints), with a timeout."""
    import httplib2  # type: ignore[import-untyped]

    response, body = httplib2.Http(timeout=10).request(
        url,
        "POST",
        body=urllib.parse.urlencode(form),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    return int(response.status), bytes(body)


def http_get(url: str, headers: Mapping[str, str]) -> tuple[int, bytes]:
    """A GET (the Calendar API's answer to the new access token); status 0 when no answer
    came."""
    import httplib2

    try:
        response, body = httplib2.Http(timeout=10).request(url, "GET", headers=dict(headers))
    except (OSError, httplib2.HttpLib2Error):
        return 0, b""
    return int(response.status), bytes(body)


def authorization_url(
    client: OAuthClient, *, redirect_uri: str, state: str, challenge: str, login_hint: str
) -> str:
    query = {
        "client_id": client.client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": " ".join(SCOPES),
        "access_type": "offline",
        "prompt": "consent",
        "include_granted_scopes": "false",
        "login_hint": login_hint,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    separator = "&" if "?" in client.authorize_uri else "?"
    return client.authorize_uri + separator + urllib.parse.urlencode(query)


def exchange_code(
    client: OAuthClient,
    *,
    code: str,
    verifier: str,
    redirect_uri: str,
    post: Post = http_post,
) -> ConnectedGrant:
    """The grant a code gives, or `ConnectRefused` (a refused exchange, a missing scope, a
    scope not asked for, no refresh or access token)."""
    status, body = post(
        client.token_uri,
        {
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": redirect_uri,
            "client_id": client.client_id,
            "client_secret": client.client_secret,
        },
    )
    answer = _json(body)
    if status != 200:
        raise ConnectRefused(f"Google refused the code ({answer.get('error', status)})")
    granted = tuple(str(answer.get("scope", "")).split())
    missing = [s for s in SCOPES if s not in granted]
    if missing:
        raise ConnectRefused("Google did not grant calendar access: tick every box")
    if set(granted) - set(SCOPES):
        raise ConnectRefused("Google granted more than micromoments asked for")
    refresh_token, access_token = answer.get("refresh_token"), answer.get("access_token")
    if not isinstance(refresh_token, str) or not refresh_token:
        raise ConnectRefused("Google gave no offline access")
    if not isinstance(access_token, str) or not access_token:
        raise ConnectRefused("Google gave no access token")
    return ConnectedGrant(refresh_token, access_token, tuple(s for s in granted if s in SCOPES))


def owns_calendar(
    client: OAuthClient, access_token: str, email: str, *, get: Get = http_get
) -> bool:
    """Whether ``access_token`` belongs to the owner of ``email``'s calendar: one event's
    worth of nothing (``fields=kind``) from that calendar. 200 yes; 404, or 403 other than
    a rate limit, no; any other answer is `ConnectRefused` (we cannot tell, so nothing may
    be kept)."""
    calendar = urllib.parse.quote(email, safe="@")
    url = f"{client.calendar_api_url.rstrip('/')}/calendars/{calendar}/events"
    status, body = get(
        url + "?maxResults=1&fields=kind", {"authorization": f"Bearer {access_token}"}
    )
    if status == 200:
        return True
    if status == 404 or (status == 403 and not _rate_limited(body)):
        return False
    raise ConnectRefused(f"Google could not confirm the account ({status}); please try again")


def _rate_limited(body: bytes) -> bool:
    error = _json(body).get("error")
    errors = error.get("errors") if isinstance(error, dict) else None
    return isinstance(errors, list) and any(
        isinstance(e, dict) and e.get("domain") == "usageLimits" for e in errors
    )


def revoke(client: OAuthClient, token: str, *, post: Post = http_post) -> bool:
    """Revoke ``token`` at Google; True when revoked now or unknown to Google already."""
    status, body = post(client.revoke_uri, {"token": token})
    if status == 200:
        return True
    return status == 400 and _json(body).get("error") in ("invalid_token", "invalid_request")


def read_oauth_client(
    secret_id: str,
    *,
    token_uri: str,
    authorize_uri: str,
    revoke_uri: str,
    calendar_api_url: str = DEFAULT_CALENDAR_API_URL,
    client: Any = None,
) -> OAuthClient:
    """The OAuth client the secret holds (``{"client_id": …, "client_secret": …}``)."""
    from micromoments.adapters.secrets import SecretError, read_secret_json

    info = read_secret_json(secret_id, client)
    client_id, secret = info.get("client_id"), info.get("client_secret")
    if not isinstance(client_id, str) or not isinstance(secret, str) or not client_id or not secret:
        raise SecretError(f"secret {secret_id!r} holds no client_id and client_secret")
    return OAuthClient(client_id, secret, token_uri, authorize_uri, revoke_uri, calendar_api_url)


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
