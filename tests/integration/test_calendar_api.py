"""The local Calendar v3 server, driven over real HTTP by google-api-python-client and
google-auth exactly as the Google adapter drives Google."""

from __future__ import annotations

import email.utils
import http.server
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import google_auth_httplib2
import httplib2
import pytest
from google.auth.exceptions import RefreshError
from google.oauth2 import service_account
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest

from micromoments.local.calendar_api import CalendarServer, PushKnobs, event_id_for
from micromoments.local.synthetic import generate_org

pytestmark = pytest.mark.integration

ALICE = "alice@example.com"
BOB = "bob@example.com"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
SCOPES = [
    "https://www.googleapis.com/auth/calendar.events.owned",
    "https://www.googleapis.com/auth/calendar.events.freebusy",
    "https://www.googleapis.com/auth/calendar.settings.readonly",
]


@pytest.fixture
def server() -> Iterator[CalendarServer]:
    with CalendarServer() as running:
        running.add_calendar(ALICE, timezone="Europe/Berlin")
        running.add_calendar(BOB, timezone="America/New_York")
        yield running


def client(server: CalendarServer, http: Any = None) -> Any:
    return build(
        "calendar",
        "v3",
        http=http or httplib2.Http(timeout=5),
        static_discovery=True,
        client_options={"api_endpoint": server.base_url},
    )


def timed(start: str, end: str, **extra: Any) -> dict[str, Any]:
    return {"start": {"dateTime": start}, "end": {"dateTime": end}, **extra}


def error_of(info: pytest.ExceptionInfo[HttpError]) -> tuple[int, str]:
    body = json.loads(info.value.content)
    return info.value.resp.status, body["error"]["errors"][0]["reason"]


# --- events: insert, get, patch, delete --------------------------------------------------------


def test_insert_get_patch_delete_and_the_kept_cancelled_event(server: CalendarServer) -> None:
    api = client(server).events()
    body = timed(
        "2026-03-30T10:00:00+02:00",
        "2026-03-30T10:15:00+02:00",
        id="mmhold00001",
        summary="Breather",
        extendedProperties={"private": {"mm": "breather", "gen": "0"}},
    )
    created = api.insert(calendarId=ALICE, body=body, sendUpdates="none").execute()
    assert created["id"] == "mmhold00001"
    assert created["status"] == "confirmed"
    assert created["organizer"] == {"email": ALICE, "self": True}
    assert created["etag"]

    fetched = api.get(calendarId=ALICE, eventId="mmhold00001").execute()
    assert fetched["summary"] == "Breather"

    patched = api.patch(
        calendarId=ALICE,
        eventId="mmhold00001",
        body={
            "transparency": "transparent",
            "extendedProperties": {"private": {"gen": "1"}, "shared": {"kind": "x"}},
        },
    ).execute()
    # Objects merge recursively: the untouched private key stays.
    assert patched["extendedProperties"] == {
        "private": {"mm": "breather", "gen": "1"},
        "shared": {"kind": "x"},
    }
    assert patched["transparency"] == "transparent"
    assert patched["summary"] == "Breather"
    assert patched["etag"] != created["etag"]

    assert api.delete(calendarId=ALICE, eventId="mmhold00001").execute() == ""
    kept = api.get(calendarId=ALICE, eventId="mmhold00001").execute()
    assert kept["status"] == "cancelled"

    with pytest.raises(HttpError) as gone:
        api.delete(calendarId=ALICE, eventId="mmhold00001").execute()
    assert error_of(gone) == (410, "deleted")
    with pytest.raises(HttpError) as conflict:
        api.insert(calendarId=ALICE, body=body).execute()
    assert error_of(conflict) == (409, "duplicate")
    with pytest.raises(HttpError) as missing:
        api.get(calendarId=ALICE, eventId="nosuchevent").execute()
    assert error_of(missing) == (404, "notFound")
    with pytest.raises(HttpError) as bad_id:
        api.insert(calendarId=ALICE, body={**body, "id": "Not_Base32hex"}).execute()
    assert error_of(bad_id) == (400, "invalid")
    with pytest.raises(HttpError) as unknown_calendar:
        api.list(calendarId="nobody@example.com").execute()
    assert error_of(unknown_calendar) == (404, "notFound")

    log = [(r.method, r.event_id, r.before, r.status) for r in server.write_log]
    assert log == [
        ("insert", "mmhold00001", None, 200),
        ("patch", "mmhold00001", {"mm": "breather", "gen": "0"}, 200),
        ("delete", "mmhold00001", {"mm": "breather", "gen": "1", "kind": "x"}, 204),
        ("delete", "mmhold00001", {"mm": "breather", "gen": "1", "kind": "x"}, 410),
        ("insert", "mmhold00001", {"mm": "breather", "gen": "1", "kind": "x"}, 409),
        ("insert", "Not_Base32hex", None, 400),
    ]


def test_one_stored_event_by_id_cancelled_included(server: CalendarServer) -> None:
    held = timed("2026-03-30T10:00:00+02:00", "2026-03-30T10:15:00+02:00", id="mmhold00002")
    server.seed(ALICE, [held, {**held, "id": "mmhold00003", "status": "cancelled"}])
    found = server.event(ALICE, "mmhold00002")
    assert found is not None and found["start"] == held["start"]
    assert found == next(e for e in server.events(ALICE) if e["id"] == "mmhold00002")
    found["start"] = {}  # a copy: the stored event stays
    assert server.event(ALICE, "mmhold00002") == found | {"start": held["start"]}
    cancelled = server.event(ALICE, "mmhold00003")
    assert cancelled is not None and cancelled["status"] == "cancelled"
    assert server.event(ALICE, "nosuchevent") is None
    with pytest.raises(KeyError):
        server.event("nobody@example.com", "mmhold00002")


