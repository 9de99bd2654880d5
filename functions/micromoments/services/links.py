"""Use case: the links in our emails that work without signing in (`domain.links`).

Every email we send carries a link to leave micromoments (opt out), and the weekly email
also its one-click unsubscribe: a person locked out of signing in (the rate limit, a
lost session) can always leave. Links name the person by their alias, resolved through
the alias item (erased with them), carry the generation of their links (bumped by an
erasure, `revoke_links`) and their issue time (good for 90 days).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from micromoments.domain.access import address_hash_key, keyed_hash, pseudonym_key
from micromoments.domain.links import (
    LINK_LIFETIME,
    LinkProblem,
    LinkPurpose,
    LinkToken,
    link_token,
    read_link_token,
)
from micromoments.domain.people import Person, PersonStatus, pseudonym
from micromoments.ports import ScanQueue, Store


@dataclass(frozen=True, slots=True)
class PersonalLinks:
    """The tokens of one email: stop the weekly email, and leave micromoments."""

    unsubscribe: str
    opt_out: str


@dataclass(frozen=True, slots=True)
class LinkCheck:
    """Whom a link is for (``person``), or why it does nothing (``problem``). The page of
    the link reads only ``found``, ``email``, ``out`` and ``problem``."""

    person: Person | None = None
    problem: LinkProblem | None = None

    @property
    def found(self) -> bool:
        """The link names someone micromoments keeps."""
        return self.person is not None

    @property
    def email(self) -> str:
        return self.person.email if self.person else ""

    @property
    def out(self) -> bool:
        """The person is already leaving or out: an opt-out link has nothing left to do."""
        return self.person is not None and is_out(self.person)


def _generation_key(master_key: bytes, email: str) -> str:
    return keyed_hash(address_hash_key(master_key), "links", email)


def personal_links(
    store: Store, email: str, master_key: bytes, now: datetime, *, record: bool
) -> PersonalLinks:
    """The link tokens of an email to ``email``, issued ``now``. With ``record`` the alias
    item they resolve through is written (idempotent); only for people micromoments keeps
    anyway: for anyone else the links resolve to nobody, which is the truth."""
    alias = pseudonym(pseudonym_key(master_key), email)
    if record:
        store.put_aliases({alias: email})
    generation = store.link_generation(_generation_key(master_key, email))

    def token(purpose: LinkPurpose) -> str:
        return link_token(master_key, purpose, alias, generation=generation, issued=now)

    return PersonalLinks(token(LinkPurpose.UNSUBSCRIBE), token(LinkPurpose.OPT_OUT))


def revoke_links(store: Store, email: str, master_key: bytes, now: datetime) -> None:
    """Every link mailed to ``email`` so far stops working (on erasure). The record that
    says so outlives the person by the links' lifetime, then goes: by then every link it
    refuses has expired anyway."""
    store.bump_link_generation(
        _generation_key(master_key, email), now, now + LINK_LIFETIME + timedelta(days=1)
    )


def check_link(
    store: Store, purpose: LinkPurpose, token: str, master_key: bytes, now: datetime
) -> LinkCheck:
    """The person a link of ``purpose`` acts for, or why it does not."""
    read = read_link_token(master_key, purpose, token, now)
    if not isinstance(read, LinkToken):
        return LinkCheck(problem=read)
    email = store.address_of(read.alias)
    if email is None:
        return LinkCheck(problem=LinkProblem.NOBODY)
    if read.generation < store.link_generation(_generation_key(master_key, email)):
        return LinkCheck(problem=LinkProblem.REVOKED)
    person = store.get_person(email)
    if person is None:
        return LinkCheck(problem=LinkProblem.NOBODY)
    return LinkCheck(person=person)


def unsubscribe(store: Store, token: str, master_key: bytes, now: datetime) -> LinkCheck:
    """Turn the weekly email off for the person the link names. Idempotent."""
    checked = check_link(store, LinkPurpose.UNSUBSCRIBE, token, master_key, now)
    person = checked.person
    if person is not None and person.preferences.weekly_email:
        quiet = person.preferences.model_copy(update={"weekly_email": False})
        store.update_person(person.model_copy(update={"preferences": quiet}))
    return checked


def is_out(person: Person) -> bool:
    """Already leaving or out: an opt-out link has nothing left to do."""
    return person.status in (PersonStatus.LEAVING, PersonStatus.OPTED_OUT)


def leave(
    store: Store, queue: ScanQueue, token: str, master_key: bytes, now: datetime
) -> LinkCheck:
    """Opt out the person the link names, as the site's "opt out" does: ``leaving``, and
    the scan that removes every future hold queued. Idempotent."""
    from micromoments.services.preferences import leave

    checked = check_link(store, LinkPurpose.OPT_OUT, token, master_key, now)
    if checked.person is not None and not is_out(checked.person):
        left = leave(store, queue, email=checked.person.email, now=now)
        return LinkCheck(person=left)
    return checked
