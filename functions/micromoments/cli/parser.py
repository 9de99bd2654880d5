"""The ``micromoments`` command's parser: its commands, their options and how each option's
value is read. Errors in the arguments are one line and exit code 2."""

from __future__ import annotations

import argparse
import re
from datetime import date, datetime
from pathlib import Path
from typing import NoReturn

from micromoments import __version__
from micromoments.cli.exit_codes import EXIT_USAGE
from micromoments.domain.calendar import zone
from micromoments.domain.errors import DomainError
from micromoments.domain.people import validate_email
from micromoments.domain.working_hours import WorkingHours


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO-8601 date and time") from None
    return value


def _iso_week(text: str) -> date:
    """``2026-W49`` -> the Monday of that ISO week."""
    match = re.fullmatch(r"(\d{4})-W(\d{2})", text.strip())
    try:
        if match is None:
            raise ValueError(text)
        return date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO week like 2026-W49") from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _working_hours(text: str) -> WorkingHours:
    try:
        return WorkingHours.parse(text)
    except DomainError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _address(text: str) -> str:
    try:
        return validate_email(text)
    except DomainError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _zone_name(text: str) -> str:
    try:
        zone(text)
    except DomainError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"micromoments: error: {message}\n")


def _calendar_options(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("calendar", type=Path, help="an .ics export (Google, Outlook, Apple)")
    sub.add_argument(
        "--me",
        "--person",
        dest="me",
        required=True,
        metavar="EMAIL",
        help="whose calendar it is (their address in the invitations)",
    )
    sub.add_argument(
        "--tz",
        type=_zone_name,
        metavar="ZONE",
        help="IANA time zone (default: the calendar's own, else the one its events use, else UTC)",
    )
    sub.add_argument("--start", type=_date, metavar="YYYY-MM-DD", help="first day (default: today)")
    sub.add_argument(
        "--days",
        type=_positive,
        metavar="N",
        help="number of days (default: to the end of next week)",
    )
    sub.add_argument(
        "--working-hours",
        type=_working_hours,
        metavar="SPEC",
        help="e.g. 'Mon-Thu 09:00-17:30, Fri 09:00-13:00' (default Mon-Fri 09:00-17:00)",
    )
    sub.add_argument(
        "--now", type=_instant, metavar="ISO-8601", help="the moment to plan from (default: now)"
    )
    sub.add_argument("--json", action="store_true", help="print one JSON object")


DESCRIPTION = (
    "Calendar care for teams: find meeting overload in a calendar and give back small "
    "moments (breathers, social time, coffee chats). Analyse or plan an exported .ics "
    "calendar on this machine, run the whole pipeline locally (moto and a local Calendar "
    "API), or operate a deployment."
)

Commands = argparse._SubParsersAction  # what add_subparsers returns


def _command(
    group: Commands[_Parser], name: str, *, help: str, description: str | None = None
) -> _Parser:
    """A subcommand: ``help`` is its one line in its parent's list; its own help starts
    with ``description``, else that line as a sentence."""
    return group.add_parser(name, help=help, description=description or _sentence(help))


def _sentence(line: str) -> str:
    return line[:1].upper() + line[1:] + ("" if line.endswith(".") else ".")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="micromoments", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"micromoments {__version__}")
    parser.add_argument(
        "--stack",
        metavar="NAME",
        help="take the table, queues, secrets and site URL from this CloudFormation "
        "stack's outputs (the operator commands)",
    )
    commands = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser, title="commands", metavar="COMMAND"
    )

    analyze = _command(commands, "analyze", help="meeting load per day of an .ics calendar")
    _calendar_options(analyze)

    plan = _command(commands, "plan", help="the holds micromoments would place")
    _calendar_options(plan)
    plan.add_argument(
        "--out", type=Path, metavar="HOLDS.ics", help="write the holds as an .ics file to import"
    )

    demo = _command(
        commands,
        "demo",
        help="run the serverless pipeline end to end on local stand-ins",
        description="Start moto's server and the local Calendar API server (or, with "
        "--provider microsoft, the local Microsoft Graph server), seed a synthetic "
        "organisation and run the real handlers over HTTP; writes index.html and "
        "summary.json. With --sample-calendar: analyse and plan the bundled sample calendar.",
    )
    demo.add_argument(
        "--sample-calendar",
        action="store_true",
        help="analyse and plan the bundled sample .ics instead (no servers)",
    )
    demo.add_argument(
        "--people", type=_positive, default=36, metavar="N", help="people in the org (36)"
    )
    demo.add_argument(
        "--out", type=Path, default=Path("demo-out"), metavar="DIR", help="output (demo-out)"
    )
    demo.add_argument(
        "--moto-port", type=_port, default=0, metavar="PORT", help="moto's port (0: a free one)"
    )
    demo.add_argument(
        "--calendar-port",
        type=_port,
        default=0,
        metavar="PORT",
        help="the Calendar API server's port, or the Graph server's (0: a free one)",
    )
    demo.add_argument(
        "--provider",
        choices=("google", "microsoft"),
        default="google",
        help="the org's calendar_provider: google (the Calendar API server, default) or "
        "microsoft (the Graph server, app-only; no push part, no --google-access oauth)",
    )
    demo.add_argument(
        "--google-credentials",
        choices=("keyless", "key"),
        default="keyless",
        help="what the Google secret holds: a keyless credential configuration (default) "
        "or a service-account key",
    )
    demo.add_argument(
        "--google-access",
        choices=("delegation", "oauth"),
        default="delegation",
        help="oauth: every person connects their own calendar through the site first "
        "(docs/google-access.md)",
    )
    demo.add_argument("--json", action="store_true", help="print one JSON object")

    serve = _command(
        commands,
        "serve",
        help="the opt-in site on local stand-ins, until Ctrl-C",
        description="Start the demo's stand-ins, seed the synthetic organisation, run the "
        "pipeline once, then serve the web handler on 127.0.0.1 (with a worker running the "
        "scans it queues) until Ctrl-C. Prints the environment exports that let other "
        "micromoments commands use the same stand-ins, and the link of each sign-in email.",
    )
    serve.add_argument(
        "--port",
        type=_port,
        default=8765,
        metavar="N",
        help="the site's port (8765; 0: a free one)",
    )
    serve.add_argument(
        "--people", type=_positive, default=12, metavar="N", help="people in the org (12)"
    )
    serve.add_argument(
        "--google-access",
        choices=("delegation", "oauth"),
        default="delegation",
        help="oauth: the people are imported, and each connects their own calendar on the site",
    )
    serve.add_argument(
        "--outbox",
        type=Path,
        default=Path("demo-out") / "outbox",
        metavar="DIR",
        help="where sent emails are written (demo-out/outbox)",
    )

    _command(
        commands,
        "init",
        help="create the table and default org settings (with --stack: the stack's table)",
    )
    _command(
        commands,
        "env",
        help="print the stack's settings as shell exports (needs --stack)",
        description="Print export lines that point the operator commands at a deployed "
        "stack's table, queues, secrets and site URL, for a shell to evaluate.",
    )

    scan = _command(commands, "scan", help="scan one opted-in person's Google calendar")
    scan.add_argument("--person", required=True, metavar="EMAIL", help="whom to scan")
    scan.add_argument(
        "--calendar-api",
        metavar="URL",
        help="Calendar API base URL (default MICROMOMENTS_CALENDAR_API_URL)",
    )
    scan.add_argument(
        "--dry-run", action="store_true", help="sync and plan, but write nothing to the calendar"
    )
    scan.add_argument("--json", action="store_true", help="print one JSON object")

    pair = _command(
        commands,
        "pair",
        help="pair coffee chats and pick team drop-ins for a week (or continue its round)",
    )
    pair.add_argument(
        "--week",
        type=_iso_week,
        metavar="YYYY-Www",
        help="the ISO week to pair (default: the coming week in the org's time zone)",
    )
    pair.add_argument("--json", action="store_true", help="print one JSON object")

    digest = _command(
        commands,
        "digest",
        help="preview one person's weekly digest email as HTML",
        description="Render one person's weekly digest from the table, as the digest "
        "function would send it, into an HTML file and print its path. Sending is the "
        "deployed digest function's job: this command never sends.",
    )
    digest.add_argument("--person", required=True, metavar="EMAIL", help="whose digest")
    digest.add_argument(
        "--week",
        type=_iso_week,
        metavar="YYYY-Www",
        help="the ISO week (default: the current week in the person's time zone)",
    )
    digest.add_argument(
        "--preview", action="store_true", help="write the HTML (required: nothing is sent)"
    )
    digest.add_argument(
        "--out",
        type=Path,
        default=Path("demo-out"),
        metavar="DIR",
        help="where to write digest-<week>-<person>.html (demo-out)",
    )

    org = _command(commands, "org", help="show or change the org settings")
    org_commands = org.add_subparsers(
        dest="org_command", required=True, parser_class=_Parser, title="commands", metavar="COMMAND"
    )
    org_show = _command(org_commands, "show", help="print the org settings")
    org_show.add_argument("--json", action="store_true", help="print one JSON object")
    org_set = _command(org_commands, "set", help="change settings: KEY=VALUE ...")
    org_set.add_argument(
        "assignments",
        nargs="+",
        metavar="KEY=VALUE",
        help="a setting and its new value, e.g. timezone=Europe/Berlin (see org show)",
    )

    people = _command(commands, "people", help="add, list, opt out or delete people")
    people_commands = people.add_subparsers(
        dest="people_command",
        required=True,
        parser_class=_Parser,
        title="commands",
        metavar="COMMAND",
    )
    add = _command(people_commands, "add", help="opt a person in with default preferences")
    add.add_argument("email", help="their work address, in one of the allowed domains")
    add.add_argument(
        "--tz", type=_zone_name, metavar="ZONE", help="IANA time zone (default: the org's)"
    )
    add.add_argument("--team", metavar="NAME", help="their team, for the drop-ins")
    add.add_argument(
        "--working-hours",
        type=_working_hours,
        metavar="SPEC",
        help="e.g. 'Mon-Thu 09:00-17:30, Fri 09:00-13:00' (default: the org's)",
    )
    imported = _command(
        people_commands, "import", help="add people from a CSV (email,team,timezone,working_hours)"
    )
    imported.add_argument(
        "file", type=Path, metavar="FILE.csv", help="a CSV with a header row naming its columns"
    )
    listing = _command(people_commands, "list", help="everyone, with their status")
    listing.add_argument("--json", action="store_true", help="print one JSON object")
    show = _command(people_commands, "show", help="one person's profile and preferences")
    show.add_argument("email", help="the person's address")
    show.add_argument("--json", action="store_true", help="print one JSON object")
    optout = _command(people_commands, "optout", help="stop; future holds are removed")
    optout.add_argument("email", help="the person's address")
    delete = _command(
        people_commands,
        "delete",
        help="opt out and erase the person's data once their holds are gone",
    )
    delete.add_argument("email", help="the person's address")

    doctor = _command(commands, "doctor", help="check the deployment, one line per check")
    doctor.add_argument(
        "--schedule-prefix",
        default=None,
        metavar="PREFIX",
        help="names of the EventBridge schedules: the stack name (default: --stack, "
        "else micromoments)",
    )
    doctor.add_argument(
        "--outside",
        type=_address,
        default=None,
        metavar="ADDRESS",
        help="Microsoft 365: a mailbox outside the opted-in group, which Graph must refuse "
        "(checks the application access policy)",
    )
    doctor.add_argument("--json", action="store_true", help="print one JSON object")

    uninstall = _command(
        commands, "uninstall", help="opt everyone out, wait until their holds are gone"
    )
    uninstall.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    uninstall.add_argument(
        "--timeout",
        type=float,
        default=1800,
        metavar="SECONDS",
        help="how long to wait for the holds to go (1800)",
    )
    uninstall.add_argument(
        "--poll",
        type=float,
        default=10,
        metavar="SECONDS",
        help="how often to look whether they have gone (10)",
    )
    uninstall.add_argument(
        "--stack-name",
        default=None,
        metavar="NAME",
        help="the stack to name in the closing 'sam delete' hint (default: --stack, "
        "else micromoments)",
    )
    uninstall.add_argument(
        "--scan-locally",
        action="store_true",
        help="run the removal scans here instead of waiting for the deployed scan function",
    )
    return parser


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0-65535)")
    return value
