"""The weekly digest in words: the numbers of `domain.digest` as the sentences, facts and
chart bars both parts of the email show (`email.digest` lays them out and composes the
message).

Both parts are rendered from one `DigestView`: every sentence and number is computed here
once, the templates (``templates/email/digest.html`` and ``digest.txt``) only lay it out,
so the two parts cannot tell different stories. Hours are shown to a tenth, and the days'
tenths add up to the week's (`Tenths`): a reader who sums the bars gets the total. The
per-weekday bar chart is drawn with table cells whose widths are percentages
(`Bar.percent`), and as a row of characters in the plain-text part (`Bar.text_bar`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from micromoments.domain.calendar import zone
from micromoments.domain.day_load import AFTER_HOURS, BACK_TO_BACK, MEETING_HOURS
from micromoments.domain.digest import Digest, Outcome, WeekNumbers, monday_of
from micromoments.domain.holds import HoldKind
from micromoments.email.links import opt_out_link, preferences_url, unsubscribe_link

BAR_TEXT_WIDTH = 20  # characters of the longest bar in the plain-text chart
MIN_BAR_PERCENT = 2  # a day with any meeting shows at least this much bar
SAME_TREND_MINUTES = 30  # a change smaller than this is "about the same"

BAR_COLOUR = "#0b5d6b"
OVERLOADED_COLOUR = "#b45309"
TRACK_COLOUR = "#ece7dc"


# -- hours to a tenth, adding up ---------------------------------------------------------------

MINUTES_PER_TENTH = 6


def tenths(minutes: int) -> int:
    """Minutes in tenths of an hour, rounded half up: 3 min -> 1, 87 min -> 15."""
    return (minutes + MINUTES_PER_TENTH // 2) // MINUTES_PER_TENTH


@dataclass(frozen=True, slots=True)
class Tenths:
    """A total and its parts in tenths of an hour, the parts adding up to the total.

    The total is rounded half up; each part is its minutes rounded down or up to a tenth,
    the tenths left over going to the parts with the largest remainders (the earlier day on
    a tie), so no part is off by a tenth or more and the shown parts sum to the shown total.
    """

    total: int
    parts: tuple[int, ...]

    @classmethod
    def of(cls, minutes: Sequence[int]) -> Tenths:
        total = tenths(sum(minutes))
        parts = [m // MINUTES_PER_TENTH for m in minutes]
        by_remainder = sorted(
            range(len(minutes)), key=lambda i: (-(minutes[i] % MINUTES_PER_TENTH), i)
        )
        for i in by_remainder[: total - sum(parts)]:
            parts[i] += 1
        return cls(total, tuple(parts))


def _shown(count: int) -> str:
    """Tenths of an hour as shown: 145 -> "14.5 h", 120 -> "12 h"."""
    whole, tenth = divmod(count, 10)
    return f"{whole}.{tenth} h" if tenth else f"{whole} h"


# -- the words and numbers of one digest ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fact:
    """One line of a section: "Meetings: 14.5 h (2.5 h more than last week's 12 h)"."""

    label: str
    value: str
    note: str = ""  # never in parentheses: the text part puts it in some

    @property
    def line(self) -> str:
        return f"{self.label}: {self.value}" + (f" ({self.note})" if self.note else "")


@dataclass(frozen=True, slots=True)
class Bar:
    """One weekday of the chart."""

    label: str  # "Mon 24"
    hours: str  # "3.5 h"
    percent: int  # of the week's busiest day; 0 without meetings, at least 2 with any
    overloaded: bool
    note: str  # "overloaded", "away" or ""
    text_bar: str  # the bar of the plain-text chart

    @property
    def line(self) -> str:
        note = f", {self.note}" if self.note else ""
        return f"{self.label:<7} {self.text_bar} {self.hours}{note}"

    @property
    def colour(self) -> str:
        return OVERLOADED_COLOUR if self.overloaded else BAR_COLOUR


@dataclass(frozen=True, slots=True)
class DigestView:
    """Everything both parts show, already in words."""

    subject: str
    week: str  # "24–30 November 2026"
    timezone: str
    intro: str
    person: str
    numbers: tuple[Fact, ...]
    bars: tuple[Bar, ...]
    any_overloaded: bool
    moments: tuple[Fact, ...]
    outlook: tuple[Fact, ...]
    coming: tuple[str, ...]  # next week's moments, one line each, in the reader's zone
    suggestion: str
    preferences_url: str
    unsubscribe_url: str
    opt_out_url: str


def view(digest: Digest, *, base_url: str, unsubscribe: str, opt_out: str) -> DigestView:
    monday = monday_of(digest.iso_week)
    this, m = digest.this_week, digest.moments
    week = _week_tenths(this, monday)
    bars = _bars(digest, monday, week)
    return DigestView(
        subject=subject(digest),
        week=_week_span(monday),
        timezone=digest.timezone,
        intro=(
            "It was a quiet one: no meetings, and nothing for micromoments to do."
            if digest.quiet
            else "Here is how it went, and what is ahead. Only you get this email."
        ),
        person=digest.person,
        numbers=(
            Fact("Meetings", _shown(week.total), _trend(digest, week.total)),
            Fact(
                "Longest back-to-back run",
                _duration(this.longest_run_minutes) if this.longest_run_minutes else "none",
            ),
            Fact(
                "Focus time",
                _decimal_hours(this.focus_minutes),
                "free stretches of 2 h or more in your working hours",
            ),
            Fact(
                "Meetings outside working hours",
                _duration(this.after_hours_minutes) if this.after_hours_minutes else "none",
                "counted in the meetings above" if this.after_hours_minutes else "",
            ),
            Fact(
                "Overloaded days",
                str(this.overloaded_days) if this.overloaded_days else "none",
                _why_overloaded(this),
            ),
        ),
        bars=bars,
        any_overloaded=any(b.overloaded for b in bars),
        moments=(
            Fact(
                "Breathers",
                f"{m.breathers_placed} placed" if m.breathers_placed else "none this week",
                f"you kept {m.breathers_kept} and removed {m.breathers_dismissed}"
                if m.breathers_placed
                else "",
            ),
            Fact(
                "Social time",
                f"{m.social_placed} placed" if m.social_placed else "none this week",
                f"you kept {m.social_kept}" if m.social_placed else "",
            ),
            Fact("Coffee chat", _coffee(digest)),
            Fact("Watercooler", _WATERCOOLER[m.watercooler]),
        ),
        outlook=_outlook(digest),
        coming=_coming(digest),
        suggestion=digest.suggestion.text,
        preferences_url=preferences_url(base_url),
        unsubscribe_url=unsubscribe_link(base_url, unsubscribe),
        opt_out_url=opt_out_link(base_url, opt_out),
    )


def subject(digest: Digest) -> str:
    """What micromoments gave back first, then the week: "3 breathers and a coffee with
    Ana this week"; the meeting load only when nothing was given back."""
    if digest.quiet:
        return "Your week: a quiet one"
    given = given_back(digest)
    if given:
        words = f"{_and(given)} this week"
        return words[:1].upper() + words[1:]
    this = digest.this_week
    total = _week_tenths(this, monday_of(digest.iso_week)).total
    return f"Your week: {_shown(total)} of meetings" if this.meeting_minutes else "Your week"


