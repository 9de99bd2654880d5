"""Build one Lambda function's bundle: the modules its handler imports, and nothing else.

`sam build` runs it through functions/Makefile (``BuildMethod: makefile``, one
``build-<LogicalId>`` target per function, ``ARTIFACTS_DIR`` set); the targets run the same
without SAM. Standard library only: it runs on any Python 3.11+ with pip.

1. The stage: every pinned runtime dependency of functions/requirements.txt (hashes
   checked) installed once per platform into a cache directory, shared by the functions.
2. Our modules: the handler's import closure inside ``micromoments`` (imports inside
   functions included, ``if TYPE_CHECKING:`` blocks not), never ``micromoments.local`` (the
   demo's stand-ins) or the CLI.
3. Their distributions: the owners of the third-party modules those modules import, and
   what those need by the lock's dependency graph (its ``# via`` lines, extras included),
   but the few the graph names that no function path imports (``NEVER_LOADED``).
4. Trimmed data: Calendar's discovery document only; botocore's models of the services our
   modules create clients for only.
5. Bytecode for the runtime's Python, checked by hash rather than by mtime (a zip does not
   keep mtimes exactly; a read-only /var/task would recompile on every cold start).

    python bundle.py micromoments.handlers.scan.handler OUT_DIR            # for Lambda
    python bundle.py micromoments.handlers.scan.handler OUT_DIR --host     # for this machine
    python bundle.py ... --site-packages .venv/lib/python3.11/site-packages  # offline, host
    python bundle.py --whole OUT_DIR --host     # today's single bundle, as `sam build` made it
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE = "micromoments"
REQUIREMENTS = HERE / "requirements.txt"
# template.yaml: Runtime python3.12, Architectures [arm64] (tests/unit/test_bundle_build.py).
LAMBDA_PYTHON_VERSION = "3.12"
LAMBDA_PLATFORM = "manylinux2014_aarch64"
# Never on a Lambda's path: the embedded stand-ins of `demo`/`serve` and the operator CLI.
NEVER_OWN = ("micromoments.local", "micromoments.cli", "micromoments.ops")
# Imported only on paths no function takes: PyYAML reads template.yaml to create tables.
NEVER_THIRD_PARTY = frozenset({"yaml"})
# Required by the lock but imported on no path a function takes, even lazily or on an error
# path (checked by an import-closure walk of every statement, and by tests/integration/
# test_bundles.py, which runs a key and a keyless token exchange with the bundle alone):
# left out when only the lock's graph asks for them, kept if our modules import them.
NEVER_LOADED = frozenset(
    {
        # google-api-core's gRPC half: googleapiclient imports client_options and universe only.
        "protobuf",
        "proto-plus",
        "googleapis-common-protos",
        # google-api-core imports it under `if TYPE_CHECKING:` only.
        "opentelemetry-api",
        # google-auth's pure-Python RSA (crypt/_python_rsa.py) imports `rsa` first, which the lock
        # does not have; keys go through cryptography.
        "pyasn1",
        "pyasn1-modules",
        # cffi parses C only in ffi.cdef(); cryptography ships its bindings compiled.
        "pycparser",
    }
)
# The one Google API the functions call (adapters/google_calendar/gateway.py builds calendar v3).
DISCOVERY_DOCUMENTS = frozenset({"calendar.v3.json"})
DISCOVERY_DIR = "googleapiclient/discovery_cache/documents/"
BOTOCORE_DATA = "botocore/data/"
# What no import reads: test suites, C sources, type stubs, the bundled Swagger UI (the site
# serves no OpenAPI page), and the dist-info files but METADATA (importlib.metadata's).
JUNK_DIRS = frozenset({"tests", "test", "__pycache__", "swagger_ui", "sboms", "licenses"})
JUNK_SUFFIXES = (".c", ".h", ".pyi", ".pyx", ".pxd")
DIST_INFO_KEPT = frozenset({"METADATA", "entry_points.txt", "top_level.txt"})
# Clients that shipped libraries create themselves: the X-Ray SDK's sampling rules client.
LIBRARY_SERVICES = {"aws-xray-sdk": frozenset({"xray"})}
_CLIENT = re.compile(r"""\bclient\(\s*["']([a-z0-9-]+)["']""")


class BundleError(Exception):
    """The bundle cannot be built as asked (one clear line)."""


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# -- 2. our modules ---------------------------------------------------------------------------


def _module_file(root: Path, name: str) -> Path | None:
    base = root.joinpath(*name.split("."))
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _never(name: str, without: Iterable[str] = ()) -> bool:
    return any(name == n or name.startswith(n + ".") for n in (*NEVER_OWN, *without))


def _type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth, except under ``if TYPE_CHECKING:``."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        if isinstance(node, ast.If) and _type_checking(node):
            for inner in node.orelse:
                yield from _imports(inner)
            continue
        yield from _imports(node)


def import_closure(
    root: Path, module: str, without: Iterable[str] = ()
) -> tuple[set[str], set[str]]:
    """(our modules the handler module imports, transitively; third-party names they import).

    ``root`` holds the ``micromoments`` package; ``module`` is the handler's module;
    ``without``: our modules that are not on this function's path, although a shared module
    (wiring.py) imports them lazily, e.g. the Calendar adapter for the functions that never
    talk to Google."""
    without = tuple(without)
    ours: set[str] = set()
    third: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        if name in ours or _never(name, without):
            continue
        path = _module_file(root, name)
        if path is None:
            continue  # `from micromoments.x import Name`: a name, not a module
        ours.add(name)
        parts = name.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))
        package = name if path.name == "__init__.py" else ".".join(parts[:-1])
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            for target in targets:
                top = target.split(".")[0]
                if top == PACKAGE:
                    todo.append(target)
                elif top and top not in sys.stdlib_module_names and top != "__future__":
                    third.add(target)
    return ours, third


