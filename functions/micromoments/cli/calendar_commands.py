"""The commands over a calendar on this machine: ``analyze`` and ``plan`` of an .ics
export, and ``demo`` (the pipeline on local stand-ins, or the bundled sample calendar)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from importlib import resources
from typing import TextIO

from micromoments.cli.exit_codes import EXIT_INPUT
from micromoments.domain.calendar import zone
from micromoments.domain.errors import DomainError
from micromoments.domain.holds import Hold

SAMPLE_PERSON = "alex@example.com"
SAMPLE_NOW = "2026-11-23T08:00:00+01:00"


class UsageError(DomainError):
    """A command-line value could not be read."""


def calendar_command(args: argparse.Namespace, out: TextIO) -> int:
    from micromoments.services.calendar_file import analyse_calendar_file

    now = args.now or datetime.now().astimezone()
    if now.tzinfo is None:
        now = now.replace(tzinfo=zone(args.tz or "UTC"))
    result = analyse_calendar_file(
        args.calendar,
        me=args.me,
        now=now,
        timezone=args.tz,
        start=args.start,
        days=args.days,
        working_hours=args.working_hours,
    )
    if result.zone_note:
        print(f"micromoments: note: {result.zone_note}", file=sys.stderr)
    for warning in result.warnings:
        about = f"event {warning.uid}: " if warning.uid else ""
        print(f"micromoments: warning: {about}{warning.message}", file=sys.stderr)
    plan = result.plan
    if args.command == "analyze":
        if args.json:
            doc = {
                "person": plan.person,
                "timezone": plan.timezone,
                "days": [load.to_json() for load in plan.loads],
            }
            print(json.dumps(doc), file=out)
        else:
            from micromoments.plan_text import render_loads

            print(render_loads(plan), file=out)
        return 0

    if args.out is not None:
        from micromoments.adapters.ics import write_holds

        try:
            args.out.write_bytes(write_holds(plan.holds, person=plan.person))
        except OSError as exc:
            raise UsageError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    if args.json:
        print(json.dumps({"holds": [_hold_json(h) for h in plan.holds]}), file=out)
    else:
        from micromoments.plan_text import render_holds

        print(render_holds(plan), file=out)
        if args.out is not None:
            print(f"\nWrote {len(plan.holds)} holds to {args.out}", file=out)
    return 0


def _hold_json(hold: Hold) -> dict[str, str]:
    return {
        "id": hold.id,
        "kind": hold.kind.value,
        "start": hold.start.isoformat(),
        "end": hold.end.isoformat(),
    }


def demo_command(args: argparse.Namespace, out: TextIO) -> int:
    if not args.sample_calendar:
        from micromoments.local.demo import render_summary, run_demo

        summary = run_demo(
            people=args.people,
            out=args.out,
            moto_port=args.moto_port,
            calendar_port=args.calendar_port,
            google_credentials=args.google_credentials,
            google_access=args.google_access,
            provider=args.provider,
        )
        if args.json:
            print(json.dumps(summary), file=out)
        else:
            print(render_summary(summary, args.out), file=out)
        if summary["dead_lettered"] or summary["people_scanned"] < summary["people"]:
            print(
                f"micromoments: error: {summary['people_scanned']} of {summary['people']} "
                f"people scanned, {summary['dead_lettered']} messages dead-lettered",
                file=sys.stderr,
            )
            return EXIT_INPUT
        return 0
    return _sample_demo(args, out)


def _sample_demo(args: argparse.Namespace, out: TextIO) -> int:
    from micromoments.plan_text import render_holds, render_loads
    from micromoments.services.calendar_file import analyse_calendar_file

    sample = resources.files("micromoments.local") / "samples" / "sample.ics"
    with resources.as_file(sample) as path:
        result = analyse_calendar_file(
            path,
            me=SAMPLE_PERSON,
            now=datetime.fromisoformat(SAMPLE_NOW),
        )
    plan = result.plan
    if args.json:
        doc = {
            "person": plan.person,
            "timezone": plan.timezone,
            "days": [load.to_json() for load in plan.loads],
            "holds": [_hold_json(h) for h in plan.holds],
        }
        print(json.dumps(doc), file=out)
        return 0
    print(f"micromoments demo: the bundled sample calendar, planned as of {SAMPLE_NOW}\n", file=out)
    print(render_loads(plan), file=out)
    print(file=out)
    print(render_holds(plan), file=out)
    return 0
