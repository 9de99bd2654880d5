"""The scan use case and the calendar readers keep the shape docs/decisions.md "The scan in
steps" gives them: small step modules, and no private names imported across modules."""

from __future__ import annotations

import ast
from pathlib import Path

import micromoments

PACKAGE = Path(micromoments.__file__).parent


def _private_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        f"{node.module}.{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("micromoments")
        for alias in node.names
        if alias.name.startswith("_") and not alias.name.startswith("__")
    ]


def test_no_adapter_or_service_imports_another_modules_private_names() -> None:
    found = {
        str(path.relative_to(PACKAGE)): names
        for folder in ("adapters", "services")
        for path in sorted((PACKAGE / folder).rglob("*.py"))
        if (names := _private_imports(path))
    }
    assert found == {}


def test_the_scan_is_a_package_of_small_steps() -> None:
    steps = {path.stem for path in (PACKAGE / "services" / "scan").glob("*.py")}
    assert {"flow", "sync", "journal", "plan", "members", "apply"} <= steps
    sizes = {
        path.name: len(path.read_text(encoding="utf-8").splitlines())
        for path in (PACKAGE / "services" / "scan").glob("*.py")
    }
    assert all(lines < 450 for lines in sizes.values()), sizes
