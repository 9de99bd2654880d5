"""The Google Calendar gateway against the local Calendar v3 server on loopback.

Real google-api-python-client and google-auth over HTTP: plain requests, multipart batches
and, with the server's generated service-account key, the JWT bearer grant.
"""

from __future__ import annotations

import http.server
import json
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from micromoments.adapters.google_calendar import GoogleCalendarGateway
from micromoments.adapters.mirror_expansion import expand_mirror
from micromoments.config import Config
from micromoments.domain.calendar import EventKind
from micromoments.domain.holds import Hold, HoldKind
from micromoments.domain.journal import WriteOp
from micromoments.domain.people import PersonStatus
from micromoments.local.calendar_api import CalendarServer
from micromoments.ports import (
    CalendarError,
    CalendarWrite,
    DelegationMisconfigured,
    SubjectRefused,
    SubjectSuspended,
)
from tests.builders import hold

pytestmark = pytest.mark.integration

ADA = "ada@example.com"
GRACE = "grace@example.com"
BERLIN = ZoneInfo("Europe/Berlin")
FULL_FROM = datetime(2026, 3, 9, tzinfo=BERLIN)  # Monday of the previous ISO week


@dataclass
class People:
    """What the Store would answer: statuses and the ids of our holds."""

    status: dict[str, PersonStatus] = field(default_factory=dict)
    holds: dict[str, set[str]] = field(default_factory=dict)

    def status_of(self, email: str) -> PersonStatus | None:
        return self.status.get(email)

    def ours(self, email: str) -> set[str]:
        return set(self.holds.get(email, set()))


@pytest.fixture
def server() -> Iterator[CalendarServer]:
    # A "timeout" fault answers 503 after 50 ms: slower than a call, faster than the client.
    calendar = CalendarServer(timeout_s=0.05, seed=7).start()
    calendar.add_calendar(ADA, timezone="Europe/Berlin")
    calendar.add_calendar(GRACE, timezone="America/New_York")
    try:
        yield calendar
    finally:
        calendar.stop()


@pytest.fixture
def people() -> People:
    return People(status={ADA: PersonStatus.ACTIVE, GRACE: PersonStatus.ACTIVE})


@dataclass
class Sleeps:
    pauses: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.pauses.append(seconds)


def gateway(
    server: CalendarServer,
    people: People,
    *,
    key: bool = False,
    token: str | None = None,
    sleeps: Sleeps | None = None,
    **options: Any,
) -> GoogleCalendarGateway:
    config = Config(
        calendar_api_url=server.base_url,
        google_token_uri=server.token_uri,
        calendar_api_token=token,
    )
    return GoogleCalendarGateway(
        config,
        status_of=people.status_of,
        ours=people.ours,
        key_info=server.service_account_key() if key else None,
        sleep=sleeps if sleeps is not None else Sleeps(),
        rng=random.Random(3),
        **options,
    )


def inserts(email: str, count: int, people: People) -> list[CalendarWrite]:
    first = date(2026, 3, 16)
    writes = []
    for n in range(count):
        h = hold(
            HoldKind.SOCIAL,
            first + timedelta(days=n % 5),
            owner=email,
            hour=9 + n % 8,
            minutes=30,
            generation=n,
        )
        people.holds.setdefault(email, set()).add(h.id)
        writes.append(CalendarWrite(WriteOp.INSERT, h))
    return writes


def timed(value: str, zone: str = "Europe/Berlin") -> dict[str, str]:
    return {"dateTime": value, "timeZone": zone}


