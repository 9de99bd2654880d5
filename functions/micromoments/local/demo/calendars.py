"""The org's calendars as the demo sees them, whichever server holds them: one small
facade (`OrgCalendars`) with the few things the demo does to calendars (seed the org, list
a mailbox's live events, delete a hold as its person would, answer an invitation, count
the server's writes and requests), on the Calendar API server (`google_calendars`) or the
Graph server (`graph_calendars`). An event is seen as a `SeenEvent`: our tags, kinds,
times and addresses, never titles.

`holds_on_calendar` and `shared_copies` are what the summary and the care outcomes count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from micromoments.domain.holds import HoldKind

if TYPE_CHECKING:
    from micromoments.local.runtime import LocalRuntime
    from micromoments.local.synthetic import SyntheticOrg

SHARED_KINDS = (HoldKind.COFFEE.value, HoldKind.WATERCOOLER.value)


@dataclass(frozen=True, slots=True)
class SeenEvent:
    """One live event of a mailbox, as the demo needs it.

    ``ours``: one of our holds that this mailbox organises (a shared event's copies on its
    attendees' calendars are not holds of theirs). ``shared_kind``: coffee or watercooler
    for one of our shared events (the organiser's or an attendee's copy), and
    ``hold_id`` the hold our tags name. ``attendees``: every attendee's address as the
    server holds it, with ``responses`` their answers in the same order.
    ``declined_here``: the mailbox's person declined it."""

    event_id: str
    start: datetime | None
    end: datetime | None
    organiser: str | None
    organised_here: bool
    ours: bool
    hold_id: str | None
    shared_kind: str | None
    attendees: tuple[str, ...]
    responses: tuple[str | None, ...]
    declined_here: bool

    @property
    def times(self) -> tuple[datetime, datetime] | None:
        if self.start is None or self.end is None:
            return None
        return self.start, self.end

    def attendees_besides(self, address: str) -> list[str]:
        """The attendees other than ``address``, lowercase."""
        from micromoments.domain.calendar import same_address

        return [a.strip().lower() for a in self.attendees if a and not same_address(a, address)]

    def response_of(self, address: str) -> str | None:
        """The answer of the first attendee with this address (None: not an attendee)."""
        for attendee, response in zip(self.attendees, self.responses, strict=True):
            if attendee.lower() == address.lower():
                return response
        return None


@dataclass(frozen=True, slots=True)
class Tally:
    """The server's counters: writes received, API requests and token round trips."""

    writes: int
    requests: int
    oauth_round_trips: int


class OrgCalendars(Protocol):
    """What the demo does to the org's calendars, on one server."""

    provider: str  # the org's calendar_provider: google or microsoft
    server_name: str  # "Calendar API", "Graph API"
    requests_name: str  # how the progress lines name the API requests

    @property
    def url(self) -> str: ...

    def seed_org(self, org: SyntheticOrg) -> None: ...

    def live_events(self, email: str) -> list[SeenEvent]:
        """The mailbox's live events (cancelled ones left out), attendee copies included."""
        ...

    def delete_hold(self, email: str, hold_id: str) -> bool:
        """The person deletes the hold's event from their calendar; False if not there."""
        ...

    def respond(self, guest: str, event: SeenEvent, response: str) -> bool:
        """``guest`` answers the organiser's shared ``event``; False when ``guest`` has no
        copy of it to answer."""
        ...

    def tally(self) -> Tally: ...


def org_calendars(runtime: LocalRuntime) -> OrgCalendars:
    """The facade on the runtime's calendar server."""
    if runtime.provider == "microsoft":
        from micromoments.local.demo.graph_calendars import GraphCalendars

        return GraphCalendars(runtime.graph)
    from micromoments.local.demo.google_calendars import GoogleCalendars

    return GoogleCalendars(runtime.calendar)


def holds_on_calendar(calendars: OrgCalendars, email: str, after: datetime | None = None) -> int:
    """Our events on this calendar that it organises; with ``after``, those ending later."""
    count = 0
    for event in calendars.live_events(email):
        if after is not None and (times := event.times) is not None and times[1] <= after:
            continue
        if event.ours:
            count += 1
    return count


def shared_copies(calendars: OrgCalendars, email: str) -> list[tuple[str, datetime, datetime]]:
    """The shared events on this calendar that someone else organises (live, not declined):
    kind, start and end."""
    copies: list[tuple[str, datetime, datetime]] = []
    for event in calendars.live_events(email):
        times = event.times
        if event.shared_kind is None or times is None or event.organised_here:
            continue
        if not event.declined_here:
            copies.append((event.shared_kind, *times))
    return copies


def shared_by_hold(events: Sequence[SeenEvent]) -> dict[str, SeenEvent]:
    """A mailbox's shared events of ours by the hold their tags name."""
    return {e.hold_id: e for e in events if e.shared_kind is not None and e.hold_id is not None}
