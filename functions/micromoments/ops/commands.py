"""The operators' commands: ``init``, ``org``, ``people``, ``scan``, ``pair``, ``digest``,
``doctor``, ``uninstall``.

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
from micromoments.domain.errors import DomainError
from micromoments.domain.people import Person, PersonStatus
from micromoments.domain.scan_request import ScanReason, ScanRequest
from micromoments.domain.settings import OrgSettings
from micromoments.ops.stack import StackError, StackSettings
from micromoments.services import org as org_service
from micromoments.services import people as people_service


def run(args: argparse.Namespace, out: TextIO) -> int:
    stack = _use_stack(args.stack) if getattr(args, "stack", None) else None
    if args.command == "env":
        if stack is None:
            raise StackError(
                "env prints a stack's settings: name it, micromoments --stack NAME env"
            )
        from micromoments.ops.stack import export_block

        print(export_block(stack), file=out)
        return 0
    if args.command == "init":
        return _init(out, stack)
    if args.command == "doctor":
        return _doctor(args, out, stack)
    if args.command == "digest":
        return _digest(args, out)
    store = _store()
    if args.command == "scan":
        return _scan(args, store, out)
    if args.command == "pair":
        return _pair(args, store, out)
    if args.command == "uninstall":
        return _uninstall(args, store, out, stack)
    if args.command == "org":
        return _org(args, store, out)
    return _people(args, store, out)


def _use_stack(name: str) -> StackSettings:
    """Point this process's settings at the stack's outputs. A variable already set to
    something else (another table, a second signing key) is refused, not silently mixed."""
    import os

    from micromoments.ops.stack import stack_settings

    stack = stack_settings(name)
    for variable, value in stack.environment.items():
        mine = os.environ.get(variable)
        if mine and mine != value:
            raise StackError(
                f"{variable} is set to {mine!r} but stack {name!r} uses {value!r}: "
                f"unset it to use the stack's"
            )
    os.environ.update(stack.environment)
    config.cache_clear()
    return stack


def _store() -> TableStore:
    from micromoments import wiring

    return wiring.table_store()


def _scan(args: argparse.Namespace, store: TableStore, out: TextIO) -> int:
    import uuid

    from micromoments import wiring
    from micromoments.services.scan import scan_person

    settings = config()
    if args.calendar_api:
        values = settings.model_dump() | {"calendar_api_url": args.calendar_api}
        try:
            settings = type(settings).model_validate(values)
        except ValueError:
            raise ConfigError(
                f"--calendar-api: {args.calendar_api!r} is not an http(s) URL"
            ) from None
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


def _pair(args: argparse.Namespace, store: TableStore, out: TextIO) -> int:
    from micromoments import wiring
    from micromoments.services.pair import pair_week

    master_key = wiring.master_key()
    if master_key is None:
        raise ConfigError(
            "MICROMOMENTS_SIGNING_KEY_SECRET is not set: pairing keeps people as pseudonyms "
            "keyed by it"
        )
    queue = wiring.scan_queue() if config().scan_queue_url else None
    report = pair_week(
        store,
        wiring.calendar_gateway(table=store),
        now=datetime.now(UTC),
        master_key=master_key,
        queue=queue,
        monday=args.week,
    )
    if args.json:
        print(json.dumps(report.to_json()), file=out)
        return 0
    unpaired = sum(report.unpaired.values())
    how = "continued its saved round" if report.continued else "new round"
    print(
        f"{report.iso_week} ({how}): {report.pairs} pairs, {report.trios} groups of three, "
        f"{unpaired} unpaired, {report.watercoolers} watercoolers; {report.planned} events "
        f"planned, {report.organisers_queued} organisers queued for a scan",
        file=out,
    )
    for reason, count in report.unpaired.items():
        print(f"  unpaired: {count} - {reason}", file=out)
    if queue is None and report.planned:
        print(
            "  no scan queue configured: the organisers' next scans place the events "
            "(or run: micromoments scan --person EMAIL)",
            file=out,
        )
    return 0


class DigestRefused(DomainError):
    """``micromoments digest`` without ``--preview``, or its file cannot be written."""


def _digest(args: argparse.Namespace, out: TextIO) -> int:
    """One person's weekly digest as HTML (``--preview``): written, and its path printed."""
    import re

    from micromoments import wiring
    from micromoments.domain.digest import iso_label
    from micromoments.services import digest as digest_service

    if not args.preview:
        raise DigestRefused(
            "this command only previews: add --preview to write the HTML (sending is the "
            "deployed digest function's job)"
        )
    store = _store()
    person = people_service.find_person(store, args.person)
    now = datetime.now(UTC)
    label = (
        iso_label(args.week) if args.week else digest_service.current_week(store, person.email, now)
    )
    settings = config()
    master_key = wiring.master_key() if settings.signing_key_secret else None
    html = digest_service.preview(
        store,
        person.email,
        label,
        now=now,
        base_url=settings.public_base_url or "http://localhost:8765",
        master_key=master_key,
    )
    slug = re.sub(r"[^a-z0-9]+", "-", person.email).strip("-")
    path = args.out / f"digest-{label}-{slug}.html"
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise DigestRefused(f"cannot write {path}: {exc.strerror or exc}") from None
    print(path, file=out)
    return 0


