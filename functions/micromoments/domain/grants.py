"""A person's own Google grant (per-person OAuth, docs/google-access.md): the refresh token
sealed with KMS envelope encryption, as the Store keeps it. Nothing here can open it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class GoogleAccessMode(StrEnum):
    """How the functions reach a person's calendar (org setting ``google_access``)."""

    DELEGATION = "delegation"
    OAUTH = "oauth"
    BOTH = "both"


@dataclass(frozen=True, slots=True)
class SealedGrant:
    """A refresh token encrypted with AES-256-GCM under a data key of its own; the data
    key is kept only encrypted by the KMS key (``encrypted_key``), bound to the person by
    the encryption context. ``ciphertext`` is the 12-byte nonce followed by the sealed
    token and its tag."""

    email: str
    key_id: str
    encrypted_key: bytes
    ciphertext: bytes
    scopes: tuple[str, ...]
    connected_at: datetime

    def __repr__(self) -> str:  # never print the sealed material either
        return f"SealedGrant(email={self.email!r}, key_id={self.key_id!r})"