def test_an_invitation_reaches_the_attendees_calendar(server: CalendarServer) -> None:
    api = client(server).events()
    api.insert(
        calendarId=ALICE,
        sendUpdates="all",
        body=timed(
            "2026-03-31T15:00:00+02:00",
            "2026-03-31T15:30:00+02:00",
            id="mmcoffee0001",
            attendees=[{"email": ALICE}, {"email": BOB}],
            extendedProperties={"shared": {"mm": "coffee"}, "private": {"only": "alice"}},
        ),
    ).execute()
    copy = api.get(calendarId=BOB, eventId="mmcoffee0001").execute()
    assert copy["extendedProperties"] == {"shared": {"mm": "coffee"}}
    assert copy["organizer"]["email"] == ALICE and "self" not in copy["organizer"]
    assert [a.get("self", False) for a in copy["attendees"]] == [False, True]
    api.delete(calendarId=ALICE, eventId="mmcoffee0001").execute()
    assert api.get(calendarId=BOB, eventId="mmcoffee0001").execute()["status"] == "cancelled"


# --- recurrence --------------------------------------------------------------------------------

MASTER = "weekly0001"


def seed_weekly_series(server: CalendarServer) -> None:
    """Mondays 10:00 Berlin from 16 March 2026, across the 29 March DST change: the
    23 March occurrence is skipped (EXDATE), the 6 April one moved to 12:00."""
    zone = "Europe/Berlin"
    server.seed(
        ALICE,
        [
            {
                "id": MASTER,
                "status": "confirmed",
                "summary": "Team sync",
                "organizer": {"email": ALICE, "self": True},
                "start": {"dateTime": "2026-03-16T10:00:00+01:00", "timeZone": zone},
                "end": {"dateTime": "2026-03-16T11:00:00+01:00", "timeZone": zone},
                "recurrence": [
                    "RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20260420T000000Z",
                    f"EXDATE;TZID={zone}:20260323T100000",
                ],
            },
            {
                "id": f"{MASTER}_20260406T080000Z",
                "status": "confirmed",
                "summary": "Team sync (moved)",
                "recurringEventId": MASTER,
                "originalStartTime": {"dateTime": "2026-04-06T10:00:00+02:00", "timeZone": zone},
                "start": {"dateTime": "2026-04-06T12:00:00+02:00", "timeZone": zone},
                "end": {"dateTime": "2026-04-06T13:00:00+02:00", "timeZone": zone},
            },
        ],
    )


def utc_start(item: dict[str, Any]) -> str:
    when = datetime.fromisoformat(item["start"]["dateTime"]).astimezone(UTC)
    return f"{when:%m-%d %H:%M}"


def test_single_events_expand_a_weekly_rule_across_dst(server: CalendarServer) -> None:
    seed_weekly_series(server)
    api = client(server).events()
    window = {"timeMin": "2026-03-01T00:00:00Z", "timeMax": "2026-05-01T00:00:00Z"}
    listed = api.list(calendarId=ALICE, singleEvents=True, orderBy="startTime", **window).execute()[
        "items"
    ]
    assert [utc_start(i) for i in listed] == [
        "03-16 09:00",  # CET
        "03-30 08:00",  # CEST: still 10:00 on the wall clock
        "04-06 10:00",  # the moved instance, 12:00 CEST
        "04-13 08:00",
    ]
    assert [i["id"] for i in listed] == [
        f"{MASTER}_20260316T090000Z",
        f"{MASTER}_20260330T080000Z",
        f"{MASTER}_20260406T080000Z",
        f"{MASTER}_20260413T080000Z",
    ]
    assert {i["recurringEventId"] for i in listed} == {MASTER}
    assert listed[1]["originalStartTime"]["dateTime"] == "2026-03-30T10:00:00+02:00"

    masters = api.list(calendarId=ALICE, **window).execute()["items"]
    assert sorted(i["id"] for i in masters) == [MASTER, f"{MASTER}_20260406T080000Z"]

    # An instance that is not stored is still addressable by its id; deleting it stores a
    # cancelled exception that the expansion honours.
    instance = api.get(calendarId=ALICE, eventId=f"{MASTER}_20260330T080000Z").execute()
    assert instance["recurringEventId"] == MASTER
    api.delete(calendarId=ALICE, eventId=f"{MASTER}_20260330T080000Z").execute()
    after = api.list(calendarId=ALICE, singleEvents=True, **window).execute()["items"]
    assert [utc_start(i) for i in after] == ["03-16 09:00", "04-06 10:00", "04-13 08:00"]


# --- sync --------------------------------------------------------------------------------------


def seed_plain(server: CalendarServer, count: int) -> list[str]:
    ids = [f"plain{n:05d}" for n in range(count)]
    server.seed(
        ALICE,
        [
            {
                "id": event_id,
                "summary": f"Meeting {n}",
                "start": {"dateTime": f"2026-03-3{n % 2}T{9 + n:02d}:00:00+02:00"},
                "end": {"dateTime": f"2026-03-3{n % 2}T{9 + n:02d}:30:00+02:00"},
            }
            for n, event_id in enumerate(ids)
        ],
    )
    return ids


def test_full_sync_pages_then_incremental_changes(server: CalendarServer) -> None:
    ids = seed_plain(server, 5)
    api = client(server).events()
    pages: list[dict[str, Any]] = []
    token = None
    while True:
        page = api.list(
            calendarId=ALICE, maxResults=2, timeMin="2026-03-01T00:00:00Z", pageToken=token
        ).execute()
        pages.append(page)
        token = page.get("nextPageToken")
        if token is None:
            break
    assert [len(p["items"]) for p in pages] == [2, 2, 1]
    assert all("nextSyncToken" not in p for p in pages[:-1])
    assert sorted(i["id"] for p in pages for i in p["items"]) == ids
    sync_token = pages[-1]["nextSyncToken"]

    unchanged = api.list(calendarId=ALICE, syncToken=sync_token).execute()
    assert unchanged["items"] == []
    assert unchanged["nextSyncToken"] == sync_token

    api.patch(calendarId=ALICE, eventId=ids[1], body={"summary": "Renamed"}).execute()
    api.delete(calendarId=ALICE, eventId=ids[3]).execute()
    delta = api.list(calendarId=ALICE, syncToken=sync_token).execute()
    by_id = {i["id"]: i for i in delta["items"]}
    assert set(by_id) == {ids[1], ids[3]}
    assert by_id[ids[1]]["summary"] == "Renamed"
    assert set(by_id[ids[3]]) == {"kind", "etag", "id", "status"}
    assert by_id[ids[3]]["status"] == "cancelled"
    next_token = delta["nextSyncToken"]
    assert next_token != sync_token

    again = api.list(calendarId=ALICE, syncToken=next_token).execute()
    assert again["items"] == [] and again["nextSyncToken"] == next_token

    with pytest.raises(HttpError) as both:
        api.list(calendarId=ALICE, syncToken=next_token, timeMin="2026-03-01T00:00:00Z").execute()
    assert error_of(both)[0] == 400


