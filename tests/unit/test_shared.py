"""Shared events (coffee chats, watercoolers) as their organiser's scan keeps them right.

Pure tests of `shared.reconcile_shared` and `shared.member_view` over hand-built holds,
mirror events and `SlotView`s: the organiser (Berlin) scans on Monday 2026-11-30 07:00 UTC,
the shared events are on Tuesday 2026-12-01.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from micromoments.domain.calendar import CalendarEvent, EventKind
from micromoments.domain.holds import Hold, HoldKind, HoldStatus, shared_hold_id
from micromoments.domain.intervals import Interval
from micromoments.domain.journal import WriteOp
from micromoments.domain.mirror import MirrorEvent
from micromoments.domain.pairing import SlotView, slot_view
from micromoments.domain.reconcile import Write
from micromoments.domain.shared import Members, SharedOutcome, member_view, reconcile_shared
from micromoments.domain.watercooler import drop_in_slot
from micromoments.domain.working_hours import WorkingHours, local_instant
from tests.builders import event

NINE_TO_FIVE = WorkingHours.parse("Mon-Fri 09:00-17:00")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")

ANA = "ana@example.com"  # the organiser
BEN = "ben@example.com"
CAT = "cat@example.com"

NOW = datetime(2026, 11, 30, 7, tzinfo=UTC)  # Monday 08:00 in Berlin
TUESDAY = date(2026, 12, 1)
DAY: Interval = (  # the organiser's local Tuesday, epoch seconds
    local_instant(TUESDAY, 0, BERLIN),
    local_instant(TUESDAY + timedelta(days=1), 0, BERLIN),
)


# -- helpers ---------------------------------------------------------------------------------


def berlin(hour: int, minute: int = 0, day: date = TUESDAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN)


def epoch(instant: datetime) -> int:
    return int(instant.timestamp())


def span(start: datetime, end: datetime) -> Interval:
    return (epoch(start), epoch(end))


def view(
    *,
    tz: tzinfo = BERLIN,
    busy: Iterable[tuple[datetime, datetime]] = (),
    unavailable: Iterable[date] = (),
) -> SlotView:
    """A member's Tuesday (the organiser's local day) as the slot search sees it."""
    return slot_view(
        hours=NINE_TO_FIVE,
        tz=tz,
        within=DAY,
        busy=[span(s, e) for s, e in busy],
        unavailable_days=unavailable,
    )


def members(
    views: Mapping[str, SlotView], active: Iterable[str] | None = None, day: Interval = DAY
) -> Members:
    people = frozenset(views) if active is None else frozenset(active)
    return Members(views=dict(views), active=people, day=day)


def shared(
    start: datetime,
    end: datetime,
    *,
    attendees: Sequence[str] = (BEN,),
    status: HoldStatus = HoldStatus.PLANNED,
    kind: HoldKind = HoldKind.COFFEE,
    etag: str | None = None,
    group: str = "ana|ben",
) -> Hold:
    return Hold(
        id=shared_hold_id("org", "2026-W49", group, kind),
        kind=kind,
        start=start,
        end=end,
        busy=kind is not HoldKind.WATERCOOLER,
        day=start.astimezone(BERLIN).date(),
        status=status,
        etag=etag,
        attendees=tuple(sorted(attendees)),
    )


def on_calendar(
    hold: Hold,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    etag: str | None = None,
    declines: int = 0,
    cancelled: bool = False,
) -> dict[str, MirrorEvent]:
    """The organiser's calendar as the mirror shows ``hold`` (its own times by default)."""
    event = MirrorEvent(
        id=hold.id,
        start=hold.start if start is None else start,
        end=hold.end if end is None else end,
        kind=EventKind.HOLD,
        busy=hold.busy,
        cancelled=cancelled,
        hold_id=hold.id,
        hold_kind=hold.kind.value,
        etag=hold.etag if etag is None else etag,
        declines=declines,
    )
    return {hold.id: event}


def run(
    hold: Hold,
    known: Members | None,
    *,
    remote: Mapping[str, MirrorEvent] | None = None,
    now: datetime = NOW,
    leaving: bool = False,
) -> SharedOutcome:
    return reconcile_shared(
        [hold],
        organiser=ANA,
        remote={} if remote is None else remote,
        members={} if known is None else {hold.id: known},
        now=now,
        leaving=leaving,
    )


def only_write(outcome: SharedOutcome) -> Write:
    assert not outcome.records
    assert len(outcome.writes) == 1, outcome.writes
    return outcome.writes[0]


