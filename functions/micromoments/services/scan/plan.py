"""Scan steps "day loads" and "plan": the mirror over the analysis window, then the shared
events this person organises, then their own days (reconcile).

The shared events go first, so the personal planner sees them where they will stand after
this scan; both outcomes are merged into one `Reconciliation` (shared writes first).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from micromoments.domain.access import pseudonym_key
from micromoments.domain.calendar import CalendarEvent
from micromoments.domain.holds import Hold, HoldKind, HoldStatus
from micromoments.domain.mirror import MirrorEvent
from micromoments.domain.pairing_records import unmet
from micromoments.domain.people import Person, PersonStatus, pseudonym
from micromoments.domain.planner import iso_week, week_start
from micromoments.domain.reconcile import Reconciliation, analysis_window, reconcile
from micromoments.domain.settings import OrgSettings
from micromoments.domain.shared import reconcile_shared
from micromoments.ports import Store
from micromoments.services.scan.members import Expander, read_members


@dataclass(frozen=True, slots=True)
class Plan:
    """What this scan means to do: the writes and records (``outcome``, with the day
    loads), and the addresses behind the guests' pseudonyms that the writes need."""

    outcome: Reconciliation
    addresses: dict[str, str]


def window_events(
    person: Person,
    settings: OrgSettings,
    mirror: Sequence[MirrorEvent],
    now: datetime,
    expand: Expander,
) -> list[CalendarEvent]:
    """The mirror expanded over the analysis window, in the person's zone: what the day
    loads and the plan are computed from."""
    tz = person.zone(settings)
    first, days = analysis_window(now, tz.key, settings.planning_weeks)
    start = datetime.combine(first, time(), tz)
    return expand(mirror, start, start + timedelta(days=days + 1))


def plan(
    person: Person,
    settings: OrgSettings,
    store: Store,
    mirror: Sequence[MirrorEvent],
    events: Sequence[CalendarEvent],
    now: datetime,
    expand: Expander,
    master_key: bytes | None = None,
) -> Plan:
    """Plan against the holds as stored now (after the journal of a dead scan is settled).

    With ``master_key`` (the person's pseudonym in the rounds), the room kept for shared
    moments a paired week's round did not give the person is given back (`paired_weeks`).
    """
    email = person.email
    remote = {m.hold_id: m for m in mirror if m.hold_id}
    leaving = person.status is PersonStatus.LEAVING
    stored = store.holds(email)
    members, addresses = read_members(person, settings, store, stored, events, now, expand)
    shared = reconcile_shared(
        stored, organiser=email, remote=remote, members=members, now=now, leaving=leaving
    )
    after: dict[str, Hold] = {h.id: h for h in stored}
    after.update((h.id, h) for h in shared.records)
    after.update((w.hold.id, w.hold) for w in shared.writes)
    organised = {h.id for h in after.values() if h.shared}
    placed_shared = [
        h.occurrence()
        for h in after.values()
        if h.shared and h.status in (HoldStatus.PLACED, HoldStatus.MOVED, HoldStatus.ADOPTED)
    ]
    personal = reconcile(
        person,
        settings,
        now=now,
        events=[e for e in events if e.hold_id not in organised] + placed_shared,
        remote_holds=remote,
        stored=list(after.values()),
        leaving=leaving,
        unmet=paired_weeks(person, settings, store, now, master_key),
    )
    outcome = dataclasses.replace(
        personal,
        writes=shared.writes + personal.writes,
        records=shared.records + personal.records,
    )
    return Plan(outcome=outcome, addresses=addresses)


def paired_weeks(
    person: Person,
    settings: OrgSettings,
    store: Store,
    now: datetime,
    master_key: bytes | None,
) -> dict[tuple[int, int], frozenset[HoldKind]]:
    """For each planning week after this one whose pairing round is made, the shared kinds
    it gave the person no moment of (`pairing.unmet`). One read a week; none without the
    key (nothing is given back then)."""
    if master_key is None:
        return {}
    member = pseudonym(pseudonym_key(master_key), person.email)
    monday = week_start(now.astimezone(person.zone(settings)).date())
    out: dict[tuple[int, int], frozenset[HoldKind]] = {}
    for ahead in range(1, settings.planning_weeks):
        year, week = iso_week(monday + timedelta(weeks=ahead))
        pairing_round = store.get_round(f"{year}-W{week:02d}")
        if pairing_round is not None:
            out[(year, week)] = unmet(pairing_round, member)
    return out
