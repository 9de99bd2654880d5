"""The report's view of the people: per person, what changed in sentences, why nothing was
placed where a day needed it, and one week (the after state) laid out for the page, in the
person's own zone. Kinds, times and the demo's synthetic addresses only: never a title."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from micromoments.domain.holds import SOCIAL_KINDS, HoldKind
from micromoments.domain.planner import SOCIAL_MIN_MINUTES
from micromoments.local.demo.connection import Chat, Connection
from micromoments.local.demo.picture import HOLD_KINDS, Block, Picture

PIXELS_PER_HOUR = 30
LABEL_MINUTES = 40  # the grid's minutes a hold's label needs on a wide screen
HOLD_LABELS = {
    "breather": "Breather",
    "social": "Social time",
    "coffee": "Coffee chat",
    "watercooler": "Team drop-in",
}
_REASONS = {
    "meeting_hours": "many hours of meetings",
    "back_to_back": "meetings back to back",
    "after_hours": "meetings after hours",
}


def clock(minutes: int) -> str:
    return f"{minutes // 60 % 24:02d}:{minutes % 60:02d}"


def duration(minutes: int) -> str:
    """``4 h 15 min``, ``2 h``, ``45 min``."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def first_name(address: str) -> str:
    local = address.split("@", 1)[0]
    return local.split(".", 1)[0].rstrip("0123456789").capitalize()


def full_name(address: str) -> str:
    local = address.split("@", 1)[0]
    return " ".join(part.rstrip("0123456789").capitalize() for part in local.split("."))


@dataclass(frozen=True, slots=True)
class Placed:
    """A block on the week grid: its kind, the text a hold shows (empty for the calendar's
    own events) and where it sits, in percent of the day column."""

    kind: str
    text: str  # a hold's kind and start, "Breather 14:15"
    until: str  # and its end, "–14:30" (read out; shown where there is room)
    top: float
    height: float
    left: float
    width: float
    edge: bool = False

    @property
    def hold(self) -> bool:
        return self.kind in HOLD_KINDS


@dataclass
class DayView:
    label: str  # "Thu 10 Dec"
    state: str  # "", "relieved", "overloaded", "away", "quiet", "off"
    badge: str  # the state in words
    summary: str  # the day's meetings in words
    run: str  # its longest back-to-back run, if any
    blocks: list[Placed] = field(default_factory=list)
    work: tuple[float, float] | None = None  # top and height of the working hours

    @property
    def holds(self) -> list[Placed]:
        return [block for block in self.blocks if block.hold]


@dataclass
class PersonView:
    anchor: str
    name: str
    email: str
    team: str
    zone: str
    changes: list[str]
    unmet: list[str]
    days: list[DayView]
    hours: list[tuple[str, float]]  # hour labels and their top, in percent
    height: int  # pixels of the grid on a wide screen
    holds: int


def _lanes(blocks: Sequence[Block]) -> list[tuple[Block, int, int]]:
    """Each block with its lane and the lane count of its overlap cluster."""
    placed: list[tuple[Block, int, int]] = []
    cluster: list[tuple[Block, int]] = []
    lane_ends: list[int] = []
    cluster_end = 0
    for block in sorted(blocks, key=lambda b: (b.start, -b.end)):
        if cluster and block.start >= cluster_end:
            placed.extend((b, lane, len(lane_ends)) for b, lane in cluster)
            cluster, lane_ends = [], []
        for lane, end in enumerate(lane_ends):
            if end <= block.start:
                lane_ends[lane] = block.end
                break
        else:
            lane = len(lane_ends)
            lane_ends.append(block.end)
        cluster_end = max(cluster_end, block.end) if cluster else block.end
        cluster.append((block, lane))
    placed.extend((b, lane, len(lane_ends)) for b, lane in cluster)
    return placed


