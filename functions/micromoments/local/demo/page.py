"""The demo's page (``index.html``), a product view a people-team lead could show: the
organisation's week in plain language first, then one card per person (what changed, why
nothing was placed where a day needed it, the week after the runs), and the engineering
figures in a collapsed section at the end. Rendered from ``templates/report/`` by Jinja2
with autoescape; kinds, times and the demo's synthetic addresses only, never a title."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import cache
from typing import TYPE_CHECKING, Any

from micromoments.domain.holds import HoldKind
from micromoments.local.demo.connection import Chat, Connection
from micromoments.local.demo.picture import Picture
from micromoments.local.demo.report import (
    HOLD_LABELS,
    clock,
    full_name,
    hold_counts,
    person_view,
    teams_of,
)
from micromoments.local.demo.summary import plural

if TYPE_CHECKING:
    from jinja2 import Environment


@cache
def _templates() -> Environment:
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(
        loader=PackageLoader("micromoments", "templates/report"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "–"


def _name(key: str) -> str:
    return key.replace("_", " ").capitalize()


def care_table(care: dict[str, Any]) -> list[dict[str, Any]]:
    """Every care figure that has a target, generically: a share is met at or above its
    target, a count (an integer target) at or below it."""
    rows = []
    for key, target in care.get("targets", {}).items():
        value = care.get(key)
        if value is None:
            continue
        count = isinstance(target, int) and not isinstance(target, bool)
        met = value <= target if count else value >= target
        shown = str(value) if count else f"{round(100 * value)}%"
        goal = f"at most {target}" if count else f"at least {round(100 * target)}%"
        rows.append({"key": key, "name": _name(key), "value": shown, "target": goal, "met": met})
    return rows


def _week_of(iso_week: str) -> str:
    """``2026-W51`` as "the week of 14 December"."""
    year, _, week = iso_week.partition("-W")
    try:
        monday = date.fromisocalendar(int(year), int(week), 1)
    except ValueError:
        return iso_week
    return f"the week of {monday.day} {monday:%B}"


def _headlines(summary: dict[str, Any], pictures: Sequence[Picture]) -> list[dict[str, str]]:
    """The organisation's week in plain language: a figure and a sentence each."""
    care = summary.get("care", {})
    lines = []
    if "breather_days_eligible" in care:
        covered, eligible = care["breather_days_covered"], care["breather_days_eligible"]
        without = care.get("breather_days_without_gap", 0)
        text = (
            f"of heavy days with meetings back to back got a breather: {covered} of "
            f"{plural(eligible, 'day')} with room in the hour after the run."
        )
        if without:
            text += f" {plural(without, 'more day')} had no free 10 minutes there."
        lines.append({"figure": percent(covered, eligible), "text": text})
    if "social_people" in care:
        every, people = care["social_people_every_week"], care["social_people"]
        lines.append(
            {
                "figure": percent(every, people),
                "text": f"of the people who want social time have some every week: {every} of "
                f"{plural(people, 'person', 'people')}.",
            }
        )
    connection = summary.get("connection", {})
    chats = connection.get("pairs", 0) + connection.get("trios", 0)
    if connection.get("iso_week"):
        pool, paired = care.get("coffee_pool", 0), care.get("coffee_paired", 0)
        drop_ins = connection.get("watercoolers", 0)
        lines.append(
            {
                "figure": str(chats),
                "text": f"coffee chat{'' if chats == 1 else 's'} planned for "
                f"{_week_of(connection['iso_week'])}, pairing "
                f"{paired} of the {plural(pool, 'person', 'people')} who wanted one "
                f"({percent(paired, pool)}); and {plural(drop_ins, 'team drop-in')}.",
            }
        )
    counts = hold_counts(pictures)
    placed = " and ".join(
        plural(counts[kind], noun)
        for kind, noun in (("breather", "breather"), ("social", "social moment"))
        if counts[kind]
    )
    zones = summary.get("time_zones", [])
    lines.append(
        {
            "figure": str(summary["people"]),
            "text": f"people in {plural(summary['teams'], 'team')} across "
            f"{plural(len(zones), 'time zone')} ({', '.join(zones)}); in the week shown they "
            f"have {placed or 'no breather or social moment'} of their own.",
        }
    )
    return lines


def _chat_line(chat: Chat) -> dict[str, str]:
    names = [full_name(member) for member in chat.members]
    if chat.kind == HoldKind.WATERCOOLER.value:
        who = f"Team {chat.team}: {len(chat.members)} of {chat.team_size} free and invited"
    else:
        who = " and ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else names[0]
    when = (
        f"{chat.start:%a %d %b} {clock(chat.start.hour * 60 + chat.start.minute)} ({chat.zone})"
        if chat.start is not None
        else "no time found"
    )
    return {"kind": chat.kind, "label": HOLD_LABELS.get(chat.kind, chat.kind), "who": who,
            "when": when}  # fmt: skip


def _on_calendars(chat: Chat) -> dict[str, Any]:
    guests = len(chat.members) - 1
    organiser = "organiser's calendar" if chat.on_calendar else "not on the organiser's calendar"
    return {
        "text": f"{organiser}, {chat.copies} of {plural(guests, 'guest')}",
        "complete": chat.on_calendar and chat.copies == guests,
    }


def render_html(
    summary: dict[str, Any], pictures: Sequence[Picture], connection: Connection | None = None
) -> str:
    """The demo's page (see the module docstring)."""
    people = [person_view(picture, connection) for picture in pictures]
    chats = connection.chats if connection is not None else []
    shown = date.fromisoformat(summary["week_shown"])
    return (
        _templates()
        .get_template("index.html")
        .render(
            summary=summary,
            week=shown.strftime("%d %B %Y"),
            headlines=_headlines(summary, pictures),
            care=care_table(summary.get("care", {})),
            teams=teams_of(people),
            people=people,
            chats=[_chat_line(chat) for chat in chats],
            calendar_chats=[(chat, _on_calendars(chat)) for chat in chats],
            connection=summary.get("connection", {}),
            paired=connection is not None and bool(connection.iso_week),
            labels=HOLD_LABELS,
            plural=plural,
        )
    )
