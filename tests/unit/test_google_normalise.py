"""Google Calendar resources -> mirror events, holds -> event bodies (pure, no sockets)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import googleapiclient  # type: ignore[import-untyped]
import pytest
from google.auth.exceptions import RefreshError

from micromoments.adapters.google_calendar import (
    EPOCH,
    SCOPES,
    GoogleCalendarGateway,
    batch_url,
    chunked,
    hold_body,
    hold_patch_body,
    normalise,
    rfc3339,
)
from micromoments.adapters.google_calendar.delegation import refresh_failure as _refresh_failure
from micromoments.adapters.mirror_expansion import expand_mirror
from micromoments.config import Config
from micromoments.domain.calendar import EventKind
from micromoments.domain.holds import Hold, HoldKind, personal_hold_id, shared_hold_id
from micromoments.domain.journal import WriteOp
from micromoments.domain.mirror import MirrorEvent, mirror_changes
from micromoments.domain.people import PersonStatus
from micromoments.ports import (
    CalendarError,
    CalendarGateway,
    CalendarWrite,
    DelegationMisconfigured,
    SubjectRefused,
    SubjectSuspended,
)
from tests import builders

ME = "ada@example.com"
BERLIN = ZoneInfo("Europe/Berlin")


def timed(value: str, zone: str | None = "Europe/Berlin") -> dict[str, str]:
    return {"dateTime": value, **({"timeZone": zone} if zone else {})}


def event(**fields: Any) -> dict[str, Any]:
    """A realistic event resource as events.list returns it, with the given changes."""
    resource: dict[str, Any] = {
        "kind": "calendar#event",
        "etag": '"3412345678901234"',
        "id": "4f7kq1o0b3n5d2h8c9e6a1m0p2",
        "status": "confirmed",
        "htmlLink": "https://www.google.com/calendar/event?eid=NGY3",
        "created": "2026-03-01T10:00:00.000Z",
        "updated": "2026-03-02T10:00:00.000Z",
        "summary": "Quarterly planning (secret)",
        "description": "Agenda: layoffs",
        "location": "Room 4, 12 Secret Street",
        "creator": {"email": ME, "self": True},
        "organizer": {"email": ME, "self": True},
        "start": timed("2026-03-17T10:00:00+01:00"),
        "end": timed("2026-03-17T11:00:00+01:00"),
        "iCalUID": "4f7kq1o0b3n5d2h8c9e6a1m0p2@google.com",
        "sequence": 0,
        "reminders": {"useDefault": True},
        "eventType": "default",
    }
    resource.update(fields)
    return {k: v for k, v in resource.items() if v is not None}


def attendees(*people: dict[str, Any]) -> list[dict[str, Any]]:
    return list(people)


def test_a_solo_block_keeps_times_zone_and_etag_only() -> None:
    mirrored = normalise(event(), ME)
    assert mirrored == MirrorEvent(
        id="4f7kq1o0b3n5d2h8c9e6a1m0p2",
        start=datetime(2026, 3, 17, 9, tzinfo=UTC),
        end=datetime(2026, 3, 17, 10, tzinfo=UTC),
        kind=EventKind.SOLO,
        busy=True,
        start_zone="Europe/Berlin",
        etag='"3412345678901234"',
    )
    text = repr(mirrored)
    for secret in ("Quarterly", "layoffs", "Secret Street", "Room 4", ME):
        assert secret not in text


def test_a_meeting_has_another_person_and_forgets_their_address() -> None:
    resource = event(
        attendees=attendees(
            {"email": ME, "self": True, "responseStatus": "accepted"},
            {"email": "grace@example.com", "responseStatus": "needsAction"},
        )
    )
    mirrored = normalise(resource, ME)
    assert mirrored.kind is EventKind.MEETING and not mirrored.declined
    assert "grace" not in repr(mirrored)


def test_declined_via_the_self_flag_or_the_address() -> None:
    by_flag = event(
        organizer={"email": "grace@example.com"},
        attendees=attendees(
            {"email": "ADA@Example.com", "self": True, "responseStatus": "declined"},
            {"email": "grace@example.com", "organizer": True, "responseStatus": "accepted"},
        ),
    )
    assert normalise(by_flag, ME).declined
    by_address = event(
        organizer={"email": "grace@example.com"},
        attendees=attendees({"email": "mailto:Ada@example.com", "responseStatus": "declined"}),
    )
    mirrored = normalise(by_address, ME)
    assert mirrored.declined and mirrored.kind is EventKind.MEETING  # the organizer is another


def test_tentative_and_unanswered_invitations_count() -> None:
    resource = event(
        organizer={"email": "grace@example.com"},
        attendees=attendees({"email": ME, "self": True, "responseStatus": "tentative"}),
    )
    mirrored = normalise(resource, ME)
    assert mirrored.kind is EventKind.MEETING and not mirrored.declined


def test_organizer_self_and_resource_attendees_are_not_other_people() -> None:
    resource = event(
        organizer={"email": ME, "self": True},
        attendees=attendees(
            {"email": ME, "self": True, "organizer": True, "responseStatus": "accepted"},
            {
                "email": "c_1888abc@resource.calendar.google.com",
                "displayName": "Room 4",
                "resource": True,
                "responseStatus": "accepted",
            },
        ),
    )
    assert normalise(resource, ME).kind is EventKind.SOLO


def test_an_event_organised_by_someone_else_is_a_meeting() -> None:
    resource = event(organizer={"email": "team@group.calendar.google.com", "displayName": "Team"})
    assert normalise(resource, ME).kind is EventKind.MEETING


def test_transparent_events_are_free() -> None:
    mirrored = normalise(event(transparency="transparent"), ME)
    assert not mirrored.busy and mirrored.kind is EventKind.SOLO


def test_out_of_office_is_busy_even_if_marked_free() -> None:
    resource = event(
        eventType="outOfOffice",
        transparency="transparent",
        start=timed("2026-03-18T00:00:00+01:00"),
        end=timed("2026-03-20T00:00:00+01:00"),
        outOfOfficeProperties={"autoDeclineMode": "declineAllConflictingInvitations"},
    )
    mirrored = normalise(resource, ME)
    assert mirrored.kind is EventKind.OUT_OF_OFFICE and mirrored.busy


def test_working_location_is_ignored_as_free() -> None:
    resource = event(
        eventType="workingLocation",
        transparency="transparent",
        visibility="public",
        start={"date": "2026-03-17"},
        end={"date": "2026-03-18"},
        workingLocationProperties={"type": "homeOffice", "homeOffice": {}},
    )
    mirrored = normalise(resource, ME)
    assert mirrored.kind is EventKind.WORKING_LOCATION and not mirrored.busy
    assert mirrored.start == date(2026, 3, 17) and mirrored.all_day


def test_focus_time_is_solo_unless_others_join() -> None:
    focus = event(eventType="focusTime", focusTimeProperties={"chatStatus": "doNotDisturb"})
    assert normalise(focus, ME).kind is EventKind.SOLO
    shared = event(
        eventType="focusTime",
        attendees=attendees({"email": "grace@example.com", "responseStatus": "accepted"}),
    )
    assert normalise(shared, ME).kind is EventKind.MEETING


def test_all_day_event_has_dates_with_exclusive_end() -> None:
    resource = event(start={"date": "2026-03-19"}, end={"date": "2026-03-21"})
    mirrored = normalise(resource, ME)
    assert (mirrored.start, mirrored.end) == (date(2026, 3, 19), date(2026, 3, 21))
    assert mirrored.kind is EventKind.ALL_DAY and mirrored.start_zone is None


def test_recurring_master_keeps_rule_exdate_and_zone() -> None:
    resource = event(
        id="standup",
        organizer={"email": "grace@example.com"},
        start=timed("2026-03-16T09:00:00+01:00"),
        end=timed("2026-03-16T09:15:00+01:00"),
        recurrence=[
            "EXDATE;TZID=Europe/Berlin:20260323T090000",
            "RRULE:FREQ=WEEKLY;BYDAY=MO",
        ],
    )
    mirrored = normalise(resource, ME)
    assert mirrored.recurring and not mirrored.instance
    assert mirrored.recurrence == (
        "EXDATE;TZID=Europe/Berlin:20260323T090000",
        "RRULE:FREQ=WEEKLY;BYDAY=MO",
    )
    assert mirrored.start_zone == "Europe/Berlin"
    assert mirrored.last_day() is None
    window = (datetime(2026, 3, 16, tzinfo=BERLIN), datetime(2026, 4, 6, tzinfo=BERLIN))
    starts = [e.start for e in expand_mirror([mirrored], start=window[0], end=window[1])]
    assert [s.astimezone(BERLIN).hour for s in starts if isinstance(s, datetime)] == [9, 9]


def test_exception_instance_points_at_its_master() -> None:
    resource = event(
        id="standup_20260330T070000Z",
        recurringEventId="standup",
        originalStartTime=timed("2026-03-30T09:00:00+02:00"),
        start=timed("2026-03-31T14:00:00+02:00"),
        end=timed("2026-03-31T14:15:00+02:00"),
    )
    mirrored = normalise(resource, ME)
    assert mirrored.instance and mirrored.recurring_event_id == "standup"
    assert mirrored.original_start == datetime(2026, 3, 30, 7, tzinfo=UTC)
    assert mirrored.start == datetime(2026, 3, 31, 12, tzinfo=UTC)


def test_all_day_exception_has_a_date_original_start() -> None:
    resource = event(
        id="gym_20260331",
        recurringEventId="gym",
        originalStartTime={"date": "2026-03-31"},
        start={"date": "2026-04-01"},
        end={"date": "2026-04-02"},
    )
    assert normalise(resource, ME).original_start == date(2026, 3, 31)


def test_cancelled_minimal_instance_uses_its_original_start() -> None:
    resource = {
        "kind": "calendar#event",
        "etag": '"3"',
        "id": "standup_20260330T070000Z",
        "status": "cancelled",
        "recurringEventId": "standup",
        "originalStartTime": timed("2026-03-30T09:00:00+02:00"),
    }
    mirrored = normalise(resource, ME)
    original = datetime(2026, 3, 30, 7, tzinfo=UTC)
    assert mirrored.cancelled and mirrored.instance
    assert (mirrored.start, mirrored.end, mirrored.original_start) == (original,) * 3
    assert mirrored.start_zone == "Europe/Berlin"
    assert mirror_changes([mirrored]) == ([mirrored], [])  # kept: it removes an occurrence


def test_cancelled_minimal_event_uses_the_epoch_and_leaves_the_mirror() -> None:
    mirrored = normalise({"kind": "calendar#event", "id": "gone1", "status": "cancelled"}, ME)
    assert mirrored.cancelled and mirrored.start == mirrored.end == EPOCH
    assert mirror_changes([mirrored]) == ([], ["gone1"])


def test_our_personal_hold_is_recognised_by_private_tags() -> None:
    hold_id = personal_hold_id(ME, HoldKind.BREATHER, date(2026, 3, 17))
    resource = event(
        id=hold_id,
        summary="Breather",
        extendedProperties={
            "private": {
                "micromoments": "1",
                "mm_hold_id": hold_id,
                "mm_kind": "breather",
                "mm_generation": "0",
            }
        },
    )
    mirrored = normalise(resource, ME)
    assert mirrored.kind is EventKind.HOLD
    assert (mirrored.hold_id, mirrored.hold_kind) == (hold_id, "breather")


def test_shared_tags_are_recognised_in_an_attendees_calendar() -> None:
    hold_id = shared_hold_id("org", "2026-W12", "pair", HoldKind.COFFEE)
    resource = event(
        id=hold_id,
        organizer={"email": "grace@example.com"},
        attendees=attendees(
            {"email": "grace@example.com", "organizer": True, "responseStatus": "accepted"},
            {"email": ME, "self": True, "responseStatus": "declined"},
        ),
        extendedProperties={
            "shared": {"micromoments": "1", "mm_hold_id": hold_id, "mm_kind": "coffee"}
        },
    )
    mirrored = normalise(resource, ME)
    assert mirrored.kind is EventKind.HOLD and mirrored.hold_kind == "coffee"
    assert mirrored.declined


def test_a_cancelled_hold_keeps_its_tags_and_stays_in_the_mirror() -> None:
    resource = event(
        id="mmabc12345",
        status="cancelled",
        extendedProperties={
            "private": {"micromoments": "1", "mm_hold_id": "mmabc12345", "mm_kind": "social"}
        },
    )
    mirrored = normalise(resource, ME)
    assert mirrored.hold_id == "mmabc12345" and mirrored.hold_kind == "social"
    assert mirror_changes([mirrored]) == ([mirrored], [])


def test_unknown_tags_or_kinds_are_not_ours_or_kindless() -> None:
    foreign = event(extendedProperties={"private": {"micromoments": "0", "mm_kind": "social"}})
    assert normalise(foreign, ME).hold_id is None
    tags = {"micromoments": "1", "mm_hold_id": "4f7kq1o0b3n5d2h8c9e6a1m0p2", "mm_kind": "party"}
    odd = event(extendedProperties={"private": tags})
    mirrored = normalise(odd, ME)
    assert mirrored.kind is EventKind.HOLD and mirrored.hold_kind is None


def test_our_tags_on_someone_elses_event_are_not_believed() -> None:
    # an invitation carrying our tags, naming one of the person's real hold ids
    forged = event(
        extendedProperties={
            "shared": {"micromoments": "1", "mm_hold_id": "mmrealhold01", "mm_kind": "coffee"}
        }
    )
    mirrored = normalise(forged, ME)
    assert mirrored.hold_id is None
    assert mirrored.kind is not EventKind.HOLD


def test_z_times_without_zone_and_negative_spans() -> None:
    resource = event(
        start=timed("2026-03-17T09:00:00Z", None), end=timed("2026-03-17T08:00:00Z", None)
    )
    mirrored = normalise(resource, ME)
    assert mirrored.start == mirrored.end == datetime(2026, 3, 17, 9, tzinfo=UTC)
    assert mirrored.start_zone is None


# -- holds -> bodies ------------------------------------------------------------------------


hold = partial(builders.hold, owner=ME, generation=2, busy=True)


def _discovery() -> dict[str, Any]:
    path = Path(googleapiclient.__file__).parent / "discovery_cache/documents/calendar.v3.json"
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _check(value: Any, schema: dict[str, Any], schemas: dict[str, Any], where: str) -> None:
    """A small validator for the discovery schema's property names and JSON types."""
    if "$ref" in schema:
        schema = schemas[schema["$ref"]]
    kind = schema.get("type")
    if kind == "object":
        assert isinstance(value, dict), where
        properties = schema.get("properties", {})
        for key, item in value.items():
            sub = properties.get(key) or schema.get("additionalProperties")
            assert sub is not None, f"{where}.{key} is not in the schema"
            _check(item, sub, schemas, f"{where}.{key}")
    elif kind == "array":
        assert isinstance(value, list), where
        for item in value:
            _check(item, schema["items"], schemas, where + "[]")
    elif kind == "string":
        assert isinstance(value, str), where
    elif kind == "boolean":
        assert isinstance(value, bool), where
    elif kind == "integer":
        assert isinstance(value, int), where