def _span(picture: Picture) -> tuple[int, int]:
    """The hours the grid shows: working hours and every hold, whole hours, at least 8."""
    starts = [w[0] for w in picture.working if w] + [b.start for b in picture.holds]
    ends = [w[1] for w in picture.working if w] + [b.end for b in picture.holds]
    first = min(starts, default=9 * 60) // 60 * 60
    last = -(-max(ends, default=17 * 60) // 60) * 60
    while last - first < 8 * 60:
        if last < 24 * 60:
            last += 60
        else:
            first -= 60
    return first, last


def _hold_text(block: Block) -> tuple[str, str]:
    return f"{HOLD_LABELS.get(block.kind, block.kind)} {clock(block.start)}", f"–{clock(block.end)}"


def _placed(blocks: Sequence[Block], first: int, last: int) -> list[Placed]:
    """The calendar's events and the holds, each set in its own lanes: a hold's label
    needs about 40 minutes of the grid, so holds closer than that sit side by side."""
    span = last - first
    busy = [b for b in blocks if b.kind not in HOLD_KINDS]
    holds = [b for b in blocks if b.kind in HOLD_KINDS]
    tall = {replace(b, end=max(b.end, b.start + LABEL_MINUTES)): b for b in holds}
    laned = [*_lanes(busy), *((tall[b], lane, n) for b, lane, n in _lanes(list(tall)))]
    out: list[Placed] = []
    for block, lane, lanes in laned:
        text, until = _hold_text(block) if block.kind in HOLD_KINDS else ("", "")
        width = 100 / lanes
        if block.end <= first or block.start >= last:
            top = 0.0 if block.end <= first else 99.0
            out.append(Placed(block.kind, text, until, top, 1.0, lane * width, width, edge=True))
            continue
        top = (max(block.start, first) - first) / span * 100
        bottom = (min(block.end, last) - first) / span * 100
        out.append(
            Placed(block.kind, text, until, top, max(bottom - top, 0.5), lane * width, width)
        )
    return out


def _day_summary(picture: Picture, day: date, index: int) -> tuple[str, str]:
    """The day's meetings in words, and its longest back-to-back run."""
    load = picture.loads.get(day)
    meetings = [b for b in picture.calendar if b.day == index and b.kind == "meeting"]
    if not meetings:
        return "no meetings", ""
    minutes = load.meeting_minutes if load else sum(b.end - b.start for b in meetings)
    text = f"{len(meetings)} meeting{'s' if len(meetings) != 1 else ''}, {duration(minutes)}"
    run = picture.runs.get(index)
    if run and load and load.back_to_back_meetings >= 2:
        return text, f"back to back {clock(run[0])}–{clock(run[1])}"
    return text, ""


def _free_after_run(picture: Picture, index: int) -> bool:
    """A free 10 minutes inside working hours in the hour after the day's longest run."""
    run, working = picture.runs.get(index), picture.working[index]
    if run is None or working is None:
        return False
    window_start, window_end = max(run[1], working[0]), min(run[1] + 60, working[1])
    busy = sorted(
        (b.start, b.end) for b in picture.calendar if b.day == index and b.kind != "out_of_office"
    )
    cursor = window_start
    for start, end in busy:
        if start - cursor >= 10 and start <= window_end:
            return True
        if end > cursor:
            cursor = max(cursor, end)
    return window_end - cursor >= 10


def why_no_breather(picture: Picture, day: date, index: int) -> str:
    """Why an overloaded day of the shown week has no breather, in words."""
    weekday = day.strftime("%a")
    if "breather" not in picture.wants:
        return f"{weekday}: no breather, as they chose not to have breathers"
    if day.weekday() in picture.quiet_days:
        return f"{weekday}: no breather, as it is one of their quiet days"
    if picture.today is not None and day < picture.today:
        return f"{weekday}: no breather, as the day had passed when micromoments first looked"
    if index not in picture.runs:
        load = picture.loads.get(day)
        why = ", ".join(_REASONS.get(r, r) for r in load.reasons) if load else "a full day"
        return f"{weekday}: no breather, as there is no back-to-back run to follow ({why})"
    week_holds = len({(b.kind, b.day, b.start) for b in picture.holds})
    if picture.holds_cap and week_holds >= picture.holds_cap:
        return (
            f"{weekday}: no breather, as the week already has its {picture.holds_cap} holds "
            "(their weekly cap)"
        )
    end = clock(picture.runs[index][1])
    if not _free_after_run(picture, index):
        return f"{weekday}: no breather, as there is no free 10 minutes in the hour after {end}"
    return (
        f"{weekday}: no breather after {end}, as the last of the week's "
        f"{picture.holds_cap} holds was kept for a social moment"
    )


def _has_room(picture: Picture, index: int, minutes: int) -> bool:
    """``minutes`` free inside the day's working hours, besides its events and holds."""
    working = picture.working[index]
    if working is None:
        return False
    taken = sorted((b.start, b.end) for b in [*picture.calendar, *picture.holds] if b.day == index)
    cursor = working[0]
    for start, end in taken:
        if min(start, working[1]) - cursor >= minutes:
            return True
        cursor = max(cursor, end)
    return working[1] - cursor >= minutes


def why_no_social(picture: Picture) -> str | None:
    """Why someone who wants social time has none in the shown week, in words; None when
    they have some or want none."""
    social = {kind.value for kind in SOCIAL_KINDS}
    if not picture.wants & social or any(b.kind in social for b in picture.holds):
        return None
    days = [
        index
        for index in range(7)
        if picture.working[index] is not None
        and (picture.monday + timedelta(days=index)).weekday() not in picture.quiet_days
        and not picture.all_day.get(index)
        and (picture.today is None or picture.monday + timedelta(days=index) >= picture.today)
    ]
    if not days:
        return "No social time this week: no working day left that is not quiet or away"
    week_holds = len({(b.kind, b.day, b.start) for b in picture.holds})
    if picture.holds_cap and week_holds >= picture.holds_cap:
        return (
            f"No social time this week: breathers took the week's {picture.holds_cap} holds "
            "(their weekly cap)"
        )
    if not any(_has_room(picture, index, SOCIAL_MIN_MINUTES) for index in days):
        return f"No social time this week: no free {SOCIAL_MIN_MINUTES} minutes on a working day"
    return "No social time this week, although a working day had room for it"


def _chat_of(chats: Sequence[Chat], email: str, kind: str) -> Chat | None:
    return next((chat for chat in chats if chat.kind == kind and email in chat.members), None)


def _change(picture: Picture, block: Block, chats: Sequence[Chat]) -> str:
    day = picture.monday + timedelta(days=block.day)
    weekday, at, minutes = day.strftime("%a"), clock(block.start), block.end - block.start
    if block.kind == HoldKind.BREATHER.value:
        load = picture.loads.get(day)
        if load and load.longest_back_to_back_minutes:
            run = duration(load.longest_back_to_back_minutes)
            return (
                f"{weekday}: {run} of meetings back to back → a {minutes}-minute breather at {at}"
            )
        return f"{weekday}: a {minutes}-minute breather at {at}"
    if block.kind == HoldKind.SOCIAL.value:
        return f"{weekday}: {minutes} minutes of social time at {at}, to spend as they like"
    if block.kind == HoldKind.COFFEE.value:
        chat = _chat_of(chats, picture.email, block.kind)
        others = [first_name(m) for m in chat.members if m != picture.email] if chat else []
        who = f" with {' and '.join(others)}" if others else ""
        return f"{weekday}: a {minutes}-minute coffee chat{who} at {at}"
    if block.kind == HoldKind.WATERCOOLER.value:
        team = f" of team {picture.team}" if picture.team else ""
        return f"{weekday}: a {minutes}-minute drop-in{team} at {at}"
    return f"{weekday}: {HOLD_LABELS.get(block.kind, block.kind)} at {at}"


def _day_view(picture: Picture, index: int, first: int, last: int) -> DayView:
    day = picture.monday + timedelta(days=index)
    load = picture.loads.get(day)
    kinds = {b.kind for b in picture.holds if b.day == index}
    state, badge = "", ""
    if load is not None and load.overloaded:
        if "breather" in kinds:
            state, badge = "relieved", "Breather added"
        else:
            state, badge = "overloaded", "Heavy, no breather"
    elif picture.all_day.get(index):
        state, badge = "away", ", ".join(picture.all_day[index]).capitalize()
    elif load is not None and not load.available:
        state, badge = "away", "Away"
    elif picture.working[index] is None:
        state, badge = "off", "Day off"
    elif day.weekday() in picture.quiet_days:
        state, badge = "quiet", "Quiet day"
    span = last - first
    working = picture.working[index]
    work = None
    if working is not None:
        top = (max(working[0], first) - first) / span * 100
        work = (top, (min(working[1], last) - first) / span * 100 - top)
    blocks = [b for b in [*picture.calendar, *picture.holds] if b.day == index]
    summary, run = _day_summary(picture, day, index)
    return DayView(
        label=day.strftime("%a %d %b"),
        state=state,
        badge=badge,
        summary=summary,
        run=run,
        blocks=_placed(blocks, first, last),
        work=work,
    )


def person_view(picture: Picture, connection: Connection | None) -> PersonView:
    chats = connection.chats if connection else []
    first, last = _span(picture)
    unique = sorted(set(picture.holds), key=lambda b: (b.day, b.start, b.kind))
    changes = [_change(picture, block, chats) for block in unique]
    unmet = []
    for index in range(7):
        day = picture.monday + timedelta(days=index)
        load = picture.loads.get(day)
        held = {b.kind for b in picture.holds if b.day == index}
        if load is not None and load.overloaded and "breather" not in held:
            unmet.append(why_no_breather(picture, day, index))
    social = why_no_social(picture)
    if social is not None:
        unmet.append(social)
    hours = [
        (f"{hour:02d}:00", (hour * 60 - first) / (last - first) * 100)
        for hour in range(first // 60, last // 60)
    ]
    return PersonView(
        anchor="p-" + picture.email.split("@", 1)[0].replace(".", "-"),
        name=full_name(picture.email),
        email=picture.email,
        team=picture.team or "No team",
        zone=picture.timezone,
        changes=changes,
        unmet=unmet,
        days=[_day_view(picture, index, first, last) for index in range(7)],
        hours=hours,
        height=(last - first) * PIXELS_PER_HOUR // 60,
        holds=len(unique),
    )


def teams_of(people: Sequence[PersonView]) -> list[tuple[str, list[PersonView]]]:
    """The people by team, teams by name, people by name within a team."""
    by_team: dict[str, list[PersonView]] = {}
    for person in sorted(people, key=lambda p: (p.team, p.name)):
        by_team.setdefault(person.team, []).append(person)
    return sorted(by_team.items())


def hold_counts(pictures: Sequence[Picture]) -> Counter[str]:
    return Counter(block.kind for picture in pictures for block in set(picture.holds))
