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
# import: the ports name the digest and pairing types for type checking only, and a scan
# reads a round's records (`pairing_records`), never forms one.
NOT_AT_IMPORT = {
    "scan": (
        "micromoments.domain.digest",
        "micromoments.domain.digest_request",
        "micromoments.domain.pairing",
        "micromoments.domain.pairing_pool",
        "micromoments.domain.pairing_search",
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


# What building a scan function's dependencies must not load on a Google org: the Graph
# adapter (and the JWT and certificate code its credentials need), the digest's numbers (the
# Store keeps only its records, `domain.digest_record`) and the reconnect email (loaded when a
# scan first has someone to ask).
NOT_AT_SCAN_BUILD = (
    "micromoments.adapters.graph_calendar",
    "micromoments.domain.digest",
    "micromoments.domain.week_moments",
    "micromoments.domain.week_numbers",
    "micromoments.domain.pairing",
    "micromoments.services.reconnect",
    "micromoments.email",
    "jwt",
)


ENV = {"POWERTOOLS_TRACE_DISABLED": "1", "AWS_DEFAULT_REGION": "eu-west-1"}


def fresh(code: str, env: dict[str, str] | None = None) -> Any:
    """What ``code`` prints as JSON on its last line, run in a fresh interpreter (log lines
    may come before it)."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
        env={**ENV, **(env or {})},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def modules_after_import(handler: str) -> set[str]:
    return set(fresh(f"""
        import json, sys, micromoments.handlers.{handler}
        print(json.dumps(sorted(sys.modules)))
    """))  # fmt: skip


@pytest.mark.parametrize("handler", sorted(NOT_AT_IMPORT))
def test_a_handler_imports_no_other_functions_modules(handler: str) -> None:
    assert loaded(modules_after_import(handler), NOT_AT_IMPORT[handler]) == []


def loaded(found: set[str], unwanted: tuple[str, ...]) -> list[str]:
    return sorted(m for m in found if any(m == u or m.startswith(f"{u}.") for u in unwanted))


SCAN_BUILD = """
    import json, sys
    import micromoments.handlers.scan
    from micromoments import wiring
    from micromoments.adapters.memory import memory_store
    from micromoments.config import Config
    from micromoments.domain.settings import CalendarProvider, OrgSettings

    store = memory_store()
    store.create_settings(OrgSettings(calendar_provider=CalendarProvider.{provider}))
    try:
        gateway = wiring.calendar_gateway(Config(table_name="t"), table=store)
    except Exception as exc:  # Microsoft: no Graph settings here, after the adapter loaded
        gateway = exc
    asker = wiring.reconnect_asker()
    print(json.dumps({{"gateway": type(gateway).__name__, "modules": sorted(sys.modules)}}))
"""


def test_a_scan_on_a_google_org_builds_without_graph_digest_or_email_modules() -> None:
    seen = fresh(SCAN_BUILD.format(provider="GOOGLE"))
    assert seen["gateway"] == "GoogleCalendarGateway"
    assert loaded(set(seen["modules"]), NOT_AT_SCAN_BUILD) == []


def test_a_microsoft_org_is_what_loads_the_graph_adapter() -> None:
    seen = fresh(SCAN_BUILD.format(provider="MICROSOFT"))
    assert seen["gateway"] == "ConfigError"
    assert "micromoments.adapters.graph_calendar" in seen["modules"]


def test_the_reconnect_email_loads_when_a_scan_first_asks() -> None:
    seen = fresh("""
        import json, sys
        from micromoments import wiring
        ask = wiring.reconnect_asker()
        before = "micromoments.services.reconnect" in sys.modules
        ask("ana@example.com")  # no site URL, sender or key here: a log line, no email
        print(json.dumps([before, "micromoments.services.reconnect" in sys.modules]))
    """)  # fmt: skip
    assert seen == [False, True]


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


def test_a_function_builds_the_validator_of_its_own_settings_only() -> None:
    seen = fresh(BUILDING + """
    from micromoments import config as settings_module
    models = [m for m in vars(settings_module).values() if isinstance(m, type)
              and issubclass(m, settings_module.FunctionSettings)]
    build()
    print(json.dumps(sorted(m.__name__ for m in models if m.__pydantic_complete__)))
    """, {"MICROMOMENTS_TABLE_NAME": "t"})  # fmt: skip
    assert seen == ["ScanSettings"]
