"""The demo's page (``index.html``): the figures, the week's coffee chats and drop-ins, a
legend and, per person, the shown week before and after the pipeline ran."""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from micromoments.domain.holds import HoldKind
from micromoments.local.demo.connection import Chat, Connection
from micromoments.local.demo.picture import HOLD_KINDS, Block, Picture
from micromoments.local.demo.summary import care_rows, plural

# The picture: rows 07:00 to 20:00, i.e. [07:00, 21:00).
FIRST_MINUTE, LAST_MINUTE = 7 * 60, 21 * 60

_COLOURS = {
    "meeting": "#4a7bd0",
    "solo": "#9aa5b1",
    "out_of_office": "#c9c3b5",
    "breather": "#2a9d63",
    "social": "#f08c00",
    "coffee": "#8e44ad",
    "watercooler": "#159bb0",
}
_LABELS = {
    "meeting": "meeting",
    "solo": "solo block",
    "out_of_office": "out of office",
    "breather": "breather",
    "social": "social time",
    "coffee": "coffee chat",
    "watercooler": "watercooler",
}
_REASONS = {
    "meeting_hours": "meetings",
    "back_to_back": "back-to-back",
    "after_hours": "after hours",
}
_CSS = """
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:0}
.muted{color:#666}.figures{border-collapse:collapse;margin:12px 0}
.figures td,.figures th{border:1px solid #ddd;padding:3px 10px;text-align:right}
.figures th:first-child,.figures td:first-child{text-align:left}
.legend{display:flex;flex-wrap:wrap;gap:14px;margin:12px 0 20px}
.legend span{display:inline-flex;align-items:center;gap:6px}
.sw{display:inline-block;width:14px;height:14px;border-radius:3px}
.person{border-top:1px solid #ddd;padding:16px 0}
.pair{display:flex;gap:20px;flex-wrap:wrap;margin-top:8px}
.side{flex:1 1 460px;min-width:420px}.side h3{font-size:13px;margin:0 0 4px;color:#444}
.week{display:grid;grid-template-columns:38px repeat(7,1fr);font-size:11px}
.head{min-height:40px;text-align:center;padding:2px;border-bottom:1px solid #ccc}
.head.over{background:#fde2e1;color:#a4161a;font-weight:600}
.head .why{display:block;font-weight:400;font-size:10px}
.head.away{background:#eee;color:#777}
.hours{position:relative;height:448px}
.hours div{position:absolute;right:4px;font-size:10px;color:#888;transform:translateY(-50%)}
.day{position:relative;height:448px;border-left:1px solid #e4e4e4;
background:repeating-linear-gradient(#fff 0 31px,#f0f0f0 31px 32px)}
.day.over{box-shadow:inset 0 0 0 2px #e5383b}
.day.away{background:repeating-linear-gradient(45deg,#f4f4f4 0 6px,#e9e9e9 6px 12px)}
.work{position:absolute;left:0;right:0;background:rgba(74,123,208,.1)}
.b{position:absolute;border-radius:3px;box-sizing:border-box;border:1px solid rgba(0,0,0,.18);
overflow:hidden;color:#fff;font-size:9px;padding:0 2px;white-space:nowrap}
.b.edge{height:4px!important;border:none}
.hold{border:2px solid #fff;box-shadow:0 0 0 1px rgba(0,0,0,.35)}
.connection{border-top:1px solid #ddd;padding:16px 0}
.connection h3{font-size:13px;margin:14px 0 4px}
.chats{border-collapse:collapse}
.chats td,.chats th{border:1px solid #ddd;padding:3px 8px;text-align:left}
.chats .off{color:#a4161a}
.care .figures td:last-child{text-align:left;color:#555}.care .missed td{color:#a4161a}
"""


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


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


def _top(minutes: int) -> float:
    span = LAST_MINUTE - FIRST_MINUTE
    return (min(max(minutes, FIRST_MINUTE), LAST_MINUTE) - FIRST_MINUTE) / span * 100


