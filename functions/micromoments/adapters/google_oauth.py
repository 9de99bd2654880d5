"""Per-person OAuth with Google (docs/google-access.md, "Per-person OAuth"): the
authorization request, the code exchange, the refresh credentials and revocation.

- `authorization_url`: the authorization-code flow with PKCE (S256), ``access_type=offline``
  and ``prompt=consent`` (so a refresh token comes back on a reconnect too), the three
  narrow calendar `SCOPES` plus ``openid email`` (the address of the account that
  consented, nothing else), ``login_hint`` = the signed-in address, and the ``state``.
- `exchange_code`: the code and its verifier for a refresh token and an ``id_token``. The
  id_token comes straight from the token endpoint over TLS, so its issuer, audience, expiry
  and ``email_verified`` are checked and its signature is not (OpenID Connect Core
  3.1.3.7). Every calendar scope must have been granted (Google's consent screen lets a
  person untick some) and none broader.
- `user_credentials`: google-auth's refreshable credentials for a refresh token.
- `revoke`: Google's revocation endpoint; a token Google no longer knows counts as revoked.

No token is ever put in a message or a log line here.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from micromoments.adapters.google_calendar.delegation import SCOPES
from micromoments.config import DEFAULT_GOOGLE_AUTHORIZE_URI, DEFAULT_GOOGLE_REVOKE_URI

IDENTITY_SCOPES = ("openid", "email")
CONNECT_SCOPES = (*SCOPES, *IDENTITY_SCOPES)
GOOGLE_ISSUERS = frozenset({"https://accounts.google.com", "accounts.google.com"})
_CLOCK_SKEW_S = 300

Post = Callable[[str, Mapping[str, str]], tuple[int, bytes]]


class ConnectRefused(Exception):
    """The code exchange gave nothing we may keep; the message is safe to show."""


@dataclass(frozen=True, slots=True)
class OAuthClient:
    """The OAuth client (a web application) and Google's endpoints."""

    client_id: str
    client_secret: str = field(repr=False)
    token_uri: str
    authorize_uri: str = DEFAULT_GOOGLE_AUTHORIZE_URI
    revoke_uri: str = DEFAULT_GOOGLE_REVOKE_URI


@dataclass(frozen=True, slots=True)
class ConnectedGrant:
    """What a successful exchange gives: whose account, the refresh token, the scopes."""

    email: str
    refresh_token: str = field(repr=False)
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


def authorization_url(
    client: OAuthClient, *, redirect_uri: str, state: str, challenge: str, login_hint: str
) -> str:
    query = {
        "client_id": client.client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": " ".join(CONNECT_SCOPES),
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
    now: float | None = None,
) -> ConnectedGrant:
    """The grant a code gives, or `ConnectRefused` (a refused exchange, a missing scope or
    refresh token, an id_token that is not Google's for this client)."""
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
    if set(granted) - set(CONNECT_SCOPES):
        raise ConnectRefused("Google granted more than micromoments asked for")
    refresh_token = answer.get("refresh_token")
    if not isinstance(refresh_token, str) or not refresh_token:
        raise ConnectRefused("Google gave no offline access")
    email = verified_email(str(answer.get("id_token", "")), client.client_id, now)
    return ConnectedGrant(email, refresh_token, tuple(s for s in granted if s in SCOPES))


def verified_email(id_token: str, client_id: str, now: float | None = None) -> str:
    """The verified address of an id_token received from the token endpoint itself."""
    from google.auth import jwt

    try:
        claims = jwt.decode(id_token, verify=False)  # type: ignore[no-untyped-call]
    except (ValueError, TypeError):
        raise ConnectRefused("Google sent no usable identity") from None
    moment = time.time() if now is None else now
    if (
        claims.get("iss") not in GOOGLE_ISSUERS
        or claims.get("aud") != client_id
        or float(claims.get("exp", 0)) < moment - _CLOCK_SKEW_S
        or claims.get("email_verified") is not True
        or not isinstance(claims.get("email"), str)
    ):
        raise ConnectRefused("Google sent no usable identity")
    return str(claims["email"]).strip().lower()


def revoke(client: OAuthClient, token: str, *, post: Post = http_post) -> bool:
    """Revoke ``token`` at Google; True when revoked now or unknown to Google already."""
    status, body = post(client.revoke_uri, {"token": token})
    if status == 200:
        return True
    return status == 400 and _json(body).get("error") in ("invalid_token", "invalid_request")


def user_credentials(client: OAuthClient, refresh_token: str, scopes: Sequence[str]) -> Any:
    """google-auth credentials that refresh with the person's own refresh token."""
    from google.oauth2.credentials import Credentials

    return Credentials(  # type: ignore[no-untyped-call]
        token=None,
        refresh_token=refresh_token,
        token_uri=client.token_uri,
        client_id=client.client_id,
        client_secret=client.client_secret,
        scopes=list(scopes),
    )


def read_oauth_client(
    secret_id: str, *, token_uri: str, authorize_uri: str, revoke_uri: str, client: Any = None
) -> OAuthClient:
    """The OAuth client the secret holds (``{"client_id": …, "client_secret": …}``)."""
    from micromoments.adapters.secrets import SecretError, read_secret_json

    info = read_secret_json(secret_id, client)
    client_id, secret = info.get("client_id"), info.get("client_secret")
    if not isinstance(client_id, str) or not isinstance(secret, str) or not client_id or not secret:
        raise SecretError(f"secret {secret_id!r} holds no client_id and client_secret")
    return OAuthClient(client_id, secret, token_uri, authorize_uri, revoke_uri)


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
