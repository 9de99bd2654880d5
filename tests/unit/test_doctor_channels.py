"""The doctor's push-channel checks (`ops.channel_checks`) over the in-memory table: the
renewal schedule, and live channels against active people. Fixed instants, no wall clock."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from micromoments.adapters.memory import MemoryTable
from micromoments.adapters.memory_calendar import MemoryCalendar
from micromoments.adapters.table import TableStore
from micromoments.domain.people import Person, PersonStatus
from micromoments.domain.push import RENEW_BEFORE, PushChannel
from micromoments.domain.settings import CalendarProvider, OrgSettings
from micromoments.ops.channel_checks import CENSUS, RENEWAL, check_channels, renewal_day
from micromoments.ops.check_results import Check, Status
from micromoments.services.scan import scan_person

ANA, BEN, CY, DEE = "ana@example.com", "ben@example.com", "cy@example.com", "dee@example.com"
# Monday 08:00 in Berlin: the last safety scan was Friday's, at 09:00 Berlin (08:00 UTC).
NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
FRIDAY_SAFETY = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
FRIDAY_MIDNIGHT = datetime(2026, 11, 19, 23, 0, tzinfo=UTC)  # the day's first scan is full
ADDRESS = "https://push.example/calendar/notify"
_ids = itertools.count()


class World:
    def __init__(self) -> None:
        self.table = MemoryTable()
        self.store = TableStore(self.table)
        self.store.create_settings(
            OrgSettings(timezone="Europe/Berlin", allowed_domains=("example.com",))
        )

    def person(self, email: str, status: PersonStatus = PersonStatus.ACTIVE) -> None:
        self.store.create_person(Person(email=email, status=status))

    def channel(self, email: str, expires: datetime) -> None:
        n = next(_ids)
        self.store.put_channel(
            PushChannel(
                id=f"mm-{n}", person=email, resource_id=f"r-{n}", token_hash="0" * 64,
                expiration=expires,
            )
        )  # fmt: skip

    def channels_lapsed_before(self, now: datetime) -> bool:
        return all(channel.expiration < now for channel in self.store.channels(DEE))

    def doctor(
        self, *, push_on: bool = True, dispatch: Status | None = Status.OK, now: datetime = NOW
    ) -> dict[str, Check]:
        before = sorted(map(repr, self.table.items()))
        checks = check_channels(self.store, now, push_on=push_on, dispatch=dispatch)
        assert sorted(map(repr, self.table.items())) == before  # read only
        return {check.name: check for check in checks}


def healthy() -> World:
    world = World()
    world.person(ANA)
    world.channel(ANA, NOW + timedelta(days=5))
    world.person(BEN)
    world.channel(BEN, NOW + timedelta(hours=12))  # due: renewed by today's safety scan
    world.person(CY, PersonStatus.OPTED_OUT)
    world.channel(CY, NOW - timedelta(hours=3))  # lapsed, not stopped: harmless
    return world


def test_the_renewal_day_is_the_last_working_day_whose_safety_scan_surely_ran() -> None:
    world = healthy()
    ana = world.store.get_person(ANA)
    settings = world.store.get_settings()
    assert ana is not None and settings is not None
    assert renewal_day(ana, settings, NOW) == FRIDAY_MIDNIGHT
    later = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # Monday 11:00 in Berlin
    assert renewal_day(ana, settings, later) == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)


def test_a_healthy_state_passes_with_counts_and_the_soonest_renewal() -> None:
    checks = healthy().doctor()
    renewal, census = checks[RENEWAL], checks[CENSUS]
    assert renewal.status is Status.OK, renewal
    assert renewal.detail.startswith("2 live channels; 1 due for renewal")
    assert "the soonest expiring 2026-11-23 19:00 UTC" in renewal.detail
    assert census.status is Status.OK, census
    assert census.detail.startswith(
        "2 active people, 2 live channels, 0 active people without a live channel, "
        "0 live channels of people who left"
    )
    assert "@" not in renewal.detail + census.detail  # counts, never addresses


def test_channels_made_by_the_scan_pass() -> None:
    world = World()
    calendar = MemoryCalendar(now=lambda: NOW)
    for email in (ANA, BEN):
        world.person(email)
        calendar.add_calendar(email, "Europe/Berlin")
        scan_person(email, store=world.store, calendar=calendar, now=NOW, owner="w",
                    push_address=ADDRESS)  # fmt: skip
    checks = world.doctor()
    assert [c.status for c in checks.values()] == [Status.OK, Status.OK], checks
    assert checks[RENEWAL].detail.startswith("2 live channels; 0 due for renewal")


def test_a_channel_not_renewed_by_a_safety_scan_fails_the_renewal_check() -> None:
    world = healthy()
    world.person(DEE)
    # fell due Thursday 07:00 UTC: Friday's first scan should have replaced it
    world.channel(DEE, NOW - timedelta(days=3))
    checks = world.doctor()
    renewal = checks[RENEWAL]
    assert renewal.status is Status.FAIL
    assert renewal.detail.startswith(
        "1 of 3 active people's channels fell due before their last working day began and "
        "were not renewed by its scans (the earliest expiry 2026-11-20 07:00 UTC); 2 due "
        "for renewal"
    )
    assert "renewal is not happening" in renewal.detail
    assert checks[CENSUS].status is Status.FAIL
    assert "1 active people without a live channel" in checks[CENSUS].detail


def test_a_live_channel_past_its_renewal_at_a_safety_scan_fails_too() -> None:
    world = World()
    world.person(DEE)
    world.channel(DEE, FRIDAY_SAFETY + timedelta(hours=12))  # due before Friday began
    checks = world.doctor(now=FRIDAY_SAFETY + timedelta(hours=7))  # Friday 16:00 in Berlin
    assert checks[RENEWAL].status is Status.FAIL
    assert "(the earliest expiry 2026-11-20 20:00 UTC)" in checks[RENEWAL].detail
    assert checks[CENSUS].status is Status.OK  # still live


def test_a_channel_due_after_midnight_may_wait_for_the_next_working_day() -> None:
    # The first scan of Friday (say a notified one at 00:30) found it with more than a day
    # left, and the safety scan may then take the quick path, which renews nothing.
    world = World()
    world.person(DEE)
    world.channel(DEE, FRIDAY_MIDNIGHT + RENEW_BEFORE + timedelta(hours=3))
    checks = world.doctor(now=FRIDAY_SAFETY + timedelta(hours=7))
    assert checks[RENEWAL].status is Status.OK, checks[RENEWAL]
    assert checks[RENEWAL].detail.startswith("1 live channels; 1 due for renewal")


def test_a_channel_that_fell_due_after_fridays_first_scan_waits_for_the_next_safety_scan() -> None:
    world = healthy()
    world.person(DEE)
    # Fell due on Friday after its first scan (00:30 Berlin found more than RENEW_BEFORE
    # left; the quick path renews nothing), lapsed Monday 03:00 Berlin, before the safety scan.
    world.channel(DEE, FRIDAY_MIDNIGHT + RENEW_BEFORE + timedelta(hours=3))
    assert world.channels_lapsed_before(NOW)
    checks = world.doctor()
    assert checks[RENEWAL].status is Status.OK, checks[RENEWAL]
    assert "1 lapsed, to be renewed by their person's next working day" in checks[RENEWAL].detail
    census = checks[CENSUS]
    assert census.status is Status.OK, census
    assert "1 active people without a live channel (1 lapsed, renewed on their next" in (
        census.detail
    )


def test_an_active_person_without_a_channel_fails_the_census() -> None:
    world = healthy()
    world.person(DEE)
    checks = world.doctor()
    census = checks[CENSUS]
    assert census.status is Status.FAIL
    assert census.detail.startswith(
        "3 active people, 2 live channels, 1 active people without a live channel"
    )
    assert "1 active people get no change notifications" in census.detail
    assert checks[RENEWAL].status is Status.OK


def test_a_live_channel_of_someone_who_opted_out_fails_the_census() -> None:
    world = healthy()
    world.person(DEE, PersonStatus.OPTED_OUT)
    world.channel(DEE, NOW + timedelta(days=2))
    census = world.doctor()[CENSUS]
    assert census.status is Status.FAIL
    assert census.detail.startswith(
        "2 active people, 3 live channels, 0 active people without a live channel, "
        "1 live channels of people who left (1 opted_out): 1 channels should have been stopped"
    )


def test_leaving_and_suspended_peoples_channels_are_counted_not_failed() -> None:
    world = healthy()
    world.person(DEE, PersonStatus.LEAVING)
    world.channel(DEE, NOW + timedelta(days=2))
    world.person("eve@example.com", PersonStatus.SUSPENDED)
    world.channel("eve@example.com", NOW + timedelta(days=2))
    census = world.doctor()[CENSUS]
    assert census.status is Status.OK, census
    assert census.detail.endswith(
        "0 live channels of people who left; "
        "1 channels of leaving people, stopped by their removal scan; "
        "1 channels of suspended people, left to expire (none can be stopped)"
    )


def test_a_failing_dispatch_schedule_fails_the_renewal_check() -> None:
    checks = healthy().doctor(dispatch=Status.FAIL)
    assert checks[RENEWAL].status is Status.FAIL
    assert "nothing renews them" in checks[RENEWAL].detail
    skipped = healthy().doctor(dispatch=Status.SKIP)[RENEWAL]
    assert skipped.status is Status.OK
    assert skipped.detail.endswith("the dispatch schedule (which renews them) was not seen")


def test_without_push_and_without_channels_both_are_skipped() -> None:
    world = World()
    world.person(ANA)
    checks = world.doctor(push_on=False)
    assert [c.status for c in checks.values()] == [Status.SKIP, Status.SKIP]
    # a channel in the table means push is on, whatever the doctor's settings say
    world.person(BEN)
    world.channel(BEN, NOW + timedelta(days=3))
    assert world.doctor(push_on=False)[CENSUS].status is Status.FAIL


def test_on_a_microsoft_org_the_subscriptions_are_checked_as_channels() -> None:
    """Graph subscriptions are the channels of a Microsoft org, opened and renewed by the
    same scans: an active person without one fails the census there too."""
    world = World()
    world.store.put_settings(
        OrgSettings(
            timezone="Europe/Berlin",
            allowed_domains=("example.com",),
            calendar_provider=CalendarProvider.MICROSOFT,
        )
    )
    world.person(ANA)
    checks = world.doctor()
    assert (checks[RENEWAL].status, checks[CENSUS].status) == (Status.OK, Status.FAIL)
    assert "Graph subscription errors" in checks[CENSUS].detail
    world.channel(ANA, NOW + timedelta(days=6))
    assert [c.status for c in world.doctor().values()] == [Status.OK, Status.OK]
