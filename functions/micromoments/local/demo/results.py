"""The figures of the summary: what the runs left in the Store and on the calendars, the
pictures of the shown week, and the care outcomes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from micromoments.domain.holds import REACHED_CALENDAR, HoldKind
from micromoments.local.demo.calendars import holds_on_calendar, org_calendars, shared_copies
from micromoments.local.demo.connection import Connection
from micromoments.local.demo.picture import (
    HOLD_KINDS,
    Picture,
    live_holds,
    monday_of,
    picture_of,
)
from micromoments.local.demo.pipeline import RunReport
from micromoments.local.runtime import LocalRuntime

if TYPE_CHECKING:
    from micromoments.adapters.table import TableStore
    from micromoments.local.care import CareOutcomes
    from micromoments.local.synthetic import SyntheticOrg

DAYS = 14  # the synthetic calendars' span, from the Monday of the org's week
# for the care outcomes, a hold whose time passed counts
REACHED_CALENDAR_STATUSES = frozenset(status.value for status in REACHED_CALENDAR)


def collect_results(
    org: SyntheticOrg,
    runtime: LocalRuntime,
    store: TableStore,
    runs: Sequence[RunReport],
    zones: Sequence[str],
    first_day: date,
    connection: Connection,
    ahead_of: datetime | None = None,
) -> tuple[dict[str, Any], list[Picture]]:
    """``ahead_of``: the holds whose time passed by then (kept) are not counted."""
    settings = store.get_settings() or org.settings
    calendars = org_calendars(runtime)
    now = datetime.now(UTC)
    holds: Counter[str] = Counter(dict.fromkeys(HOLD_KINDS, 0))
    per_week: Counter[date] = Counter()
    overloaded = 0
    on_calendar = 0
    for synthetic in org.people:
        person = store.get_person(synthetic.email) or synthetic.person
        tz = person.zone(settings)
        today = now.astimezone(tz).date()
        overloaded += sum(
            1
            for load in store.day_loads(synthetic.email, today, today + timedelta(weeks=3))
            if load.overloaded
        )
        for hold in live_holds(store, synthetic.email):
            holds[hold.kind.value] += 1
            per_week[monday_of(hold.day)] += 1
        on_calendar += holds_on_calendar(calendars, synthetic.email, ahead_of)
    this_week = monday_of(now.date())
    next_week = this_week + timedelta(weeks=1)
    shown = next_week if per_week[next_week] > per_week[this_week] else this_week
    paired = connection.monday
    if (
        paired is not None
        and any(chat.start for chat in connection.chats)
        and first_day <= paired < first_day + timedelta(days=DAYS)
    ):
        shown = paired  # the week of the coffee chats and drop-ins
    pictures = [
        picture_of(p, store, settings, shown, shared_copies(calendars, p.email)) for p in org.people
    ]

    first, echo, rescan = runs[0], runs[-2], runs[-1]
    scanned = first.people_scanned
    summary: dict[str, Any] = {
        "people": len(org.people),
        "teams": len(org.teams),
        "time_zones": list(zones),
        "calendar_days": {"first": first_day.isoformat(), "days": DAYS},
        "people_scanned": scanned,
        "overloaded_days": overloaded,
        "holds": dict(holds),
        "holds_on_calendar": on_calendar,
        "google_requests_per_person": {
            run.name: round(run.google_requests / run.people_scanned, 2)
            if run.people_scanned
            else 0.0
            for run in runs
        },
        "second_run_writes": rescan.writes,
        "second_run": {
            "run": rescan.name,
            "calendar_writes": rescan.calendar_writes,
            "store_writes_beyond_leases": rescan.store_writes_beyond_leases,
            "echo_absorbed": {
                "calendar_writes": echo.calendar_writes,
                "store_writes_beyond_leases": echo.store_writes_beyond_leases,
            },
        },
        "failed_messages": sum(run.failed_messages for run in runs),
        "dead_lettered": sum(run.dead_lettered for run in runs),
        "runs": [run.to_json() for run in runs],
        "connection": connection.to_json(),
        "week_shown": shown.isoformat(),
        "seconds": 0.0,
    }
    return summary, pictures


def care_figures(
    org: SyntheticOrg,
    runtime: LocalRuntime,
    store: TableStore,
    connection: Connection,
    now: datetime,
) -> CareOutcomes:
    """The care outcomes (`micromoments.local.care`) of what the runs left: each person
    as the Store has them, their seeded calendar, the live holds on it (their own and the
    shared ones they organise, from the Store; the shared ones they are invited to, from
    their calendar) and the round's coffee groups."""
    from micromoments.local.care import CareHold, CarePerson, CoffeeGroup, care_outcomes
    from micromoments.local.synthetic import normalised_events

    settings = store.get_settings() or org.settings
    calendars = org_calendars(runtime)
    people: list[CarePerson] = []
    for synthetic in org.people:
        # what is still ahead at ``now`` (the demo's week before it has passed)
        holds = [
            CareHold(hold.kind, hold.start, hold.end)
            for hold in store.holds(synthetic.email)
            if hold.status in REACHED_CALENDAR and hold.end > now
        ]
        holds += [
            CareHold(HoldKind(kind), start, end)
            for kind, start, end in shared_copies(calendars, synthetic.email)
            if end > now
        ]
        person = store.get_person(synthetic.email) or synthetic.person
        people.append(CarePerson(person, normalised_events(synthetic), holds))
    groups = [
        CoffeeGroup(
            tuple(m for m in chat.members if "@" in m),
            live=chat.on_calendar and chat.status in REACHED_CALENDAR_STATUSES,
        )
        for chat in connection.groups(HoldKind.COFFEE.value)
        if chat.start is not None
    ]
    return care_outcomes(
        people, settings, now=now, coffee_groups=groups, coffee_week=connection.monday
    )