SEEDED: list[dict[str, Any]] = [
    {
        "id": "standup",
        "summary": "Stand-up",
        "organizer": {"email": GRACE},
        "attendees": [
            {"email": GRACE, "organizer": True, "responseStatus": "accepted"},
            {"email": ADA, "responseStatus": "accepted"},
        ],
        "start": timed("2026-03-16T09:00:00+01:00"),
        "end": timed("2026-03-16T09:15:00+01:00"),
        "recurrence": [
            "RRULE:FREQ=WEEKLY;BYDAY=MO",
            "EXDATE;TZID=Europe/Berlin:20260323T090000",
        ],
    },
    {
        "id": "standup_20260330T070000Z",
        "recurringEventId": "standup",
        "originalStartTime": timed("2026-03-30T09:00:00+02:00"),
        "organizer": {"email": GRACE},
        "attendees": [
            {"email": GRACE, "organizer": True, "responseStatus": "accepted"},
            {"email": ADA, "responseStatus": "declined"},
        ],
        "start": timed("2026-03-31T14:00:00+02:00"),
        "end": timed("2026-03-31T14:15:00+02:00"),
    },
    {
        "id": "standup_20260406T070000Z",
        "status": "cancelled",
        "recurringEventId": "standup",
        "originalStartTime": timed("2026-04-06T09:00:00+02:00"),
        "start": timed("2026-04-06T09:00:00+02:00"),
        "end": timed("2026-04-06T09:15:00+02:00"),
    },
    {
        "id": "focus01",
        "summary": "Focus",
        "organizer": {"email": ADA, "self": True},
        "start": timed("2026-03-17T13:00:00+01:00"),
        "end": timed("2026-03-17T15:00:00+01:00"),
    },
    {
        "id": "offsite1",
        "summary": "Offsite",
        "start": {"date": "2026-03-19"},
        "end": {"date": "2026-03-20"},
    },
    {
        "id": "longago1",
        "summary": "Old",
        "start": timed("2026-01-05T10:00:00+01:00"),
        "end": timed("2026-01-05T11:00:00+01:00"),
    },
]


# -- sync -----------------------------------------------------------------------------------------


def test_full_sync_then_delta_then_410_falls_back_to_a_full_sync(
    server: CalendarServer, people: People
) -> None:
    server.seed(ADA, SEEDED)
    calendar = gateway(server, people)

    full = calendar.sync(ADA, None, full_from=FULL_FROM)
    assert full.full and full.token
    by_id = {e.id: e for e in full.events}
    assert set(by_id) == {
        "standup",
        "standup_20260330T070000Z",
        "standup_20260406T070000Z",  # a cancelled instance is listed without showDeleted
        "focus01",
        "offsite1",
    }
    assert by_id["standup"].recurrence and by_id["standup"].kind is EventKind.MEETING
    assert by_id["standup_20260330T070000Z"].declined
    assert by_id["standup_20260406T070000Z"].cancelled
    assert by_id["focus01"].kind is EventKind.SOLO
    assert by_id["offsite1"].kind is EventKind.ALL_DAY

    window = (datetime(2026, 3, 16, tzinfo=BERLIN), datetime(2026, 4, 13, tzinfo=BERLIN))
    standups = [
        e
        for e in expand_mirror(full.events, start=window[0], end=window[1])
        if e.uid.startswith("standup/")
    ]
    assert [(e.start, e.declined) for e in standups] == [
        (datetime(2026, 3, 16, 8, tzinfo=UTC), False),  # 23 March: EXDATE
        (datetime(2026, 3, 31, 12, tzinfo=UTC), True),  # 30 March moved, declined
        # 6 April cancelled
    ]

    # Nothing changed: the delta is empty and carries a token.
    empty = calendar.sync(ADA, full.token, full_from=FULL_FROM)
    assert not empty.full and empty.events == [] and empty.token

    # A hold we place shows up in the next delta, tagged as ours.
    placed = inserts(ADA, 1, people)
    assert [r.status for r in calendar.write(ADA, placed)] == ["ok"]
    delta = calendar.sync(ADA, empty.token, full_from=FULL_FROM)
    assert not delta.full
    assert [(e.id, e.kind, e.hold_kind) for e in delta.events] == [
        (placed[0].hold.id, EventKind.HOLD, "social")
    ]

    server.invalidate_sync_tokens(ADA)
    again = calendar.sync(ADA, delta.token, full_from=FULL_FROM)
    assert again.full
    assert {e.id for e in again.events} == set(by_id) | {placed[0].hold.id}


