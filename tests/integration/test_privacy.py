"""What the table holds of a person's calendar: never titles, places or other people.

A realistic person from the synthetic organisation is stored with everything a scan
keeps (profile with a don't-pair list, sync state, the event mirror with recurring masters
and exceptions, day loads, holds, journal, digest, lease, sign-in token, session) plus
pairing history and a round. Then every stored item is read back raw, on every backend,
and searched recursively (attribute names and values) for anything that must not be there.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from boto3.dynamodb.types import TypeDeserializer

from micromoments.adapters.dynamo import DynamoTable
from micromoments.adapters.memory import MemoryTable
from micromoments.adapters.table import TableStore
from micromoments.domain.access import Session, SignInToken, secret_hash
from micromoments.domain.calendar import CalendarEvent
from micromoments.domain.day_load import day_loads
from micromoments.domain.holds import Hold, HoldKind, HoldStatus, personal_hold_id
from micromoments.domain.journal import JournalEntry, WriteOp
from micromoments.domain.lease import Lease
from micromoments.domain.mirror import MirrorEvent, SyncState
from micromoments.domain.pairing import PairingGroup, PairingHistoryEntry, PairingRound
from micromoments.domain.people import pseudonym
from micromoments.local.synthetic import (
    SyntheticEvent,
    SyntheticOrg,
    SyntheticPerson,
    generate_org,
    normalised_events,
)

START = date(2026, 11, 23)
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
KEY = b"pseudonym-key-for-tests-32-bytes"
FORBIDDEN_NAMES = {"summary", "title", "description", "location", "attendees", "organizer"}


def mirror_of(person: SyntheticPerson) -> list[MirrorEvent]:
    """The person's calendar as the mirror keeps it: single events, and for each series a
    recurring master plus every occurrence as an exception instance."""
    zone = person.person.timezone
    out: list[MirrorEvent] = []
    masters: dict[str, MirrorEvent] = {}
    occurrences: list[tuple[SyntheticEvent, CalendarEvent]] = list(
        zip(person.events, normalised_events(person), strict=True)
    )
    for event, normal in occurrences:
        timed = isinstance(event.start, datetime)
        common: dict[str, Any] = {
            "start": normal.start,
            "end": normal.end,
            "kind": normal.kind,
            "busy": normal.busy,
            "declined": normal.declined,
            "start_zone": zone if timed else None,
        }
        if event.series_uid is None or event.rrule is None or event.original_start is None:
            out.append(MirrorEvent(id=event.uid, **common))
            continue
        out.append(
            MirrorEvent(
                id=event.uid,
                recurring_event_id=event.series_uid,
                original_start=event.original_start,
                **common,
            )
        )
        first = masters.get(event.series_uid)
        if first is None or event.original_start < first.start:  # type: ignore[operator]
            duration = normal.end - normal.start  # type: ignore[operator]
            masters[event.series_uid] = MirrorEvent(
                id=event.series_uid,
                start=event.original_start,
                end=event.original_start + duration,
                kind=normal.kind,
                busy=normal.busy,
                start_zone=zone,
                recurrence=(f"RRULE:{event.rrule}",),
            )
    return out + list(masters.values())


def addresses(org: SyntheticOrg) -> set[str]:
    """Every address the organisation's calendars mention."""
    found: set[str] = set()
    for person in org.people:
        found.add(person.email)
        for event in person.events:
            found.add(event.organizer)
            found.update(address for address, _ in event.attendees)
    return {a.lower() for a in found}


