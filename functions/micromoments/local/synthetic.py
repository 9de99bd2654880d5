"""A seeded synthetic organisation: people, teams and two weeks of realistic calendars.

Used by the benchmarks and to seed the local Calendar API server of ``micromoments demo``.
Everything comes from one ``random.Random(seed)``: the same ``(size, seed, start, days,
domain)`` always gives an equal `SyntheticOrg`, in any process.

What it models (see DESIGN.md "Calendar semantics" for what each fact means downstream):

- teams of 5-9 people, each led by a manager; teams are grouped into departments whose
  first manager is the director the other managers report to;
- five time zones, most people in Europe/Berlin and America/New_York, teams mostly
  co-located with a few members in a neighbouring zone;
- shared recurring series: a daily team stand-up at a time that suits the whole team, a
  weekly team sync, a fortnightly sprint planning for engineering teams, weekly 1:1s of
  every manager with each report (and of the director with each manager), a weekly
  managers' sync per department and a fortnightly all-hands (invited through a group
  address); a few occurrences are skipped (EXDATE) or moved (RECURRENCE-ID), and an
  absent person's occurrences are declined;
- per person and workday: ad-hoc meetings with real colleagues' addresses (managers get
  more, packed into back-to-back runs, sometimes double-booked), invitations accepted,
  tentative, unanswered or declined, focus blocks (Google ``focusTime`` or plain solo
  events), errands, transparent reminders, optional talks marked free, working-location
  events, lunch series, occasional after-hours calls across zones;
- absences: vacations and sick days (``outOfOffice`` events over whole days), half days
  off, all-day offsites (opaque all-day events), birthdays (transparent all-day events);
- weekends mostly empty.

Titles exist only so a Calendar server can show them; micromoments never stores them.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vRecur

from micromoments.domain.calendar import CalendarEvent, classify, same_address
from micromoments.domain.people import Person, Preferences
from micromoments.domain.settings import OrgSettings
from micromoments.domain.working_hours import DEFAULT_WORKING_HOURS, WorkingHours

_T = TypeVar("_T")

ACCEPTED = "ACCEPTED"
TENTATIVE = "TENTATIVE"
NEEDS_ACTION = "NEEDS-ACTION"
DECLINED = "DECLINED"

DEFAULT = "default"
OUT_OF_OFFICE = "outOfOffice"
FOCUS_TIME = "focusTime"
WORKING_LOCATION = "workingLocation"

WEEKDAYS_RULE = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
_BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True, slots=True)
class SyntheticEvent:
    """One occurrence on one person's calendar, with the raw facts Google would show.

    ``uid`` is unique within a calendar; a shared meeting (stand-up, 1:1, team sync) has
    the same uid on every attendee's calendar, as Google's iCalUID. Occurrences of a
    recurring series share ``series_uid`` and ``rrule``; ``original_start`` is the start
    the rule gives (Google's ``originalStartTime``, in the series' own zone), which differs
    from ``start`` for a moved occurrence. Timed bounds are aware datetimes in the person's
    zone; all-day bounds are dates with an exclusive end. ``attendees`` is empty for an
    event without guests (a solo block); otherwise it includes the person.
    """

    uid: str
    series_uid: str | None
    rrule: str | None
    summary: str
    start: datetime | date
    end: datetime | date
    organizer: str
    attendees: tuple[tuple[str, str], ...]
    transparent: bool = False
    event_type: str = DEFAULT
    original_start: datetime | None = None

    def partstat(self, email: str) -> str | None:
        """The participation status of ``email`` on this event, if it is an attendee."""
        for address, status in self.attendees:
            if same_address(address, email):
                return status
        return None


@dataclass(frozen=True)
class SyntheticPerson:
    """A member of the organisation, their role and their calendar, sorted by start."""

    person: Person
    role: str  # manager | engineer | designer | product | sales | support
    events: tuple[SyntheticEvent, ...]
    manager: str | None = None  # the address of this person's manager

    @property
    def email(self) -> str:
        return self.person.email


@dataclass(frozen=True)
class SyntheticOrg:
    """People in team order; ``teams`` maps a team name to its addresses, manager first."""

    domain: str
    settings: OrgSettings
    people: tuple[SyntheticPerson, ...]
    teams: dict[str, tuple[str, ...]]

    def person(self, email: str) -> SyntheticPerson:
        for candidate in self.people:
            if candidate.person.email == email:
                return candidate
        raise KeyError(email)


# --- public API ----------------------------------------------------------------------------


def generate_org(
    size: int,
    *,
    seed: int = 7,
    start: date,
    days: int = 14,
    domain: str = "example.com",
) -> SyntheticOrg:
    """A deterministic organisation of ``size`` people with ``days`` days of calendars.

    Each person's calendar covers the local dates ``start`` .. ``start + days - 1`` in the
    person's own zone.
    """
    if size < 1:
        raise ValueError("size must be at least 1")
    if days < 1:
        raise ValueError("days must be at least 1")
    return _Builder(size, seed, start, days, domain.strip().lower()).build()


def normalised_events(person: SyntheticPerson) -> list[CalendarEvent]:
    """The person's occurrences as `CalendarEvent`, following DESIGN.md "Calendar semantics".

    A meeting has another participant (an attendee or the organizer whose address differs
    from the person's); the event is declined iff the person's own PARTSTAT is DECLINED;
    busy iff opaque; ``outOfOffice`` and ``workingLocation`` map to their kinds; all-day
    bounds stay dates.
    """
    me = person.person.email
    out: list[CalendarEvent] = []
    append = out.append
    mine: dict[str, bool] = {}  # same_address(address, me), memoised: addresses repeat a lot

    def is_me(address: str) -> bool:
        found = mine.get(address)
        if found is None:
            found = mine[address] = same_address(address, me)
        return found

    for event in person.events:
        declined = False
        others = not is_me(event.organizer)
        for address, status in event.attendees:
            if is_me(address):
                if status == DECLINED:
                    declined = True
            else:
                others = True
        kind = classify(
            all_day=not isinstance(event.start, datetime),
            out_of_office=event.event_type == OUT_OF_OFFICE,
            working_location=event.event_type == WORKING_LOCATION,
            other_participants=others,
        )
        append(
            CalendarEvent(
                uid=event.uid,
                start=event.start,
                end=event.end,
                kind=kind,
                busy=not event.transparent,
                declined=declined,
            )
        )
    return out


# A fixed DTSTAMP keeps the export byte-for-byte deterministic.
_DTSTAMP = datetime(2024, 1, 1, tzinfo=UTC)


def to_ics(person: SyntheticPerson) -> bytes:
    """An RFC 5545 export of the person's calendar.

    A recurring series is written once, as a master VEVENT with its RRULE bounded by an
    UNTIL at its last generated occurrence, EXDATE for the rule's skipped occurrences and a
    RECURRENCE-ID VEVENT for every occurrence that differs from the master (moved, or
    another PARTSTAT). Other events are single VEVENTs. Out-of-office events carry
    ``X-MICROSOFT-CDO-BUSYSTATUS:OOF``; a Google event type other than ``default`` is kept
    in ``X-GOOGLE-EVENT-TYPE``; every event has TRANSP, ORGANIZER and, when it has guests,
    ATTENDEE lines with PARTSTAT. VTIMEZONE components are added for every zone used.
    """
    cal = Calendar()
    cal.add("prodid", "-//micromoments//synthetic organisation//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", person.person.email)
    if person.person.timezone:
        cal.add("x-wr-timezone", person.person.timezone)
    singles, series = collapse_series(person.events)
    for event in singles:
        cal.add_component(_vevent(event, event.uid))
    for collapsed in series:
        for component in _series_vevents(collapsed):
            cal.add_component(component)
    cal.add_missing_timezones()
    return bytes(cal.to_ical())


# --- iCalendar export ----------------------------------------------------------------------


def _vevent(
    event: SyntheticEvent,
    uid: str,
    *,
    start: datetime | date | None = None,
    end: datetime | date | None = None,
) -> Event:
    component = Event()
    component.add("uid", uid)
    component.add("dtstamp", _DTSTAMP)
    component.add("dtstart", event.start if start is None else start)
    component.add("dtend", event.end if end is None else end)
    component.add("summary", event.summary)
    component.add("transp", "TRANSPARENT" if event.transparent else "OPAQUE")
    component.add("organizer", vCalAddress(f"mailto:{event.organizer}"))
    for address, status in event.attendees:
        component.add("attendee", vCalAddress(f"mailto:{address}", params={"PARTSTAT": status}))
    if event.event_type == OUT_OF_OFFICE:
        component.add("x-microsoft-cdo-busystatus", "OOF")
    if event.event_type != DEFAULT:
        component.add("x-google-event-type", event.event_type)
    return component


@dataclass(frozen=True)
class Series:
    """A recurring series written once: a master stating ``model`` (its start moved to
    ``anchor``, lasting ``duration``) with ``rule`` bounded by ``until``, the rule's
    occurrences the generator ``skipped``, and the ``exceptions`` that differ from the
    master (moved, or another response or transparency)."""

    uid: str
    rule: str
    anchor: datetime
    until: datetime
    model: SyntheticEvent
    duration: timedelta
    skipped: list[datetime]
    exceptions: list[SyntheticEvent]


def collapse_series(
    events: Sequence[SyntheticEvent],
) -> tuple[list[SyntheticEvent], list[Series]]:
    """The single events, in order, and each recurring series collapsed to a master and
    its exceptions. The `.ics` export (`to_ics`) and the Calendar server's seeding
    (`calendar_api.synthetic_events`) both write these, so they describe the same
    occurrences."""
    singles: list[SyntheticEvent] = []
    grouped: dict[str, list[SyntheticEvent]] = {}
    for event in events:
        if event.series_uid is None or event.original_start is None or event.rrule is None:
            singles.append(event)
        else:
            grouped.setdefault(event.series_uid, []).append(event)
    return singles, [_collapse(uid, occurrences) for uid, occurrences in grouped.items()]


def _signature(event: SyntheticEvent) -> tuple[Any, ...]:
    """What the master of a series states besides its start."""
    return (
        _as_datetime(event.end) - _as_datetime(event.start),
        event.summary,
        event.organizer,
        event.attendees,
        event.transparent,
        event.event_type,
    )


def _as_datetime(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time(), tzinfo=UTC)


def _collapse(series_uid: str, occurrences: list[SyntheticEvent]) -> Series:
    occurrences = sorted(occurrences, key=lambda e: _as_datetime(e.original_start or e.start))
    originals = [e.original_start for e in occurrences if e.original_start is not None]
    anchor, until = originals[0], originals[-1]
    rule = occurrences[0].rrule or ""
    on_rule = [e for e in occurrences if e.start == e.original_start]
    template_source = on_rule or occurrences
    template = Counter(_signature(e) for e in template_source).most_common(1)[0][0]
    model = next(e for e in template_source if _signature(e) == template)
    present = set(originals)
    skipped = [when for when in expand_rule(rule, anchor, until) if when not in present]
    exceptions = [
        event
        for event in occurrences
        if not (event.start == event.original_start and _signature(event) == template)
    ]
    return Series(series_uid, rule, anchor, until, model, template[0], skipped, exceptions)


def _series_vevents(series: Series) -> list[Event]:
    anchor = series.anchor
    master = _vevent(series.model, series.uid, start=anchor, end=anchor + series.duration)
    recur = vRecur.from_ical(series.rule)
    recur["UNTIL"] = series.until.astimezone(UTC)
    master.add("rrule", recur)
    if series.skipped:
        master.add("exdate", series.skipped)
    out = [master]
    for event in series.exceptions:
        override = _vevent(event, series.uid)
        override.add("recurrence-id", event.original_start)
        out.append(override)
    return out


def expand_rule(rule: str, anchor: datetime, until: datetime) -> list[datetime]:
    """The occurrences of the rules this module writes, from ``anchor`` to ``until``.

    Supports ``FREQ=DAILY`` and ``FREQ=WEEKLY`` with ``INTERVAL`` and ``BYDAY`` (weeks
    start on Monday), expanded on the wall clock of the anchor's zone as RFC 5545 says.
    """
    parts = dict(item.split("=", 1) for item in rule.split(";") if item)
    freq = parts.get("FREQ")
    interval = int(parts.get("INTERVAL", "1"))
    if freq not in ("DAILY", "WEEKLY"):
        raise ValueError(f"unsupported rule {rule!r}")
    days = (
        {_BYDAY.index(d) for d in parts["BYDAY"].split(",")}
        if "BYDAY" in parts
        else {anchor.weekday()}
    )
    tz = anchor.tzinfo
    first = anchor.date()
    monday = first - timedelta(days=first.weekday())
    out: list[datetime] = []
    day = first
    while day <= until.astimezone(tz).date():
        if freq == "DAILY":
            ok = (day - first).days % interval == 0 and (
                "BYDAY" not in parts or day.weekday() in days
            )
        else:
            ok = ((day - monday).days // 7) % interval == 0 and day.weekday() in days
        if ok:
            when = datetime.combine(day, anchor.timetz())
            if anchor <= when <= until:
                out.append(when)
        day += timedelta(days=1)
    return out


# --- generation ----------------------------------------------------------------------------

_ZONES = (
    ("Europe/Berlin", 40),
    ("America/New_York", 24),
    ("Europe/London", 12),
    ("America/Los_Angeles", 12),
    ("Asia/Kolkata", 12),
)
_NEIGHBOURS = {
    "Europe/Berlin": ("Europe/London", "Asia/Kolkata", "America/New_York"),
    "Europe/London": ("Europe/Berlin", "America/New_York", "Asia/Kolkata"),
    "America/New_York": ("America/Los_Angeles", "Europe/London", "Europe/Berlin"),
    "America/Los_Angeles": ("America/New_York",),
    "Asia/Kolkata": ("Europe/Berlin", "Europe/London"),
}
_ORG_ZONE = "Europe/Berlin"

_FUNCTIONS = (
    ("engineer", 55),
    ("product", 8),
    ("designer", 7),
    ("sales", 18),
    ("support", 12),
)
_AREAS = (
    "payments", "search", "identity", "mobile", "platform", "billing", "growth", "data",
    "infra", "checkout", "messaging", "insights", "onboarding", "security", "catalog",
    "partners", "accounts", "reporting", "delivery", "quality",
)  # fmt: skip
_FIRST_NAMES = (
    "ada", "alan", "alice", "amara", "amir", "ana", "anil", "anna", "arjun", "ben", "bea",
    "carla", "carlos", "chen", "chloe", "dan", "dana", "david", "deepa", "diego", "dora",
    "elena", "eli", "emma", "emil", "eric", "eva", "farah", "felix", "fatima", "frank",
    "gita", "grace", "greta", "hana", "hans", "harry", "ines", "ivan", "isla", "jack",
    "jana", "jonas", "jose", "julia", "kai", "karl", "kavya", "kim", "lara", "leo", "lena",
    "liam", "lina", "luca", "lucy", "maya", "marc", "maria", "mei", "mia", "mila", "nadia",
    "nina", "noah", "nora", "olga", "omar", "oscar", "paula", "pedro", "priya", "rahul",
    "rosa", "ravi", "ruth", "sam", "sara", "sofia", "sven", "tara", "tom", "uma", "vera",
    "victor", "yara", "yusuf", "zoe", "zara", "aisha", "bruno", "clara", "erik", "hugo",
    "ingrid", "jamal", "keiko", "lars", "marta", "nils", "pia", "quinn", "rita", "theo",
)  # fmt: skip
_LAST_NAMES = (
    "adams", "ahmed", "bauer", "becker", "brown", "chen", "clark", "costa", "das", "davis",
    "diaz", "evans", "fischer", "garcia", "gupta", "hall", "hansen", "hoffmann", "iyer",
    "jones", "kaur", "khan", "klein", "koch", "kumar", "lee", "lopez", "martin", "meyer",
    "miller", "moore", "muller", "nair", "nguyen", "novak", "patel", "perez", "reddy",
    "richter", "rossi", "roy", "schmidt", "schulz", "scott", "shah", "silva", "singh",
    "smith", "sousa", "taylor", "thomas", "wagner", "walker", "weber", "white", "wilson",
    "wolf", "wright", "young", "zimmer", "berg", "lang", "vogel", "moreau", "dubois",
    "kowalski", "novak", "horvat", "jensen", "larsen", "murphy", "kelly", "walsh", "obi",
    "okafor", "mensah", "tanaka", "sato", "kim", "park", "ali", "haddad", "cohen", "levi",
)  # fmt: skip
_CUSTOMERS = ("acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "tyrell")

_SPECIAL_HOURS = (
    (None, 82),
    ("Mon-Fri 08:00-16:00", 8),
    ("Mon-Fri 10:00-18:00", 6),
    ("Mon-Thu 09:00-17:00", 4),
)

# Weighted choices, expanded once so a draw is one pick.
_ADHOC = {
    "manager": (5, 6, 6, 7, 7, 7, 8, 8, 9, 10),
    "sales": (3, 4, 4, 5, 5, 5, 6, 6, 7),
    "default": (2, 3, 3, 3, 4, 4, 4, 5, 5, 6),
}
_CLASHES = (0, 0, 0, 1, 1, 2)
_REMINDER_COUNT = (0, 0, 1, 1, 1, 2, 2)
_DURATIONS = (25, 30, 30, 30, 30, 30, 45, 45, 50, 60, 60, 60, 90)
_OTHERS = (1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5, 8)
_INVITE_RESPONSE = (ACCEPTED,) * 78 + (TENTATIVE,) * 8 + (NEEDS_ACTION,) * 7 + (DECLINED,) * 7
_OTHER_RESPONSE = (ACCEPTED,) * 76 + (TENTATIVE,) * 8 + (NEEDS_ACTION,) * 12 + (DECLINED,) * 4
_SERIES_RESPONSE = (ACCEPTED,) * 88 + (TENTATIVE,) * 6 + (NEEDS_ACTION,) * 6
_FOCUS_COUNT = {"manager": (0, 0, 0, 1), "sales": (0, 0, 1), "default": (0, 1, 1, 1, 2, 2)}
_FOCUS_MINUTES = (60, 90, 120, 120, 120, 180)
_MEETING_TITLES = (
    "Sync", "Design review", "Pairing", "Bug triage", "Roadmap", "Incident review",
    "Architecture chat", "Hiring debrief", "Interview", "Demo prep", "Quarterly planning",
    "Customer escalation", "Spec review", "Catch-up", "Estimation", "Working session",
)  # fmt: skip
_SALES_TITLES = ("Customer call", "Discovery call", "Renewal", "Pipeline review", "Demo")
_MANAGER_TITLES = ("Headcount", "Budget review", "Calibration", "Interview", "Skip-level")
_SOLO_TITLES = ("Errand", "Doctor", "School run", "Gym", "Admin")
_REMINDERS = ("Reminder: timesheet", "Reminder: expenses", "Prep notes", "Read RFC")
_STANDUP_TIMES = tuple(
    (570, 585, 600, 555, 615, 630, 540, 660, 690, 720, *range(735, 16 * 60 + 1, 15))
)


@dataclass(slots=True, eq=False)
class _Member:
    index: int
    email: str
    zone_name: str
    tz: tzinfo
    role: str
    team: str
    department: int
    hours: WorkingHours
    preferences: Preferences
    manager: str | None = None
    uses_location: bool = False
    uses_focus_time: bool = False
    lunch: int = 0  # 0 none, 1 opaque, 2 transparent
    absences: dict[date, str] = field(default_factory=dict)  # oof | offsite | half
    # Events by local date, each with a sort key (minute of day, -1 for all-day).
    days: dict[date, list[tuple[int, SyntheticEvent]]] = field(default_factory=dict)
    busy: dict[date, list[tuple[int, int]]] = field(default_factory=dict)
    taken: list[tuple[int, int, int]] = field(default_factory=list)  # series slots
    seq: int = 0


class _Builder:
    def __init__(self, size: int, seed: int, start: date, days: int, domain: str) -> None:
        self.rng = random.Random(seed)
        self.random = self.rng.random
        self.size = size
        self.seed = seed
        self.start = start
        self.days = days
        self.domain = domain
        self.dates = [start + timedelta(days=i) for i in range(days)]
        self.window = frozenset(self.dates)
        self.members: list[_Member] = []
        self.teams: list[tuple[str, list[_Member]]] = []
        self.teams_by_name: dict[str, list[_Member]] = {}
        self.departments: list[list[list[_Member]]] = []
        self.by_zone: dict[str, list[_Member]] = {}
        self.series_count = 0
        self._pairs: dict[tuple[str, str], tuple[str, str]] = {}
        self._zones: dict[str, ZoneInfo] = {}

    # -- helpers --------------------------------------------------------------------------

    def pair(self, email: str, status: str) -> tuple[str, str]:
        key = (email, status)
        found = self._pairs.get(key)
        if found is None:
            found = self._pairs[key] = key
        return found

    def pick(self, items: Sequence[_T]) -> _T:
        """One item, uniformly (rng.choice is several times slower at this volume)."""
        return items[int(self.random() * len(items))]

    def below(self, n: int) -> int:
        return int(self.random() * n)

    def zone(self, name: str) -> ZoneInfo:
        found = self._zones.get(name)
        if found is None:
            found = self._zones[name] = ZoneInfo(name)
        return found

    def weighted(self, table: Sequence[tuple[Any, int]]) -> Any:
        total = sum(weight for _, weight in table)
        pick = self.below(total)
        for value, weight in table:
            if pick < weight:
                return value
            pick -= weight
        raise AssertionError("unreachable")

    def add(self, member: _Member, day: date, minute: int, event: SyntheticEvent) -> None:
        member.days.setdefault(day, []).append((minute, event))

    def add_single(
        self,
        member: _Member,
        day: date,
        start: int,
        minutes: int,
        summary: str,
        *,
        organizer: str | None = None,
        attendees: Sequence[tuple[str, str]] = (),
        transparent: bool = False,
        event_type: str = DEFAULT,
    ) -> None:
        """A single (non-recurring) event on ``day`` from minute ``start`` for ``minutes``."""
        self.add(
            member,
            day,
            start,
            SyntheticEvent(
                uid=self.uid(member),
                series_uid=None,
                rrule=None,
                summary=summary,
                start=_at(day, start, member.tz),
                end=_at(day, start + minutes, member.tz),
                organizer=organizer or member.email,
                attendees=tuple(attendees),
                transparent=transparent,
                event_type=event_type,
            ),
        )

    def uid(self, member: _Member) -> str:
        member.seq += 1
        return f"ev{member.index:x}g{member.seq:x}"

    # -- people ---------------------------------------------------------------------------

    def build(self) -> SyntheticOrg:
        self.make_people()
        self.make_absences()
        self.make_series()
        for member in self.members:
            self.make_days(member)
        return self.finish()

    def team_sizes(self) -> list[int]:
        sizes: list[int] = []
        left = self.size
        while left > 0:
            if left <= 9 and (left >= 5 or not sizes):
                sizes.append(left)
                break
            high = min(9, left - 5)
            size = self.rng.randint(5, high) if high >= 5 else left
            sizes.append(size)
            left -= size
        return sizes

    def make_people(self) -> None:
        rng = self.rng
        used: set[str] = set()
        special = {
            spec: Preferences(working_hours=WorkingHours.parse(spec))
            for spec, _ in _SPECIAL_HOURS
            if spec is not None
        }
        default_preferences = Preferences()
        sizes = self.team_sizes()
        department: list[list[_Member]] = []
        department_size = rng.randint(4, 6)
        department_zone = self.weighted(_ZONES)
        for team_index, team_size in enumerate(sizes):
            if len(department) >= department_size:
                self.departments.append(department)
                department = []
                department_size = rng.randint(4, 6)
                department_zone = self.weighted(_ZONES)
            area = _AREAS[team_index % len(_AREAS)]
            name = f"{area}-{team_index // len(_AREAS) + 1}"
            function = self.weighted(_FUNCTIONS)
            team_zone = department_zone if rng.random() < 0.75 else self.weighted(_ZONES)
            members: list[_Member] = []
            for position in range(team_size):
                email = self.new_address(used)
                zone_name = team_zone
                if position and rng.random() < 0.15:
                    zone_name = self.pick(_NEIGHBOURS[team_zone])
                spec = self.weighted(_SPECIAL_HOURS) if position else None
                preferences = special[spec] if spec else default_preferences
                member = _Member(
                    index=len(self.members),
                    email=email,
                    zone_name=zone_name,
                    tz=self.zone(zone_name),
                    role="manager" if position == 0 else function,
                    team=name,
                    department=len(self.departments),
                    hours=preferences.working_hours or DEFAULT_WORKING_HOURS,
                    preferences=preferences,
                    uses_location=rng.random() < 0.65,
                    uses_focus_time=rng.random() < 0.5,
                    lunch=self.pick((0, 0, 0, 1, 1, 2)),
                )
                if members:
                    member.manager = members[0].email
                members.append(member)
                self.members.append(member)
                self.by_zone.setdefault(zone_name, []).append(member)
            self.teams.append((name, members))
            self.teams_by_name[name] = members
            department.append(members)
        self.departments.append(department)
        # A department's first manager directs it; the other managers report to them.
        for teams in self.departments:
            director = teams[0][0]
            for members in teams[1:]:
                members[0].manager = director.email

    def new_address(self, used: set[str]) -> str:
        first = self.pick(_FIRST_NAMES)
        last = self.pick(_LAST_NAMES)
        local = f"{first}.{last}"
        number = 1
        while local in used:
            number += 1
            local = f"{first}.{last}{number}"
        used.add(local)
        return f"{local}@{self.domain}"

    # -- absences -------------------------------------------------------------------------

    def workdays(self, member: _Member) -> list[date]:
        return [d for d in self.dates if member.hours.days[d.weekday()]]

    def make_absences(self) -> None:
        rng = self.rng
        for member in self.members:
            workdays = self.workdays(member)
            if not workdays:
                continue
            roll = rng.random()
            if roll < 0.09:  # vacation: one out-of-office event over whole days
                length = self.pick((1, 2, 3, 3, 5, 5))
                first = self.below(len(workdays))
                span = workdays[first : first + length]
                self.out_of_office(member, span[0], span[-1] + timedelta(days=1), "Vacation")
            elif roll < 0.13:  # a sick day
                day = self.pick(workdays)
                self.out_of_office(member, day, day + timedelta(days=1), "Out sick")
            elif roll < 0.17:  # an offsite or a conference: an opaque all-day event
                first = self.below(len(workdays))
                span = workdays[first : first + self.pick((1, 2))]
                end = span[-1] + timedelta(days=1)
                event = SyntheticEvent(
                    uid=self.uid(member),
                    series_uid=None,
                    rrule=None,
                    summary=self.pick(("Offsite", "Conference", "Training")),
                    start=span[0],
                    end=end,
                    organizer=member.email,
                    attendees=(),
                )
                self.add(member, span[0], -1, event)
                for day in span:
                    member.absences[day] = "offsite"
            if rng.random() < 0.06:  # half a day off, afternoon
                day = self.pick(workdays)
                if day not in member.absences:
                    member.absences[day] = "half"
                    end_minute = member.hours.days[day.weekday()][-1][1]
                    self.add(
                        member,
                        day,
                        13 * 60,
                        SyntheticEvent(
                            uid=self.uid(member),
                            series_uid=None,
                            rrule=None,
                            summary="Out of office",
                            start=_at(day, 13 * 60, member.tz),
                            end=_at(day, max(end_minute, 14 * 60), member.tz),
                            organizer=member.email,
                            attendees=(),
                            event_type=OUT_OF_OFFICE,
                        ),
                    )

    def out_of_office(self, member: _Member, first: date, end: date, summary: str) -> None:
        event = SyntheticEvent(
            uid=self.uid(member),
            series_uid=None,
            rrule=None,
            summary=summary,
            start=_at(first, 0, member.tz),
            end=_at(end, 0, member.tz),
            organizer=member.email,
            attendees=(),
            event_type=OUT_OF_OFFICE,
        )
        self.add(member, first, 0, event)
        day = first
        while day < end:
            member.absences[day] = "oof"
            day += timedelta(days=1)

    # -- recurring series -----------------------------------------------------------------

    def make_series(self) -> None:
        for name, members in self.teams:
            manager = members[0]
            area = name.rsplit("-", 1)[0]
            standup = self.team_time(manager, members, 15, _STANDUP_TIMES)
            self.series(
                organizer=manager,
                members=members,
                summary=f"{area.title()} stand-up",
                weekdays=(0, 1, 2, 3, 4),
                minute=standup,
                duration=15,
                skip=0.03,
            )
            day = self.pick((1, 2, 3))
            sync = self.team_time(manager, members, 60, tuple(range(600, 16 * 60 + 1, 30)), day)
            self.series(
                organizer=manager,
                members=members,
                summary=f"{area.title()} team sync",
                weekdays=(day,),
                minute=sync,
                duration=self.pick((45, 60)),
                skip=0.05,
            )
            if manager.role == "manager" and len(members) > 1 and members[1].role == "engineer":
                day = self.pick((0, 1))
                planning = self.team_time(
                    manager, members, 60, tuple(range(600, 16 * 60 + 1, 30)), day
                )
                self.series(
                    organizer=manager,
                    members=members,
                    summary="Sprint planning",
                    weekdays=(day,),
                    interval=2,
                    minute=planning,
                    duration=60,
                )
            for report in members[1:]:
                self.one_on_one(manager, report)
        for teams in self.departments:
            director = teams[0][0]
            managers = [members[0] for members in teams]
            for manager in managers[1:]:
                self.one_on_one(director, manager)
            if len(managers) > 1:
                day = self.pick((0, 1, 2, 3))
                minute = self.team_time(
                    director, managers, 60, tuple(range(600, 16 * 60 + 1, 30)), day
                )
                self.series(
                    organizer=director,
                    members=managers,
                    summary="Managers sync",
                    weekdays=(day,),
                    minute=minute,
                    duration=60,
                    skip=0.05,
                )
        # The fortnightly all-hands, invited through a group address.
        host = self.members[0]
        self.series(
            organizer=host,
            members=self.members,
            summary="All hands",
            weekdays=(3,),
            interval=2,
            minute=17 * 60,
            duration=45,
            group=f"all@{self.domain}",
            transparent_share=0.3,
        )

    def team_time(
        self,
        organizer: _Member,
        members: Sequence[_Member],
        duration: int,
        candidates: Sequence[int],
        weekday: int = 0,
    ) -> int:
        """A minute in the organizer's zone inside everyone's working hours, if any exists."""
        reference = self.start + timedelta(days=(weekday - self.start.weekday()) % 7)
        best, best_score = candidates[0], -1
        for minute in candidates:
            instant = _at(reference, minute, organizer.tz)
            score = 0
            for member in members:
                local = instant.astimezone(member.tz)
                ranges = member.hours.days[local.weekday()]
                at = local.hour * 60 + local.minute
                if ranges and ranges[0][0] <= at and at + duration <= ranges[-1][1]:
                    score += 1
            if score == len(members):
                return minute
            if score > best_score:
                best, best_score = minute, score
        return best

    def one_on_one(self, manager: _Member, report: _Member) -> None:
        rng = self.rng
        duration = self.pick((30, 30, 30, 45))
        chosen: tuple[int, int] | None = None
        for _ in range(24):
            day = self.below(5)
            minute = rng.randrange(600, 16 * 60 + 1, 30)
            reference = self.start + timedelta(days=(day - self.start.weekday()) % 7)
            instant = _at(reference, minute, manager.tz)
            ok = True
            for member in (manager, report):
                local = instant.astimezone(member.tz)
                at = local.hour * 60 + local.minute
                ranges = member.hours.days[local.weekday()]
                if not ranges or at < ranges[0][0] or at + duration > ranges[-1][1]:
                    ok = False
                    break
                for taken_day, s, e in member.taken:
                    if taken_day == local.weekday() and at < e and s < at + duration:
                        ok = False
                        break
                if not ok:
                    break
            if ok:
                chosen = (day, minute)
                break
        if chosen is None:
            chosen = (self.below(5), rng.randrange(600, 16 * 60 + 1, 30))
        self.series(
            organizer=manager,
            members=(manager, report),
            summary="1:1",
            weekdays=(chosen[0],),
            minute=chosen[1],
            duration=duration,
            skip=0.06,
            move=0.08,
            cancel_on_absence=True,
        )

    def series(
        self,
        *,
        organizer: _Member,
        members: Sequence[_Member],
        summary: str,
        weekdays: tuple[int, ...],
        minute: int,
        duration: int,
        interval: int = 1,
        skip: float = 0.0,
        move: float = 0.0,
        cancel_on_absence: bool = False,
        group: str | None = None,
        transparent_share: float = 0.0,
    ) -> None:
        """A recurring series in the organizer's zone, added to every member's calendar."""
        rng = self.rng
        self.series_count += 1
        series_uid = f"sr{self.series_count:x}"
        tz = organizer.tz
        rule = (
            WEEKDAYS_RULE
            if weekdays == (0, 1, 2, 3, 4)
            else "FREQ=WEEKLY;"
            + (f"INTERVAL={interval};" if interval > 1 else "")
            + "BYDAY="
            + ",".join(_BYDAY[d] for d in weekdays)
        )
        phase = self.below(interval)
        base = {
            m.email: ACCEPTED if m is organizer else self.pick(_SERIES_RESPONSE) for m in members
        }
        # Whether each member marks the series free (only big invitations).
        free = (
            {m.email: rng.random() < transparent_share for m in members}
            if transparent_share
            else None
        )
        for m in members:
            local = _at(self.start, minute, tz).astimezone(m.tz)
            at = local.hour * 60 + local.minute
            m.taken.append((local.weekday(), at, at + duration))
        # Series-zone dates one day either side, so every member's local window is covered.
        monday = self.start - timedelta(days=self.start.weekday())
        day = self.start - timedelta(days=1)
        last = self.dates[-1] + timedelta(days=1)
        while day <= last:
            weekday = day.weekday()
            current, day = day, day + timedelta(days=1)
            if weekday not in weekdays or ((current - monday).days // 7) % interval != phase:
                continue
            if skip and rng.random() < skip:
                continue  # this occurrence was cancelled: an EXDATE on every calendar
            original = _at(current, minute, tz)
            begin = original
            if move and rng.random() < move:
                begin = original + timedelta(minutes=self.pick((-120, -60, 60, 90, 120)))
            finish = begin + timedelta(minutes=duration)
            statuses = dict(base)
            absent = False
            for m in members:
                local_day = begin.astimezone(m.tz).date()
                if m.absences.get(local_day) in ("oof", "offsite"):
                    statuses[m.email] = DECLINED
                    absent = True
                elif m is not organizer and rng.random() < 0.02:
                    statuses[m.email] = DECLINED
            if absent and cancel_on_absence:
                continue
            uid = f"{series_uid}_{original.astimezone(UTC):%Y%m%dT%H%M%SZ}"
            shared: tuple[tuple[str, str], ...] | None = None
            if group is None:
                shared = tuple(self.pair(m.email, statuses[m.email]) for m in members)
            for m in members:
                start = begin.astimezone(m.tz)
                local_day = start.date()
                if local_day not in self.window:
                    continue
                status = statuses[m.email]
                attendees = (
                    shared
                    if shared is not None
                    else (self.pair(group or "", ACCEPTED), self.pair(m.email, status))
                )
                transparent = bool(free and free[m.email])
                at = start.hour * 60 + start.minute
                event = SyntheticEvent(
                    uid=uid,
                    series_uid=series_uid,
                    rrule=rule,
                    summary=summary,
                    start=start,
                    end=finish.astimezone(m.tz),
                    organizer=organizer.email,
                    attendees=attendees,
                    transparent=transparent,
                    original_start=original,
                )
                m.days.setdefault(local_day, []).append((at, event))
                if status != DECLINED and not transparent:
                    m.busy.setdefault(local_day, []).append((at, at + duration))

    def lunch(self, member: _Member) -> None:
        """A personal weekday lunch series (solo), opaque or marked free."""
        self.series_count += 1
        series_uid = f"sr{self.series_count:x}"
        minute = self.pick((720, 720, 750))
        transparent = member.lunch == 2
        for day in self.dates:
            if day.weekday() >= 5:
                continue
            original = _at(day, minute, member.tz)
            event = SyntheticEvent(
                uid=f"{series_uid}_{original.astimezone(UTC):%Y%m%dT%H%M%SZ}",
                series_uid=series_uid,
                rrule=WEEKDAYS_RULE,
                summary="Lunch",
                start=original,
                end=_at(day, minute + 60, member.tz),
                organizer=member.email,
                attendees=(),
                transparent=transparent,
                original_start=original,
            )
            member.days.setdefault(day, []).append((minute, event))
            if not transparent:
                member.busy.setdefault(day, []).append((minute, minute + 60))

    # -- one person's days ------------------------------------------------------------------

    def make_days(self, member: _Member) -> None:
        rng = self.rng
        if member.lunch:
            self.lunch(member)
        adhoc = _ADHOC.get(member.role, _ADHOC["default"])
        focus_counts = _FOCUS_COUNT.get(member.role, _FOCUS_COUNT["default"])
        cross_zone = member.role == "sales" or member.zone_name != self.team_zone(member)
        for day in self.dates:
            ranges = member.hours.days[day.weekday()]
            absence = member.absences.get(day)
            if not ranges:
                if rng.random() < 0.04:
                    self.weekend_event(member, day)
                continue
            if absence in ("oof", "offsite"):
                # Invitations still arrive and are declined.
                if rng.random() < 0.4:
                    self.meeting(member, day, ranges[0][0], ranges[-1][1], status=DECLINED)
                continue
            lo, hi = ranges[0][0], ranges[-1][1]
            if absence == "half":
                hi = min(hi, 13 * 60)
            busy = member.busy.setdefault(day, [])
            if member.uses_location:
                self.add(
                    member,
                    day,
                    -1,
                    SyntheticEvent(
                        uid=self.uid(member),
                        series_uid=None,
                        rrule=None,
                        summary=self.pick(("Office", "Home", "Office", "Home", "Home")),
                        start=day,
                        end=day + timedelta(days=1),
                        organizer=member.email,
                        attendees=(),
                        transparent=True,
                        event_type=WORKING_LOCATION,
                    ),
                )
            manager = member.role == "manager"
            for _ in range(self.pick(adhoc)):
                self.meeting(member, day, lo, hi, busy=busy, packed=manager)
            for _ in range(self.pick(focus_counts)):
                self.focus(member, day, lo, hi, busy)
            # Invitations that clash with something: declined, so they never count.
            for _ in range(self.pick(_CLASHES)):
                self.meeting(member, day, lo, hi, status=DECLINED)
            if rng.random() < 0.3:
                self.solo(member, day, lo, hi, busy)
            for _ in range(self.pick(_REMINDER_COUNT)):
                self.reminder(member, day, lo, hi)
            if rng.random() < 0.08:
                self.optional_talk(member, day, lo, hi)
            if rng.random() < (0.10 if cross_zone else 0.02):
                self.after_hours_call(member, day, lo, hi)
            if rng.random() < 0.015:
                self.add(
                    member,
                    day,
                    -1,
                    SyntheticEvent(
                        uid=self.uid(member),
                        series_uid=None,
                        rrule=None,
                        summary="Birthday",
                        start=day,
                        end=day + timedelta(days=1),
                        organizer=member.email,
                        attendees=(),
                        transparent=True,
                    ),
                )

    def team_zone(self, member: _Member) -> str:
        return self.teams_by_name[member.team][0].zone_name

    def others(self, member: _Member, count: int, external: float) -> list[str]:
        rng = self.rng
        team = self.teams_by_name[member.team]
        department = self.departments[member.department]
        out: list[str] = []
        for _ in range(count):
            roll = rng.random()
            if roll < external:
                address = f"{self.pick(_FIRST_NAMES)}@{self.pick(_CUSTOMERS)}.example"
            elif roll < external + 0.6 and len(team) > 1:
                address = self.pick(team).email
            elif roll < external + 0.85:
                address = self.pick(self.pick(department)).email
            else:
                address = self.members[self.below(len(self.members))].email
            if address != member.email and address not in out:
                out.append(address)
        if not out:
            candidates = [m for m in team if m is not member] or self.members
            pick = self.pick(candidates)
            if pick is not member:
                out.append(pick.email)
            else:
                out.append(f"{self.pick(_FIRST_NAMES)}@{self.pick(_CUSTOMERS)}.example")
        return out

    def meeting(
        self,
        member: _Member,
        day: date,
        lo: int,
        hi: int,
        *,
        busy: list[tuple[int, int]] | None = None,
        packed: bool = False,
        status: str | None = None,
    ) -> None:
        """An ad-hoc meeting with colleagues (or customers, for sales)."""
        rng = self.rng
        duration = self.pick(_DURATIONS)
        external = 0.35 if member.role == "sales" else 0.02
        others = self.others(member, self.pick(_OTHERS), external)
        own = rng.random() < (0.45 if packed else 0.3)
        organizer = member.email if own and status is None else others[0]
        if status is None:
            status = ACCEPTED if organizer == member.email else self.pick(_INVITE_RESPONSE)
        if status == DECLINED or busy is None:
            start = _grid(rng, lo, hi, duration, 15)
        else:
            found = _place(rng, busy, lo, hi, duration, adjacency=0.75 if packed else 0.3)
            if found is None:
                if not packed or rng.random() < 0.5:
                    return
                start = _grid(rng, lo, hi, duration, 15)  # double-booked
            else:
                start = found
            busy.append((start, start + duration))
        attendees = [self.pair(organizer, ACCEPTED)]
        for address in others:
            if address != organizer:
                attendees.append(self.pair(address, self.pick(_OTHER_RESPONSE)))
        attendees.append(self.pair(member.email, status))
        titles = (
            _SALES_TITLES
            if member.role == "sales" and rng.random() < 0.5
            else _MANAGER_TITLES
            if packed and rng.random() < 0.3
            else _MEETING_TITLES
        )
        self.add_single(
            member,
            day,
            start,
            duration,
            self.pick(titles),
            organizer=organizer,
            attendees=tuple(attendees),
        )

    def focus(
        self, member: _Member, day: date, lo: int, hi: int, busy: list[tuple[int, int]]
    ) -> None:
        rng = self.rng
        duration = self.pick(_FOCUS_MINUTES)
        start = _place(rng, busy, lo, hi, duration, adjacency=0.2, grid=30)
        if start is None:
            return
        transparent = rng.random() < 0.1
        if not transparent:
            busy.append((start, start + duration))
        self.add_single(
            member,
            day,
            start,
            duration,
            "Focus time" if member.uses_focus_time else "Heads down",
            transparent=transparent,
            event_type=FOCUS_TIME if member.uses_focus_time else DEFAULT,
        )

    def solo(
        self, member: _Member, day: date, lo: int, hi: int, busy: list[tuple[int, int]]
    ) -> None:
        rng = self.rng
        duration = self.pick((30, 45, 60))
        start = self.pick((lo, hi - duration, _grid(rng, lo, hi, duration, 30)))
        busy.append((start, start + duration))
        self.add_single(
            member,
            day,
            start,
            duration,
            self.pick(_SOLO_TITLES),
        )

    def reminder(self, member: _Member, day: date, lo: int, hi: int) -> None:
        rng = self.rng
        start = _grid(rng, lo, hi, 15, 15)
        self.add_single(
            member,
            day,
            start,
            15,
            self.pick(_REMINDERS),
            transparent=True,
        )

    def optional_talk(self, member: _Member, day: date, lo: int, hi: int) -> None:
        """An optional talk the person keeps on the calendar but marks free."""
        rng = self.rng
        start = _grid(rng, lo, hi, 60, 30)
        host = self.members[self.below(len(self.members))].email
        group = f"talks@{self.domain}"
        self.add_single(
            member,
            day,
            start,
            60,
            "Optional: tech talk",
            organizer=host,
            attendees=(
                self.pair(group, ACCEPTED),
                self.pair(member.email, self.pick((ACCEPTED, TENTATIVE, NEEDS_ACTION))),
            ),
            transparent=True,
        )

    def after_hours_call(self, member: _Member, day: date, lo: int, hi: int) -> None:
        """A call with colleagues in another zone, before or after working hours."""
        rng = self.rng
        duration = self.pick((30, 45, 60, 60))
        if rng.random() < 0.35 and lo >= 8 * 60 + 30:
            start = self.pick((7 * 60, 7 * 60 + 30, 8 * 60))
        else:
            start = min(hi + self.pick((30, 60, 90, 120, 150)), 21 * 60)
        zones = [z for z in self.by_zone if z != member.zone_name] or [member.zone_name]
        pool = self.by_zone[self.pick(zones)]
        others = {pool[self.below(len(pool))].email for _ in range(self.pick((1, 2, 3)))}
        others.discard(member.email)
        if not others:
            others = {f"{self.pick(_FIRST_NAMES)}@{self.pick(_CUSTOMERS)}.example"}
        ordered = sorted(others)
        status = self.pick((ACCEPTED, ACCEPTED, ACCEPTED, TENTATIVE, DECLINED))
        attendees = (
            *(self.pair(a, ACCEPTED) for a in ordered),
            self.pair(member.email, status),
        )
        member.busy.setdefault(day, []).append((start, start + duration))
        self.add_single(
            member,
            day,
            start,
            duration,
            self.pick(("Cross-zone sync", "Handover", "Customer call")),
            organizer=ordered[0],
            attendees=attendees,
        )

    def weekend_event(self, member: _Member, day: date) -> None:
        rng = self.rng
        if rng.random() < 0.5:
            self.meeting(member, day, 10 * 60, 18 * 60)
            return
        start = rng.randrange(9 * 60, 19 * 60, 30)
        self.add_single(
            member,
            day,
            start,
            90,
            self.pick(("Family", "Football", "Errand")),
            transparent=rng.random() < 0.6,
        )

    # -- assembling -------------------------------------------------------------------------

    def finish(self) -> SyntheticOrg:
        people: list[SyntheticPerson] = []
        for member in self.members:
            events: list[SyntheticEvent] = []
            for day in self.dates:
                entries = member.days.get(day)
                if entries:
                    entries.sort(key=_first)
                    events.extend(entry[1] for entry in entries)
            person = Person(
                email=member.email,
                team=member.team,
                timezone=member.zone_name,
                preferences=member.preferences,
            )
            people.append(
                SyntheticPerson(
                    person=person, role=member.role, events=tuple(events), manager=member.manager
                )
            )
        teams = {name: tuple(m.email for m in members) for name, members in self.teams}
        settings = OrgSettings(allowed_domains=(self.domain,), timezone=_ORG_ZONE)
        return SyntheticOrg(
            domain=self.domain, settings=settings, people=tuple(people), teams=teams
        )


def _first(entry: tuple[int, SyntheticEvent]) -> int:
    return entry[0]


def _at(day: date, minute: int, tz: tzinfo) -> datetime:
    """The aware local datetime ``minute`` minutes after local midnight of ``day``."""
    if minute >= 1440 or minute < 0:
        day = day + timedelta(days=minute // 1440)
        minute %= 1440
    return datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=tz)


def _grid(rng: random.Random, lo: int, hi: int, duration: int, grid: int) -> int:
    slots = (hi - duration - lo) // grid
    if slots <= 0:
        return lo
    return lo + grid * int(rng.random() * (slots + 1))


def _place(
    rng: random.Random,
    busy: list[tuple[int, int]],
    lo: int,
    hi: int,
    duration: int,
    *,
    adjacency: float,
    grid: int = 15,
    tries: int = 6,
) -> int | None:
    """A free start in [lo, hi - duration], often right after a busy block (back-to-back)."""
    for _ in range(tries):
        if busy and rng.random() < adjacency:
            start = busy[int(rng.random() * len(busy))][1]
        else:
            start = _grid(rng, lo, hi, duration, grid)
        end = start + duration
        if start < lo or end > hi:
            continue
        for s, e in busy:
            if start < e and s < end:
                break
        else:
            return start
    return None
