"""The demo's simulated week: the organisation lives through the week its calendars start
on before the digests go out, so that each email tells of a week micromoments acted in.

`DemoClock` is the demo's "now": the runs (dispatch, pairing, scans) and the digests take
it through the handlers' dependencies (`handlers.scan.ScanDeps.now`,
`handlers.digest_send.SendDeps.now`), never the wall clock, and the demo moves it through
the week (`SimulatedWeek`, org time, Europe/Berlin for the synthetic org):

- Sunday 20:00 before the week: the weekly pairing's scheduled time (it plans the week);
- Monday 10:00: the four runs of the demo (first, pair, echo, rescan);
- Tuesday to Friday 07:00: the hourly dispatch, and the scans it finds due (people whose
  working day starts then, or whose quiet time is over);
- Friday 16:00: the pairing of the next week;
- Saturday 05:00: a last scan of everyone, then the digests (Friday 15:00 or later
  everywhere).

Between the scans people act as people do: some delete a breather coming up that day
(`dismiss_some`: the next scan records it dismissed), the others keep theirs (its time
passes and the next scan records it kept); the guests of a coffee chat accept it
(`accept_chats`) and it happens when its time passes. The demo's own account of the week
per person (`week_results`: counts, the coffee chat's outcome and partner) goes to
``summary.json`` so that the emails can be checked against it.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from micromoments.domain.calendar import zone
from micromoments.domain.holds import ON_CALENDAR, HoldKind, HoldStatus
from micromoments.domain.people import first_name
from micromoments.local.demo.calendars import SeenEvent, org_calendars
from micromoments.local.demo.pipeline import Pipeline, Progress, scheduled_time

if TYPE_CHECKING:
    from micromoments.adapters.table import TableStore
    from micromoments.local.runtime import LocalRuntime

ORG_ZONE = "Europe/Berlin"  # the synthetic organisation's zone
DISMISS_SHARE = 0.3  # of the breathers coming up before the next scan, deleted by the person
COFFEE = HoldKind.COFFEE.value


@dataclass
class DemoClock:
    """The demo's now, moved by hand; called like `clock.wall_clock`."""

    at: datetime

    def __call__(self) -> datetime:
        return self.at

    def set(self, moment: datetime) -> None:
        self.at = moment.astimezone(UTC)


@dataclass(frozen=True)
class SimulatedWeek:
    """The moments of the week of ``monday`` in the org's zone ``tz_name``."""

    monday: date
    tz_name: str

    def at(self, offset_days: int, hour: int, minute: int = 0) -> datetime:
        day = self.monday + timedelta(days=offset_days)
        local = datetime.combine(day, time(hour, minute), tzinfo=zone(self.tz_name))
        return local.astimezone(UTC)

    @property
    def pairing(self) -> datetime:
        return self.at(-1, 20)

    @property
    def first_scan(self) -> datetime:
        return self.at(0, 10)

    @property
    def mornings(self) -> list[datetime]:
        return [self.at(day, 7) for day in range(1, 5)]

    @property
    def next_pairing(self) -> datetime:
        return self.at(4, 16)

    @property
    def digests(self) -> datetime:
        return self.at(5, 5)


def simulated_monday(now: datetime, tz_name: str) -> date:
    """The Monday of the week the demo lives through: the org's current week once its
    digests' time (Saturday 05:00) has come, else the week before. Its digests are then
    never sent later than ``now``: the links in them were issued in the past, and work on
    ``serve`` (a link issued in the future is refused)."""
    local = now.astimezone(zone(tz_name)).date()
    monday = local - timedelta(days=local.weekday())
    if SimulatedWeek(monday, tz_name).digests > now:
        monday -= timedelta(weeks=1)
    return monday


@dataclass
class WeekActions:
    """What the simulated people did: the hold ids they deleted, the chats accepted."""

    dismissed: dict[str, set[str]] = field(default_factory=dict)
    accepted: int = 0

    @property
    def dismissed_count(self) -> int:
        return sum(len(ids) for ids in self.dismissed.values())


def dismiss_some(
    runtime: LocalRuntime,
    store: TableStore,
    emails: Iterable[str],
    start: datetime,
    end: datetime,
    rng: random.Random,
    actions: WeekActions,
) -> int:
    """Each person deletes from their calendar some of their breathers starting in
    [start, end) (``DISMISS_SHARE`` of them, drawn from ``rng``); how many."""
    deleted = 0
    calendars = org_calendars(runtime)
    for email in emails:
        coming = sorted(
            (
                h
                for h in store.holds(email)
                if h.kind is HoldKind.BREATHER
                and h.status in ON_CALENDAR
                and start <= h.start < end
            ),
            key=lambda h: (h.start, h.id),
        )
        for hold in coming:
            if rng.random() >= DISMISS_SHARE:
                continue
            if not calendars.delete_hold(email, hold.id):
                continue
            actions.dismissed.setdefault(email, set()).add(hold.id)
            deleted += 1
    return deleted


def accept_chats(runtime: LocalRuntime, emails: Iterable[str], actions: WeekActions) -> int:
    """Every guest of a coffee chat on an organiser's calendar accepts it; how many
    answers changed."""
    answered = 0
    calendars = org_calendars(runtime)
    for email in emails:
        for event in calendars.live_events(email):
            if event.shared_kind != COFFEE:
                continue
            for guest in event.attendees_besides(email):
                if event.response_of(guest) in {"accepted", "declined"}:
                    continue
                if calendars.respond(guest, event, "accepted"):
                    answered += 1
    actions.accepted += answered
    return answered