def strings(value: Any) -> Iterator[str]:
    """Every string inside an item: attribute names, values, nested names and values."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield str(key)
            yield from strings(inner)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for inner in value:
            yield from strings(inner)


def names(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield str(key).lower()
            yield from names(inner)
    elif isinstance(value, (list, tuple)):
        for inner in value:
            yield from names(inner)


def every_item(store: TableStore) -> list[dict[str, Any]]:
    if isinstance(store.table, MemoryTable):
        return store.table.items()
    assert isinstance(store.table, DynamoTable)
    client, deserializer = store.table.client, TypeDeserializer()
    items = []
    for page in client.get_paginator("scan").paginate(TableName=store.table.name):
        for found in page.get("Items", []):
            items.append({name: deserializer.deserialize(v) for name, v in found.items()})
    return items


def test_the_table_keeps_no_titles_places_or_other_peoples_addresses(store: TableStore) -> None:
    org = generate_org(20, seed=3, start=START)
    subject = org.people[0]  # a manager: 1:1s, team series, ad-hoc meetings with colleagues
    me = subject.email
    tz = ZoneInfo(subject.person.timezone or "UTC")
    colleagues = [p.email for p in org.people[1:4]]
    person = subject.person.model_copy(
        update={"preferences": subject.person.preferences.with_dont_pair(KEY, colleagues[:2])}
    )
    assert len(person.preferences.dont_pair) == 2

    # what the scan keeps of this person
    assert store.create_person(person)
    store.put_sync(me, SyncState(token="sync-token-1", synced_at=NOW, timezone=str(tz)))
    mirror = mirror_of(subject)
    assert any(e.recurrence for e in mirror) and any(e.recurring_event_id for e in mirror)
    store.replace_mirror(me, mirror)
    loads = day_loads(
        normalised_events(subject), tz, person.hours(org.settings.working_hours), START, 14
    )
    store.put_day_loads(me, loads)
    for offset, kind in ((1, HoldKind.BREATHER), (2, HoldKind.SOCIAL), (3, HoldKind.COFFEE)):
        day = START + timedelta(days=offset)
        start = datetime(day.year, day.month, day.day, 15, tzinfo=tz)
        hold = Hold(
            id=personal_hold_id(me, kind, day),
            kind=kind,
            start=start,
            end=start + timedelta(minutes=15),
            busy=kind is not HoldKind.SOCIAL,
            day=day,
            status=HoldStatus.PLACED,
        )
        store.put_hold(me, hold)
        store.add_journal(me, JournalEntry(hold.id, 1, WriteOp.INSERT, hold, NOW))
    store.claim_digest(me, "2026-W48", NOW)
    store.acquire_lease(Lease(me, "scan-7f3a", NOW + timedelta(minutes=15)), NOW)
    store.create_sign_in_token(SignInToken(secret_hash("t"), me, NOW + timedelta(minutes=15)))
    store.create_session(Session(secret_hash("s"), me, NOW, NOW, "f00d" * 8))
    # the org's pairing state: pseudonyms only
    mine, theirs = pseudonym(KEY, me), pseudonym(KEY, colleagues[2])
    store.add_pairing_history([PairingHistoryEntry(mine, theirs, "2026-W48")])
    store.create_round(PairingRound("2026-W49", (PairingGroup((mine, theirs)),), NOW))
    store.create_settings(org.settings)

    items = every_item(store)
    assert len(items) > len(mirror)
    others = addresses(org) - {me}
    assert colleagues[0] in others and len(others) > 15
    summaries = {e.summary for p in org.people for e in p.events}
    assert "1:1" in summaries and "Payments stand-up" in summaries

    for item in items:
        assert not FORBIDDEN_NAMES & set(names(item)), item
        for text in strings(item):
            lowered = text.lower()
            for address in others:
                assert address not in lowered, (address, item)
            assert "@" not in lowered.replace(me, ""), item
            for summary in summaries:
                if any(c.isalpha() for c in summary):
                    assert summary not in text, (summary, item)
                assert text.strip() != summary, (summary, item)


# -- after a demo run: every stored item and every log line -------------------------------------

DEMO_PEOPLE = 8
ADDRESS = re.compile(r"[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+", re.IGNORECASE)


def found_addresses(text: str) -> set[str]:
    return {match.lower() for match in ADDRESS.findall(text)}


def item_owner(item: dict[str, Any], alias_key: bytes) -> str | None:
    """Whose address an item may carry; None: nobody's.

    - ``PERSON#<email>`` partitions (profile, mirror, loads, holds, journal, digests, lease,
      pointers): that person;
    - ``ORG`` / ``MEMBER#<email>``: that member;
    - ``ALIAS#<pseudonym>``: the one address whose keyed pseudonym the key is;
    - ``TOKEN#``/``SESSION#``: the person the token or session belongs to;
    - anything else (org settings, rounds, ``PAIRS#`` history, ``RATE#`` counters): nobody,
      pseudonyms and hashes only.
    """
    pk, sk = str(item["pk"]), str(item["sk"])
    if pk.startswith("PERSON#"):
        return pk.removeprefix("PERSON#").lower()
    if pk == "ORG" and sk.startswith("MEMBER#"):
        return sk.removeprefix("MEMBER#").lower()
    if pk.startswith("ALIAS#"):
        email = str(item.get("email", "")).lower()
        assert pseudonym(alias_key, email) == pk.removeprefix("ALIAS#"), item
        return email
    if pk.startswith(("TOKEN#", "SESSION#")):
        return str(item.get("email", "")).lower() or None
    return None


def misplaced_addresses(items: list[dict[str, Any]], alias_key: bytes) -> list[tuple[str, Any]]:
    """(address, item) for every address an item carries that is not its owner's."""
    out = []
    for item in items:
        owner = item_owner(item, alias_key)
        for text in strings(item):
            out += [(a, item) for a in found_addresses(text) if a != owner]
    return out


def seeded_in(texts: Iterator[str] | list[str], seeded: set[str]) -> list[tuple[str, str]]:
    """(seeded string, text) for every text that contains a title, description or location."""
    return [(secret, text) for text in texts for secret in seeded if secret in text]


@dataclass
class PrivacyRun:
    summary: dict[str, Any]
    seeded: set[str]  # every title, description and location the calendars were seeded with
    people: set[str]  # the org's addresses
    items: list[dict[str, Any]]  # every DynamoDB item, after the runs and the digests
    alias_key: bytes
    log_lines: list[str]  # every line the handlers logged or printed
    calendar_resources: int  # seeded events as the Calendar server serves them


def _places(seeded: set[str]) -> Any:
    """`google_events` with a description and a location on every seeded event, each one
    distinct, recorded with the titles in ``seeded``."""
    from micromoments.local.calendar_api import server as server_module

    real = server_module.google_events

    def google_events(person: SyntheticPerson) -> list[dict[str, Any]]:
        resources = real(person)
        for resource in resources:
            marker = f"{len(seeded):06d}"
            resource["description"] = f"Agenda {marker}: the board's budget figures"
            resource["location"] = f"Room {marker}, 42 Quiet Lane, Springfield"
            seeded.update((resource["description"], resource["location"]))
            summary = str(resource.get("summary", ""))
            if len(summary) >= 4 and any(c.isalpha() for c in summary):
                seeded.add(summary)
        return resources

    return google_events


@pytest.fixture(scope="module")
def privacy_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivacyRun]:
    """The demo on a small org with descriptions and locations on every event, the
    handlers' logs at DEBUG captured (powertools' JSON lines, other loggers' warnings, and
    what handlers print: the metric lines), and every stored item read before the
    stand-ins stop."""
    import logging

    from micromoments import wiring
    from micromoments.domain.access import pseudonym_key
    from micromoments.local import demo as demo_module
    from micromoments.local.calendar_api import server as server_module
    from micromoments.local.demo import runner
    from micromoments.local.runtime import LocalRuntime, lambda_context
    from micromoments.observability import logger

    seeded: set[str] = set()
    logs, printed = io.StringIO(), io.StringIO()
    snapshot: dict[str, Any] = {}
    results = runner.collect_results

    def capture_handlers(self: LocalRuntime) -> None:
        handler = logger.registered_handler
        stream = handler.setStream(logs) if isinstance(handler, logging.StreamHandler) else None
        self._saved_log = (logger.log_level, stream)
        logger.setLevel(logging.DEBUG)

    def invoke(self: LocalRuntime, handler: Any, event: Any, *, function: str) -> Any:
        with redirect_stdout(printed):
            return handler(event, lambda_context(function))

    def keep_items(org: SyntheticOrg, runtime: LocalRuntime, store: TableStore, *args: Any) -> Any:
        snapshot["items"] = every_item(store)
        key = wiring.master_key()
        assert key is not None
        snapshot["alias_key"] = pseudonym_key(key)
        snapshot["resources"] = [r for p in org.people for r in runtime.calendar.events(p.email)]
        snapshot["people"] = {p.email.lower() for p in org.people}
        return results(org, runtime, store, *args)

    others = logging.StreamHandler(logs)  # any other logger's warnings reach CloudWatch too
    others.setLevel(logging.WARNING)
    root = logging.getLogger()
    root.addHandler(others)
    progress: list[str] = []
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(server_module, "google_events", _places(seeded))
            patch.setattr(LocalRuntime, "_quiet_handlers", capture_handlers)
            patch.setattr(LocalRuntime, "invoke", invoke)
            patch.setattr(runner, "collect_results", keep_items)
            summary = demo_module.run_demo(
                people=DEMO_PEOPLE,
                out=tmp_path_factory.mktemp("privacy") / "demo-out",
                progress=progress.append,
            )
    finally:
        root.removeHandler(others)
    resources = snapshot["resources"]
    with_places = [r for r in resources if "location" in r and "description" in r]
    yield PrivacyRun(
        summary=summary,
        seeded=seeded,
        people=snapshot["people"],
        items=snapshot["items"],
        alias_key=snapshot["alias_key"],
        log_lines=[*logs.getvalue().splitlines(), *printed.getvalue().splitlines(), *progress],
        calendar_resources=len(with_places),
    )


