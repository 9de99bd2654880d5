"""Sign-in tokens and sessions of the opt-in site. Only hashes of secrets are stored.

Expiry is checked here, in code; the table's TTL only cleans up (DESIGN.md "State":
sign-in tokens 15 minutes, sessions 7 days at most and 8 hours idle).

Every token and session also carries the address's sign-in *generation*: a random value
stored once per address. It is valid only while that generation is the current one, so
leaving (opt out, delete) and "sign out everywhere" end every session and every unused
link of the address with one write (docs/decisions.md "Sign out everywhere").
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

SIGN_IN_TOKEN_LIFETIME = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(days=7)
SESSION_IDLE = timedelta(hours=8)


def derive_key(master: bytes, purpose: str) -> bytes:
    """A key for one purpose (pseudonyms, sessions, unsubscribe links) from the master key."""
    return hmac.new(master, f"micromoments/{purpose}".encode(), hashlib.sha256).digest()


def pseudonym_key(master: bytes) -> bytes:
    """The key of the pseudonyms that alias items resolve to addresses (aliases, the
    members of a pairing round, a shared hold's attendees, unsubscribe links)."""
    return derive_key(master, "pseudonym")


def never_pair_key(master: bytes) -> bytes:
    """The key of the never-pair lists' pseudonyms: no stored item maps them to anyone."""
    return derive_key(master, "never-pair")


def pairing_history_key(master: bytes) -> bytes:
    """The key of the pairing history's pseudonyms: no stored item maps them to anyone."""
    return derive_key(master, "pairing-history")


def secret_hash(secret: str) -> str:
    """What is stored instead of a token or session id (SHA-256, hex)."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class SignInToken:
    token_hash: str
    email: str
    expires_at: datetime
    used: bool = False
    generation: str = ""  # the address's sign-in generation when issued (the Store sets it)

    def valid_at(self, now: datetime) -> bool:
        return not self.used and now < self.expires_at


@dataclass(frozen=True, slots=True)
class Session:
    session_hash: str
    email: str
    created_at: datetime
    last_seen_at: datetime
    generation: str  # that of the sign-in token it was made from

    @property
    def expires_at(self) -> datetime:
        return min(self.created_at + SESSION_LIFETIME, self.last_seen_at + SESSION_IDLE)

    def valid_at(self, now: datetime) -> bool:
        return now < self.expires_at


# -- form tokens (CSRF) and purpose-scoped link tokens ---------------------------------------

CSRF_PURPOSE = "csrf"
UNSUBSCRIBE_PURPOSE = "unsubscribe"
SESSION_COOKIE = "__Host-mm_session"
BROWSER_COOKIE = "__Host-mm_browser"  # binds the forms shown before sign-in (double submit)


def _mac(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def form_token(master: bytes, binding: str) -> str:
    """The CSRF token of every state-changing form: an HMAC of what the form is bound to
    (the session's hash once signed in; the browser cookie before)."""
    return _mac(derive_key(master, CSRF_PURPOSE), binding)


def form_token_ok(master: bytes, binding: str, token: str) -> bool:
    return bool(binding) and _same(form_token(master, binding), token)


def unsubscribe_token(master: bytes, alias: str) -> str:
    """The one-click unsubscribe token of a person (by pseudonym): good for that one
    purpose only, never for signing in."""
    return f"{alias}.{_mac(derive_key(master, UNSUBSCRIBE_PURPOSE), alias)}"


def read_unsubscribe_token(master: bytes, token: str) -> str | None:
    """The pseudonym an unsubscribe token names, or None when it is not genuine."""
    alias, dot, mac = token.partition(".")
    if not dot or not alias or len(token) > 300:
        return None
    expected = _mac(derive_key(master, UNSUBSCRIBE_PURPOSE), alias)
    return alias if _same(expected, mac) else None


def _same(expected: str, given: str) -> bool:
    """Constant-time comparison that also takes text no token of ours could be."""
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogateescape"))