def only_record(outcome: SharedOutcome) -> Hold:
    assert not outcome.writes
    assert len(outcome.records) == 1, outcome.records
    return outcome.records[0]


def inside_working_hours(slot: Interval, member: SlotView) -> bool:
    return any(s <= slot[0] and slot[1] <= e for s, e in member.working)


def overlaps(slot: Interval, taken: Iterable[Interval]) -> bool:
    return any(s < slot[1] and slot[0] < e for s, e in taken)


def slot_of(hold: Hold) -> Interval:
    return span(hold.start, hold.end)


# -- planned holds ---------------------------------------------------------------------------


def test_planned_coffee_still_free_for_both_is_inserted_where_the_round_put_it() -> None:
    hold = shared(berlin(10), berlin(10, 20))
    known = members({ANA: view(), BEN: view()})
    write = only_write(run(hold, known))
    assert write.op is WriteOp.INSERT
    assert write.hold == dataclasses.replace(hold, status=HoldStatus.PLACED)
    assert write.hold.attendees == (BEN,)
    assert not write.attendees_changed


def test_planned_coffee_busy_for_the_partner_goes_to_another_common_slot_that_day() -> None:
    hold = shared(berlin(10), berlin(10, 20))
    partner_busy = [(berlin(9), berlin(11, 30))]
    organiser_busy = [(berlin(11, 30), berlin(12))]
    known = members({ANA: view(busy=organiser_busy), BEN: view(busy=partner_busy)})
    write = only_write(run(hold, known))
    assert write.op is WriteOp.INSERT
    assert write.hold.status is HoldStatus.PLACED
    assert write.hold.attendees == (BEN,)
    slot = slot_of(write.hold)
    assert slot[1] - slot[0] == 20 * 60
    for member in known.views.values():
        assert inside_working_hours(slot, member)
        assert not overlaps(slot, member.busy)
    assert not overlaps(slot, [span(s, e) for s, e in partner_busy])
    assert write.hold.start.astimezone(BERLIN).date() == TUESDAY
    assert write.hold.start == berlin(12)  # the earliest common slot that day
    assert write.hold.id == hold.id and write.hold.day == hold.day


def test_planned_coffee_with_no_common_slot_that_day_is_removed_without_a_write() -> None:
    hold = shared(berlin(10), berlin(10, 20))
    known = members(
        {
            ANA: view(busy=[(berlin(9), berlin(13))]),
            BEN: view(busy=[(berlin(13), berlin(17))]),
        }
    )
    record = only_record(run(hold, known))
    assert record == dataclasses.replace(hold, status=HoldStatus.REMOVED)


def test_planned_pair_whose_partner_is_no_longer_active_is_removed() -> None:
    hold = shared(berlin(10), berlin(10, 20))
    known = members({ANA: view(), BEN: view()}, active={ANA})
    record = only_record(run(hold, known))
    assert record.status is HoldStatus.REMOVED
    assert record.id == hold.id


def test_planned_trio_drops_the_attendee_who_is_no_longer_active() -> None:
    hold = shared(berlin(10), berlin(10, 20), attendees=(BEN, CAT), group="ana|ben|cat")
    known = members({ANA: view(), BEN: view(), CAT: view()}, active={ANA, BEN})
    write = only_write(run(hold, known))
    assert write.op is WriteOp.INSERT
    assert write.hold.attendees == (BEN,)
    assert write.hold.status is HoldStatus.PLACED
    assert (write.hold.start, write.hold.end) == (hold.start, hold.end)


def test_planned_holds_of_a_leaving_organiser_are_removed_without_writes() -> None:
    coffee = shared(berlin(10), berlin(10, 20))
    drop_in = shared(
        berlin(11),
        berlin(11, 15),
        kind=HoldKind.WATERCOOLER,
        attendees=(BEN, CAT),
        group="team",
    )
    known = members({ANA: view(), BEN: view(), CAT: view()})
    outcome = reconcile_shared(
        [coffee, drop_in],
        organiser=ANA,
        remote={},
        members={coffee.id: known, drop_in.id: known},
        now=NOW,
        leaving=True,
    )
    assert not outcome.writes
    assert outcome.records == [
        dataclasses.replace(coffee, status=HoldStatus.REMOVED),
        dataclasses.replace(drop_in, status=HoldStatus.REMOVED),
    ]


# -- live holds: what the organiser did ------------------------------------------------------


