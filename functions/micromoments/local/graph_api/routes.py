"""What the local Graph server does for each call: delta rounds, event writes, the
extended-property lookup and getSchedule (all under the server's lock)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from micromoments.adapters.graph_calendar.events import iana_zone
from micromoments.local.graph_api.state import (
    SHOW_AS,
    GraphError,
    Mailbox,
    StoredEvent,
    check_properties,
    graph_time,
    instant,
    invalid,
    merge_properties,
    new_event_id,
    normalised,
    public,
)

_FILTER = re.compile(
    r"^singleValueExtendedProperties/any\(ep:\s*ep/id eq '([^']+)' and ep/value eq '([^']*)'\)$"
)
_EXPAND = re.compile(
    r"^singleValueExtendedProperties\(\$filter=(id eq '[^']+'(?: or id eq '[^']+')*)\)$"
)
_PATCHABLE = {"start", "end", "showAs", "subject", "body", "attendees", "isReminderOn"}
MAX_SCHEDULES = 100
MAX_SCHEDULE_DAYS = 62


def window(params: Mapping[str, str]) -> tuple[datetime, datetime]:
    """The ``startDateTime`` and ``endDateTime`` of a calendar view (400 when missing)."""
    try:
        start = datetime.fromisoformat(params["startDateTime"])
        end = datetime.fromisoformat(params["endDateTime"])
    except (KeyError, ValueError):
        raise GraphError(
            400, "ErrorInvalidParameter", "startDateTime and endDateTime are required"
        ) from None
    if start.tzinfo is None or end.tzinfo is None or end <= start:
        raise GraphError(400, "ErrorInvalidParameter", "an aware window with end after start")
    return start, end


def _overlaps(begin: datetime, finish: datetime, start: datetime, end: datetime) -> bool:
    if begin == finish:
        return start <= begin < end
    return begin < end and finish > start


def _in_window(event: StoredEvent, start: datetime, end: datetime) -> bool:
    if event.resource.get("type") == "seriesMaster":
        return False  # a calendar view holds occurrences, never the master
    return _overlaps(event.start, event.end, start, end)


@dataclass(slots=True)
class _Round:
    email: str
    start: datetime
    end: datetime
    seq: int  # changes after this sequence number are the next delta's
    epoch: int
    pending: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class Rounds:
    """Delta rounds in progress (skip tokens) and closed (delta tokens)."""

    skips: dict[str, _Round] = field(default_factory=dict)
    deltas: dict[str, _Round] = field(default_factory=dict)

    def page(
        self, mailbox: Mailbox, params: Mapping[str, str], base_url: str, size: int
    ) -> dict[str, Any]:
        if "$skiptoken" in params:
            current = self._known(self.skips, params["$skiptoken"], mailbox)
        elif "$deltatoken" in params:
            since = self._known(self.deltas, params["$deltatoken"], mailbox)
            current = _Round(mailbox.email, since.start, since.end, mailbox.seq, since.epoch)
            current.pending = _changes(mailbox, since)
        else:
            start, end = window(params)
            current = _Round(mailbox.email, start, end, mailbox.seq, mailbox.delta_epoch)
            live = sorted(
                (e for e in mailbox.live() if _in_window(e, start, end)),
                key=lambda e: (e.start, e.resource["id"]),
            )
            current.pending = [public(e) for e in live]
        page, current.pending = current.pending[:size], current.pending[size:]
        link = f"{base_url}users/{mailbox.email}/calendarView/delta?"
        token = secrets.token_urlsafe(16)
        if current.pending:
            self.skips[token] = current
            return {"value": page, "@odata.nextLink": f"{link}$skiptoken={token}"}
        self.deltas[token] = current
        return {"value": page, "@odata.deltaLink": f"{link}$deltatoken={token}"}

    @staticmethod
    def _known(tokens: dict[str, _Round], token: str, mailbox: Mailbox) -> _Round:
        found = tokens.get(token)
        if found is None or found.email != mailbox.email:
            raise GraphError(400, "ErrorInvalidParameter", "unknown skip or delta token")
        if found.epoch != mailbox.delta_epoch:
            raise GraphError(
                410, "SyncStateNotFound", "the sync state is not found or expired: resync"
            )
        return found


def _changes(mailbox: Mailbox, since: _Round) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for event in sorted(mailbox.events.values(), key=lambda e: e.seq):
        if event.seq <= since.seq:
            continue
        if event.deleted or not _in_window(event, since.start, since.end):
            removed = {"@odata.type": "#microsoft.graph.event", "id": event.resource["id"]}
            out.append({**removed, "@removed": {"reason": "deleted"}})
        else:
            out.append(public(event))
    return out


# -- writes ----------------------------------------------------------------------------------


def create(mailbox: Mailbox, body: Any) -> tuple[int, dict[str, Any]]:
    """Create an event; a live event with the same ``transactionId`` is answered instead."""
    if not isinstance(body, Mapping):
        raise invalid("the event must be a JSON object")
    transaction = body.get("transactionId")
    if transaction is not None:
        if not isinstance(transaction, str) or not transaction:
            raise invalid("transactionId must be a non-empty string")
        existing = mailbox.by_transaction(transaction)
        if existing is not None:
            return 201, existing.resource
    seq = mailbox.bump()
    event = normalised(body, mailbox.email, new_event_id(mailbox.email), seq)
    mailbox.events[event.resource["id"]] = event
    return 201, event.resource


def _live(mailbox: Mailbox, event_id: str) -> StoredEvent:
    event = mailbox.events.get(event_id)
    if event is None or event.deleted:
        raise GraphError(404, "ErrorItemNotFound", "the event is not found")
    return event


def patch(mailbox: Mailbox, event_id: str, body: Any) -> None:
    event = _live(mailbox, event_id)
    if not isinstance(body, Mapping):
        raise invalid("the patch must be a JSON object")
    unknown = set(body) - _PATCHABLE - {"singleValueExtendedProperties", "isCancelled"}
    if unknown:
        raise invalid(f"cannot patch {sorted(unknown)[0]}")
    if "showAs" in body and body["showAs"] not in SHOW_AS:
        raise invalid(f"showAs must be one of {', '.join(SHOW_AS)}")
    check_properties(body.get("singleValueExtendedProperties"))
    all_day = bool(event.resource.get("isAllDay"))
    start = instant(body["start"], "start", all_day=all_day) if "start" in body else event.start
    end = instant(body["end"], "end", all_day=all_day) if "end" in body else event.end
    if end < start:
        raise invalid("end must not be before start")
    resource = dict(event.resource)
    for key, value in body.items():
        if key == "singleValueExtendedProperties":
            resource[key] = merge_properties(resource.get(key) or [], list(value))
        else:
            resource[key] = value
    seq = mailbox.bump()
    resource["changeKey"] = f"ck{seq}"
    resource["@odata.etag"] = f'W/"ck{seq}"'
    event.resource, event.start, event.end, event.seq = resource, start, end, seq


def delete(mailbox: Mailbox, event_id: str) -> None:
    event = _live(mailbox, event_id)
    event.deleted = True
    event.seq = mailbox.bump()


# -- reads -----------------------------------------------------------------------------------


def _expanded(params: Mapping[str, str]) -> frozenset[str] | None:
    """The property ids an ``$expand`` asks for (``*``: all of them)."""
    expand = params.get("$expand")
    if expand is None:
        return None
    if expand == "singleValueExtendedProperties":
        return frozenset({"*"})
    match = _EXPAND.match(expand)
    if not match:
        raise invalid(f"unsupported $expand {expand!r}")
    return frozenset(i.lower() for i in re.findall(r"id eq '([^']+)'", match.group(1)))


def shown(mailbox: Mailbox, event_id: str, params: Mapping[str, str]) -> dict[str, Any]:
    return public(_live(mailbox, event_id), expand=_expanded(params))


def find(mailbox: Mailbox, params: Mapping[str, str]) -> dict[str, Any]:
    """``GET users/{id}/events?$filter=singleValueExtendedProperties/any(…)``: the events
    whose property of that id has that value (the only filter served)."""
    match = _FILTER.match(params.get("$filter", ""))
    if not match:
        raise invalid("only a singleValueExtendedProperties/any(ep: …) filter is served")
    prop_id, value = match.group(1).lower(), match.group(2)
    found = [
        public(e, expand=_expanded(params))
        for e in mailbox.live()
        if any(
            p["id"].lower() == prop_id and p["value"] == value
            for p in e.resource.get("singleValueExtendedProperties") or []
        )
    ]
    return {"value": found}


def _schedule_times(mailbox: Mailbox, event: StoredEvent) -> tuple[datetime, datetime]:
    """An event's start and end as getSchedule gives them: its own times (never cut to the
    period); an all-day event's dates from midnight to midnight in the mailbox's zone (the
    owner's calendar days, as Outlook shows them)."""
    if not event.resource.get("isAllDay"):
        return event.start, event.end
    zone = ZoneInfo(iana_zone(mailbox.timezone) or "UTC")
    begin, finish = (datetime.combine(e.date(), time(), zone) for e in (event.start, event.end))
    return begin.astimezone(UTC), finish.astimezone(UTC)


def _on_schedule(event: StoredEvent) -> bool:
    """Whether an event is on the calendar getSchedule reads: a declined meeting is not
    (Exchange takes it off the calendar), nor a cancelled one or a series master."""
    resource = event.resource
    answer = resource.get("responseStatus")
    declined = isinstance(answer, Mapping) and answer.get("response") == "declined"
    return not (declined or resource.get("isCancelled") or resource.get("type") == "seriesMaster")


def schedule(mailboxes: Mapping[str, Mailbox], body: Any) -> dict[str, Any]:
    """``calendar/getSchedule``: each schedule's items in the period, one per event on the
    calendar with its ``showAs`` status (``free`` ones too) and its own start and end, as
    Graph lists them; which statuses are busy is the caller's to decide."""
    if not isinstance(body, Mapping) or not isinstance(body.get("schedules"), list):
        raise invalid("schedules, startTime and endTime are required")
    schedules = [str(s) for s in body["schedules"]]
    if not schedules or len(schedules) > MAX_SCHEDULES:
        raise invalid(f"between 1 and {MAX_SCHEDULES} schedules")
    start, end = (
        instant(body.get("startTime"), "startTime"),
        instant(body.get("endTime"), "endTime"),
    )
    if not start < end <= start + timedelta(days=MAX_SCHEDULE_DAYS):
        raise invalid(f"the period must be positive and at most {MAX_SCHEDULE_DAYS} days")
    answers: list[dict[str, Any]] = []
    for address in schedules:
        mailbox = mailboxes.get(address.lower())
        if mailbox is None:
            error = {
                "message": "the mailbox is not found",
                "responseCode": "ErrorMailRecipientNotFound",
            }
            answers.append({"scheduleId": address, "error": error})
            continue
        timed = [(_schedule_times(mailbox, e), e) for e in mailbox.live() if _on_schedule(e)]
        items = [
            {
                "status": e.resource.get("showAs", "busy"),
                "start": graph_time(begin),
                "end": graph_time(finish),
            }
            for (begin, finish), e in sorted(timed, key=lambda t: t[0])
            if _overlaps(begin, finish, start, end)
        ]
        answers.append({"scheduleId": address, "availabilityView": "", "scheduleItems": items})
    return {"value": answers}
