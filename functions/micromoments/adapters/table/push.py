"""Push channels (docs/decisions.md "Push notifications") and push-scan claims."""

from __future__ import annotations

from datetime import datetime, timedelta

from micromoments.adapters.table.layout import (
    PK,
    SK,
    TTL_ATTRIBUTE,
    ConditionFailed,
    Item,
    TableRecords,
    epoch,
    not_exists,
    person_pk,
    when,
)
from micromoments.domain.push import PushChannel


def _channel(channel_id: str, item: Item) -> PushChannel:
    return PushChannel(
        id=channel_id,
        person=str(item["person"]),
        resource_id=str(item["resource_id"]),
        token_hash=str(item["token_hash"]),
        expiration=datetime.fromisoformat(str(item["expiration"])),
    )


class PushRecords(TableRecords):
    """Push channels and push-scan claims."""

    # push channels (docs/decisions.md "Push notifications")
    def put_channel(self, channel: PushChannel) -> None:
        """The channel under its id (what a notification is checked against) and a copy
        under the person (their channels, and a pointer erasure follows)."""
        fields: Item = {
            "person": channel.person,
            "resource_id": channel.resource_id,
            "token_hash": channel.token_hash,
            "expiration": when(channel.expiration),
            TTL_ATTRIBUTE: epoch(channel.expiration + timedelta(days=1)),
        }
        self.table.batch_put(
            [
                {PK: f"CHANNEL#{channel.id}", SK: "CHANNEL", **fields},
                {PK: person_pk(channel.person), SK: f"CHANNEL#{channel.id}", **fields},
            ]
        )

    def get_channel(self, channel_id: str) -> PushChannel | None:
        item = self.table.get(f"CHANNEL#{channel_id}", "CHANNEL")
        return _channel(channel_id, item) if item else None

    def channels(self, email: str) -> list[PushChannel]:
        return [
            _channel(str(item[SK]).removeprefix("CHANNEL#"), item)
            for item in self.table.query(person_pk(email), "CHANNEL#")
        ]

    def delete_channel(self, channel: PushChannel) -> None:
        self.table.batch_delete(
            [
                (f"CHANNEL#{channel.id}", "CHANNEL"),
                (person_pk(channel.person), f"CHANNEL#{channel.id}"),
            ]
        )

    def claim_push_scan(self, email: str, window: str, expires_at: datetime) -> bool:
        item: Item = {
            PK: person_pk(email),
            SK: f"PUSH#{window}",
            TTL_ATTRIBUTE: epoch(expires_at),
        }
        try:
            self.table.put(item, condition=not_exists())
        except ConditionFailed:
            return False
        return True

    def release_push_scan(self, email: str, window: str) -> None:
        self.table.delete(person_pk(email), f"PUSH#{window}")
