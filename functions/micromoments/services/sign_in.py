"""Use case: signing in to the opt-in site with an emailed link, and sessions.

A link is single-use, valid 15 minutes, and stored only as a hash; it goes to addresses of
the org's allowed domains, and the answer is the same whether or not the address is known
or allowed (nobody learns who is in). Requests are rate limited per address and per source
in the app itself (an HTTP API has no WAF). Opening a link changes nothing (mail scanners
prefetch links): only the button on that page signs in. A session id lives in a cookie and
only its hash in the Store (8 hours idle, 7 days at most).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from micromoments.domain.access import (
    SIGN_IN_TOKEN_LIFETIME,
    Session,
    SignInToken,
    secret_hash,
)
from micromoments.domain.errors import DomainError
from micromoments.domain.people import validate_email
from micromoments.domain.settings import OrgSettings
from micromoments.ports import Mailer, Store

PER_ADDRESS_PER_HOUR = 5
PER_SOURCE_PER_HOUR = 30


@dataclass(frozen=True, slots=True)
class LinkRequest:
    """What became of a request for a link (the page says the same in every case)."""

    sent: bool
    reason: str  # sent | invalid | not_allowed | rate_limited (for logs and metrics)


def request_link(
    store: Store,
    mailer: Mailer,
    *,
    address: str,
    source: str,
    now: datetime,
    base_url: str,
    sender: str,
) -> LinkRequest:
    """Email a sign-in link to ``address`` if it may have one."""
    window = now.strftime("%Y-%m-%dT%H")
    expires = now + timedelta(hours=2)
    if store.hit(_rate_key("source", source), window, expires) > PER_SOURCE_PER_HOUR:
        return LinkRequest(False, "rate_limited")
    try:
        email = validate_email(address)
    except DomainError:
        return LinkRequest(False, "invalid")
    settings = store.get_settings() or OrgSettings()
    if email.rpartition("@")[2] not in settings.allowed_domains:
        return LinkRequest(False, "not_allowed")
    if store.hit(_rate_key("address", email), window, expires) > PER_ADDRESS_PER_HOUR:
        return LinkRequest(False, "rate_limited")
    secret = secrets.token_urlsafe(32)
    store.create_sign_in_token(
        SignInToken(secret_hash(secret), email, now + SIGN_IN_TOKEN_LIFETIME)
    )
    mailer.send(sign_in_message(email, f"{base_url.rstrip('/')}/auth?token={secret}", sender))
    return LinkRequest(True, "sent")


def sign_in_message(email: str, link: str, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email
    message["Subject"] = "Your micromoments sign-in link"
    minutes = int(SIGN_IN_TOKEN_LIFETIME.total_seconds() // 60)
    message.set_content(
        "Hello,\n\n"
        "Someone (we hope you) asked to sign in to micromoments with this address.\n"
        f"Open this link within {minutes} minutes; it works once:\n\n{link}\n\n"
        "If it was not you, ignore this email: nothing changes.\n"
    )
    return message


def whom(store: Store, secret: str, now: datetime) -> str | None:
    """The address a link would sign in, without using it up; None if it is not valid."""
    token = store.peek_sign_in_token(secret_hash(secret), now) if _plausible(secret) else None
    return token.email if token else None


def sign_in(store: Store, secret: str, now: datetime) -> tuple[str, Session] | None:
    """Use a link: a new session and its id (for the cookie), or None when the link is
    forged, used or expired."""
    if not _plausible(secret):
        return None
    token = store.consume_sign_in_token(secret_hash(secret), now)
    if token is None:
        return None
    session_id = secrets.token_urlsafe(32)
    session = Session(secret_hash(session_id), token.email, now, now, token.generation)
    store.create_session(session)
    return session_id, session


def current_session(store: Store, session_id: str | None, now: datetime) -> Session | None:
    """The live session a cookie names (its idle clock restarted), or None."""
    if not session_id or not _plausible(session_id):
        return None
    session_hash = secret_hash(session_id)
    session = store.get_session(session_hash, now)
    if session is None:
        return None
    if now - session.last_seen_at >= timedelta(minutes=5):  # fewer writes, same idle rule
        store.touch_session(session_hash, now)
    return session


def sign_out(store: Store, session: Session) -> None:
    store.delete_session(session.session_hash)


def sign_out_everywhere(store: Store, email: str) -> None:
    """End every session of the address, this one included, and every unused link."""
    store.end_sessions(email)


def _plausible(secret: str) -> bool:
    return 20 <= len(secret) <= 100 and secret.replace("-", "").replace("_", "").isalnum()


def _rate_key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}|{value.strip().lower()}".encode()).hexdigest()[:32]
