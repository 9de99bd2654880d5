"""The org settings and people: profiles, the member list, scannable people, erasure."""

from __future__ import annotations

from collections.abc import Iterator

from micromoments.adapters.table.items import (
    item_to_person,
    person_to_item,
    pointer_targets,
)
from micromoments.adapters.table.layout import (
    OPTIMISTIC_TRIES,
    ORG_PK,
    PK,
    POINTER_KINDS,
    SCAN_INDEX_SK,
    SCAN_PARTITION,
    SK,
    Cond,
    ConditionFailed,
    CondKind,
    TableRecords,
    person_pk,
)
from micromoments.domain.people import Person, PersonStatus
from micromoments.domain.settings import OrgSettings
from micromoments.ports import PersonNotFound, StoreError


class PeopleRecords(TableRecords):
    """The org settings and people."""

    # the org
    def get_settings(self) -> OrgSettings | None:
        item = self.table.get(ORG_PK, "SETTINGS")
        return None if item is None else OrgSettings.from_item(item["settings"])

    def create_settings(self, settings: OrgSettings) -> bool:
        return self._create({PK: ORG_PK, SK: "SETTINGS", "settings": settings.to_item()})

    def put_settings(self, settings: OrgSettings) -> None:
        self.table.put({PK: ORG_PK, SK: "SETTINGS", "settings": settings.to_item()})

    # people
    def create_person(self, person: Person) -> bool:
        created = self._create(person_to_item(person))
        # the org's member list (what `list_people` reads); written again on a retry
        self.table.put({PK: ORG_PK, SK: f"MEMBER#{person.email}", "email": person.email})
        return created

    def get_person(self, email: str) -> Person | None:
        item = self.table.get(person_pk(email), "PROFILE")
        return None if item is None else item_to_person(item)

    def update_person(self, person: Person, *, expected_status: PersonStatus | None = None) -> bool:
        key = person_pk(person.email)
        for _ in range(OPTIMISTIC_TRIES):
            current = self.table.get(key, "PROFILE")
            if current is None:
                raise PersonNotFound(f"no person {person.email!r}")
            if expected_status is not None and current["status"] != expected_status.value:
                return False
            flag = bool(current.get("erase_requested"))
            item = person_to_item(person, erase_requested=flag)
            seen = {"status": current["status"], "erase_requested": flag}
            try:
                self.table.put(item, condition=Cond(CondKind.MATCHES, value=seen))
            except ConditionFailed:
                continue  # changed between read and write: read again
            return True
        raise StoreError(f"{person.email} keeps changing; try again")

    def list_people(self) -> Iterator[Person]:
        for item in self.table.query(ORG_PK, "MEMBER#"):
            person = self.get_person(item["email"])
            if person is not None:
                yield person

    def scannable_people(self) -> Iterator[str]:
        for item in self.table.query_index(SCAN_PARTITION):
            yield str(item[SCAN_INDEX_SK])

    def request_erasure(self, email: str) -> None:
        for _ in range(OPTIMISTIC_TRIES):
            item = self.table.get(person_pk(email), "PROFILE")
            if item is None:
                raise PersonNotFound(f"no person {email!r}")
            seen = {"status": item["status"], "erase_requested": bool(item["erase_requested"])}
            item["erase_requested"] = True
            try:
                self.table.put(item, condition=Cond(CondKind.MATCHES, value=seen))
            except ConditionFailed:
                continue
            return
        raise StoreError(f"{email} keeps changing; try again")

    def erasure_requested(self, email: str) -> bool:
        item = self.table.get(person_pk(email), "PROFILE")
        return bool(item and item.get("erase_requested"))

    def erase_person(self, email: str) -> int:
        person = self.get_person(email)
        if person is None:
            return 0
        if person.status is not PersonStatus.OPTED_OUT:
            raise StoreError(
                f"{email} is {person.status.value}: data is erased only once opted out"
            )
        keys = [(item[PK], item[SK]) for item in self.table.query(person_pk(email))]
        keys.append((ORG_PK, f"MEMBER#{email}"))
        # sign-in tokens and sessions live under their own keys; the person keeps pointers
        for _, sk in list(keys):
            kind, _, secret = sk.partition("#")
            if kind in POINTER_KINDS and secret:
                keys.append((sk, kind))
        # the profile last, so an interrupted erasure is still visible and can be retried
        keys.sort(key=lambda key: key[1] == "PROFILE")
        self.table.batch_delete(keys[:-1])
        self.table.delete(*keys[-1])
        return len(keys)

    def erase_address(self, email: str) -> bool:
        """What an address without a profile left behind: sign-in tokens, sessions and
        alias items with their pointers, the sign-in generation, a stale member entry.
        Read again until nothing is left (True); False, deleting nothing, when a profile
        exists (or keeps appearing): erasing a person goes through `erase_person`."""
        extra = [(ORG_PK, f"MEMBER#{email}")]
        for _ in range(OPTIMISTIC_TRIES):
            items = list(self.table.query(person_pk(email)))
            if any(item[SK] == "PROFILE" for item in items):
                return False
            keys = [(str(item[PK]), str(item[SK])) for item in items]
            keys = pointer_targets(keys) + keys + extra
            if not keys:
                return True
            self.table.batch_delete(keys)
            extra = []
        return False