def test_hold_body_is_a_valid_event_with_private_tags() -> None:
    body = hold_body(hold(), "Europe/Berlin")
    schemas = _discovery()["schemas"]
    _check(body, schemas["Event"], schemas, "Event")
    assert body["id"] == hold().id
    assert body["summary"] == "Breather"
    assert "micromoments" in body["description"] and "move or delete" in body["description"]
    assert body["start"] == {"dateTime": "2026-03-17T11:00:00+01:00", "timeZone": "Europe/Berlin"}
    assert body["end"] == {"dateTime": "2026-03-17T11:15:00+01:00", "timeZone": "Europe/Berlin"}
    assert body["transparency"] == "opaque"
    assert body["reminders"] == {"useDefault": False}
    assert body["extendedProperties"] == {
        "private": {
            "micromoments": "1",
            "mm_hold_id": hold().id,
            "mm_kind": "breather",
            "mm_generation": "2",
        }
    }


@pytest.mark.parametrize(
    ("kind", "summary", "scope"),
    [
        (HoldKind.BREATHER, "Breather", "private"),
        (HoldKind.SOCIAL, "Social time", "private"),
        (HoldKind.COFFEE, "Coffee chat", "shared"),
        (HoldKind.WATERCOOLER, "Watercooler", "shared"),
    ],
)
def test_summaries_and_tag_scopes_per_kind(kind: HoldKind, summary: str, scope: str) -> None:
    body = hold_body(hold(kind, busy=False), "UTC")
    assert body["summary"] == summary and body["transparency"] == "transparent"
    assert list(body["extendedProperties"]) == [scope]


