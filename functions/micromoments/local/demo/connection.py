"""The week's coffee chats and team drop-ins: the round the pair handler saved, read back
from the Store, with each group's hold and its events on the calendars (`calendars`)."""

from __future__ import annotations

from collections import Counter
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from micromoments.domain.calendar import zone
from micromoments.domain.holds import HoldKind
from micromoments.local.demo.calendars import SHARED_KINDS, SeenEvent, org_calendars, shared_by_hold
from micromoments.local.runtime import LocalRuntime

if TYPE_CHECKING:
    from micromoments.adapters.table import TableStore
    from micromoments.local.synthetic import SyntheticOrg


@dataclass(frozen=True, slots=True)
class Chat:
    """One coffee group or team drop-in of the round, as the page lists it: the demo's
    synthetic addresses (organiser first), the slot in the organiser's zone, the status of
    the organiser's hold and what the calendars hold. Never a title."""

    kind: str
    members: tuple[str, ...]
    zone: str
    start: datetime | None
    end: datetime | None
    status: str
    on_calendar: bool  # the organiser's event is there, live
    copies: int  # attendees whose calendars hold a live copy
    team: str | None = None
    team_size: int = 0  # watercooler: the team's people


@dataclass
class Connection:
    """The pairing round as the Store and the calendars hold it after the runs."""

    iso_week: str
    monday: date | None
    chats: list[Chat] = field(default_factory=list)
    unpaired: dict[str, int] = field(default_factory=dict)
    coffee_people: int = 0
    events: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SHARED_KINDS, 0))
    copies: int = 0
    copies_missing: int = 0
    handler: dict[str, Any] = field(default_factory=dict)

    def groups(self, kind: str) -> list[Chat]:
        return [chat for chat in self.chats if chat.kind == kind]

    def to_json(self) -> dict[str, Any]:
        coffee = self.groups(HoldKind.COFFEE.value)
        sizes = Counter(len(chat.members) for chat in coffee)
        on_calendars = sum(len(chat.members) for chat in coffee if chat.on_calendar)
        statuses = Counter(chat.status for chat in self.chats)
        return {
            "iso_week": self.iso_week,
            "coffee_people": self.coffee_people,
            "pairs": sizes[2],
            "trios": sizes[3],
            "unpaired": dict(sorted(self.unpaired.items())),
            "watercoolers": len(self.groups(HoldKind.WATERCOOLER.value)),
            "coffee_events_on_calendars": self.events[HoldKind.COFFEE.value],
            "watercooler_events_on_calendars": self.events[HoldKind.WATERCOOLER.value],
            "attendee_copies": self.copies,
            "attendee_copies_missing": self.copies_missing,
            "statuses": dict(sorted(statuses.items())),
            "paired_share": round(on_calendars / self.coffee_people, 2)
            if self.coffee_people
            else 0.0,
            "reported_by_handler": {
                key: self.handler[key]
                for key in (
                    "pairs",
                    "trios",
                    "watercoolers",
                    "planned",
                    "organisers_queued",
                    "given_back_queued",
                )
                if key in self.handler
            },
        }


def read_connection(
    org: SyntheticOrg, runtime: LocalRuntime, store: TableStore, answer: dict[str, Any]
) -> Connection:
    """The round the pair handler saved, read back from the Store, with each group's hold
    and its events on the calendars; and the shared events on every calendar."""
    from micromoments import wiring
    from micromoments.domain.access import pseudonym_key
    from micromoments.domain.people import pseudonym
    from micromoments.services.pair import shared_hold

    settings = store.get_settings() or org.settings
    label = str(answer.get("iso_week") or "")
    connection = Connection(label, None, handler=answer)
    org_events = org_calendars(runtime)
    # each calendar's shared events of ours, by the hold their tags name (a copy on an
    # attendee's calendar names its organiser's hold)
    calendars = {
        p.email.lower(): shared_by_hold(org_events.live_events(p.email)) for p in org.people
    }

    # Every shared event of the round's week organised on a calendar (the demo's simulated
    # week before it holds the last round's), and its copies on the attendees'.
    for email, events in calendars.items():
        for event in events.values():
            kind = event.shared_kind
            if kind is None or event.hold_id is None or not event.organised_here:
                continue
            if label and not _in_week(event, label):
                continue
            connection.events[kind] += 1
            for attendee in event.attendees_besides(email):
                copy = calendars.get(attendee, {}).get(event.hold_id)
                if copy is not None and copy.shared_kind == kind:
                    connection.copies += 1
                else:
                    connection.copies_missing += 1

    pairing_round = store.get_round(label) if label else None
    key = wiring.master_key()
    if pairing_round is None or key is None:
        return connection
    with suppress(ValueError):
        year, week = label.split("-W")
        connection.monday = date.fromisocalendar(int(year), int(week), 1)
    people = {p.email: store.get_person(p.email) or p.person for p in org.people}
    alias_key = pseudonym_key(key)
    by_pseudonym = {pseudonym(alias_key, email): person for email, person in people.items()}
    team_sizes = Counter(person.team for person in people.values() if person.team)
    for group in pairing_round.groups:
        members = tuple(
            by_pseudonym[m].email if m in by_pseudonym else "(left)" for m in group.members
        )
        if group.kind is HoldKind.COFFEE:
            connection.coffee_people += len(group.members)
            if group.start is None:
                reason = group.reason or "unknown"
                connection.unpaired[reason] = connection.unpaired.get(reason, 0) + len(members)
                continue
        organiser = by_pseudonym.get(group.members[0])
        hold = shared_hold(group, label, by_pseudonym, settings)
        tz = organiser.zone(settings) if organiser else zone(settings.timezone)
        start, end = group.start, group.end
        status, on_calendar, copies = "not planned", False, 0
        if organiser is not None and hold is not None:
            stored = {h.id: h for h in store.holds(organiser.email)}.get(hold.id)
            status = stored.status.value if stored else "not recorded"
            if stored is not None:  # where it stands now (a moved chat has moved)
                start, end = stored.start, stored.end
            on_calendar = hold.id in calendars.get(organiser.email.lower(), {})
            copies = sum(  # the guests, by address (the hold names them by pseudonym)
                1 for guest in members[1:] if hold.id in calendars.get(guest.lower(), {})
            )
        connection.chats.append(
            Chat(
                kind=group.kind.value,
                members=members,
                zone=tz.key,
                start=start.astimezone(tz) if start else None,
                end=end.astimezone(tz) if end else None,
                status=status,
                on_calendar=on_calendar,
                copies=copies,
                team=group.team,
                team_size=team_sizes[group.team] if group.team else 0,
            )
        )
    connection.chats.sort(
        key=lambda c: (c.kind != "coffee", c.start or datetime.max.replace(tzinfo=UTC), c.members)
    )
    return connection


def _in_week(event: SeenEvent, label: str) -> bool:
    """Whether the event starts in ISO week ``label`` (``2026-W49``), on its own clock."""
    times = event.times
    if times is None:
        return False
    year, week, _ = times[0].date().isocalendar()
    return f"{year}-W{week:02d}" == label