def test_live_holds_of_a_leaving_organiser_are_deleted() -> None:
    placed = shared(berlin(10), berlin(10, 20), status=HoldStatus.PLACED, etag="e1")
    moved = shared(
        berlin(11),
        berlin(11, 20),
        status=HoldStatus.MOVED,
        etag="e2",
        group="ana|cat",
        attendees=(CAT,),
    )
    known = members({ANA: view(), BEN: view(), CAT: view()})
    outcome = reconcile_shared(
        [placed, moved],
        organiser=ANA,
        remote={**on_calendar(placed), **on_calendar(moved)},
        members={placed.id: known, moved.id: known},
        now=NOW,
        leaving=True,
    )
    assert not outcome.records
    assert outcome.writes == [
        Write(WriteOp.DELETE, dataclasses.replace(placed, status=HoldStatus.REMOVED)),
        Write(WriteOp.DELETE, dataclasses.replace(moved, status=HoldStatus.REMOVED)),
    ]


def test_live_hold_missing_from_the_calendar_is_dismissed() -> None:
    hold = shared(berlin(10), berlin(10, 20), status=HoldStatus.PLACED, etag="e1")
    known = members({ANA: view(), BEN: view()})
    record = only_record(run(hold, known, remote={}))
    assert record == dataclasses.replace(hold, status=HoldStatus.DISMISSED)


def test_live_hold_cancelled_on_the_calendar_is_dismissed() -> None:
    hold = shared(berlin(10), berlin(10, 20), status=HoldStatus.MOVED, etag="e1")
    known = members({ANA: view(), BEN: view()})
    record = only_record(run(hold, known, remote=on_calendar(hold, cancelled=True)))
    assert record == dataclasses.replace(hold, status=HoldStatus.DISMISSED)


def test_live_hold_moved_by_the_organiser_is_adopted_with_the_remote_times() -> None:
    hold = shared(berlin(10), berlin(10, 20), status=HoldStatus.PLACED, etag="e1")
    known = members({ANA: view(), BEN: view()})
    remote = on_calendar(hold, start=berlin(14), end=berlin(14, 30), etag="e2")
    record = only_record(run(hold, known, remote=remote))
    assert record == dataclasses.replace(
        hold, status=HoldStatus.ADOPTED, start=berlin(14), end=berlin(14, 30), etag="e2"
    )


def test_adopted_hold_is_never_moved_even_when_a_meeting_lands_on_it() -> None:
    hold = shared(berlin(14), berlin(14, 30), status=HoldStatus.ADOPTED, etag="e2")
    known = members({ANA: view(), BEN: view(busy=[(berlin(14), berlin(15))])})
    outcome = run(hold, known, remote=on_calendar(hold))
    assert outcome == SharedOutcome()


def test_adopted_hold_moved_again_by_the_organiser_is_left_alone() -> None:
    hold = shared(berlin(14), berlin(14, 30), status=HoldStatus.ADOPTED, etag="e2")
    known = members({ANA: view(), BEN: view()})
    remote = on_calendar(hold, start=berlin(15), end=berlin(15, 30), etag="e3")
    assert run(hold, known, remote=remote) == SharedOutcome()


def test_live_hold_whose_etag_changed_but_not_its_times_is_not_adopted() -> None:
    # A guest answered the invitation: the etag changes, the event is still ours to manage.
    hold = shared(berlin(10), berlin(10, 20), status=HoldStatus.PLACED, etag="e1")
    known = members({ANA: view(), BEN: view()})
    outcome = run(hold, known, remote=on_calendar(hold, etag="e2"))
    assert outcome == SharedOutcome()


def test_live_hold_with_a_new_etag_still_moves_when_a_meeting_lands_on_it() -> None:
    hold = shared(berlin(10), berlin(10, 20), status=HoldStatus.PLACED, etag="e1")
    known = members({ANA: view(), BEN: view(busy=[(berlin(9), berlin(11))])})
    write = only_write(run(hold, known, remote=on_calendar(hold, etag="e2")))
    assert write.op is WriteOp.PATCH
    assert write.hold.status is HoldStatus.MOVED
    assert write.hold.start == berlin(11)


# -- declines --------------------------------------------------------------------------------


def test_pair_whose_partner_declined_is_cancelled_as_declined() -> None:
    hold = shared(berlin(10), berlin(10, 20), status=HoldStatus.PLACED, etag="e1")
    known = members({ANA: view(), BEN: view()})
    write = only_write(run(hold, known, remote=on_calendar(hold, etag="e2", declines=1)))
    assert write == Write(WriteOp.DELETE, dataclasses.replace(hold, status=HoldStatus.DECLINED))


