"""Small modules (issue 15): no module of the package outside the local stand-ins is over
450 lines, so each keeps to one concern a newcomer can read at a sitting."""

from __future__ import annotations

from pathlib import Path

import micromoments

PACKAGE = Path(micromoments.__file__).parent
LIMIT = 450


def test_no_module_outside_local_is_over_450_lines() -> None:
    over = {
        path.relative_to(PACKAGE).as_posix(): lines
        for path in sorted(PACKAGE.rglob("*.py"))
        if "local" not in path.relative_to(PACKAGE).parts
        and (lines := len(path.read_text(encoding="utf-8").splitlines())) > LIMIT
    }
    assert over == {}