def _block_html(block: Block, lane: int, lanes: int) -> str:
    width = 100 / lanes
    label = _LABELS.get(block.kind, block.kind)
    tip = f"{label} {_clock(block.start)}–{_clock(block.end)}"
    classes = "b hold" if block.kind in HOLD_KINDS else "b"
    if block.end <= FIRST_MINUTE or block.start >= LAST_MINUTE:
        classes += " edge"  # outside 07–21: a strip at the edge it lies beyond
        top = 0.0 if block.end <= FIRST_MINUTE else 99.0
        height = 1.0
        tip += " (outside the hours shown)"
    else:
        top = _top(block.start)
        height = max(_top(block.end) - top, 0.8)
    text = html.escape(label) if height >= 4 and lanes == 1 else ""
    return (
        f'<div class="{classes}" title="{html.escape(tip)}" style="top:{top:.2f}%;'
        f"height:{height:.2f}%;left:{lane * width:.1f}%;width:{width:.1f}%;"
        f'background:{_COLOURS.get(block.kind, "#777")}">{text}</div>'
    )


def _week_html(picture: Picture, blocks: Sequence[Block]) -> str:
    parts = ['<div class="week"><div class="head"></div>']
    for index in range(7):
        day = picture.monday + timedelta(days=index)
        load = picture.loads.get(day)
        classes = "head"
        why = ""
        if load is not None and load.overloaded:
            classes += " over"
            reasons = ", ".join(_REASONS.get(r, r) for r in load.reasons)
            why = f'<span class="why">overloaded<br>{html.escape(reasons)}</span>'
        elif (load is not None and not load.available) or picture.all_day.get(index):
            classes += " away"
            why = f'<span class="why">{html.escape(", ".join(picture.all_day.get(index, [])))}'
            why += "</span>"
        parts.append(f'<div class="{classes}">{day.strftime("%a %d %b")}{why}</div>')
    parts.append('<div class="hours">')
    for hour in range(FIRST_MINUTE // 60, LAST_MINUTE // 60):
        parts.append(f'<div style="top:{_top(hour * 60):.2f}%">{hour:02d}:00</div>')
    parts.append("</div>")
    for index in range(7):
        day = picture.monday + timedelta(days=index)
        load = picture.loads.get(day)
        classes = "day"
        if load is not None and load.overloaded:
            classes += " over"
        elif load is not None and not load.available:
            classes += " away"
        parts.append(f'<div class="{classes}">')
        working = picture.working[index]
        if working is not None:
            top = _top(working[0])
            parts.append(
                f'<div class="work" style="top:{top:.2f}%;height:{_top(working[1]) - top:.2f}%">'
                "</div>"
            )
        for block, lane, lanes in _lanes([b for b in blocks if b.day == index]):
            parts.append(_block_html(block, lane, lanes))
        parts.append("</div>")
    parts.append("</div>")
    return "".join(parts)


def _legend() -> str:
    items = [
        f'<span><i class="sw" style="background:{colour}"></i>{html.escape(_LABELS[kind])}</span>'
        for kind, colour in _COLOURS.items()
    ]
    items.append(
        '<span><i class="sw" style="box-shadow:inset 0 0 0 2px #e5383b"></i>overloaded day</span>'
    )
    items.append(
        '<span><i class="sw" style="background:rgba(74,123,208,.1)"></i>working hours</span>'
    )
    return '<div class="legend">' + "".join(items) + "</div>"


def _slot(chat: Chat) -> str:
    if chat.start is None or chat.end is None:
        return "no slot"
    return f"{chat.start:%a %d %b %H:%M}–{chat.end:%H:%M} ({chat.zone})"


def _on_calendars(chat: Chat) -> str:
    guests = len(chat.members) - 1
    organiser = "organiser's calendar" if chat.on_calendar else "not on the organiser's calendar"
    text = f"{organiser}, {chat.copies} of {plural(guests, 'guest')}"
    complete = chat.on_calendar and chat.copies == guests
    return text if complete else f'<span class="off">{html.escape(text)}</span>'


def _members(chat: Chat) -> str:
    first, *others = chat.members
    return ", ".join(
        [f"<b>{html.escape(first)}</b> (organiser)", *(html.escape(m) for m in others)]
    )


def _connection_html(summary: dict[str, Any], connection: Connection | None) -> str:
    """The round's coffee chats, groups of three and drop-ins: who (the demo's synthetic
    addresses), when in the organiser's zone, the hold's status and the calendars."""
    figures = summary["connection"]
    title = "Coffee chats and watercoolers"
    if figures["iso_week"]:
        title += f" · {figures['iso_week']}"
    parts = [f'<section class="connection" id="connection"><h2>{html.escape(title)}</h2>']
    if connection is None or not connection.iso_week:
        parts.append('<p class="muted">The weekly pairing did not run.</p></section>')
        return "".join(parts)
    unpaired = sum(figures["unpaired"].values())
    parts.append(
        f'<p class="muted">The weekly pairing (run 2) planned the coming ISO week: '
        f"{plural(figures['pairs'], 'pair')} and {plural(figures['trios'], 'group')} of three "
        f"among {figures['coffee_people']} people who wanted a coffee chat and had room for "
        f"one (paired share {figures['paired_share']}), and "
        f"{plural(figures['watercoolers'], 'team drop-in')}. The organisers' scans placed "
        "them; the Calendar server copied them to the guests' calendars. People are shown "
        "by the demo's synthetic addresses; the Store keeps only pseudonyms.</p>"
    )
    coffee = connection.groups(HoldKind.COFFEE.value)
    parts.append("<h3>Coffee chats</h3>")
    if coffee:
        parts.append(
            '<table class="chats"><tr><th>who</th><th>when (organiser\'s zone)</th>'
            "<th>status</th><th>on the calendars</th></tr>"
        )
        for chat in coffee:
            size = "pair" if len(chat.members) == 2 else f"group of {len(chat.members)}"
            parts.append(
                f'<tr class="chat coffee"><td>{_members(chat)} <span class="muted">({size})'
                f"</span></td><td>{html.escape(_slot(chat))}</td>"
                f"<td>{html.escape(chat.status)}</td><td>{_on_calendars(chat)}</td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append('<p class="muted">No coffee chat this week.</p>')
    parts.append("<h3>Team watercoolers</h3>")
    drop_ins = connection.groups(HoldKind.WATERCOOLER.value)
    if drop_ins:
        parts.append(
            '<table class="chats"><tr><th>team</th><th>when (organiser\'s zone)</th>'
            "<th>free and invited</th><th>status</th><th>on the calendars</th></tr>"
        )
        for chat in drop_ins:
            parts.append(
                f'<tr class="chat watercooler"><td>{html.escape(chat.team or "")}</td>'
                f"<td>{html.escape(_slot(chat))}</td>"
                f"<td>{len(chat.members)} of {chat.team_size} "
                f'<span class="muted">({_members(chat)})</span></td>'
                f"<td>{html.escape(chat.status)}</td><td>{_on_calendars(chat)}</td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append('<p class="muted">No team drop-in this week.</p>')
    parts.append("<h3>Unpaired</h3>")
    if unpaired:
        items = "".join(
            f"<li>{html.escape(reason.replace('_', ' '))}: {plural(count, 'person', 'people')}</li>"
            for reason, count in figures["unpaired"].items()
        )
        parts.append(f"<ul>{items}</ul>")
    else:
        parts.append('<p class="muted">Nobody: everyone who wanted a coffee chat has one.</p>')
    parts.append(
        f'<p class="muted">On the calendars: {figures["coffee_events_on_calendars"]} coffee '
        f"and {figures['watercooler_events_on_calendars']} watercooler events organised, "
        f"{figures['attendee_copies']} copies on the guests' calendars "
        f"({figures['attendee_copies_missing']} missing).</p></section>"
    )
    return "".join(parts)


def _care_html(care: dict[str, Any]) -> str:
    """The care outcomes: what the product exists for, with the counts behind each."""
    rows = "".join(
        f'<tr class="outcome{"" if met else " missed"}"><td>{html.escape(name)}</td>'
        f"<td>{html.escape(value)}</td><td>{html.escape(target)}</td>"
        f"<td>{'met' if met else 'missed'}</td><td>{html.escape(counts)}</td></tr>"
        for name, value, counts, target, met in care_rows(care)
    )
    return (
        '<section class="care" id="care"><h2>Care outcomes</h2>'
        '<table class="figures"><tr><th>outcome</th><th>value</th><th>target</th>'
        f"<th></th><th>behind it</th></tr>{rows}</table></section>"
    )


def _push_html(push: dict[str, Any] | None) -> str:
    """The push path's figure: from a change on the Calendar server to the hold moved."""
    if not push:
        return ""
    figures = push["change_to_hold_seconds"]
    return (
        f"<p>Push: from a new meeting over a hold on the Calendar server to the hold moved, "
        f"median <b>{figures['median']} s</b>, max {figures['max']} s over {figures['count']} "
        f"of {push['people']} changed calendars (notify, scan queue, scan; the demo's push "
        f"window is {push['window_seconds']} s, 60 s deployed).</p>"
    )


def render_html(
    summary: dict[str, Any], pictures: Sequence[Picture], connection: Connection | None = None
) -> str:
    """The demo's page: the figures, the week's coffee chats and drop-ins, a legend and,
    per person, the shown week before and after the pipeline ran. Only kinds and times
    (and the demo's synthetic addresses): no event title ever reaches it."""
    runs = summary["runs"]
    head = "".join(f"<th>{html.escape(run['run'])}</th>" for run in runs)
    rows = ""
    for label, key in (
        ("people scanned", "people_scanned"),
        ("Calendar writes", "calendar_writes"),
        ("Store writes beyond leases", "store_writes_beyond_leases"),
        ("Google requests", "google_requests"),
        ("seconds", "seconds"),
    ):
        rows += f"<tr><td>{label}</td>" + "".join(f"<td>{run[key]}</td>" for run in runs)
        rows += "</tr>"
    holds = ", ".join(f"{count} {kind}" for kind, count in summary["holds"].items() if count)
    shown = date.fromisoformat(summary["week_shown"])
    body = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        "<meta name=viewport content='width=device-width,initial-scale=1'>",
        f"<title>micromoments demo</title><style>{_CSS}</style></head><body>",
        "<h1>micromoments demo</h1>",
        f'<p class="muted">{plural(summary["people"], "person", "people")} in '
        f"{plural(summary['teams'], 'team')} across "
        f"{html.escape(', '.join(summary['time_zones']))}; the week of "
        f"{shown.strftime('%d %B %Y')}, before and after the scan placed its holds. "
        "Only kinds and times are shown: event titles are never read into micromoments.</p>",
        f"<p>{summary['people_scanned']} people scanned · {summary['overloaded_days']} "
        f"overloaded days ahead · holds: {html.escape(holds or 'none')} · "
        f"second run writes: <b>{summary['second_run_writes']}</b></p>",
        '<p class="muted">Run 1 syncs every calendar and places holds; run 2 is the weekly '
        "pairing, whose organisers' scans place the coffee chats and drop-ins; run 3 stores "
        "our own new events as they come back through the incremental sync; run 4 is the "
        "rescan of unchanged calendars that <i>second run writes</i> measures: Calendar "
        "writes plus Store writes other than leases.</p>",
        f'<table class="figures"><tr><th>run</th>{head}</tr>{rows}</table>',
        _push_html(summary.get("push")),
        _care_html(summary["care"]),
        _connection_html(summary, connection),
        _legend(),
    ]
    for picture in pictures:
        over = sum(1 for load in picture.loads.values() if load.overloaded)
        kinds = Counter(block.kind for block in picture.holds)
        held = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
        team = f" · team {html.escape(picture.team)}" if picture.team else ""
        body.append(
            f'<section class="person"><h2>{html.escape(picture.email)}</h2>'
            f'<div class="muted">{html.escape(picture.timezone)}{team} · {over} overloaded '
            f"day{'s' if over != 1 else ''} this week · holds: {html.escape(held or 'none')}"
            '</div><div class="pair">'
            f'<div class="side"><h3>before</h3>{_week_html(picture, picture.calendar)}</div>'
            '<div class="side"><h3>after</h3>'
            f"{_week_html(picture, [*picture.calendar, *picture.holds])}</div>"
            "</div></section>"
        )
    body.append("</body></html>\n")
    return "\n".join(body)
