"""What a saved preferences form changes, in sentences the person can check: "Wednesday is
now quiet: 2 holds on Wed 9 Dec will be removed within the hour."

The holds named are the person's live holds that the next scan takes off or moves, by the
rules of `reconcile` (a quiet day, a kind no longer wanted, outside the working hours in
the person's zone); a hold the person edited themselves (``adopted``) is never touched,
and a coffee chat or drop-in already arranged is not either. "Within the hour" is what the
site can promise: the save queues a scan at once (reason ``preferences``), and the hourly
dispatch is the fallback. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from micromoments.domain.holds import ON_CALENDAR, SHARED_KINDS, Hold, HoldKind, HoldStatus
from micromoments.domain.hours_form import DAY_WORDS
from micromoments.domain.intervals import subtract
from micromoments.domain.people import PartOfDay, Preferences
from micromoments.domain.working_hours import DAY_NAMES, WorkingHours

SOON = "within the hour"
KIND_NAMES = {
    HoldKind.BREATHER: "Breathers",
    HoldKind.SOCIAL: "Social time",
    HoldKind.COFFEE: "Coffee chats",
    HoldKind.WATERCOOLER: "Watercooler drop-ins",
}
PARTS = {
    PartOfDay.ANY: "any time of the day",
    PartOfDay.MORNING: "the morning",
    PartOfDay.MIDDAY: "around midday",
    PartOfDay.AFTERNOON: "the afternoon",
}


def short_date(day: date) -> str:
    return f"{DAY_NAMES[day.weekday()]} {day.day} {day.strftime('%b')}"


def _listed(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _holds_on(holds: Sequence[Hold]) -> str:
    """ "2 holds on Wed 9 Dec", "1 hold on Thu 10 Dec and Fri 11 Dec"..."""
    days = sorted({h.day for h in holds})
    noun = "hold" if len(holds) == 1 else "holds"
    return f"{len(holds)} {noun} on {_listed([short_date(d) for d in days])}"


def _fits(hold: Hold, hours: WorkingHours, tz: ZoneInfo) -> bool:
    slot = (int(hold.start.timestamp()), int(hold.end.timestamp()))
    return not subtract([slot], hours.intervals(hold.day, tz))


def confirmations(
    before: Preferences,
    after: Preferences,
    *,
    hours: tuple[WorkingHours, WorkingHours],
    zones: tuple[ZoneInfo, ZoneInfo],
    holds: Sequence[Hold],
    now: datetime,
) -> list[str]:
    """One sentence a change, in the order of the form. ``hours`` and ``zones`` are the
    person's effective working hours and zone before and after (org defaults applied);
    ``holds`` their hold records in the Store."""
    live = [
        h
        for h in holds
        if h.kind not in SHARED_KINDS
        and h.status in ON_CALENDAR
        and h.status is not HoldStatus.ADOPTED
        and h.end > now
        and h.day.weekday() not in before.quiet_days
    ]
    out: list[str] = []
    taken: set[str] = set()

    def removed(chosen: list[Hold], what: str) -> str:
        taken.update(h.id for h in chosen)
        return f"{_holds_on(chosen)} will be {what} {SOON}" if chosen else ""

    for kind, name in KIND_NAMES.items():
        if before.wants(kind) and not after.wants(kind):
            gone = [h for h in live if h.kind is kind and h.id not in taken]
            if kind in SHARED_KINDS:
                out.append(
                    f"{name} are off: none will be arranged for you from now on; one already "
                    "on your calendar stays (decline it there if you like)."
                )
            else:
                tail = removed(gone, "removed") or "none are on your calendar now"
                out.append(f"{name} {'is' if kind is HoldKind.SOCIAL else 'are'} off: {tail}.")
        elif after.wants(kind) and not before.wants(kind):
            verb = "is" if kind is HoldKind.SOCIAL else "are"
            out.append(f"{name} {verb} on: placed where your days have room, starting {SOON}.")

    for day in range(7):
        word = DAY_WORDS[day]
        if day in after.quiet_days and day not in before.quiet_days:
            gone = [h for h in live if h.day.weekday() == day and h.id not in taken]
            tail = removed(gone, "removed") or f"no holds will be placed on {word}s"
            out.append(f"{word} is now quiet: {tail}.")
        elif day in before.quiet_days and day not in after.quiet_days:
            again = f"holds may be placed there again, starting {SOON}"
            out.append(f"{word} is no longer quiet: {again}.")

    if hours[0] != hours[1] or zones[0].key != zones[1].key:
        outside = [
            h
            for h in live
            if h.id not in taken
            and h.day.weekday() not in after.quiet_days
            and not _fits(h, hours[1], zones[1])
        ]
        tail = removed(outside, "moved inside them or removed") or "your holds already fit them"
        if zones[0].key != zones[1].key:
            out.append(f"Your time zone is now {zones[1].key}.")
        head = (
            f"Your working hours are now {hours[1]}"
            if hours[0] != hours[1]
            else f"Your working hours ({hours[1]}) now apply in {zones[1].key}"
        )
        out.append(f"{head}: {tail}.")

    elif before.working_hours != after.working_hours:  # the same hours, a different source
        whose = "your own now" if after.working_hours else "your organisation's again"
        out.append(f"Your working hours stay {hours[1]}, {whose}.")

    for field, noun in (("breather_minutes", "Breathers now last"),
                        ("social_minutes", "Social time now lasts"),
                        ("coffee_minutes", "Coffee chats now last")):  # fmt: skip
        old, new = getattr(before, field), getattr(after, field)
        if old != new:
            out.append(f"{noun} {new} minutes, from the next one placed; those on "
                       "your calendar keep their length.")  # fmt: skip
    if before.holds_per_week != after.holds_per_week:
        cap = after.holds_per_week
        limit = "your organisation's default" if cap is None else f"{cap}"
        out.append(f"At most {limit} holds a week from now on; those already placed stay.")
    if before.part_of_day != after.part_of_day:
        out.append(f"Social time now goes in {PARTS[after.part_of_day]} when there is room.")
    if before.weekly_email != after.weekly_email:
        out.append("The weekly email is " + ("on." if after.weekly_email else "off."))
    if before.coffee_across_teams != after.coffee_across_teams:
        first = "other teams" if after.coffee_across_teams else "anyone"
        out.append(f"Coffee chats pair you with {first} first, from the next weekly pairing.")
    added = len(after.dont_pair - before.dont_pair)
    if added:
        out.append(f"{added} {'entry' if added == 1 else 'entries'} added to your never-pair "
                   "list, from the next weekly pairing.")  # fmt: skip
    return out
