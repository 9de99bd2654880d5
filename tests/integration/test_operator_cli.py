"""The operators' CLI end to end: separate processes against moto's HTTP server.

Every command is its own process, so what one writes the next can only see through the
table: state persists between commands.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

CLI = str(Path(sys.executable).with_name("micromoments"))
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def cli_env(moto_server_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MICROMOMENTS_"))}
    env.update(
        AWS_ENDPOINT_URL=moto_server_url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="eu-west-1",
        MICROMOMENTS_TABLE_NAME=f"cli-{uuid.uuid4().hex[:8]}",
        MICROMOMENTS_SIGNING_KEY_SECRET=f"cli-signing-{uuid.uuid4().hex[:8]}",
    )
    return env


def mm(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [CLI, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    if ok:
        assert done.returncode == 0, done.stderr
    return done


def test_operator_commands_across_processes(cli_env: dict[str, str], tmp_path: Path) -> None:
    first = mm(cli_env, "init")
    assert "created" in first.stdout
    again = mm(cli_env, "init")
    assert "exists already" in again.stdout
    assert "kept as they are" in again.stdout

    mm(cli_env, "org", "set", "allowed_domains=example.com", "holds_per_week=4")
    shown = json.loads(mm(cli_env, "org", "show", "--json").stdout)
    assert shown["allowed_domains"] == ["example.com"]
    assert shown["holds_per_week"] == 4

    bad = mm(cli_env, "org", "set", "holds_per_week=3", "colour=blue", ok=False)
    assert bad.returncode == 1
    assert bad.stderr.startswith("micromoments: error: unknown setting 'colour'")
    assert "Traceback" not in bad.stderr
    assert json.loads(mm(cli_env, "org", "show", "--json").stdout)["holds_per_week"] == 4

    mm(cli_env, "people", "add", "ana@example.com", "--tz", "Europe/Berlin", "--team", "core")
    refused = mm(cli_env, "people", "add", "eve@elsewhere.test", ok=False)
    assert "outside the org's allowed domains" in refused.stderr
    # one identity per mailbox: another spelling is the same person, a look-alike is refused
    same = mm(cli_env, "people", "add", "Ana+calendar@Example.com", ok=False)
    assert "ana@example.com is already known" in same.stderr
    lookalike = mm(cli_env, "people", "add", "\u0430na@example.com", ok=False)
    assert lookalike.returncode == 1 and "CYRILLIC SMALL LETTER A" in lookalike.stderr
    assert len(lookalike.stderr.strip().splitlines()) == 1 and "Traceback" not in lookalike.stderr
    csv = tmp_path / "people.csv"
    csv.write_text("email,team\nbo@example.com,core\ncy@example.com,web\n", encoding="utf-8")
    assert "imported 2 people" in mm(cli_env, "people", "import", str(csv)).stdout

    listed = json.loads(mm(cli_env, "people", "list", "--json").stdout)["people"]
    assert [p["email"] for p in listed] == ["ana@example.com", "bo@example.com", "cy@example.com"]
    ana = json.loads(mm(cli_env, "people", "show", "ANA+x@example.com", "--json").stdout)
    assert ana["preferences"]["timezone"] == "Europe/Berlin"
    assert ana["team"] == "core"

    assert "opted_out" in mm(cli_env, "people", "optout", "bo@example.com").stdout
    assert "erased" in mm(cli_env, "people", "delete", "cy@example.com").stdout
    listed = json.loads(mm(cli_env, "people", "list", "--json").stdout)["people"]
    assert [(p["email"], p["status"]) for p in listed] == [
        ("ana@example.com", "active"),
        ("bo@example.com", "opted_out"),
    ]


def test_clear_errors_without_a_table_or_endpoint(cli_env: dict[str, str]) -> None:
    missing = mm(cli_env, "org", "show", ok=False)
    assert missing.returncode == 1
    assert "does not exist" in missing.stderr
    assert "micromoments init" in missing.stderr
    assert missing.stderr.count("\n") == 1

    unreachable = dict(cli_env, AWS_ENDPOINT_URL="http://127.0.0.1:9", AWS_MAX_ATTEMPTS="1")
    down = mm(unreachable, "people", "list", ok=False)
    assert down.returncode == 1
    assert "cannot reach DynamoDB" in down.stderr
    assert down.stderr.count("\n") == 1

    no_table = {k: v for k, v in cli_env.items() if k != "MICROMOMENTS_TABLE_NAME"}
    unnamed = mm(no_table, "people", "list", ok=False)
    assert "MICROMOMENTS_TABLE_NAME is not set" in unnamed.stderr


def test_scan_command_against_the_local_calendar_server(cli_env: dict[str, str]) -> None:
    from micromoments.local.calendar_api import CalendarServer

    with CalendarServer() as server:
        server.add_calendar("ana@example.com", timezone="Europe/Berlin")
        # next Monday in Berlin (the CLI plans from the wall clock): six hours of meetings
        # in two runs
        today = datetime.now(BERLIN).date()
        day = today + timedelta(days=7 - today.weekday())

        def at(hour: int) -> str:
            return datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN).isoformat()

        server.seed(
            "ana@example.com",
            [
                {
                    "id": f"meeting{i}",
                    "start": {"dateTime": at(h)},
                    "end": {"dateTime": at(h + 1)},
                    "attendees": [
                        {"email": "ana@example.com", "self": True, "responseStatus": "accepted"},
                        {"email": "ben@example.com", "responseStatus": "accepted"},
                    ],
                }
                for i, h in enumerate([9, 10, 11, 13, 14, 15])
            ],
        )
        mm(cli_env, "init")
        mm(cli_env, "org", "set", "allowed_domains=example.com", "timezone=Europe/Berlin",
           "planning_weeks=3")  # fmt: skip
        mm(cli_env, "people", "add", "ana@example.com")
        args = ("scan", "--person", "ana@example.com", "--calendar-api", server.base_url)
        dry = json.loads(mm(cli_env, *args, "--dry-run", "--json").stdout)
        assert server.write_log == []
        assert dry["holds"]["placed"] >= 1
        first = json.loads(mm(cli_env, *args, "--json").stdout)
        assert set(first) == {
            "person", "overloaded_days", "holds", "google_requests", "round_trips"
        }  # fmt: skip
        assert set(first["holds"]) == {"placed", "moved", "removed", "kept", "dismissed"}
        assert first["holds"]["placed"] >= 1
        assert first["overloaded_days"] >= 1
        ours = [e for e in server.events("ana@example.com") if e["id"].startswith("mm")]
        assert len(ours) == first["holds"]["placed"]
        mm(cli_env, *args, "--json")  # brings our own inserts into the mirror
        again = json.loads(mm(cli_env, *args, "--json").stdout)
        assert again["holds"] == dict.fromkeys(first["holds"], 0)
        assert again["google_requests"] == 1

        stranger = mm(cli_env, "scan", "--person", "nobody@example.com", ok=False)
        assert stranger.returncode == 1
        assert "no person" in stranger.stderr
