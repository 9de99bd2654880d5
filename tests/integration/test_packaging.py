"""The operator CLI installs without the development tools (issue 14): the wheel's plain
requirements are the runtime's; moto and werkzeug come only with the ``local`` extra, and
the test, lint and type tools only with ``dev``."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
DEV_TOOLS = {
    "pytest",
    "hypothesis",
    "time-machine",
    "ruff",
    "mypy",
    "cfn-lint",
    "uv",
    "playwright",
    "boto3-stubs",
    "types-pyyaml",
    "moto",
    "werkzeug",
    "setuptools",
}


def test_the_wheel_requires_no_development_tool(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    (wheel,) = tmp_path.glob("micromoments-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(archive.read(name).decode())
        entry_points = next(n for n in archive.namelist() if n.endswith("entry_points.txt"))
        assert "micromoments = micromoments.cli:main" in archive.read(entry_points).decode()
    plain: set[str] = set()
    extras: dict[str, set[str]] = {}
    for line in metadata.get_all("Requires-Dist") or []:
        requirement = Requirement(line)
        marker = str(requirement.marker or "")
        project = requirement.name.lower()
        if "extra ==" in marker:
            extra = marker.split("extra ==")[1].strip().strip("\"'")
            extras.setdefault(extra, set()).add(project)
        else:
            plain.add(project)
    assert {"boto3", "pydantic", "google-auth"} <= plain
    assert not plain & DEV_TOOLS, plain & DEV_TOOLS
    assert extras["local"] == {"moto", "werkzeug"}
    assert {"pytest", "mypy", "ruff"} <= extras["dev"]


BLOCKER = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {'moto', 'werkzeug', 'pytest', 'hypothesis', 'ruff'}:
            raise ImportError(f'{name} is a development tool')
sys.meta_path.insert(0, Block())
import micromoments.cli, micromoments.wiring
import micromoments.ops.commands, micromoments.ops.doctor, micromoments.ops.stack
import micromoments.ops.uninstall, micromoments.adapters.dynamo, micromoments.adapters.secrets
print('ok')
"""


def test_the_operator_commands_import_no_development_tool() -> None:
    done = subprocess.run(
        [sys.executable, "-c", BLOCKER], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
