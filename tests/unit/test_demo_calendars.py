"""The demo's view of the org's calendars on the Graph server (`local.demo.graph_calendars`):
our holds by their extended properties, shared copies by PS_PUBLIC_STRINGS (the
shared-holds contract of issue 19), a person's deletion and answer; on an unstarted
GraphServer (its state, no HTTP)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from micromoments.adapters.graph_calendar.events import HOLD_ID_PROPERTY, TAGS_PROPERTY
from micromoments.adapters.graph_calendar.events import SHARED_PROPERTY_SET as PUBLIC_STRINGS
from micromoments.local.demo.calendars import holds_on_calendar, shared_copies
from micromoments.local.demo.graph_calendars import GraphCalendars
from micromoments.local.graph_api import GraphServer

ANA, BEN = "ana@example.com", "ben@example.com"
ZONE = "W. Europe Standard Time"


def event(start: str, end: str, **fields: Any) -> dict[str, Any]:
    return {
        "subject": "x",
        "start": {"dateTime": start, "timeZone": ZONE},
        "end": {"dateTime": end, "timeZone": ZONE},
        **fields,
    }


def private(hold_id: str, kind: str) -> list[dict[str, str]]:
    return [
        {"id": HOLD_ID_PROPERTY, "value": hold_id},
        {"id": TAGS_PROPERTY, "value": f"{kind};1;private"},
    ]


def public(hold_id: str, kind: str) -> list[dict[str, str]]:
    return [
        {"id": f"String {PUBLIC_STRINGS} Name mm_hold_id", "value": hold_id},
        {"id": f"String {PUBLIC_STRINGS} Name mm_tags", "value": f"{kind};1;shared"},
    ]


def attendee(address: str, response: str) -> dict[str, Any]:
    return {
        "emailAddress": {"address": address},
        "type": "required",
        "status": {"response": response},
    }


def calendars() -> tuple[GraphServer, GraphCalendars]:
    server = GraphServer()
    tags = "singleValueExtendedProperties"
    day = "2026-12-08T"
    server.seed(ANA, [
        event(f"{day}10:00:00", f"{day}10:10:00", **{tags: private("b1", "breather")}),
        event(f"{day}11:00:00", f"{day}11:30:00", attendees=[attendee(BEN, "none")],
              **{tags: public("c1", "coffee")}),
        event(f"{day}12:00:00", f"{day}13:00:00"),  # a meeting of hers
    ])  # fmt: skip
    server.seed(BEN, [
        event(f"{day}11:00:00", f"{day}11:30:00", isOrganizer=False,
              organizer={"emailAddress": {"address": ANA}}, attendees=[attendee(BEN, "none")],
              responseStatus={"response": "notResponded"}, **{tags: public("c1", "coffee")}),
        # a foreign invitation naming a private tag is never a hold of his
        event("2026-12-09T09:00:00", "2026-12-09T10:00:00", isOrganizer=False,
              organizer={"emailAddress": {"address": "eve@example.org"}},
              **{tags: private("b9", "breather")}),
    ])  # fmt: skip
    return server, GraphCalendars(server)


def test_holds_are_recognised_by_their_properties_and_copies_by_public_strings() -> None:
    _, org = calendars()
    breather, coffee, meeting = org.live_events(ANA)
    assert breather.ours and breather.hold_id == "b1" and breather.shared_kind is None
    assert coffee.ours and coffee.shared_kind == "coffee" and coffee.hold_id == "c1"
    assert not meeting.ours and meeting.hold_id is None
    berlin = ZoneInfo("Europe/Berlin")
    assert breather.times == (
        datetime(2026, 12, 8, 10, tzinfo=berlin),
        datetime(2026, 12, 8, 10, 10, tzinfo=berlin),
    )
    copy, foreign = org.live_events(BEN)
    assert not copy.ours and not copy.organised_here
    assert copy.shared_kind == "coffee" and copy.hold_id == "c1" and copy.organiser == ANA
    assert not foreign.ours and foreign.shared_kind is None
    assert holds_on_calendar(org, ANA) == 2 and holds_on_calendar(org, BEN) == 0
    assert copy.times is not None
    assert shared_copies(org, BEN) == [("coffee", *copy.times)]
    assert shared_copies(org, ANA) == []


def test_a_shared_hold_tagged_privately_is_known_on_its_organiser_s_event_only() -> None:
    server = GraphServer()
    tags = {"singleValueExtendedProperties": private("w1", "watercooler")}
    server.seed(ANA, [event("2026-12-08T11:00:00", "2026-12-08T11:30:00", **tags)])
    [drop_in] = GraphCalendars(server).live_events(ANA)
    assert drop_in.shared_kind == "watercooler" and drop_in.hold_id == "w1" and drop_in.ours


def test_a_declined_copy_is_no_shared_copy_and_a_cancelled_event_is_not_live() -> None:
    server, org = calendars()
    [copy_id, _] = [e["id"] for e in server.events(BEN)]
    server.change(BEN, copy_id, {"isCancelled": True})
    assert [e.hold_id for e in org.live_events(BEN)] == [None]  # the foreign one only
    server.seed(BEN, [event("2026-12-10T11:00:00", "2026-12-10T11:30:00", isOrganizer=False,
                            responseStatus={"response": "declined"},
                            singleValueExtendedProperties=public("c2", "coffee"))])  # fmt: skip
    assert shared_copies(org, BEN) == []


def test_the_person_deletes_a_hold_and_answers_on_their_copy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, org = calendars()
    assert org.delete_hold(ANA, "b1") is True
    assert org.delete_hold(ANA, "b1") is False  # gone
    assert [e.hold_id for e in org.live_events(ANA)] == ["c1", None]
    assert [w.method for w in server.write_log] == []  # the person's, not ours
    coffee = org.live_events(ANA)[0]
    assert coffee.response_of(BEN) == "none"
    answered: list[tuple[str, str, str]] = []
    monkeypatch.setattr(server, "respond", lambda *args: answered.append(args), raising=False)
    assert org.respond(BEN, coffee, "accepted") is True
    [copy, _] = server.events(BEN)
    assert answered == [(BEN, copy["id"], "accepted")]
    assert org.respond("carl@example.com", coffee, "accepted") is False  # no copy of his
