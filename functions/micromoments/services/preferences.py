"""Use cases behind the opt-in site: opt in with preferences, change them, clear the
don't-pair list, opt out, delete my data (the links in emails: `services.links`).

The web function never talks to Google: these write the Store and enqueue work (a first
scan on opt-in, the removal scan on opt-out). Changes apply from the next scan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from micromoments.domain.access import Session, never_pair_key, pseudonym_key
from micromoments.domain.errors import DomainError
from micromoments.domain.grants import GoogleAccessMode
from micromoments.domain.people import Person, PersonStatus, Preferences, pseudonym
from micromoments.domain.preference_changes import confirmations
from micromoments.domain.preference_form import FormResult, form_values, read_form
from micromoments.domain.scan_request import ScanReason, ScanRequest
from micromoments.ports import ScanQueue, Store, StoreError
from micromoments.services import people as people_service
from micromoments.services.org import org_settings


class ChangeRefused(DomainError):
    """The change cannot be made now (e.g. the data is being erased); nothing changed."""


class SignedOut(ChangeRefused):
    """The session ended while the change was under way (the person left, or signed out
    everywhere); nothing changed."""


@dataclass(frozen=True, slots=True)
class Saved:
    result: FormResult
    person: Person | None
    opted_in: bool = False  # this save opted the person in (a first scan was queued)
    changes: tuple[str, ...] = ()  # what the save changed, in sentences (`preference_changes`)


@dataclass(frozen=True, slots=True)
class OrgDefaults:
    """The organisation's settings a person's preferences fall back on, as shown."""

    holds_per_week: int
    working_hours: str
    timezone: str


@dataclass(frozen=True, slots=True)
class PreferencesView:
    """What the preferences page shows of a person: their status (``new`` before they opt
    in), their preferences as the form's values (`form_values`), the organisation's
    defaults, and the time zone read from their calendar."""

    status: str
    values: dict[str, Any]
    org: OrgDefaults
    calendar_zone: str
    google_access: str = GoogleAccessMode.DELEGATION.value  # oauth|both: the Connect button


def preferences_view(store: Store, email: str) -> PreferencesView:
    settings = org_settings(store)
    person = store.get_person(email)
    preferences = person.preferences if person else Preferences()
    return PreferencesView(
        status=person.status.value if person else "new",
        values=form_values(preferences, settings.working_hours),
        org=OrgDefaults(
            holds_per_week=settings.holds_per_week,
            working_hours=str(settings.working_hours),
            timezone=settings.timezone,
        ),
        calendar_zone=(person.timezone if person else None) or f"not read yet: {settings.timezone}",
        google_access=settings.google_access.value,
    )


def save(
    store: Store,
    queue: ScanQueue,
    *,
    email: str,
    form: Mapping[str, Sequence[str]],
    master_key: bytes,
    now: datetime,
    session: Session | None = None,
) -> Saved:
    """Validate the form; if it is valid, store the preferences, opting the person in when
    they are not (and queueing their first scan). An invalid form stores nothing.

    With the ``session`` the change comes from: it is checked again after the profile is
    read, so a save racing an opt-out (which ends the sessions before it writes the
    status) either finds the session ended or writes on the status of before, and loses.
    """
    settings = org_settings(store)
    person = store.get_person(email)
    if session is not None and not store.session_current(session):
        raise SignedOut("you were signed out meanwhile; sign in again")
    current = person.preferences if person else Preferences()
    result = read_form(form, current, allowed_domains=settings.allowed_domains)
    if result.preferences is None:
        return Saved(result, person)
    chosen = _rekeyed_never_pair(store, result.preferences, master_key)
    if result.dont_pair_addresses:
        own = {email}
        chosen = chosen.with_dont_pair(
            never_pair_key(master_key), [a for a in result.dont_pair_addresses if a not in own]
        )
    opted_in = False
    if settings.google_access is GoogleAccessMode.OAUTH and (
        person is None or person.status is not PersonStatus.ACTIVE
    ):  # in with one's own Google grant only (docs/google-access.md)
        raise ChangeRefused("connect your Google Calendar first, with the button above.")
    before = person
    if person is None:
        person = people_service.admit(settings, people_service.NewPerson(email=email))
        person = person.model_copy(update={"preferences": chosen})
        if not store.create_person(person):
            raise ChangeRefused("your profile was created meanwhile; please try again")
        opted_in = True
    else:
        if store.erasure_requested(email):
            raise ChangeRefused("your data is being deleted; sign in again once it is gone")
        status = person.status
        if status in (PersonStatus.OPTED_OUT, PersonStatus.LEAVING, PersonStatus.SUSPENDED):
            status, opted_in = PersonStatus.ACTIVE, True
        updated = person.model_copy(update={"preferences": chosen, "status": status})
        if not store.update_person(updated, expected_status=person.status):
            raise ChangeRefused("your profile changed meanwhile; please try again")
        person = updated
    # The unsubscribe link of the weekly email names the person by this alias.
    store.put_aliases({pseudonym(pseudonym_key(master_key), email): email})
    if opted_in:
        queue.send([ScanRequest(email, ScanReason.OPT_IN)])
        return Saved(result, person, opted_in)
    if _plans_differ(chosen, current):
        # Push brings calendar changes, not these: the scan replans now rather than at the
        # person's next morning scan (docs/decisions.md "The quick path").
        queue.send([ScanRequest(email, ScanReason.PREFERENCES)])
    assert before is not None  # not opted in now: the person was there and active
    changes = confirmations(
        before.preferences,
        person.preferences,
        hours=(before.hours(settings.working_hours), person.hours(settings.working_hours)),
        zones=(before.zone(settings), person.zone(settings)),
        holds=store.holds(email) if _plans_differ(chosen, current) else (),
        now=now,
    )
    return Saved(result, person, opted_in, tuple(changes))


def _plans_differ(chosen: Preferences, current: Preferences) -> bool:
    """Whether the change reaches the person's holds (the weekly email and the never-pair
    list do not: the digest and the weekly pairing read them when they run)."""
    unplanned = {"weekly_email": current.weekly_email, "dont_pair": current.dont_pair}
    return chosen.model_copy(update=unplanned) != current


def _rekeyed_never_pair(store: Store, chosen: Preferences, master_key: bytes) -> Preferences:
    """Entries stored before the never-pair list had a key of its own are alias pseudonyms,
    which an alias item resolves: each such entry is rewritten under the never-pair key."""
    if not chosen.dont_pair:
        return chosen
    key = never_pair_key(master_key)
    entries = set()
    for entry in chosen.dont_pair:
        address = store.address_of(entry)
        entries.add(pseudonym(key, address) if address else entry)
    return chosen.model_copy(update={"dont_pair": frozenset(entries)})


def clear_dont_pair(store: Store, email: str) -> Person | None:
    person = store.get_person(email)
    if person is None or not person.preferences.dont_pair:
        return person
    cleared = person.preferences.model_copy(update={"dont_pair": frozenset()})
    updated = person.model_copy(update={"preferences": cleared})
    if not store.update_person(updated, expected_status=person.status):
        raise ChangeRefused("your profile changed meanwhile; please try again")
    return updated


def leave(store: Store, queue: ScanQueue, *, email: str, now: datetime) -> Person | None:
    """``leaving``, and the removal scan queued; every session ends either way (someone
    never in has nothing else to undo)."""
    if store.get_person(email) is None:
        store.end_sessions(email)
        return None
    person = people_service.start_leaving(store, email, now=now)
    if person.status is PersonStatus.LEAVING:
        queue.send([ScanRequest(email, ScanReason.OPT_OUT)])
    return person


def delete_my_data(
    store: Store, queue: ScanQueue, *, email: str, master_key: bytes, now: datetime
) -> bool:
    """Opt out and erase everything once the holds are gone. True only when nothing is
    stored under the address any more: someone who never opted in still leaves sign-in
    tokens, sessions and pointers, and those go at once."""
    if store.get_person(email) is None:
        if store.erase_address(email):
            return True
        if store.get_person(email) is None:
            raise StoreError("items keep appearing under this address; try again")
        # a profile appeared meanwhile (a save from another session): delete it too
    erased = people_service.delete_person(store, email, master_key=master_key, now=now)
    if not erased:
        queue.send([ScanRequest(email, ScanReason.OPT_OUT)])
    return erased
