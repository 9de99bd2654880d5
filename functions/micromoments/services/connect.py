"""Connecting one's own Google Calendar from the opt-in site (per-person OAuth,
docs/google-access.md): `start_connect` and `finish_connect`.

The OAuth ``state`` is 256 random bits, stored (hashed) with the hash of the session that
started the connect, for ten minutes, and taken once: a forged state finds nothing, a
replayed one finds nothing the second time, one from another sign-in names another session.
The PKCE verifier is derived from the master key and the state (an HMAC), so it is never
stored; the challenge sent is its S256 hash. The code is exchanged at Google's token
endpoint; the Google account must be the signed-in address's: the new access token must
reach that address's own calendar (only the three calendar scopes are asked for, so no
id_token says who consented), else the grant just given is revoked and nothing is kept.
The refresh token is sealed with KMS (`token_vault`, GenerateDataKey only) before it
reaches the Store; the person is opted in and their first scan queued.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from micromoments.domain.access import Session, derive_key, secret_hash
from micromoments.domain.grants import GoogleAccessMode
from micromoments.domain.people import Person, PersonStatus
from micromoments.domain.scan_request import ScanReason, ScanRequest
from micromoments.ports import ScanQueue, Store
from micromoments.services import people as people_service
from micromoments.services.org import org_settings
from micromoments.services.preferences import ChangeRefused

if TYPE_CHECKING:
    from micromoments.adapters.google_oauth import ConnectedGrant, OAuthClient
    from micromoments.adapters.token_vault import TokenVault

CONNECT_LIFETIME = timedelta(minutes=10)
CALLBACK_PATH = "/connect/callback"
Exchange = Callable[..., "ConnectedGrant"]


class ConnectRefused(ChangeRefused):
    """The connect did not happen; the message says why (nothing was kept)."""


def callback_url(base_url: str) -> str:
    return base_url.rstrip("/") + CALLBACK_PATH


def code_verifier(master_key: bytes, state: str) -> str:
    """The PKCE verifier of a state (43 characters of base64url), derived, never stored."""
    digest = hmac.new(derive_key(master_key, "pkce"), state.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def code_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def start_connect(
    store: Store,
    session: Session,
    *,
    master_key: bytes,
    client: OAuthClient,
    base_url: str,
    now: datetime,
) -> str:
    """Where to send the browser: Google's consent for the signed-in address."""
    from micromoments.adapters.google_oauth import authorization_url

    if org_settings(store).google_access is GoogleAccessMode.DELEGATION:
        raise ConnectRefused("Your organisation connects calendars for you: opt in below.")
    if store.erasure_requested(session.email):
        raise ConnectRefused("Your data is being deleted; sign in again once it is gone.")
    state = secrets.token_urlsafe(32)
    if not store.create_connect_attempt(
        secret_hash(state), session.session_hash, now + CONNECT_LIFETIME
    ):
        raise ConnectRefused("Please try again.")  # 256 random bits met an old state
    return authorization_url(
        client,
        redirect_uri=callback_url(base_url),
        state=state,
        challenge=code_challenge(code_verifier(master_key, state)),
        login_hint=session.email,
    )


def finish_connect(
    store: Store,
    queue: ScanQueue,
    session: Session,
    *,
    state: str,
    code: str,
    error: str,
    master_key: bytes,
    client: OAuthClient,
    vault: TokenVault,
    base_url: str,
    now: datetime,
    exchange: Exchange | None = None,
) -> Person:
    """The person, opted in with their own grant sealed in the Store (first scan queued);
    `ConnectRefused` for a forged, replayed, foreign or expired state, a refusal at Google,
    or another Google account than the signed-in address."""
    from micromoments.adapters import google_oauth

    taken = store.take_connect_attempt(secret_hash(state)) if state else None
    if taken is None or taken[0] != session.session_hash or taken[1] <= now:
        raise ConnectRefused(
            "This connection is not valid: it was used already, is too old, or was started "
            "in another sign-in. Start again from your preferences."
        )
    if error or not code:
        raise ConnectRefused("Google did not give access, so nothing was connected.")
    try:
        grant = (exchange or google_oauth.exchange_code)(
            client,
            code=code,
            verifier=code_verifier(master_key, state),
            redirect_uri=callback_url(base_url),
        )
    except google_oauth.ConnectRefused as exc:
        raise ConnectRefused(f"{exc}; nothing was connected.") from None
    try:
        own = google_oauth.owns_calendar(client, grant.access_token, session.email)
    except google_oauth.ConnectRefused as exc:
        google_oauth.revoke(client, grant.refresh_token)  # unconfirmed: keep nothing
        raise ConnectRefused(f"{exc}; nothing was connected.") from None
    if not own:
        google_oauth.revoke(client, grant.refresh_token)  # keep nothing of another account
        raise ConnectRefused(
            f"The Google account you chose is not the one of {session.email}, the address "
            "you signed in with. Nothing was connected: choose that account."
        )
    store.put_grant(vault.seal(session.email, grant.refresh_token, grant.scopes, now))
    person = _opted_in(store, session.email)
    queue.send([ScanRequest(person.email, ScanReason.OPT_IN)])
    return person


def _opted_in(store: Store, email: str) -> Person:
    person = store.get_person(email)
    if person is None:
        created = people_service.admit(org_settings(store), people_service.NewPerson(email=email))
        if not store.create_person(created):
            raise ConnectRefused("Your profile was created meanwhile; please try again.")
        return created
    if person.status is PersonStatus.ACTIVE:
        return person
    active = person.model_copy(update={"status": PersonStatus.ACTIVE})
    if not store.update_person(active, expected_status=person.status):
        raise ConnectRefused("Your profile changed meanwhile; please try again.")
    return active
