"""Use case: the weekly digest email.

The hourly dispatch (`dispatch_digests`) sends to the digest queue everyone opted in, with
the weekly email on, whose local time has reached the org's send time (default Friday
15:00) and who has no digest record for that ISO week yet (`due_people`). The worker
(`send_digest`) re-checks the person, claims the week with a conditional create, builds
the digest from the Store (day loads, holds, shared events in the mirror), sends it as one
raw MIME message, and marks the week sent.

At most once per person and week: a lost email is preferred over a duplicate. A failure
known to have sent nothing (the Store while gathering, the mailer refusing the message)
releases the claim so the queue's retry, or the next hourly dispatch, sends it; a crash
after SES accepted the message and before the week is marked leaves the record
``claimed``, and a redelivery or a later dispatch finds it and sends nothing more. A quiet
week (no meeting, no hold, no shared moment) gets no email: its record is marked sent so
it is not picked up again (docs/deploy.md, "The weekly digest").
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any

from micromoments.domain.access import pseudonym_key
from micromoments.domain.calendar import zone
from micromoments.domain.digest import Digest, build_digest, due_week, iso_label, monday_of
from micromoments.domain.digest_request import DigestRequest
from micromoments.domain.holds import HoldKind
from micromoments.domain.people import Person, PersonStatus, first_name, pseudonym
from micromoments.domain.settings import OrgSettings
from micromoments.ports import DigestQueue, Mailer, PersonNotFound, Store, StoreError
from micromoments.services.due_scans import send_in_batches
from micromoments.services.links import personal_links
from micromoments.services.org import org_settings

SHARED_KINDS = frozenset({HoldKind.COFFEE.value, HoldKind.WATERCOOLER.value})


# -- who is due --------------------------------------------------------------------------------


def person_zone(person: Person, settings: OrgSettings) -> tuple[str, tzinfo]:
    """The person's time zone (their choice, else Google's, else the org's)."""
    tz = person.zone(settings)
    return tz.key, tz


def _wants_email(person: Person | None) -> bool:
    if person is None or person.status is not PersonStatus.ACTIVE:
        return False
    return person.preferences.weekly_email


def _due(store: Store, email: str, settings: OrgSettings, now: datetime) -> str | None:
    person = store.get_person(email)
    if not _wants_email(person):
        return None
    assert person is not None
    _, tz = person_zone(person, settings)
    label = due_week(now, tz, settings.digest_weekday, settings.digest_minute)
    if label is None or store.get_digest(email, label) is not None:
        return None
    return label


def due_people(store: Store, now: datetime) -> Iterator[tuple[str, str]]:
    """``(email, ISO week)`` of every active person with the weekly email on whose local
    time has reached the org's send time this week, and who has no digest record for it
    (claimed or sent). The week is their local ISO week."""
    settings = org_settings(store)
    for email in store.scannable_people():
        label = _due(store, email, settings, now)
        if label is not None:
            yield email, label


@dataclass(frozen=True, slots=True)
class DigestDispatchReport:
    people_seen: int
    enqueued: int
    batches: int

    def to_json(self) -> dict[str, Any]:
        return {"people_seen": self.people_seen, "enqueued": self.enqueued, "batches": self.batches}


def dispatch_digests(store: Store, queue: DigestQueue, *, now: datetime) -> DigestDispatchReport:
    """The due people (`due_people`) to the digest queue, in batches of 10."""
    settings = org_settings(store)

    def request_for(email: str) -> DigestRequest | None:
        label = _due(store, email, settings, now)
        return None if label is None else DigestRequest(email, label)

    seen, enqueued, batches = send_in_batches(store.scannable_people(), request_for, queue.send)
    return DigestDispatchReport(people_seen=seen, enqueued=enqueued, batches=batches)


# -- one person's digest -----------------------------------------------------------------------


class SendOutcome(StrEnum):
    SENT = "sent"
    SKIPPED_NOT_OPTED_IN = "skipped_not_opted_in"  # unknown, leaving, opted out, suspended
    SKIPPED_EMAIL_OFF = "skipped_email_off"  # the person turned the weekly email off
    SKIPPED_QUIET = "skipped_quiet"  # nothing to report: no email, the week marked done
    ALREADY_CLAIMED = "already_claimed"  # sent, or being (or was, then crashed) sent


