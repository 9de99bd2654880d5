"""Use cases for people: add (opt in), import, opt out, delete.

Opting out sets status ``leaving``; the scan removes future holds and then sets
``opted_out``. A person with no future hold, no pending write and no scan running can be
``opted_out`` at once (`finish_opt_out`). Data is erased only once ``opted_out``
(DESIGN.md "Flow").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError

from micromoments.domain.access import pairing_history_key, pseudonym_key
from micromoments.domain.addresses import canonical_address
from micromoments.domain.errors import DomainError
from micromoments.domain.holds import UPCOMING
from micromoments.domain.people import Person, PersonStatus, Preferences, pseudonym
from micromoments.domain.settings import OrgSettings, explain
from micromoments.domain.working_hours import WorkingHours
from micromoments.ports import PersonNotFound, Store
from micromoments.services.org import current_settings

IMPORT_COLUMNS = ("email", "team", "timezone", "working_hours")


class PersonRefused(DomainError):
    """The person cannot be added (domain not allowed, bad value, already there)."""


@dataclass(frozen=True, slots=True)
class NewPerson:
    email: str
    team: str | None = None
    timezone: str | None = None
    working_hours: WorkingHours | None = None


def admit(settings: OrgSettings, candidate: NewPerson) -> Person:
    """The person to store, or `PersonRefused` naming why. The address is stored in its
    canonical form (`canonical_address`): one person per mailbox."""
    try:
        email = canonical_address(candidate.email)
        preferences = Preferences(
            timezone=candidate.timezone, working_hours=candidate.working_hours
        )
        person = Person(
            email=email,
            team=candidate.team or None,
            preferences=preferences,
        )
    except ValidationError as exc:
        raise PersonRefused(explain(exc)) from None
    except DomainError as exc:
        raise PersonRefused(str(exc)) from None
    if not settings.allowed_domains:
        raise PersonRefused(
            "the org allows no email domain yet: "
            "run `micromoments org set allowed_domains=example.com`"
        )
    if not settings.allows(person.email):
        allowed = ", ".join(settings.allowed_domains)
        raise PersonRefused(f"{person.email} is outside the org's allowed domains ({allowed})")
    return person


def add_person(store: Store, candidate: NewPerson) -> Person:
    person = admit(current_settings(store), candidate)
    if not store.create_person(person):
        raise PersonRefused(f"{person.email} is already known")
    return person


def read_people_csv(text: str) -> list[NewPerson]:
    """Rows of a CSV with a header naming some of ``email,team,timezone,working_hours``."""
    reader = csv.DictReader(io.StringIO(text))
    fields = [name.strip() for name in reader.fieldnames or []]
    if "email" not in fields:
        raise PersonRefused("the CSV needs a header row with an 'email' column")
    unknown = sorted(set(fields) - set(IMPORT_COLUMNS))
    if unknown:
        raise PersonRefused(
            f"unknown CSV column {unknown[0]!r}; known: {', '.join(IMPORT_COLUMNS)}"
        )
    people = []
    for row in reader:
        values = {key.strip(): (value or "").strip() for key, value in row.items() if key}
        line = reader.line_num
        try:
            hours = values.get("working_hours")
            people.append(
                NewPerson(
                    email=values.get("email", ""),
                    team=values.get("team") or None,
                    timezone=values.get("timezone") or None,
                    working_hours=WorkingHours.parse(hours) if hours else None,
                )
            )
        except DomainError as exc:
            raise PersonRefused(f"line {line}: {exc}") from None
    return people


def import_people(store: Store, candidates: Iterable[NewPerson]) -> tuple[int, int]:
    """Validate every row first; then add the new ones. Returns (added, already known)."""
    settings = current_settings(store)
    people: list[Person] = []
    seen: set[str] = set()
    for number, candidate in enumerate(candidates, start=2):
        try:
            person = admit(settings, candidate)
        except PersonRefused as exc:
            raise PersonRefused(f"line {number}: {exc}") from None
        if person.email in seen:
            spelled = candidate.email.strip()
            written = f" (written {spelled!r})" if spelled.lower() != person.email else ""
            raise PersonRefused(f"line {number}: {person.email}{written} appears twice")
        seen.add(person.email)
        people.append(person)
    added = sum(1 for person in people if store.create_person(person))
    return added, len(people) - added


def find_person(store: Store, email: str) -> Person:
    try:
        canonical = canonical_address(email)
    except DomainError as exc:
        raise PersonNotFound(f"no person {email!r}: {exc}") from None
    person = store.get_person(canonical)
    if person is None:
        raise PersonNotFound(f"no person {email!r}: add them with `micromoments people add`")
    return person


def start_leaving(store: Store, email: str, *, now: datetime) -> Person:
    """Status ``leaving`` (future holds go with the next scan), or ``opted_out`` at once
    when nothing of ours can remain on the calendar. Every session of the person ends
    first: a change that read the profile after this status write finds its session
    ended (`preferences.save` checks), so no session of before can opt them back in."""
    person = find_person(store, email)
    store.end_sessions(person.email)
    if person.status in (PersonStatus.ACTIVE, PersonStatus.SUSPENDED, PersonStatus.NEEDS_RECONNECT):
        leaving = person.model_copy(update={"status": PersonStatus.LEAVING})
        if not store.update_person(leaving, expected_status=person.status):
            raise PersonRefused(f"{person.email} changed meanwhile; try again")
        person = leaving
    return finish_opt_out(store, person, now=now)


def ready_to_opt_out(store: Store, person: Person, *, now: datetime) -> bool:
    """Whether a ``leaving`` person has no future hold, pending write or push channel."""
    if person.status is not PersonStatus.LEAVING:
        return False
    future = [h for h in store.holds(person.email) if h.status in UPCOMING and h.end > now]
    return not (future or store.pending_journal(person.email) or store.channels(person.email))


def finish_opt_out(store: Store, person: Person, *, now: datetime) -> Person:
    """``leaving`` -> ``opted_out`` once no future hold, no pending write and no push
    channel remain (the removal scan stops channels: only it may call Google)."""
    if not ready_to_opt_out(store, person, now=now):
        return person
    done = person.model_copy(update={"status": PersonStatus.OPTED_OUT})
    return done if store.update_person(done, expected_status=PersonStatus.LEAVING) else person


def delete_person(store: Store, email: str, *, master_key: bytes, now: datetime) -> bool:
    """Mark for erasure and opt out; erase at once if ``opted_out``. True when erased."""
    person = find_person(store, email)
    store.request_erasure(person.email)
    person = start_leaving(store, person.email, now=now)
    return erase_if_requested(store, person, master_key=master_key, now=now)


def erase_if_requested(store: Store, person: Person, *, master_key: bytes, now: datetime) -> bool:
    """Erase an ``opted_out`` person who asked for it, pairing pseudonyms included; every
    link mailed to them stops working first. True only when nothing is left under the
    address (a sign-in started meanwhile is swept)."""
    from micromoments.services.links import revoke_links

    if person.status is not PersonStatus.OPTED_OUT or not store.erasure_requested(person.email):
        return False
    revoke_links(store, person.email, master_key, now)
    # rounds name people by their alias pseudonym (as did the history, once); the history
    # has its own
    store.purge_pseudonym(pseudonym(pseudonym_key(master_key), person.email))
    store.purge_pairing_history(pseudonym(pairing_history_key(master_key), person.email))
    store.erase_person(person.email)
    return store.erase_address(person.email)