def given_back(digest: Digest) -> list[str]:
    """The moments of the week the person had, in words: breathers on their calendar (not
    deleted), social time, a coffee chat that happened (with whom), a drop-in."""
    m = digest.moments
    given: list[str] = []
    breathers = m.breathers_placed - m.breathers_dismissed
    if breathers:
        given.append(f"{breathers} breather{'s' if breathers != 1 else ''}")
    if m.social_placed:
        given.append("some social time")
    if m.coffee is Outcome.HAPPENED:
        names = _and(list(digest.coffee_with))
        given.append(f"a coffee with {names}" if names else "a coffee chat")
    if m.watercooler is Outcome.HAPPENED:
        given.append("a team drop-in")
    return given


def _coffee(digest: Digest) -> str:
    words = _COFFEE[digest.moments.coffee]
    names = _and(list(digest.coffee_with))
    return f"{words}, with {names}" if names else words


def _coming(digest: Digest) -> tuple[str, ...]:
    """Next week's moments, each "Tue 15 Dec, 14:15–14:30: a breather" in the reader's zone."""
    tz = zone(digest.timezone)
    lines = []
    for moment in digest.outlook.moments:
        start, end = moment.start.astimezone(tz), moment.end.astimezone(tz)
        lines.append(
            f"{start:%a} {start.day} {start:%b}, {start:%H:%M}–{end:%H:%M}: "
            f"{_KIND_WORDS.get(moment.kind, moment.kind.value)}"
        )
    return tuple(lines)


_KIND_WORDS = {
    HoldKind.BREATHER: "a breather",
    HoldKind.SOCIAL: "social time",
    HoldKind.COFFEE: "a coffee chat",
    HoldKind.WATERCOOLER: "a team drop-in",
}


