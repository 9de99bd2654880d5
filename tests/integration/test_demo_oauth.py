"""`micromoments demo --google-access oauth`: every person connects their own calendar
through the site over HTTP (sign-in link, Connect Google Calendar, the Calendar server's
consent page, the callback), then the same pipeline and the same checks as the default
demo; the delegation path is never used, and no token is in clear in the Store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from micromoments.local.demo import runner
from tests.integration.test_demo import PEOPLE, run_cli

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    out = tmp_path_factory.mktemp("demo-oauth") / "demo-out"
    seen: dict[str, Any] = {}
    collect = runner.read_connection

    def snapshot(org: Any, runtime: Any, store: Any, *args: Any) -> Any:
        seen["by_auth"] = dict(runtime.calendar.counters.by_auth)
        seen["refresh_tokens"] = runtime.calendar.consent.refresh_tokens()
        seen["access_tokens"] = runtime.calendar.consent.access_tokens()
        seen["items"] = json.dumps(list(store.table.client.scan(
            TableName=runtime.table_name)["Items"]))  # fmt: skip
        seen["grants"] = sum(1 for p in org.people if store.get_grant(p.email) is not None)
        return collect(org, runtime, store, *args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runner, "read_connection", snapshot)
        code, stdout, stderr = run_cli("demo", "--people", str(PEOPLE), "--google-access",
                                       "oauth", "--out", str(out), "--json")  # fmt: skip
    yield {"code": code, "stdout": stdout, "stderr": stderr, "out": out, **seen}


def test_everyone_connects_over_http_and_the_pipeline_runs_on_their_grants(
    demo: dict[str, Any],
) -> None:
    assert demo["code"] == 0, demo["stderr"]
    summary = json.loads(demo["stdout"])
    assert summary["google_access"] == "oauth"
    assert summary["oauth"] == {
        "people_connected": PEOPLE, "consents": 2 * PEOPLE, "grants_at_google": PEOPLE,
    }  # fmt: skip
    assert demo["grants"] == PEOPLE  # sealed by the site's callback, one each
    assert summary["people"] == summary["people_scanned"] == PEOPLE
    assert summary["failed_messages"] == summary["dead_lettered"] == 0
    assert sum(summary["holds"].values()) > 0
    # the same checks as the default demo: an unchanged rescan writes nothing
    assert summary["second_run_writes"] == 0
    rescan = summary["runs"][-1]
    assert rescan["calendar_writes"] == 0 and set(rescan["store_writes"]) <= {"LEASE"}
    # no delegation at all: no federation, no signed JWT
    by_auth = demo["by_auth"]
    assert by_auth.get("sts", 0) == by_auth.get("signJwt", 0) == 0
    assert "connecting 20 people through the site over HTTP" in demo["stderr"]


def test_the_care_outcomes_are_met_on_peoples_own_grants(demo: dict[str, Any]) -> None:
    care = json.loads(demo["stdout"])["care"]
    assert care["social_weekly_share"] >= 0.95, care
    assert care["coffee_paired_share"] >= 0.95, care
    assert care["breather_coverage"] >= care["targets"]["breather_coverage"], care
    assert care["misplaced_holds"] == 0, care


def test_no_token_is_in_clear_in_the_store_or_the_output(demo: dict[str, Any]) -> None:
    tokens = demo["refresh_tokens"] + demo["access_tokens"]
    assert len(demo["refresh_tokens"]) == PEOPLE
    written = demo["items"] + demo["stdout"] + demo["stderr"]
    written += "".join(p.read_text(errors="replace") for p in Path(demo["out"]).rglob("*")
                       if p.is_file())  # fmt: skip
    assert [t for t in tokens if t in written] == []
    assert "1//0local-" not in written and "ya29.local-" not in written
