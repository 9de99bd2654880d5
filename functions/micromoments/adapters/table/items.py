"""How domain records become table items and back (holds, mirror events, day loads,
people) and what pointers under a person name."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from micromoments.adapters.table.layout import (
    PK,
    POINTER_KINDS,
    SCAN_INDEX_PK,
    SCAN_INDEX_SK,
    SCAN_PARTITION,
    SCANNABLE,
    SK,
    TTL_ATTRIBUTE,
    Item,
    day_expiry,
    moment,
    person_pk,
    required_instant,
    required_moment,
    when,
)
from micromoments.domain.calendar import EventKind
from micromoments.domain.day_load import DayLoad
from micromoments.domain.holds import Hold, HoldKind, HoldStatus
from micromoments.domain.mirror import MirrorEvent
from micromoments.domain.people import Person, PersonStatus, Preferences


def hold_to_item(hold: Hold) -> Item:
    return {
        "id": hold.id,
        "kind": hold.kind.value,
        "start": hold.start.isoformat(),
        "end": hold.end.isoformat(),
        "busy": hold.busy,
        "day": hold.day.isoformat(),
        "generation": hold.generation,
        "status": hold.status.value,
        **({"etag": hold.etag} if hold.etag else {}),
        **({"attendees": list(hold.attendees)} if hold.attendees else {}),
        **({"late_copy_possible": True} if hold.late_copy_possible else {}),
    }


def item_to_hold(item: Item) -> Hold:
    return Hold(
        id=item["id"],
        kind=HoldKind(item["kind"]),
        start=required_instant(item["start"]),
        end=required_instant(item["end"]),
        busy=bool(item["busy"]),
        day=date.fromisoformat(item["day"]),
        generation=int(item["generation"]),
        status=HoldStatus(item["status"]),
        etag=item.get("etag"),
        attendees=tuple(item.get("attendees") or ()),
        late_copy_possible=bool(item.get("late_copy_possible", False)),
    )


def mirror_to_item(email: str, event: MirrorEvent) -> Item:
    item: Item = {
        PK: person_pk(email),
        SK: f"EVENT#{event.id}",
        "id": event.id,
        "start": when(event.start),
        "end": when(event.end),
        "kind": event.kind.value,
        "busy": event.busy,
        "declined": event.declined,
        "cancelled": event.cancelled,
    }
    optional = {
        "start_zone": event.start_zone,
        "recurrence": list(event.recurrence) or None,
        "recurring_event_id": event.recurring_event_id,
        "original_start": when(event.original_start),
        "hold_id": event.hold_id,
        "hold_kind": event.hold_kind,
        "etag": event.etag,
        "declines": event.declines or None,
    }
    item.update({k: v for k, v in optional.items() if v is not None})
    last = event.last_day()
    if last is not None:
        item[TTL_ATTRIBUTE] = day_expiry(last)
    return item


def item_to_mirror(item: Item) -> MirrorEvent:
    return MirrorEvent(
        id=item["id"],
        start=required_moment(item["start"]),
        end=required_moment(item["end"]),
        kind=EventKind(item["kind"]),
        busy=bool(item["busy"]),
        declined=bool(item["declined"]),
        cancelled=bool(item["cancelled"]),
        start_zone=item.get("start_zone"),
        recurrence=tuple(item.get("recurrence") or ()),
        recurring_event_id=item.get("recurring_event_id"),
        original_start=moment(item.get("original_start")),
        hold_id=item.get("hold_id"),
        hold_kind=item.get("hold_kind"),
        etag=item.get("etag"),
        declines=int(item.get("declines") or 0),
    )


def load_to_item(email: str, load: DayLoad) -> Item:
    item: Item = {PK: person_pk(email), SK: f"LOAD#{load.date.isoformat()}"}
    item.update(load.to_json())
    if load.longest_run is not None:
        item["longest_run"] = list(load.longest_run)
    item[TTL_ATTRIBUTE] = day_expiry(load.date)
    return item


def item_to_load(item: Item) -> DayLoad:
    run = item.get("longest_run")
    return DayLoad(
        date=date.fromisoformat(item["date"]),
        available=bool(item["available"]),
        meeting_minutes=int(item["meeting_minutes"]),
        after_hours_meeting_minutes=int(item["after_hours_meeting_minutes"]),
        longest_back_to_back_minutes=int(item["longest_back_to_back_minutes"]),
        back_to_back_meetings=int(item["back_to_back_meetings"]),
        focus_minutes=int(item["focus_minutes"]),
        overloaded=bool(item["overloaded"]),
        reasons=tuple(item["reasons"]),
        longest_run=(int(run[0]), int(run[1])) if run else None,
    )


def person_to_item(person: Person, *, erase_requested: bool = False) -> Item:
    item: Item = {
        PK: person_pk(person.email),
        SK: "PROFILE",
        "email": person.email,
        "status": person.status.value,
        "preferences": person.preferences.to_item(),
        "erase_requested": erase_requested,
    }
    if person.team is not None:
        item["team"] = person.team
    if person.timezone is not None:
        item["timezone"] = person.timezone
    if person.status in SCANNABLE:
        item[SCAN_INDEX_PK] = SCAN_PARTITION
        item[SCAN_INDEX_SK] = person.email
    return item


def item_to_person(item: Item) -> Person:
    return Person(
        email=item["email"],
        status=PersonStatus(item["status"]),
        team=item.get("team"),
        timezone=item.get("timezone"),
        preferences=Preferences.from_item(item.get("preferences") or {}),
    )


def pointer_targets(keys: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The items that pointers under a person name (sign-in tokens, sessions, aliases)."""
    targets = []
    for _, sk in keys:
        kind, _, secret = sk.partition("#")
        if kind in POINTER_KINDS and secret:
            targets.append((sk, kind))
    return targets
