"""The operators' commands over a deployment as a whole: ``init`` (table, org settings,
signing key), ``doctor`` (check it) and ``uninstall`` (opt everyone out, remove their
holds, then say how to delete the stack)."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import TextIO

from micromoments.adapters.table import TableStore
from micromoments.config import config
from micromoments.domain.scan_request import ScanReason
from micromoments.ops.people_commands import enqueue
from micromoments.ops.stack import StackError, StackSettings
from micromoments.services import org as org_service


def init_command(out: TextIO, stack: StackSettings | None) -> int:
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


def doctor_command(args: argparse.Namespace, out: TextIO, stack: StackSettings | None) -> int:
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
        outside=args.outside,
    )
    report = doctor.run_doctor(target, clients)
    if args.json:
        print(json.dumps(report.to_json()), file=out)
    else:
        for check in report.checks:
            print(check.line(), file=out)
    return 0 if report.ok else 1


def uninstall_command(
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
        enqueue(departure.leaving, ScanReason.OPT_OUT, out)
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
