"""Use case: the weekly pairing (DESIGN.md "Flow": Scheduler (weekly) -> pair).

For the coming ISO week: coffee pairs (one group of three in an odd pool) among the people
who opted in to coffee chats, and one watercooler drop-in per team. Then each event is
recorded as a ``planned`` hold on its organiser, and the organisers are sent to the scan
queue: their scans create the events and keep them right from then on. The people the
round gave no moment they wanted are queued too: their scans give the room their week
kept for it back to their own social time.

The holds name their attendees by pseudonym; an alias item per member (their own, erased
with them) lets the organiser's scan find the address when it writes the event.

Safe to run again: the round (groups and slots) is saved with a conditional write before
any hold is recorded, so a rerun or a redelivery continues the same round instead of
making a new one; holds are recorded with conditional writes too, and pairing history
writes are idempotent. People appear in the round and the history only as pseudonyms:
the round's resolve through alias items (the scan needs the addresses); the history and the
never-pair lists have keys of their own (`domain.access`), which no stored item resolves.

Common slots come from freeBusy (many people a request) plus each person's holds from the
Store (freeBusy omits free events) and their day loads (unavailable and overloaded days).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from micromoments.domain.access import never_pair_key, pairing_history_key, pseudonym_key
from micromoments.domain.calendar import zone
from micromoments.domain.holds import STANDING, Hold, HoldKind, HoldStatus, shared_hold_id
from micromoments.domain.pairing import (
    PairingGroup,
    PairingHistoryEntry,
    PairingRound,
    SlotView,
    candidates,
    history_entries,
    history_weights,
    plan_round,
    slot_finder,
    slot_view,
    unmet,
)
from micromoments.domain.people import Person, PersonStatus, pseudonym
from micromoments.domain.planner import iso_week, week_start
from micromoments.domain.scan_request import ScanReason, ScanRequest
from micromoments.domain.settings import OrgSettings
from micromoments.domain.watercooler import DROP_IN_MINUTES, drop_in_slot
from micromoments.ports import CalendarGateway, ScanQueue, Store
from micromoments.services.due_scans import BATCH
from micromoments.services.org import org_settings
from micromoments.services.scan.quick import wake

FreeBusy = Callable[[Sequence[str], datetime, datetime], Mapping[str, Sequence[Any] | None]]


@dataclass(slots=True)
class PairReport:
    """What one pairing run did; counts only, never who was paired with whom."""

    iso_week: str
    continued: bool = False  # the round existed already (a rerun or a redelivery)
    coffee_people: int = 0
    pairs: int = 0
    trios: int = 0
    unpaired: dict[str, int] = field(default_factory=dict)  # reason -> people
    watercoolers: int = 0
    planned: int = 0  # holds recorded by this run
    organisers_queued: int = 0
    given_back_queued: int = 0  # left without a moment they wanted: room given back

    def to_json(self) -> dict[str, Any]:
        return {
            "iso_week": self.iso_week,
            "continued": self.continued,
            "coffee_people": self.coffee_people,
            "pairs": self.pairs,
            "trios": self.trios,
            "unpaired": dict(self.unpaired),
            "watercoolers": self.watercoolers,
            "planned": self.planned,
            "organisers_queued": self.organisers_queued,
            "given_back_queued": self.given_back_queued,
        }


def coming_week(now: datetime, settings: OrgSettings) -> date:
    """The Monday of the ISO week after ``now`` in the org's zone."""
    return week_start(now.astimezone(zone(settings.timezone)).date()) + timedelta(weeks=1)


def week_label(monday: date) -> str:
    year, week = iso_week(monday)
    return f"{year}-W{week:02d}"


def org_id(settings: OrgSettings) -> str:
    """What identifies the org in a shared event's id: its allowed domains."""
    return ",".join(sorted(settings.allowed_domains)) or "micromoments"