def test_invalidated_or_unknown_sync_token_answers_410(server: CalendarServer) -> None:
    seed_plain(server, 1)
    api = client(server).events()
    token = api.list(calendarId=ALICE).execute()["nextSyncToken"]
    server.invalidate_sync_tokens(ALICE)
    for stale in (token, "CPnotatoken"):
        with pytest.raises(HttpError) as info:
            api.list(calendarId=ALICE, syncToken=stale).execute()
        body = json.loads(info.value.content)["error"]
        assert body["code"] == 410
        assert body["message"] == "Sync token is no longer valid, a full sync is required."
        assert body["errors"][0]["reason"] == "fullSyncRequired"
    fresh = api.list(calendarId=ALICE).execute()["nextSyncToken"]
    assert api.list(calendarId=ALICE, syncToken=fresh).execute()["items"] == []


# --- freeBusy and settings -------------------------------------------------------------------


def test_free_busy_for_three_calendars_one_unknown(server: CalendarServer) -> None:
    seed_weekly_series(server)
    server.seed(
        BOB,
        [
            timed("2026-03-30T09:00:00-04:00", "2026-03-30T10:00:00-04:00", id="busy00001"),
            timed("2026-03-30T09:30:00-04:00", "2026-03-30T11:00:00-04:00", id="busy00002"),
            timed(
                "2026-03-30T12:00:00-04:00",
                "2026-03-30T13:00:00-04:00",
                id="free00001",
                transparency="transparent",
            ),
            timed(
                "2026-03-30T14:00:00-04:00",
                "2026-03-30T15:00:00-04:00",
                id="declined1",
                attendees=[
                    {"email": "carol@example.com", "responseStatus": "accepted"},
                    {"email": BOB, "self": True, "responseStatus": "declined"},
                ],
            ),
            timed(
                "2026-03-30T16:00:00-04:00",
                "2026-03-30T17:00:00-04:00",
                id="cancelled1",
                status="cancelled",
            ),
        ],
    )
    answer = (
        client(server)
        .freebusy()
        .query(
            body={
                "timeMin": "2026-03-30T00:00:00Z",
                "timeMax": "2026-03-31T00:00:00Z",
                "items": [{"id": ALICE}, {"id": BOB}, {"id": "ghost@example.com"}],
            }
        )
        .execute()
    )
    calendars = answer["calendars"]
    assert calendars[ALICE]["busy"] == [
        {"start": "2026-03-30T08:00:00Z", "end": "2026-03-30T09:00:00Z"}
    ]
    assert calendars[BOB]["busy"] == [
        {"start": "2026-03-30T13:00:00Z", "end": "2026-03-30T15:00:00Z"}
    ]
    assert calendars["ghost@example.com"]["errors"] == [{"domain": "global", "reason": "notFound"}]
    with pytest.raises(HttpError) as too_many:
        client(server).freebusy().query(
            body={
                "timeMin": "2026-03-30T00:00:00Z",
                "timeMax": "2026-03-31T00:00:00Z",
                "items": [{"id": f"p{n}@example.com"} for n in range(51)],
            }
        ).execute()
    assert error_of(too_many)[0] == 400


def test_settings_timezone_by_header_without_delegation(server: CalendarServer) -> None:
    request = client(server).settings().get(setting="timezone")
    request.headers["x-goog-user"] = ALICE
    assert request.execute() == {
        "kind": "calendar#setting",
        "etag": request.execute()["etag"],
        "id": "timezone",
        "value": "Europe/Berlin",
    }
    with pytest.raises(HttpError) as anonymous:
        client(server).settings().get(setting="timezone").execute()
    assert error_of(anonymous)[0] == 400


# --- batch -------------------------------------------------------------------------------------


def test_batch_of_three_inserts_and_one_bad_body(server: CalendarServer) -> None:
    api = client(server).events()
    outcomes: dict[str, tuple[Any, HttpError | None]] = {}

    def done(request_id: str, response: Any, exception: HttpError | None) -> None:
        outcomes[request_id] = (response, exception)

    batch = BatchHttpRequest(callback=done, batch_uri=server.batch_url)
    for n in range(3):
        body = timed("2026-03-31T09:00:00Z", "2026-03-31T09:10:00Z", id=f"batch{n:05d}")
        batch.add(api.insert(calendarId=ALICE, body=body), request_id=f"ok{n}")
    batch.add(api.insert(calendarId=ALICE, body={"summary": 3}), request_id="bad")
    server.counters.reset()
    batch.execute()

    assert server.counters.requests == 4
    assert server.counters.round_trips == 1
    assert server.counters.by_method == {"events.insert": 4}
    for n in range(3):
        response, exception = outcomes[f"ok{n}"]
        assert exception is None and response["id"] == f"batch{n:05d}"
    response, exception = outcomes["bad"]
    assert response is None and exception is not None and exception.resp.status == 400
    assert sorted(e["id"] for e in server.events(ALICE)) == [f"batch{n:05d}" for n in range(3)]