def test_full_sync_follows_page_tokens_and_keeps_the_last_token(
    server: CalendarServer, people: People
) -> None:
    many = [
        {
            "id": f"bulk{n:05d}",
            "start": timed(f"2026-03-{16 + n % 10}T{8 + n % 9:02d}:00:00+01:00"),
            "end": timed(f"2026-03-{16 + n % 10}T{8 + n % 9:02d}:30:00+01:00"),
        }
        for n in range(620)
    ]
    server.seed(ADA, many)
    calendar = gateway(server, people)
    result = calendar.sync(ADA, None, full_from=FULL_FROM)
    assert len(result.events) == 620 and result.token
    assert calendar.counters.by_method == {"calendar.events.list": 3}  # 250 + 250 + 120
    assert calendar.counters.requests == calendar.counters.round_trips == 3
    assert calendar.sync(ADA, result.token, full_from=FULL_FROM).events == []


def test_get_event_and_timezone(server: CalendarServer, people: People) -> None:
    server.seed(ADA, SEEDED)
    calendar = gateway(server, people)
    focus = calendar.get_event(ADA, "focus01")
    assert focus is not None and focus.start == datetime(2026, 3, 17, 12, tzinfo=UTC)
    assert calendar.get_event(ADA, "nosuchevent") is None
    assert calendar.timezone(ADA) == "Europe/Berlin"
    assert calendar.timezone(GRACE) == "America/New_York"


# -- writes ---------------------------------------------------------------------------------------


def test_three_inserts_are_three_requests_in_one_round_trip(
    server: CalendarServer, people: People
) -> None:
    calendar = gateway(server, people)
    writes = inserts(ADA, 3, people)
    results = calendar.write(ADA, writes)
    assert [(r.hold_id, r.op, r.status) for r in results] == [
        (w.hold.id, WriteOp.INSERT, "ok") for w in writes
    ]
    assert all(r.etag for r in results)
    assert calendar.counters.requests == 3
    assert calendar.counters.round_trips == 1
    assert calendar.counters.by_method == {"calendar.events.insert": 3}
    assert server.counters.requests == 3 and server.counters.round_trips == 1

    stored = {e["id"]: e for e in server.events(ADA)}
    body = stored[writes[0].hold.id]
    assert body["extendedProperties"]["private"]["micromoments"] == "1"
    assert body["transparency"] == "transparent" and body["summary"] == "Social time"
    assert body["reminders"] == {"useDefault": False}


def test_patch_delete_then_reinsert_is_a_conflict(server: CalendarServer, people: People) -> None:
    calendar = gateway(server, people)
    first, second = inserts(ADA, 2, people)
    calendar.write(ADA, [first, second])

    moved = Hold(
        **{
            **{f: getattr(first.hold, f) for f in first.hold.__dataclass_fields__},
            "start": first.hold.start + timedelta(hours=2),
            "end": first.hold.end + timedelta(hours=2),
            "busy": True,
        }
    )
    results = calendar.write(
        ADA, [CalendarWrite(WriteOp.PATCH, moved), CalendarWrite(WriteOp.DELETE, second.hold)]
    )
    assert [r.status for r in results] == ["ok", "ok"]
    assert results[0].etag and results[1].etag is None
    stored = {e["id"]: e for e in server.events(ADA)}
    patched = stored[first.hold.id]
    assert patched["transparency"] == "opaque"
    assert datetime.fromisoformat(patched["start"]["dateTime"]) == moved.start
    assert patched["summary"] == "Social time"  # a patch changes time and busy only
    assert stored[second.hold.id]["status"] == "cancelled"

    again = calendar.write(ADA, [second])
    assert again[0].status == "conflict" and "409" in again[0].message
    gone = calendar.write(ADA, [CalendarWrite(WriteOp.DELETE, second.hold)])
    assert gone[0].status == "gone"
    cancelled = calendar.get_event(ADA, second.hold.id)
    assert cancelled is not None and cancelled.cancelled


def test_without_batching_every_write_is_its_own_round_trip(
    server: CalendarServer, people: People
) -> None:
    calendar = gateway(server, people, batching=False)
    results = calendar.write(ADA, inserts(ADA, 3, people))
    assert [r.status for r in results] == ["ok"] * 3
    assert calendar.counters.requests == calendar.counters.round_trips == 3


def test_batches_hold_at_most_fifty_calls(server: CalendarServer, people: People) -> None:
    calendar = gateway(server, people)
    results = calendar.write(ADA, inserts(ADA, 120, people))
    assert len(results) == 120 and {r.status for r in results} == {"ok"}
    assert calendar.counters.requests == 120
    assert calendar.counters.round_trips == 3
    assert len(server.events(ADA)) == 120


