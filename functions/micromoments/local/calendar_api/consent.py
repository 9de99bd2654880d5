"""Per-person OAuth on the local server: Google's authorization endpoint (a consent page
a browser, or a test driving HTTP, can approve), the authorization-code and refresh-token
grants of the token endpoint with PKCE (S256 only) and an OpenID ``id_token``, and the
revocation endpoint (docs/google-access.md, "Per-person OAuth").

As Google does: a code is good once, for ten minutes, for the client and redirect URI it
was issued to, and only with the verifier whose S256 hash the authorization request sent;
a refresh token stays good until it is revoked (by the client, or by the person, which
`revoke_person` stands for) or the account is suspended; revoking a refresh token revokes
the access tokens it gave.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from google.auth import jwt

from micromoments.local.calendar_api import oauth

AUTHORIZE_PATH = "/o/oauth2/v2/auth"
REVOKE_PATH = "/revoke"
AUTHORIZATION_CODE = "authorization_code"
REFRESH_TOKEN = "refresh_token"
ISSUER = "https://accounts.google.com"
# Identity scopes: the address of the account that consented, in the id_token; no data.
IDENTITY_SCOPES = frozenset({"openid", "email"})
CODE_LIFETIME_S = 600
_VERIFIER_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


class ConsentError(Exception):
    """A request the authorization endpoint refuses with an error page."""


@dataclass(frozen=True, slots=True)
class OAuthClient:
    """A registered OAuth client (a web application) and its redirect URIs."""

    client_id: str
    client_secret: str
    redirect_uris: frozenset[str]

    def info(self) -> dict[str, str]:
        """What goes into the OAuth client secret (docs/deploy.md)."""
        return {"client_id": self.client_id, "client_secret": self.client_secret}


@dataclass(slots=True)
class _Code:
    client_id: str
    redirect_uri: str
    subject: str
    scopes: frozenset[str]
    challenge: str
    expires_at: float
    used: bool = False
    refresh_token: str | None = None


@dataclass(slots=True)
class _Grant:
    client_id: str
    subject: str
    scopes: frozenset[str]
    access_tokens: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class Revocation:
    """One call of the revocation endpoint that revoked something: whose grant."""

    subject: str
    kind: str  # "refresh_token" | "access_token"


@dataclass(frozen=True, slots=True)
class Authorization:
    """A checked authorization request, as the consent page shows it."""

    client_id: str
    redirect_uri: str
    scopes: frozenset[str]
    challenge: str
    state: str
    login_hint: str


def s256(verifier: str) -> str:
    """The PKCE S256 code challenge of ``verifier`` (RFC 7636 4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class Consent:
    """The OAuth clients, codes and refresh tokens of the local server.

    ``issue(subject, scopes)`` mints an access token on the server; ``forget(tokens)``
    drops access tokens; ``known(address)`` tells whether an account may sign in (exists,
    not suspended); ``clock`` gives epoch seconds.
    """

    def __init__(
        self,
        *,
        issue: Callable[[str, frozenset[str]], str],
        forget: Callable[[set[str]], None],
        known: Callable[[str], bool],
        clock: Callable[[], float],
    ) -> None:
        self._issue = issue
        self._forget = forget
        self._known = known
        self._clock = clock
        self._lock = threading.Lock()
        self._clients: dict[str, OAuthClient] = {}
        self._codes: dict[str, _Code] = {}
        self._grants: dict[str, _Grant] = {}
        self._signer = oauth.generate_key()
        self.revocations: list[Revocation] = []
        self.refreshes: dict[str, int] = {}  # refresh-token grants answered, by subject
        self.issued: list[str] = []  # every refresh and access token given (privacy scans)

    # -- clients ---------------------------------------------------------------------------

    def register_client(self, *redirect_uris: str) -> OAuthClient:
        client = OAuthClient(
            client_id=f"{secrets.randbelow(10**12):012d}-local.apps.googleusercontent.com",
            client_secret="GOCSPX-" + secrets.token_urlsafe(21),
            redirect_uris=frozenset(redirect_uris),
        )
        with self._lock:
            self._clients[client.client_id] = client
        return client

    def add_redirect_uri(self, client_id: str, redirect_uri: str) -> None:
        with self._lock:
            client = self._clients[client_id]
            self._clients[client_id] = OAuthClient(
                client.client_id, client.client_secret, client.redirect_uris | {redirect_uri}
            )

    # -- the authorization endpoint ---------------------------------------------------------

    def authorization(self, args: Mapping[str, str]) -> Authorization:
        """The checked request of ``args`` (query or form), or `ConsentError`."""
        client = self._clients.get(args.get("client_id", ""))
        if client is None:
            raise ConsentError("Error 401: invalid_client. The OAuth client was not found.")
        redirect_uri = args.get("redirect_uri", "")
        if redirect_uri not in client.redirect_uris:
            raise ConsentError("Error 400: redirect_uri_mismatch.")
        if args.get("response_type") != "code":
            raise ConsentError("Error 400: invalid_request. response_type must be code.")
        scopes = frozenset(args.get("scope", "").split())
        calendar = scopes - IDENTITY_SCOPES
        if not calendar or not calendar <= oauth.ALLOWED_SCOPES:
            raise ConsentError("Error 400: invalid_scope. Some requested scopes are not allowed.")
        if args.get("code_challenge_method") != "S256" or not args.get("code_challenge"):
            raise ConsentError("Error 400: invalid_request. PKCE with S256 is required.")
        return Authorization(
            client_id=client.client_id,
            redirect_uri=redirect_uri,
            scopes=scopes,
            challenge=args["code_challenge"],
            state=args.get("state", ""),
            login_hint=args.get("login_hint", ""),
        )

    def page(self, request: Authorization) -> str:
        """The consent page: the account (the login hint, editable), the scopes, Allow."""
        hidden = {
            "client_id": request.client_id,
            "redirect_uri": request.redirect_uri,
            "response_type": "code",
            "scope": " ".join(sorted(request.scopes)),
            "code_challenge": request.challenge,
            "code_challenge_method": "S256",
            "state": request.state,
        }
        fields = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
            for name, value in hidden.items()
        )
        scopes = "".join(f"<li>{html.escape(s)}</li>" for s in sorted(request.scopes))
        return (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            "<title>Sign in - Google Accounts (local)</title></head><body><main>"
            "<h1>micromoments wants to access your Google Account</h1>"
            f"<ul>{scopes}</ul>"
            f'<form method="post" action="{AUTHORIZE_PATH}">{fields}'
            '<label for="account">Google account</label> '
            f'<input id="account" name="account" type="email" '
            f'value="{html.escape(request.login_hint)}"> '
            '<button type="submit" name="decision" value="allow">Allow</button> '
            '<button type="submit" name="decision" value="deny">Cancel</button>'
            "</form></main></body></html>"
        )

    def decide(self, form: Mapping[str, str]) -> str:
        """Where the browser goes after the consent page: the redirect URI with a code (or
        ``error=access_denied``) and the state."""
        request = self.authorization(form)
        if form.get("decision") != "allow":
            return _redirect(request.redirect_uri, error="access_denied", state=request.state)
        account = form.get("account", "").strip().lower()
        if not account or not self._known(account):
            raise ConsentError("Could not find that Google Account.")
        code = "4/0local-" + secrets.token_urlsafe(32)
        with self._lock:
            self._codes[code] = _Code(
                client_id=request.client_id,
                redirect_uri=request.redirect_uri,
                subject=account,
                scopes=request.scopes,
                challenge=request.challenge,
                expires_at=self._clock() + CODE_LIFETIME_S,
            )
        return _redirect(request.redirect_uri, code=code, state=request.state)

    # -- the token endpoint ----------------------------------------------------------------

    def grant(self, form: Mapping[str, str]) -> dict[str, Any]:
        """The token response for an authorization_code or refresh_token grant, or
        `oauth.GrantError` as Google answers."""
        client = self._client(form)
        if form.get("grant_type") == AUTHORIZATION_CODE:
            return self._exchange(client, form)
        return self._refresh(client, form)

    def _client(self, form: Mapping[str, str]) -> OAuthClient:
        client = self._clients.get(form.get("client_id", ""))
        if client is None or not secrets.compare_digest(
            client.client_secret, form.get("client_secret", "")
        ):
            raise oauth.GrantError("invalid_client", "The OAuth client was not found.", 401)
        return client

    def _exchange(self, client: OAuthClient, form: Mapping[str, str]) -> dict[str, Any]:
        with self._lock:
            code = self._codes.get(form.get("code", ""))
            if code is None or code.client_id != client.client_id:
                raise oauth.GrantError("invalid_grant", "Malformed auth code.")
            if code.used:  # a replayed code: revoke what it gave (RFC 6749 4.1.2)
                self._revoke_locked(code.refresh_token or "")
                raise oauth.GrantError("invalid_grant", "Bad Request")
            if code.expires_at < self._clock():
                raise oauth.GrantError("invalid_grant", "Bad Request")
            if form.get("redirect_uri") != code.redirect_uri:
                raise oauth.GrantError("redirect_uri_mismatch", "Bad Request")
            verifier = form.get("code_verifier", "")
            if not verifier:
                raise oauth.GrantError("invalid_grant", "Missing code verifier.")
            if (
                not 43 <= len(verifier) <= 128
                or not set(verifier) <= _VERIFIER_CHARS
                or not secrets.compare_digest(s256(verifier), code.challenge)
            ):
                raise oauth.GrantError("invalid_grant", "Invalid code verifier.")
            code.used = True
            refresh_token = "1//0local-" + secrets.token_urlsafe(48)
            code.refresh_token = refresh_token
            grant = _Grant(client.client_id, code.subject, code.scopes)
            self._grants[refresh_token] = grant
            self.issued.append(refresh_token)
        answer = self._access(grant, with_identity=True)
        return {**answer, "refresh_token": refresh_token}

    def _refresh(self, client: OAuthClient, form: Mapping[str, str]) -> dict[str, Any]:
        if form.get("grant_type") != REFRESH_TOKEN:
            raise oauth.GrantError("unsupported_grant_type", "Invalid grant_type.")
        with self._lock:
            grant = self._grants.get(form.get("refresh_token", ""))
        if grant is None or grant.client_id != client.client_id or not self._known(grant.subject):
            raise oauth.GrantError("invalid_grant", "Token has been expired or revoked.")
        with self._lock:
            self.refreshes[grant.subject] = self.refreshes.get(grant.subject, 0) + 1
        return self._access(grant, with_identity=False)

    def _access(self, grant: _Grant, *, with_identity: bool) -> dict[str, Any]:
        token = self._issue(grant.subject, grant.scopes - IDENTITY_SCOPES)
        with self._lock:
            grant.access_tokens.add(token)
            self.issued.append(token)
        answer: dict[str, Any] = {
            "access_token": token,
            "expires_in": oauth.TOKEN_LIFETIME_S,
            "token_type": "Bearer",
            "scope": " ".join(sorted(grant.scopes)),
        }
        if with_identity and grant.scopes >= IDENTITY_SCOPES:
            answer["id_token"] = self._id_token(grant)
        return answer

    def _id_token(self, grant: _Grant) -> str:
        now = int(self._clock())
        claims = {
            "iss": ISSUER,
            "aud": grant.client_id,
            "azp": grant.client_id,
            "sub": str(int(hashlib.sha256(grant.subject.encode()).hexdigest()[:15], 16)),
            "email": grant.subject,
            "email_verified": True,
            "iat": now,
            "exp": now + oauth.TOKEN_LIFETIME_S,
        }
        signer = oauth.signer(self._signer.private_key_pem, self._signer.key_id)
        token: bytes = jwt.encode(signer, claims)  # type: ignore[no-untyped-call]
        return token.decode()

    # -- the revocation endpoint -----------------------------------------------------------

    def revoke(self, token: str) -> bool:
        """Revoke a refresh token (and its access tokens) or one access token."""
        with self._lock:
            return self._revoke_locked(token)

    def _revoke_locked(self, token: str) -> bool:
        grant = self._grants.pop(token, None)
        if grant is not None:
            self._forget(set(grant.access_tokens))
            self.revocations.append(Revocation(grant.subject, REFRESH_TOKEN))
            return True
        for grant in self._grants.values():
            if token in grant.access_tokens:
                grant.access_tokens.discard(token)
                self._forget({token})
                self.revocations.append(Revocation(grant.subject, "access_token"))
                return True
        return False

    def revoke_person(self, address: str) -> int:
        """The person removes micromoments in their Google Account: every refresh token of
        theirs stops working (the number revoked)."""
        subject = address.strip().lower()
        with self._lock:
            tokens = [t for t, g in self._grants.items() if g.subject == subject]
            for token in tokens:
                grant = self._grants.pop(token)
                self._forget(set(grant.access_tokens))
        return len(tokens)

    def grants_of(self, address: str) -> int:
        """How many live refresh tokens the person has."""
        subject = address.strip().lower()
        with self._lock:
            return sum(1 for g in self._grants.values() if g.subject == subject)

    def refresh_tokens(self) -> list[str]:
        """Every live refresh token (for privacy scans: none may appear in clear)."""
        with self._lock:
            return list(self._grants)

    def access_tokens(self) -> list[str]:
        with self._lock:
            return [t for g in self._grants.values() for t in g.access_tokens]


def _redirect(uri: str, **params: str) -> str:
    separator = "&" if urllib.parse.urlsplit(uri).query else "?"
    return uri + separator + urllib.parse.urlencode(params)
