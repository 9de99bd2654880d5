"""The weekly pairing use case on fakes: the in-memory Store and the in-memory calendar."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from micromoments.adapters.memory import MemoryTable
from micromoments.adapters.memory_calendar import MemoryCalendar
from micromoments.adapters.table import TableStore
from micromoments.domain.access import never_pair_key, pairing_history_key, pseudonym_key
from micromoments.domain.calendar import EventKind
from micromoments.domain.holds import Hold, HoldKind, HoldStatus
from micromoments.domain.mirror import MirrorEvent, SyncState
from micromoments.domain.pairing import NO_PARTNER, NO_SLOT
from micromoments.domain.people import Person, PersonStatus, Preferences, pseudonym
from micromoments.domain.scan_request import ScanReason, ScanRequest
from micromoments.domain.settings import CoffeePool, OrgSettings
from micromoments.services.pair import coming_week, pair_week, week_label

KEY = b"p" * 32
BERLIN = ZoneInfo("Europe/Berlin")
THURSDAY = datetime(2026, 11, 26, 11, 0, tzinfo=UTC)
MONDAY = date(2026, 11, 30)


class ListQueue:
    def __init__(self) -> None:
        self.sent: list[ScanRequest] = []

    def send(self, requests: list[ScanRequest]) -> None:
        assert len(requests) <= 10
        self.sent.extend(requests)


def world(
    count: int, *, pool: CoffeePool = CoffeePool.ORG, teams: int = 1
) -> tuple[TableStore, MemoryCalendar, list[str]]:
    store = TableStore(MemoryTable())
    store.create_settings(
        OrgSettings(timezone="Europe/Berlin", allowed_domains=("example.com",), coffee_pool=pool)
    )
    calendar = MemoryCalendar()
    emails = [f"p{i:02d}@example.com" for i in range(count)]
    for i, email in enumerate(emails):
        calendar.add_calendar(email, "Europe/Berlin")
        store.create_person(
            Person(
                email=email,
                team=f"team{i % teams}",
                preferences=Preferences(timezone="Europe/Berlin"),
            )
        )
    return store, calendar, emails


def busy_all_week(calendar: MemoryCalendar, email: str) -> None:
    start = datetime.combine(MONDAY, datetime.min.time(), BERLIN)
    calendar.put(email, MirrorEvent("wall", start, start + timedelta(days=7), EventKind.SOLO))


def shared_holds(
    store: TableStore, emails: list[str], kind: HoldKind = HoldKind.COFFEE
) -> list[tuple[str, Hold]]:
    """(organiser, hold) with the attendees' addresses: the Store keeps pseudonyms only."""
    found = []
    for email in emails:
        for h in store.holds(email):
            if h.kind is kind:
                assert all("@" not in a for a in h.attendees)
                guests = tuple(store.address_of(a) or "?" for a in h.attendees)
                found.append((email, dataclasses.replace(h, attendees=guests)))
    return found


def coffee_holds(store: TableStore, emails: list[str]) -> list[tuple[str, Hold]]:
    return shared_holds(store, emails)


def test_the_coming_week_is_paired_and_its_organisers_queued() -> None:
    store, calendar, emails = world(6)
    queue = ListQueue()
    report = pair_week(store, calendar, now=THURSDAY, master_key=KEY, queue=queue)
    assert report.iso_week == week_label(MONDAY) == "2026-W49"
    assert coming_week(THURSDAY, OrgSettings(timezone="Europe/Berlin")) == MONDAY
    assert (report.pairs, report.trios, report.unpaired) == (3, 0, {})
    chats = coffee_holds(store, emails)
    assert len(chats) == 3
    members = [m for organiser, h in chats for m in (organiser, *h.attendees)]
    assert sorted(members) == emails  # everyone once
    for organiser, hold in chats:
        assert hold.status is HoldStatus.PLANNED and hold.busy
        assert hold.start.astimezone(BERLIN).date() >= MONDAY
        assert len(hold.attendees) == 1 and organiser not in hold.attendees
    organisers = {organiser for organiser, _ in coffee_holds(store, emails)}
    organisers |= {e for e in emails for h in store.holds(e) if h.kind is HoldKind.WATERCOOLER}
    assert {r.person for r in queue.sent} == organisers
    assert {r.reason for r in queue.sent} == {ScanReason.PAIRING}


def test_a_rerun_continues_the_saved_round_and_plans_nothing_twice() -> None:
    store, calendar, emails = world(5)
    first = pair_week(store, calendar, now=THURSDAY, master_key=KEY)
    busy_all_week(calendar, emails[0])  # calendars changed since: the round still stands
    again = pair_week(store, calendar, now=THURSDAY + timedelta(hours=3), master_key=KEY)
    assert not first.continued and again.continued
    assert (again.pairs, again.trios) == (first.pairs, first.trios) == (1, 1)
    assert first.planned == 2 + 1 and again.planned == 0
    assert len(coffee_holds(store, emails)) == 2