def test_a_bad_write_fails_alone(server: CalendarServer, people: People) -> None:
    calendar = gateway(server, people)
    good, bad = inserts(ADA, 2, people)
    backwards = Hold(
        **{
            **{f: getattr(bad.hold, f) for f in bad.hold.__dataclass_fields__},
            "end": bad.hold.start - timedelta(minutes=30),
        }
    )
    results = calendar.write(ADA, [good, CalendarWrite(WriteOp.INSERT, backwards)])
    assert results[0].status == "ok"
    assert results[1].status == "failed" and results[1].message.startswith("400")
    assert calendar.counters.requests == 2  # a 400 is not retried


# -- refusals -------------------------------------------------------------------------------------


def test_leaving_person_gets_no_insert_and_no_foreign_delete(
    server: CalendarServer, people: People
) -> None:
    server.seed(ADA, SEEDED)
    calendar = gateway(server, people)
    placed = inserts(ADA, 1, people)
    calendar.write(ADA, placed)
    people.status[ADA] = PersonStatus.LEAVING
    before = calendar.counters.requests

    with pytest.raises(SubjectRefused):
        calendar.write(ADA, inserts(ADA, 1, people))
    foreign = Hold(
        id="focus01",
        kind=HoldKind.SOCIAL,
        start=datetime(2026, 3, 17, 12, tzinfo=UTC),
        end=datetime(2026, 3, 17, 14, tzinfo=UTC),
        busy=True,
        day=date(2026, 3, 17),
    )
    with pytest.raises(SubjectRefused):
        calendar.write(ADA, [CalendarWrite(WriteOp.DELETE, foreign)])
    assert calendar.counters.requests == before
    assert {e["id"] for e in server.events(ADA) if e["status"] != "cancelled"} >= {"focus01"}

    # Reads and deletes of our own holds still go through.
    assert calendar.sync(ADA, None, full_from=FULL_FROM).full
    result = calendar.write(ADA, [CalendarWrite(WriteOp.DELETE, placed[0].hold)])
    assert result[0].status == "ok"

    people.status[ADA] = PersonStatus.OPTED_OUT
    with pytest.raises(SubjectRefused):
        calendar.sync(ADA, None, full_from=FULL_FROM)


# -- delegation -----------------------------------------------------------------------------------


def test_delegation_fetches_one_token_per_subject(server: CalendarServer, people: People) -> None:
    server.seed(ADA, SEEDED)
    calendar = gateway(server, people, key=True)
    assert calendar.timezone(ADA) == "Europe/Berlin"  # users/me is the token's subject
    assert calendar.timezone(GRACE) == "America/New_York"
    calendar.sync(ADA, None, full_from=FULL_FROM)
    calendar.write(ADA, inserts(ADA, 3, people))
    calendar.sync(GRACE, None, full_from=FULL_FROM)
    calendar.write(GRACE, inserts(GRACE, 2, people))
    assert calendar.counters.oauth_round_trips == 2
    assert server.counters.oauth_round_trips == 2
    assert calendar.counters.round_trips == server.counters.round_trips == 6


@pytest.fixture
def strict() -> Iterator[CalendarServer]:
    """A server answering 401 to any token it did not issue."""
    calendar = CalendarServer(require_auth=True, static_tokens={"local-token"}).start()
    calendar.add_calendar(ADA, timezone="Europe/Berlin")
    try:
        yield calendar
    finally:
        calendar.stop()


def test_an_expired_token_is_fetched_again_once(strict: CalendarServer, people: People) -> None:
    calendar = gateway(strict, people, key=True)
    calendar.timezone(ADA)
    strict.expire_access_tokens()
    assert calendar.timezone(ADA) == "Europe/Berlin"  # 401, new token, same call again
    assert calendar.counters.oauth_round_trips == 2
    assert calendar.counters.requests == strict.counters.requests == 3
    assert calendar.counters.round_trips == strict.counters.round_trips == 3