def test_trio_where_everyone_else_declined_is_cancelled_as_declined() -> None:
    hold = shared(
        berlin(10),
        berlin(10, 20),
        status=HoldStatus.PLACED,
        etag="e1",
        attendees=(BEN, CAT),
        group="ana|ben|cat",
    )
    known = members({ANA: view(), BEN: view(), CAT: view()})
    write = only_write(run(hold, known, remote=on_calendar(hold, declines=2)))
    assert write.op is WriteOp.DELETE
    assert write.hold.status is HoldStatus.DECLINED


def test_trio_with_one_decline_goes_ahead_untouched() -> None:
    hold = shared(
        berlin(10),
        berlin(10, 20),
        status=HoldStatus.PLACED,
        etag="e1",
        attendees=(BEN, CAT),
        group="ana|ben|cat",
    )
    known = members({ANA: view(), BEN: view(), CAT: view()})
    assert run(hold, known, remote=on_calendar(hold, etag="e2", declines=1)) == SharedOutcome()


# -- live holds: the members' calendars changed ----------------------------------------------


def test_live_coffee_a_partner_meeting_lands_on_moves_to_a_common_slot_that_day() -> None:
    hold = shared(berlin(10), berlin(10, 20), status=HoldStatus.PLACED, etag="e1")
    partner_busy = [(berlin(10), berlin(11))]
    organiser_busy = [(berlin(9), berlin(10)), (berlin(11), berlin(11, 45))]
    known = members({ANA: view(busy=organiser_busy), BEN: view(busy=partner_busy)})
    write = only_write(run(hold, known, remote=on_calendar(hold)))
    assert write.op is WriteOp.PATCH
    assert write.hold.status is HoldStatus.MOVED
    assert write.attendees_changed is False
    assert write.hold.attendees == (BEN,)
    assert write.hold.id == hold.id and write.hold.etag == "e1"
    slot = slot_of(write.hold)
    assert slot[1] - slot[0] == 20 * 60
    for member in known.views.values():
        assert inside_working_hours(slot, member)
        assert not overlaps(slot, member.busy)
    assert write.hold.start.astimezone(BERLIN).date() == TUESDAY
    assert write.hold.start == berlin(11, 45)


def test_live_coffee_with_no_common_slot_left_that_day_is_deleted_as_removed() -> None:
    hold = shared(berlin(10), berlin(10, 20), status=HoldStatus.PLACED, etag="e1")
    known = members(
        {
            ANA: view(busy=[(berlin(12), berlin(17))]),
            BEN: view(busy=[(berlin(9), berlin(12))]),
        }
    )
    write = only_write(run(hold, known, remote=on_calendar(hold)))
    assert write == Write(WriteOp.DELETE, dataclasses.replace(hold, status=HoldStatus.REMOVED))


def test_live_coffee_moves_only_to_a_slot_still_ahead_on_the_five_minute_grid() -> None:
    hold = shared(berlin(11), berlin(11, 20), status=HoldStatus.PLACED, etag="e1")
    now = berlin(10, 2).astimezone(UTC)
    known = members({ANA: view(), BEN: view(busy=[(berlin(11), berlin(12))])})
    write = only_write(run(hold, known, remote=on_calendar(hold), now=now))
    assert write.op is WriteOp.PATCH
    assert write.hold.start == berlin(10, 40)  # nearest 11:00 before Ben's meeting, still ahead
    assert epoch(write.hold.start) % 300 == 0
    late = berlin(16, 10).astimezone(UTC)  # free time left today: before 16:00 only
    known = members({ANA: view(), BEN: view(busy=[(berlin(16), berlin(17))])})
    hold = shared(berlin(16, 30), berlin(16, 50), status=HoldStatus.PLACED, etag="e1")
    write = only_write(run(hold, known, remote=on_calendar(hold), now=late))
    assert write.op is WriteOp.DELETE and write.hold.status is HoldStatus.REMOVED


def test_live_coffee_never_moves_to_another_day() -> None:
    # Tuesday is gone for the partner (unavailable); Wednesday is free for both, but the
    # day of the event is the organiser's local Tuesday only.
    hold = shared(berlin(10), berlin(10, 20), status=HoldStatus.PLACED, etag="e1")
    week = (DAY[0], DAY[1] + 86_400)
    ana = slot_view(hours=NINE_TO_FIVE, tz=BERLIN, within=week)
    ben = slot_view(hours=NINE_TO_FIVE, tz=BERLIN, within=week, unavailable_days=[TUESDAY])
    write = only_write(run(hold, members({ANA: ana, BEN: ben}), remote=on_calendar(hold)))
    assert write.op is WriteOp.DELETE
    assert write.hold.status is HoldStatus.REMOVED


