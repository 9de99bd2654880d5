"""The summary for the terminal: the runs, the figures, the round and the care outcomes."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plural(number: int, one: str, many: str | None = None) -> str:
    return f"{number} {one if number == 1 else many or one + 's'}"


def render_summary(summary: dict[str, Any], out: Path) -> str:
    """The summary for the terminal."""
    runs = summary["runs"]
    requests = "Graph requests" if summary.get("provider") == "microsoft" else "Google requests"
    where = " on Microsoft Graph" if summary.get("provider") == "microsoft" else ""
    lines = [
        f"micromoments demo{where}: {plural(summary['people'], 'person', 'people')}, "
        f"{plural(summary['teams'], 'team')}, {plural(len(summary['time_zones']), 'time zone')} "
        f"({', '.join(summary['time_zones'])})",
        "",
        "  run                      " + "".join(f"{run['run']:>9}" for run in runs),
    ]
    rows = (
        ("people scanned", "people_scanned"),
        ("Calendar writes", "calendar_writes"),
        ("Store writes beyond leases", "store_writes_beyond_leases"),
        (requests, "google_requests"),
        ("seconds", "seconds"),
    )
    for label, key in rows:
        lines.append(f"  {label:<25}" + "".join(f"{run[key]:>9}" for run in runs))
    holds = ", ".join(f"{kind} {count}" for kind, count in summary["holds"].items() if count)
    per_person = summary["google_requests_per_person"]
    second = summary["second_run"]
    echo = second["echo_absorbed"]
    lines += [
        "",
        f"people scanned     {summary['people_scanned']} of {summary['people']}",
        f"overloaded days    {summary['overloaded_days']} (from today to the end of the "
        "planning window)",
        f"holds by kind      {holds or 'none'} ({summary['holds_on_calendar']} on the calendars)",
        f"{requests:<19}"
        + ", ".join(f"{per_person[run['run']]} per person ({run['run']})" for run in runs),
        f"second run writes  {summary['second_run_writes']}: the unchanged rescan made "
        f"{second['calendar_writes']} Calendar writes and "
        f"{second['store_writes_beyond_leases']} Store writes beyond leases",
        *_sync_state_lines(second),
        f"                   (the echo run before it stored our own new events (holds, "
        f"coffee chats, drop-ins and their copies) coming back through sync: "
        f"{echo['store_writes_beyond_leases']} Store writes, "
        f"{echo['calendar_writes']} Calendar writes)",
    ]
    lines += _connection_lines(summary["connection"])
    lines += _care_lines(summary["care"])
    digests = summary["digests"]
    lines.append(
        f"weekly digests     {digests['sent']} sent through SES (moto) and written to "
        f"{out / 'outbox'} (.eml, .html), {digests['quiet']} quiet weeks without an email, "
        f"{digests['skipped']} skipped, {digests['failed']} failed"
    )
    push = summary.get("push")
    if push and "skipped" in push:
        lines.append(f"push               skipped: {push['skipped']}")
    elif push:
        figures = push["change_to_hold_seconds"]
        lines.append(
            f"push change->hold  median {figures['median']} s, max {figures['max']} s over "
            f"{figures['count']} of {push['people']} changed calendars (Calendar server -> "
            f"notify -> scan queue -> scan; push window {push['window_seconds']} s, 60 deployed)"
        )
    if summary["failed_messages"] or summary["dead_lettered"]:
        lines.append(
            f"failures           {summary['failed_messages']} failed messages, "
            f"{summary['dead_lettered']} dead-lettered"
        )
    from micromoments.local.demo.handover import serve_command
    from micromoments.local.serve import DEFAULT_PORT

    lines += [
        "",
        f"wrote {out / 'index.html'} (week of {summary['week_shown']}) and "
        f"{out / 'summary.json'} in {summary['seconds']} s",
        f"the site, on this organisation and key (every link in the emails works): run "
        f"{serve_command(out)}{' (or make serve)' if out == Path('demo-out') else ''}, then "
        f"open http://127.0.0.1:{DEFAULT_PORT}/",
    ]
    return "\n".join(lines)


def _sync_state_lines(second: dict[str, Any]) -> list[str]:
    """On Graph: how many of the rescan's Store writes stored a new delta link."""
    if "sync_state_writes" not in second:
        return []
    return [
        f"                   ({second['sync_state_writes']} of them the sync state's new delta "
        "link: Graph answers every delta round with a new one, even when nothing changed)"
    ]


