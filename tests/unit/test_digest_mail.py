"""The weekly digest email: a well-formed MIME message with one-click unsubscribe headers,
an email-safe HTML part and a plain-text part telling the same facts."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr, parsedate_to_datetime
from functools import partial
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micromoments.domain.access import pseudonym_key
from micromoments.domain.calendar import EventKind
from micromoments.domain.day_load import DayLoad
from micromoments.domain.digest import Digest, build_digest
from micromoments.domain.holds import HoldKind, HoldStatus
from micromoments.domain.links import LinkPurpose, LinkToken, link_token, read_link_token
from micromoments.domain.mirror import MirrorEvent
from micromoments.domain.people import first_name, pseudonym
from micromoments.email.digest import compose, render_html, render_text
from micromoments.email.digest_view import subject
from micromoments.email.links import opt_out_url, unsubscribe_url
from tests import builders

BASE = "https://care.example.org"
SENDER = "micromoments <digest@care.example.org>"
PERSON = "ana@example.org"
MASTER = b"m" * 32
MONDAY = date(2026, 11, 23)  # 2026-W48
NOW = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)  # Friday afternoon of that week
ALIAS = pseudonym(pseudonym_key(MASTER), PERSON)
TOKEN = link_token(MASTER, LinkPurpose.UNSUBSCRIBE, ALIAS, generation=0, issued=NOW)
LEAVE = link_token(MASTER, LinkPurpose.OPT_OUT, ALIAS, generation=0, issued=NOW)
LIST_UNSUBSCRIBE = re.compile(r"^<https?://[^>]+/unsubscribe\?token=[^>]+>$")


load = partial(builders.day_load, focus=120, run=60, run_meetings=2)


hold = partial(builders.hold, tz=UTC, busy=False)


def shared(event_id: str, kind: HoldKind, start: datetime) -> MirrorEvent:
    return MirrorEvent(
        id=event_id,
        start=start,
        end=start + timedelta(minutes=30),
        kind=EventKind.MEETING,
        hold_id=event_id,
        hold_kind=kind.value,
    )


def day(offset: int) -> date:
    return MONDAY + timedelta(days=offset)


def busy_week(person: str = PERSON) -> Digest:
    """14.5 h of meetings (last week 12 h), an overloaded Tuesday, no Friday load at all,
    3 breathers (2 kept, 1 removed), a coffee chat that happened, a watercooler ahead."""
    this = [
        load(day(0), 180),
        load(day(1), 330, overloaded=True, run=150),
        load(day(2), 120),
        load(day(3), 195, after=45),  # 4 h of meetings, 45 min of them after hours
        load(day(5), 0, focus=0, run=0),
        load(day(6), 0, focus=0, run=0),
    ]
    last = [load(day(-7 + i), 144) for i in range(5)]
    following = [load(day(7), 60), load(day(8), 270), load(day(9), 90)]
    holds = [
        hold(HoldKind.BREATHER, day(0), HoldStatus.KEPT, hold_id="b1"),
        hold(HoldKind.BREATHER, day(1), HoldStatus.ADOPTED, hold_id="b2"),
        hold(HoldKind.BREATHER, day(3), HoldStatus.DISMISSED, hold_id="b3"),
        hold(HoldKind.SOCIAL, day(2), HoldStatus.KEPT, hold_id="s1"),
        hold(HoldKind.BREATHER, day(8), HoldStatus.PLANNED, hold_id="n1"),
        hold(HoldKind.SOCIAL, day(9), HoldStatus.PLACED, hold_id="n2"),
    ]
    events = [
        shared("coffee1", HoldKind.COFFEE, datetime(2026, 11, 25, 10, tzinfo=UTC)),
        shared("water1", HoldKind.WATERCOOLER, datetime(2026, 11, 27, 16, tzinfo=UTC)),
    ]
    return build_digest(
        person=person,
        timezone="Europe/Berlin",
        label="2026-W48",
        loads=this + last + following,
        holds=holds,
        shared=events,
        now=NOW,
    )


def parsed(message: EmailMessage) -> EmailMessage:
    result = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert isinstance(result, EmailMessage)
    return result


def parts(message: EmailMessage) -> tuple[str, str]:
    """The plain text and the HTML of a parsed digest."""
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


class _Visible(HTMLParser):
    """The text a reader sees (title and hidden preheader included: both are read aloud or
    previewed somewhere)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)