def test_an_expired_token_in_a_batch_is_fetched_again(
    strict: CalendarServer, people: People
) -> None:
    calendar = gateway(strict, people, key=True)
    calendar.write(ADA, inserts(ADA, 1, people))
    strict.expire_access_tokens()
    results = calendar.write(ADA, inserts(ADA, 3, people)[1:])
    assert [r.status for r in results] == ["ok", "ok"]
    assert calendar.counters.oauth_round_trips == 2  # one refresh for the whole batch
    # 1 insert, then a batch of 2 answered 401 part by part, then the redo of both.
    assert calendar.counters.requests == strict.counters.requests == 5
    assert calendar.counters.round_trips == strict.counters.round_trips == 3


def test_static_token_is_sent_when_no_key_is_configured(
    strict: CalendarServer, people: People
) -> None:
    assert gateway(strict, people, token="local-token").timezone(ADA) == "Europe/Berlin"
    results = gateway(strict, people, token="local-token").write(ADA, inserts(ADA, 2, people))
    assert [r.status for r in results] == ["ok", "ok"]
    with pytest.raises(CalendarError, match="401"):
        gateway(strict, people).timezone(ADA)
    unauthorised = gateway(strict, people).write(ADA, inserts(ADA, 1, people))
    assert unauthorised[0].status == "failed" and "401" in unauthorised[0].message


def test_a_suspended_subject_is_reported_and_others_go_on(
    server: CalendarServer, people: People
) -> None:
    calendar = gateway(server, people, key=True)
    server.suspend(GRACE)
    with pytest.raises(SubjectSuspended, match=GRACE):
        calendar.sync(GRACE, None, full_from=FULL_FROM)
    with pytest.raises(SubjectSuspended):
        calendar.write(GRACE, inserts(GRACE, 1, people))
    assert calendar.sync(ADA, None, full_from=FULL_FROM).full


def test_misconfigured_delegation_fails_loudly(server: CalendarServer, people: People) -> None:
    calendar = gateway(server, people, key=True)
    server.misconfigure_delegation()
    with pytest.raises(DelegationMisconfigured):
        calendar.timezone(ADA)
    with pytest.raises(DelegationMisconfigured):
        calendar.write(ADA, inserts(ADA, 1, people))


# -- retries --------------------------------------------------------------------------------------


@pytest.mark.parametrize("batching", [True, False], ids=["batch", "single"])
def test_faults_are_retried_until_every_write_is_ok(
    server: CalendarServer, people: People, batching: bool
) -> None:
    sleeps = Sleeps()
    calendar = gateway(server, people, sleeps=sleeps, batching=batching, max_attempts=8)
    server.set_fault_rate(0.2)
    writes = inserts(ADA, 60, people)
    results = calendar.write(ADA, writes)
    assert [r.status for r in results] == ["ok"] * 60, [r.message for r in results]
    assert calendar.counters.requests > 60  # some were sent again
    assert sleeps.pauses and all(0 <= p <= 32 for p in sleeps.pauses)
    assert len([e for e in server.events(ADA) if e["status"] == "confirmed"]) == 60

    synced = calendar.sync(ADA, None, full_from=FULL_FROM)  # page requests are retried too
    assert len(synced.events) == 60


def test_client_timeouts_are_retried_then_reported(people: People) -> None:
    with CalendarServer(timeout_s=1.0, fault_rate=1.0, fault_kinds=("timeout",)) as slow:
        slow.add_calendar(ADA)
        calendar = gateway(slow, people, timeout_s=0.2, max_attempts=2, batching=False)
        result = calendar.write(ADA, inserts(ADA, 1, people))
        assert result[0].status == "failed"
        assert "gave up after 2 attempts" in result[0].message
        assert "timeout" in result[0].message or "timed out" in result[0].message
        with pytest.raises(CalendarError):
            calendar.timezone(ADA)


def test_attempts_are_bounded(server: CalendarServer, people: People) -> None:
    sleeps = Sleeps()
    calendar = gateway(server, people, sleeps=sleeps, max_attempts=3)
    server.set_fault_rate(1.0)
    results = calendar.write(ADA, inserts(ADA, 2, people))
    assert [r.status for r in results] == ["failed", "failed"]
    assert all("gave up after 3 attempts" in r.message for r in results)
    assert calendar.counters.requests == 6 and calendar.counters.round_trips == 3
    assert len(sleeps.pauses) == 2
    assert sleeps.pauses[0] <= 0.5 and sleeps.pauses[1] <= 1.0  # full jitter under the cap


