"""People's own Google grants, sealed (`SealedGrant`): one item under the person, so
erasure deletes it with the rest."""

from __future__ import annotations

import base64
from datetime import datetime

from micromoments.adapters.table.layout import (
    PK,
    SK,
    TTL_ATTRIBUTE,
    ConditionFailed,
    Item,
    TableRecords,
    epoch,
    exists,
    not_exists,
    person_pk,
    when,
)
from micromoments.domain.grants import SealedGrant

GRANT_SK = "GRANT"
CONNECT_SK = "CONNECT"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class GrantRecords(TableRecords):
    """The sealed refresh token of a person who connected their own calendar."""

    def put_grant(self, grant: SealedGrant) -> None:
        item: Item = {
            PK: person_pk(grant.email),
            SK: GRANT_SK,
            "key_id": grant.key_id,
            "encrypted_key": _b64(grant.encrypted_key),
            "ciphertext": _b64(grant.ciphertext),
            "scopes": list(grant.scopes),
            "connected_at": when(grant.connected_at),
        }
        self.table.put(item)

    def get_grant(self, email: str) -> SealedGrant | None:
        item = self.table.get(person_pk(email), GRANT_SK)
        if item is None:
            return None
        return SealedGrant(
            email=email.strip().lower(),
            key_id=str(item["key_id"]),
            encrypted_key=base64.b64decode(str(item["encrypted_key"])),
            ciphertext=base64.b64decode(str(item["ciphertext"])),
            scopes=tuple(str(s) for s in item.get("scopes") or ()),
            connected_at=datetime.fromisoformat(str(item["connected_at"])),
        )

    def delete_grant(self, email: str) -> None:
        self.table.delete(person_pk(email), GRANT_SK)

    # connect attempts: the OAuth state, bound to the session that started it, used once
    def create_connect_attempt(self, state_hash: str, session_hash: str, expires: datetime) -> bool:
        item: Item = {
            PK: f"CONNECT#{state_hash}",
            SK: CONNECT_SK,
            "session": session_hash,
            "until": when(expires),
            TTL_ATTRIBUTE: epoch(expires),
        }
        try:
            self.table.put(item, condition=not_exists())
        except ConditionFailed:
            return False
        return True

    def take_connect_attempt(self, state_hash: str) -> tuple[str, datetime] | None:
        """The session hash and expiry of an attempt, deleting it: a second take (a replayed
        state) finds nothing."""
        item = self.table.get(f"CONNECT#{state_hash}", CONNECT_SK)
        if item is None:
            return None
        try:
            self.table.delete(f"CONNECT#{state_hash}", CONNECT_SK, condition=exists())
        except ConditionFailed:
            return None
        return str(item["session"]), datetime.fromisoformat(str(item["until"]))
