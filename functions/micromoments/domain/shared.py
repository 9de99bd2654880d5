"""Shared events (coffee chats, watercoolers) as their organiser's scan keeps them right.

A shared hold is recorded on its organiser only, with the other members as ``attendees``
(DESIGN.md "Holds"). Only the organiser's scan changes it, for all members: it reads their
mirrors (as `SlotView` per member, built by the scan), and

- places a ``planned`` one (the weekly pairing saved it) where the round put it, or at
  another common free slot that day when the calendars changed since, or not at all;
- records it ``dismissed`` when the organiser deleted it, ``adopted`` when they moved or
  edited it (never changed again), ``kept`` once its time passed;
- cancels it for everyone, as ``declined``, when every other member declined (nobody is
  invited again that week: the round is fixed and the id is spent);
- drops a member who is no longer active from the guest list, and cancels the event when
  nobody else is left;
- moves it to another common free slot that day, or cancels it, when a member's new
  meeting lands on it. A watercooler stays while at least two members are free at it,
  and otherwise moves to the slot most members are free that day. A moved coffee chat
  goes to the common free slot of that day nearest its old time.

Pure: the scan service does the I/O around it (`services/scan/members.py` reads the
members' mirrors; the rules of who still takes part and which day is searched are here).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

from micromoments.domain.calendar import CalendarEvent, EventKind
from micromoments.domain.coffee_slots import SlotView, slot_view
from micromoments.domain.day_load import schedule_days
from micromoments.domain.free_slots import Availability, common_free_slots, fit
from micromoments.domain.holds import (
    ON_CALENDAR,
    SHARED_KINDS,
    SOCIAL_KINDS,
    Hold,
    HoldKind,
    HoldStatus,
)
from micromoments.domain.intervals import Interval
from micromoments.domain.journal import WriteOp
from micromoments.domain.mirror import MirrorEvent
from micromoments.domain.people import Person, PersonStatus
from micromoments.domain.reconcile import Write
from micromoments.domain.settings import OrgSettings
from micromoments.domain.watercooler import MIN_FREE, drop_in_slot
from micromoments.domain.working_hours import WorkingHours, local_instant


@dataclass(frozen=True, slots=True)
class SharedOutcome:
    writes: list[Write] = field(default_factory=list)
    records: list[Hold] = field(default_factory=list)  # status changes without a write


@dataclass(frozen=True, slots=True)
class Members:
    """What the organiser's scan knows of one shared event's members.

    ``views``: each member's day as the slot search sees it (`coffee_slots.SlotView`, the event
    itself lifted off), keyed as the hold names them (attendees by pseudonym, the organiser
    by address); ``active``: the attendees who are still opted in (status active).
    """

    views: Mapping[str, SlotView]
    active: frozenset[str]
    day: Interval  # the organiser's local day of the event, epoch seconds


def reconcile_shared(
    holds: Sequence[Hold],
    *,
    organiser: str,
    remote: Mapping[str, MirrorEvent],
    members: Mapping[str, Members],
    now: datetime,
    leaving: bool = False,
) -> SharedOutcome:
    """The writes and status changes for the shared holds ``organiser`` organises.

    ``holds``: their stored records (other kinds are ignored); ``remote``: our events on
    the organiser's calendar by hold id; ``members``: by hold id, for every planned or live
    hold still ahead.
    """
    out = SharedOutcome()
    for hold in holds:
        if hold.kind not in SHARED_KINDS:
            continue
        if hold.status is HoldStatus.PLANNED:
            _place(hold, organiser, members.get(hold.id), now, leaving, out)
        elif hold.status in ON_CALENDAR:
            _keep_right(
                hold, organiser, remote.get(hold.id), members.get(hold.id), now, leaving, out
            )
    return out


def _place(
    hold: Hold,
    organiser: str,
    known: Members | None,
    now: datetime,
    leaving: bool,
    out: SharedOutcome,
) -> None:
    if leaving or hold.start <= now or known is None:
        out.records.append(dataclasses.replace(hold, status=HoldStatus.REMOVED))
        return
    guests = tuple(a for a in hold.attendees if a in known.active)
    if not guests:
        out.records.append(dataclasses.replace(hold, status=HoldStatus.REMOVED))
        return
    hold = dataclasses.replace(hold, attendees=guests)
    placed = _where(hold, organiser, known, now)
    if placed is None:
        out.records.append(dataclasses.replace(hold, status=HoldStatus.REMOVED))
    else:
        out.writes.append(Write(WriteOp.INSERT, _at(placed, hold, HoldStatus.PLACED)))


def _keep_right(
    hold: Hold,
    organiser: str,
    remote: MirrorEvent | None,
    known: Members | None,
    now: datetime,
    leaving: bool,
    out: SharedOutcome,
) -> None:
    if remote is None or remote.cancelled:
        out.records.append(dataclasses.replace(hold, status=HoldStatus.DISMISSED))
        return
    if hold.status is not HoldStatus.ADOPTED and _edited(hold, remote):
        start = remote.start if isinstance(remote.start, datetime) else hold.start
        end = remote.end if isinstance(remote.end, datetime) else hold.end
        out.records.append(
            dataclasses.replace(
                hold, status=HoldStatus.ADOPTED, start=start, end=end, etag=remote.etag
            )
        )
        return
    if hold.end <= now:
        if hold.status is not HoldStatus.ADOPTED:
            out.records.append(dataclasses.replace(hold, status=HoldStatus.KEPT))
        return
    if leaving:
        out.writes.append(Write(WriteOp.DELETE, _status(hold, HoldStatus.REMOVED)))
        return
    if hold.attendees and remote.declines >= len(hold.attendees):
        # Everyone else declined: the chat will not happen. Cancel it; the id is spent for
        # the week, so nobody is invited again.
        out.writes.append(Write(WriteOp.DELETE, _status(hold, HoldStatus.DECLINED)))
        return
    if hold.status is HoldStatus.ADOPTED or known is None:
        return  # the organiser's own version: never changed again
    guests = tuple(a for a in hold.attendees if a in known.active)
    dropped = guests != hold.attendees
    if not guests:
        out.writes.append(Write(WriteOp.DELETE, _status(hold, HoldStatus.REMOVED)))
        return
    current = dataclasses.replace(hold, attendees=guests)
    if _fits(current, organiser, known):
        if dropped:
            out.writes.append(Write(WriteOp.PATCH, current, attendees_changed=True))
        return
    placed = _where(current, organiser, known, now)
    if placed is None:
        out.writes.append(Write(WriteOp.DELETE, _status(current, HoldStatus.REMOVED)))
    else:
        moved = _at(placed, current, HoldStatus.MOVED)
        out.writes.append(Write(WriteOp.PATCH, moved, attendees_changed=dropped))


def _views(hold: Hold, organiser: str, known: Members) -> dict[str, SlotView]:
    people = (organiser, *hold.attendees)
    return {p: known.views[p] for p in people if p in known.views}


def _fits(hold: Hold, organiser: str, known: Members) -> bool:
    slot = _slot(hold)
    views = _views(hold, organiser, known)
    free = [p for p, view in views.items() if _free(view, slot)]
    if hold.kind is HoldKind.WATERCOOLER:
        return len(free) >= MIN_FREE
    return len(views) == len(hold.attendees) + 1 and len(free) == len(views)


def _where(hold: Hold, organiser: str, known: Members, now: datetime) -> Interval | None:
    """Where the event goes: its own slot while that still fits, else the best slot of the
    same day from now on (common free time for a coffee chat; most members for a drop-in)."""
    if _fits(hold, organiser, known):
        return _slot(hold)
    views = _views(hold, organiser, known)
    within = (max(known.day[0], int(now.timestamp())), known.day[1])
    if within[0] >= within[1]:
        return None
    if hold.kind is HoldKind.WATERCOOLER:
        minutes = (int(hold.end.timestamp()) - int(hold.start.timestamp())) // 60
        drop_in = drop_in_slot(views, within=within, minutes=minutes)
        return drop_in.slot if drop_in is not None else None
    if len(views) != len(hold.attendees) + 1:
        return None
    start, end = _slot(hold)
    people = [Availability(v.working, [*v.busy, *v.excluded]) for v in views.values()]
    free = common_free_slots(people, within=within, minimum=end - start)
    # the free slot nearest the old time: people may have planned around it
    return fit(free, end - start, earliest=within[0], anchor=start)


def _free(view: SlotView, slot: Interval) -> bool:
    s, e = slot
    inside = any(ws <= s and e <= we for ws, we in view.working)
    clash = any(bs < e and s < be for bs, be in (*view.busy, *view.excluded))
    return inside and not clash


def _slot(hold: Hold) -> Interval:
    return (int(hold.start.timestamp()), int(hold.end.timestamp()))


def _at(slot: Interval, hold: Hold, status: HoldStatus) -> Hold:
    tz = hold.start.tzinfo or UTC
    return dataclasses.replace(
        hold,
        start=datetime.fromtimestamp(slot[0], tz),
        end=datetime.fromtimestamp(slot[1], tz),
        status=status,
    )


def _status(hold: Hold, status: HoldStatus) -> Hold:
    return dataclasses.replace(hold, status=status)


def _edited(hold: Hold, remote: MirrorEvent) -> bool:
    """Moved by the organiser. Only the times tell: a shared event's etag also changes
    whenever a guest answers the invitation."""
    return remote.start != hold.start or remote.end != hold.end


def member_view(
    events: Sequence[CalendarEvent],
    stored: Sequence[Hold],
    *,
    tz: tzinfo,
    hours: WorkingHours,
    within: Interval,
    exclude: str,
    minutes: int = 20,
) -> SlotView:
    """One member's `SlotView` of ``within`` from their expanded calendar and hold records,
    with the shared event ``exclude`` lifted off (it must not stand in its own way).

    Busy: meetings with their clearance (`clearance.near`), solo blocks and our holds (free
    ones too); excluded: their unavailable
    days and days with another social-kind hold (`coffee_slots.slot_view`).
    """
    others = [e for e in events if e.hold_id != exclude]
    first = datetime.fromtimestamp(within[0], tz).date()
    last = datetime.fromtimestamp(max(within[0], within[1] - 1), tz).date()
    days = schedule_days(others, tz, hours, first, (last - first).days + 1)
    social = {
        (e.start.astimezone(tz).date() if isinstance(e.start, datetime) else e.start)
        for e in others
        if e.kind is EventKind.HOLD
        and e.hold_kind in SOCIAL_KIND_NAMES
        and not (e.cancelled or e.declined)
    }
    return slot_view(
        hours=hours,
        tz=tz,
        within=within,
        busy=[interval for day in days for interval in day.solo + day.holds],
        meetings=[interval for day in days for interval in day.meetings],
        holds=[h for h in stored if h.id != exclude],
        unavailable_days={d.date for d in days if not d.available} | social,
        minutes=minutes,
    )


SOCIAL_KIND_NAMES = frozenset(kind.value for kind in SOCIAL_KINDS)


# -- the members of the events an organiser keeps --------------------------------------

AHEAD = frozenset({HoldStatus.PLANNED, HoldStatus.PLACED, HoldStatus.MOVED})


def events_ahead(stored: Sequence[Hold], now: datetime) -> list[Hold]:
    """The shared events whose members the organiser's scan reads: planned or placed by us
    (not adopted) and not over yet."""
    return [h for h in stored if h.shared and h.status in AHEAD and h.end > now]


def event_day(hold: Hold, tz: tzinfo) -> Interval:
    """The organiser's local day of the event (``tz``: their zone), epoch seconds: where a
    moved event may go."""
    return (local_instant(hold.day, 0, tz), local_instant(hold.day + timedelta(days=1), 0, tz))


def member_window(day: Interval) -> tuple[datetime, datetime]:
    """The stretch of a member's mirror expanded for ``day``: a day either side, since the
    member's own day may begin or end in another zone."""
    return (
        datetime.fromtimestamp(day[0], UTC) - timedelta(days=1),
        datetime.fromtimestamp(day[1], UTC) + timedelta(days=1),
    )


def dropped(member: Person) -> bool:
    """A member who no longer takes part (no longer opted in) is dropped from the event; an
    erased one (no person at all) too."""
    return member.status is not PersonStatus.ACTIVE


def view_of(
    member: Person,
    settings: OrgSettings,
    events: Sequence[CalendarEvent],
    holds: Sequence[Hold],
    *,
    hold: Hold,
    day: Interval,
) -> SlotView:
    """``member``'s `SlotView` of the event's ``day``, in their own zone and hours, with the
    event lifted off."""
    return member_view(
        events,
        holds,
        tz=member.zone(settings),
        hours=member.hours(settings.working_hours),
        within=day,
        exclude=hold.id,
        minutes=(int(hold.end.timestamp()) - int(hold.start.timestamp())) // 60,
    )
