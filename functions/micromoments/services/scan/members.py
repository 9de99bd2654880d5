"""The organiser's scan reading the members of the shared events it keeps.

The rules (which events, which day, who is dropped, each member's view) are pure and live
beside the shared-event rules in `domain/shared.py`; this module only does the reading:
the members' profiles by pseudonym, and their mirrors and holds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from micromoments.domain.calendar import CalendarEvent
from micromoments.domain.holds import Hold
from micromoments.domain.mirror import MirrorEvent
from micromoments.domain.people import Person
from micromoments.domain.settings import OrgSettings
from micromoments.domain.shared import (
    Members,
    dropped,
    event_day,
    events_ahead,
    member_window,
    view_of,
)
from micromoments.ports import Store

Expander = Callable[[Sequence[MirrorEvent], datetime, datetime], list[CalendarEvent]]


def read_members(
    organiser: Person,
    settings: OrgSettings,
    store: Store,
    stored: Sequence[Hold],
    events: Sequence[CalendarEvent],
    now: datetime,
    expand: Expander,
) -> tuple[dict[str, Members], dict[str, str]]:
    """What the organiser's scan needs of the members of each shared event still ahead:
    who is still opted in, and their day as the slot search sees it, from their mirrors;
    and the addresses behind the active members' pseudonyms, for the writes."""
    tz = organiser.zone(settings)
    found: dict[str, Person | None] = {}
    calendars: dict[str, tuple[list[MirrorEvent], list[Hold]]] = {}
    addresses: dict[str, str] = {}
    out: dict[str, Members] = {}
    for hold in events_ahead(stored, now):
        day = event_day(hold, tz)
        views = {organiser.email: view_of(organiser, settings, events, stored, hold=hold, day=day)}
        for alias in hold.attendees:
            if alias not in found:
                address = store.address_of(alias)
                found[alias] = store.get_person(address) if address else None
            member = found[alias]
            if member is None or dropped(member):
                continue  # erased, or no longer opted in: dropped from the event
            addresses[alias] = member.email
            if alias not in calendars:
                calendars[alias] = (store.mirror(member.email), store.holds(member.email))
            mirror, holds = calendars[alias]
            lo, hi = member_window(day)
            views[alias] = view_of(
                member, settings, expand(mirror, lo, hi), holds, hold=hold, day=day
            )
        out[hold.id] = Members(
            views=views, active=frozenset(addresses) & set(hold.attendees), day=day
        )
    return out, addresses