def test_the_privacy_run_had_something_to_leak(privacy_run: PrivacyRun) -> None:
    """The scans below can fail: titles, descriptions and locations were on the calendars,
    everything the pipeline keeps was stored and the handlers logged."""
    run = privacy_run
    assert run.calendar_resources > 100
    assert len(run.seeded) > 2 * run.calendar_resources  # each one's own, and the titles
    assert run.summary["people_scanned"] == DEMO_PEOPLE
    holds = run.summary["holds"]
    assert holds["coffee"] > 0 and holds["breather"] > 0 and run.summary["digests"]["sent"] > 0
    kinds = {str(item["pk"]).split("#")[0] for item in run.items}
    assert {"PERSON", "ORG", "ALIAS", "PAIRS"} <= kinds
    sorts = {str(item["sk"]).split("#")[0] for item in run.items}
    assert {"PROFILE", "SYNC", "EVENT", "LOAD", "HOLD", "JOURNAL", "DIGEST", "ROUND"} <= sorts
    messages = [json.loads(line).get("message") for line in run.log_lines if line.startswith("{")]
    assert {"dispatched", "paired", "digests dispatched"} <= set(messages)
    assert any('"_aws"' in line for line in run.log_lines)  # the metric lines were captured


def test_no_stored_item_keeps_a_title_description_or_location(privacy_run: PrivacyRun) -> None:
    forbidden = FORBIDDEN_NAMES - {"attendees"}  # a shared hold's guests, as pseudonyms: below
    for item in privacy_run.items:
        assert not forbidden & set(names(item)), item
        assert not seeded_in(list(strings(item)), privacy_run.seeded), item


