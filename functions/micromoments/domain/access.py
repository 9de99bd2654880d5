"""Sign-in tokens and sessions of the opt-in site. Only hashes of secrets are stored.

Expiry is checked here, in code; the table's TTL only cleans up (DESIGN.md "State":
sign-in tokens 15 minutes, sessions 7 days at most and 8 hours idle).
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


def secret_hash(secret: str) -> str:
    """What is stored instead of a token or session id (SHA-256, hex)."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class SignInToken:
    token_hash: str
    email: str
    expires_at: datetime
    used: bool = False

    def valid_at(self, now: datetime) -> bool:
        return not self.used and now < self.expires_at


@dataclass(frozen=True, slots=True)
class Session:
    session_hash: str
    email: str
    created_at: datetime
    last_seen_at: datetime

    @property
    def expires_at(self) -> datetime:
        return min(self.created_at + SESSION_LIFETIME, self.last_seen_at + SESSION_IDLE)

    def valid_at(self, now: datetime) -> bool:
        return now < self.expires_at