# -- freeBusy -------------------------------------------------------------------------------------


def test_free_busy_answers_none_only_for_the_calendar_that_failed(
    server: CalendarServer, people: People
) -> None:
    server.seed(ADA, SEEDED)
    server.seed(
        GRACE,
        [
            {
                "id": "lunch001",
                "start": timed("2026-03-17T12:00:00-04:00", "America/New_York"),
                "end": timed("2026-03-17T13:00:00-04:00", "America/New_York"),
            }
        ],
    )
    calendar = gateway(server, people, key=True)
    start, end = datetime(2026, 3, 17, tzinfo=UTC), datetime(2026, 3, 18, tzinfo=UTC)
    answer = calendar.free_busy([ADA, "nobody@example.com", GRACE], start, end)
    assert answer["nobody@example.com"] is None
    assert answer[ADA] == [
        (datetime(2026, 3, 17, 12, tzinfo=UTC), datetime(2026, 3, 17, 14, tzinfo=UTC))
    ]
    assert answer[GRACE] == [
        (datetime(2026, 3, 17, 16, tzinfo=UTC), datetime(2026, 3, 17, 17, tzinfo=UTC))
    ]
    assert calendar.counters.by_method == {"calendar.freebusy.query": 1}


def test_free_busy_asks_fifty_calendars_at_a_time(server: CalendarServer, people: People) -> None:
    emails = [f"p{n:03d}@example.com" for n in range(120)]
    for email in emails:
        server.add_calendar(email)
        people.status[email] = PersonStatus.ACTIVE
    calendar = gateway(server, people)
    answer = calendar.free_busy(
        emails, datetime(2026, 3, 17, tzinfo=UTC), datetime(2026, 3, 18, tzinfo=UTC)
    )
    assert answer == {email: [] for email in emails}
    assert calendar.counters.requests == 3


# -- the key from Secrets Manager ------------------------------------------------------------------


def test_the_key_is_read_from_secrets_manager(server: CalendarServer, people: People) -> None:
    import json

    import boto3
    from moto import mock_aws

    from micromoments.adapters.google_calendar import load_key_info
    from micromoments.adapters.secrets import SecretError

    with mock_aws():
        client = boto3.client("secretsmanager")
        client.create_secret(
            Name="google-key", SecretString=json.dumps(server.service_account_key())
        )
        client.create_secret(Name="not-a-key", SecretString="0123abcd")
        info = load_key_info("google-key", client)
        with pytest.raises(SecretError, match="not a JSON service-account key"):
            load_key_info("not-a-key", client)
        with pytest.raises(SecretError, match="ResourceNotFoundException"):
            load_key_info("missing", client)
    config = Config(calendar_api_url=server.base_url, google_token_uri=server.token_uri)
    calendar = GoogleCalendarGateway(
        config, status_of=people.status_of, ours=people.ours, key_info=info
    )
    assert calendar.timezone(ADA) == "Europe/Berlin"
    assert calendar.counters.oauth_round_trips == 1


# -- keyless: workload identity federation, impersonation, signJwt --------------------------------

AWS_KEY, AWS_SECRET, AWS_SESSION = "ASIALOCALSCAN", "scan-role-secret", "scan-role-session"
SCAN_ROLE = "arn:aws:sts::123456789012:assumed-role/micromoments-scan/scan"


