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
from micromoments.domain.settings import OrgSettings
from micromoments.ops.deployment_commands import doctor_command, init_command, uninstall_command
from micromoments.ops.people_commands import people_command
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
        return init_command(out, stack)
    if args.command == "doctor":
        return doctor_command(args, out, stack)
    if args.command == "digest":
        return _digest(args, out)
    store = _store()
    if args.command == "scan":
        return _scan(args, store, out)
    if args.command == "pair":
        return _pair(args, store, out)
    if args.command == "uninstall":
        return uninstall_command(args, store, out, stack)
    if args.command == "org":
        return _org(args, store, out)
    return people_command(args, store, out)


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
