"""Plain-text rendering of day loads and holds for the terminal."""

from __future__ import annotations

from micromoments.domain.day_load import DayLoad
from micromoments.domain.holds import HoldKind
from micromoments.domain.planner import CalendarPlan

BAR_MINUTES_PER_CELL = 30
BAR_WIDTH = 20
_KIND_LABEL = {
    HoldKind.BREATHER: "breather",
    HoldKind.SOCIAL: "social time",
    HoldKind.COFFEE: "coffee chat",
    HoldKind.WATERCOOLER: "watercooler",
}


def _duration(minutes: int) -> str:
    if minutes == 0:
        return "-"
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest}m"
    return f"{hours}h{rest:02d}" if rest else f"{hours}h"


def bar(minutes: int) -> str:
    """One cell per half hour of meetings, capped, with a '+' when it overflows."""
    cells = min(minutes // BAR_MINUTES_PER_CELL, BAR_WIDTH)
    overflow = "+" if minutes // BAR_MINUTES_PER_CELL > BAR_WIDTH else ""
    half = (
        "▌" if minutes % BAR_MINUTES_PER_CELL >= BAR_MINUTES_PER_CELL // 2 and not overflow else ""
    )
    return ("█" * cells + half + overflow).ljust(BAR_WIDTH + 1)


def _row(load: DayLoad) -> str:
    day = load.date.strftime("%a %Y-%m-%d")
    if not load.available:
        notes = "unavailable (all day / out of office)"
    elif load.overloaded:
        notes = "OVERLOADED: " + ", ".join(r.replace("_", " ") for r in load.reasons)
    else:
        notes = ""
    b2b = (
        f"{_duration(load.longest_back_to_back_minutes)} x{load.back_to_back_meetings}"
        if load.back_to_back_meetings
        else "-"
    )
    return (
        f"{day}  {_duration(load.meeting_minutes):>6}  {bar(load.meeting_minutes)}"
        f"{b2b:>9}  {_duration(load.focus_minutes):>6}  "
        f"{_duration(load.after_hours_meeting_minutes):>6}  {notes}"
    ).rstrip()


def render_loads(plan: CalendarPlan) -> str:
    header = (
        f"{'day':<14}  {'meet':>6}  {'█ = 30 min of meetings':<{BAR_WIDTH + 1}}"
        f"{'b2b run':>9}  {'focus':>6}  {'after':>6}  notes"
    )
    lines = [f"{plan.person} · {plan.timezone}", header]
    lines += [_row(load) for load in plan.loads]
    overloaded = sum(1 for load in plan.loads if load.overloaded)
    meeting = sum(load.meeting_minutes for load in plan.loads)
    lines.append(
        f"{len(plan.loads)} days: {_duration(meeting)} of meetings, "
        f"{overloaded} overloaded day{'s' if overloaded != 1 else ''}"
    )
    return "\n".join(lines)


def render_holds(plan: CalendarPlan) -> str:
    if not plan.holds:
        return "No holds to place: the calendar has room to breathe (or no room at all)."
    lines = [f"{len(plan.holds)} holds micromoments would place for {plan.person}:"]
    for hold in plan.holds:
        when = hold.start.strftime("%a %Y-%m-%d %H:%M") + hold.end.strftime("-%H:%M")
        shown = "busy" if hold.busy else "free"
        lines.append(f"  {when}  {_KIND_LABEL[hold.kind]:<12} ({shown})  id {hold.id}")
    return "\n".join(lines)
