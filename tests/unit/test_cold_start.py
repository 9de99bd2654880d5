"""A function's cold start: what a handler module loads when Lambda imports it (only what its
own path needs), and how the first building of its dependencies keeps the garbage collector
out of the way (`wiring.building`). Each runs in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest

# Modules of other functions' paths, each with the handlers that must not load them at
# import: the ports name the digest and pairing types for type checking only.
NOT_AT_IMPORT = {
    "scan": (
        "micromoments.domain.digest",
        "micromoments.domain.digest_request",
        "micromoments.domain.week_moments",
        "micromoments.email",
        "micromoments.web",
        "jinja2",
    ),
    "dispatch": (
        "micromoments.domain.digest",
        "micromoments.domain.digest_request",
        "micromoments.domain.pairing",
        "micromoments.domain.planner",
        "micromoments.email",
        "jinja2",
    ),
}


ENV = {"POWERTOOLS_TRACE_DISABLED": "1", "AWS_DEFAULT_REGION": "eu-west-1"}


def fresh(code: str, env: dict[str, str] | None = None) -> Any:
    """What ``code`` prints as JSON, run in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
        env={**ENV, **(env or {})},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def modules_after_import(handler: str) -> set[str]:
    return set(fresh(f"""
        import json, sys, micromoments.handlers.{handler}
        print(json.dumps(sorted(sys.modules)))
    """))  # fmt: skip


@pytest.mark.parametrize("handler", sorted(NOT_AT_IMPORT))
def test_a_handler_imports_no_other_functions_modules(handler: str) -> None:
    loaded = modules_after_import(handler)
    unwanted = NOT_AT_IMPORT[handler]
    found = sorted(m for m in loaded if any(m == u or m.startswith(f"{u}.") for u in unwanted))
    assert found == []


BUILDING = """
    import gc, json
    from micromoments import wiring
    from micromoments.config import ScanSettings

    def build(fail=False):
        with wiring.building(ScanSettings) as settings:
            inside = gc.isenabled()
            if fail:
                raise RuntimeError("the build failed")
            return {"inside": inside, "table": settings.table_name}

    seen = {}
"""


def test_the_first_build_freezes_what_the_process_holds_and_collects_again_after() -> None:
    seen = fresh(BUILDING + """
    seen["first"] = build()
    seen["frozen"] = gc.get_freeze_count()
    seen["after"] = gc.isenabled()
    seen["second"] = build()
    seen["frozen_again"] = gc.get_freeze_count()
    print(json.dumps(seen))
    """, {"MICROMOMENTS_TABLE_NAME": "t"})  # fmt: skip
    assert seen["first"] == {"inside": False, "table": "t"}  # no collection while building
    assert seen["frozen"] > 0 and seen["after"] is True
    # later invocations build nothing: an invocation's objects are never frozen
    assert seen["second"] == {"inside": True, "table": "t"}
    assert seen["frozen_again"] == seen["frozen"]


def test_a_failed_build_leaves_the_collector_on() -> None:
    seen = fresh(BUILDING + """
    try:
        build(fail=True)
    except RuntimeError:
        seen["after"] = gc.isenabled()
    print(json.dumps(seen))
    """, {"MICROMOMENTS_TABLE_NAME": "t"})  # fmt: skip
    assert seen == {"after": True}


def test_missing_settings_fail_before_anything_is_frozen() -> None:
    seen = fresh(BUILDING + """
    from micromoments.config import ConfigError
    try:
        build()
    except ConfigError as exc:
        seen["error"] = str(exc)
    seen["frozen"] = gc.get_freeze_count()
    seen["after"] = gc.isenabled()
    print(json.dumps(seen))
    """)  # fmt: skip
    assert seen == {
        "error": "MICROMOMENTS_TABLE_NAME is not set: name the DynamoDB table to use",
        "frozen": 0,
        "after": True,
    }
