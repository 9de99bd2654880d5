"""The doctor's checks of the push channels (docs/decisions.md "Push notifications"): are
they renewed on schedule, and does every active person have a live one, and nobody else?

A full scan renews a person's channel when it has less than `RENEW_BEFORE` left (a quick
scan renews nothing), and an active person's first scan of a local day is a full one (the
quick path stops at the next local midnight). On a working day that first scan comes at
the latest with the daily safety scan, queued by the dispatch schedule in the hour their
working day starts. So a channel that fell due before a working day began must be renewed
once that day's safety scan has run; renewal is *not* happening when it was not. A channel
may lapse on a day off (nobody need scan the person then) and still be renewed on time.

Read only: the people and their channels come through the Store's paged reads (the member
list, then one query of each person's channel items); no Google or Graph call. A Microsoft
org's channels are Graph subscriptions, opened and renewed by the same scans on the same
schedule, so the checks are the same there.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from micromoments.domain.people import Person, PersonStatus
from micromoments.domain.push import RENEW_BEFORE, PushChannel
from micromoments.domain.settings import OrgSettings
from micromoments.ops.check_results import Check, Status, fail, ok, skip
from micromoments.ports import Store

RENEWAL = "channel renewal"
CENSUS = "channels and people"
# The dispatch runs hourly: a safety scan queued in the hour a working day starts has run
# (and renewed what was due) once this much has passed since the start of that hour.
SCAN_SLACK = timedelta(hours=2)
_LOOK_BACK_DAYS = 7  # every working-hours week has a working day in it


def renewal_day(person: Person, settings: OrgSettings, now: datetime) -> datetime | None:
    """The local midnight that began the person's latest working day whose daily safety
    scan (`services.due_scans`: the hour their working day starts, their zone) has surely
    run by ``now``: a channel that fell due before it should have been renewed that day.
    None when they have no working day in the last week."""
    tz = person.zone(settings)
    hours = person.hours(settings.working_hours)
    today = now.astimezone(tz).date()
    for back in range(_LOOK_BACK_DAYS + 1):
        day = today - timedelta(days=back)
        ranges = hours.local_ranges(day)
        if not ranges:
            continue
        first_hour = min(start for start, _ in ranges) // 60
        if datetime.combine(day, time(first_hour), tz) + SCAN_SLACK <= now:
            return datetime.combine(day, time(), tz)
    return None


@dataclass(slots=True)
class ChannelCensus:
    """What the checks report: counts only (no address leaves this class)."""

    active: int = 0
    live: int = 0  # live channels, of anyone
    due: int = 0  # channels of active people with less than RENEW_BEFORE left, or lapsed
    soonest_due: datetime | None = None
    without_live: int = 0  # active people with no live channel
    awaiting: int = 0  # ... whose channel fell due since their last renewal day began
    overdue: int = 0  # active people whose channel fell due before their last renewal day
    oldest_overdue: datetime | None = None
    stray: Counter[str] = field(default_factory=Counter)  # live channels by non-active status
    stored: int = 0  # channel items read

    def add(self, person: Person, channels: list[PushChannel], settings: OrgSettings,
            now: datetime) -> None:  # fmt: skip
        self.stored += len(channels)
        live = [c for c in channels if c.live(now)]
        self.live += len(live)
        if person.status is not PersonStatus.ACTIVE:
            if live:
                self.stray[person.status.value] += len(live)
            return
        self.active += 1
        for channel in channels:
            if channel.due_for_renewal(now):
                self.due += 1
                self.soonest_due = _earliest(self.soonest_due, channel.expiration)
        newest = max(channels, key=lambda c: c.expiration, default=None)
        day = renewal_day(person, settings, now) if newest else None
        fell_due = newest.expiration - RENEW_BEFORE if newest else None
        overdue = day is not None and fell_due is not None and fell_due < day
        if overdue and newest is not None:
            self.overdue += 1
            self.oldest_overdue = _earliest(self.oldest_overdue, newest.expiration)
        if not live:
            self.without_live += 1
            if newest is not None and not overdue:
                self.awaiting += 1


def _earliest(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b < a else a


def take_census(store: Store, settings: OrgSettings, now: datetime) -> ChannelCensus:
    census = ChannelCensus()
    for person in store.list_people():
        census.add(person, store.channels(person.email), settings, now)
    return census


def _at(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "?"


def check_channels(
    store: Store, now: datetime, *, push_on: bool, dispatch: Status | None
) -> list[Check]:
    """The renewal schedule and the census of live channels against active people.

    ``push_on``: the doctor knows the notify address (MICROMOMENTS_PUBLIC_BASE_URL, the
    stack's SiteUrl), so the scans open channels; ``dispatch`` is the status of the dispatch
    schedule's check (what queues the safety scans that renew channels)."""
    settings = store.get_settings()
    if settings is None:
        return [skip(RENEWAL, "no org settings"), skip(CENSUS, "no org settings")]
    census = take_census(store, settings, now)
    if not push_on and not census.stored:
        why = (
            "no channel is stored and MICROMOMENTS_PUBLIC_BASE_URL (SiteUrl) is not set: "
            "push is off here (--stack NAME to check a deployment)"
        )
        return [skip(RENEWAL, why), skip(CENSUS, why)]
    return [renewal_check(census, dispatch), census_check(census)]


def renewal_check(census: ChannelCensus, dispatch: Status | None) -> Check:
    margin = f"less than {_days(RENEW_BEFORE)} left or lapsed"
    due = f"{census.due} due for renewal ({margin})"
    if census.due:
        due += f", the soonest expiring {_at(census.soonest_due)}"
    if census.overdue:
        return fail(
            RENEWAL,
            f"{census.overdue} of {census.active} active people's channels fell due before "
            "their last working day began and were not renewed by its scans (the earliest "
            f"expiry {_at(census.oldest_overdue)}); {due}: renewal is not happening. Are the scans "
            "running (scan queue, scan dead-letter queue, ScanFunction logs), and can they "
            "open channels (events.watch or Graph subscription errors in the ScanFunction logs)?",
        )
    if dispatch is Status.FAIL:
        return fail(
            RENEWAL,
            f"{census.live} live channels, {due}; but the dispatch schedule fails: no daily "
            "safety scan is queued, so nothing renews them",
        )
    detail = f"{census.live} live channels; {due}"
    if census.awaiting:
        detail += f"; {census.awaiting} lapsed, to be renewed by their person's next working day"
    if dispatch is not Status.OK:
        detail += "; the dispatch schedule (which renews them) was not seen"
    return ok(RENEWAL, detail)


# Live channels of these people are expected for a while: a leaving person's removal scan
# stops them within the hour; a suspended person's account is gone, so nobody can be
# asked to stop them (Google stops sending to a gone account) and they simply expire.
_EXPECTED_STRAY = {
    PersonStatus.LEAVING.value: "of leaving people, stopped by their removal scan",
    PersonStatus.SUSPENDED.value: "of suspended people, left to expire (none can be stopped)",
}


def census_check(census: ChannelCensus) -> Check:
    counts = (
        f"{census.active} active people, {census.live} live channels, "
        f"{census.without_live} active people without a live channel"
    )
    if census.awaiting:
        counts += f" ({census.awaiting} lapsed, renewed on their next working day)"
    stray = {s: n for s, n in census.stray.items() if s not in _EXPECTED_STRAY}
    counts += f", {sum(stray.values())} live channels of people who left"
    if stray:
        counts += " (" + ", ".join(f"{n} {s}" for s, n in sorted(stray.items())) + ")"
    for status, what in _EXPECTED_STRAY.items():
        if census.stray.get(status):
            counts += f"; {census.stray[status]} channels {what}"
    missing = census.without_live - census.awaiting
    problems = []
    if missing:
        problems.append(
            f"{missing} active people get no change notifications (a channel is opened by "
            "their next scan; if this stays, see the ScanFunction logs for events.watch or Graph "
            "subscription errors)"
        )
    if stray:
        problems.append(
            f"{sum(stray.values())} channels should have been stopped (opt-out and erasure "
            "stop them)"
        )
    if problems:
        return fail(CENSUS, f"{counts}: {'; '.join(problems)}")
    return ok(CENSUS, counts)


def _days(delta: timedelta) -> str:
    days = delta / timedelta(days=1)
    return f"{days:g} day" + ("" if days == 1 else "s")