def pair_week(
    store: Store,
    calendar: CalendarGateway,
    *,
    now: datetime,
    master_key: bytes,
    queue: ScanQueue | None = None,
    monday: date | None = None,
) -> PairReport:
    """Pair the coming week (or the week of ``monday``), or continue its saved round."""
    settings = org_settings(store)
    monday = monday or coming_week(now, settings)
    label = week_label(monday)
    report = PairReport(iso_week=label)
    key = pseudonym_key(master_key)
    everyone = list(store.list_people())
    active = [p for p in everyone if p.status is PersonStatus.ACTIVE]
    by_pseudonym = {pseudonym(key, p.email): p for p in active}
    history_names = _history_names(everyone, master_key)

    pairing_round = store.get_round(label)
    if pairing_round is None:
        _move_old_history(store, history_names)
        planned = plan_week(
            store,
            active,
            settings,
            now=now,
            monday=monday,
            master_key=master_key,
            free_busy=calendar.free_busy,
        )
        if not store.create_round(planned):  # another run saved it first: continue that one
            planned = store.get_round(label) or planned
            report.continued = True
        pairing_round = planned
    else:
        report.continued = True
    store.add_pairing_history(_renamed(history_entries(_coffee_only(pairing_round)), history_names))
    _count(pairing_round, report)

    organisers: list[str] = []
    to_record: list[tuple[str, Hold]] = []
    for group in pairing_round.groups:
        hold = shared_hold(group, label, by_pseudonym, settings)
        if hold is not None:
            to_record.append((by_pseudonym[group.members[0]].email, hold))
    # The organisers' scans find their guests' addresses through these aliases.
    store.put_aliases(
        {alias: by_pseudonym[alias].email for _, hold in to_record for alias in hold.attendees}
    )
    for organiser, hold in to_record:
        if store.create_hold(organiser, hold):
            report.planned += 1
        organisers.append(organiser)
    for organiser in dict.fromkeys(organisers):
        wake(store, organiser)  # their calendar has not changed: no quick path
    # The room their week kept for a moment this round did not give them goes back to
    # their own social time at their next scan (`planner`): a full one, right away.
    given_back = [
        person.email
        for member, person in by_pseudonym.items()
        if person.email not in organisers
        and any(person.preferences.wants(kind) for kind in unmet(pairing_round, member))
    ]
    for email in given_back:
        wake(store, email)
    if queue is not None:
        requests = [ScanRequest(e, ScanReason.PAIRING) for e in dict.fromkeys(organisers)]
        requests += [ScanRequest(e, ScanReason.PAIRING) for e in given_back]
        for i in range(0, len(requests), BATCH):
            queue.send(requests[i : i + BATCH])
        report.organisers_queued = len(requests) - len(given_back)
        report.given_back_queued = len(given_back)
    return report


