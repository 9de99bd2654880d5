"""The operators' ``people`` command (add, import, list, show, optout, delete), and the scan
that opting in or out asks for at once where a scan queue is configured."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import TextIO

from micromoments.adapters.table import TableStore
from micromoments.config import ConfigError, config
from micromoments.domain.people import Person, PersonStatus
from micromoments.domain.scan_request import ScanReason, ScanRequest
from micromoments.services import people as people_service


def people_command(args: argparse.Namespace, store: TableStore, out: TextIO) -> int:
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
        enqueue([person.email], ScanReason.OPT_IN, out)
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
        person = people_service.start_leaving(store, args.email, now=now)
        print(f"{person.email}: {person.status.value}", file=out)
        if person.status is PersonStatus.LEAVING:
            enqueue([person.email], ScanReason.OPT_OUT, out)
    elif command == "delete":
        master = _master_key()
        erased = people_service.delete_person(store, args.email, master_key=master, now=now)
        if erased:
            print(f"{args.email.strip().lower()}: erased", file=out)
        else:
            email = args.email.strip().lower()
            print(f"{email}: leaving; erased once the next scan has removed their holds", file=out)
            enqueue([email], ScanReason.OPT_OUT, out)
    return 0


def enqueue(emails: list[str], reason: ScanReason, out: TextIO) -> None:
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