def test_batch_of_more_than_fifty_parts_is_refused(server: CalendarServer) -> None:
    api = client(server).events()
    lines = []
    for n in range(51):
        lines += [
            "--b",
            "Content-Type: application/http",
            f"Content-ID: <x+{n}>",
            "",
            f"GET /calendar/v3/calendars/{ALICE}/events/e{n:05d} HTTP/1.1",
            "",
        ]
    lines.append("--b--")
    response, _ = httplib2.Http(timeout=5).request(
        server.batch_url,
        "POST",
        body="\r\n".join(lines),
        headers={"content-type": 'multipart/mixed; boundary="b"'},
    )
    assert response.status == 400
    assert api is not None


# --- validation against the discovery document ---------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"summary": 3}, "invalid"),
        ({"colour": "x"}, "invalid"),
        ({"start": {"dateTime": "2026-03-30T10:00:00+02:00"}}, "required"),
        ({"attendees": [{"email": "x@example.com", "responseStatus": "maybe"}]}, "invalid"),
        ({"extendedProperties": {"private": {"k": 1}}}, "invalid"),
        (timed("2026-03-30T10:00:00", "2026-03-30T11:00:00"), "invalid"),  # no zone
        (timed("2026-03-30T11:00:00Z", "2026-03-30T10:00:00Z"), "timeRangeEmpty"),
    ],
)
def test_bodies_are_validated_against_the_discovery_document(
    server: CalendarServer, body: dict[str, Any], reason: str
) -> None:
    with pytest.raises(HttpError) as info:
        client(server).events().insert(calendarId=ALICE, body=body).execute()
    assert error_of(info) == (400, reason)
    assert server.events(ALICE) == []


def test_unknown_query_parameters_are_refused(server: CalendarServer) -> None:
    http = httplib2.Http(timeout=5)
    url = f"{server.base_url}calendars/alice%40example.com/events"
    ok, _ = http.request(url + "?singleEvents=true&alt=json")
    assert ok.status == 200
    response, content = http.request(url + "?colour=red")
    assert response.status == 400
    assert json.loads(content)["error"]["errors"][0]["reason"] == "invalid"
    response, _ = http.request(url + "?maxResults=lots")
    assert response.status == 400


# --- OAuth: domain-wide delegation --------------------------------------------------------


def delegated(server: CalendarServer, subject: str, scopes: list[str] = SCOPES) -> Any:
    credentials = service_account.Credentials.from_service_account_info(
        server.service_account_key(), scopes=scopes, subject=subject
    )
    return google_auth_httplib2.AuthorizedHttp(credentials, http=httplib2.Http(timeout=5))


def test_jwt_grant_gives_a_token_for_the_subjects_own_calendar() -> None:
    with CalendarServer(require_auth=True) as server:
        server.add_calendar(ALICE, timezone="Europe/Berlin")
        server.add_calendar(BOB)
        with pytest.raises(HttpError) as anonymous:
            client(server).events().list(calendarId=ALICE).execute()
        assert error_of(anonymous) == (401, "authError")

        api = client(server, delegated(server, ALICE))
        assert api.settings().get(setting="timezone").execute()["value"] == "Europe/Berlin"
        assert api.events().list(calendarId=ALICE).execute()["items"] == []
        assert api.events().list(calendarId="primary").execute()["summary"] == ALICE
        with pytest.raises(HttpError) as other:
            api.events().list(calendarId=BOB).execute()
        assert error_of(other) == (404, "notFound")
        # freeBusy may look at colleagues' calendars.
        busy = (
            api.freebusy()
            .query(
                body={
                    "timeMin": "2026-03-30T00:00:00Z",
                    "timeMax": "2026-03-31T00:00:00Z",
                    "items": [{"id": BOB}],
                }
            )
            .execute()
        )
        assert busy["calendars"][BOB]["busy"] == []
        assert server.counters.oauth_round_trips == 1

        # An expired token answers 401; google-auth refreshes and retries.
        server.expire_access_tokens()
        assert api.events().list(calendarId=ALICE).execute()["items"] == []
        assert server.counters.oauth_round_trips == 2

        key = server.service_account_key()
        assert key["type"] == "service_account"
        assert key["token_uri"] == server.token_uri
        assert key["private_key"].startswith("-----BEGIN PRIVATE KEY-----")


def test_a_static_token_when_auth_is_required() -> None:
    with CalendarServer(require_auth=True, static_tokens={"static-token"}) as server:
        server.add_calendar(ALICE)
        http = httplib2.Http(timeout=5)
        url = f"{server.base_url}calendars/alice%40example.com/events"
        ok, _ = http.request(url, headers={"authorization": "Bearer static-token"})
        assert ok.status == 200
        refused, _ = http.request(url, headers={"authorization": "Bearer guessed"})
        assert refused.status == 401


def test_refused_grants(server: CalendarServer) -> None:
    broad = client(server, delegated(server, ALICE, ["https://www.googleapis.com/auth/calendar"]))
    with pytest.raises(RefreshError, match="invalid_scope"):
        broad.events().list(calendarId=ALICE).execute()

    server.suspend(BOB)
    with pytest.raises(RefreshError, match="invalid_grant"):
        client(server, delegated(server, BOB)).events().list(calendarId=BOB).execute()
    with pytest.raises(RefreshError, match="invalid_grant"):
        client(server, delegated(server, "ghost@example.com")).events().list(
            calendarId="primary"
        ).execute()
    assert client(server, delegated(server, ALICE)).events().list(calendarId=ALICE).execute()

    server.misconfigure_delegation()
    with pytest.raises(RefreshError, match="unauthorized_client"):
        client(server, delegated(server, ALICE)).events().list(calendarId=ALICE).execute()


def test_a_narrow_scope_covers_only_its_methods(server: CalendarServer) -> None:
    only_settings = [SCOPES[2]]
    api = client(server, delegated(server, ALICE, only_settings))
    assert api.settings().get(setting="timezone").execute()["value"] == "Europe/Berlin"
    with pytest.raises(HttpError) as info:
        api.events().list(calendarId=ALICE).execute()
    assert error_of(info) == (403, "insufficientPermissions")


# --- knobs -----------------------------------------------------------------------------------