def test_live_trio_drops_an_attendee_who_left_and_keeps_its_time() -> None:
    hold = shared(
        berlin(10),
        berlin(10, 20),
        status=HoldStatus.PLACED,
        etag="e1",
        attendees=(BEN, CAT),
        group="ana|ben|cat",
    )
    known = members({ANA: view(), BEN: view(), CAT: view()}, active={ANA, BEN})
    write = only_write(run(hold, known, remote=on_calendar(hold)))
    assert write.op is WriteOp.PATCH
    assert write.attendees_changed is True
    assert write.hold == dataclasses.replace(hold, attendees=(BEN,))


def test_live_trio_drops_a_leaver_and_moves_when_the_rest_no_longer_fit() -> None:
    hold = shared(
        berlin(10),
        berlin(10, 20),
        status=HoldStatus.PLACED,
        etag="e1",
        attendees=(BEN, CAT),
        group="ana|ben|cat",
    )
    known = members(
        {ANA: view(), BEN: view(busy=[(berlin(10), berlin(10, 30))]), CAT: view()},
        active={ANA, BEN},
    )
    write = only_write(run(hold, known, remote=on_calendar(hold)))
    assert write.op is WriteOp.PATCH
    assert write.attendees_changed is True
    assert write.hold.attendees == (BEN,)
    assert write.hold.status is HoldStatus.MOVED
    assert write.hold.start == berlin(9, 40)  # the free slot for Ana and Ben nearest 10:00


def test_live_pair_whose_partner_left_is_deleted() -> None:
    hold = shared(berlin(10), berlin(10, 20), status=HoldStatus.PLACED, etag="e1")
    known = members({ANA: view(), BEN: view()}, active={ANA})
    write = only_write(run(hold, known, remote=on_calendar(hold)))
    assert write == Write(WriteOp.DELETE, dataclasses.replace(hold, status=HoldStatus.REMOVED))


def test_live_hold_still_fitting_makes_no_write() -> None:
    hold = shared(berlin(10), berlin(10, 20), status=HoldStatus.MOVED, etag="e1")
    known = members({ANA: view(), BEN: view(busy=[(berlin(10, 20), berlin(11))])})
    assert run(hold, known, remote=on_calendar(hold)) == SharedOutcome()


# -- the past --------------------------------------------------------------------------------


def test_live_hold_whose_time_passed_is_kept() -> None:
    hold = shared(berlin(10), berlin(10, 20), status=HoldStatus.PLACED, etag="e1")
    later = datetime(2026, 12, 2, 8, tzinfo=UTC)
    record = only_record(run(hold, None, remote=on_calendar(hold), now=later))
    assert record == dataclasses.replace(hold, status=HoldStatus.KEPT)


def test_adopted_hold_whose_time_passed_makes_no_record() -> None:
    hold = shared(berlin(10), berlin(10, 20), status=HoldStatus.ADOPTED, etag="e1")
    later = datetime(2026, 12, 2, 8, tzinfo=UTC)
    assert run(hold, None, remote=on_calendar(hold), now=later) == SharedOutcome()


def test_past_live_hold_is_kept_not_deleted_when_the_organiser_leaves() -> None:
    hold = shared(berlin(10), berlin(10, 20), status=HoldStatus.PLACED, etag="e1")
    later = datetime(2026, 12, 2, 8, tzinfo=UTC)
    outcome = run(hold, None, remote=on_calendar(hold), now=later, leaving=True)
    assert only_record(outcome).status is HoldStatus.KEPT


def test_planned_hold_whose_time_passed_is_removed() -> None:
    hold = shared(berlin(10), berlin(10, 20))
    later = datetime(2026, 12, 1, 12, tzinfo=UTC)
    known = members({ANA: view(), BEN: view()})
    assert only_record(run(hold, known, now=later)).status is HoldStatus.REMOVED


# -- watercooler -----------------------------------------------------------------------------


def watercooler(status: HoldStatus = HoldStatus.PLACED) -> Hold:
    return shared(
        berlin(11),
        berlin(11, 15),
        kind=HoldKind.WATERCOOLER,
        status=status,
        etag="e1",
        attendees=(BEN, CAT),
        group="team",
    )