def test_history_rotates_partners_across_weeks() -> None:
    store, calendar, emails = world(6)
    met: set[frozenset[str]] = set()
    for week in range(5):  # six people can meet five new partners in five weeks
        monday = MONDAY + timedelta(weeks=week)
        pair_week(store, calendar, now=THURSDAY, master_key=KEY, monday=monday)
        pairs = [
            frozenset((organiser, *h.attendees))
            for organiser, h in coffee_holds(store, emails)
            if h.start.astimezone(BERLIN).date() >= monday
        ]
        fresh = {p for p in pairs if p not in met}
        assert len(fresh) == 3, (week, pairs)
        met |= fresh


def test_no_common_slot_leaves_a_person_unpaired_with_the_reason() -> None:
    store, calendar, emails = world(3)
    busy_all_week(calendar, emails[1])
    report = pair_week(store, calendar, now=THURSDAY, master_key=KEY)
    assert (report.pairs, report.trios) == (1, 0)
    assert report.unpaired == {NO_SLOT: 1}
    saved = store.get_round(report.iso_week)
    assert saved is not None
    alone = [g for g in saved.groups if g.start is None]
    assert [g.members for g in alone] == [(pseudonym(pseudonym_key(KEY), emails[1]),)]
    assert all(emails[1] not in (o, *h.attendees) for o, h in coffee_holds(store, emails))


def test_a_lone_person_is_told_there_is_no_partner() -> None:
    store, calendar, _ = world(1)
    report = pair_week(store, calendar, now=THURSDAY, master_key=KEY)
    assert report.unpaired == {NO_PARTNER: 1} and report.planned == 0


def test_people_the_round_gave_nothing_they_wanted_are_queued_for_a_full_scan() -> None:
    """Their week kept room for a coffee chat and a drop-in: their next scan, queued now and
    a full one, gives it back to social time of their own."""
    store, calendar, emails = world(3, teams=2)  # a group of three; p01 alone in team1
    for email in emails:
        store.put_sync(email, SyncState(quiet_until=THURSDAY + timedelta(hours=12)))
    queue = ListQueue()
    report = pair_week(store, calendar, now=THURSDAY, master_key=KEY, queue=queue)
    assert (report.trios, report.watercoolers) == (1, 1)  # team0's drop-in: p00 and p02
    organisers = {e for e in emails for h in store.holds(e) if h.shared}
    assert report.organisers_queued == len(organisers)
    assert report.given_back_queued == 1  # p01: no drop-in, alone in their team
    assert {r.person for r in queue.sent} == organisers | {emails[1]}
    assert len(queue.sent) == len(organisers) + 1
    for email in organisers | {emails[1]}:  # no quick path: the next scan plans
        state = store.get_sync(email)
        assert state is not None and state.quiet_until is None


def test_the_dont_pair_list_is_honoured_and_never_shown() -> None:
    store, calendar, emails = world(4)
    ana, ben = emails[0], emails[1]
    person = store.get_person(ana)
    assert person is not None
    blocked = person.preferences.model_copy(
        update={"dont_pair": {pseudonym(pseudonym_key(KEY), ben)}}
    )
    store.update_person(person.model_copy(update={"preferences": blocked}))
    for week in range(4):
        report = pair_week(
            store, calendar, now=THURSDAY, master_key=KEY, monday=MONDAY + timedelta(weeks=week)
        )
        assert report.unpaired == {}
        text = json.dumps(report.to_json())
        assert "@" not in text and pseudonym(pseudonym_key(KEY), ben) not in text
    for organiser, hold in coffee_holds(store, emails):
        assert {ana, ben} - {organiser, *hold.attendees}, "a blocked pair met"


def test_people_without_room_this_week_or_who_left_are_not_paired() -> None:
    store, calendar, emails = world(4)
    has_coffee = Hold(
        id="mmexisting0",
        kind=HoldKind.COFFEE,
        start=datetime(2026, 12, 1, 10, tzinfo=BERLIN),
        end=datetime(2026, 12, 1, 10, 20, tzinfo=BERLIN),
        busy=True,
        day=date(2026, 12, 1),
        status=HoldStatus.PLACED,
    )
    store.put_hold(emails[0], has_coffee)
    leaving = store.get_person(emails[1])
    assert leaving is not None
    store.update_person(leaving.model_copy(update={"status": PersonStatus.LEAVING}))
    no_coffee = store.get_person(emails[2])
    assert no_coffee is not None
    prefs = no_coffee.preferences.model_copy(update={"moments": frozenset({HoldKind.SOCIAL})})
    store.update_person(no_coffee.model_copy(update={"preferences": prefs}))
    report = pair_week(store, calendar, now=THURSDAY, master_key=KEY)
    assert report.coffee_people == 1 and report.unpaired == {NO_PARTNER: 1}