def _init(out: TextIO, stack: StackSettings | None) -> int:
    from micromoments.adapters.dynamo import create_table, dynamo_client, dynamo_store
    from micromoments.adapters.secrets import ensure_master_key, read_master_key
    from micromoments.ops.stack import stacks_with_signing_key

    settings = config()
    name = settings.require_table()
    secret = settings.signing_key_secret
    if stack is None and secret:
        deployed = stacks_with_signing_key()
        if deployed:
            # One signing key per deployment: the stack's. A second one would key other
            # pseudonyms and session signatures than the functions use.
            raise StackError(
                f"stack {deployed[0]!r} is deployed here and has its own signing key: "
                f"run `micromoments --stack {deployed[0]} init` (nothing was created)"
            )
    client = dynamo_client()
    if stack is None:
        created = create_table(client, name)
        print(f"table {name}: {'created' if created else 'exists already'}", file=out)
    else:
        print(f"table {name}: the stack's (stack {stack.name})", file=out)
    store = dynamo_store(name, client=client)
    made = org_service.initialise_settings(store)
    print(f"org settings: {'created with defaults' if made else 'kept as they are'}", file=out)
    if secret and stack is not None:
        read_master_key(secret)  # the stack created it; fails clearly when it cannot be read
        print(f"signing key secret {secret}: the stack's", file=out)
    elif secret:
        fresh = ensure_master_key(secret)
        state = "created" if fresh else "exists already"
        print(f"signing key secret {secret}: {state}", file=out)
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
        person = people_service.start_leaving(store, args.email, now=now)
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


def _doctor(args: argparse.Namespace, out: TextIO, stack: StackSettings | None) -> int:
    """One line per check (or one JSON object); exit 1 when any check fails."""

    import boto3
    import google_auth_httplib2  # type: ignore[import-untyped]
    import httplib2  # type: ignore[import-untyped]

    from micromoments import wiring
    from micromoments.ops import doctor

    settings = config()
    # Not (yet) a `Config` field: only the web and digest functions send mail.
    sender = config().sender_address
    clients = doctor.Clients(
        dynamodb=lambda: boto3.client("dynamodb"),
        sqs=lambda: boto3.client("sqs"),
        scheduler=lambda: boto3.client("scheduler"),
        sesv2=lambda: boto3.client("sesv2"),
        secretsmanager=lambda: boto3.client("secretsmanager"),
        apigatewayv2=lambda: boto3.client("apigatewayv2"),
        store=wiring.store,
        gateway=lambda: wiring.calendar_gateway(settings, table=wiring.store()),
        google_request=lambda: google_auth_httplib2.Request(httplib2.Http(timeout=10)),
    )
    prefix = args.schedule_prefix or (stack.name if stack else doctor.DEFAULT_SCHEDULE_PREFIX)
    target = doctor.Target(
        settings,
        sender,
        prefix,
        site_url=stack.site_url if stack else None,
        http_api_id=stack.http_api_id if stack else None,
    )
    report = doctor.run_doctor(target, clients)
    if args.json:
        print(json.dumps(report.to_json()), file=out)
    else:
        for check in report.checks:
            print(check.line(), file=out)
    return 0 if report.ok else 1