def test_fault_rate_one_gives_only_google_errors_and_applies_no_write() -> None:
    with CalendarServer(fault_rate=1.0, seed=4, timeout_s=0.05) as server:
        server.add_calendar(ALICE)
        api = client(server).events()
        statuses: Counter[int] = Counter()
        for n in range(20):
            body = timed("2026-03-30T10:00:00Z", "2026-03-30T11:00:00Z", id=f"fault{n:05d}")
            with pytest.raises(HttpError) as info:
                api.insert(calendarId=ALICE, body=body).execute(num_retries=0)
            status, reason = error_of(info)
            statuses[status] += 1
            if status in (403, 429):
                assert reason == "rateLimitExceeded"
        assert set(statuses) <= {403, 429, 500, 503}
        assert len(statuses) >= 3
        assert server.events(ALICE) == []
        assert all(r.status >= 403 for r in server.write_log) and len(server.write_log) == 20

        server.set_fault_rate(0.0)
        assert api.list(calendarId=ALICE).execute()["items"] == []


def test_apply_then_fail_applies_the_write() -> None:
    with CalendarServer(apply_then_fail_rate=1.0) as server:
        server.add_calendar(ALICE)
        body = timed("2026-03-30T10:00:00Z", "2026-03-30T11:00:00Z", id="applied01")
        with pytest.raises(HttpError) as info:
            client(server).events().insert(calendarId=ALICE, body=body).execute()
        assert info.value.resp.status == 503
        assert [e["id"] for e in server.events(ALICE)] == ["applied01"]


def test_latency_is_added_per_round_trip() -> None:
    with CalendarServer(latency_ms=80) as server:
        server.add_calendar(ALICE)
        api = client(server).events()
        api.list(calendarId=ALICE).execute()  # connection set up
        started = time.perf_counter()
        api.list(calendarId=ALICE).execute()
        assert time.perf_counter() - started >= 0.08


def test_per_user_rate_limit() -> None:
    with CalendarServer(per_user_per_minute=3) as server:
        server.add_calendar(ALICE)
        server.add_calendar(BOB)
        api = client(server).events()
        for _ in range(3):
            api.list(calendarId=ALICE).execute()
        with pytest.raises(HttpError) as info:
            api.list(calendarId=ALICE).execute(num_retries=0)
        assert error_of(info) == (403, "userRateLimitExceeded")
        assert api.list(calendarId=BOB).execute()["items"] == []


# --- the synthetic organisation ------------------------------------------------------------


def test_seeded_synthetic_people_expand_to_their_occurrences() -> None:
    # Two weeks across the 29 March 2026 DST change in Europe.
    org = generate_org(8, seed=5, start=date(2026, 3, 23), days=14)
    with CalendarServer() as server:
        server.seed_org(org)
        api = client(server).events()
        for person in org.people:
            stored = server.events(person.email)
            assert all(
                re.fullmatch(r"[0-9a-v]{5,1024}", e["id"]) for e in stored if "_" not in e["id"]
            )
            assert any(e.get("recurrence") for e in stored)
            items = api.list(
                calendarId=person.email,
                singleEvents=True,
                timeMin="2026-03-15T00:00:00Z",
                timeMax="2026-04-15T00:00:00Z",
                maxResults=2500,
            ).execute()["items"]
            assert len(items) == len(person.events), person.email

            listed = Counter(
                occurrence_key(
                    i["start"],
                    i["end"],
                    i.get("transparency") == "transparent",
                    any(
                        a.get("self") and a["responseStatus"] == "declined"
                        for a in i.get("attendees", ())
                    ),
                )
                for i in items
            )
            expected = Counter(
                occurrence_key(
                    _time(e.start),
                    _time(e.end),
                    e.transparent,
                    e.partstat(person.email) == "DECLINED",
                )
                for e in person.events
            )
            assert listed == expected, person.email
        assert event_id_for("sr1") == "edp32"


def occurrence_key(
    start: dict[str, str], end: dict[str, str], transparent: bool, declined: bool
) -> tuple[str, ...]:
    """An occurrence as (start, end, transparent, declined), timed bounds as UTC instants."""
    if "date" in start:
        return (start["date"], end["date"], str(transparent), str(declined))
    bounds = (datetime.fromisoformat(v["dateTime"]) for v in (start, end))
    return (*(b.astimezone(UTC).isoformat() for b in bounds), str(transparent), str(declined))


def _time(value: datetime | date) -> dict[str, str]:
    if isinstance(value, datetime):
        return {"dateTime": value.isoformat()}
    return {"date": value.isoformat()}


def test_a_timeout_fault_outlasts_a_short_client_timeout() -> None:
    with CalendarServer(fault_rate=1.0, fault_kinds=("timeout",), timeout_s=1.0) as server:
        server.add_calendar(ALICE)
        api = client(server, httplib2.Http(timeout=0.2)).events()
        body = timed("2026-03-30T10:00:00Z", "2026-03-30T11:00:00Z", id="slow00001")
        started = time.perf_counter()
        with pytest.raises(TimeoutError):
            api.insert(calendarId=ALICE, body=body).execute(num_retries=0)
        assert time.perf_counter() - started < 0.9
        assert server.events(ALICE) == []
    # stop() did not wait for the sleeping handler.


def test_partial_responses_and_extended_property_filters(server: CalendarServer) -> None:
    ids = seed_plain(server, 3)
    api = client(server).events()
    api.patch(
        calendarId=ALICE,
        eventId=ids[2],
        body={"extendedProperties": {"private": {"mm": "social"}}},
    ).execute()
    page = api.list(
        calendarId=ALICE,
        privateExtendedProperty="mm=social",
        fields="items(id,extendedProperties/private),nextSyncToken",
    ).execute()
    assert page["items"] == [{"id": ids[2], "extendedProperties": {"private": {"mm": "social"}}}]
    assert set(page) == {"items", "nextSyncToken"}


# --- keyless: STS token exchange, generateAccessToken, signJwt ----------------------------


