"""The doctor's checks of the push channels (docs/decisions.md "Push notifications"): are
they renewed on schedule, and does every active person have a live one, and nobody else?

The scan renews a person's channel when it has less than `RENEW_BEFORE` left, and an active
person is scanned in full at least once every working day: the daily safety scan, queued
by the dispatch schedule in the hour their working day starts. So a channel may lapse on a
person's day off (nobody scans them then) and still be renewed on time; renewal is *not*
happening when a safety scan has run since the channel fell due and the person still has
no newer one. Read only: the people and their channels come through the Store's paged
reads (the member list, then one query of each person's channel items); no Google call.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
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


def last_safety_scan(person: Person, settings: OrgSettings, now: datetime) -> datetime | None:
    """The start of the hour of the person's latest daily safety scan that has surely run
    by ``now`` (`services.due_scans`: the hour their working day starts, their zone), or
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
        started = datetime.combine(day, time(first_hour), tz)
        if started + SCAN_SLACK <= now:
            return started
    return None


@dataclass(slots=True)
class ChannelCensus:
    """What the checks report: counts only (no address leaves this class)."""

    active: int = 0
    live: int = 0  # live channels, of anyone
    due: int = 0  # channels of active people with less than RENEW_BEFORE left, or lapsed
    soonest_due: datetime | None = None
    without_live: int = 0  # active people with no live channel
    awaiting: int = 0  # ... whose channel lapsed since their last safety scan (renewed next)
    overdue: int = 0  # active people whose channel fell due before their last safety scan
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
        safety = last_safety_scan(person, settings, now) if newest else None
        fell_due = newest.expiration - RENEW_BEFORE if newest else None
        overdue = safety is not None and fell_due is not None and fell_due < safety
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
            f"their last daily safety scan and were not renewed (the oldest expiring "
            f"{_at(census.oldest_overdue)}); {due}: renewal is not happening. Are the scans "
            "running (scan queue, scan dead-letter queue, ScanFunction logs), and can they "
            "open channels (events.watch errors in the ScanFunction logs)?",
        )
    if dispatch is Status.FAIL:
        return fail(
            RENEWAL,
            f"{census.live} live channels, {due}; but the dispatch schedule fails: no daily "
            "safety scan is queued, so nothing renews them",
        )
    detail = f"{census.live} live channels; {due}"
    if census.awaiting:
        detail += f"; {census.awaiting} lapsed since their person's last safety scan"
    if dispatch is not Status.OK:
        detail += "; the dispatch schedule (which renews them) was not seen"
    return ok(RENEWAL, detail)


def census_check(census: ChannelCensus) -> Check:
    counts = (
        f"{census.active} active people, {census.live} live channels, "
        f"{census.without_live} active people without a live channel"
    )
    if census.awaiting:
        counts += f" ({census.awaiting} lapsed since their last safety scan: their next renews)"
    stray = sum(count for status, count in census.stray.items() if status != "leaving")
    leaving = census.stray.get(PersonStatus.LEAVING.value, 0)
    counts += f", {stray} live channels of people who are not active"
    if stray:
        counts += f" ({_by_status(census.stray.items())})"
    missing = census.without_live - census.awaiting
    if missing or stray:
        problems = []
        if missing:
            problems.append(
                f"{missing} active people get no change notifications (a channel is opened by "
                "their next scan; if this stays, see the ScanFunction logs for events.watch "
                "errors)"
            )
        if stray:
            problems.append(
                f"{stray} channels should have been stopped (opt-out and erasure stop them)"
            )
        return fail(CENSUS, f"{counts}: {'; '.join(problems)}")
    if leaving:
        counts += f"; {leaving} channels of leaving people, stopped by their removal scan"
    return ok(CENSUS, counts)


def _by_status(items: Iterable[tuple[str, int]]) -> str:
    return ", ".join(f"{n} {status}" for status, n in sorted(items) if status != "leaving")


def _days(delta: timedelta) -> str:
    days = delta / timedelta(days=1)
    return f"{days:g} day" + ("" if days == 1 else "s")
