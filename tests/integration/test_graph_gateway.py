"""The Microsoft Graph gateway against the local Graph server on loopback: the token
grant, delta paging, an expired delta link, idempotent creates, $batch splits, throttling,
extended properties and foreign events."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from micromoments.adapters.graph_calendar import (
    BATCH_REQUESTS,
    WINDOW_DAYS,
    GraphCalendarGateway,
)
from micromoments.domain.calendar import EventKind
from micromoments.domain.holds import Hold, HoldKind
from micromoments.domain.journal import WriteOp
from micromoments.domain.mirror import MirrorEvent
from micromoments.domain.people import PersonStatus
from micromoments.local.graph_api import GraphServer
from micromoments.ports import (
    CalendarError,
    CalendarWrite,
    SubjectRefused,
    SubjectSuspended,
)
from tests.builders import hold

pytestmark = pytest.mark.integration

ADA = "ada@example.com"
GRACE = "grace@example.com"
BERLIN = ZoneInfo("Europe/Berlin")
FULL_FROM = datetime(2026, 3, 9, tzinfo=BERLIN)
TUESDAY = date(2026, 3, 10)


@dataclass
class People:
    status: dict[str, PersonStatus] = field(default_factory=dict)
    holds: dict[str, set[str]] = field(default_factory=dict)

    def status_of(self, email: str) -> PersonStatus | None:
        return self.status.get(email)

    def ours(self, email: str) -> set[str]:
        return set(self.holds.get(email, set()))


@dataclass
class Sleeps:
    pauses: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.pauses.append(seconds)


@pytest.fixture
def server() -> Iterator[GraphServer]:
    graph = GraphServer(page_size=3, seed=3).start()
    graph.add_mailbox(ADA, timezone="W. Europe Standard Time")
    graph.add_mailbox(GRACE, timezone="Eastern Standard Time")
    try:
        yield graph
    finally:
        graph.stop()


@pytest.fixture
def people() -> People:
    return People(status={ADA: PersonStatus.ACTIVE, GRACE: PersonStatus.ACTIVE})


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def gateway(
    server: GraphServer, people: People, sleeps: Sleeps, **options: Any
) -> GraphCalendarGateway:
    transport = server.transport(sleep=sleeps)
    return GraphCalendarGateway(transport, status_of=people.status_of, ours=people.ours, **options)


@pytest.fixture
def graph(server: GraphServer, people: People, sleeps: Sleeps) -> GraphCalendarGateway:
    return gateway(server, people, sleeps)


def meeting(day: int, hour: int, **fields: Any) -> dict[str, Any]:
    stamp = f"2026-03-{day:02d}T{hour:02d}:00:00"
    end = f"2026-03-{day:02d}T{hour:02d}:30:00"
    return {
        "subject": "private title",
        "start": {"dateTime": stamp, "timeZone": "W. Europe Standard Time"},
        "end": {"dateTime": end, "timeZone": "W. Europe Standard Time"},
        "isOrganizer": False,
        "organizer": {"emailAddress": {"address": GRACE}},
        "attendees": [{"emailAddress": {"address": ADA}, "type": "required"}],
        "responseStatus": {"response": "accepted"},
        **fields,
    }


def insert(people: People, email: str, *holds: Hold) -> list[CalendarWrite]:
    people.holds.setdefault(email, set()).update(h.id for h in holds)
    return [CalendarWrite(WriteOp.INSERT, h) for h in holds]


def breather(n: int, **changes: Any) -> Hold:
    changes.setdefault("hold_id", f"mmb{n:03d}")
    return hold(HoldKind.BREATHER, TUESDAY, minute=n % 60, **changes)


def test_a_full_sync_pages_to_the_delta_link_and_a_rescan_is_one_request(
    server: GraphServer, graph: GraphCalendarGateway
) -> None:
    server.seed(ADA, [meeting(10 + i % 3, 9 + i) for i in range(7)])
    first = graph.sync(ADA, None, full_from=FULL_FROM)
    assert first.full and len(first.events) == 7
    assert all(e.kind is EventKind.MEETING for e in first.events)
    assert graph.counters.requests == 3  # pages of 3, 3 and 1
    before = graph.counters.requests
    again = graph.sync(ADA, first.token, full_from=FULL_FROM)
    assert not again.full and again.events == []
    assert graph.counters.requests - before == 1


def test_an_unchanged_rescan_keeps_its_token_until_the_link_is_a_day_old(
    server: GraphServer, people: People, sleeps: Sleeps
) -> None:
    """Graph gives a new delta link on every round: a round that brought nothing keeps the
    stored token (the scan then writes nothing), unless its link is 20 hours old, and a
    round with a change always takes the new link."""
    clock = [datetime(2026, 3, 9, 8, 0, tzinfo=UTC)]
    graph = gateway(server, people, sleeps, now=lambda: clock[0])
    ids = server.seed(ADA, [meeting(10, 9)])
    token = graph.sync(ADA, None, full_from=FULL_FROM).token
    clock[0] += timedelta(hours=19)
    assert graph.sync(ADA, token, full_from=FULL_FROM).token == token
    clock[0] += timedelta(hours=2)
    renewed = graph.sync(ADA, token, full_from=FULL_FROM)
    assert renewed.events == [] and renewed.token != token
    assert graph.sync(ADA, renewed.token, full_from=FULL_FROM).token == renewed.token
    server.change(ADA, ids[0], {"showAs": "free"})
    changed = graph.sync(ADA, renewed.token, full_from=FULL_FROM)
    assert len(changed.events) == 1 and changed.token != renewed.token
    older = "|".join(token.split("|")[::2])  # a token stored before links carried a time
    assert older.count("|") == 1
    upgraded = graph.sync(ADA, older, full_from=FULL_FROM)
    assert not upgraded.full and upgraded.token.count("|") == 2


def test_a_delta_carries_changes_and_removals(
    server: GraphServer, graph: GraphCalendarGateway
) -> None:
    ids = server.seed(ADA, [meeting(10, 9), meeting(10, 11)])
    token = graph.sync(ADA, None, full_from=FULL_FROM).token
    server.change(ADA, ids[0], {"showAs": "free"})
    server.remove(ADA, ids[1])
    delta = graph.sync(ADA, token, full_from=FULL_FROM)
    assert not delta.full
    by_id = {e.id: e for e in delta.events}
    assert not by_id[ids[0]].busy
    assert by_id[ids[1]].cancelled


def test_an_expired_delta_link_is_a_clean_full_resync(
    server: GraphServer, graph: GraphCalendarGateway
) -> None:
    server.seed(ADA, [meeting(10, 9), meeting(11, 9)])
    token = graph.sync(ADA, None, full_from=FULL_FROM).token
    server.expire_delta_links(ADA)
    again = graph.sync(ADA, token, full_from=FULL_FROM)
    assert again.full and len(again.events) == 2
    assert server.counters.by_status.get(410) == 1


def test_a_token_for_another_host_is_never_followed(
    server: GraphServer, graph: GraphCalendarGateway
) -> None:
    server.seed(ADA, [meeting(10, 9)])
    forged = "2027-01-01T00:00:00Z|https://attacker.invalid/v1.0/users/x/calendarView/delta"
    result = graph.sync(ADA, forged, full_from=FULL_FROM)
    assert result.full and len(result.events) == 1
    for odd in ("not a token", "2027-01-01T00:00:00|" + result.token.partition("|")[2]):
        assert graph.sync(ADA, odd, full_from=FULL_FROM).full


def test_holds_round_trip_their_tags_and_are_found_by_hold_id(
    server: GraphServer, graph: GraphCalendarGateway, people: People
) -> None:
    token = graph.sync(ADA, None, full_from=FULL_FROM).token
    results = graph.write(ADA, insert(people, ADA, breather(1)))
    assert [r.status for r in results] == ["ok"]
    delta = graph.sync(ADA, token, full_from=FULL_FROM)
    (mirrored,) = delta.events
    assert (mirrored.hold_id, mirrored.hold_kind, mirrored.kind) == (
        "mmb001",
        "breather",
        EventKind.HOLD,
    )
    assert mirrored.etag == results[0].etag
    fresh = gateway(server, people, Sleeps())  # no ids remembered: found by property
    found = fresh.get_event(ADA, "mmb001")
    assert found is not None and found.id == mirrored.id
    assert fresh.get_event(ADA, "mmnothing") is None
    stored = server.events(ADA)[0]
    assert "description" not in str(mirrored) and stored["subject"]


def test_a_retried_create_makes_one_event(
    server: GraphServer, graph: GraphCalendarGateway, people: People
) -> None:
    writes = insert(people, ADA, breather(1))
    first = graph.write(ADA, writes)
    again = graph.write(ADA, writes)  # a redelivered scan sends the same create
    assert [r.status for r in first + again] == ["ok", "ok"]
    assert len(server.events(ADA)) == 1


def test_writes_go_in_batches_of_twenty(
    server: GraphServer, graph: GraphCalendarGateway, people: People
) -> None:
    holds = [breather(n) for n in range(45)]
    results = graph.write(ADA, insert(people, ADA, *holds))
    assert all(r.status == "ok" for r in results)
    assert len(server.events(ADA)) == 45
    assert graph.counters.round_trips == 3 and graph.counters.requests == 45
    assert graph.counters.by_method == {"POST events": 45}
    assert server.counters.round_trips == 3  # ceil(45 / 20) batches
    assert BATCH_REQUESTS == 20


def test_throttled_requests_wait_their_retry_after(
    server: GraphServer, graph: GraphCalendarGateway, people: People, sleeps: Sleeps
) -> None:
    server.seed(ADA, [meeting(10, 9)])
    server.throttle_rate = 0.5
    server.retry_after_s = 7
    result = graph.sync(ADA, None, full_from=FULL_FROM)
    writes = graph.write(ADA, insert(people, ADA, *[breather(n) for n in range(10)]))
    server.throttle_rate = 0.0
    assert len(result.events) == 1 and all(w.status == "ok" for w in writes)
    assert server.counters.by_status.get(429, 0) > 0
    assert sleeps.pauses and all(p == 7 for p in sleeps.pauses)
    assert len(server.events(ADA)) == 11


def test_server_errors_are_retried_and_a_create_is_never_doubled(
    server: GraphServer, graph: GraphCalendarGateway, people: People
) -> None:
    server.fault_rate = 0.3
    server.lost_reply_rate = 0.4  # applied, then answered 503: the retry must not double it
    writes = graph.write(ADA, insert(people, ADA, *[breather(n) for n in range(12)]))
    server.fault_rate = server.lost_reply_rate = 0.0
    assert all(w.status == "ok" for w in writes)
    assert any(w.retried for w in writes)
    assert server.counters.by_status.get(503, 0) > 0
    made = sorted(e["transactionId"] for e in server.events(ADA))
    assert made == sorted(f"micromoments:mmb{n:03d}" for n in range(12))


def test_patch_and_delete_reach_only_our_events(
    server: GraphServer, graph: GraphCalendarGateway, people: People
) -> None:
    (foreign_id,) = server.seed(ADA, [meeting(10, 9)])
    first = breather(1)
    graph.write(ADA, insert(people, ADA, first))
    moved = breather(1, hour=15)
    results = graph.write(
        ADA, [CalendarWrite(WriteOp.PATCH, moved), CalendarWrite(WriteOp.DELETE, breather(1))]
    )
    assert [r.status for r in results] == ["ok", "ok"]
    assert [e["id"] for e in server.events(ADA)] == [foreign_id]
    with pytest.raises(SubjectRefused):
        graph.write(ADA, [CalendarWrite(WriteOp.DELETE, breather(2))])  # not recorded as ours
    people.holds[ADA].add("mmforged")
    gone = graph.write(ADA, [CalendarWrite(WriteOp.DELETE, breather(3, hold_id="mmforged"))])
    assert [r.status for r in gone] == ["gone"]  # no event carries that hold id
    assert [e["id"] for e in server.events(ADA)] == [foreign_id]
    assert all(w.event_id != foreign_id for w in server.write_log)


def test_people_not_opted_in_are_refused(
    server: GraphServer, graph: GraphCalendarGateway, people: People
) -> None:
    people.status[ADA] = PersonStatus.OPTED_OUT
    with pytest.raises(SubjectRefused):
        graph.sync(ADA, None, full_from=FULL_FROM)
    assert server.counters.requests == 0


def test_the_mailbox_time_zone_is_read_as_iana(graph: GraphCalendarGateway) -> None:
    assert graph.timezone(ADA) == "Europe/Berlin"
    assert graph.timezone(GRACE) == "America/New_York"


def test_free_busy_through_get_schedule(server: GraphServer, graph: GraphCalendarGateway) -> None:
    server.seed(ADA, [meeting(10, 9), meeting(10, 11, showAs="free")])
    start = datetime(2026, 3, 10, tzinfo=UTC)
    busy = graph.free_busy([ADA, GRACE, "nobody@example.com"], start, start + timedelta(days=1))
    assert busy[ADA] == [
        (datetime(2026, 3, 10, 8, tzinfo=UTC), datetime(2026, 3, 10, 8, 30, tzinfo=UTC))
    ]
    assert busy[GRACE] == [] and busy["nobody@example.com"] is None


def test_a_wrong_client_secret_fails_clearly(server: GraphServer, people: People) -> None:
    transport = server.transport(client_secret="wrong")
    graph = GraphCalendarGateway(transport, status_of=people.status_of, ours=people.ours)
    with pytest.raises(CalendarError, match="401 invalid_client") as caught:
        graph.timezone(ADA)
    assert "wrong" not in str(caught.value)


def test_an_expired_access_token_is_fetched_again_once(
    server: GraphServer, graph: GraphCalendarGateway
) -> None:
    graph.timezone(ADA)
    server.expire_tokens()
    assert graph.timezone(ADA) == "Europe/Berlin"
    assert graph.counters.oauth_round_trips == 2


def test_a_hold_deleted_in_outlook_comes_back_cancelled_from_the_mirror(
    server: GraphServer, people: People
) -> None:
    mirror: list[MirrorEvent] = []
    transport_gateway = gateway(server, people, Sleeps())
    token = transport_gateway.sync(ADA, None, full_from=FULL_FROM).token
    transport_gateway.write(ADA, insert(people, ADA, breather(1)))
    mirror += transport_gateway.sync(ADA, token, full_from=FULL_FROM).events
    token = transport_gateway.sync(ADA, None, full_from=FULL_FROM).token
    (ours,) = mirror
    later = GraphCalendarGateway(
        server.transport(),
        status_of=people.status_of,
        ours=people.ours,
        mirrored_holds=lambda email: mirror,
    )
    moved = later.write(ADA, [CalendarWrite(WriteOp.PATCH, breather(1, hour=15))])
    assert [r.status for r in moved] == ["ok"]
    assert later.counters.requests == 1  # the Graph id came from the mirror: no lookup
    server.remove(ADA, ours.id)  # the person deletes it in Outlook
    (dismissed,) = later.sync(ADA, token, full_from=FULL_FROM).events
    assert dismissed.cancelled and dismissed.hold_id == "mmb001"
    assert (dismissed.id, dismissed.start) == (ours.id, ours.start)


def test_tags_already_known_are_not_read_again(
    server: GraphServer, graph: GraphCalendarGateway, people: People
) -> None:
    token = graph.sync(ADA, None, full_from=FULL_FROM).token
    graph.write(ADA, insert(people, ADA, breather(1), breather(2)))
    before = graph.counters.requests
    delta = graph.sync(ADA, token, full_from=FULL_FROM)
    assert sorted(e.hold_id or "" for e in delta.events) == ["mmb001", "mmb002"]
    assert graph.counters.requests - before == 1  # our own creates: tags known, one delta

    stranger = gateway(server, people, Sleeps())  # another process: reads them, in one batch
    full = stranger.sync(ADA, None, full_from=FULL_FROM)
    assert sorted(e.hold_id or "" for e in full.events) == ["mmb001", "mmb002"]
    assert stranger.counters.by_method == {"GET calendarView/delta": 1, "GET events/{id}": 2}
    assert stranger.counters.round_trips == 2


def test_a_person_without_a_mailbox_is_suspended_not_retried(
    server: GraphServer, graph: GraphCalendarGateway, people: People, sleeps: Sleeps
) -> None:
    people.status["gone@example.com"] = PersonStatus.ACTIVE
    with pytest.raises(SubjectSuspended, match="ErrorInvalidUser"):
        graph.sync("gone@example.com", None, full_from=FULL_FROM)
    with pytest.raises(SubjectSuspended):
        graph.timezone("gone@example.com")
    assert sleeps.pauses == []


def test_a_view_running_out_is_renewed_by_a_full_sync(
    server: GraphServer, graph: GraphCalendarGateway
) -> None:
    server.seed(ADA, [meeting(10, 9)])
    token = graph.sync(ADA, None, full_from=FULL_FROM).token
    assert not graph.sync(ADA, token, full_from=FULL_FROM + timedelta(days=100)).full
    later = graph.sync(ADA, token, full_from=FULL_FROM + timedelta(days=WINDOW_DAYS - 30))
    assert later.full and later.events == []  # the new view starts after the meeting
    assert later.token.split("|")[0] > token.split("|")[0]


def test_get_schedule_asks_twenty_people_a_request(
    server: GraphServer, graph: GraphCalendarGateway, people: People
) -> None:
    everyone = [f"p{n:02d}@example.com" for n in range(25)]
    for email in everyone:
        server.add_mailbox(email)
        people.status[email] = PersonStatus.ACTIVE
    start = datetime(2026, 3, 10, tzinfo=UTC)
    busy = graph.free_busy(everyone, start, start + timedelta(days=1))
    assert busy == {email: [] for email in everyone}
    assert graph.counters.by_method == {"POST calendar/getSchedule": 2}
