"""People's own Google grants, sealed (`SealedGrant`): one item under the person, so
erasure deletes it with the rest."""

from __future__ import annotations

import base64
from datetime import datetime

from micromoments.adapters.table.layout import PK, SK, Item, TableRecords, person_pk, when
from micromoments.domain.grants import SealedGrant

GRANT_SK = "GRANT"


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
