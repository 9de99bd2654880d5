"""The local Graph server's application access policy: with it set, a call for a mailbox
outside it answers 403 ``ErrorAccessDenied`` as Exchange does (single calls, getSchedule's
schedules and the parts of a ``$batch``), changing nothing; without it, every mailbox is
open; a mailbox not on the server is 404 either way."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from micromoments.local.graph_api import GraphServer

pytestmark = pytest.mark.integration

ADA, CEO, NOBODY = "ada@example.com", "ceo@example.com", "nobody@example.com"
REFUSAL = {
    "code": "ErrorAccessDenied",
    "message": "Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly "
    "AccessPolicy settings.",
}
EVENT = {
    "subject": "x",
    "start": {"dateTime": "2026-03-10T09:00:00", "timeZone": "UTC"},
    "end": {"dateTime": "2026-03-10T10:00:00", "timeZone": "UTC"},
}
SCHEDULE = {
    "startTime": {"dateTime": "2026-03-10T00:00:00", "timeZone": "UTC"},
    "endTime": {"dateTime": "2026-03-11T00:00:00", "timeZone": "UTC"},
}


@pytest.fixture
def server() -> Iterator[GraphServer]:
    with GraphServer(access_policy={"Ada@Example.com"}) as graph:
        graph.add_mailbox(ADA)
        graph.add_mailbox(CEO)
        graph.seed(CEO, [EVENT])
        yield graph


def call(server: GraphServer, method: str, url: str, body: Any = None) -> requests.Response:
    form = {
        "grant_type": "client_credentials",
        "client_id": server.client_id,
        "client_secret": server.client_secret,
        "scope": "https://graph.microsoft.com/.default",
    }
    token_url = f"{server.authority}{server.tenant}/oauth2/v2.0/token"
    token = requests.post(token_url, data=form, timeout=5).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    return requests.request(method, server.base_url + url, json=body, headers=headers, timeout=5)


def error(response: requests.Response) -> dict[str, Any]:
    found: dict[str, Any] = response.json()["error"]
    return {k: found[k] for k in ("code", "message")}


def test_a_mailbox_outside_the_policy_is_refused_for_reads_and_writes(
    server: GraphServer,
) -> None:
    before = server.events(CEO)
    for method, url, body in (
        ("GET", f"users/{CEO}/mailboxSettings", None),
        ("GET", f"users/{CEO}/events/{before[0]['id']}", None),
        ("POST", f"users/{CEO}/events", EVENT),
        ("DELETE", f"users/{CEO}/events/{before[0]['id']}", None),
    ):
        answer = call(server, method, url, body)
        assert (answer.status_code, error(answer)) == (403, REFUSAL), url
    assert server.events(CEO) == before  # nothing written
    assert server.write_log == []
    assert call(server, "GET", f"users/{ADA}/mailboxSettings").status_code == 200


def test_get_schedule_asking_about_a_mailbox_outside_the_policy_is_refused(
    server: GraphServer,
) -> None:
    inside = call(server, "POST", f"users/{ADA}/calendar/getSchedule",
                  {**SCHEDULE, "schedules": [ADA, NOBODY]})  # fmt: skip
    assert inside.status_code == 200  # a mailbox that does not exist is the schedule's error
    for asker, schedules in ((ADA, [ADA, CEO]), (CEO, [ADA])):
        answer = call(server, "POST", f"users/{asker}/calendar/getSchedule",
                      {**SCHEDULE, "schedules": schedules})  # fmt: skip
        assert (answer.status_code, error(answer)) == (403, REFUSAL)


def test_each_part_of_a_batch_is_refused_on_its_own(server: GraphServer) -> None:
    parts = [
        {"id": "1", "method": "GET", "url": f"/users/{ADA}/mailboxSettings"},
        {"id": "2", "method": "GET", "url": f"/users/{CEO}/mailboxSettings"},
        {"id": "3", "method": "GET", "url": f"/users/{NOBODY}/mailboxSettings"},
    ]
    answer = call(server, "POST", "$batch", {"requests": parts})
    assert answer.status_code == 200
    replies = {r["id"]: r for r in answer.json()["responses"]}
    assert [replies[i]["status"] for i in "123"] == [200, 403, 404]
    assert replies["2"]["body"]["error"]["code"] == "ErrorAccessDenied"
    assert replies["3"]["body"]["error"]["code"] == "ErrorInvalidUser"


def test_without_a_policy_every_mailbox_is_open_and_the_setter_changes_it(
    server: GraphServer,
) -> None:
    server.set_access_policy(None)
    assert call(server, "GET", f"users/{CEO}/mailboxSettings").status_code == 200
    server.set_access_policy([ADA, CEO])
    assert call(server, "GET", f"users/{CEO}/mailboxSettings").status_code == 200
    server.set_access_policy([])
    assert call(server, "GET", f"users/{ADA}/mailboxSettings").status_code == 403
    assert call(server, "GET", f"users/{NOBODY}/mailboxSettings").status_code == 404