_COFFEE = {
    Outcome.NONE: "none this week",
    Outcome.AHEAD: "still ahead",
    Outcome.HAPPENED: "it happened",
    Outcome.DECLINED: "it did not happen this time",
}
_WATERCOOLER = {
    Outcome.NONE: "none this week",
    Outcome.AHEAD: "still ahead",
    Outcome.HAPPENED: "it took place",
    Outcome.DECLINED: "it did not happen this time",
}


FIRST_WEEK = "your first week with micromoments: nothing to compare with yet"


def _trend(digest: Digest, shown_total: int) -> str:
    """This week against last in words, with the numbers as shown (the difference of the
    two shown totals); nothing for a week never observed, "first week" for a newcomer."""
    trend = digest.trend_minutes
    if trend is None:
        return FIRST_WEEK if digest.first_week else ""
    last = _week_tenths(digest.last_week, monday_of(digest.iso_week) - timedelta(days=7)).total
    if abs(trend) < SAME_TREND_MINUTES:
        return f"about the same as last week's {_shown(last)}"
    more = "more" if trend > 0 else "less"
    return f"{_shown(abs(shown_total - last))} {more} than last week's {_shown(last)}"


def _week_tenths(week: WeekNumbers, monday: date) -> Tenths:
    """The week's meeting time and its seven days' (Monday first), in tenths that add up."""
    by_date = {b.date: b.meeting_minutes for b in week.days}
    return Tenths.of([by_date.get(monday + timedelta(days=i), 0) for i in range(7)])


REASON_WORDS = {
    MEETING_HOURS: "many hours of meetings",
    BACK_TO_BACK: "back-to-back meetings without a break",
    AFTER_HOURS: "meetings outside working hours",
}


def _why_overloaded(week: WeekNumbers) -> str:
    """Each overloaded day and why, in plain words: "Monday: back-to-back meetings without
    a break; Wednesday: many hours of meetings and meetings outside working hours"."""
    return "; ".join(
        f"{b.date:%A}: {_and([REASON_WORDS.get(r, r.replace('_', ' ')) for r in b.reasons])}"
        for b in week.days
        if b.overloaded
    )


def _and(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def _bars(digest: Digest, monday: date, week: Tenths) -> tuple[Bar, ...]:
    """Monday to Sunday; a day without a load had no meetings."""
    by_date = {b.date: b for b in digest.this_week.days}
    most = max((b.meeting_minutes for b in by_date.values()), default=0)
    bars = []
    for offset in range(7):
        day = monday + timedelta(days=offset)
        found = by_date.get(day)
        minutes = found.meeting_minutes if found else 0
        overloaded = bool(found and found.overloaded)
        away = bool(found and not found.available)
        percent = max(MIN_BAR_PERCENT, round(100 * minutes / most)) if minutes else 0
        length = max(1, round(BAR_TEXT_WIDTH * minutes / most)) if minutes else 0
        bars.append(
            Bar(
                label=f"{day:%a} {day.day}",
                hours=_shown(week.parts[offset]),
                percent=percent,
                overloaded=overloaded,
                note="overloaded" if overloaded else "away" if away else "",
                text_bar=("#" * length).ljust(BAR_TEXT_WIDTH),
            )
        )
    return tuple(bars)


def _outlook(digest: Digest) -> tuple[Fact, ...]:
    o = digest.outlook
    heaviest = (
        Fact(
            "Busiest day",
            _long_date(o.heaviest_day),
            f"{_shown(tenths(o.heaviest_minutes))} of meetings",
        )
        if o.heaviest_day
        else Fact("Busiest day", "none yet", "no meetings on your calendar so far")
    )
    planned = Fact(
        "Moments already planned",
        str(o.holds_planned) if o.holds_planned else "none yet",
        "breathers, social time or shared moments on your calendar" if o.holds_planned else "",
    )
    return heaviest, planned


def _decimal_hours(minutes: int) -> str:
    """Whole and half hours read best as decimals: 870 -> "14.5 h", 720 -> "12 h"."""
    return _shown(tenths(minutes))


def _duration(minutes: int) -> str:
    """As the suggestion texts say it: "2 h 30 min", "45 min", "3 h"."""
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{hours} h {rest} min"
    return f"{hours} h" if hours else f"{rest} min"


def _long_date(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


def _week_span(monday: date) -> str:
    sunday = monday + timedelta(days=6)
    if monday.month == sunday.month:
        return f"{monday.day}–{sunday.day} {sunday:%B %Y}"
    if monday.year == sunday.year:
        return f"{monday.day} {monday:%B} – {sunday.day} {sunday:%B %Y}"
    return f"{monday.day} {monday:%B %Y} – {sunday.day} {sunday:%B %Y}"
