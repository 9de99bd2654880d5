"""The synthetic organisation: deterministic, realistic, and faithful to the semantics."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from micromoments.domain.calendar import CalendarEvent, EventKind, zone
from micromoments.domain.day_load import DayLoad, day_loads
from micromoments.local.synthetic import (
    DECLINED,
    NEEDS_ACTION,
    OUT_OF_OFFICE,
    TENTATIVE,
    WORKING_LOCATION,
    SyntheticOrg,
    SyntheticPerson,
    expand_rule,
    generate_org,
    normalised_events,
    to_ics,
)

START = date(2025, 3, 3)  # a Monday; US daylight saving time starts inside the window
DAYS = 14


@pytest.fixture(scope="module")
def org() -> SyntheticOrg:
    return generate_org(200, seed=7, start=START, days=DAYS)


def _loads(org: SyntheticOrg, person: SyntheticPerson) -> list[DayLoad]:
    p = person.person
    return day_loads(
        normalised_events(person),
        zone(p.zone_name(org.settings.timezone)),
        p.hours(org.settings.working_hours),
        START,
        DAYS,
    )


def _local_date(value: datetime | date) -> date:
    return value.date() if isinstance(value, datetime) else value


def test_same_seed_same_org_other_seed_other_org() -> None:
    a = generate_org(40, seed=11, start=START, days=7)
    b = generate_org(40, seed=11, start=START, days=7)
    c = generate_org(40, seed=12, start=START, days=7)
    assert a == b
    assert [p.events for p in a.people] == [p.events for p in b.people]
    assert a != c
    assert [p.events for p in a.people] != [p.events for p in c.people]


def test_events_per_workday_on_average(org: SyntheticOrg) -> None:
    events = workdays = 0
    for person in org.people:
        hours = person.person.hours(org.settings.working_hours)
        workdays += sum(hours.is_workday(START + timedelta(days=i)) for i in range(DAYS))
        events += sum(hours.is_workday(_local_date(e.start)) for e in person.events)
    assert 8 <= events / workdays <= 12


def test_weekends_are_mostly_empty(org: SyntheticOrg) -> None:
    weekend = sum(
        _local_date(e.start).weekday() >= 5
        for person in org.people
        for e in person.events
        if e.event_type != OUT_OF_OFFICE
    )
    assert weekend / (len(org.people) * 4) < 0.2  # events per person and weekend day


def test_managers_have_long_meeting_days_and_back_to_back_runs(org: SyntheticOrg) -> None:
    managers = [p for p in org.people if p.role == "manager"]
    loads = [load for p in managers for load in _loads(org, p)]
    assert max(load.meeting_minutes for load in loads) >= 300
    assert sum(load.meeting_minutes >= 300 for load in loads) >= len(managers)
    assert any(load.back_to_back_meetings >= 3 for load in loads)
    everyone = [load for p in org.people for load in _loads(org, p)]
    assert any(load.after_hours_meeting_minutes > 0 for load in everyone)
    assert any(not load.available for load in everyone)
    # Overload is common but not universal outside management.
    ics = [load for p in org.people if p.role != "manager" for load in _loads(org, p)]
    share = sum(load.overloaded for load in ics) / len(ics)
    assert 0.05 < share < 0.8


def test_every_kind_of_event_is_present(org: SyntheticOrg) -> None:
    seen: Counter[str] = Counter()
    for person in org.people:
        me = person.person.email
        for event, normal in zip(person.events, normalised_events(person), strict=True):
            status = event.partstat(me)
            seen[f"status:{status}"] += 1
            seen[f"kind:{normal.kind.value}"] += 1
            seen["transparent"] += event.transparent
            seen["all_day"] += normal.all_day
            seen["series"] += event.series_uid is not None
            seen["moved"] += (
                event.original_start is not None and event.start != event.original_start
            )
            seen[f"type:{event.event_type}"] += 1
    for key in (
        f"status:{DECLINED}",
        f"status:{TENTATIVE}",
        f"status:{NEEDS_ACTION}",
        "kind:meeting",
        "kind:solo",
        "kind:out_of_office",
        "kind:all_day",
        "kind:working_location",
        "transparent",
        "all_day",
        "series",
        "moved",
        "type:focusTime",
        f"type:{OUT_OF_OFFICE}",
        f"type:{WORKING_LOCATION}",
    ):
        assert seen[key] > 0, key


def test_timed_events_are_aware_in_the_persons_zone_and_end_after_start(
    org: SyntheticOrg,
) -> None:
    for person in org.people:
        tz_name = person.person.timezone
        assert tz_name is not None
        uids = [e.uid for e in person.events]
        assert len(set(uids)) == len(uids)
        for event in person.events:
            if isinstance(event.start, datetime):
                assert isinstance(event.end, datetime)
                assert event.start.tzinfo is not None and event.end.tzinfo is not None
                assert str(event.start.tzinfo) == tz_name
                assert event.end > event.start
                assert START <= event.start.date() < START + timedelta(days=DAYS)
            else:
                assert not isinstance(event.end, datetime)
                assert event.end > event.start
            if event.attendees:
                assert any(a == person.person.email for a, _ in event.attendees)


def test_teams_managers_zones_and_addresses(org: SyntheticOrg) -> None:
    emails = [p.person.email for p in org.people]
    assert len(set(emails)) == len(emails)
    assert all(re.fullmatch(r"[a-z]+\.[a-z]+\d*@example\.com", e) for e in emails)
    assert all(org.settings.allows(e) for e in emails)
    by_email = {p.person.email: p for p in org.people}
    members = [e for team in org.teams.values() for e in team]
    assert sorted(members) == sorted(emails)
    for name, team in org.teams.items():
        assert 5 <= len(team) <= 9
        assert by_email[team[0]].role == "manager"
        assert all(by_email[e].person.team == name for e in team)
        assert all(by_email[e].manager == team[0] for e in team[1:])
    zones = Counter(p.person.timezone for p in org.people)
    assert len(zones) >= 4
    assert sum(n for _, n in zones.most_common(2)) >= len(org.people) / 2


def test_meetings_use_colleagues_addresses_and_standups_are_shared(org: SyntheticOrg) -> None:
    emails = {p.person.email for p in org.people}
    internal = colleague = 0
    for person in org.people:
        for event in person.events:
            for address, _ in event.attendees:
                if address.endswith("@example.com") and address != person.person.email:
                    internal += 1
                    colleague += address in emails
    assert colleague / internal > 0.9  # the rest are group addresses (all@, talks@)
    team = next(iter(org.teams.values()))
    calendars = [
        {e.uid for e in p.events if e.series_uid and "stand-up" in e.summary}
        for p in org.people
        if p.person.email in team
    ]
    assert calendars[0] and all(calendars[0] & uids for uids in calendars[1:])


def test_normalised_events_follow_the_calendar_semantics(org: SyntheticOrg) -> None:
    for person in org.people[:40]:
        me = person.person.email
        for event, normal in zip(person.events, normalised_events(person), strict=True):
            assert isinstance(normal, CalendarEvent)
            assert normal.declined == (event.partstat(me) == DECLINED)
            assert normal.busy == (not event.transparent)
            assert (normal.start, normal.end) == (event.start, event.end)
            others = event.organizer != me or any(a != me for a, _ in event.attendees)
            if event.event_type == WORKING_LOCATION:
                assert normal.kind is EventKind.WORKING_LOCATION
            elif event.event_type == OUT_OF_OFFICE:
                assert normal.kind is EventKind.OUT_OF_OFFICE
            elif not isinstance(event.start, datetime):
                assert normal.kind is EventKind.ALL_DAY
            else:
                assert normal.kind is (EventKind.MEETING if others else EventKind.SOLO)


def test_small_orgs_work() -> None:
    for size in (1, 3, 5, 10, 11):
        org = generate_org(size, seed=1, start=START, days=3)
        assert len(org.people) == size
        assert sum(len(t) for t in org.teams.values()) == size


def test_expand_rule_follows_the_wall_clock() -> None:
    tz = zone("Europe/Berlin")
    anchor = datetime(2025, 3, 24, 9, 30, tzinfo=tz)
    until = datetime(2025, 4, 4, 9, 30, tzinfo=tz)
    weekdays = expand_rule("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", anchor, until)
    assert len(weekdays) == 10
    assert {(d.hour, d.minute) for d in weekdays} == {(9, 30)}  # across the DST change
    fortnightly = expand_rule("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", anchor, until + timedelta(days=7))
    assert [d.date() for d in fortnightly] == [date(2025, 3, 24), date(2025, 4, 7)]


def test_ics_export_round_trips_through_the_ics_adapter(org: SyntheticOrg) -> None:
    ics = pytest.importorskip("micromoments.adapters.ics")

    def key(event: CalendarEvent) -> tuple[object, ...]:
        start, end = event.start, event.end
        if isinstance(start, datetime) and isinstance(end, datetime):
            start, end = start.astimezone(UTC), end.astimezone(UTC)
        return (start, end, event.kind, event.busy, event.declined)

    window = (
        datetime.combine(START - timedelta(days=2), datetime.min.time(), UTC),
        datetime.combine(START + timedelta(days=DAYS + 2), datetime.min.time(), UTC),
    )
    overrides = 0
    for person in org.people[:30]:
        data = to_ics(person)
        assert data.startswith(b"BEGIN:VCALENDAR")
        overrides += data.count(b"RECURRENCE-ID")
        parsed = ics.read_calendar(data, me=person.person.email, start=window[0], end=window[1])
        assert parsed.warnings == []
        expected = Counter(key(e) for e in normalised_events(person))
        assert Counter(key(e) for e in parsed.events if not e.cancelled) == expected
    assert overrides > 0
    # A recurring series is written once, with its rule.
    manager = org.people[0]
    text = to_ics(manager).decode()
    series = {e.series_uid for e in manager.events if e.series_uid}
    assert len(series) > 3
    assert text.count("RRULE:FREQ=") == len(series)