def plan_week(
    store: Store,
    people: Sequence[Person],
    settings: OrgSettings,
    *,
    now: datetime,
    monday: date,
    master_key: bytes,
    free_busy: FreeBusy,
) -> PairingRound:
    """The round for the week of ``monday``: coffee groups with their slots, the people
    left unpaired with the reason, and each team's drop-in."""
    org_tz = zone(settings.timezone)
    start = max(datetime.combine(monday, time(), org_tz), now)
    end = datetime.combine(monday + timedelta(weeks=1), time(), org_tz)
    within = (int(start.timestamp()), int(end.timestamp()))
    week = iso_week(monday)

    holds = {p.email: store.holds(p.email) for p in people}
    coffee_ok = [p for p in people if _room_for(p, HoldKind.COFFEE, holds[p.email], week, settings)]
    water_ok = [
        p
        for p in people
        if p.team and _room_for(p, HoldKind.WATERCOOLER, holds[p.email], week, settings)
    ]
    wanted = {p.email: p for p in [*coffee_ok, *water_ok]}
    busy = free_busy(list(wanted), start, end) if wanted and within[0] < within[1] else {}
    loads = {email: store.day_loads(email, monday, monday + timedelta(days=6)) for email in wanted}

    def view(person: Person, extra: Iterable[Hold] = (), minutes: int | None = None) -> SlotView:
        tz = person.zone(settings)
        intervals = busy.get(person.email) or ()
        days = loads.get(person.email, [])
        return slot_view(
            hours=person.hours(settings.working_hours),
            tz=tz,
            within=within,
            # freeBusy cannot tell a meeting from a solo block: all keep the clearance
            meetings=[(int(s.timestamp()), int(e.timestamp())) for s, e in intervals],
            holds=[*holds[person.email], *extra],
            unavailable_days=[d.date for d in days if not d.available]
            + _quiet_days(person, monday),
            overloaded_days=[d.date for d in days if d.overloaded],
            minutes=minutes or person.preferences.coffee_minutes,
        )

    key = pseudonym_key(master_key)
    coffee_pool = candidates(coffee_ok, key, never_pair_key(master_key))
    ids = {pseudonym(key, p.email): p for p in wanted.values()}
    to_history = _history_names(wanted.values(), master_key)
    from_history = {named: pid for pid, named in to_history.items()}
    # A failed freeBusy answer (None) leaves that person without a view: no slot, no pair.
    coffee_views = {
        c.id: view(ids[c.id]) for c in coffee_pool if busy.get(ids[c.id].email) is not None
    }
    history = history_weights(
        entry
        for c in coffee_pool
        for entry in _renamed(
            store.pairing_history(to_history[c.id]), from_history, keep_unknown=True
        )
    )
    outcome = plan_round(
        coffee_pool,
        settings.coffee_pool,
        history,
        slot_finder=slot_finder(coffee_views, within=within),
        seed=_seed(week_label(monday)),
    )
    groups: list[PairingGroup] = list(outcome.groups)
    groups += [PairingGroup((u.person,), reason=u.reason) for u in outcome.unpaired]

    # The drop-ins come second, around the coffee chats just planned.
    coffee_at: dict[str, list[Hold]] = {}
    for group in outcome.groups:
        for member in group.members:
            tz = ids[member].zone(settings)
            coffee_at.setdefault(member, []).append(_sketch(group, tz))
    teams: dict[str, list[str]] = {}
    for p in water_ok:
        pid = pseudonym(key, p.email)
        chats = len(coffee_at.get(pid, ()))
        if chats and not _room_for(p, HoldKind.WATERCOOLER, holds[p.email], week, settings, chats):
            continue  # the coffee chat just planned takes the week's last hold
        if busy.get(p.email) is not None and p.team:
            teams.setdefault(p.team, []).append(pid)
    for team in sorted(teams):
        views = {
            pid: view(ids[pid], coffee_at.get(pid, ()), DROP_IN_MINUTES) for pid in teams[team]
        }
        drop_in = drop_in_slot(views, within=within)
        if drop_in is not None:
            groups.append(
                PairingGroup(
                    drop_in.free,
                    drop_in.start,
                    drop_in.end,
                    kind=HoldKind.WATERCOOLER,
                    team=team,
                )
            )
    return PairingRound(iso_week=week_label(monday), groups=tuple(groups), created_at=now)


def shared_hold(
    group: PairingGroup,
    label: str,
    by_pseudonym: Mapping[str, Person],
    settings: OrgSettings,
) -> Hold | None:
    """The planned hold of a group with a slot, on its organiser (the first member); None
    when it has no slot or a member is no longer opted in."""
    if group.start is None or group.end is None or len(group.members) < 2:
        return None
    members = [by_pseudonym.get(m) for m in group.members]
    if any(m is None for m in members):
        return None
    organiser = members[0]
    assert organiser is not None
    tz = organiser.zone(settings)
    identity = group.team if group.kind is HoldKind.WATERCOOLER and group.team else None
    return Hold(
        id=shared_hold_id(org_id(settings), label, identity or "+".join(group.members), group.kind),
        kind=group.kind,
        start=group.start.astimezone(tz),
        end=group.end.astimezone(tz),
        busy=group.kind is HoldKind.COFFEE,  # watercoolers stay free
        day=group.start.astimezone(tz).date(),
        status=HoldStatus.PLANNED,
        attendees=tuple(sorted(group.members[1:])),  # pseudonyms, never addresses
    )