def care_rows(care: dict[str, Any]) -> list[tuple[str, str, str, str, bool]]:
    """Each care outcome: its name, value, the counts behind it, the target, and whether
    it is met."""
    targets = care["targets"]
    misplaced = care["misplaced_by_reason"]
    why = f": {reasons_text(misplaced)}" if misplaced else ""
    return [
        (
            "breather coverage",
            str(care["breather_coverage"]),
            f"{care['breather_days_covered']} of {care['breather_days_eligible']} overloaded "
            "workdays with a back-to-back run and a free 10 minutes in the hour after it got "
            f"a breather ({care['breather_days_without_gap']} more had no such gap)",
            f"at least {targets['breather_coverage']}",
            care["breather_coverage"] >= targets["breather_coverage"],
        ),
        (
            "social every week",
            str(care["social_weekly_share"]),
            f"{care['social_people_every_week']} of {care['social_people']} people who want "
            "social moments have one in every week of the planning window that had room",
            f"at least {targets['social_weekly_share']}",
            care["social_weekly_share"] >= targets["social_weekly_share"],
        ),
        (
            "coffee paired",
            str(care["coffee_paired_share"]),
            f"{care['coffee_paired']} of {care['coffee_pool']} people in the coffee pool are "
            "in a live pair or group",
            f"at least {targets['coffee_paired_share']}",
            care["coffee_paired_share"] >= targets["coffee_paired_share"],
        ),
        (
            "misplaced holds",
            str(care["misplaced_holds"]),
            f"{care['misplaced_holds']} of {care['holds_checked']} live holds (each member's "
            "copy of a shared one) are outside working hours, on unavailable days, over busy "
            f"time or past a cap{why}",
            f"{targets['misplaced_holds']}",
            care["misplaced_holds"] <= targets["misplaced_holds"],
        ),
        (
            "runs lengthened",
            str(care["runs_lengthened_by_holds"]),
            f"{care['runs_lengthened_by_holds']} of {care['clearance_holds_checked']} live "
            "holds other than breathers sit less than 10 minutes from a meeting",
            f"{targets['runs_lengthened_by_holds']}",
            care["runs_lengthened_by_holds"] <= targets["runs_lengthened_by_holds"],
        ),
        (
            "social of their own",
            str(care["personal_social_share"]),
            f"{care['personal_social_people']} of {care['personal_social_owed']} people who "
            "want social time have a social hold of their own in every week that had room",
            f"at least {targets['personal_social_share']}",
            care["personal_social_share"] >= targets["personal_social_share"],
        ),
    ]


def _care_lines(care: dict[str, Any]) -> list[str]:
    lines = []
    for index, (name, value, counts, target, met) in enumerate(care_rows(care)):
        label = "care outcomes" if index == 0 else ""
        verdict = "" if met else " — MISSED"
        lines.append(f"{label:<19}{name} {value} (target {target}{verdict}): {counts}")
    return lines


def reasons_text(unpaired: dict[str, int]) -> str:
    return "; ".join(f"{reason.replace('_', ' ')}: {count}" for reason, count in unpaired.items())


def _connection_lines(connection: dict[str, Any]) -> list[str]:
    if not connection["iso_week"]:
        return ["coffee chats       the pairing did not run"]
    unpaired = sum(connection["unpaired"].values())
    detail = f" ({reasons_text(connection['unpaired'])})" if unpaired else ""
    return [
        f"coffee chats       {connection['iso_week']}: {plural(connection['pairs'], 'pair')}, "
        f"{plural(connection['trios'], 'group')} of three, {unpaired} of "
        f"{connection['coffee_people']} people unpaired{detail}; "
        f"paired share {connection['paired_share']}",
        f"watercoolers       {plural(connection['watercoolers'], 'team drop-in')}; on the "
        f"calendars {connection['coffee_events_on_calendars']} coffee and "
        f"{connection['watercooler_events_on_calendars']} watercooler events, "
        f"{connection['attendee_copies']} attendee copies "
        f"({connection['attendee_copies_missing']} missing)",
    ]