def visible_text(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    return " ".join(" ".join(parser.chunks).split())


def flat(text: str) -> str:
    return " ".join(text.split())


NUMBER = re.compile(r"\d+(?:\.\d+)?")


@pytest.fixture
def message() -> EmailMessage:
    return compose(
        busy_week(),
        to=PERSON,
        sender=SENDER,
        base_url=BASE,
        unsubscribe=TOKEN,
        opt_out=LEAVE,
        now=NOW,
    )


# -- the message ---------------------------------------------------------------------------------


def test_the_message_parses_as_multipart_alternative_text_first(message: EmailMessage) -> None:
    back = parsed(message)
    assert back.get_content_type() == "multipart/alternative"
    types = [part.get_content_type() for part in back.iter_parts()]
    assert types == ["text/plain", "text/html"]
    for part in back.iter_parts():
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] == "quoted-printable"
    assert all(len(line) <= 998 for line in message.as_bytes().splitlines())


def test_the_headers_are_present_and_well_formed(message: EmailMessage) -> None:
    back = parsed(message)
    assert back["From"] == SENDER
    assert parseaddr(back["To"])[1] == PERSON
    assert back["Subject"] == "2 breathers, some social time and a coffee chat this week"
    assert parsedate_to_datetime(back["Date"]) == NOW
    assert re.fullmatch(r"<[^<>@\s]+@care\.example\.org>", back["Message-ID"])
    assert LIST_UNSUBSCRIBE.match(back["List-Unsubscribe"])
    assert back["List-Unsubscribe"].startswith(f"<{BASE}/unsubscribe?token=")
    assert back["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert back["Auto-Submitted"] == "auto-generated"
    assert back["MIME-Version"] == "1.0"


def test_the_unsubscribe_link_carries_the_persons_scoped_token(message: EmailMessage) -> None:
    link = parsed(message)["List-Unsubscribe"].strip("<>")
    parts_ = urlsplit(link)
    assert (parts_.scheme, parts_.netloc, parts_.path) == (
        "https",
        "care.example.org",
        "/unsubscribe",
    )
    (token,) = parse_qs(parts_.query)["token"]
    read = read_link_token(MASTER, LinkPurpose.UNSUBSCRIBE, token, NOW)
    assert isinstance(read, LinkToken) and read.alias == ALIAS
    text, html = parts(parsed(message))
    assert f"Stop these emails: {link}" in text
    assert f'href="{link}"' in html


def test_the_digest_carries_the_opt_out_link_in_both_parts(message: EmailMessage) -> None:
    link = opt_out_url(BASE, LEAVE)
    text, html = parts(parsed(message))
    assert f"Leave micromoments (every hold it placed goes): {link}" in text
    assert f'href="{link}"' in html
    (token,) = parse_qs(urlsplit(link).query)["token"]
    read = read_link_token(MASTER, LinkPurpose.OPT_OUT, token, NOW)
    assert isinstance(read, LinkToken) and read.alias == ALIAS


def test_a_local_http_base_still_gets_the_unsubscribe_header() -> None:
    msg = compose(
        busy_week(),
        to=PERSON,
        sender=SENDER,
        base_url="http://127.0.0.1:8080/",
        unsubscribe=TOKEN,
        opt_out=LEAVE,
    )
    header = parsed(msg)["List-Unsubscribe"]
    assert LIST_UNSUBSCRIBE.match(header)
    assert header.startswith("<http://127.0.0.1:8080/unsubscribe?token=")
    assert parsedate_to_datetime(parsed(msg)["Date"]).tzinfo is not None


def test_unsubscribe_url_quotes_the_token() -> None:
    assert unsubscribe_url(BASE + "/", "a b&c") == f"{BASE}/unsubscribe?token=a%20b%26c"


@pytest.mark.parametrize("base", ["", "care.example.org", "ftp://care.example.org", "https://"])
def test_a_base_url_that_is_not_http_is_refused(base: str) -> None:
    with pytest.raises(ValueError):
        compose(
            busy_week(), to=PERSON, sender=SENDER, base_url=base, unsubscribe=TOKEN, opt_out=LEAVE
        )


def test_an_empty_unsubscribe_token_is_refused() -> None:
    with pytest.raises(ValueError):
        render_html(busy_week(), base_url=BASE, unsubscribe="", opt_out=LEAVE)


def test_an_email_without_an_opt_out_token_is_refused() -> None:
    with pytest.raises(ValueError):
        render_html(busy_week(), base_url=BASE, unsubscribe=TOKEN, opt_out="")


# -- the HTML part ------------------------------------------------------------------------------


def test_the_html_is_small_and_email_safe(message: EmailMessage) -> None:
    _, html = parts(parsed(message))
    size = len(html.encode())
    assert size < 100_000, size
    lowered = html.lower()
    for banned in ("<img", "<svg", "<script", "<link", "<iframe", "<form", "url(", "@import"):
        assert banned not in lowered, banned
    assert "class=" not in lowered  # inline styles only
    assert not [s for s in re.findall(r'style="([^"]*)"', html) if "&" in s]  # plain CSS
    links = re.findall(r"https?://[^\s\"'<>]+", html)
    assert links, "the preferences and unsubscribe links"
    assert all(link.startswith(BASE + "/") for link in links), links
    hrefs = re.findall(r'href="([^"]+)"', html)
    assert sorted(hrefs) == sorted(
        [f"{BASE}/preferences", unsubscribe_url(BASE, TOKEN), opt_out_url(BASE, LEAVE)]
    )


def test_the_bar_chart_has_one_row_per_weekday_scaled_to_the_busiest() -> None:
    html = render_html(busy_week(), base_url=BASE, unsubscribe=TOKEN, opt_out=LEAVE)
    start = html.index("<caption")
    chart = html[start : html.index("<h2", start)]
    labels = re.findall(r'<th scope="row"[^>]*>([^<]+)</th>', html)
    assert labels == ["Mon 23", "Tue 24", "Wed 25", "Thu 26", "Fri 27", "Sat 28", "Sun 29"]
    bars = re.findall(r'<td width="(\d+)%" bgcolor="(#[0-9a-f]{6})"', html)
    # Friday (no load), Saturday and Sunday draw no bar; Tuesday (330 min) is the longest.
    assert [int(w) for w, _ in bars] == [55, 100, 36, 73]
    colours = [c for _, c in bars]
    assert colours[1] != colours[0] and colours.count(colours[0]) == 3  # overloaded stands out
    assert "Meeting hours per day" in chart
    assert "overloaded" in visible_text(chart)  # not by colour alone


def test_a_tiny_day_still_shows_a_bar() -> None:
    digest = build_digest(
        person=PERSON,
        timezone="UTC",
        label="2026-W48",
        loads=[load(day(0), 600), load(day(1), 5)],
        holds=[],
        shared=[],
        now=NOW,
    )
    html = render_html(digest, base_url=BASE, unsubscribe=TOKEN, opt_out=LEAVE)
    assert [int(w) for w in re.findall(r'<td width="(\d+)%" bgcolor', html)] == [100, 2]


def test_the_person_address_is_escaped_in_html_and_plain_in_text() -> None:
    odd = "o'hara+a&b@example.org"
    msg = compose(
        busy_week(person=odd),
        to=odd,
        sender=SENDER,
        base_url=BASE,
        unsubscribe=TOKEN,
        opt_out=LEAVE,
    )
    back = parsed(msg)
    assert parseaddr(back["To"])[1] == odd
    text, html = parts(back)
    assert "o&#39;hara+a&amp;b@example.org" in html
    assert odd not in html
    assert odd in text
    hostile = '"<script>alert(1)</script>"@example.org'
    html = render_html(busy_week(person=hostile), base_url=BASE, unsubscribe=TOKEN, opt_out=LEAVE)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert hostile in render_text(
        busy_week(person=hostile), base_url=BASE, unsubscribe=TOKEN, opt_out=LEAVE
    )


# -- the facts, in both parts -------------------------------------------------------------------


def test_both_parts_tell_the_facts_of_the_week(message: EmailMessage) -> None:
    text, html = parts(parsed(message))
    seen = visible_text(html)
    for fact in (
        "23–29 November 2026",
        "Europe/Berlin",
        "14.5 h",
        "2.5 h more than last week's 12 h",
        "2 h 30 min",  # the longest run
        "45 min",  # after hours
        "Tuesday",  # the overloaded day
        "3 placed",
        "you kept 2 and removed 1",
        "it happened",  # the coffee chat
        "still ahead",  # the watercooler
        "Tuesday 1 December",  # next week's busiest day
        "4.5 h of meetings",  # counted as the bars count a day
        "Manage your preferences",
        "Stop these emails",
        "Only you get this email",
    ):
        assert fact in seen, fact
        assert fact in flat(text), fact
    suggestion = busy_week().suggestion
    assert suggestion.rule == "coffee_happened"
    assert suggestion.text in seen
    assert suggestion.text in flat(text)


def test_every_number_in_the_html_is_in_the_text(message: EmailMessage) -> None:
    text, html = parts(parsed(message))
    in_html = set(NUMBER.findall(visible_text(html)))
    in_text = set(NUMBER.findall(text))
    assert in_html, "the HTML shows numbers"
    assert in_html <= in_text, in_html - in_text


@pytest.mark.parametrize(
    ("last_minutes", "words"),
    [
        (5 * 144, "2.5 h more than last week's 12 h"),
        (5 * 210, "3 h less than last week's 17.5 h"),
        (5 * 170, "about the same as last week's 14.2 h"),
    ],
)
def test_the_trend_is_put_in_words(last_minutes: int, words: str) -> None:
    this = [load(day(0), 180), load(day(1), 330), load(day(2), 120), load(day(3), 240)]
    last = [load(day(-7 + i), last_minutes // 5) for i in range(5)]
    digest = build_digest(
        person=PERSON, timezone="UTC", label="2026-W48", loads=this + last, holds=[], shared=[],
        now=NOW,
    )  # fmt: skip
    assert words in visible_text(
        render_html(digest, base_url=BASE, unsubscribe=TOKEN, opt_out=LEAVE)
    )
    assert words in flat(render_text(digest, base_url=BASE, unsubscribe=TOKEN, opt_out=LEAVE))


def test_without_last_weeks_numbers_there_is_no_trend() -> None:
    this = [load(day(0), 180), load(day(1), 90)]
    digest = build_digest(
        person=PERSON, timezone="UTC", label="2026-W48", loads=this, holds=[], shared=[], now=NOW
    )
    assert digest.trend_minutes is None
    msg = parsed(
        compose(digest, to=PERSON, sender=SENDER, base_url=BASE, unsubscribe=TOKEN, opt_out=LEAVE)
    )
    text, html = parts(msg)
    for part in (text, visible_text(html)):
        assert "4.5 h" in part
        assert "last week" not in part
    assert msg["Subject"] == "Your week: 4.5 h of meetings"


def test_a_quiet_week_renders() -> None:
    digest = build_digest(
        person=PERSON, timezone="UTC", label="2026-W48", loads=[], holds=[], shared=[], now=NOW
    )
    assert digest.quiet
    msg = parsed(
        compose(digest, to=PERSON, sender=SENDER, base_url=BASE, unsubscribe=TOKEN, opt_out=LEAVE)
    )
    assert msg["Subject"] == "Your week: a quiet one"
    text, html = parts(msg)
    assert "quiet one" in text and "quiet one" in visible_text(html)
    assert re.findall(r'<td width="(\d+)%" bgcolor', html) == []  # no bars at all
    assert visible_text(html).count("0 h") == 7 + 2  # seven days, meetings and focus
    assert digest.suggestion.text in visible_text(html)


def test_a_week_across_new_year_names_both_years() -> None:
    digest = build_digest(
        person=PERSON,
        timezone="Pacific/Auckland",
        label="2026-W53",
        loads=[load(date(2026, 12, 28), 60)],
        holds=[],
        shared=[],
        now=NOW,
    )
    for rendered in (
        visible_text(render_html(digest, base_url=BASE, unsubscribe=TOKEN, opt_out=LEAVE)),
        render_text(digest, base_url=BASE, unsubscribe=TOKEN, opt_out=LEAVE),
    ):
        assert "28 December 2026 – 3 January 2027" in rendered


# -- the numbers agree --------------------------------------------------------------------------

BAR_LINE = re.compile(r"^  (Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d+ +#* +(\d+(?:\.\d)?) h", re.M)
TOTAL_LINE = re.compile(r"^- Meetings: (\d+(?:\.\d)?) h", re.M)


def week_of(minutes: list[int], *, after: list[int] | None = None) -> Digest:
    after = after or [0] * len(minutes)
    loads = [
        load(day(i), m, after=a, focus=0, run=0)
        for i, (m, a) in enumerate(zip(minutes, after, strict=True))
    ]
    return build_digest(person=PERSON, timezone="UTC", label="2026-W48", loads=loads, holds=[],
                        shared=[], now=NOW)  # fmt: skip


def shown_numbers(digest: Digest) -> tuple[float, list[float]]:
    text = render_text(digest, base_url=BASE, unsubscribe=TOKEN, opt_out=LEAVE)
    (total,) = TOTAL_LINE.findall(text)
    bars = [float(hours) for _, hours in BAR_LINE.findall(text)]
    assert len(bars) == 7, text
    return float(total), bars


def test_the_days_add_up_to_the_week_as_shown() -> None:
    # 50 minutes a day is 0.83 h: three days of "0.8 h" would not add up to the 2.5 h shown
    total, bars = shown_numbers(week_of([50, 50, 50]))
    assert total == 2.5
    assert bars == [0.9, 0.8, 0.8, 0, 0, 0, 0]


MINUTES = st.lists(st.integers(0, 14 * 60), min_size=7, max_size=7)
AFTER = st.lists(st.integers(0, 300), min_size=7, max_size=7)


@settings(max_examples=300, deadline=None)
@given(MINUTES, AFTER)
def test_shown_days_always_add_up_to_the_shown_total(inside: list[int], after: list[int]) -> None:
    digest = week_of(inside, after=after)
    total, bars = shown_numbers(digest)
    # in tenths of an hour, as shown: the days add up to the week
    assert sum(round(b * 10) for b in bars) == round(total * 10)
    for shown, i, a in zip(bars, inside, after, strict=True):
        assert abs(round(shown * 60) - (i + a)) < 6  # each day to the displayed precision
    assert abs(round(total * 60) - sum(inside + after)) <= 3  # the week rounded


def test_a_weekend_meeting_has_a_bar_and_counts_in_the_total() -> None:
    # Saturday: two hours, all outside working hours (a weekend has none)
    digest = week_of([60, 0, 0, 0, 0, 0], after=[0, 0, 0, 0, 0, 120])
    total, bars = shown_numbers(digest)
    assert (total, bars[5]) == (3, 2)
    text = render_text(digest, base_url=BASE, unsubscribe=TOKEN, opt_out=LEAVE)
    assert "Meetings outside working hours: 2 h (counted in the meetings above)" in text


def test_an_overloaded_day_says_why_in_plain_words() -> None:
    loads = [
        DayLoad(day(0), True, 200, 0, 150, 4, 0, True, ("back_to_back",)),
        DayLoad(day(2), True, 330, 90, 60, 2, 0, True, ("meeting_hours", "after_hours")),
    ]
    digest = build_digest(person=PERSON, timezone="UTC", label="2026-W48", loads=loads,
                          holds=[], shared=[], now=NOW)  # fmt: skip
    why = (
        "Monday: back-to-back meetings without a break; "
        "Wednesday: many hours of meetings and meetings outside working hours"
    )
    text = render_text(digest, base_url=BASE, unsubscribe=TOKEN, opt_out=LEAVE)
    html = render_html(digest, base_url=BASE, unsubscribe=TOKEN, opt_out=LEAVE)
    assert why in flat(text)
    assert why in visible_text(html)


def test_a_first_week_says_so_instead_of_a_zero_trend() -> None:
    zeros = [load(day(-7 + i), 0) for i in range(7)]
    digest = build_digest(
        person=PERSON, timezone="UTC", label="2026-W48",
        loads=[load(day(0), 180), load(day(1), 90), *zeros], holds=[], shared=[], now=NOW,
        observed_since=datetime(2026, 11, 24, 9, tzinfo=UTC),  # Tuesday: the first scan
    )  # fmt: skip
    for part in (
        flat(render_text(digest, base_url=BASE, unsubscribe=TOKEN, opt_out=LEAVE)),
        visible_text(render_html(digest, base_url=BASE, unsubscribe=TOKEN, opt_out=LEAVE)),
    ):
        assert "4.5 h" in part  # this week's meetings
        assert "first week with micromoments" in part
        assert "last week" not in part


# -- what was given back leads; the coffee partner; next week's moments --------------------


def _with(digest: Digest, **changes: object) -> Digest:
    import dataclasses

    return dataclasses.replace(digest, **changes)


def test_the_subject_leads_with_what_was_given_back_and_names_the_coffee_partner() -> None:
    digest = _with(busy_week(), coffee_with=("Ana",))
    # 3 breathers placed, 1 of them deleted by the person: 2 on their calendar
    assert subject(digest) == "2 breathers, some social time and a coffee with Ana this week"
    text = render_text(digest, base_url=BASE, unsubscribe=TOKEN, opt_out=LEAVE)
    assert "- Coffee chat: it happened, with Ana\n" in text
    trio = _with(busy_week(), coffee_with=("Ana", "Ben"))
    assert subject(trio).endswith("a coffee with Ana and Ben this week")


def test_the_meeting_load_leads_only_when_nothing_was_given_back() -> None:
    digest = build_digest(
        person=PERSON,
        timezone="Europe/Berlin",
        label="2026-W48",
        loads=[load(day(0), 270)],
        holds=[],
        shared=[],
        now=NOW,
    )
    assert subject(digest) == "Your week: 4.5 h of meetings"


def test_a_partner_is_named_only_when_the_chat_happened() -> None:
    ahead = build_digest(
        person=PERSON,
        timezone="Europe/Berlin",
        label="2026-W48",
        loads=[load(day(0), 60)],
        holds=[],
        shared=[shared("coffee2", HoldKind.COFFEE, NOW + timedelta(hours=20))],
        now=NOW,
        coffee_with=["Ana"],
    )
    assert ahead.moments.coffee.value == "ahead" and ahead.coffee_with == ()
    assert "Ana" not in subject(ahead)


@pytest.mark.parametrize(
    ("zone_name", "breather", "social"),
    [
        ("Europe/Berlin", "Tue 1 Dec, 12:00–12:15: a breather", "Wed 2 Dec, 12:00–12:15"),
        ("America/New_York", "Tue 1 Dec, 06:00–06:15: a breather", "Wed 2 Dec, 06:00–06:15"),
    ],
)
def test_next_week_s_moments_are_listed_in_the_reader_s_zone(
    zone_name: str, breather: str, social: str
) -> None:
    digest = _with(busy_week(), timezone=zone_name)
    text = render_text(digest, base_url=BASE, unsubscribe=TOKEN, opt_out=LEAVE)
    html = render_html(digest, base_url=BASE, unsubscribe=TOKEN, opt_out=LEAVE)
    assert f"On your calendar (times in {zone_name}):" in text
    assert f"  {breather}\n" in text and f"  {social}: social time\n" in text
    assert breather in visible_text(html)
    assert len(digest.outlook.moments) == digest.outlook.holds_planned == 2


@pytest.mark.parametrize(
    ("address", "name"),
    [
        ("ana.silva@example.com", "Ana"),
        ("ana.silva2@example.com", "Ana"),
        ("BEN@example.com", "Ben"),
        ("jean-luc_picard+mm@example.com", "Jean-Luc"),
        ("lee7@example.com", "Lee"),
    ],
)
def test_a_first_name_is_read_from_the_address(address: str, name: str) -> None:
    assert first_name(address) == name