def _uninstall(
    args: argparse.Namespace, store: TableStore, out: TextIO, stack: StackSettings | None
) -> int:
    """Opt everyone out, have their holds removed, wait, then say how to delete the stack."""
    import sys
    import uuid

    from micromoments import wiring
    from micromoments.ops import uninstall

    if args.poll <= 0 or args.timeout < 0:
        raise uninstall.UninstallRefused("--poll must be positive and --timeout not negative")
    staying = uninstall.ready_to_leave(store)
    if not args.yes:
        if not sys.stdin.isatty():
            raise uninstall.UninstallRefused(
                "uninstall opts everyone out and removes their holds: "
                "confirm with --yes (there is no terminal to ask on)"
            )
        out.write(
            f"This opts out {_count(len(staying))} and removes every future hold "
            "micromoments placed. Continue? [y/N] "
        )
        out.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            raise uninstall.UninstallRefused("cancelled: nobody was opted out")

    departure = uninstall.leave_everyone(store, now=datetime.now(UTC))
    print(
        f"opted out {_count(len(departure.leaving) + len(departure.opted_out))}: "
        f"{len(departure.opted_out)} at once, {len(departure.leaving)} leaving until "
        "their holds are removed",
        file=out,
    )
    rescan = None
    if args.scan_locally:
        owner = f"uninstall-{uuid.uuid4().hex[:12]}"
        gateway = wiring.calendar_gateway(table=store)
        master = wiring.master_key()

        def rescan(emails: list[str]) -> None:
            failures = uninstall.scan_leaving(
                emails,
                store=store,
                calendar=gateway,
                now=datetime.now(UTC),
                owner=owner,
                master_key=master,
            )
            for email, failure in failures.items():
                print(f"  removal scan of {email} failed: {failure}", file=out)

        print("running the removal scans here (--scan-locally)", file=out)
    elif departure.leaving and config().scan_queue_url:
        _enqueue(departure.leaving, ScanReason.OPT_OUT, out)
    elif departure.leaving:
        print(
            "no scan queue is configured (MICROMOMENTS_SCAN_QUEUE_URL): waiting for the "
            "hourly dispatch to run the removal scans",
            file=out,
        )

    shown: list[tuple[int, int]] = []

    def progress(left: uninstall.Remaining, elapsed: float) -> None:
        state = (len(left.leaving), left.future_holds)
        if left.done or (shown and shown[-1] == state):
            return
        shown.append(state)
        print(
            f"waiting: {_count(state[0])} leaving, {state[1]} future holds left ({elapsed:.0f} s)",
            file=out,
            flush=True,
        )

    left = uninstall.wait_until_gone(
        store,
        timeout_s=args.timeout,
        poll_s=args.poll,
        now=lambda: datetime.now(UTC),
        rescan=rescan,
        progress=progress,
    )
    if not left.done:
        raise uninstall.UninstallTimedOut(
            f"timed out after {args.timeout:g} s: {_count(len(left.leaving))} still leaving "
            f"({left.future_holds} future holds). Their removal scans may be failing: read "
            "the scan dead-letter queue and the ScanFunction logs (`micromoments doctor` "
            "checks the setup), then run `micromoments uninstall --yes` again. "
            "Do not delete the stack yet"
        )
    if left.left_behind:
        holds = sum(left.left_behind.values())
        print(
            f"warning: {holds} future holds remain on {len(left.left_behind)} suspended "
            "accounts, which Google refuses us; nothing can remove them: "
            + ", ".join(sorted(left.left_behind)),
            file=out,
        )
        print("All other holds are gone.", end=" ", file=out)
    else:
        print("All holds are gone.", end=" ", file=out)
    stack_name = args.stack_name or (stack.name if stack else "micromoments")
    for line in uninstall.closing_steps(
        stack_name,
        table=config().table_name,
        secrets=[s for s in (config().signing_key_secret, config().google_key_secret) if s],
    ):
        print(line, file=out)
    return 0


def _count(people: int) -> str:
    return f"{people} {'person' if people == 1 else 'people'}"