# -- 1. the stage, 3. distributions -----------------------------------------------------------


class Stage:
    """A directory of installed distributions (``*.dist-info`` with a RECORD each)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.files: dict[str, list[str]] = {}  # canonical name -> files, relative
        self.owner: dict[str, str] = {}  # file -> canonical name
        for info in sorted(path.glob("*.dist-info")):
            record = info / "RECORD"
            if not record.is_file():
                continue
            name = canonical(_metadata_name(info) or info.name.split("-")[0])
            files = [line.split(",")[0] for line in record.read_text().splitlines() if line]
            files = [f for f in files if not f.startswith("..") and "__pycache__" not in f]
            self.files[name] = files
            for file in files:
                self.owner.setdefault(file, name)

    def owner_of(self, module: str) -> str | None:
        parts = module.split(".")
        while parts:
            stem = "/".join(parts)
            for file, name in self.owner.items():
                if file.startswith(stem + "/") or file.startswith(stem + "."):
                    return name
            parts.pop()
        return None


def _metadata_name(info: Path) -> str | None:
    metadata = info / "METADATA"
    if metadata.is_file():
        for line in metadata.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("Name:"):
                return line.split(":", 1)[1].strip()
            if not line:
                break
    return None


def lock_graph(requirements: Path) -> dict[str, set[str]]:
    """parent -> children, from the ``# via`` lines of a `uv pip compile` output."""
    children: dict[str, set[str]] = {}
    current: str | None = None
    for raw in requirements.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        pin = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==", line)
        if pin:
            current = canonical(pin.group(1))
            children.setdefault(current, set())
            continue
        comment = re.match(r"^#\s*(?:via\b)?\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line)
        if current and comment and comment.group(1) != "via":
            children.setdefault(canonical(comment.group(1)), set()).add(current)
    return children


def distributions(stage: Stage, imports: Iterable[str], graph: dict[str, set[str]]) -> set[str]:
    """The distributions that own ``imports``, and everything they need by the lock (but the
    ``NEVER_LOADED`` ones the lock alone asks for)."""
    todo = []
    for module in imports:
        if module.split(".")[0] in NEVER_THIRD_PARTY:
            continue
        owner = stage.owner_of(module)
        if owner is None:
            raise BundleError(f"no installed distribution provides {module!r}")
        todo.append(owner)
    chosen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in chosen or name == PACKAGE:
            continue
        chosen.add(name)
        todo.extend(child for child in graph.get(name, ()) if child not in NEVER_LOADED)
    return chosen


def build_stage(platform: str | None, python_version: str | None, python: str) -> Path:
    """Every pinned runtime dependency, installed once per lock and platform (cached)."""
    text = REQUIREMENTS.read_bytes()
    key = hashlib.sha256(text + f"{platform}|{python_version}".encode()).hexdigest()[:16]
    cache = Path(os.environ.get("MICROMOMENTS_BUNDLE_CACHE") or Path.home() / ".cache")
    final = cache / "micromoments-bundles" / f"stage-{key}"
    if final.is_dir():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="stage-", dir=final.parent))
    command = [python, "-m", "pip", "--disable-pip-version-check", "install", "--quiet"]
    command += ["--require-hashes", "--no-deps", "--no-compile", "--only-binary=:all:"]
    if platform:
        command += ["--platform", platform, "--implementation", "cp"]
    if python_version:
        command += ["--python-version", python_version]
    command += ["--target", str(scratch), "-r", str(REQUIREMENTS)]
    done = subprocess.run(command, check=False)
    if done.returncode != 0:
        shutil.rmtree(scratch, ignore_errors=True)
        raise BundleError(f"pip could not install {REQUIREMENTS.name} (exit {done.returncode})")
    try:
        scratch.rename(final)
    except OSError:  # another build got there first
        shutil.rmtree(scratch, ignore_errors=True)
    return final