def _post(url: str, body: Any, *, form: bool = False, token: str | None = None) -> Any:
    from urllib.parse import urlencode

    headers = {"content-type": "application/x-www-form-urlencoded" if form else "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    data = urlencode(body) if form else json.dumps(body)
    response, content = httplib2.Http(timeout=5).request(url, "POST", body=data, headers=headers)
    return response.status, json.loads(content)


def test_keyless_stand_ins_verify_the_aws_signature_and_the_sign_jwt_jwt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import base64

    from google.auth import aws, crypt, jwt

    from micromoments.local.calendar_api.aws_signature import AwsCaller
    from micromoments.local.calendar_api.oauth import generate_key

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ASIASCAN")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "the-role-secret")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    role = "arn:aws:sts::123456789012:assumed-role/micromoments-scan/s"
    with CalendarServer(require_auth=True) as server:
        server.add_calendar(ALICE, timezone="Europe/Berlin")
        info = server.credential_configuration(
            [AwsCaller("ASIASCAN", "the-role-secret", None, role)], aws_account="123456789012"
        )
        request = google_auth_httplib2.Request(httplib2.Http(timeout=5))

        # a subject token signed with another secret is refused at STS
        federated = aws.Credentials.from_info(info, scopes=[CLOUD_PLATFORM])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "a-guess")
        forged = {
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
            "audience": info["audience"],
            "scope": CLOUD_PLATFORM,
            "requested_token_type": "urn:ietf:params:oauth:token-type:access_token",
            "subject_token_type": info["subject_token_type"],
            "subject_token": federated.retrieve_subject_token(request),
        }
        status, answer = _post(info["token_url"], forged, form=True)
        assert (status, answer["error"]) == (400, "invalid_grant")
        assert "signature does not match" in answer["error_description"]

        # the real secret: federated, then impersonating the service account
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "the-role-secret")
        federated.refresh(request)
        sa_token = federated.token
        email = federated.service_account_email
        sign_url = info["service_account_impersonation_url"].replace(
            ":generateAccessToken", ":signJwt"
        )
        now = int(time.time())
        claims = {"iss": email, "sub": ALICE, "scope": " ".join(SCOPES),
                  "aud": server.token_uri, "iat": now, "exp": now + 3600}  # fmt: skip
        status, signed = _post(sign_url, {"payload": json.dumps(claims)}, token=sa_token)
        assert status == 200
        assertion = signed["signedJwt"]
        header = json.loads(base64.urlsafe_b64decode(assertion.split(".")[0] + "=="))
        assert header["kid"] == signed["keyId"]

        grant = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer"}
        status, token = _post(server.token_uri, {**grant, "assertion": assertion}, form=True)
        assert status == 200 and token["access_token"]

        # a changed claim, or a key the service account does not have, is refused
        head, _, signature = assertion.split(".")
        other = dict(claims, sub="bob@example.com")
        body = base64.urlsafe_b64encode(json.dumps(other).encode()).rstrip(b"=").decode()
        status, refused = _post(
            server.token_uri, {**grant, "assertion": f"{head}.{body}.{signature}"}, form=True
        )
        assert (status, refused["error_description"]) == (400, "Invalid JWT Signature.")
        stranger = generate_key()
        foreign = jwt.encode(
            crypt.RSASigner.from_string(stranger.private_key_pem, signed["keyId"]), claims
        ).decode()
        status, refused = _post(server.token_uri, {**grant, "assertion": foreign}, form=True)
        assert (status, refused["error_description"]) == (400, "Invalid JWT Signature.")

        # signJwt needs the service account's own token, and a short-lived claim set
        status, _ = _post(sign_url, {"payload": json.dumps(claims)}, token="ya29.guessed")
        assert status == 401
        late = dict(claims, exp=now + 13 * 3600)
        status, _ = _post(sign_url, {"payload": json.dumps(late)}, token=sa_token)
        assert status == 400
        assert server.counters.by_auth == {
            "sts": 2, "generateAccessToken": 1, "signJwt": 3, "token": 3,
        }  # fmt: skip


# --- push notifications: events.watch, channels.stop ---------------------------------------


class Receiver:
    """A webhook receiver on a free loopback port: records every POST it gets, answering
    ``statuses`` in turn (then 200)."""

    def __init__(self, statuses: tuple[int, ...] = ()) -> None:
        self.messages: list[dict[str, str]] = []
        self.bodies: list[bytes] = []
        self._statuses = list(statuses)
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                receiver.bodies.append(self.rfile.read(length))
                receiver.messages.append({k.lower(): v for k, v in self.headers.items()})
                status = receiver._statuses.pop(0) if receiver._statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/notify"

    def states(self) -> list[tuple[str, int]]:
        return [
            (m["x-goog-resource-state"], int(m["x-goog-message-number"])) for m in self.messages
        ]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    try:
        yield running
    finally:
        running.close()


