"""`micromoments demo --provider microsoft` end to end on a small org: moto's server and the
local Graph server in-process, the real handlers building the Graph gateway from the org's
``calendar_provider`` and the client secret in Secrets Manager; the four runs, the week,
the digests and the page, without the push part; and the clear refusal of Google's OAuth
with it.

The local Graph server delivers attendee copies, as Exchange does: every guest of a coffee
chat or drop-in holds a copy their own scans read as that hold.
"""

from __future__ import annotations

import io
import json
import os
import re
import socket
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from micromoments.adapters.graph_calendar.events import HOLD_ID_PROPERTY, TAGS_PROPERTY
from micromoments.cli import main
from micromoments.local.demo import runner
from micromoments.local.demo.summary import render_summary

pytestmark = pytest.mark.integration

PEOPLE = 7
TOUCHED = ("AWS_ENDPOINT_URL", "MICROMOMENTS_TABLE_NAME", "MICROMOMENTS_GRAPH_API_URL",
           "MICROMOMENTS_GRAPH_SECRET", "MICROMOMENTS_CALENDAR_API_URL")  # fmt: skip


@dataclass
class Demo:
    code: int
    stdout: str
    stderr: str
    out: Path
    environ_before: dict[str, str | None]
    environ_after: dict[str, str | None]
    mailboxes: dict[str, list[dict[str, Any]]]  # every mailbox as the runs left it
    seen: dict[str, Any]  # what the runtime ran and held