def test_watercooler_stays_while_two_members_are_free_at_it() -> None:
    hold = watercooler()
    assert hold.busy is False
    known = members({ANA: view(), BEN: view(busy=[(berlin(11), berlin(12))]), CAT: view()})
    assert run(hold, known, remote=on_calendar(hold)) == SharedOutcome()


def test_watercooler_moves_to_the_best_slot_of_the_day_when_fewer_than_two_are_free() -> None:
    hold = watercooler()
    known = members(
        {
            ANA: view(busy=[(berlin(9), berlin(10))]),
            BEN: view(busy=[(berlin(9), berlin(12))]),
            CAT: view(busy=[(berlin(10, 30), berlin(13)), (berlin(14), berlin(17))]),
        }
    )
    write = only_write(run(hold, known, remote=on_calendar(hold)))
    assert write.op is WriteOp.PATCH
    assert write.hold.status is HoldStatus.MOVED
    assert write.attendees_changed is False
    best = drop_in_slot(known.views, within=DAY, minutes=15)
    assert best is not None
    assert slot_of(write.hold) == best.slot
    assert write.hold.start == berlin(13)  # all three are free 13:00-14:00
    assert best.free == (ANA, BEN, CAT)


def test_planned_watercooler_is_placed_at_the_best_slot_when_its_own_has_one_free() -> None:
    hold = watercooler(HoldStatus.PLANNED)
    known = members(
        {
            ANA: view(),
            BEN: view(busy=[(berlin(9), berlin(12))]),
            CAT: view(busy=[(berlin(9), berlin(12, 30))]),
        }
    )
    write = only_write(run(hold, known))
    assert write.op is WriteOp.INSERT
    assert write.hold.status is HoldStatus.PLACED
    assert write.hold.start == berlin(12, 30)


def test_watercooler_is_removed_when_no_slot_that_day_has_two_free() -> None:
    hold = watercooler()
    known = members(
        {
            ANA: view(busy=[(berlin(9), berlin(13))]),
            BEN: view(busy=[(berlin(12), berlin(17))]),
            CAT: view(unavailable=[TUESDAY]),
        }
    )
    write = only_write(run(hold, known, remote=on_calendar(hold)))
    assert write == Write(WriteOp.DELETE, dataclasses.replace(hold, status=HoldStatus.REMOVED))


def test_planned_watercooler_with_no_slot_for_two_is_removed_without_a_write() -> None:
    hold = watercooler(HoldStatus.PLANNED)
    known = members(
        {
            ANA: view(busy=[(berlin(9), berlin(13))]),
            BEN: view(busy=[(berlin(12), berlin(17))]),
            CAT: view(unavailable=[TUESDAY]),
        }
    )
    assert only_record(run(hold, known)).status is HoldStatus.REMOVED


# -- personal kinds --------------------------------------------------------------------------


def test_personal_kinds_are_ignored() -> None:
    personal = [
        Hold(
            id=f"mmpersonal{n}",
            kind=kind,
            start=berlin(10),
            end=berlin(10, 15),
            busy=kind is HoldKind.BREATHER,
            day=TUESDAY,
            status=status,
        )
        for n, (kind, status) in enumerate(
            [
                (HoldKind.BREATHER, HoldStatus.PLANNED),
                (HoldKind.BREATHER, HoldStatus.PLACED),
                (HoldKind.SOCIAL, HoldStatus.PLANNED),
                (HoldKind.SOCIAL, HoldStatus.MOVED),
                (HoldKind.SOCIAL, HoldStatus.ADOPTED),
            ]
        )
    ]
    for leaving in (False, True):
        outcome = reconcile_shared(
            personal, organiser=ANA, remote={}, members={}, now=NOW, leaving=leaving
        )
        assert outcome == SharedOutcome()


# -- across time zones -----------------------------------------------------------------------


def test_berlin_organiser_and_new_york_partner_move_inside_the_overlap_only() -> None:
    hold = shared(berlin(15), berlin(15, 20), status=HoldStatus.PLACED, etag="e1")
    new_york = view(tz=NEW_YORK, busy=[(berlin(15), berlin(15, 30))])  # 09:00 in New York
    known = members({ANA: view(busy=[(berlin(15, 30), berlin(16))]), BEN: new_york})
    write = only_write(run(hold, known, remote=on_calendar(hold)))
    assert write.op is WriteOp.PATCH
    assert write.hold.status is HoldStatus.MOVED
    start = write.hold.start.astimezone(BERLIN)
    end = write.hold.end.astimezone(BERLIN)
    assert berlin(15) <= start and end <= berlin(17)
    assert start == berlin(16)
    assert write.hold.start.astimezone(NEW_YORK).hour == 10


