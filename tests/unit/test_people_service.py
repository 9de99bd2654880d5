"""People and org use cases on the in-memory Store (no network)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import partial

import pytest

from micromoments.adapters.memory import MemoryTable
from micromoments.adapters.table import TableStore
from micromoments.domain.access import derive_key
from micromoments.domain.errors import InvalidSetting
from micromoments.domain.holds import HoldKind, HoldStatus
from micromoments.domain.pairing import PairingHistoryEntry
from micromoments.domain.people import PersonStatus, pseudonym
from micromoments.domain.settings import OrgSettings
from micromoments.ports import PersonNotFound
from micromoments.services import org, people
from tests import builders

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
MASTER = b"m" * 32


@pytest.fixture
def table() -> MemoryTable:
    return MemoryTable()


@pytest.fixture
def store(table: MemoryTable) -> TableStore:
    store = TableStore(table)
    assert org.initialise_settings(store)
    org.change_settings(store, ["allowed_domains=example.com"])
    return store


def test_init_is_idempotent_and_keeps_changes(store: TableStore) -> None:
    assert not org.initialise_settings(store)
    assert org.current_settings(store).allowed_domains == ("example.com",)


def test_missing_settings_mean_defaults_to_the_use_cases_and_an_error_to_org_set(
    store: TableStore,
) -> None:
    empty = TableStore(MemoryTable())
    assert org.org_settings(empty) == OrgSettings()
    with pytest.raises(org.NotInitialised, match="micromoments init"):
        org.current_settings(empty)
    with pytest.raises(org.NotInitialised):
        org.change_settings(empty, ["paused=true"])
    assert empty.get_settings() is None
    assert org.org_settings(store).allowed_domains == ("example.com",)


def test_bad_org_set_changes_nothing(store: TableStore, table: MemoryTable) -> None:
    before = table.items()
    for bad in (["holds_per_week=3", "colour=blue"], ["holds_per_week"], ["paused=maybe"]):
        with pytest.raises(InvalidSetting):
            org.change_settings(store, bad)
    assert table.items() == before


def test_add_refuses_other_domains_and_duplicates(store: TableStore) -> None:
    person = people.add_person(store, people.NewPerson("Ana@Example.com", team="core"))
    assert person.email == "ana@example.com"
    assert person.status is PersonStatus.ACTIVE
    with pytest.raises(people.PersonRefused, match="already known"):
        people.add_person(store, people.NewPerson("ana@example.com"))
    with pytest.raises(people.PersonRefused, match="outside the org's allowed domains"):
        people.add_person(store, people.NewPerson("eve@evil.test"))
    with pytest.raises(people.PersonRefused, match="not an email address"):
        people.add_person(store, people.NewPerson("nobody"))
    assert [p.email for p in store.list_people()] == ["ana@example.com"]


def test_import_validates_every_row_before_writing(store: TableStore, table: MemoryTable) -> None:
    before = table.items()
    bad = "email,team,timezone\nbo@example.com,core,Europe/Berlin\ncy@example.com,core,Mars/X\n"
    with pytest.raises(people.PersonRefused, match="line 3"):
        people.import_people(store, people.read_people_csv(bad))
    assert table.items() == before
    good = (
        "email,team,timezone,working_hours\n"
        "bo@example.com,core,Europe/Berlin,Mon-Thu 08:00-16:00\n"
        "cy@example.com,web,,\n"
    )
    assert people.import_people(store, people.read_people_csv(good)) == (2, 0)
    assert people.import_people(store, people.read_people_csv(good)) == (0, 2)
    bo = people.find_person(store, "bo@example.com")
    assert str(bo.preferences.working_hours) == "Mon-Thu 08:00-16:00"
    with pytest.raises(people.PersonRefused, match="unknown CSV column 'phone'"):
        people.read_people_csv("email,phone\n")


_hold = partial(
    builders.hold, HoldKind.SOCIAL, hold_id="mmabcdef", hour=10, minutes=30, tz=UTC, busy=False
)


def test_optout_waits_for_future_holds(store: TableStore) -> None:
    people.add_person(store, people.NewPerson("ana@example.com"))
    store.put_hold("ana@example.com", _hold(date(2026, 11, 27), HoldStatus.PLACED))
    assert people.start_leaving(store, "ana@example.com", now=NOW).status is PersonStatus.LEAVING
    assert list(store.scannable_people()) == ["ana@example.com"]  # the removal scan finds her
    store.put_hold("ana@example.com", _hold(date(2026, 11, 27), HoldStatus.REMOVED))
    assert people.start_leaving(store, "ana@example.com", now=NOW).status is PersonStatus.OPTED_OUT
    assert list(store.scannable_people()) == []


def test_delete_erases_everything_once_opted_out(store: TableStore, table: MemoryTable) -> None:
    people.add_person(store, people.NewPerson("ana@example.com"))
    people.add_person(store, people.NewPerson("bo@example.com"))
    key = derive_key(MASTER, "pseudonym")
    ana, bo = pseudonym(key, "ana@example.com"), pseudonym(key, "bo@example.com")
    store.add_pairing_history([PairingHistoryEntry(ana, bo, "2026-W47")])
    store.put_hold("ana@example.com", _hold(date(2026, 11, 27), HoldStatus.PLACED))

    assert not people.delete_person(store, "ana@example.com", master_key=MASTER, now=NOW)
    assert store.erasure_requested("ana@example.com")
    assert people.find_person(store, "ana@example.com").status is PersonStatus.LEAVING

    # the removal scan took the hold away; the next step erases
    store.put_hold("ana@example.com", _hold(date(2026, 11, 27), HoldStatus.REMOVED))
    assert people.delete_person(store, "ana@example.com", master_key=MASTER, now=NOW)
    with pytest.raises(PersonNotFound):
        people.find_person(store, "ana@example.com")
    leftovers = [
        item for item in table.items() if "ana@example.com" in repr(item) or ana in repr(item)
    ]
    assert leftovers == []
    assert store.pairing_history(bo) == []
    assert [p.email for p in store.list_people()] == ["bo@example.com"]


# -- one identity per mailbox (domain.addresses) --------------------------------------------


def test_add_and_import_keep_one_identity_per_mailbox(
    store: TableStore, table: MemoryTable
) -> None:
    person = people.add_person(store, people.NewPerson(" Ana+Calendar@EXAMPLE.com "))
    assert person.email == "ana@example.com"
    for same in ("ana@example.com", "mailto:ANA+x@example.com", "ana@example.com."):
        with pytest.raises(people.PersonRefused, match="already known"):
            people.add_person(store, people.NewPerson(same))
    assert people.find_person(store, "Ana+other@Example.com").email == "ana@example.com"
    before = table.items()
    twice = "email,team\nbo@example.com,core\nBo+lists@example.com,core\n"
    with pytest.raises(people.PersonRefused, match=r"line 3: bo@example\.com .* appears twice"):
        people.import_people(store, people.read_people_csv(twice))
    assert table.items() == before
    assert people.import_people(store, people.read_people_csv("email\nCy+x@Example.com\n")) == (
        1,
        0,
    )
    assert [p.email for p in store.list_people()] == ["ana@example.com", "cy@example.com"]


@pytest.mark.parametrize(
    ("lookalike", "reason"),
    [
        ("\uff41na@example.com", "FULLWIDTH LATIN SMALL LETTER A"),  # ａna
        ("\u0430na@example.com", "CYRILLIC SMALL LETTER A"),  # аna
        ("\u212aim@example.com", "KELVIN SIGN"),  # Kim
        ("ana@ex\u0430mple.com", "mixes CYRILLIC and LATIN"),  # exаmple.com
        ("ana@example\uff0ecom", "FULLWIDTH FULL STOP"),
        ("an\u200ba@example.com", "ZERO WIDTH SPACE"),
    ],
)
def test_lookalike_addresses_are_refused_with_the_reason(
    store: TableStore, table: MemoryTable, lookalike: str, reason: str
) -> None:
    people.add_person(store, people.NewPerson("ana@example.com"))
    before = table.items()
    with pytest.raises(people.PersonRefused, match=reason):
        people.add_person(store, people.NewPerson(lookalike))
    with pytest.raises(people.PersonRefused, match=f"line 2: .*{reason}"):
        people.import_people(store, people.read_people_csv(f"email\n{lookalike}\n"))
    assert table.items() == before


def test_an_internationalised_domain_is_one_domain_in_either_form(store: TableStore) -> None:
    org.change_settings(store, ["allowed_domains=example.com,B\u00fccher.example"])
    assert org.current_settings(store).allowed_domains == ("example.com", "xn--bcher-kva.example")
    person = people.add_person(store, people.NewPerson("anna@b\u00fccher.example"))
    assert person.email == "anna@xn--bcher-kva.example"
    with pytest.raises(people.PersonRefused, match="already known"):
        people.add_person(store, people.NewPerson("Anna@XN--BCHER-KVA.example"))