class Clock:
    """Epoch seconds that move only when told (channel expiry without waiting)."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def push_server(clock: Clock | None = None, **knobs: Any) -> CalendarServer:
    running = CalendarServer(seed=11, push_knobs=PushKnobs(**knobs), clock=clock or Clock())
    running.start()
    running.add_calendar(ALICE, timezone="Europe/Berlin")
    running.add_calendar(BOB, timezone="America/New_York")
    return running


def watch(server: CalendarServer, address: str, channel_id: str = "chan-1", **extra: Any) -> Any:
    body = {"id": channel_id, "type": "web_hook", "address": address, **extra}
    return client(server).events().watch(calendarId=ALICE, body=body).execute()


def add_meeting(server: CalendarServer, event_id: str, calendar: str = ALICE) -> None:
    body = timed("2026-03-30T10:00:00+02:00", "2026-03-30T11:00:00+02:00", id=event_id)
    client(server).events().insert(calendarId=calendar, body=body).execute()


def test_watch_answers_the_channel_then_sync_and_exists_with_growing_numbers(
    receiver: Receiver,
) -> None:
    clock = Clock()
    server = push_server(clock)
    try:
        channel = watch(server, receiver.address, token="secret-token-1", params={"ttl": "3600"})
        assert channel["kind"] == "api#channel"
        assert channel["id"] == "chan-1"
        assert channel["token"] == "secret-token-1"
        assert channel["expiration"] == str(int(clock.now * 1000) + 3_600_000)
        assert (
            channel["resourceUri"]
            == server.base_url + "calendars/alice%40example.com/events?alt=json"
        )
        assert channel["resourceId"]
        add_meeting(server, "meeting00001")
        add_meeting(server, "meeting00002")
        add_meeting(server, "bobmeeting01", calendar=BOB)  # not watched: no message
        assert server.push.wait_idle()
    finally:
        server.stop()
    assert receiver.states() == [("sync", 1), ("exists", 2), ("exists", 3)]
    first = receiver.messages[0]
    assert first["x-goog-channel-id"] == "chan-1"
    assert first["x-goog-channel-token"] == "secret-token-1"
    assert first["x-goog-resource-id"] == channel["resourceId"]
    assert first["x-goog-resource-uri"] == channel["resourceUri"]
    assert first["x-goog-channel-expiration"] == email.utils.formatdate(
        int(channel["expiration"]) / 1000, usegmt=True
    )
    assert receiver.bodies == [b"", b"", b""]


def test_every_channel_on_a_calendar_shares_its_resource_id(receiver: Receiver) -> None:
    server = push_server()
    try:
        one = watch(server, receiver.address, "chan-1")
        two = watch(server, receiver.address, "chan-2")
        assert one["resourceId"] == two["resourceId"]
        assert "token" not in one
        add_meeting(server, "meeting00001")
        assert server.push.wait_idle()
    finally:
        server.stop()
    by_channel = Counter(
        (m["x-goog-channel-id"], m["x-goog-resource-state"]) for m in receiver.messages
    )
    assert by_channel == {
        ("chan-1", "sync"): 1,
        ("chan-1", "exists"): 1,
        ("chan-2", "sync"): 1,
        ("chan-2", "exists"): 1,
    }
    assert all("x-goog-channel-token" not in m for m in receiver.messages)


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        ({"type": "web_hook", "address": "http://127.0.0.1:9/x"}, 400, "required"),
        ({"id": "bad id!", "type": "web_hook", "address": "http://127.0.0.1:9/x"}, 400, "invalid"),
        ({"id": "c" * 65, "type": "web_hook", "address": "http://127.0.0.1:9/x"}, 400, "invalid"),
        ({"id": "c1", "type": "email", "address": "http://127.0.0.1:9/x"}, 400, "invalid"),
        ({"id": "c1", "type": "web_hook"}, 400, "required"),
        (
            {"id": "c1", "type": "web_hook", "address": "http://example.com/x"},
            400,
            "push.webhookUrlNotHttps",
        ),
        (
            {"id": "c1", "type": "web_hook", "address": "https://example.com/x"},
            400,
            "push.webhookUrlUnauthorized",
        ),
        ({"id": "c1", "type": "web_hook", "address": "ftp://127.0.0.1/x"}, 400, "invalid"),
        (
            {"id": "c1", "type": "web_hook", "address": "http://127.0.0.1:9/x", "token": "t" * 257},
            400,
            "invalid",
        ),
        (
            {
                "id": "c1",
                "type": "web_hook",
                "address": "http://127.0.0.1:9/x",
                "params": {"ttl": "soon"},
            },
            400,
            "invalid",
        ),
        (
            {
                "id": "c1",
                "type": "web_hook",
                "address": "http://127.0.0.1:9/x",
                "expiration": "1000",
            },
            400,
            "invalid",
        ),
        (
            {"id": "c1", "type": "web_hook", "address": "http://127.0.0.1:9/x", "color": "red"},
            400,
            "invalid",
        ),
    ],
)
def test_bad_watch_requests_are_refused_and_open_nothing(
    body: dict[str, Any], status: int, reason: str
) -> None:
    server = push_server()
    try:
        with pytest.raises(HttpError) as info:
            client(server).events().watch(calendarId=ALICE, body=body).execute()
        assert error_of(info) == (status, reason)
        assert server.push.live_channels() == []
    finally:
        server.stop()


def test_a_duplicate_channel_id_is_refused(receiver: Receiver) -> None:
    server = push_server()
    try:
        watch(server, receiver.address, "chan-1")
        with pytest.raises(HttpError) as info:
            watch(server, receiver.address, "chan-1")
        assert error_of(info) == (400, "channelIdNotUnique")
        with pytest.raises(HttpError) as unknown:
            client(server).events().watch(
                calendarId="nobody@example.com",
                body={"id": "chan-9", "type": "web_hook", "address": receiver.address},
            ).execute()
        assert error_of(unknown) == (404, "notFound")
    finally:
        server.stop()


def test_stop_ends_the_channel_and_an_unknown_channel_answers_404(receiver: Receiver) -> None:
    server = push_server()
    try:
        channel = watch(server, receiver.address, "chan-1")
        channels = client(server).channels()
        with pytest.raises(HttpError) as wrong:
            channels.stop(body={"id": "chan-1", "resourceId": "not-the-resource"}).execute()
        assert error_of(wrong) == (404, "notFound")
        assert (
            channels.stop(body={"id": "chan-1", "resourceId": channel["resourceId"]}).execute()
            == ""
        )
        add_meeting(server, "meeting00001")
        assert server.push.wait_idle()
        with pytest.raises(HttpError) as again:
            channels.stop(body={"id": "chan-1", "resourceId": channel["resourceId"]}).execute()
        assert error_of(again) == (404, "notFound")
        with pytest.raises(HttpError) as missing:
            channels.stop(body={"id": "chan-1"}).execute()
        assert error_of(missing) == (400, "required")
        watch(server, receiver.address, "chan-1")  # a stopped channel's id may be used again
        assert server.push.wait_idle()  # its sync message is out before the server stops
    finally:
        server.stop()
    assert [s for s, _ in receiver.states()] == ["sync", "sync"]


def test_a_channel_expires_and_sends_nothing_after(receiver: Receiver) -> None:
    clock = Clock()
    server = push_server(clock)
    try:
        week = watch(server, receiver.address, "chan-week", params={"ttl": "99999999"})
        assert int(week["expiration"]) == int(clock.now * 1000) + 604_800_000  # capped
        at = str(int(clock.now * 1000) + 60_000)
        short = watch(server, receiver.address, "chan-minute", expiration=at)
        assert short["expiration"] == at
        add_meeting(server, "meeting00001")
        assert server.push.wait_idle()
        clock.now += 61
        assert server.push.live_channels() == ["chan-week"]
        add_meeting(server, "meeting00002")
        assert server.push.wait_idle()
        with pytest.raises(HttpError) as info:
            client(server).channels().stop(
                body={"id": "chan-minute", "resourceId": short["resourceId"]}
            ).execute()
        assert error_of(info) == (404, "notFound")
    finally:
        server.stop()
    minute = [
        m["x-goog-resource-state"]
        for m in receiver.messages
        if m["x-goog-channel-id"] == "chan-minute"
    ]
    week_states = [
        m["x-goog-resource-state"]
        for m in receiver.messages
        if m["x-goog-channel-id"] == "chan-week"
    ]
    assert minute == ["sync", "exists"]
    assert week_states == ["sync", "exists", "exists"]


def test_a_5xx_answer_is_retried_and_a_4xx_is_not() -> None:
    receiver = Receiver(statuses=(200, 503, 503, 404))
    server = push_server(retry_base_ms=1)
    try:
        watch(server, receiver.address)
        add_meeting(server, "meeting00001")  # 503, 503, then 404: failed after 3 attempts
        add_meeting(server, "meeting00002")
        assert server.push.wait_idle()
    finally:
        server.stop()
        receiver.close()
    outcomes = [(d.number, d.outcome, d.status, d.attempts) for d in server.push.deliveries]
    assert outcomes == [(1, "delivered", 200, 1), (2, "failed", 404, 3), (3, "delivered", 200, 1)]


def test_a_slow_receiver_does_not_hold_up_the_api() -> None:
    release = threading.Event()
    answered: list[int] = []

    class Slow(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            release.wait(10)
            answered.append(1)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    slow = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=slow.serve_forever, daemon=True).start()
    server = push_server()
    try:
        watch(server, f"http://127.0.0.1:{slow.server_address[1]}/")
        for number in range(3):
            add_meeting(server, f"meeting0000{number}")  # answered while the sync waits
        assert answered == []  # every call was answered while the receiver still held on
        assert len(server.events(ALICE)) == 3
        release.set()
        assert server.push.wait_idle()
    finally:
        release.set()
        server.stop()
        slow.shutdown()
        slow.server_close()
    assert [d.outcome for d in server.push.deliveries] == ["delivered"] * 4


def push_run(receiver: Receiver, changes: int, **knobs: Any) -> list[tuple[str, int]]:
    server = push_server(**knobs)
    try:
        watch(server, receiver.address)
        for number in range(changes):
            add_meeting(server, f"meeting{number:05d}")
        assert server.push.wait_idle()
    finally:
        server.stop()
    return receiver.states()


def test_the_drop_knob_loses_a_seeded_share_and_leaves_gaps(receiver: Receiver) -> None:
    states = push_run(receiver, 40, drop_rate=0.5)
    numbers = [n for s, n in states if s == "exists"]
    assert states[0] == ("sync", 1)
    assert 5 < len(numbers) < 35
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    again = Receiver()
    try:
        assert push_run(again, 40, drop_rate=0.5) == states  # same seed, same fate
    finally:
        again.close()


def test_the_duplicate_knob_sends_the_same_number_twice(receiver: Receiver) -> None:
    states = push_run(receiver, 3, duplicate_rate=1.0)
    assert states == [
        ("sync", 1),
        ("exists", 2),
        ("exists", 2),
        ("exists", 3),
        ("exists", 3),
        ("exists", 4),
        ("exists", 4),
    ]


def test_the_reorder_knob_sends_a_message_after_the_next(receiver: Receiver) -> None:
    states = push_run(receiver, 4, reorder_rate=1.0, reorder_hold_ms=60_000)
    assert states == [("sync", 1), ("exists", 3), ("exists", 2), ("exists", 5), ("exists", 4)]


def test_the_delay_knob_holds_messages_back(receiver: Receiver) -> None:
    server = push_server(delay_ms=300_000)
    try:
        watch(server, receiver.address)
        add_meeting(server, "meeting00001")
        assert not server.push.wait_idle(timeout=0.5)  # the exists message waits its delay
        assert receiver.states() == [("sync", 1)]
        server.set_push_knobs(delay_ms=0)
    finally:
        server.stop()
    assert PushKnobs(delay_ms=5).delay_ms == 5
    with pytest.raises(ValueError, match="drop_rate"):
        PushKnobs(drop_rate=1.5)


def test_a_message_queued_before_stop_never_reaches_a_new_channel_with_the_same_id() -> None:
    first, second = Receiver(), Receiver()
    server = push_server(delay_ms=2000)
    try:
        channel = watch(server, first.address, "chan-1")
        add_meeting(server, "meeting00001")  # its exists message waits two seconds
        client(server).channels().stop(
            body={"id": "chan-1", "resourceId": channel["resourceId"]}
        ).execute()
        watch(server, second.address, "chan-1")
        assert server.push.wait_idle()
    finally:
        server.stop()
        first.close()
        second.close()
    assert first.states() == [("sync", 1)]
    assert second.states() == [("sync", 1)]
    assert [(d.number, d.state, d.outcome) for d in server.push.deliveries] == [
        (1, "sync", "delivered"),
        (1, "sync", "delivered"),
        (2, "exists", "cancelled"),
    ]


def test_a_keys_signer_is_loaded_once_and_signs_with_that_key() -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    from micromoments.local.calendar_api import oauth

    key = oauth.generate_key()
    signer = oauth.signer(key.private_key_pem, key.key_id)
    assert oauth.signer(key.private_key_pem, key.key_id) is signer
    assert signer.key_id == key.key_id
    signature = signer.sign(b"claims")
    key.public_key.verify(signature, b"claims", padding.PKCS1v15(), hashes.SHA256())