def test_no_stored_item_carries_anyone_s_address_but_its_owner_s(privacy_run: PrivacyRun) -> None:
    run = privacy_run
    assert not misplaced_addresses(run.items, run.alias_key)
    # shared holds name their guests by pseudonym; the pairing history and rounds too
    shared = [i for i in run.items if str(i["sk"]).startswith("HOLD#") and i.get("attendees")]
    assert shared
    for item in shared:
        for guest in item["attendees"]:
            assert re.fullmatch(r"[0-9a-f]{64}", guest), item
    # every address stored belongs to someone of the org (no outside guest is ever kept)
    stored = {a for item in run.items for text in strings(item) for a in found_addresses(text)}
    assert stored <= run.people


def test_no_log_line_names_anyone_or_any_event(privacy_run: PrivacyRun) -> None:
    lines = privacy_run.log_lines
    assert lines
    assert [line for line in lines if found_addresses(line)] == []
    assert seeded_in(lines, privacy_run.seeded) == []


def test_the_scans_find_what_they_look_for() -> None:
    """The checks above, on items and lines planted to break them."""
    key = b"k" * 32
    mine, theirs = "ada@example.com", "ben@example.com"
    planted = [
        {"pk": f"PERSON#{mine}", "sk": "PROFILE", "email": mine},  # fine: the owner's
        {"pk": f"PERSON#{mine}", "sk": "HOLD#x", "attendees": [theirs]},
        {"pk": "ORG", "sk": "ROUND#2026-W49", "groups": [{"members": [mine]}]},
        {"pk": f"ALIAS#{pseudonym(key, mine)}", "sk": "ALIAS", "email": mine},  # fine
        {"pk": f"PAIRS#{pseudonym(key, mine)}", "sk": "2026-W49#x", "note": f"<{theirs}>"},
    ]
    found = misplaced_addresses(planted, key)
    assert [(address, item["sk"]) for address, item in found] == [
        (theirs, "HOLD#x"),
        (mine, "ROUND#2026-W49"),
        (theirs, "2026-W49#x"),
    ]
    with pytest.raises(AssertionError):  # an alias item holding another person's address
        item_owner({"pk": f"ALIAS#{pseudonym(key, mine)}", "sk": "ALIAS", "email": theirs}, key)
    seeded = {"Room 12, 42 Quiet Lane", "Payments stand-up"}
    lines = ['{"message": "scan failed", "where": "Room 12, 42 Quiet Lane"}', "ok"]
    assert seeded_in(lines, seeded) == [("Room 12, 42 Quiet Lane", lines[0])]
    assert found_addresses('{"person": "Ben@Example.com"}') == {theirs}
