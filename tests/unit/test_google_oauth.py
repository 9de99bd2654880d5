"""Per-person OAuth's requests to Google, on fakes: the authorization request asks for the
three narrow calendar scopes and nothing else, the exchange keeps no broader grant, and
whose calendar a new access token reaches is read from the Calendar API's status."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping

import pytest

from micromoments.adapters.google_oauth import (
    ConnectRefused,
    OAuthClient,
    Post,
    authorization_url,
    exchange_code,
    owns_calendar,
)

CLIENT = OAuthClient("client-1", "secret-1", "https://oauth2.example/token",
                     calendar_api_url="https://calendar.example/calendar/v3/")  # fmt: skip
THREE = [
    "https://www.googleapis.com/auth/calendar.events.owned",
    "https://www.googleapis.com/auth/calendar.events.freebusy",
    "https://www.googleapis.com/auth/calendar.settings.readonly",
]


def test_the_authorization_request_asks_for_the_three_calendar_scopes_only() -> None:
    url = authorization_url(CLIENT, redirect_uri="https://mm.example/connect/callback",
                            state="s", challenge="c", login_hint="ana@example.com")  # fmt: skip
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query["scope"] == [" ".join(THREE)]


def _token_endpoint(answer: dict[str, str]) -> Post:
    def post(url: str, form: Mapping[str, str]) -> tuple[int, bytes]:
        return 200, json.dumps(answer).encode()

    return post


def test_the_exchange_keeps_the_access_token_and_refuses_more_than_was_asked() -> None:
    answer = {"access_token": "at", "refresh_token": "rt", "scope": " ".join(THREE)}
    grant = exchange_code(CLIENT, code="c", verifier="v", redirect_uri="r",
                          post=_token_endpoint(answer))  # fmt: skip
    assert (grant.access_token, grant.refresh_token, list(grant.scopes)) == ("at", "rt", THREE)
    assert "at" not in repr(grant) and "rt" not in repr(grant)
    broader = {**answer, "scope": " ".join([*THREE, "openid", "email"])}
    with pytest.raises(ConnectRefused, match="more than"):
        exchange_code(CLIENT, code="c", verifier="v", redirect_uri="r",
                      post=_token_endpoint(broader))  # fmt: skip
    with pytest.raises(ConnectRefused, match="no access token"):
        exchange_code(CLIENT, code="c", verifier="v", redirect_uri="r",
                      post=_token_endpoint({**answer, "access_token": ""}))  # fmt: skip


LIMIT = {"domain": "usageLimits", "reason": "userRateLimitExceeded"}
RATE_LIMITED = {"error": {"code": 403, "errors": [LIMIT]}}
NOT_OWNER = {"error": {"code": 403, "errors": [{"domain": "global", "reason": "forbidden"}]}}


@pytest.mark.parametrize(
    ("status", "body", "owns"),
    [
        (200, {}, True),
        (403, NOT_OWNER, False),
        (404, {}, False),
        (403, RATE_LIMITED, None),
        (429, {}, None),
        (401, {}, None),
        (500, {}, None),
        (0, {}, None),
    ],
)
def test_the_calendar_apis_answer_says_whether_the_token_owns_the_calendar(
    status: int, body: dict[str, object], owns: bool | None
) -> None:
    asked: list[tuple[str, dict[str, str]]] = []

    def get(url: str, headers: Mapping[str, str]) -> tuple[int, bytes]:
        asked.append((url, dict(headers)))
        return status, json.dumps(body).encode()

    if owns is None:
        with pytest.raises(ConnectRefused, match="could not confirm"):
            owns_calendar(CLIENT, "at", "ana+x@example.com", get=get)
    else:
        assert owns_calendar(CLIENT, "at", "ana+x@example.com", get=get) is owns
    assert asked == [(
        "https://calendar.example/calendar/v3/calendars/ana%2Bx@example.com/events"
        "?maxResults=1&fields=kind",
        {"authorization": "Bearer at"},
    )]  # fmt: skip
