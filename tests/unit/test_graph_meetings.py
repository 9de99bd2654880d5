"""Meeting delivery on the local Graph server (as Exchange in one organisation): attendee
copies with their own ids, the organiser's iCalUId and only PS_PUBLIC_STRINGS properties;
moves, attendee changes and deletes reach the copies; answers reach the organiser."""

from __future__ import annotations

from typing import Any

import pytest

from micromoments.local.graph_api import meetings
from micromoments.local.graph_api.routes import Rounds
from micromoments.local.graph_api.state import GraphError, Mailbox

ADA, GRACE, LIN, OUTSIDER = (
    "ada@example.com",
    "grace@example.com",
    "lin@example.com",
    "nobody@elsewhere.example",
)
PUBLIC = "String {00020329-0000-0000-C000-000000000046} Name mm_hold_id"
PRIVATE = "String {6b3f0d0e-5b2a-4c59-9a8e-6d1c7a4e2f10} Name mm_hold_id"
WINDOW = {"startDateTime": "2026-03-09T00:00:00Z", "endDateTime": "2026-03-16T00:00:00Z"}


def when(hour: int) -> dict[str, str]:
    return {"dateTime": f"2026-03-10T{hour:02d}:00:00", "timeZone": "UTC"}


def chat(*guests: str, **fields: Any) -> dict[str, Any]:
    return {
        "subject": "Coffee chat",
        "start": when(10),
        "end": when(11),
        "showAs": "busy",
        "transactionId": "micromoments:h1",
        "attendees": [{"emailAddress": {"address": g}, "type": "required"} for g in guests],
        "singleValueExtendedProperties": [
            {"id": PUBLIC, "value": "h1"},
            {"id": PRIVATE, "value": "h1"},
        ],
        **fields,
    }


@pytest.fixture
def boxes() -> dict[str, Mailbox]:
    return {e: Mailbox(e) for e in (ADA, GRACE, LIN)}


def copies(boxes: dict[str, Mailbox], email: str) -> list[dict[str, Any]]:
    return [e.resource for e in boxes[email].live() if e.resource["isOrganizer"] is False]


def test_a_created_meeting_reaches_every_attendee_mailbox_on_the_server(
    boxes: dict[str, Mailbox],
) -> None:
    created = meetings.create(boxes, boxes[ADA], chat(GRACE, LIN, OUTSIDER))
    assert created["iCalUId"]  # the server made one
    for email in (GRACE, LIN):
        (copy,) = copies(boxes, email)
        assert copy["id"] != created["id"]
        assert copy["iCalUId"] == created["iCalUId"]
        assert copy["responseStatus"]["response"] == "notResponded"
        assert copy["organizer"]["emailAddress"]["address"] == ADA
        assert copy["transactionId"] is None
        assert copy["singleValueExtendedProperties"] == [{"id": PUBLIC, "value": "h1"}]
        assert (copy["start"], copy["showAs"]) == (when(10), "busy")
    assert copies(boxes, ADA) == []


def test_a_retried_create_delivers_no_second_copy(boxes: dict[str, Mailbox]) -> None:
    meetings.create(boxes, boxes[ADA], chat(GRACE))
    meetings.create(boxes, boxes[ADA], chat(GRACE))
    assert len(copies(boxes, GRACE)) == 1


def test_a_move_reaches_the_copies_and_the_attendees_delta(boxes: dict[str, Mailbox]) -> None:
    created = meetings.create(boxes, boxes[ADA], chat(GRACE))
    rounds = Rounds()
    first = rounds.page(boxes[GRACE], WINDOW, "http://x/", 50)
    token = first["@odata.deltaLink"].rpartition("=")[2]
    meetings.patch(boxes, boxes[ADA], created["id"], {"start": when(14), "end": when(15)})
    (copy,) = copies(boxes, GRACE)
    assert (copy["start"], copy["end"]) == (when(14), when(15))
    changed = rounds.page(boxes[GRACE], {"$deltatoken": token}, "http://x/", 50)["value"]
    assert [c["id"] for c in changed] == [copy["id"]]
    assert changed[0]["start"]["dateTime"].startswith("2026-03-10T14:00:00")


