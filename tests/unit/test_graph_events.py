"""Graph event resources read per DESIGN's calendar semantics, and holds written as Graph
events (`adapters.graph_calendar.events`, pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from micromoments.adapters.google_calendar.resources import normalise as google_normalise
from micromoments.adapters.graph_calendar.events import (
    EXPAND_TAGS,
    HOLD_ID_PROPERTY,
    SHARED_HOLD_ID_PROPERTY,
    SHARED_PROPERTY_SET,
    SHARED_TAGS_PROPERTY,
    TAGS_PROPERTY,
    busy_intervals,
    create_body,
    iana_zone,
    maybe_ours,
    normalise,
    patch_body,
    windows_zone,
)
from micromoments.domain.calendar import EventKind
from micromoments.domain.holds import HoldKind
from tests.builders import hold

ME = "ada@example.com"
OTHER = "grace@example.com"


def event(**fields: Any) -> dict[str, Any]:
    """A Graph event as a calendar view answers it in UTC; ``fields`` override."""
    base: dict[str, Any] = {
        "id": "AAMkAGI1=",
        "type": "singleInstance",
        "start": {"dateTime": "2026-03-10T08:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2026-03-10T09:00:00.0000000", "timeZone": "UTC"},
        "originalStartTimeZone": "W. Europe Standard Time",
        "isAllDay": False,
        "isCancelled": False,
        "isOrganizer": True,
        "showAs": "busy",
        "responseStatus": {"response": "organizer"},
        "organizer": {"emailAddress": {"address": ME}},
        "attendees": [],
        "changeKey": "ck1",
    }
    base.update(fields)
    return base


def invited(response: str = "accepted", **fields: Any) -> dict[str, Any]:
    return event(
        isOrganizer=False,
        responseStatus={"response": response},
        organizer={"emailAddress": {"address": OTHER}},
        attendees=[{"emailAddress": {"address": ME.upper()}, "type": "required"}],
        **fields,
    )


def read(resource: dict[str, Any]) -> Any:
    found = normalise(resource, ME)
    assert found is not None
    return found


def test_a_timed_event_with_nobody_else_is_a_solo_block_in_utc() -> None:
    found = read(event())
    assert found.kind is EventKind.SOLO and found.busy and not found.cancelled
    assert found.start == datetime(2026, 3, 10, 8, tzinfo=UTC)
    assert found.end == datetime(2026, 3, 10, 9, tzinfo=UTC)
    assert found.start_zone == "Europe/Berlin"  # the Windows name, as IANA
    assert found.etag == "ck1"


def test_an_invitation_from_someone_else_is_a_meeting_even_unanswered() -> None:
    for response in ("accepted", "tentativelyAccepted", "notResponded", "none"):
        found = read(invited(response))
        assert found.kind is EventKind.MEETING and not found.declined


def test_a_declined_invitation_is_declined() -> None:
    assert read(invited("declined")).declined


def test_an_attendee_other_than_the_person_makes_a_meeting_but_a_room_does_not() -> None:
    room = {"emailAddress": {"address": "room1@example.com"}, "type": "resource"}
    assert read(event(attendees=[room])).kind is EventKind.SOLO
    person = {"emailAddress": {"address": OTHER}, "type": "optional"}
    assert read(event(attendees=[room, person])).kind is EventKind.MEETING


def test_show_as_free_is_neither_busy_nor_a_meeting_and_tentative_is_busy() -> None:
    assert not read(invited(showAs="free")).busy
    assert read(invited(showAs="tentative")).busy
    assert read(event(showAs="unknown")).busy


def test_out_of_office_and_working_elsewhere() -> None:
    away = read(event(showAs="oof"))
    assert away.kind is EventKind.OUT_OF_OFFICE and away.busy
    elsewhere = read(event(showAs="workingElsewhere"))
    assert elsewhere.kind is EventKind.WORKING_LOCATION and not elsewhere.busy


def test_an_all_day_event_has_dates() -> None:
    found = read(
        event(
            isAllDay=True,
            start={"dateTime": "2026-03-10T00:00:00.0000000", "timeZone": "UTC"},
            end={"dateTime": "2026-03-11T00:00:00.0000000", "timeZone": "UTC"},
        )
    )
    assert found.kind is EventKind.ALL_DAY and found.all_day
    assert (found.start, found.end) == (date(2026, 3, 10), date(2026, 3, 11))


def test_a_cancelled_meeting_is_cancelled() -> None:
    assert read(invited(isCancelled=True)).cancelled


def test_occurrences_and_exceptions_are_events_of_their_own_and_a_master_is_skipped() -> None:
    for kind in ("occurrence", "exception"):
        found = read(event(type=kind, seriesMasterId="master="))
        assert not found.instance and not found.recurring
    assert normalise(event(type="seriesMaster"), ME) is None


def test_a_time_written_in_a_windows_zone_is_read_in_that_zone() -> None:
    found = read(
        event(start={"dateTime": "2026-07-01T09:00:00", "timeZone": "Pacific Standard Time"})
    )
    assert found.start == datetime(2026, 7, 1, 16, tzinfo=UTC)  # PDT is UTC-7


def tagged(hold_id: str = "mmbreather1", kind: str = "breather", **fields: Any) -> dict[str, Any]:
    properties = [
        {"id": HOLD_ID_PROPERTY, "value": hold_id},
        {"id": TAGS_PROPERTY, "value": f"{kind};0;private"},
    ]
    return event(singleValueExtendedProperties=properties, **fields)


def test_our_tags_make_a_hold() -> None:
    found = read(tagged())
    assert found.kind is EventKind.HOLD
    assert (found.id, found.hold_id, found.hold_kind) == ("AAMkAGI1=", "mmbreather1", "breather")


def test_tags_on_an_invitation_are_not_believed() -> None:
    forged = tagged(
        isOrganizer=False,
        organizer={"emailAddress": {"address": OTHER}},
        responseStatus={"response": "notResponded"},
    )
    found = read(forged)
    assert found.hold_id is None and found.kind is EventKind.MEETING


def test_an_unknown_kind_tag_keeps_the_hold_without_a_kind() -> None:
    assert read(tagged(kind="party")).hold_kind is None


def test_declines_of_our_shared_event_are_counted_without_addresses() -> None:
    guests = [
        {"emailAddress": {"address": OTHER}, "status": {"response": "declined"}},
        {"emailAddress": {"address": "eve@example.com"}, "status": {"response": "accepted"}},
    ]
    found = read(tagged(kind="coffee", attendees=guests))
    assert found.declines == 1 and found.kind is EventKind.HOLD


def test_only_our_creates_are_candidates_for_a_tag_read() -> None:
    assert maybe_ours(event(transactionId="micromoments:mmbreather1"))
    assert not maybe_ours(event(transactionId="outlook-1"))
    assert not maybe_ours(invited(transactionId="micromoments:x"))
    assert not maybe_ours(event(transactionId=None))  # shown, and not ours


def test_without_a_transaction_id_shown_every_event_the_person_organises_is_a_candidate() -> None:
    assert maybe_ours(event())
    assert not maybe_ours(invited())


@pytest.mark.parametrize(
    ("windows", "iana"),
    [
        ("W. Europe Standard Time", "Europe/Berlin"),
        ("Pacific Standard Time", "America/Los_Angeles"),
        ("Tokyo Standard Time", "Asia/Tokyo"),
        ("UTC", "UTC"),
        ("Europe/Paris", "Europe/Paris"),  # an IANA name is taken as it is
        ("Nowhere Standard Time", None),
        ("", None),
    ],
)
def test_windows_zone_names_map_to_iana(windows: str, iana: str | None) -> None:
    assert iana_zone(windows) == iana


def test_iana_zones_map_back_to_a_windows_name() -> None:
    assert windows_zone("Europe/Berlin") == "W. Europe Standard Time"
    assert windows_zone("America/New_York") == "Eastern Standard Time"
    assert windows_zone("UTC") == "UTC"
    assert windows_zone("Not/AZone") is None


def test_a_hold_is_created_with_tags_a_transaction_id_and_its_local_time() -> None:
    breather = hold(
        HoldKind.BREATHER, date(2026, 3, 10), hold_id="mmb1", tz=ZoneInfo("Europe/Berlin")
    )
    body = create_body(breather, "a pause")
    assert body["transactionId"] == "micromoments:mmb1"
    assert body["showAs"] == "busy"
    assert body["start"] == {
        "dateTime": "2026-03-10T11:00:00",
        "timeZone": "W. Europe Standard Time",
    }
    assert {p["id"]: p["value"] for p in body["singleValueExtendedProperties"]} == {
        HOLD_ID_PROPERTY: "mmb1",
        TAGS_PROPERTY: "breather;0;private",
    }
    assert "attendees" not in body


def test_a_shared_hold_invites_its_guests_and_a_patch_leaves_them_alone() -> None:
    coffee = hold(HoldKind.COFFEE, date(2026, 3, 10), hold_id="mmc1", busy=True)
    body = create_body(coffee, "coffee", [OTHER])
    assert body["attendees"] == [{"emailAddress": {"address": OTHER}, "type": "required"}]
    assert body["singleValueExtendedProperties"][1]["value"] == "coffee;0;shared"
    assert "attendees" not in patch_body(coffee)
    assert patch_body(coffee, attendees=True, guests=[])["attendees"] == []


def test_a_free_hold_is_written_free_and_a_zone_windows_lacks_is_written_in_utc() -> None:
    social = hold(HoldKind.SOCIAL, date(2026, 3, 10), hold_id="mms1", busy=False, tz=UTC)
    assert patch_body(social)["showAs"] == "free"
    odd = hold(HoldKind.SOCIAL, date(2026, 3, 10), hold_id="mms2", tz=ZoneInfo("Asia/Kathmandu"))
    when = create_body(odd, "x")["start"]
    assert when["timeZone"] in ("UTC", "Nepal Standard Time")


def test_schedule_items_as_busy_intervals() -> None:
    items = [
        {
            "status": "busy",
            "start": {"dateTime": "2026-03-10T08:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2026-03-10T09:00:00", "timeZone": "UTC"},
        },
        {
            "status": "free",
            "start": {"dateTime": "2026-03-10T10:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2026-03-10T11:00:00", "timeZone": "UTC"},
        },
        {
            "status": "Tentative",
            "start": {"dateTime": "2026-03-10T12:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2026-03-10T12:30:00", "timeZone": "UTC"},
        },
    ]
    day = datetime(2026, 3, 10, tzinfo=UTC)
    assert busy_intervals({"scheduleItems": items}, day, day + timedelta(days=1)) == [
        (datetime(2026, 3, 10, 8, tzinfo=UTC), datetime(2026, 3, 10, 9, tzinfo=UTC)),
        (datetime(2026, 3, 10, 12, tzinfo=UTC), datetime(2026, 3, 10, 12, 30, tzinfo=UTC)),
    ]
    assert busy_intervals({"error": {"message": "no mailbox"}}, day, day) is None


def _item(status: str, start: str, end: str, zone: str = "UTC") -> dict[str, Any]:
    return {
        "status": status,
        "start": {"dateTime": start, "timeZone": zone},
        "end": {"dateTime": end, "timeZone": zone},
    }


def test_schedule_items_are_cut_to_the_period_and_merged_as_google_busy_is() -> None:
    """Graph lists each item with its event's own times (an all-day one from midnight to
    midnight, a week off across the whole period); the port promises Google's shape:
    sorted, disjoint intervals inside the period asked."""
    items = [
        _item("oof", "2026-03-09T00:00:00.0000000", "2026-03-14T00:00:00.0000000"),
        _item("busy", "2026-03-16T10:00:00", "2026-03-16T11:00:00", "W. Europe Standard Time"),
        _item("Busy", "2026-03-16T09:30:00", "2026-03-16T09:45:00"),
        _item("tentative", "2026-03-16T09:45:00", "2026-03-16T10:15:00"),
        _item("unknown", "2026-03-16T13:00:00", "2026-03-16T14:00:00"),
        _item("workingElsewhere", "2026-03-16T14:00:00", "2026-03-16T23:00:00"),
        _item("Free", "2026-03-16T15:00:00", "2026-03-16T16:00:00"),
        _item("busy", "2026-03-16T16:00:00", "2026-03-16T16:00:00"),  # no length
        _item("busy", "2026-03-16T20:00:00", "2026-03-17T08:00:00"),  # past the period
    ]
    start = datetime(2026, 3, 12, 7, 30, tzinfo=UTC)
    end = datetime(2026, 3, 16, 21, tzinfo=UTC)
    assert busy_intervals({"scheduleItems": items}, start, end) == [
        (start, datetime(2026, 3, 14, tzinfo=UTC)),
        (datetime(2026, 3, 16, 9, 0, tzinfo=UTC), datetime(2026, 3, 16, 10, 15, tzinfo=UTC)),
        (datetime(2026, 3, 16, 13, tzinfo=UTC), datetime(2026, 3, 16, 14, tzinfo=UTC)),
        (datetime(2026, 3, 16, 20, tzinfo=UTC), end),
    ]


def shared_copy(kind: str = "coffee", response: str = "notResponded", **fields: Any) -> Any:
    """An attendee's copy of a shared hold as Exchange delivers it: its own id, not
    organised by the person, the PS_PUBLIC_STRINGS tags only."""
    properties = [
        {"id": SHARED_HOLD_ID_PROPERTY, "value": "mmcoffee1"},
        {"id": SHARED_TAGS_PROPERTY, "value": f"{kind};0;shared"},
    ]
    return invited(response, singleValueExtendedProperties=properties, **fields)


def test_a_shared_hold_is_tagged_in_ps_public_strings_and_a_personal_one_privately() -> None:
    coffee = hold(HoldKind.COFFEE, date(2026, 3, 10), hold_id="mmc1", busy=True)
    breather = hold(HoldKind.BREATHER, date(2026, 3, 10), hold_id="mmb1")
    assert SHARED_PROPERTY_SET == "{00020329-0000-0000-C000-000000000046}"
    assert [
        p["id"] for p in create_body(coffee, "c", [OTHER])["singleValueExtendedProperties"]
    ] == [
        SHARED_HOLD_ID_PROPERTY,
        SHARED_TAGS_PROPERTY,
    ]
    assert [p["id"] for p in create_body(breather, "b")["singleValueExtendedProperties"]] == [
        HOLD_ID_PROPERTY,
        TAGS_PROPERTY,
    ]
    for prop in (HOLD_ID_PROPERTY, TAGS_PROPERTY, SHARED_HOLD_ID_PROPERTY, SHARED_TAGS_PROPERTY):
        assert f"id eq '{prop}'" in EXPAND_TAGS


def test_an_attendees_copy_of_a_shared_hold_is_that_hold() -> None:
    found = read(shared_copy())
    assert found.kind is EventKind.HOLD
    assert (found.hold_id, found.hold_kind, found.declined) == ("mmcoffee1", "coffee", False)
    assert read(shared_copy(response="declined")).declined
    organised = read(
        event(singleValueExtendedProperties=shared_copy()["singleValueExtendedProperties"])
    )
    assert (organised.hold_id, organised.hold_kind) == ("mmcoffee1", "coffee")


def test_an_attendees_copy_reads_as_the_google_attendee_view_of_the_shared_event() -> None:
    """Same MirrorEvent as Google gives the attendee (but for the ids and etags)."""
    others = [{"emailAddress": {"address": "eve@example.com"}, "status": {"response": "declined"}}]
    resource = shared_copy(response="accepted")
    resource["attendees"] += others
    graph = read(resource)
    google = google_normalise(
        {
            "id": "mmcoffee1",
            "start": {"dateTime": "2026-03-10T08:00:00Z", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": "2026-03-10T09:00:00Z", "timeZone": "Europe/Berlin"},
            "organizer": {"email": OTHER},
            "attendees": [
                {"email": OTHER, "responseStatus": "accepted", "organizer": True},
                {"email": ME, "responseStatus": "accepted", "self": True},
                {"email": "eve@example.com", "responseStatus": "declined"},
            ],
            "extendedProperties": {
                "shared": {
                    "micromoments": "1",
                    "mm_hold_id": "mmcoffee1",
                    "mm_kind": "coffee",
                    "mm_generation": "0",
                }
            },
        },
        ME,
    )
    assert replace(graph, id="", etag=None) == replace(google, id="", etag=None)


def test_shared_tags_on_an_invitation_are_believed_only_for_a_shared_kind() -> None:
    assert read(shared_copy(kind="breather")).hold_id is None
    assert read(shared_copy(kind="party")).hold_id is None
    assert read(shared_copy(kind="watercooler")).hold_kind == "watercooler"


def test_an_invitation_that_may_be_a_shared_holds_copy_is_a_candidate_for_a_tag_read() -> None:
    assert maybe_ours(invited(subject="Coffee chat"))
    assert maybe_ours(invited(subject="Watercooler"))
    assert maybe_ours(invited(subject="renamed", allowNewTimeProposals=False))
    assert not maybe_ours(invited(subject="Breather"))
    assert not maybe_ours(invited(subject="Weekly sync", allowNewTimeProposals=True))