def run_cli(*argv: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    with redirect_stdout(stdout), redirect_stderr(stderr):
        code = main(list(argv))
    return code, stdout.getvalue(), stderr.getvalue()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    out = tmp_path_factory.mktemp("graph-demo") / "demo-out"
    before = {name: os.environ.get(name) for name in TOUCHED}
    mailboxes: dict[str, list[dict[str, Any]]] = {}
    seen: dict[str, Any] = {}
    collect = runner.read_connection

    def snapshot(org: Any, runtime: Any, store: Any, *args: Any) -> Any:
        """The mailboxes on the Graph server, and what ran, before the stand-ins stop."""
        import boto3

        from micromoments import wiring
        from micromoments.adapters.graph_calendar import GraphCalendarGateway

        mailboxes.update({p.email: runtime.graph.events(p.email) for p in org.people})
        secret = boto3.client("secretsmanager").get_secret_value(SecretId=runtime.graph_secret)
        seen["secret_is_the_server_s"] = secret["SecretString"] == runtime.graph.client_secret
        seen["gateway"] = isinstance(wiring.calendar_gateway(), GraphCalendarGateway)
        seen["provider"] = store.get_settings().calendar_provider.value
        try:
            runtime.calendar  # noqa: B018 - no Calendar API server runs beside it
        except RuntimeError as exc:
            seen["calendar_server"] = str(exc)
        return collect(org, runtime, store, *args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runner, "read_connection", snapshot)
        code, stdout, stderr = run_cli(
            "demo", "--provider", "microsoft", "--people", str(PEOPLE), "--out", str(out), "--json"
        )
    after = {name: os.environ.get(name) for name in TOUCHED}
    yield Demo(code, stdout, stderr, out, before, after, mailboxes, seen)


def properties(event: dict[str, Any]) -> dict[str, str]:
    return {
        str(p["id"]).lower(): str(p["value"])
        for p in event.get("singleValueExtendedProperties") or []
    }


def test_the_demo_runs_on_the_graph_server(demo: Demo) -> None:
    assert demo.code == 0, demo.stderr
    summary = json.loads(demo.stdout)
    assert summary["provider"] == "microsoft"
    assert json.loads((demo.out / "summary.json").read_text(encoding="utf-8")) == summary
    # the handlers built the Graph gateway: the org's setting, the app's secret in moto
    assert demo.seen["provider"] == "microsoft"
    assert demo.seen["gateway"] is True
    assert demo.seen["secret_is_the_server_s"] is True
    assert "not the Calendar API server" in demo.seen["calendar_server"]
    assert re.search(r"Graph API http://127\.0\.0\.1:\d+/v1\.0/ \(app-only", demo.stderr)

    assert summary["people"] == summary["people_scanned"] == PEOPLE
    first, pair, echo, rescan = summary["runs"]
    for run in (first, echo, rescan):
        assert run["people_scanned"] == PEOPLE
    assert summary["failed_messages"] == summary["dead_lettered"] == 0
    assert first["oauth_round_trips"] >= 1  # app-only: a client-credentials token
    assert pair["calendar_writes"] > 0
    assert summary["digests"]["sent"] + summary["digests"]["quiet"] == PEOPLE
    assert summary["push"] == {
        "skipped": "the demo measures the push path on the Google stand-in only"
    }
    terminal = render_summary(summary, demo.out)
    assert terminal.startswith("micromoments demo on Microsoft Graph:")
    assert "push               skipped: the demo measures the push path on the Google" in terminal
    assert "Graph requests" in terminal and "Google requests" not in terminal
    page = (demo.out / "index.html").read_text(encoding="utf-8")
    assert "Push: skipped (the demo measures the push path on the Google stand-in only)" in page
    assert "Graph requests" in page and "Google requests" not in page


def test_breathers_and_personal_holds_are_placed_on_graph(demo: Demo) -> None:
    """Each personal hold the Store counts is an event its person organises on the Graph
    server, tagged with our private property set; so are the shared ones' organisers'."""
    assert demo.code == 0, demo.stderr
    summary = json.loads(demo.stdout)
    holds = summary["holds"]
    assert holds["breather"] > 0 and holds["social"] > 0
    assert summary["holds_on_calendar"] == sum(holds.values())
    tagged: dict[str, int] = {}
    for events in demo.mailboxes.values():
        for event in events:
            tags = properties(event)
            if HOLD_ID_PROPERTY.lower() not in tags or event.get("isCancelled"):
                continue
            assert event["isOrganizer"] is True
            assert str(event["transactionId"]).startswith("micromoments:")
            kind = tags[TAGS_PROPERTY.lower()].partition(";")[0]
            tagged[kind] = tagged.get(kind, 0) + 1
    assert tagged["breather"] >= holds["breather"]  # and the week's kept ones, now past
    assert tagged["social"] >= holds["social"]
    care = summary["care"]
    assert care["breather_days_covered"] > 0
    assert care["misplaced_holds"] == 0, care
    assert care["runs_lengthened_by_holds"] == 0, care
    connection = summary["connection"]  # the organisers' events (a chat may be removed since)
    shared = (
        connection["coffee_events_on_calendars"] + connection["watercooler_events_on_calendars"]
    )
    assert 0 < shared <= connection["pairs"] + connection["trios"] + connection["watercoolers"]
    assert summary["week"]["breathers_deleted_by_people"] > 0  # deleted in Outlook


def test_guests_hold_copies_of_the_shared_moments_and_answer_them(demo: Demo) -> None:
    """Each guest of a coffee chat or drop-in holds Exchange's copy of it, and the week's
    guests accept invitations on their copies."""
    assert demo.code == 0, demo.stderr
    summary = json.loads(demo.stdout)
    connection = summary["connection"]
    assert connection["attendee_copies"] > 0
    assert connection["attendee_copies_missing"] == 0
    assert summary["week"]["coffee_invitations_accepted"] > 0
    copies = [
        event
        for events in demo.mailboxes.values()
        for event in events
        if not event["isOrganizer"]
        and HOLD_ID_PROPERTY.lower() not in properties(event)
        and any("00020329" in key and key.endswith("mm_hold_id") for key in properties(event))
    ]
    assert len(copies) >= connection["attendee_copies"]
    assert all(not event.get("transactionId") for event in copies)


def test_the_unchanged_rescan_writes_nothing_on_graph(demo: Demo) -> None:
    """No Graph write, one request a person, and no Store write beyond leases: a delta
    round that brought nothing keeps the stored link (docs/decisions.md)."""
    assert demo.code == 0, demo.stderr
    summary = json.loads(demo.stdout)
    rescan = summary["runs"][-1]
    assert rescan["run"] == "rescan"
    assert rescan["calendar_writes"] == 0
    assert summary["google_requests_per_person"]["rescan"] == 1.0
    assert set(rescan["store_writes"]) <= {"LEASE"}
    assert summary["second_run"]["sync_state_writes"] == 0
    assert summary["second_run_writes"] == 0


def test_the_stand_ins_are_stopped_and_the_environment_restored(demo: Demo) -> None:
    assert demo.code == 0, demo.stderr
    assert demo.environ_after == demo.environ_before
    ports = [int(port) for port in re.findall(r"http://127\.0\.0\.1:(\d+)", demo.stderr)]
    assert len(ports) == 2
    for port in ports:
        with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            pass


def test_google_s_oauth_is_refused_with_microsoft(tmp_path: Path) -> None:
    before = {name: os.environ.get(name) for name in TOUCHED}
    code, stdout, stderr = run_cli(
        "demo", "--provider", "microsoft", "--google-access", "oauth", "--out", str(tmp_path)
    )
    assert code == 1 and stdout == ""
    assert "--google-access oauth is Google's" in stderr
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert not (tmp_path / "index.html").exists()
    assert {name: os.environ.get(name) for name in TOUCHED} == before


def test_an_unknown_provider_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as usage:
        run_cli("demo", "--provider", "exchange", "--out", str(tmp_path))
    assert usage.value.code == 2