# -- 4. trimmed data, and the copy ------------------------------------------------------------


def botocore_services(root: Path, modules: Iterable[str]) -> set[str]:
    """The services our modules create boto3 clients for (``boto3.client("name", ...)``)."""
    services: set[str] = set()
    for module in modules:
        path = _module_file(root, module)
        if path is not None:
            services.update(_CLIENT.findall(path.read_text(encoding="utf-8")))
    return services


def keep(file: str, services: set[str] | None) -> bool:
    parts = file.split("/")
    if set(parts) & JUNK_DIRS or file.endswith(JUNK_SUFFIXES):
        return False
    if parts[0].endswith(".dist-info") and parts[-1] not in DIST_INFO_KEPT:
        return False
    if file.startswith(DISCOVERY_DIR):
        return file[len(DISCOVERY_DIR) :] in DISCOVERY_DOCUMENTS
    if services is not None and file.startswith(BOTOCORE_DATA):
        rest = file[len(BOTOCORE_DATA) :]
        return "/" not in rest or rest.split("/")[0] in services
    return True


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def compile_bytecode(out: Path, python: str, python_version: str) -> None:
    check = f"import sys; sys.exit(sys.version.startswith({python_version + '.'!r}) is False)"
    if subprocess.run([python, "-c", check], check=False).returncode != 0:
        raise BundleError(
            f"the bytecode must be compiled by Python {python_version} (the runtime's); "
            f"{python} is another version or missing: set LAMBDA_PYTHON to a python"
            f"{python_version}"
        )
    # Ours: source and bytecode (tracebacks show our lines). Third-party: bytecode alone,
    # where the source was (`compileall -b`), which halves what it weighs.
    ours = out / PACKAGE
    theirs = [p for p in out.iterdir() if p != ours and not p.name.endswith(".dist-info")]
    base = [python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash"]
    for command in ([*base, str(ours)], [*base, "-b", *map(str, theirs)]):
        if subprocess.run(command, check=False).returncode != 0:
            raise BundleError(f"compileall failed in {out}")
    for source in (p for path in theirs for p in _py_files(path)):
        if source.with_suffix(".pyc").is_file():
            source.unlink()


def _py_files(path: Path) -> Iterator[Path]:
    if path.is_file():
        yield from [path] if path.suffix == ".py" else []
    else:
        yield from path.rglob("*.py")


def build(
    handler: str | None,
    out: Path,
    *,
    stage: Stage,
    source: Path = HERE,
    bytecode: tuple[str, str] | None,
    without: Iterable[str] = (),
) -> dict[str, list[str]]:
    """Write the bundle of ``handler`` (``None``: today's whole bundle) into ``out``.

    ``bytecode``: (python, version) to compile with, or None for none. Returns what went in."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    graph = lock_graph(REQUIREMENTS)
    if handler is None:  # what `sam build` made of CodeUri: functions/ before
        chosen = set(graph)
        for file in source.rglob("*"):
            if file.is_file() and "__pycache__" not in file.parts:
                _copy(file, out / file.relative_to(source))
        services = None
        own = sorted(
            ".".join(p.relative_to(source).with_suffix("").parts)
            for p in (source / PACKAGE).rglob("*.py")
        )
    else:
        module = handler.rsplit(".", 1)[0]
        ours, third = import_closure(source, module, without)
        chosen = distributions(stage, third, graph)
        services = botocore_services(source, ours)
        services.update(*(LIBRARY_SERVICES.get(name, ()) for name in chosen))
        for name in ours:
            path = _module_file(source, name)
            assert path is not None
            _copy(path, out / path.relative_to(source))
        package = source / PACKAGE
        for file in package.rglob("*"):  # templates, static files, py.typed
            if file.suffix == ".py" or not file.is_file() or "__pycache__" in file.parts:
                continue
            dotted = ".".join(file.relative_to(source).parent.parts)
            if not _never(dotted):
                _copy(file, out / file.relative_to(source))
        own = sorted(ours)
    for name in sorted(chosen):
        for relative in stage.files.get(name, ()):
            if (handler is None or keep(relative, services)) and (stage.path / relative).is_file():
                _copy(stage.path / relative, out / relative)
    if bytecode is not None:
        compile_bytecode(out, *bytecode)
    return {"modules": own, "distributions": sorted(chosen)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("handler", nargs="?", help="e.g. micromoments.handlers.scan.handler")
    parser.add_argument("out", type=Path, help="the bundle's directory (ARTIFACTS_DIR)")
    parser.add_argument("--whole", action="store_true", help="today's single bundle")
    parser.add_argument("--host", action="store_true", help="this machine's platform and Python")
    parser.add_argument("--site-packages", type=Path, help="take the distributions from here")
    parser.add_argument("--lambda-python", default=os.environ.get("LAMBDA_PYTHON"))
    parser.add_argument("--no-bytecode", action="store_true")
    parser.add_argument(
        "--without",
        action="append",
        default=[],
        metavar="MODULE",
        help="one of our modules this function never runs (repeatable)",
    )
    args = parser.parse_args(argv)
    if args.whole == bool(args.handler):
        parser.error("name a handler, or --whole")
    host = args.host or args.site_packages is not None
    version = f"{sys.version_info[0]}.{sys.version_info[1]}" if host else LAMBDA_PYTHON_VERSION
    python = sys.executable if host else (args.lambda_python or f"python{version}")
    try:
        if args.site_packages is not None:
            stage = Stage(args.site_packages)
        elif host:
            stage = Stage(build_stage(None, None, sys.executable))
        else:
            stage = Stage(build_stage(LAMBDA_PLATFORM, version, sys.executable))
        bytecode = None if args.no_bytecode or args.whole else (python, version)
        handler = None if args.whole else args.handler
        build(handler, args.out, stage=stage, bytecode=bytecode, without=args.without)
    except BundleError as exc:
        print(f"bundle: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
