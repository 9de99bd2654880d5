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


ADDRESS_HASH_PURPOSE = "address-hash"


def address_hash_key(master: bytes) -> bytes:
    """The key of every hash of an address (or of a request's source) that is stored or
    logged: rate-limit counters, link generations, log fields. Unkeyed, such a hash of a
    guessable address is as good as the address; keyed, it says nothing without the key."""
    return derive_key(master, ADDRESS_HASH_PURPOSE)


def keyed_hash(key: bytes, kind: str, *values: str) -> str:
    """HMAC-SHA256 (under `address_hash_key`) of what ``kind`` names, 32 hex digits.
    ``kind`` keeps the hashes of different uses apart."""
    message = "\x1f".join((kind, *values))
    return hmac.new(key, message.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()[
        :32
    ]


def person_ref(master: bytes, email: str) -> str:
    """What a log line may carry to tell people apart: a keyed hash, 16 hex digits."""
    return keyed_hash(address_hash_key(master), "log", email)[:16]


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


# -- form tokens (CSRF); the tokens of emailed links are in `domain.links` -------------------

CSRF_PURPOSE = "csrf"
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


def _same(expected: str, given: str) -> bool:
    """Constant-time comparison that also takes text no token of ours could be."""
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogateescape"))
