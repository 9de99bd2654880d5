"""The exact locks pin every requirement with ``==`` and carry at least one ``--hash`` for
it, so installs can run with ``--require-hashes`` (Makefile; docs/decisions.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCKS = (
    "requirements-dev.lock",
    "requirements-checkov.lock",
    "requirements-demo.lock",
    "functions/requirements.txt",
)
PINNED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9,._-]+\])?==[A-Za-z0-9.!+_-]+$")
HASH = re.compile(r"^--hash=sha256:[0-9a-f]{64}$")


def requirements(text: str) -> list[list[str]]:
    """Each requirement of a pip requirements file as its tokens, continuation lines joined
    and comments dropped."""
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for line in joined.splitlines():
        requirement = line.split(" #", 1)[0].strip()
        if requirement and not requirement.startswith("#"):
            out.append(requirement.split())
    return out


@pytest.mark.parametrize("lock", LOCKS)
def test_every_requirement_is_pinned_exactly_and_hashed(lock: str) -> None:
    found = requirements((ROOT / lock).read_text())
    assert found, f"{lock} lists no requirement"
    for tokens in found:
        name, options = tokens[0], tokens[1:]
        assert PINNED.match(name), f"{lock}: {name!r} is not pinned with =="
        hashes = [o for o in options if o.startswith("--hash")]
        assert hashes, f"{lock}: {name} has no --hash"
        assert all(HASH.match(h) for h in hashes), f"{lock}: {name} has a malformed hash"
        assert len(hashes) == len(options), f"{lock}: {name} has other options: {options}"


def test_the_installs_require_hashes() -> None:
    makefile = (ROOT / "Makefile").read_text()
    for lock in ("requirements-dev.lock", "requirements-checkov.lock", "requirements-demo.lock"):
        installs = re.findall(rf"install[^\n]*(?:\\\n[^\n]*)*-r {re.escape(lock)}", makefile)
        assert installs, f"the Makefile does not install {lock}"
        assert all("--require-hashes" in i for i in installs), installs
    assert makefile.count("--generate-hashes") == 4  # `make lock` keeps them hashed