def test_planned_coffee_outside_the_partner_hours_is_placed_in_the_overlap() -> None:
    hold = shared(berlin(10), berlin(10, 20))  # 04:00 in New York
    known = members({ANA: view(), BEN: view(tz=NEW_YORK)})
    write = only_write(run(hold, known))
    assert write.op is WriteOp.INSERT
    assert write.hold.start == berlin(15)  # 09:00 in New York
    assert write.hold.end == berlin(15, 20)


def test_berlin_and_new_york_with_the_overlap_taken_cancel_the_coffee() -> None:
    hold = shared(berlin(15), berlin(15, 20), status=HoldStatus.PLACED, etag="e1")
    known = members(
        {ANA: view(busy=[(berlin(15), berlin(17))]), BEN: view(tz=NEW_YORK)}
    )  # Berlin is free 09:00-15:00, New York only from 15:00 Berlin time
    write = only_write(run(hold, known, remote=on_calendar(hold)))
    assert write.op is WriteOp.DELETE
    assert write.hold.status is HoldStatus.REMOVED


# -- member_view -----------------------------------------------------------------------------


def hold_event(hold_id: str, kind: HoldKind, start: datetime, end: datetime) -> CalendarEvent:
    return CalendarEvent(
        uid=hold_id,
        start=start,
        end=end,
        kind=EventKind.HOLD,
        busy=kind is not HoldKind.WATERCOOLER,
        hold_id=hold_id,
        hold_kind=kind.value,
    )


WEEK_DAYS: Interval = (  # Berlin Monday through Wednesday
    local_instant(TUESDAY - timedelta(days=1), 0, BERLIN),
    local_instant(TUESDAY + timedelta(days=2), 0, BERLIN),
)


def berlin_view(events: Sequence[CalendarEvent], exclude: str = "mmthechat") -> SlotView:
    return member_view(
        events, [], tz=BERLIN, hours=NINE_TO_FIVE, within=DAY, exclude=exclude, minutes=20
    )


def test_member_view_lifts_the_event_itself_off() -> None:
    chat = hold_event("mmthechat", HoldKind.COFFEE, berlin(10), berlin(10, 20))
    standup = event("standup", berlin(9), berlin(9, 15))
    got = berlin_view([chat, standup])
    # a meeting is busy with its clearance: a shared event keeps 10 minutes from it
    assert got.busy == (span(berlin(8, 50), berlin(9, 25)),)
    assert got.excluded == ()  # the event's own social-kind day does not count
    assert not overlaps(span(berlin(10), berlin(10, 20)), [*got.busy, *got.excluded])


def test_member_view_counts_the_event_when_it_is_not_the_excluded_one() -> None:
    chat = hold_event("mmthechat", HoldKind.COFFEE, berlin(10), berlin(10, 20))
    got = berlin_view([chat], exclude="mmsomethingelse")
    assert got.busy == (span(berlin(10), berlin(10, 20)),)
    assert got.excluded == (DAY,)


def test_member_view_excludes_a_day_with_another_social_kind_hold() -> None:
    chat = hold_event("mmthechat", HoldKind.COFFEE, berlin(10), berlin(10, 20))
    social = hold_event("mmsocial", HoldKind.SOCIAL, berlin(14), berlin(14, 30))
    got = berlin_view([chat, social])
    assert got.busy == (span(berlin(14), berlin(14, 30)),)
    assert got.excluded == (DAY,)


def test_member_view_does_not_exclude_a_day_for_a_breather() -> None:
    breather = hold_event("mmbreather", HoldKind.BREATHER, berlin(14), berlin(14, 15))
    got = berlin_view([breather])
    assert got.busy == (span(berlin(14), berlin(14, 15)),)
    assert got.excluded == ()


def test_member_view_excludes_a_day_with_a_stored_social_kind_hold() -> None:
    stored = Hold(
        id="mmstoredsocial",
        kind=HoldKind.SOCIAL,
        start=berlin(14),
        end=berlin(14, 30),
        busy=False,
        day=TUESDAY,
        status=HoldStatus.PLACED,
    )
    got = member_view([], [stored], tz=BERLIN, hours=NINE_TO_FIVE, within=DAY, exclude="mmthechat")
    assert got.busy == (span(berlin(14), berlin(14, 30)),)
    assert got.excluded == (DAY,)


