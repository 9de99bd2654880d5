"""Meeting delivery on the local Graph server, as Exchange does it inside one organisation.

An event created through the API with attendees is a meeting: every attendee whose mailbox
is on the server gets a copy of their own (its own id, ``isOrganizer: false``,
``responseStatus.response: "notResponded"``, the organiser's ``iCalUId``, no
``transactionId``). A copy carries only the single-value extended properties of the
PS_PUBLIC_STRINGS property set; those of any other set stay on the organiser's event.

An organiser's update that Exchange re-sends (time, ``showAs``, subject, body or the
attendee list) brings every copy in step, public properties included; one that changes
nothing an attendee sees (our tags alone, reminders) leaves the copies as they were. A
removed attendee's copy is cancelled (``isCancelled: true``), an added one gets a copy, and
the organiser's delete cancels every copy. What an attendee does to their own copy (patch,
delete) stays in their mailbox. Seeded events are not meetings of this kind: the server
delivers only what it was asked to create.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Mapping
from typing import Any

from micromoments.local.graph_api import routes
from micromoments.local.graph_api.state import (
    GraphError,
    Mailbox,
    StoredEvent,
    invalid,
    new_event_id,
    normalised,
)

PUBLIC_STRINGS = "{00020329-0000-0000-c000-000000000046}"
RESPONSES = ("accepted", "declined", "tentativelyAccepted")
_RESENT = frozenset({"start", "end", "showAs", "subject", "body", "attendees", "isCancelled"})
_NOT_ANSWERED = "0001-01-01T00:00:00Z"
_ANSWERED = "2024-01-01T00:00:00Z"
_SHARED_FIELDS = (
    "subject",
    "body",
    "start",
    "end",
    "showAs",
    "isAllDay",
    "type",
    "attendees",
    "allowNewTimeProposals",
    "originalStartTimeZone",
    "originalEndTimeZone",
)


def public_properties(resource: Mapping[str, Any]) -> list[dict[str, str]]:
    """The extended properties that travel with a meeting (PS_PUBLIC_STRINGS ones)."""
    return [
        dict(p)
        for p in resource.get("singleValueExtendedProperties") or []
        if str(p["id"]).lower().partition(" ")[2].startswith(PUBLIC_STRINGS + " ")
    ]


def _address(person: Any) -> str:
    email = person.get("emailAddress") if isinstance(person, Mapping) else None
    return str(email.get("address") or "").strip().lower() if isinstance(email, Mapping) else ""


def _guests(resource: Mapping[str, Any], organiser: str) -> list[str]:
    """Attendee addresses (lowercase, in order, not the organiser), none when cancelled."""
    if resource.get("isCancelled"):
        return []
    found = [_address(a) for a in resource.get("attendees") or []]
    return list(dict.fromkeys(a for a in found if a and a != organiser))


def _is_meeting(event: StoredEvent) -> bool:
    return event.delivered and event.resource.get("isOrganizer") is True


def _copy_of(mailbox: Mailbox, uid: str) -> StoredEvent | None:
    for event in mailbox.live():
        if event.resource.get("iCalUId") == uid and event.resource.get("isOrganizer") is False:
            return event
    return None


def _copy_fields(organiser: Mailbox, event: StoredEvent) -> dict[str, Any]:
    fields = {k: copy.deepcopy(v) for k, v in event.resource.items() if k in _SHARED_FIELDS}
    fields["singleValueExtendedProperties"] = public_properties(event.resource)
    fields["organizer"] = {"emailAddress": {"address": organiser.email}}
    return fields


def create(mailboxes: Mapping[str, Mailbox], mailbox: Mailbox, body: Any) -> dict[str, Any]:
    """An API create: the event (with an ``iCalUId`` of the server's when none is given),
    delivered to its attendees when it is a new meeting."""
    if isinstance(body, Mapping) and "iCalUId" not in body:
        body = {**body, "iCalUId": "040000008200E00074C5B7101A82E008" + secrets.token_hex(16)}
    before = mailbox.seq
    _, created = routes.create(mailbox, body)
    event = mailbox.events[created["id"]]
    if mailbox.seq != before and event.resource.get("isOrganizer") is True:
        event.delivered = True
        _deliver(mailboxes, mailbox, event, set())
    return created


def _deliver(
    mailboxes: Mapping[str, Mailbox], organiser: Mailbox, event: StoredEvent, before: set[str]
) -> None:
    uid = str(event.resource["iCalUId"])
    now = _guests(event.resource, organiser.email)
    for email in dict.fromkeys([*now, *before]):
        target = mailboxes.get(email)
        if target is None or target is organiser:
            continue
        existing = _copy_of(target, uid)
        if email not in now:
            if existing is not None and not existing.resource.get("isCancelled"):
                existing.resource = {**existing.resource, "isCancelled": True}
                existing.seq = target.bump()
            continue
        fields = _copy_fields(organiser, event)
        if existing is None:
            fields.update(
                iCalUId=uid,
                isOrganizer=False,
                isCancelled=False,
                responseStatus={"response": "notResponded", "time": _NOT_ANSWERED},
            )
            stored = normalised(fields, target.email, new_event_id(target.email), target.bump())
            stored.resource["transactionId"] = None
            target.events[stored.resource["id"]] = stored
            continue
        resource = {**existing.resource, **fields, "isCancelled": False}
        existing.seq = target.bump()
        existing.resource = {**resource, "changeKey": f"ck{existing.seq}"}
        existing.resource["@odata.etag"] = f'W/"ck{existing.seq}"'
        existing.start, existing.end = event.start, event.end


def patch(mailboxes: Mapping[str, Mailbox], mailbox: Mailbox, event_id: str, body: Any) -> None:
    """A patch; an organiser's meeting update that Exchange re-sends reaches the copies."""
    event = mailbox.events.get(event_id)
    before = set(_guests(event.resource, mailbox.email)) if event is not None else set()
    routes.patch(mailbox, event_id, body)
    event = mailbox.events[event_id]
    if _is_meeting(event) and isinstance(body, Mapping) and _RESENT & set(body):
        _deliver(mailboxes, mailbox, event, before)


def delete(mailboxes: Mapping[str, Mailbox], mailbox: Mailbox, event_id: str) -> None:
    """A delete; the organiser's delete of a meeting cancels every copy."""
    event = mailbox.events.get(event_id)
    before = set(_guests(event.resource, mailbox.email)) if event is not None else set()
    routes.delete(mailbox, event_id)
    event = mailbox.events[event_id]
    if _is_meeting(event):
        event.resource = {**event.resource, "isCancelled": True}
        _deliver(mailboxes, mailbox, event, before)


def respond(
    mailboxes: Mapping[str, Mailbox],
    email: str,
    event_id: str,
    response: str,
    *,
    send: bool = True,
) -> None:
    """``email`` answers the meeting whose copy is ``event_id``: their copy's
    ``responseStatus`` changes and, when the answer is sent, the organiser's attendee
    status of them (both mailboxes' delta sequences advance)."""
    if response not in RESPONSES:
        raise invalid(f"response must be one of {', '.join(RESPONSES)}")
    mailbox = mailboxes.get(email.lower())
    if mailbox is None:
        raise GraphError(404, "ErrorInvalidUser", "the mailbox is not found")
    event = mailbox.events.get(event_id)
    if event is None or event.deleted:
        raise GraphError(404, "ErrorItemNotFound", "the event is not found")
    if event.resource.get("isOrganizer") is not False or event.resource.get("isCancelled"):
        raise invalid("only an attendee answers a meeting that is not cancelled")
    answer = {"response": response, "time": _ANSWERED}
    event.seq = mailbox.bump()
    event.resource = {**event.resource, "responseStatus": answer, "changeKey": f"ck{event.seq}"}
    event.resource["@odata.etag"] = f'W/"ck{event.seq}"'
    organiser = mailboxes.get(_address(event.resource.get("organizer")))
    if not send or organiser is None:
        return
    for theirs in organiser.live():
        if theirs.resource.get("iCalUId") == event.resource.get("iCalUId") and _is_meeting(theirs):
            attendees = [
                {**a, "status": answer} if _address(a) == mailbox.email else a
                for a in theirs.resource.get("attendees") or []
            ]
            theirs.seq = organiser.bump()
            theirs.resource = {**theirs.resource, "attendees": attendees}
            theirs.resource["changeKey"] = f"ck{theirs.seq}"
            theirs.resource["@odata.etag"] = f'W/"ck{theirs.seq}"'
