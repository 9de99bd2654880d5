"""The local Microsoft Graph server refuses what Graph refuses: requests without its
token, bad grants, batches over 20, calendar views without a window, malformed events."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from micromoments.local.graph_api import MAX_BATCH, GraphServer

pytestmark = pytest.mark.integration

ADA = "ada@example.com"
EVENT = {
    "subject": "x",
    "start": {"dateTime": "2026-03-10T09:00:00", "timeZone": "W. Europe Standard Time"},
    "end": {"dateTime": "2026-03-10T10:00:00", "timeZone": "W. Europe Standard Time"},
}


@pytest.fixture
def server() -> Iterator[GraphServer]:
    with GraphServer() as graph:
        graph.add_mailbox(ADA)
        yield graph


def token(server: GraphServer, **changes: str) -> requests.Response:
    form = {
        "grant_type": "client_credentials",
        "client_id": server.client_id,
        "client_secret": server.client_secret,
        "scope": "https://graph.microsoft.com/.default",
        **changes,
    }
    return requests.post(
        f"{server.authority}{server.tenant}/oauth2/v2.0/token", data=form, timeout=5
    )


@pytest.fixture
def auth(server: GraphServer) -> dict[str, str]:
    return {"Authorization": "Bearer " + token(server).json()["access_token"]}


def call(
    server: GraphServer, auth: dict[str, str], method: str, url: str, body: Any = None
) -> requests.Response:
    return requests.request(method, server.base_url + url, json=body, headers=auth, timeout=5)


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"scope": "Calendars.ReadWrite"}, "invalid_scope"),
        ({"client_secret": "wrong"}, "invalid_client"),
    ],
)
def test_only_the_client_credentials_grant_of_the_app_gets_a_token(
    server: GraphServer, changes: dict[str, str], error: str
) -> None:
    answer = token(server, **changes)
    assert answer.status_code in (400, 401) and answer.json()["error"] == error


def test_a_call_without_an_issued_token_is_refused(server: GraphServer) -> None:
    answer = call(
        server, {"Authorization": "Bearer made-up"}, "GET", f"users/{ADA}/mailboxSettings"
    )
    assert answer.status_code == 401


def test_a_batch_holds_at_most_twenty_requests(server: GraphServer, auth: dict[str, str]) -> None:
    parts = [
        {"id": str(i), "method": "POST", "url": f"/users/{ADA}/events", "body": EVENT}
        for i in range(MAX_BATCH + 1)
    ]
    assert call(server, auth, "POST", "$batch", {"requests": parts}).status_code == 400
    assert server.events(ADA) == []
    answer = call(server, auth, "POST", "$batch", {"requests": parts[:MAX_BATCH]})
    assert [r["status"] for r in answer.json()["responses"]] == [201] * MAX_BATCH


def test_a_calendar_view_needs_its_window(server: GraphServer, auth: dict[str, str]) -> None:
    answer = call(server, auth, "GET", f"users/{ADA}/calendarView/delta")
    assert answer.status_code == 400


@pytest.mark.parametrize(
    "changes",
    [
        {"showAs": "away"},
        {"start": {"dateTime": "2026-03-10T09:00:00", "timeZone": "Mars Standard Time"}},
        {"end": {"dateTime": "2026-03-10T08:00:00", "timeZone": "W. Europe Standard Time"}},
        {"singleValueExtendedProperties": [{"id": "mm", "value": "1"}]},
    ],
)
def test_a_malformed_event_is_refused_and_changes_nothing(
    server: GraphServer, auth: dict[str, str], changes: dict[str, Any]
) -> None:
    answer = call(server, auth, "POST", f"users/{ADA}/events", {**EVENT, **changes})
    assert answer.status_code == 400 and answer.json()["error"]["code"]
    assert server.events(ADA) == []


def test_throttling_answers_429_with_retry_after(server: GraphServer, auth: dict[str, str]) -> None:
    server.throttle_rate, server.retry_after_s = 1.0, 9
    answer = call(server, auth, "GET", f"users/{ADA}/mailboxSettings")
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "9"


def test_an_attendee_answers_the_copy_a_meeting_left_in_their_mailbox(
    server: GraphServer, auth: dict[str, str]
) -> None:
    server.add_mailbox("grace@example.com")
    guest = [{"emailAddress": {"address": "grace@example.com"}, "type": "required"}]
    created = call(server, auth, "POST", f"users/{ADA}/events", {**EVENT, "attendees": guest})
    (copy,) = server.events("grace@example.com")
    assert copy["iCalUId"] == created.json()["iCalUId"] and copy["isOrganizer"] is False
    url = f"users/grace@example.com/events/{copy['id']}"
    assert call(server, auth, "POST", url + "/accept", {"sendResponse": True}).status_code == 202
    assert call(server, auth, "POST", url + "/shrug", {}).status_code == 404
    (answered,) = server.events("grace@example.com")
    assert answered["responseStatus"]["response"] == "accepted"
    (organisers,) = server.events(ADA)
    assert organisers["attendees"][0]["status"]["response"] == "accepted"


def _at(day: int, hour: int, zone: str = "UTC") -> dict[str, str]:
    return {"dateTime": f"2026-03-{day:02d}T{hour:02d}:00:00", "timeZone": zone}


def test_get_schedule_lists_the_calendars_items_with_their_status_and_own_times(
    server: GraphServer, auth: dict[str, str]
) -> None:
    """As Graph's scheduleItems: one item per event on the calendar, free ones too, each
    with its event's own start and end (not cut to the period); an all-day event from
    midnight to midnight in the mailbox's zone; a declined or cancelled meeting is not on
    the calendar (Exchange takes a declined one off it)."""
    server.add_mailbox("grace@example.com", timezone="Tokyo Standard Time")
    grace = "grace@example.com"
    organiser = {"isOrganizer": False, "organizer": {"emailAddress": {"address": ADA}}}
    server.seed(
        grace,
        [
            {"subject": "a", "start": _at(10, 8), "end": _at(10, 9), "showAs": "tentative"},
            {"subject": "b", "start": _at(10, 9), "end": _at(10, 10), "showAs": "free"},
            {"subject": "c", "start": _at(10, 10), "end": _at(10, 11), "showAs": "oof"},
            {**EVENT, "showAs": "workingElsewhere"},
            {"subject": "d", "isAllDay": True, "start": _at(11, 0), "end": _at(12, 0)},
            {"subject": "e", "start": _at(9, 20), "end": _at(10, 7)},  # from before
            {"subject": "f", "start": _at(10, 12), "end": _at(10, 13), **organiser}
            | {"responseStatus": {"response": "declined"}},
            {"subject": "g", "start": _at(10, 13), "end": _at(10, 14), "isCancelled": True},
        ],
    )
    body = {"schedules": [grace], "startTime": _at(10, 0), "endTime": _at(11, 12)}
    answer = call(server, auth, "POST", f"users/{ADA}/calendar/getSchedule", body)
    assert answer.status_code == 200
    (schedule,) = answer.json()["value"]
    items = [
        (i["status"], i["start"]["dateTime"][:16], i["end"]["dateTime"][:16])
        for i in schedule["scheduleItems"]
    ]
    assert items == [
        ("busy", "2026-03-09T20:00", "2026-03-10T07:00"),
        ("tentative", "2026-03-10T08:00", "2026-03-10T09:00"),
        ("workingElsewhere", "2026-03-10T08:00", "2026-03-10T09:00"),
        ("free", "2026-03-10T09:00", "2026-03-10T10:00"),
        ("oof", "2026-03-10T10:00", "2026-03-10T11:00"),
        ("busy", "2026-03-10T15:00", "2026-03-11T15:00"),  # 11 March in Tokyo
    ]