def test_a_week_with_room_for_one_more_hold_gets_the_coffee_chat_not_the_drop_in() -> None:
    """Four breathers leave one hold of the week's five: the coffee chat takes it, and the
    drop-in goes to the others only (the caps hold for every member)."""
    store, calendar, emails = world(4)
    full = emails[0]
    for offset in range(4):
        day = MONDAY + timedelta(days=offset)
        start = datetime.combine(day, datetime.min.time(), BERLIN) + timedelta(hours=12)
        store.put_hold(
            full,
            Hold(
                id=f"mmbreather{offset}",
                kind=HoldKind.BREATHER,
                start=start,
                end=start + timedelta(minutes=10),
                busy=True,
                day=day,
                status=HoldStatus.PLACED,
            ),
        )
    report = pair_week(store, calendar, now=THURSDAY, master_key=KEY)
    assert report.pairs == 2 and report.watercoolers == 1
    chats = coffee_holds(store, emails)
    assert any(full in (organiser, *hold.attendees) for organiser, hold in chats)
    [(organiser, drop_in)] = shared_holds(store, emails, HoldKind.WATERCOOLER)
    assert full not in (organiser, *drop_in.attendees)
    assert len(drop_in.attendees) == 2  # the three others


def test_team_pools_and_one_drop_in_per_team() -> None:
    store, calendar, emails = world(8, pool=CoffeePool.TEAM, teams=2)
    report = pair_week(store, calendar, now=THURSDAY, master_key=KEY)
    assert (report.pairs, report.watercoolers) == (4, 2)
    teams = {e: f"team{i % 2}" for i, e in enumerate(emails)}
    for organiser, hold in coffee_holds(store, emails):
        assert {teams[m] for m in (organiser, *hold.attendees)} == {teams[organiser]}
    drop_ins = shared_holds(store, emails, HoldKind.WATERCOOLER)
    assert len(drop_ins) == 2
    for organiser, hold in drop_ins:
        assert not hold.busy and hold.end - hold.start == timedelta(minutes=15)
        assert {teams[m] for m in (organiser, *hold.attendees)} == {teams[organiser]}
        for member in (organiser, *hold.attendees):  # one social-kind hold a day
            chats = [h for o, h in coffee_holds(store, emails) if member in (o, *h.attendees)]
            assert hold.day not in {h.day for h in chats}


def test_erasing_a_person_purges_them_from_rounds_history_and_aliases() -> None:
    from micromoments.services.people import delete_person

    store, calendar, emails = world(4)
    report = pair_week(store, calendar, now=THURSDAY, master_key=KEY)
    gone = emails[3]
    alias = pseudonym(pseudonym_key(KEY), gone)
    in_history = pseudonym(pairing_history_key(KEY), gone)
    assert store.pairing_history(in_history)
    # nothing of theirs left on a calendar: they can be erased at once
    for email in emails:
        for hold in store.holds(email):
            store.put_hold(email, dataclasses.replace(hold, status=HoldStatus.REMOVED))
    assert delete_person(store, gone, master_key=KEY, now=THURSDAY) is True
    assert store.pairing_history(in_history) == []
    assert store.address_of(alias) is None
    saved = store.get_round(report.iso_week)
    assert saved is not None and all(alias not in g.members for g in saved.groups)


# -- never-pair lists and the history stay confidential to a reader of the table -------------


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, (list, tuple, set, frozenset)):
        return [s for v in value for s in _strings(v)]
    return [str(value)]


def _dump(store: TableStore) -> tuple[set[str], set[str], list[str], list[str]]:
    """From every stored item and no key: the never-pair entries, the history's pseudonyms,
    and the text of everything else (with and without the history's items)."""
    assert isinstance(store.table, MemoryTable)
    never_pair: set[str] = set()
    history: set[str] = set()
    elsewhere: list[str] = []
    in_history: list[str] = []
    for item in store.table.items():
        if str(item["pk"]).startswith("PAIRS#"):
            history.add(str(item["pk"]).removeprefix("PAIRS#"))
            history.add(str(item["sk"]).split("#", 1)[1])
            in_history += _strings(item)
            continue
        rest = dict(item)
        preferences = dict(rest.pop("preferences", None) or {})
        never_pair |= set(preferences.pop("dont_pair", ()))
        elsewhere += _strings(rest) + _strings(preferences)
    return never_pair, history, elsewhere, in_history


FORM = {
    "moments": ["coffee"],
    "breather_minutes": ["15"],
    "social_minutes": ["30"],
    "coffee_minutes": ["20"],
    "part_of_day": ["any"],
    "timezone": ["Europe/Berlin"],
}


