"""Use case: signing in to the opt-in site with an emailed link, and sessions.

A link is single-use, valid 15 minutes, and stored only as a hash; it goes to addresses of
the org's allowed domains, and the answer is the same whether or not the address is known
or allowed (nobody learns who is in). Requests are rate limited in the app itself (an HTTP
API has no WAF), so that nobody can spend someone else's allowance (`SignInLimits`).
Every sign-in email also carries a link to leave micromoments without signing in. Opening
a link changes nothing (mail scanners prefetch links): only the button on that page signs
in. A session id lives in a cookie and only its hash in the Store (8 hours idle, 7 days at
most).
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from micromoments.domain.access import (
    SIGN_IN_TOKEN_LIFETIME,
    Session,
    SignInToken,
    address_hash_key,
    keyed_hash,
    secret_hash,
)
from micromoments.domain.addresses import canonical_address
from micromoments.domain.errors import DomainError
from micromoments.email.links import opt_out_url, sign_in_url
from micromoments.email.sign_in import sign_in_message
from micromoments.ports import Mailer, Store
from micromoments.services.links import personal_links
from micromoments.services.org import org_settings

DEFAULT_PER_SOURCE_PER_HOUR = 500


@dataclass(frozen=True, slots=True)
class SignInLimits:
    """Sign-in links per hour (docs/decisions.md, "Sign-in rate limits").

    ``per_address_and_source``: one source can spend only its own allowance for an
    address, never the address's own. ``per_address``: every source together, the ceiling
    that keeps a mailbox from being flooded. ``per_source``: every address together, from
    one source (an IPv4 address, or an IPv6 /64); the deployment's
    ``MICROMOMENTS_SIGN_IN_PER_SOURCE_PER_HOUR``, high enough for an office behind one NAT.
    Refused requests count against nothing.
    """

    per_address_and_source: int = 5
    per_address: int = 20
    per_source: int = DEFAULT_PER_SOURCE_PER_HOUR


@dataclass(frozen=True, slots=True)
class LinkRequest:
    """What became of a request for a link (the page says the same in every case but
    ``invalid``, which depends only on what was typed)."""

    sent: bool
    reason: str  # sent | invalid | not_allowed | rate_limited (for logs and metrics)
    problem: str = ""  # why an ``invalid`` address is refused, for the page


def request_link(
    store: Store,
    mailer: Mailer,
    *,
    address: str,
    source: str,
    now: datetime,
    base_url: str,
    sender: str,
    master_key: bytes,
    limits: SignInLimits | None = None,
) -> LinkRequest:
    """Email a sign-in link to ``address`` if it may have one."""
    limits = limits or SignInLimits()
    try:
        email = canonical_address(address)
    except DomainError as exc:
        return LinkRequest(False, "invalid", str(exc))
    settings = org_settings(store)
    if not settings.allows(email):
        return LinkRequest(False, "not_allowed")
    key = address_hash_key(master_key)
    origin = source_network(source)
    counters = (
        (keyed_hash(key, "sign-in/source", origin), limits.per_source),
        (keyed_hash(key, "sign-in/address+source", email, origin), limits.per_address_and_source),
        (keyed_hash(key, "sign-in/address", email), limits.per_address),
    )
    window = now.strftime("%Y-%m-%dT%H")
    # Refused requests count against nothing: check every counter before taking any.
    if any(store.rate_count(counter, window) >= limit for counter, limit in counters):
        return LinkRequest(False, "rate_limited")
    expires = now + timedelta(hours=2)
    for counter, limit in counters:
        if not store.take(counter, window, expires, limit):
            return LinkRequest(False, "rate_limited")  # filled meanwhile by another request
    secret = secrets.token_urlsafe(32)
    store.create_sign_in_token(
        SignInToken(secret_hash(secret), email, now + SIGN_IN_TOKEN_LIFETIME)
    )
    known = store.get_person(email) is not None
    links = personal_links(store, email, master_key, now, record=known)
    link = sign_in_url(base_url, secret)
    mailer.send(sign_in_message(email, link, sender, leave=opt_out_url(base_url, links.opt_out)))
    return LinkRequest(True, "sent")


def source_network(source: str) -> str:
    """What the per-source limits count by: an IPv4 address, or the /64 of an IPv6 address
    (one host has a whole /64 to pick from); anything unreadable as itself."""
    try:
        ip = ipaddress.ip_address(source.strip())
    except ValueError:
        return source.strip().lower()[:64] or "unknown"
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


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