def _room_for(
    person: Person,
    kind: HoldKind,
    holds: Sequence[Hold],
    week: tuple[int, int],
    s: OrgSettings,
    planned: int = 0,
) -> bool:
    """Wants the kind, and that week's caps still have room for it (after ``planned``
    holds of this round: a coffee chat just planned for them)."""
    if not person.preferences.wants(kind):
        return False
    cap = s.coffee_per_week if kind is HoldKind.COFFEE else s.watercooler_per_week
    total_cap = s.holds_per_week
    if person.preferences.holds_per_week is not None:
        total_cap = min(total_cap, person.preferences.holds_per_week)
    live = [h for h in holds if h.status in STANDING and iso_week(h.day) == week]
    kinds = Counter(h.kind for h in live)
    return kinds[kind] < cap and len(live) + planned < total_cap


def _quiet_days(person: Person, monday: date) -> list[date]:
    quiet = person.preferences.quiet_days
    return [monday + timedelta(days=d) for d in range(7) if d in quiet]


def _sketch(group: PairingGroup, tz: tzinfo) -> Hold:
    """A coffee group's slot as a member's hold (``tz``: theirs), so the drop-in search
    steers around it and off its day."""
    assert group.start is not None and group.end is not None
    return Hold(
        id="planned",
        kind=HoldKind.COFFEE,
        start=group.start,
        end=group.end,
        busy=True,
        day=group.start.astimezone(tz).date(),
        status=HoldStatus.PLANNED,
    )


def _seed(label: str) -> int:
    return int.from_bytes(hashlib.sha256(label.encode()).digest()[:8], "big")


def _coffee_only(pairing_round: PairingRound) -> PairingRound:
    coffee = tuple(g for g in pairing_round.groups if g.kind is HoldKind.COFFEE)
    return PairingRound(pairing_round.iso_week, coffee, pairing_round.created_at)


def _count(pairing_round: PairingRound, report: PairReport) -> None:
    reasons: Counter[str] = Counter()
    for group in pairing_round.groups:
        if group.kind is HoldKind.WATERCOOLER:
            report.watercoolers += 1
        elif group.start is None:
            reasons[group.reason or "unknown"] += len(group.members)
            report.coffee_people += len(group.members)
        else:
            report.pairs += len(group.members) == 2
            report.trios += len(group.members) == 3
            report.coffee_people += len(group.members)
    report.unpaired = dict(sorted(reasons.items()))


# -- the pairing history's own pseudonyms ------------------------------------------------------


def _history_names(people: Iterable[Person], master_key: bytes) -> dict[str, str]:
    """Each person's round pseudonym -> their pseudonym in the pairing history."""
    key, history = pseudonym_key(master_key), pairing_history_key(master_key)
    return {pseudonym(key, p.email): pseudonym(history, p.email) for p in people}


def _renamed(
    entries: Iterable[PairingHistoryEntry], names: Mapping[str, str], *, keep_unknown: bool = False
) -> list[PairingHistoryEntry]:
    """The entries with both sides renamed through ``names``; an entry naming someone not
    in ``names`` is dropped (or, with ``keep_unknown``, keeps that side as it is)."""
    out = []
    for entry in entries:
        person, partner = names.get(entry.person), names.get(entry.partner)
        if keep_unknown:
            person, partner = person or entry.person, partner or entry.partner
        if person is not None and partner is not None:
            out.append(
                PairingHistoryEntry(person, partner, iso_week=entry.iso_week, kinds=entry.kinds)
            )
    return out


def _move_old_history(store: Store, history_names: Mapping[str, str]) -> None:
    """History stored before it had a key of its own (under the round's pseudonyms, which
    alias items resolve) moves to the history's pseudonyms; entries naming someone no
    longer stored are dropped. A no-op once moved: one Query a person a week."""
    for old in history_names:
        entries = store.pairing_history(old)
        if entries:
            store.add_pairing_history(_renamed(entries, history_names))
            store.purge_pairing_history(old)