def test_a_hold_body_reads_back_as_our_hold() -> None:
    body = hold_body(hold(HoldKind.SOCIAL, busy=False), "Europe/Berlin")
    mirrored = normalise({**body, "status": "confirmed", "etag": '"9"'}, ME)
    assert mirrored.kind is EventKind.HOLD and not mirrored.busy
    assert (mirrored.hold_id, mirrored.hold_kind) == (body["id"], "social")
    assert mirrored.start == datetime(2026, 3, 17, 10, tzinfo=UTC)


def test_patch_body_changes_time_and_busy_only() -> None:
    body = hold_patch_body(hold(busy=False), "Europe/Berlin")
    assert set(body) == {"start", "end", "transparency"}
    schemas = _discovery()["schemas"]
    _check(body, schemas["Event"], schemas, "Event")


def test_naive_hold_times_are_refused() -> None:
    naive = Hold(
        id="mmabcdef",
        kind=HoldKind.SOCIAL,
        start=datetime(2026, 3, 17, 11),
        end=datetime(2026, 3, 17, 12),
        busy=False,
        day=date(2026, 3, 17),
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        hold_body(naive, "UTC")


# -- small helpers ----------------------------------------------------------------------------


def test_batch_url_is_derived_from_the_api_root() -> None:
    assert (
        batch_url("https://www.googleapis.com/calendar/v3/")
        == "https://www.googleapis.com/batch/calendar/v3"
    )
    assert (
        batch_url("http://127.0.0.1:8123/calendar/v3/") == "http://127.0.0.1:8123/batch/calendar/v3"
    )
    assert (
        batch_url("http://127.0.0.1:8123/gcal/") == "http://127.0.0.1:8123/gcal/batch/calendar/v3"
    )


def test_chunked_respects_the_limit() -> None:
    assert [len(c) for c in chunked(list(range(120)), 50)] == [50, 50, 20]
    assert list(chunked([], 50)) == []
    with pytest.raises(ValueError):
        list(chunked([1], 0))


def test_rfc3339_is_utc_with_z() -> None:
    assert rfc3339(datetime(2026, 3, 16, 0, 0, tzinfo=BERLIN)) == "2026-03-15T23:00:00Z"
    with pytest.raises(ValueError):
        rfc3339(datetime(2026, 3, 16))


def test_scopes_are_the_narrow_three() -> None:
    assert set(SCOPES) == {
        "https://www.googleapis.com/auth/calendar.events.owned",
        "https://www.googleapis.com/auth/calendar.events.freebusy",
        "https://www.googleapis.com/auth/calendar.settings.readonly",
    }


def refresh_error(*args: Any) -> RefreshError:
    return RefreshError(*args)  # type: ignore[no-untyped-call]


def test_token_errors_map_to_suspended_or_misconfigured() -> None:
    suspended = refresh_error(
        "invalid_grant: Invalid email or User ID",
        {"error": "invalid_grant", "error_description": "Invalid email or User ID"},
    )
    assert isinstance(_refresh_failure(suspended, ME), SubjectSuspended)
    misconfigured = refresh_error(
        "unauthorized_client: Client is unauthorized to retrieve access tokens",
        {"error": "unauthorized_client", "error_description": "Client is unauthorized"},
    )
    assert isinstance(_refresh_failure(misconfigured, ME), DelegationMisconfigured)
    bad_key = refresh_error(
        "invalid_grant: Invalid JWT Signature.",
        {"error": "invalid_grant", "error_description": "Invalid JWT Signature."},
    )
    assert isinstance(_refresh_failure(bad_key, ME), DelegationMisconfigured)
    other = refresh_error("access_denied: no", {"error": "access_denied"})
    failure = _refresh_failure(other, ME)
    assert isinstance(failure, CalendarError) and not isinstance(failure, SubjectSuspended)


# -- refusals happen before any request ----------------------------------------------------------

OURS = personal_hold_id(ME, HoldKind.SOCIAL, date(2026, 3, 17))


def gateway(status: PersonStatus | None) -> GoogleCalendarGateway:
    port: CalendarGateway = GoogleCalendarGateway(  # it implements the port (checked by mypy)
        Config(), status_of=lambda email: status, ours=lambda email: set()
    )
    assert port.counters.requests == 0
    return GoogleCalendarGateway(
        Config(calendar_api_url="http://127.0.0.1:9/calendar/v3/"),
        status_of=lambda email: status,
        ours=lambda email: {OURS},
    )


def write(op: WriteOp, hold_id: str = OURS) -> CalendarWrite:
    start = datetime(2026, 3, 17, 12, tzinfo=UTC)
    return CalendarWrite(
        op,
        Hold(
            id=hold_id,
            kind=HoldKind.SOCIAL,
            start=start,
            end=start + timedelta(minutes=30),
            busy=False,
            day=start.date(),
        ),
    )


@pytest.mark.parametrize("status", [PersonStatus.OPTED_OUT, PersonStatus.SUSPENDED, None])
def test_only_active_or_leaving_people_are_acted_for(status: PersonStatus | None) -> None:
    refused = gateway(status)
    with pytest.raises(SubjectRefused):
        refused.sync(ME, None, full_from=datetime(2026, 3, 9, tzinfo=UTC))
    with pytest.raises(SubjectRefused):
        refused.timezone(ME)
    with pytest.raises(SubjectRefused):
        refused.get_event(ME, OURS)
    with pytest.raises(SubjectRefused):
        refused.write(ME, [write(WriteOp.DELETE)])
    assert refused.counters.requests == refused.counters.round_trips == 0


def test_leaving_people_allow_only_deletes_of_our_events() -> None:
    leaving = gateway(PersonStatus.LEAVING)
    for op in (WriteOp.INSERT, WriteOp.PATCH):
        with pytest.raises(SubjectRefused, match="leaving"):
            leaving.write(ME, [write(op)])
    with pytest.raises(SubjectRefused, match="not recorded as ours"):
        leaving.write(ME, [write(WriteOp.DELETE, "mmnotours1")])
    # One refused write refuses the whole call: nothing is sent.
    with pytest.raises(SubjectRefused):
        leaving.write(ME, [write(WriteOp.DELETE), write(WriteOp.INSERT)])
    assert leaving.counters.requests == 0


def test_active_people_never_have_foreign_events_changed() -> None:
    active = gateway(PersonStatus.ACTIVE)
    for op in (WriteOp.PATCH, WriteOp.DELETE):
        with pytest.raises(SubjectRefused, match="not recorded as ours"):
            active.write(ME, [write(op, "4f7kq1o0b3n5d2h8c9e6a1m0p2")])
    assert active.counters.requests == 0
