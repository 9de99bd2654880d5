"""The direction of imports, read from the source (ast), not by importing anything.

The domain imports no outer ring and no cloud client; a handler (the code a Lambda
function bundle runs) never reaches the local stand-ins (`micromoments.local`), the
command line (`micromoments.cli`) or a test-only library, neither directly nor through
the package's modules it imports, lazily inside a function or not. Imports under
``if TYPE_CHECKING:`` never run and are not followed.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import pytest

PACKAGE = "micromoments"
ROOT = Path(__file__).resolve().parents[2] / "functions" / PACKAGE

DOMAIN_MUST_NOT_REACH = (
    *(
        f"{PACKAGE}.{ring}"
        for ring in (
            "adapters",
            "services",
            "handlers",
            "local",
            "web",
            "email",
            "cli",
            "wiring",
            "ops",
        )
    ),
    "boto3",
    "botocore",
    "googleapiclient",
    "google",
)
HANDLERS_MUST_NOT_REACH = (
    f"{PACKAGE}.local",
    f"{PACKAGE}.cli",
    f"{PACKAGE}.ops",
    "moto",
    "pytest",
    "hypothesis",
    "werkzeug",
    "playwright",
)


def module_files(root: Path, package: str) -> dict[str, Path]:
    """Every module of the package under ``root``, by dotted name."""
    modules: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join([package, *parts])] = path
    return modules


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(node: ast.AST) -> Iterator[ast.AST]:
    """Every node that can run, at import or later (function bodies included), skipping
    the bodies of ``if TYPE_CHECKING:``."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _type_checking(child.test):
            for other in child.orelse:
                yield other
                yield from _runtime_nodes(other)
            continue
        yield child
        yield from _runtime_nodes(child)


def imported_names(name: str, path: Path, modules: Iterable[str]) -> set[str]:
    """The dotted names a module imports when its code runs (``from a import b`` names
    ``a`` and, where it is a module, ``a.b``)."""
    known = set(modules)
    is_package = path.name == "__init__.py"
    here = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.rsplit(".", node.level - 1)[0] if node.level > 1 else here
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            found.add(source)
            found.update(
                f"{source}.{alias.name}"
                for alias in node.names
                if f"{source}.{alias.name}" in known
            )
    return found


def _with_parents(name: str) -> Iterator[str]:
    """A module and the packages importing it runs first: a.b.c -> a, a.b, a.b.c."""
    parts = name.split(".")
    for end in range(1, len(parts) + 1):
        yield ".".join(parts[:end])


def import_graph(modules: Mapping[str, Path]) -> dict[str, set[str]]:
    return {name: imported_names(name, path, modules) for name, path in modules.items()}


def reached(start: str, graph: Mapping[str, set[str]]) -> dict[str, list[str]]:
    """Everything importing ``start`` runs, each with one chain of imports leading to it."""
    chains: dict[str, list[str]] = {start: [start]}
    todo = [start]
    while todo:
        current = todo.pop()
        for target in sorted(graph.get(current, ())):
            for name in _with_parents(target):
                if name not in chains:
                    chains[name] = [*chains[current], name]
                    if name in graph:
                        todo.append(name)
    return chains


def _hits(name: str, forbidden: Iterable[str]) -> bool:
    return any(name == f or name.startswith(f"{f}.") for f in forbidden)


def violations(
    starts: Iterable[str], forbidden: Iterable[str], graph: Mapping[str, set[str]]
) -> list[str]:
    """``start -> ... -> forbidden`` for every forbidden module a start reaches."""
    rules = tuple(forbidden)
    found = []
    for start in starts:
        for name, chain in reached(start, graph).items():
            if _hits(name, rules) and not _hits(start, rules):
                found.append(" -> ".join(chain))
    return sorted(found)


MODULES = module_files(ROOT, PACKAGE)
GRAPH = import_graph(MODULES)


def _under(ring: str) -> list[str]:
    prefix = f"{PACKAGE}.{ring}"
    return [name for name in MODULES if name == prefix or name.startswith(f"{prefix}.")]


def test_the_package_is_read() -> None:
    assert _under("domain") and _under("handlers") and _under("local")
    assert f"{PACKAGE}.local" in reached(f"{PACKAGE}.cli", GRAPH)  # lazy imports followed


def test_the_domain_imports_no_outer_ring_and_no_cloud_client() -> None:
    assert violations(_under("domain"), DOMAIN_MUST_NOT_REACH, GRAPH) == []


def test_handlers_never_reach_local_cli_or_test_only_libraries() -> None:
    assert violations(_under("handlers"), HANDLERS_MUST_NOT_REACH, GRAPH) == []


# -- the check itself finds what it must ---------------------------------------------------


@pytest.fixture
def planted(tmp_path: Path) -> dict[str, set[str]]:
    """A small package: a handler importing a service at the top, which imports the local
    stand-ins inside a function; a domain module importing an adapter relatively; a
    TYPE_CHECKING import that never runs."""
    files = {
        "__init__.py": "",
        "handlers/__init__.py": "",
        "handlers/entry.py": "from pkg.services import work\n",
        "services/__init__.py": "",
        "services/work.py": (
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    import moto\n"
            "def run():\n    from pkg.local import demo\n    return demo\n"
        ),
        "local/__init__.py": "",
        "local/demo.py": "import werkzeug\n",
        "domain/__init__.py": "",
        "domain/model.py": "from ..adapters import store\n",
        "adapters/__init__.py": "",
        "adapters/store.py": "import boto3\n",
    }
    for name, text in files.items():
        path = tmp_path / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return import_graph(module_files(tmp_path / "pkg", "pkg"))


def test_lazy_and_transitive_imports_are_found(planted: dict[str, set[str]]) -> None:
    found = violations(["pkg.handlers.entry"], ["pkg.local", "moto", "werkzeug"], planted)
    assert found == [
        "pkg.handlers.entry -> pkg.services.work -> pkg.local",
        "pkg.handlers.entry -> pkg.services.work -> pkg.local.demo",
        "pkg.handlers.entry -> pkg.services.work -> pkg.local.demo -> werkzeug",
    ]  # and not moto: imported only for the type checker


def test_relative_imports_resolve(planted: dict[str, set[str]]) -> None:
    found = violations(["pkg.domain.model"], ["pkg.adapters", "boto3"], planted)
    assert "pkg.domain.model -> pkg.adapters" in found
    assert any(chain.endswith("-> boto3") for chain in found)
