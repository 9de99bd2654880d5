"""Coffee pairing: rounds stored in parts, pairing history, pseudonym aliases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import TypeVar

from micromoments.adapters.table.layout import (
    ORG_PK,
    PAST_DAYS_RETENTION,
    PK,
    SK,
    TTL_ATTRIBUTE,
    Item,
    TableRecords,
    epoch,
    instant,
    person_pk,
    required_instant,
    when,
)
from micromoments.domain.holds import HoldKind
from micromoments.domain.pairing_records import PairingGroup, PairingHistoryEntry, PairingRound
from micromoments.ports import StoreError

T = TypeVar("T")

ROUND_PART_GROUPS = 400  # groups per item of a pairing round: well under 400 KB


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _group_to_item(group: PairingGroup) -> Item:
    item: Item = {"members": list(group.members), "kind": group.kind.value}
    optional = {
        "start": when(group.start),
        "end": when(group.end),
        "reason": group.reason,
        "team": group.team,
    }
    item.update({k: v for k, v in optional.items() if v is not None})
    return item


def _item_to_group(item: Item) -> PairingGroup:
    return PairingGroup(
        members=tuple(item["members"]),
        start=instant(item.get("start")),
        end=instant(item.get("end")),
        reason=item.get("reason"),
        kind=HoldKind(item.get("kind") or HoldKind.COFFEE.value),
        team=item.get("team"),
    )


class PairingRecords(TableRecords):
    """Coffee pairing rounds, history and aliases."""

    # coffee pairing
    def create_round(self, pairing_round: PairingRound) -> bool:
        """Save a round once: its groups go in parts of `ROUND_PART_GROUPS` (an org's round
        outgrows DynamoDB's 400 KB item), then a header naming the parts is created with a
        condition. The header is the commit point: a run that loses the race deletes its own
        parts, which no header names, and returns False."""
        week = pairing_round.iso_week
        run = uuid.uuid4().hex[:12]
        expires = epoch(pairing_round.created_at + PAST_DAYS_RETENTION)
        parts = [
            {
                PK: ORG_PK,
                SK: f"ROUND#{week}#{run}#{number:04d}",
                "groups": [_group_to_item(group) for group in chunk],
                TTL_ATTRIBUTE: expires,
            }
            for number, chunk in enumerate(_chunks(pairing_round.groups, ROUND_PART_GROUPS))
        ]
        self.table.batch_put(parts)
        header = {
            PK: ORG_PK,
            SK: f"ROUND#{week}",
            "iso_week": week,
            "status": pairing_round.status,
            "created_at": pairing_round.created_at.isoformat(),
            "run": run,
            "parts": len(parts),
            TTL_ATTRIBUTE: expires,
        }
        if self._create(header):
            return True
        self.table.batch_delete([(str(part[PK]), str(part[SK])) for part in parts])
        return False

    def get_round(self, iso_week: str) -> PairingRound | None:
        header = self.table.get(ORG_PK, f"ROUND#{iso_week}")
        if header is None:
            return None
        parts = list(self.table.query(ORG_PK, f"ROUND#{iso_week}#{header['run']}#"))
        if len(parts) != int(header["parts"]):
            raise StoreError(
                f"pairing round {iso_week}: {len(parts)} of {header['parts']} parts found"
            )
        return PairingRound(
            iso_week=header["iso_week"],
            status=header["status"],
            created_at=required_instant(header["created_at"]),
            groups=tuple(
                _item_to_group(group)
                for part in sorted(parts, key=lambda item: str(item[SK]))
                for group in part["groups"]
            ),
        )

    def add_pairing_history(self, entries: Sequence[PairingHistoryEntry]) -> None:
        items = []
        for entry in entries:
            for person, partner in ((entry.person, entry.partner), (entry.partner, entry.person)):
                items.append(
                    {
                        PK: f"PAIRS#{person}",
                        SK: f"{entry.iso_week}#{partner}",
                        "iso_week": entry.iso_week,
                        "kinds": list(entry.kinds),
                    }
                )
        self.table.batch_put(items)

    def pairing_history(self, pseudonym: str) -> list[PairingHistoryEntry]:
        return [
            PairingHistoryEntry(
                person=pseudonym,
                partner=item[SK].split("#", 1)[1],
                iso_week=item["iso_week"],
                kinds=tuple(item["kinds"]),
            )
            for item in self.table.query(f"PAIRS#{pseudonym}")
        ]

    def purge_pairing_history(self, pseudonym: str) -> int:
        """Remove a pseudonym from the pairing history (both directions)."""
        keys = []
        for item in self.table.query(f"PAIRS#{pseudonym}"):
            week, partner = item[SK].split("#", 1)
            keys.append((item[PK], item[SK]))
            keys.append((f"PAIRS#{partner}", f"{week}#{pseudonym}"))
        self.table.batch_delete(keys)
        return len(keys)

    def purge_pseudonym(self, pseudonym: str) -> int:
        """Remove a pseudonym from the history (both directions) and from every round."""
        removed = self.purge_pairing_history(pseudonym)
        rounds = 0
        for item in self.table.query(ORG_PK, "ROUND#"):
            groups = item.get("groups") or []  # the parts of a round hold its groups
            if any(pseudonym in group["members"] for group in groups):
                for group in groups:
                    group["members"] = [m for m in group["members"] if m != pseudonym]
                self.table.put(item)
                rounds += 1
        return removed + rounds

    def put_aliases(self, aliases: Mapping[str, str]) -> None:
        """``pseudonym -> address`` for the members of shared events: each item is its own
        person's (as a token is), with a pointer under them so erasure removes it."""
        items: list[Item] = []
        for alias, email in aliases.items():
            items.append({PK: f"ALIAS#{alias}", SK: "ALIAS", "email": email})
            items.append({PK: person_pk(email), SK: f"ALIAS#{alias}"})
        self.table.batch_put(items)

    def address_of(self, alias: str) -> str | None:
        item = self.table.get(f"ALIAS#{alias}", "ALIAS")
        return str(item["email"]) if item else None