@pytest.fixture
def keyless(server: CalendarServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The function's AWS credentials in the environment, as Lambda sets them, and a
    credential configuration whose pool trusts them; no service-account key exists."""
    from micromoments.local.calendar_api.aws_signature import AwsCaller

    for name, value in (
        ("AWS_ACCESS_KEY_ID", AWS_KEY),
        ("AWS_SECRET_ACCESS_KEY", AWS_SECRET),
        ("AWS_SESSION_TOKEN", AWS_SESSION),
        ("AWS_REGION", "eu-west-1"),
    ):
        monkeypatch.setenv(name, value)
    caller = AwsCaller(AWS_KEY, AWS_SECRET, AWS_SESSION, SCAN_ROLE)
    return server.credential_configuration([caller], aws_account="123456789012")


def keyless_gateway(
    server: CalendarServer, people: People, info: dict[str, Any]
) -> GoogleCalendarGateway:
    config = Config(calendar_api_url=server.base_url, google_token_uri=server.token_uri)
    return GoogleCalendarGateway(
        config, status_of=people.status_of, ours=people.ours, key_info=info, sleep=Sleeps()
    )


def test_keyless_delegation_federates_once_and_signs_one_jwt_per_subject(
    server: CalendarServer, people: People, keyless: dict[str, Any]
) -> None:
    assert keyless["type"] == "external_account"
    assert "private_key" not in json.dumps(keyless)
    calendar = keyless_gateway(server, people, keyless)
    assert calendar.access is not None and calendar.access.kind == "keyless"
    # users/me is each token's subject: the delegation JWT named the person
    assert calendar.timezone(ADA) == "Europe/Berlin"
    assert calendar.timezone(GRACE) == "America/New_York"
    results = calendar.write(ADA, inserts(ADA, 2, people))
    assert [r.status for r in results] == ["ok", "ok"]
    # one federation (STS + impersonation) for the process; per subject one signJwt, one grant
    assert server.counters.by_auth == {"sts": 1, "generateAccessToken": 1, "signJwt": 2, "token": 2}
    assert calendar.counters.oauth_round_trips == server.counters.oauth_round_trips == 6


def test_keyless_without_token_creator_on_itself_is_misconfigured(
    server: CalendarServer, people: People, keyless: dict[str, Any]
) -> None:
    server.federation.token_creator_on_itself = False
    calendar = keyless_gateway(server, people, keyless)
    with pytest.raises(DelegationMisconfigured, match=r"serviceAccountTokenCreator on itself"):
        calendar.timezone(ADA)
    assert server.counters.by_auth.get("token", 0) == 0


def test_keyless_with_credentials_the_pool_does_not_trust_is_misconfigured(
    server: CalendarServer,
    people: People,
    keyless: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "someone-elses-secret")
    calendar = keyless_gateway(server, people, keyless)
    with pytest.raises(DelegationMisconfigured, match="workload identity federation"):
        calendar.timezone(ADA)
    assert server.counters.by_auth == {"sts": 1}  # refused there: the signature is wrong


def test_keyless_without_impersonation_grant_is_misconfigured(
    server: CalendarServer, people: People, keyless: dict[str, Any]
) -> None:
    server.federation.may_impersonate = False
    with pytest.raises(DelegationMisconfigured, match="getAccessToken"):
        keyless_gateway(server, people, keyless).timezone(ADA)


def test_keyless_suspended_subject_and_refused_delegation_as_with_a_key(
    server: CalendarServer, people: People, keyless: dict[str, Any]
) -> None:
    calendar = keyless_gateway(server, people, keyless)
    server.suspend(GRACE)
    with pytest.raises(SubjectSuspended, match=GRACE):
        calendar.timezone(GRACE)
    assert calendar.timezone(ADA) == "Europe/Berlin"
    server.misconfigure_delegation()
    with pytest.raises(DelegationMisconfigured):
        keyless_gateway(server, people, keyless).timezone(ADA)


def test_the_secret_may_hold_a_credential_configuration(
    server: CalendarServer, people: People, keyless: dict[str, Any]
) -> None:
    import boto3
    from moto import mock_aws

    from micromoments.adapters.google_calendar import load_key_info
    from micromoments.adapters.secrets import SecretError

    half = {k: v for k, v in keyless.items() if k != "service_account_impersonation_url"}
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="eu-west-1")
        client.create_secret(Name="google", SecretString=json.dumps(keyless))
        client.create_secret(Name="no-impersonation", SecretString=json.dumps(half))
        info = load_key_info("google", client)
        with pytest.raises(SecretError, match="keyless credential configuration"):
            load_key_info("no-impersonation", client)
    assert keyless_gateway(server, people, info).timezone(ADA) == "Europe/Berlin"


def test_keyless_steps_that_answer_503_are_retried(
    server: CalendarServer, people: People, keyless: dict[str, Any]
) -> None:
    server.token_fault_rate = 0.4  # STS, generateAccessToken, signJwt and the token endpoint
    calendar = keyless_gateway(server, people, keyless)
    assert calendar.timezone(ADA) == "Europe/Berlin"
    assert calendar.timezone(GRACE) == "America/New_York"
    by_auth = server.counters.by_auth
    assert sum(by_auth.values()) > 6  # some steps answered 503 and were asked again


def test_keyless_federates_again_when_the_service_account_token_is_revoked(
    server: CalendarServer, people: People, keyless: dict[str, Any]
) -> None:
    calendar = keyless_gateway(server, people, keyless)
    assert calendar.timezone(ADA) == "Europe/Berlin"
    server.federation.revoke_tokens()
    assert calendar.timezone(GRACE) == "America/New_York"
    assert server.counters.by_auth["sts"] == 2


# --- push channels ---------------------------------------------------------------------------


class Notifications:
    """A webhook receiver on a free loopback port: the headers of every POST."""

    def __init__(self) -> None:
        self.messages: list[dict[str, str]] = []
        received = self.messages

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                received.append({k.lower(): v for k, v in self.headers.items()})
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.address = f"http://127.0.0.1:{self.server.server_address[1]}/calendar-push"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def notifications() -> Iterator[Notifications]:
    running = Notifications()
    try:
        yield running
    finally:
        running.close()


def test_watch_then_stop_with_delegation(
    server: CalendarServer, people: People, notifications: Notifications
) -> None:
    api = gateway(server, people, key=True)
    before = datetime.now(UTC)
    channel = api.watch(
        ADA, "mm-ada-1", "channel-secret", notifications.address, timedelta(hours=2)
    )
    assert channel.id == "mm-ada-1"
    assert channel.resource_id and channel.resource_uri
    assert before + timedelta(hours=2) - timedelta(seconds=5) <= channel.expiration
    assert channel.expiration <= datetime.now(UTC) + timedelta(hours=2)
    api.write(ADA, inserts(ADA, 1, people))
    assert server.push.wait_idle()
    states = [
        (m["x-goog-resource-state"], m["x-goog-channel-token"]) for m in notifications.messages
    ]
    assert states == [("sync", "channel-secret"), ("exists", "channel-secret")]
    assert {m["x-goog-resource-id"] for m in notifications.messages} == {channel.resource_id}
    assert api.stop_channel(ADA, channel.id, channel.resource_id) is True
    assert server.push.live_channels() == []
    assert api.stop_channel(ADA, channel.id, channel.resource_id) is False  # 404: gone already
    assert api.counters.by_method["calendar.events.watch"] == 1
    assert api.counters.by_method["calendar.channels.stop"] == 2


def test_watch_is_for_active_people_and_errors_are_mapped(
    server: CalendarServer, people: People, notifications: Notifications
) -> None:
    api = gateway(server, people)
    people.status[GRACE] = PersonStatus.LEAVING
    with pytest.raises(SubjectRefused):
        api.watch(GRACE, "mm-grace-1", "secret", notifications.address, timedelta(hours=1))
    api.watch(ADA, "mm-ada-1", "secret", notifications.address, timedelta(hours=1))
    with pytest.raises(CalendarError, match="channelIdNotUnique"):
        api.watch(ADA, "mm-ada-1", "secret", notifications.address, timedelta(hours=1))
    with pytest.raises(CalendarError, match="webhookUrlNotHttps"):
        api.watch(ADA, "mm-ada-2", "secret", "http://example.com/push", timedelta(hours=1))
    with pytest.raises(ValueError, match="ttl"):
        api.watch(ADA, "mm-ada-3", "secret", notifications.address, timedelta(0))
    people.status[ADA] = PersonStatus.OPTED_OUT  # stopping works for anyone
    assert api.stop_channel(ADA, "mm-ada-1", "wrong-resource") is False


def test_watch_and_stop_retry_transient_faults(
    server: CalendarServer, people: People, notifications: Notifications
) -> None:
    api = gateway(server, people, max_attempts=12)
    server.set_fault_rate(0.3)
    channels = [
        api.watch(ADA, f"mm-ada-{n}", "secret", notifications.address, timedelta(hours=1))
        for n in range(4)
    ]
    assert all(api.stop_channel(ADA, c.id, c.resource_id) for c in channels)
    server.set_fault_rate(0.0)
    assert sum(n for status, n in server.counters.by_status.items() if status >= 429) > 0
    assert server.push.live_channels() == []
