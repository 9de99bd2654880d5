"""Holds: the events micromoments places, their kinds, statuses and stable ids."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from micromoments.domain.calendar import CalendarEvent, EventKind


class HoldKind(StrEnum):
    BREATHER = "breather"
    SOCIAL = "social"
    COFFEE = "coffee"
    WATERCOOLER = "watercooler"


# What a hold says on the calendar (the same in .ics files and on Google).
HOLD_TITLES = {
    HoldKind.BREATHER: "Breather",
    HoldKind.SOCIAL: "Social time",
    HoldKind.COFFEE: "Coffee chat",
    HoldKind.WATERCOOLER: "Watercooler",
}
HOLD_DESCRIPTIONS = {
    HoldKind.BREATHER: "A short pause after a run of back-to-back meetings.",
    HoldKind.SOCIAL: "Unstructured time to share with colleagues, or to keep for yourself.",
    HoldKind.COFFEE: "A coffee chat with a colleague.",
    HoldKind.WATERCOOLER: "A team drop-in: come by if you can.",
}

SOCIAL_KINDS = frozenset({HoldKind.SOCIAL, HoldKind.COFFEE, HoldKind.WATERCOOLER})
PERSONAL_KINDS = frozenset({HoldKind.BREATHER, HoldKind.SOCIAL})
SHARED_KINDS = frozenset({HoldKind.COFFEE, HoldKind.WATERCOOLER})

# Conversation openers for a coffee chat: one is picked from the event's id, so the same chat
# always says the same thing and two chats in a row rarely repeat.
CONVERSATION_PROMPTS = (
    "What is something you learned recently that surprised you?",
    "What did your first job teach you that you still use?",
    "What is a small thing that made your week better?",
    "Which part of your work would you like more people to know about?",
    "What are you looking forward to this season?",
    "What is a book, show or podcast you would recommend, and why?",
    "If you could swap roles with someone for a day, who would it be?",
    "What is a skill you are practising at the moment?",
    "Where would you go on a free Friday afternoon?",
    "What is a tool or habit that saves you time?",
)


def conversation_prompt(hold_id: str) -> str:
    digest = hashlib.sha256(hold_id.encode()).digest()
    return CONVERSATION_PROMPTS[digest[0] % len(CONVERSATION_PROMPTS)]


class HoldStatus(StrEnum):
    PLANNED = "planned"
    PLACED = "placed"
    KEPT = "kept"
    MOVED = "moved"
    ADOPTED = "adopted"
    REMOVED = "removed"
    DISMISSED = "dismissed"
    DECLINED = "declined"


# The hold-status sets, each defined once and named for what it means.
# On the person's calendar now: written by us or adopted, and its time not yet kept.
ON_CALENDAR = frozenset({HoldStatus.PLACED, HoldStatus.MOVED, HoldStatus.ADOPTED})
# Still to come: planned (not yet written) or on the calendar.
UPCOMING = ON_CALENDAR | {HoldStatus.PLANNED}
# Reached the calendar at some point: on it now, or kept (its time passed).
REACHED_CALENDAR = ON_CALENDAR | {HoldStatus.KEPT}
# Standing (not removed, dismissed or declined): takes the time, counts against the caps.
STANDING = UPCOMING | {HoldStatus.KEPT}


@dataclass(frozen=True, slots=True)
class Hold:
    """A hold on one person's calendar. ``busy`` is false for free (transparent) holds.

    A shared hold (coffee, watercooler) is recorded on its organiser only; ``attendees``
    are the other members as keyed pseudonyms (`people.pseudonym`), never addresses: the
    scan resolves them through the Store's aliases when it writes the event.
    """

    id: str
    kind: HoldKind
    start: datetime
    end: datetime
    busy: bool
    day: date
    generation: int = 0
    status: HoldStatus = HoldStatus.PLANNED
    etag: str | None = None  # the calendar's etag after our last write: a change is the person's
    attendees: tuple[str, ...] = ()  # shared holds: the other members' pseudonyms, sorted
    # our last patch went out more than once (a retry, or a journaled patch settled by a
    # GET): Google may still apply an earlier copy, which changes the etag and nothing else
    late_copy_possible: bool = False

    @property
    def shared(self) -> bool:
        return self.kind in SHARED_KINDS

    def occurrence(self) -> CalendarEvent:
        """This hold as an event on its calendar (our tag: busy for planning, never a meeting)."""
        return CalendarEvent(
            uid=self.id,
            start=self.start,
            end=self.end,
            kind=EventKind.HOLD,
            busy=self.busy,
            hold_id=self.id,
            hold_kind=self.kind.value,
        )


# Google event ids: lowercase base32hex (0-9, a-v), 5 to 1024 characters.
_EVENT_ID = re.compile(r"^[0-9a-v]{5,1024}$")
ID_PREFIX = "mm"


def _base32hex(digest: bytes) -> str:
    return base64.b32hexencode(digest).decode("ascii").rstrip("=").lower()


def personal_hold_id(person: str, kind: HoldKind, day: date, generation: int = 0) -> str:
    """The id of a personal hold, from its identity and never from its slot.

    A retry or a replan of the same hold therefore finds the same id; a bumped generation
    (after Google answered 409 for a cancelled event of that id) makes a new one.
    """
    identity = f"personal|{person.strip().lower()}|{kind.value}|{day.isoformat()}|{generation}"
    return ID_PREFIX + _base32hex(hashlib.sha256(identity.encode()).digest()[:20])


def shared_hold_id(org: str, iso_week: str, group: str, kind: HoldKind) -> str:
    """The id of a shared event (coffee, watercooler) from org, ISO week, pair or team, kind."""
    identity = f"shared|{org}|{iso_week}|{group}|{kind.value}"
    return ID_PREFIX + _base32hex(hashlib.sha256(identity.encode()).digest()[:20])


def is_event_id(value: str) -> bool:
    return bool(_EVENT_ID.match(value))


# In an .ics file a hold travels as UID "<id>.<kind>@micromoments": importing a file into a
# calendar drops X- properties but keeps the UID, so a re-export is still recognised.
_HOLD_UID = re.compile(r"^(?P<id>mm[0-9a-v]{3,1022})\.(?P<kind>[a-z]+)@micromoments$")


def hold_uid(hold_id: str, kind: HoldKind) -> str:
    return f"{hold_id}.{kind.value}@micromoments"


def parse_hold_uid(uid: str) -> tuple[str, HoldKind] | None:
    match = _HOLD_UID.match(uid.strip())
    if not match:
        return None
    try:
        return match["id"], HoldKind(match["kind"])
    except ValueError:
        return None