def test_no_stored_item_resolves_a_never_pair_or_history_entry() -> None:
    from micromoments.services.preferences import save

    store, calendar, emails = world(4)
    queue = ListQueue()
    ana, ben = emails[0], emails[1]
    for email in emails:  # each saves their preferences (their alias item is written)
        form = {**FORM, "dont_pair_add": [ben if email == ana else ""]}
        saved = save(store, queue, email=email, form=form, master_key=KEY, now=THURSDAY)
        assert not saved.result.errors, saved.result.errors
    for week in range(3):
        monday = MONDAY + timedelta(weeks=week)
        pair_week(store, calendar, now=THURSDAY, master_key=KEY, monday=monday)
    for organiser, hold in coffee_holds(store, emails):
        assert {ana, ben} - {organiser, *hold.attendees}, "a blocked pair met"

    never_pair, history, elsewhere, in_history = _dump(store)
    assert len(never_pair) == 1 and len(history) == 4
    assert any(text.startswith("ALIAS#") for text in elsewhere)  # aliases resolve others
    for entry in never_pair:
        assert not any(entry in text for text in elsewhere + in_history), (
            "a never-pair entry resolves"
        )
    for entry in history:
        assert not any(entry in text for text in elsewhere), "a history entry resolves"


def test_a_never_pair_list_stored_under_the_alias_key_still_counts_and_moves_on_save() -> None:
    from micromoments.services.preferences import save

    store, calendar, emails = world(4)
    ana, ben = emails[0], emails[1]
    old_entry = pseudonym(pseudonym_key(KEY), ben)  # as lists were stored before
    store.put_aliases({old_entry: ben})
    person = store.get_person(ana)
    assert person is not None
    listed = person.preferences.model_copy(update={"dont_pair": {old_entry}})
    store.update_person(person.model_copy(update={"preferences": listed}))
    for week in range(3):
        monday = MONDAY + timedelta(weeks=week)
        pair_week(store, calendar, now=THURSDAY, master_key=KEY, monday=monday)
    for organiser, hold in coffee_holds(store, emails):
        assert {ana, ben} - {organiser, *hold.attendees}, "a blocked pair met"

    saved = save(store, ListQueue(), email=ana, form=FORM, master_key=KEY, now=THURSDAY)
    assert not saved.result.errors, saved.result.errors
    person = store.get_person(ana)
    assert person is not None
    assert person.preferences.dont_pair == {pseudonym(never_pair_key(KEY), ben)}


def test_history_stored_under_the_alias_key_moves_to_its_own_and_still_counts() -> None:
    from micromoments.domain.pairing import PairingHistoryEntry

    store, calendar, emails = world(4)
    alias = {email: pseudonym(pseudonym_key(KEY), email) for email in emails}
    named = {email: pseudonym(pairing_history_key(KEY), email) for email in emails}
    met = [(emails[0], emails[1]), (emails[2], emails[3]), (emails[0], emails[2])]
    store.add_pairing_history(
        [PairingHistoryEntry(alias[a], alias[b], f"2026-W{40 + i}") for i, (a, b) in enumerate(met)]
    )
    pair_week(store, calendar, now=THURSDAY, master_key=KEY)

    assert all(store.pairing_history(alias[email]) == [] for email in emails)
    assert {(e.partner, e.iso_week) for e in store.pairing_history(named[emails[0]])} >= {
        (named[emails[1]], "2026-W40"),
        (named[emails[2]], "2026-W42"),
    }
    pairs = {frozenset((o, *h.attendees)) for o, h in coffee_holds(store, emails)}
    assert pairs == {frozenset((emails[0], emails[3])), frozenset((emails[1], emails[2]))}


def test_coffee_chats_and_drop_ins_keep_ten_minutes_from_meetings() -> None:
    """Each morning is free only until a run at 10:00: the chat and the drop-in keep 10
    minutes clear of it (a coffee chat at 09:40-10:00 would lengthen the run)."""
    store, calendar, emails = world(2)
    for email in emails:
        for day in range(5):
            date_ = MONDAY + timedelta(days=day)

            def at(hh_mm: str, d: date = date_) -> datetime:
                hour, minute = map(int, hh_mm.split(":"))
                return datetime.combine(d, time(hour, minute), BERLIN)

            calendar.put(email, MirrorEvent(f"r{day}", at("10:00"), at("12:35"), EventKind.MEETING))
            calendar.put(email, MirrorEvent(f"s{day}", at("12:35"), at("17:00"), EventKind.SOLO))
    pair_week(store, calendar, now=THURSDAY, master_key=KEY)
    held = shared_holds(store, emails) + shared_holds(store, emails, HoldKind.WATERCOOLER)
    assert {h.kind for _, h in held} == {HoldKind.COFFEE, HoldKind.WATERCOOLER}
    for _, hold in held:
        end = hold.end.astimezone(BERLIN)
        assert (end.hour, end.minute) <= (9, 50), hold
