"""docs/deploy.md is a tested runbook (issue 14, "Must show"): every shell block in it is
either run here, against moto and a stand-in stack, or marked as needing a real account."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.test_operator_stack import (  # the stand-in stack's fixtures
    REGION,
    base_env,  # noqa: F401
    site,  # noqa: F401
    stack,  # noqa: F401
)

ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = ROOT / "docs" / "deploy.md"
REAL_ACCOUNT = "<!-- needs a real account -->"
RUN_HERE = "<!-- run by tests/integration/test_deploy_runbook.py -->"
FENCE = re.compile(r"^(\s*)```(\w*)\s*$")


def shell_blocks(text: str) -> list[tuple[str, str]]:
    """(marker, body) of each ```sh block; the marker is the line just before it."""
    blocks: list[tuple[str, str]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == "```")
        if fence[2] in ("sh", "bash", "shell", "console"):
            before = next((lines[k].strip() for k in range(i - 1, -1, -1) if lines[k].strip()), "")
            indent = len(fence[1])
            body = "\n".join(line[indent:] for line in lines[i + 1 : end])
            blocks.append((before, body))
        i = end + 1
    return blocks


def test_every_shell_block_is_run_here_or_marked_as_needing_a_real_account() -> None:
    blocks = shell_blocks(RUNBOOK.read_text(encoding="utf-8"))
    assert len(blocks) > 10
    unmarked = [body for marker, body in blocks if marker not in (REAL_ACCOUNT, RUN_HERE)]
    assert not unmarked, "neither run by a test nor marked:\n\n" + "\n\n".join(unmarked)
    assert [marker for marker, _ in blocks].count(RUN_HERE) >= 1


def test_no_block_hard_codes_the_stack_name() -> None:
    for _, body in shell_blocks(RUNBOOK.read_text(encoding="utf-8")):
        assert not re.search(r"--stack(-name)? micromoments(?![-\w])", body), body
        assert "secret-id micromoments/" not in body, body


@pytest.mark.integration
def test_the_runbooks_operator_block_runs_against_a_stand_in_stack(
    stack: dict[str, str],  # noqa: F811
    base_env: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    (runnable,) = [
        body
        for marker, body in shell_blocks(RUNBOOK.read_text(encoding="utf-8"))
        if marker == RUN_HERE
    ]
    script = re.sub(r"^STACK=\S+", f"STACK={stack['name']}", runnable, flags=re.MULTILINE)
    assert script != runnable, "the block names its stack in STACK=..."
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    (tmp_path / "people.csv").write_text(
        "email,team,timezone,working_hours\nben@example.com,core,Europe/Berlin,\n"
    )
    env = base_env | {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    env["AWS_DEFAULT_REGION"] = REGION
    done = subprocess.run(
        ["bash", "-c", script + "\necho MICROMOMENTS_TABLE_NAME=$MICROMOMENTS_TABLE_NAME"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    out = done.stdout
    assert "error" not in done.stderr.lower(), done.stderr
    assert "command not found" not in done.stderr, done.stderr
    assert f"MICROMOMENTS_TABLE_NAME={stack['TableName']}" in out  # the env block took
    assert "org settings: created with defaults" in out
    assert "Europe/Berlin" in out  # org show
    assert "added ana@example.com (active)" in out
    assert "imported 1 people" in out
    assert re.search(r"^ok\s+health route: GET \S+/health answered 200$", out, re.M), out
    assert re.search(r"^ok\s+API throttling", out, re.M), out