def gather_digest(
    store: Store,
    person: Person,
    settings: OrgSettings,
    label: str,
    now: datetime,
    master_key: bytes | None = None,
) -> Digest:
    """The person's digest of ISO week ``label`` from what the Store holds: day loads from
    the week before through the week after, their hold records, the shared events
    (coffee chats, drop-ins) in their mirror, organised by them or by someone else (a
    guest's copy carries the shared tags), and since when their calendar is observed.
    With ``master_key``, the first names of the week's coffee partners (`coffee_partners`)."""
    monday = monday_of(label)
    zone_name, _ = person_zone(person, settings)
    loads = store.day_loads(person.email, monday - timedelta(days=7), monday + timedelta(days=13))
    holds = store.holds(person.email)
    shared = [e for e in store.mirror(person.email) if e.hold_kind in SHARED_KINDS]
    sync = store.get_sync(person.email)
    return build_digest(
        person=person.email,
        timezone=zone_name,
        label=label,
        loads=loads,
        holds=holds,
        shared=shared,
        now=now,
        observed_since=sync.observed_since if sync else None,
        coffee_with=coffee_partners(store, person.email, label, master_key) if master_key else (),
    )


def coffee_partners(store: Store, email: str, label: str, master_key: bytes) -> list[str]:
    """The first names of ``email``'s coffee partners of week ``label``, from the week's
    pairing round (pseudonyms) and the Store's aliases; sorted. Nothing is stored: the
    names were on both calendars."""
    pairing_round = store.get_round(label)
    if pairing_round is None:
        return []
    key = pseudonym_key(master_key)
    me = pseudonym(key, email)
    names: list[str] = []
    for group in pairing_round.groups:
        if group.kind is not HoldKind.COFFEE or me not in group.members or group.start is None:
            continue
        for member in group.members:
            address = store.address_of(member) if member != me else None
            if address:
                names.append(first_name(address))
    return sorted(names)


def send_digest(
    store: Store,
    mailer: Mailer,
    *,
    email: str,
    label: str,
    now: datetime,
    master_key: bytes,
    base_url: str,
    sender: str,
) -> SendOutcome:
    """Send ``email``'s digest of ISO week ``label`` at most once (see the module's doc).

    Raises `MailError` when the mailer refused the message (the claim is released first,
    so a retry sends it); any other failure before the send releases it too."""
    from micromoments.email.digest import compose

    person = store.get_person(email)
    if person is None or person.status is not PersonStatus.ACTIVE:
        return SendOutcome.SKIPPED_NOT_OPTED_IN
    if not person.preferences.weekly_email:
        return SendOutcome.SKIPPED_EMAIL_OFF
    if not store.claim_digest(person.email, label, now):
        return SendOutcome.ALREADY_CLAIMED
    try:
        settings = org_settings(store)
        digest = gather_digest(store, person, settings, label, now, master_key)
        if digest.quiet:
            store.mark_digest_sent(person.email, label, now)
            return SendOutcome.SKIPPED_QUIET
        links = personal_links(store, person.email, master_key, now, record=True)
        message = compose(
            digest,
            to=person.email,
            sender=sender,
            base_url=base_url,
            unsubscribe=links.unsubscribe,
            opt_out=links.opt_out,
            now=now,
        )
        mailer.send(message)
    except Exception:
        with suppress(StoreError):  # the original error is what matters
            store.release_digest(person.email, label)  # nothing went out: may be retried
        raise
    # SES accepted it. Should this write fail (or the function die first), the record stays
    # claimed and nothing is sent again for this week.
    store.mark_digest_sent(person.email, label, now)
    return SendOutcome.SENT


def current_week(store: Store, email: str, now: datetime) -> str:
    """The ISO week ``now`` falls in, in the person's time zone."""
    person = store.get_person(email)
    settings = org_settings(store)
    if person is None:
        return iso_label(now.astimezone(zone(settings.timezone)).date())
    _, tz = person_zone(person, settings)
    return iso_label(now.astimezone(tz).date())


def preview(
    store: Store,
    email: str,
    label: str,
    *,
    now: datetime,
    base_url: str,
    master_key: bytes | None,
) -> str:
    """The HTML of ``email``'s digest of week ``label`` as it would be sent (quiet or not,
    opted in or not). Writes nothing: without a stored alias or a signing key the
    unsubscribe link in it does not work."""
    from micromoments.email.digest import render_html

    person = store.get_person(email)
    if person is None:
        raise PersonNotFound(f"no person {email!r}")
    settings = org_settings(store)
    digest = gather_digest(store, person, settings, label, now, master_key)
    if master_key:
        links = personal_links(store, person.email, master_key, now, record=False)
        return render_html(
            digest, base_url=base_url, unsubscribe=links.unsubscribe, opt_out=links.opt_out
        )
    return render_html(digest, base_url=base_url, unsubscribe="preview", opt_out="preview")
