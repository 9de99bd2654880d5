"""The operators' commands: ``init``, ``org show|set`` and ``people …``.

They work against whatever the standard AWS settings name (AWS itself, or any DynamoDB
endpoint through AWS_ENDPOINT_URL); the table is ``MICROMOMENTS_TABLE_NAME``. Each
command is a thin shell over a service; errors surface as one line from `cli.main`.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import TextIO

from micromoments.adapters.table import TableStore
from micromoments.config import ConfigError, config
from micromoments.domain.people import Person, PersonStatus
from micromoments.domain.scan_request import ScanReason, ScanRequest
from micromoments.domain.settings import OrgSettings
from micromoments.services import org as org_service
from micromoments.services import people as people_service


def run(args: argparse.Namespace, out: TextIO) -> int:
    if args.command == "init":
        return _init(out)
    store = _store()
    if args.command == "scan":
        return _scan(args, store, out)
    if args.command == "org":
        return _org(args, store, out)
    return _people(args, store, out)


def _store() -> TableStore:
    from micromoments import wiring

    return wiring.store()


def _scan(args: argparse.Namespace, store: TableStore, out: TextIO) -> int:
    import uuid

    from micromoments import wiring
    from micromoments.services.scan import scan_person

    settings = config()
    if args.calendar_api:
        settings = settings.model_copy(update={"calendar_api_url": args.calendar_api})
        settings = type(settings).model_validate(settings.model_dump())
    person = people_service.find_person(store, args.person)
    report = scan_person(
        person.email,
        store=store,
        calendar=wiring.calendar_gateway(settings, table=store),
        now=datetime.now(UTC),
        owner=f"cli-{uuid.uuid4().hex[:12]}",
        master_key=wiring.master_key(),
        dry_run=args.dry_run,
    )
    if report.outcome == "skipped":
        raise people_service.PersonRefused(
            f"{person.email} is {person.status.value}: only opted-in people are scanned"
        )
    if report.outcome == "busy":
        raise people_service.PersonRefused(f"{person.email} is being scanned right now")
    holds = {key: report.holds[key] for key in ("placed", "moved", "removed", "kept", "dismissed")}
    if args.json:
        doc = {
            "person": report.person,
            "overloaded_days": report.overloaded_days,
            "holds": holds,
            "google_requests": report.google_requests,
            "round_trips": report.round_trips,
        }
        print(json.dumps(doc), file=out)
    else:
        done = ", ".join(f"{count} {what}" for what, count in holds.items())
        print(
            f"{report.person}: {report.outcome}{' (dry run)' if args.dry_run else ''}; "
            f"{report.overloaded_days} overloaded days ahead; holds: {done}; "
            f"{report.google_requests} Google requests in {report.round_trips} round trips",
            file=out,
        )
    return 0


def _init(out: TextIO) -> int:
    import boto3

    from micromoments.adapters.dynamo import create_table, dynamo_store
    from micromoments.adapters.secrets import ensure_master_key

    settings = config()
    name = settings.require_table()
    client = boto3.client("dynamodb")
    created = create_table(client, name)
    print(f"table {name}: {'created' if created else 'exists already'}", file=out)
    store = dynamo_store(name, client=client)
    made = org_service.initialise_settings(store)
    print(f"org settings: {'created with defaults' if made else 'kept as they are'}", file=out)
    if settings.signing_key_secret:
        fresh = ensure_master_key(settings.signing_key_secret)
        state = "created" if fresh else "exists already"
        print(f"signing key secret {settings.signing_key_secret}: {state}", file=out)
    return 0


def _org(args: argparse.Namespace, store: TableStore, out: TextIO) -> int:
    if args.org_command == "show":
        settings = org_service.current_settings(store)
    else:
        settings = org_service.change_settings(store, args.assignments)
        print("org settings updated:", file=out)
    if getattr(args, "json", False):
        print(json.dumps(settings.to_item()), file=out)
    else:
        print(_settings_text(settings), file=out)
    return 0


def _settings_text(settings: OrgSettings) -> str:
    item = settings.to_item()
    width = max(len(key) for key in item)
    lines = []
    for key, value in item.items():
        shown = ", ".join(value) if isinstance(value, list) else value
        if isinstance(value, bool):
            shown = str(value).lower()
        lines.append(f"{key:<{width}}  {shown}")
    return "\n".join(lines)


def _people(args: argparse.Namespace, store: TableStore, out: TextIO) -> int:
    command = args.people_command
    now = datetime.now(UTC)
    if command == "add":
        person = people_service.add_person(
            store,
            people_service.NewPerson(
                email=args.email,
                team=args.team,
                timezone=args.tz,
                working_hours=args.working_hours,
            ),
        )
        print(f"added {person.email} (active)", file=out)
        _enqueue([person.email], ScanReason.OPT_IN, out)
    elif command == "import":
        try:
            text = args.file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise people_service.PersonRefused(f"cannot read {args.file}: {exc}") from None
        added, known = people_service.import_people(store, people_service.read_people_csv(text))
        print(f"imported {added} people ({known} already known)", file=out)
    elif command == "list":
        people = list(store.list_people())
        if args.json:
            print(json.dumps({"people": [_person_json(p) for p in people]}), file=out)
        else:
            for person in people:
                team = person.team or "-"
                print(f"{person.email:<40} {person.status.value:<10} {team}", file=out)
            print(f"{len(people)} people", file=out)
    elif command == "show":
        person = people_service.find_person(store, args.email)
        if args.json:
            print(json.dumps(_person_json(person)), file=out)
        else:
            for key, value in _person_json(person).items():
                print(f"{key:<12} {value}", file=out)
    elif command == "optout":
        person = people_service.opt_out(store, args.email, now=now)
        print(f"{person.email}: {person.status.value}", file=out)
        if person.status is PersonStatus.LEAVING:
            _enqueue([person.email], ScanReason.OPT_OUT, out)
    elif command == "delete":
        master = _master_key()
        erased = people_service.delete_person(store, args.email, master_key=master, now=now)
        if erased:
            print(f"{args.email.strip().lower()}: erased", file=out)
        else:
            email = args.email.strip().lower()
            print(f"{email}: leaving; erased once the next scan has removed their holds", file=out)
            _enqueue([email], ScanReason.OPT_OUT, out)
    return 0


def _enqueue(emails: list[str], reason: ScanReason, out: TextIO) -> None:
    """Opting in or out asks for a scan at once, where a scan queue is configured."""
    if not emails or not config().scan_queue_url:
        return
    from micromoments import wiring

    wiring.scan_queue().send([ScanRequest(email, reason) for email in emails])
    print(f"scan enqueued for {len(emails)} {'person' if len(emails) == 1 else 'people'}", file=out)


def _master_key() -> bytes:
    from micromoments.adapters.secrets import read_master_key

    secret = config().signing_key_secret
    if not secret:
        raise ConfigError(
            "MICROMOMENTS_SIGNING_KEY_SECRET is not set: it keys the pairing pseudonyms "
            "that deleting a person purges"
        )
    return read_master_key(secret)


def _person_json(person: Person) -> dict[str, object]:
    return {
        "email": person.email,
        "status": person.status.value,
        "team": person.team,
        "timezone": person.timezone,
        "preferences": person.preferences.to_item(),
    }