def test_a_patch_of_our_tags_alone_is_not_re_sent(boxes: dict[str, Mailbox]) -> None:
    created = meetings.create(boxes, boxes[ADA], chat(GRACE))
    seq = boxes[GRACE].seq
    tags = {"singleValueExtendedProperties": [{"id": PUBLIC, "value": "h2"}]}
    meetings.patch(boxes, boxes[ADA], created["id"], tags)
    assert boxes[GRACE].seq == seq
    assert copies(boxes, GRACE)[0]["singleValueExtendedProperties"][0]["value"] == "h1"


def test_a_removed_attendee_is_cancelled_and_an_added_one_gets_a_copy(
    boxes: dict[str, Mailbox],
) -> None:
    created = meetings.create(boxes, boxes[ADA], chat(GRACE))
    attendees = [{"emailAddress": {"address": LIN}, "type": "required"}]
    meetings.patch(boxes, boxes[ADA], created["id"], {"attendees": attendees})
    assert [c["isCancelled"] for c in copies(boxes, GRACE)] == [True]
    assert [c["isCancelled"] for c in copies(boxes, LIN)] == [False]


def test_the_organisers_delete_cancels_every_copy(boxes: dict[str, Mailbox]) -> None:
    created = meetings.create(boxes, boxes[ADA], chat(GRACE, LIN))
    meetings.delete(boxes, boxes[ADA], created["id"])
    assert [c["isCancelled"] for e in (GRACE, LIN) for c in copies(boxes, e)] == [True, True]
    assert list(boxes[ADA].live()) == []


def test_an_attendees_own_patch_and_delete_stay_in_their_mailbox(
    boxes: dict[str, Mailbox],
) -> None:
    created = meetings.create(boxes, boxes[ADA], chat(GRACE, LIN))
    grace = copies(boxes, GRACE)[0]["id"]
    seqs = (boxes[ADA].seq, boxes[LIN].seq)
    meetings.patch(boxes, boxes[GRACE], grace, {"showAs": "free"})
    meetings.delete(boxes, boxes[GRACE], grace)
    assert copies(boxes, GRACE) == []
    assert (boxes[ADA].seq, boxes[LIN].seq) == seqs
    assert boxes[ADA].events[created["id"]].resource["showAs"] == "busy"


def test_an_answer_reaches_the_organisers_attendee_status(boxes: dict[str, Mailbox]) -> None:
    created = meetings.create(boxes, boxes[ADA], chat(GRACE, LIN))
    grace = copies(boxes, GRACE)[0]["id"]
    seqs = (boxes[ADA].seq, boxes[GRACE].seq)
    meetings.respond(boxes, GRACE, grace, "declined")
    assert copies(boxes, GRACE)[0]["responseStatus"]["response"] == "declined"
    organisers = boxes[ADA].events[created["id"]].resource["attendees"]
    statuses = {a["emailAddress"]["address"]: a.get("status", {}) for a in organisers}
    assert statuses[GRACE]["response"] == "declined"
    assert statuses[LIN].get("response") != "declined"
    assert boxes[ADA].seq > seqs[0] and boxes[GRACE].seq > seqs[1]


@pytest.mark.parametrize("response", ["maybe", ""])
def test_a_bad_answer_is_refused_and_changes_nothing(
    boxes: dict[str, Mailbox], response: str
) -> None:
    meetings.create(boxes, boxes[ADA], chat(GRACE))
    grace = copies(boxes, GRACE)[0]["id"]
    seqs = (boxes[ADA].seq, boxes[GRACE].seq)
    with pytest.raises(GraphError):
        meetings.respond(boxes, GRACE, grace, response)
    assert (boxes[ADA].seq, boxes[GRACE].seq) == seqs


def test_the_organiser_cannot_answer_their_own_meeting(boxes: dict[str, Mailbox]) -> None:
    created = meetings.create(boxes, boxes[ADA], chat(GRACE))
    with pytest.raises(GraphError):
        meetings.respond(boxes, ADA, created["id"], "accepted")