def test_member_view_a_declined_meeting_is_not_busy() -> None:
    got = berlin_view(
        [
            event("declined", berlin(10), berlin(11), declined=True),
            event("accepted", berlin(13), berlin(14)),
        ]
    )
    assert got.busy == (span(berlin(12, 50), berlin(14, 10)),)


def test_member_view_a_solo_block_keeps_no_clearance() -> None:
    got = berlin_view([event("focus", berlin(13), berlin(14), kind=EventKind.SOLO)])
    assert got.busy == (span(berlin(13), berlin(14)),)


def test_member_view_an_all_day_opaque_event_excludes_the_day() -> None:
    offsite = CalendarEvent(
        uid="offsite",
        start=TUESDAY,
        end=TUESDAY + timedelta(days=1),
        kind=EventKind.ALL_DAY,
        busy=True,
    )
    got = member_view(
        [offsite], [], tz=BERLIN, hours=NINE_TO_FIVE, within=WEEK_DAYS, exclude="mmthechat"
    )
    assert got.excluded == (DAY,)
    assert got.busy == ()


def test_member_view_an_all_day_free_event_excludes_nothing() -> None:
    birthday = CalendarEvent(
        uid="birthday",
        start=TUESDAY,
        end=TUESDAY + timedelta(days=1),
        kind=EventKind.ALL_DAY,
        busy=False,
    )
    assert berlin_view([birthday]).excluded == ()


def test_member_view_uses_the_member_own_zone_and_hours() -> None:
    ben = member_view([], [], tz=BERLIN, hours=NINE_TO_FIVE, within=DAY, exclude="mmthechat")
    nyc = member_view([], [], tz=NEW_YORK, hours=NINE_TO_FIVE, within=DAY, exclude="mmthechat")
    assert ben.working == (span(berlin(9), berlin(17)),)
    # New York 09:00-17:00 is 15:00-23:00 in Berlin, inside the organiser's Tuesday
    assert nyc.working == (span(berlin(15), berlin(23)),)
    short = member_view(
        [],
        [],
        tz=BERLIN,
        hours=WorkingHours.parse("Mon-Fri 08:00-12:00"),
        within=DAY,
        exclude="mmthechat",
        minutes=15,
    )
    assert short.working == (span(berlin(8), berlin(12)),)
    assert short.minutes == 15


def test_member_view_new_york_days_are_new_york_days() -> None:
    # A social hold on New York's Tuesday excludes New York's whole Tuesday (06:00 to 06:00
    # in Berlin), not the organiser's Berlin Tuesday.
    start = datetime(2026, 12, 1, 16, tzinfo=NEW_YORK)  # 22:00 in Berlin
    end = start + timedelta(minutes=30)
    social = hold_event("mmsocial", HoldKind.SOCIAL, start, end)
    got = member_view(
        [social], [], tz=NEW_YORK, hours=NINE_TO_FIVE, within=DAY, exclude="mmthechat"
    )
    ny_tuesday = (
        local_instant(TUESDAY, 0, NEW_YORK),
        local_instant(TUESDAY + timedelta(days=1), 0, NEW_YORK),
    )
    assert ny_tuesday[0] == epoch(berlin(6))
    assert got.excluded == (ny_tuesday,)
    assert got.busy == (span(start, end),)


def test_member_views_feed_reconcile_shared() -> None:
    """End to end over `member_view`: the partner's new meeting moves the chat."""
    hold = shared(berlin(10), berlin(10, 20), status=HoldStatus.PLACED, etag="e1")
    ana_events = [hold_event(hold.id, HoldKind.COFFEE, hold.start, hold.end)]
    ben_events = [*ana_events, event("new", berlin(9, 30), berlin(10, 30))]

    def of(events: Sequence[CalendarEvent], stored: Sequence[Hold]) -> SlotView:
        return member_view(
            events, stored, tz=BERLIN, hours=NINE_TO_FIVE, within=DAY, exclude=hold.id
        )

    known = members({ANA: of(ana_events, [hold]), BEN: of(ben_events, [])})
    write = only_write(run(hold, known, remote=on_calendar(hold)))
    assert write.op is WriteOp.PATCH
    assert write.hold.status is HoldStatus.MOVED
    # 10 minutes after Ben's new meeting (never lengthening a run): the nearest to 10:00
    assert write.hold.start == berlin(10, 40)