# -- the demo's own account of the week ----------------------------------------------------------

_PLACED = frozenset(
    {HoldStatus.PLACED, HoldStatus.MOVED, HoldStatus.ADOPTED, HoldStatus.KEPT, HoldStatus.DISMISSED}
)


def week_results(
    runtime: LocalRuntime,
    store: TableStore,
    emails: Iterable[str],
    monday: date,
    digests_at: datetime,
) -> dict[str, dict[str, Any]]:
    """Per person, the week of ``monday`` as the demo saw it: breathers placed, kept
    (their time passed on the calendar) and dismissed (deleted by the person), social time
    placed, and the coffee chat on their calendar that week (its partner's first name)."""
    end = monday + timedelta(days=7)
    found: dict[str, dict[str, Any]] = {}
    for email in emails:
        week = [h for h in store.holds(email) if monday <= h.day < end]
        breathers = [h for h in week if h.kind is HoldKind.BREATHER and h.status in _PLACED]
        social = [h for h in week if h.kind is HoldKind.SOCIAL and h.status in _PLACED]
        kept = {HoldStatus.KEPT, HoldStatus.ADOPTED}
        found[email] = {
            "breathers_placed": len(breathers),
            "breathers_kept": sum(1 for h in breathers if h.status in kept),
            "breathers_dismissed": sum(1 for h in breathers if h.status is HoldStatus.DISMISSED),
            "social_placed": len(social),
            **_coffee(runtime, email, monday, digests_at, _zone(store, email)),
        }
    return found


def _coffee(
    runtime: LocalRuntime, email: str, monday: date, now: datetime, tz: tzinfo
) -> dict[str, Any]:
    """The week's coffee chat on ``email``'s calendar: happened (accepted by all, over by
    ``now``) or not, and with whom (first names, in the order of the addresses)."""
    for event in org_calendars(runtime).live_events(email):
        if event.shared_kind != COFFEE:
            continue
        times = event.times
        if times is None:
            continue
        start, finish = times
        organiser = event.organiser or email
        if not monday <= start.astimezone(tz).date() < monday + timedelta(days=7):
            continue
        others = [a for a in [organiser, *event.attendees_besides(organiser)] if a != email]
        declined = _declined(event, email)
        return {
            "coffee_happened": finish <= now and not declined,
            "coffee_with": sorted(first_name(a) for a in others),
        }
    return {"coffee_happened": False, "coffee_with": []}


def _declined(event: SeenEvent, email: str) -> bool:
    """Whether ``email`` declined: their answer among the attendees, or on their own copy
    where the server keeps the answer there (Graph)."""
    return event.response_of(email) == "declined" or (
        not event.organised_here and event.declined_here
    )


def live_the_week(
    runtime: LocalRuntime,
    store: TableStore,
    pipeline: Pipeline,
    week: SimulatedWeek,
    emails: list[str],
    seed: int,
    progress: Progress,
) -> dict[str, Any]:
    """From the four runs of Monday 10:00 to Saturday 05:00: people act, a scan each
    morning, Friday's pairing of the next week, a last scan. Leaves the clock (the
    pipeline's `DemoClock`) at the digests' time; the week's part of the summary (with
    ``next_pairing``, the pair handler's answer on Friday)."""
    clock = pipeline.clock
    if not isinstance(clock, DemoClock):  # pragma: no cover - the runner passes one
        raise TypeError("the simulated week needs a DemoClock")
    rng = random.Random(seed)
    actions = WeekActions()
    accept_chats(runtime, emails, actions)
    steps: list[tuple[datetime, str]] = [(m, "scan") for m in week.mornings]
    steps.append((week.next_pairing, "pair"))
    steps.append((week.digests, "last"))
    progress(
        f"the week of {week.monday:%a %d %b}: the hourly dispatch each morning, people "
        "deleting some breathers and keeping the others, coffee chats accepted, Friday's "
        "pairing of the next week, a last scan of everyone on Saturday …"
    )
    runs: list[dict[str, Any]] = []
    answer: dict[str, Any] = {}
    for moment, name in steps:
        dismiss_some(runtime, store, emails, clock(), moment, rng, actions)
        clock.set(moment)
        local = f"{moment.astimezone(zone(week.tz_name)):%a %d %b %H:%M}"
        if name == "pair":
            report, answer = pipeline.pair(0, moment, title=f"  {local}: pairing")
            accept_chats(runtime, emails, actions)
        else:  # the hourly dispatch's scans; the last one scans everyone
            report = pipeline.run(
                f"week {local}", 0, len(emails), title=f"  {local}: scan", everyone=name == "last"
            )
        runs.append({"at": scheduled_time(moment), **report.to_json()})
    return {
        "monday": week.monday.isoformat(),
        "timezone": week.tz_name,
        "digests_at": scheduled_time(week.digests),
        "breathers_deleted_by_people": actions.dismissed_count,
        "coffee_invitations_accepted": actions.accepted,
        "runs": runs,
        "next_pairing": answer,
    }


def _zone(store: TableStore, email: str) -> tzinfo:
    from micromoments.services.org import org_settings

    person = store.get_person(email)
    settings = org_settings(store)
    return person.zone(settings) if person else zone(settings.timezone)
